// Adam as TF.js implements it (tfjs-core src/optimizers/adam_optimizer.ts, `AdamOptimizer`), over
// one flat parameter buffer like llm.c's `gpt2_update`. Per parameter, at step t = 1, 2, …:
//   m ← β1·m + (1 − β1)·g            v ← β2·v + (1 − β2)·g²
//   m̂ = m / (1 − β1ᵗ)                v̂ = v / (1 − β2ᵗ)
//   θ ← θ − lr · m̂ / (√v̂ + ε)
// Variant: ε is added to the square root of the *bias-corrected* v̂ (Kingma & Ba, Algorithm 1).
// TF.js keeps accBeta1/accBeta2 as scalars that start at β1/β2 (so step 1 divides by 1 − β1) and are
// multiplied by β1/β2 after every step; we keep them the same way, in Double. Defaults: β1 0.9,
// β2 0.999, ε = the backend epsilon, 1e-7 for float32 (`ENGINE.backend.epsilon()`).
// Keras/TF (tf_keras `Adam`, tf.raw_ops.ApplyAdam) instead fold the bias corrections into the step,
// θ ← θ − lr·√(1 − β2ᵗ)/(1 − β1ᵗ) · m / (√v + ε̂), i.e. ε̂ sits outside the *uncorrected* √v: that is
// TF.js with ε = ε̂/√(1 − β2ᵗ) (31.6·ε̂ at t = 1). The two agree when ε ≪ √v̂ ≈ |g|.

/// The Adam optimiser in TF.js' variant, with its moment buffers for a fixed number of parameters.
///
/// Not thread-safe: one optimiser per training run. `step` allocates nothing.
public final class Adam {
    /// Step size (TF.js `learningRate`).
    public let learningRate: Float
    /// Decay of the first moment (TF.js `beta1`, default 0.9).
    public let beta1: Float
    /// Decay of the second moment (TF.js `beta2`, default 0.999).
    public let beta2: Float
    /// Added to √v̂ (TF.js `epsilon`; default 1e-7, the float32 backend epsilon).
    public let epsilon: Float
    /// Number of parameters the moments cover.
    public let parameterCount: Int
    /// Steps taken so far (TF.js `iterations`).
    public private(set) var iterations = 0

    /// β1ᵗ and β2ᵗ for the next step t (TF.js `accBeta1`/`accBeta2`, starting at β1 and β2).
    private var accumulatedBeta1: Double
    private var accumulatedBeta2: Double
    /// m [parameterCount] then v [parameterCount], zero-initialised (TF.js `zerosLike`).
    private let moments: UnsafeMutablePointer<Float>

    /// An optimiser for `parameterCount` parameters with zeroed moments.
    public init(
        parameterCount: Int, learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999,
        epsilon: Float = 1e-7
    ) {
        precondition(parameterCount >= 0, "negative parameter count")
        self.parameterCount = parameterCount
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        accumulatedBeta1 = Double(beta1)
        accumulatedBeta2 = Double(beta2)
        moments = .allocate(capacity: max(1, 2 * parameterCount))
        moments.initialize(repeating: 0, count: max(1, 2 * parameterCount))
    }

    deinit { moments.deallocate() }

    /// First moments m [parameterCount] (for tests and inspection).
    public var firstMoments: [Float] { Array(UnsafeBufferPointer(start: moments, count: parameterCount)) }
    /// Second moments v [parameterCount].
    public var secondMoments: [Float] {
        Array(UnsafeBufferPointer(start: moments + parameterCount, count: parameterCount))
    }

    /// One update: parameters [P] -= lr · m̂ / (√v̂ + ε) from gradients [P]; plain loop (reference twin).
    public func stepReference(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>) {
        let c = constants()
        let m = moments
        let v = moments + parameterCount
        for i in 0..<parameterCount {
            let g = gradients[i]
            m[i] = c.beta1 * m[i] + c.oneMinusBeta1 * g
            v[i] = c.beta2 * v[i] + c.oneMinusBeta2 * (g * g)
            let mHat = m[i] * c.correction1
            let vHat = v[i] * c.correction2
            parameters[i] += c.negativeRate * (mHat / (vHat.squareRoot() + c.epsilon))
        }
        advance()
    }

    /// Fast twin of `stepReference`: the same IEEE operations in the same order, 16 lanes at a time
    /// (vsqrtps/vdivps), so the results are bit-identical.
    public func step(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>) {
        update(parameters: parameters, gradients: gradients, range: 0..<parameterCount)
        finishStep()
    }

    /// Part of one step: updates parameters, m and v at `range` (indices into all `parameterCount`) from
    /// `gradients` [range.count] (the gradients of exactly that range), with this step's constants; the step ends
    /// with `finishStep()`. Updating disjoint ranges that cover every parameter, then `finishStep()`, is bit for bit
    /// `step` (each parameter's update reads only its own m, v and g): the fused first-layer pass
    /// (FusedFirstLayer.swift) updates W1 chunk by chunk while the chunk's gradient is in cache.
    func update(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>, range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= parameterCount, "Adam range out of bounds")
        let c = constants()
        let count = range.count
        let w = parameters + range.lowerBound
        let m = moments + range.lowerBound
        let v = moments + parameterCount + range.lowerBound
        var i = 0
        while i + 16 <= count {
            let g = Lanes.load16(gradients + i)
            let newM = c.beta1 * Lanes.load16(m + i) + c.oneMinusBeta1 * g
            let newV = c.beta2 * Lanes.load16(v + i) + c.oneMinusBeta2 * (g * g)
            Lanes.store16(newM, m + i)
            Lanes.store16(newV, v + i)
            let mHat = newM * c.correction1
            let vHat = newV * c.correction2
            let update = c.negativeRate * (mHat / (Self.squareRoot(vHat) + c.epsilon))
            Lanes.store16(Lanes.load16(w + i) + update, w + i)
            i += 16
        }
        while i < count {
            let g = gradients[i]
            m[i] = c.beta1 * m[i] + c.oneMinusBeta1 * g
            v[i] = c.beta2 * v[i] + c.oneMinusBeta2 * (g * g)
            let mHat = m[i] * c.correction1
            let vHat = v[i] * c.correction2
            w[i] += c.negativeRate * (mHat / (vHat.squareRoot() + c.epsilon))
            i += 1
        }
    }

    /// √v of v ≥ 0 (v̂ is: a sum of β-weighted squares) as two vsqrtps. `SIMD16.squareRoot()` and a lane loop of
    /// `Float.squareRoot()` compile to scalar vsqrtss with a branch to libm's `sqrtf` per lane (errno on negative
    /// input), which made this loop 40 % of head training; √|v| lets LLVM drop that branch and vectorise. Bit-identical
    /// to `squareRoot()` for every v ≥ +0 and NaN (v̂ is never negative; −0 cannot arise since v starts at +0).
    @inline(__always) static func squareRoot(_ v: SIMD16<Float>) -> SIMD16<Float> {
        SIMD16(lowHalf: squareRoot(v.lowHalf), highHalf: squareRoot(v.highHalf))
    }

    @inline(__always) static func squareRoot(_ v: SIMD8<Float>) -> SIMD8<Float> {
        var r = v
        for lane in 0..<8 { r[lane] = r[lane].magnitude.squareRoot() }
        return r
    }

    /// Ends a step made of `update` calls (advances β1ᵗ, β2ᵗ and `iterations`).
    func finishStep() { advance() }

    /// The step's scalars; TF.js divides by (1 − accBeta), we multiply by its reciprocal (≤ 1 ulp apart).
    private func constants() -> (
        beta1: Float, beta2: Float, oneMinusBeta1: Float, oneMinusBeta2: Float,
        correction1: Float, correction2: Float, negativeRate: Float, epsilon: Float
    ) {
        (
            beta1, beta2, 1 - beta1, 1 - beta2, Float(1 / (1 - accumulatedBeta1)), Float(1 / (1 - accumulatedBeta2)),
            -learningRate, epsilon
        )
    }

    /// accBeta1 ← accBeta1·β1, accBeta2 ← accBeta2·β2, iterations += 1 (end of TF.js `applyGradients`).
    private func advance() {
        accumulatedBeta1 *= Double(beta1)
        accumulatedBeta2 *= Double(beta2)
        iterations += 1
    }
}
