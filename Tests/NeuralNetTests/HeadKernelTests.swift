// The head's training kernels: reference vs fast twins on seeded data over sizes straddling 1, 7, 16,
// 33; softmax cross-entropy by hand; a finite-difference check of every gradient (dW1, db1, dW2, dX)
// through the whole head + loss against an independent Double-precision implementation; Adam by hand.
// Tolerances: twins 1e-5 relative to 1 + |reference| (float32 sums in a different order); gradient
// check |analytic − numeric| ≤ 1e-4 + 1e-3·|numeric| (central differences in Double, h = 1e-6, against
// float32 analytic gradients); Adam 1e-6 absolute (a few float32 roundings of values ≤ 2).
import Foundation
import Testing

@testable import NeuralNet

struct DenseCase: CustomTestStringConvertible, Sendable {
    var rows: Int, inputs: Int, units: Int
    var testDescription: String { "B=\(rows) D=\(inputs) U=\(units)" }
}

let denseCases: [DenseCase] = [1, 7, 16, 33].flatMap { rows in
    [(1, 1), (7, 3), (16, 16), (33, 17), (100, 33)].map { DenseCase(rows: rows, inputs: $0.0, units: $0.1) }
}

@Suite("Head kernels: Dense/ReLU/softmax-CE twins, gradient check, Adam")
struct HeadKernelTests {
    @Test("Dense forward: reference == fast (with and without bias, relu)", arguments: denseCases)
    func denseForward(_ c: DenseCase) {
        let x = randomScalars(c.rows * c.inputs, seed: 1)
        let w = randomScalars(c.inputs * c.units, seed: 2)
        let b = randomScalars(c.units, seed: 3)
        for (useBias, relu) in [(true, true), (false, false)] {
            var expected = [Float](repeating: .nan, count: c.rows * c.units)
            var actual = expected
            let bias: UnsafePointer<Float>? = useBias ? b.withUnsafeBufferPointer { $0.baseAddress } : nil
            withExtendedLifetime(b) {
                DenseKernel.forwardReference(
                    x: x, w: w, b: bias, y: &expected, rows: c.rows, inputs: c.inputs,
                    units: c.units, relu: relu)
                for backend in GEMMBackend.allCases {
                    DenseKernel.forward(
                        x: x, w: w, b: bias, y: &actual, rows: c.rows, inputs: c.inputs, units: c.units,
                        relu: relu, backend: backend)
                    expectClose(
                        actual, expected, tolerance: 1e-5,
                        "\(c.testDescription) \(backend) bias \(useBias) relu \(relu)")
                }
            }
        }
    }

    @Test("Dense backward: reference == fast for dX, dW, db", arguments: denseCases)
    func denseBackward(_ c: DenseCase) {
        let x = randomScalars(c.rows * c.inputs, seed: 4)
        let w = randomScalars(c.inputs * c.units, seed: 5)
        let dy = randomScalars(c.rows * c.units, seed: 6)
        var dx = [Float](repeating: .nan, count: c.rows * c.inputs)
        var dw = [Float](repeating: .nan, count: c.inputs * c.units)
        var db = [Float](repeating: .nan, count: c.units)
        DenseKernel.backwardReference(
            dy: dy, x: x, w: w, dx: &dx, dw: &dw, db: &db, rows: c.rows, inputs: c.inputs,
            units: c.units)
        for backend in GEMMBackend.allCases {
            var fastDX = [Float](repeating: .nan, count: dx.count)
            var fastDW = [Float](repeating: .nan, count: dw.count)
            var fastDB = [Float](repeating: .nan, count: db.count)
            DenseKernel.backward(
                dy: dy, x: x, w: w, dx: &fastDX, dw: &fastDW, db: &fastDB, rows: c.rows, inputs: c.inputs,
                units: c.units, backend: backend)
            expectClose(fastDX, dx, tolerance: 1e-5, "dX \(c.testDescription) \(backend)")
            expectClose(fastDW, dw, tolerance: 1e-5, "dW \(c.testDescription) \(backend)")
            expectClose(fastDB, db, tolerance: 1e-5, "db \(c.testDescription) \(backend)")
        }
    }

    @Test("Dense backward: reference matches hand arithmetic on a 2×2 example")
    func denseBackwardByHand() {
        // x = [[1, 2], [3, 4]], w = [[1, 0, 2], [0, 1, 1]] (D=2, U=3), dy = [[1, 0, 1], [0, 1, 0]]
        // dX = dy·wᵀ = [[1+2, 0+1], [0, 1]] = [[3, 1], [0, 1]]
        // dW = xᵀ·dy = [[1·1+3·0, 1·0+3·1, 1·1+3·0], [2·1+4·0, 2·0+4·1, 2·1+4·0]] = [[1, 3, 1], [2, 4, 2]]
        // db = column sums of dy = [1, 1, 1]
        var dx = [Float](repeating: 0, count: 4)
        var dw = [Float](repeating: 0, count: 6)
        var db = [Float](repeating: 0, count: 3)
        DenseKernel.backwardReference(
            dy: [1, 0, 1, 0, 1, 0], x: [1, 2, 3, 4], w: [1, 0, 2, 0, 1, 1], dx: &dx, dw: &dw,
            db: &db, rows: 2, inputs: 2, units: 3)
        #expect(dx == [3, 1, 0, 1])
        #expect(dw == [1, 3, 1, 2, 4, 2])
        #expect(db == [1, 1, 1])
    }

    @Test("softmax cross-entropy: equal logits give ln K and (p − y)/B; huge logits stay finite")
    func softmaxCrossEntropyByHand() {
        // Row 0: logits 0,0,0, label 1 → p = 1/3 each, loss ln 3.
        // Row 1: logits 1000, 0, −1000, label 2 → p ≈ [1, 0, 0], loss = 1000 − (−1000) = 2000 (no overflow).
        let logits: [Float] = [0, 0, 0, 1000, 0, -1000]
        let labels: [Int32] = [1, 2]
        var p = [Float](repeating: 0, count: 6)
        var dlogits = p
        let (loss, correct) = SoftmaxCrossEntropy.forwardReference(
            logits: logits, labels: labels, probabilities: &p,
            rows: 2, classes: 3)
        #expect(abs(loss - (log(3) + 2000) / 2) < 1e-3)
        #expect(correct == 0)  // row 0's argmax is class 0 (first of equals), row 1's is class 0
        SoftmaxCrossEntropy.backwardReference(probabilities: p, labels: labels, dlogits: &dlogits, rows: 2, classes: 3)
        // (p − y)/B with B = 2: row 0 [1/6, −1/3, 1/6], row 1 [1/2, 0, −1/2]
        expectClose(dlogits, [1 / 6, -1 / 3, 1 / 6, 0.5, 0, -0.5], tolerance: 1e-6, "dlogits")
    }

    // MARK: Gradient check

    struct GradientCase: CustomTestStringConvertible, Sendable {
        var rows: Int, shape: [Int], hidden: Int, classes: Int
        var testDescription: String { "B=\(rows) in=\(shape) U=\(hidden) K=\(classes)" }
    }

    /// Mean cross-entropy of the head in Double, written independently of the kernels (plain formulas).
    static func doubleLoss(
        x: [Double], w1: [Double], b1: [Double], w2: [Double], labels: [Int], d: Int, u: Int,
        k: Int
    ) -> Double {
        var total = 0.0
        for row in 0..<labels.count {
            var hidden = [Double](repeating: 0, count: u)
            for j in 0..<u {
                var sum = b1[j]
                for p in 0..<d { sum += x[row * d + p] * w1[p * u + j] }
                hidden[j] = max(sum, 0)
            }
            var logits = [Double](repeating: 0, count: k)
            for c in 0..<k { for j in 0..<u { logits[c] += hidden[j] * w2[j * k + c] } }
            let largest = logits.max()!
            let logSum = log(logits.reduce(0) { $0 + exp($1 - largest) }) + largest
            total += logSum - logits[labels[row]]
        }
        return total / Double(labels.count)
    }

    @Test(
        "finite differences (Double) agree with dW1, db1, dW2 and dX of the whole head + loss",
        arguments: [
            GradientCase(rows: 1, shape: [3], hidden: 2, classes: 2),
            GradientCase(rows: 7, shape: [2, 2, 3], hidden: 5, classes: 3),
            GradientCase(rows: 16, shape: [3, 1, 11], hidden: 17, classes: 4),
        ],
        KernelPath.allCases)
    func gradientCheck(_ c: GradientCase, path: KernelPath) throws {
        let architecture = HeadArchitecture(inputShape: c.shape, hiddenUnits: c.hidden, classes: c.classes)
        let (d, u, k) = (architecture.inputCount, c.hidden, c.classes)
        let head = try DenseHead(
            architecture: architecture, hiddenKernel: randomScalars(d * u, seed: 21),
            hiddenBias: randomScalars(u, seed: 22, in: -0.3...0.3),
            outputKernel: randomScalars(u * k, seed: 23))
        let x = randomScalars(c.rows * d, seed: 24)
        let labels = (0..<c.rows).map { ($0 * 7 + 3) % k }
        let workspace = TrainingWorkspace(architecture: architecture, rows: c.rows, inputGradient: true)
        workspace.x.update(from: x, count: x.count)
        for (row, label) in labels.enumerated() { workspace.labels[row] = Int32(label) }
        let (loss, _) = head.forwardBackward(workspace, rows: c.rows, path: path)
        let analytic = Array(UnsafeBufferPointer(start: workspace.gradients, count: architecture.parameterCount))
        let analyticX = Array(UnsafeBufferPointer(start: workspace.inputGradient!, count: c.rows * d))

        let theta = (head.hiddenKernel + head.hiddenBias + head.outputKernel).map(Double.init)
        let xDouble = x.map(Double.init)
        func lossAt(theta: [Double], x: [Double]) -> Double {
            Self.doubleLoss(
                x: x, w1: Array(theta[0..<d * u]), b1: Array(theta[d * u..<d * u + u]),
                w2: Array(theta[(d * u + u)...]), labels: labels, d: d, u: u, k: k)
        }
        #expect(abs(Double(loss) - lossAt(theta: theta, x: xDouble)) < 1e-5, "loss \(loss)")
        let h = 1e-6
        func numeric(_ values: [Double], _ evaluate: ([Double]) -> Double) -> [Double] {
            (0..<values.count).map { i in
                var plus = values
                var minus = values
                plus[i] += h
                minus[i] -= h
                return (evaluate(plus) - evaluate(minus)) / (2 * h)
            }
        }
        let numericTheta = numeric(theta) { lossAt(theta: $0, x: xDouble) }
        let numericX = numeric(xDouble) { lossAt(theta: theta, x: $0) }
        let checks: [(name: String, analytic: [Float], numeric: [Double])] =
            [("θ = [dW1 | db1 | dW2]", analytic, numericTheta), ("dX", analyticX, numericX)]
        for check in checks {
            var worstIndex = -1
            var worstExcess = 0.0
            for i in 0..<check.numeric.count {
                let want = check.numeric[i]
                let difference: Double = abs(Double(check.analytic[i]) - want)
                let excess: Double = difference - (1e-4 + 1e-3 * abs(want))
                if excess > worstExcess { (worstIndex, worstExcess) = (i, excess) }
            }
            let detail =
                worstIndex < 0 ? "" : "analytic \(check.analytic[worstIndex]) vs numeric \(check.numeric[worstIndex])"
            #expect(worstIndex < 0, "\(check.name) \(c.testDescription) \(path): index \(worstIndex) \(detail)")
        }
    }

    // MARK: Adam

    @Test("Adam: two steps match hand arithmetic (TF.js variant, accBeta tracking, zero gradient)")
    func adamByHand() {
        // lr 0.1, β1 0.9, β2 0.999, ε 1e-7; θ = [1, −2, 0.5].
        // Step 1, g = [0.5, −0.25, 0]: m = 0.1·g = [0.05, −0.025, 0], v = 0.001·g² = [0.00025, 0.0000625, 0];
        //   m̂ = m/(1 − 0.9) = g, v̂ = v/(1 − 0.999) = g²; θ −= 0.1·g/(|g| + 1e-7):
        //   θ0 = 1 − 0.1·0.5/0.5000001 = 0.90000002, θ1 = −2 + 0.1·0.25/0.2500001 = −1.90000004, θ2 = 0.5 (0/ε = 0).
        // Step 2, g = [0.1, −0.25, 0]: m0 = 0.9·0.05 + 0.1·0.1 = 0.055, v0 = 0.999·0.00025 + 0.001·0.01 = 0.00025975;
        //   m̂0 = 0.055/(1 − 0.81) = 0.28947368, v̂0 = 0.00025975/(1 − 0.998001) = 0.12993997, √v̂0 = 0.36047187;
        //   θ0 = 0.90000002 − 0.1·0.28947368/0.36047197 = 0.81969594.
        //   m1 = −0.0475, v1 = 0.0001249375 → m̂1 = −0.25, v̂1 = 0.0625 → θ1 = −1.90000004 + 0.09999996 = −1.80000008.
        let adam = Adam(parameterCount: 3, learningRate: 0.1)
        var theta: [Float] = [1, -2, 0.5]
        adam.step(parameters: &theta, gradients: [0.5, -0.25, 0])
        expectClose(adam.firstMoments, [0.05, -0.025, 0], tolerance: 1e-7, "m after step 1")
        expectClose(adam.secondMoments, [0.00025, 0.0000625, 0], tolerance: 1e-8, "v after step 1")
        #expect(abs(theta[0] - 0.90000002) < 1e-6 && abs(theta[1] - -1.90000004) < 1e-6 && theta[2] == 0.5, "\(theta)")
        adam.step(parameters: &theta, gradients: [0.1, -0.25, 0])
        #expect(abs(theta[0] - 0.81969594) < 1e-6 && abs(theta[1] - -1.80000008) < 1e-6 && theta[2] == 0.5, "\(theta)")
        #expect(adam.iterations == 2)
    }

    @Test("Adam: reference == fast bit for bit over 3 steps", arguments: [1, 7, 15, 16, 17, 33, 100])
    func adamTwins(count: Int) {
        let reference = Adam(parameterCount: count, learningRate: 0.01)
        let fast = Adam(parameterCount: count, learningRate: 0.01)
        var thetaReference = randomScalars(count, seed: 31)
        var thetaFast = thetaReference
        for step in 0..<3 {
            var gradients = randomScalars(count, seed: 32 + UInt64(step))
            gradients[0] = 0
            reference.stepReference(parameters: &thetaReference, gradients: gradients)
            fast.step(parameters: &thetaFast, gradients: gradients)
        }
        #expect(thetaFast == thetaReference)
        #expect(fast.firstMoments == reference.firstMoments && fast.secondMoments == reference.secondMoments)
    }

    @Test("Adam: ε sits outside the bias-corrected √v̂ (TF.js), not the raw √v (Keras)")
    func adamEpsilonPlacement() {
        // ε = 0.1, one step, g = 0.5, lr 0.1. TF.js: 0.1·0.5/(√0.25 + 0.1) = 0.08333333.
        // Keras would step lr·√(1 − β2)/(1 − β1)·m/(√v + ε) = 0.1·0.0316228/0.1·0.05/(0.0158114 + 0.1) = 0.01365271.
        let adam = Adam(parameterCount: 1, learningRate: 0.1, epsilon: 0.1)
        var theta: [Float] = [0]
        adam.step(parameters: &theta, gradients: [0.5])
        #expect(abs(theta[0] - -0.08333333) < 1e-6, "\(theta[0])")
    }

    @Test("initialiser: truncated normal within ±2σ, σ ≈ 0.88·√(1/fanIn) as TF.js, seeded")
    func varianceScaling() {
        var generator = SplitMix64(seed: 5)
        let fanIn = 400
        let values = WeightInitializer.varianceScalingNormal(fanIn: fanIn, fanOut: 250, generator: &generator)
        let sigma = (1 / Double(fanIn)).squareRoot()
        #expect(values.allSatisfy { abs(Double($0)) <= 2 * sigma + 1e-9 })
        let mean = values.reduce(0) { $0 + Double($1) } / Double(values.count)
        let std = (values.reduce(0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(values.count))
            .squareRoot()
        // std of a unit normal truncated to ±2 is 0.8796; 100 000 samples → ±0.5 % sampling error.
        #expect(abs(mean) < 0.01 * sigma, "mean \(mean)")
        #expect(abs(std / sigma - 0.8796) < 0.01, "std/σ \(std / sigma)")
        var again = SplitMix64(seed: 5)
        #expect(WeightInitializer.varianceScalingNormal(fanIn: fanIn, fanOut: 250, generator: &again) == values)
    }

    @Test(
        "initialiser: the vector draw is bit for bit the scalar libm draw, generator position included",
        arguments: [(UInt64(0), 7, 3), (1, 400, 250), (42, 12_544, 100), (0xDEAD_BEEF, 100, 4), (7, 1, 1)])
    func varianceScalingMatchesScalar(seed: UInt64, fanIn: Int, fanOut: Int) {
        var reference = SplitMix64(seed: seed)
        let expected = WeightInitializer.varianceScalingNormalReference(
            fanIn: fanIn, fanOut: fanOut, generator: &reference)
        var fast = SplitMix64(seed: seed)
        let values = WeightInitializer.varianceScalingNormal(fanIn: fanIn, fanOut: fanOut, generator: &fast)
        #expect(values.map(\.bitPattern) == expected.map(\.bitPattern))
        let nextAfterDraw = reference.next()
        #expect(fast.next() == nextAfterDraw)
        // A tolerance no vector value can meet sends every attempt down the scalar fallback: same values again.
        var forced = SplitMix64(seed: seed)
        var scalarPath = [Float](repeating: .nan, count: fanIn * fanOut)
        scalarPath.withUnsafeMutableBufferPointer { buffer in
            WeightInitializer.fillVarianceScalingNormal(
                buffer.baseAddress!, fanIn: fanIn, count: fanIn * fanOut, generator: &forced, tolerance: 10)
        }
        #expect(scalarPath.map(\.bitPattern) == expected.map(\.bitPattern))
        #expect(forced.next() == nextAfterDraw)
    }

    @Test("initialiser: the vector log and cos stay within 1e-14 of libm over their whole input ranges")
    func vectorLogCosAccuracy() {
        var generator = SplitMix64(seed: 9)
        var worstLog = 0.0
        var worstCos = 0.0
        for _ in 0..<20_000 {
            var u1 = SIMD8<Double>()
            var u2 = SIMD8<Double>()
            for lane in 0..<8 { (u1[lane], u2[lane]) = WeightInitializer.uniforms(generator.next(), generator.next()) }
            // Include the ends: the smallest u1 (2⁻⁵³), u1 = 1 and u2 = 0.
            u1[0] = 1
            u1[1] = 1 / Double(1 << 53)
            u2[0] = 0
            let logs = WeightInitializer.logarithm(u1)
            let cosines = WeightInitializer.cosine(2 * Double.pi * u2)
            for lane in 0..<8 {
                worstLog = max(worstLog, abs(logs[lane] - log(u1[lane])) / max(1, abs(log(u1[lane]))))
                worstCos = max(worstCos, abs(cosines[lane] - cos(2 * Double.pi * u2[lane])))
            }
        }
        #expect(worstLog < 1e-14, "log \(worstLog)")
        #expect(worstCos < 1e-14, "cos \(worstCos)")
    }
}
