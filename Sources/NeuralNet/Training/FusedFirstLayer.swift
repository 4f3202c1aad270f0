// FusedFirstLayer: one training step of the dense head with the first layer's three big passes fused into one
// sweep over W1 [D, U]. The head's cost is W1: 5 M scalars for [7,7,1024] → 100 units (20 MB, and Adam's m and v
// as much again each), while everything after it is a few thousand scalars. Unfused, a step streams W1 for the
// forward pass, writes the full gradient dW1 (20 MB), then Adam reads w, m, v, dW1 and writes w, m, v — and the
// next step's forward streams W1 again. Fused, the step walks W1 in chunks of `chunkRows` rows and, per chunk,
//   1. computes the chunk's gradient g = X[:, chunk]ᵀ · δ into a small scratch (never the full dW1),
//   2. applies Adam to the chunk's w, m, v while g is in L1 (`Adam.update(range:)`, bit for bit `Adam.step`),
//   3. adds the chunk's share of the *next* batch's pre-activations, X_next[:, chunk] · W1[chunk] with the
//      updated W1 (the next step's forward pass, done while the chunk is still in cache),
// so w, m, v are read and written once per step and W1 is never streamed a second time. No dX into the
// features is computed, no X is gathered or transposed: the kernels read each sample's row in place through a
// table of row pointers (the features never change during a run).
// Chunk size: 64 rows × 100 units = 25.6 KB of g, which stays in Zen 4's 32 KB L1d between the gradient kernel
// writing it and Adam reading it; the chunk's w, m, v (77 KB) and the two batches' X panels (2 × 80 rows × 256 B)
// fit the 1 MB L2, so the next-forward pass reads the updated w from cache.
// Vectors: 8 lanes (ymm) in every build — Zen 4 runs 256- and 512-bit FMAs at the same FLOP rate, and 8 lanes
// waste less on U = 100 (pad to 104) than 16 (112). Register blocks 4 rows × 3 vectors (12 accumulators: fits
// AVX2's 16 registers; `blockWidth` ends with 4 × 2 blocks instead of a slow 4 × 1). U is padded to a multiple of 8 (Upad) in the pre-activation and δ scratch; the forward
// kernel reads whole vectors of W1's rows (up to 7 floats into the next row, or into `slack` floats after the
// parameters — DenseHead allocates them) and the gradient kernel stores only a row's U real columns.
// Summation orders: g sums over the batch in row order, the pre-activations over D in order, both with FMA; the
// plain references (`…Reference`) use the same orders without FMA. The twin tests (FusedFirstLayerTests) compare
// each kernel with its reference and a whole fused step with the unfused reference step
// (`DenseHead.forwardBackward(path: .reference)` + `Adam.stepReference`).
// Legend: B batch rows, D inputs (H·W·C), U hidden units, Upad = U rounded up to 8, K classes, P chunk rows.

/// The fused first-layer kernels (see the file header). Row tables: `rows[b]` points at sample b's D features.
enum FirstLayerKernel {
    /// Floats readable past the end of W1's storage, δ and the pre-activations (the sparse kernels' 104-float
    /// windows, SparseFirstLayer.swift; the dense kernels need one vector).
    static let slack = WideRow.width
    /// Rows of W1 per chunk (see the file header for the sizes).
    static let chunkRows = 64

    /// U rounded up to whole 8-lane vectors.
    static func paddedUnits(_ units: Int) -> Int { (units + 7) / 8 * 8 }

    // MARK: Weight gradient of a chunk

    /// g [count, U] (row stride U) = Σ_b rows[b][first + i] · δ[b, :], i in 0..<count; δ [B, Upad]. Plain loops.
    static func weightGradientReference(
        rows: UnsafePointer<UnsafePointer<Float>>, batch: Int, first: Int, count: Int,
        delta: UnsafePointer<Float>, units: Int, g: UnsafeMutablePointer<Float>
    ) {
        let padded = paddedUnits(units)
        for i in 0..<count {
            for unit in 0..<units {
                var sum: Float = 0
                for b in 0..<batch { sum += rows[b][first + i] * delta[b * padded + unit] }
                g[i * units + unit] = sum
            }
        }
    }

    /// Fast twin of `weightGradientReference` (4 × 3 register blocks; writes only the U real columns of a row).
    static func weightGradient(
        rows: UnsafePointer<UnsafePointer<Float>>, batch: Int, first: Int, count: Int,
        delta: UnsafePointer<Float>, units: Int, g: UnsafeMutablePointer<Float>
    ) {
        let padded = paddedUnits(units)
        let vectors = padded / 8
        var vector = 0
        while vector < vectors {
            let width = blockWidth(remaining: vectors - vector)
            let column = 8 * vector
            var i = 0
            while i + 4 <= count {
                if width == 3 {
                    gradient4x3(
                        rows: rows, batch: batch, input: first + i, delta: delta + column, padded: padded,
                        g: g + i * units + column, stride: units, valid: units - column)
                } else if width == 2 {
                    gradient4x2(
                        rows: rows, batch: batch, input: first + i, delta: delta + column, padded: padded,
                        g: g + i * units + column, stride: units, valid: units - column)
                } else {
                    for extra in 0..<width {
                        gradient4x1(
                            rows: rows, batch: batch, input: first + i, delta: delta + column + 8 * extra,
                            padded: padded, g: g + i * units + column + 8 * extra, stride: units,
                            valid: units - column - 8 * extra)
                    }
                }
                i += 4
            }
            while i < count {
                for extra in 0..<width {
                    gradient1x1(
                        rows: rows, batch: batch, input: first + i, delta: delta + column + 8 * extra,
                        padded: padded, g: g + i * units + column + 8 * extra,
                        valid: units - column - 8 * extra)
                }
                i += 1
            }
            vector += width
        }
    }

    /// Vectors in the next register block when `remaining` are left: 3, except that four left go as 2 + 2 and
    /// two as 2 (U = 100: 13 vectors as 3, 3, 3, 2, 2). A one-vector block keeps only 4 FMA chains in flight,
    /// half of what two FMA pipes with 4-cycle latency need; two vectors keep 8.
    @inline(__always) static func blockWidth(remaining: Int) -> Int {
        remaining == 4 || remaining == 2 ? 2 : min(3, remaining)
    }

    @inline(__always) static func load(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// Stores the first `valid` lanes (all 8 when valid ≥ 8).
    @inline(__always) static func store(_ value: SIMD8<Float>, _ pointer: UnsafeMutablePointer<Float>, valid: Int) {
        if valid >= 8 {
            UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD8<Float>.self)
        } else {
            for lane in 0..<max(valid, 0) { pointer[lane] = value[lane] }
        }
    }

    /// Stores three consecutive vectors, only the first `valid` lanes of the 24.
    @inline(__always)
    static func store3(
        _ v0: SIMD8<Float>, _ v1: SIMD8<Float>, _ v2: SIMD8<Float>, _ pointer: UnsafeMutablePointer<Float>, valid: Int
    ) {
        store(v0, pointer, valid: valid)
        store(v1, pointer + 8, valid: valid - 8)
        store(v2, pointer + 16, valid: valid - 16)
    }

    /// g rows input..<input+4, 24 columns from `g` (row stride `stride`), the first `valid` of them real.
    @inline(__always)
    static func gradient4x3(
        rows: UnsafePointer<UnsafePointer<Float>>, batch: Int, input: Int, delta: UnsafePointer<Float>, padded: Int,
        g: UnsafeMutablePointer<Float>, stride: Int, valid: Int
    ) {
        var a00 = SIMD8<Float>()
        var a01 = SIMD8<Float>()
        var a02 = SIMD8<Float>()
        var a10 = SIMD8<Float>()
        var a11 = SIMD8<Float>()
        var a12 = SIMD8<Float>()
        var a20 = SIMD8<Float>()
        var a21 = SIMD8<Float>()
        var a22 = SIMD8<Float>()
        var a30 = SIMD8<Float>()
        var a31 = SIMD8<Float>()
        var a32 = SIMD8<Float>()
        for b in 0..<batch {
            let x = rows[b] + input
            let d = delta + b * padded
            let d0 = load(d)
            let d1 = load(d + 8)
            let d2 = load(d + 16)
            let x0 = SIMD8<Float>(repeating: x[0])
            a00 = a00.addingProduct(x0, d0)
            a01 = a01.addingProduct(x0, d1)
            a02 = a02.addingProduct(x0, d2)
            let x1 = SIMD8<Float>(repeating: x[1])
            a10 = a10.addingProduct(x1, d0)
            a11 = a11.addingProduct(x1, d1)
            a12 = a12.addingProduct(x1, d2)
            let x2 = SIMD8<Float>(repeating: x[2])
            a20 = a20.addingProduct(x2, d0)
            a21 = a21.addingProduct(x2, d1)
            a22 = a22.addingProduct(x2, d2)
            let x3 = SIMD8<Float>(repeating: x[3])
            a30 = a30.addingProduct(x3, d0)
            a31 = a31.addingProduct(x3, d1)
            a32 = a32.addingProduct(x3, d2)
        }
        store3(a00, a01, a02, g, valid: valid)
        store3(a10, a11, a12, g + stride, valid: valid)
        store3(a20, a21, a22, g + 2 * stride, valid: valid)
        store3(a30, a31, a32, g + 3 * stride, valid: valid)
    }

    /// g rows input..<input+4, 16 columns from `g` (row stride `stride`), the first `valid` of them real.
    @inline(__always)
    static func gradient4x2(
        rows: UnsafePointer<UnsafePointer<Float>>, batch: Int, input: Int, delta: UnsafePointer<Float>, padded: Int,
        g: UnsafeMutablePointer<Float>, stride: Int, valid: Int
    ) {
        var a00 = SIMD8<Float>()
        var a01 = SIMD8<Float>()
        var a10 = SIMD8<Float>()
        var a11 = SIMD8<Float>()
        var a20 = SIMD8<Float>()
        var a21 = SIMD8<Float>()
        var a30 = SIMD8<Float>()
        var a31 = SIMD8<Float>()
        for b in 0..<batch {
            let x = rows[b] + input
            let d = delta + b * padded
            let d0 = load(d)
            let d1 = load(d + 8)
            let x0 = SIMD8<Float>(repeating: x[0])
            a00 = a00.addingProduct(x0, d0)
            a01 = a01.addingProduct(x0, d1)
            let x1 = SIMD8<Float>(repeating: x[1])
            a10 = a10.addingProduct(x1, d0)
            a11 = a11.addingProduct(x1, d1)
            let x2 = SIMD8<Float>(repeating: x[2])
            a20 = a20.addingProduct(x2, d0)
            a21 = a21.addingProduct(x2, d1)
            let x3 = SIMD8<Float>(repeating: x[3])
            a30 = a30.addingProduct(x3, d0)
            a31 = a31.addingProduct(x3, d1)
        }
        store(a00, g, valid: valid)
        store(a01, g + 8, valid: valid - 8)
        store(a10, g + stride, valid: valid)
        store(a11, g + stride + 8, valid: valid - 8)
        store(a20, g + 2 * stride, valid: valid)
        store(a21, g + 2 * stride + 8, valid: valid - 8)
        store(a30, g + 3 * stride, valid: valid)
        store(a31, g + 3 * stride + 8, valid: valid - 8)
    }

    /// g rows input..<input+4, 8 columns, the first `valid` of them real.
    @inline(__always)
    static func gradient4x1(
        rows: UnsafePointer<UnsafePointer<Float>>, batch: Int, input: Int, delta: UnsafePointer<Float>, padded: Int,
        g: UnsafeMutablePointer<Float>, stride: Int, valid: Int
    ) {
        var a0 = SIMD8<Float>()
        var a1 = SIMD8<Float>()
        var a2 = SIMD8<Float>()
        var a3 = SIMD8<Float>()
        for b in 0..<batch {
            let x = rows[b] + input
            let d0 = load(delta + b * padded)
            a0 = a0.addingProduct(SIMD8(repeating: x[0]), d0)
            a1 = a1.addingProduct(SIMD8(repeating: x[1]), d0)
            a2 = a2.addingProduct(SIMD8(repeating: x[2]), d0)
            a3 = a3.addingProduct(SIMD8(repeating: x[3]), d0)
        }
        store(a0, g, valid: valid)
        store(a1, g + stride, valid: valid)
        store(a2, g + 2 * stride, valid: valid)
        store(a3, g + 3 * stride, valid: valid)
    }

    /// g row `input`, 8 columns, the first `valid` of them real.
    @inline(__always)
    static func gradient1x1(
        rows: UnsafePointer<UnsafePointer<Float>>, batch: Int, input: Int, delta: UnsafePointer<Float>, padded: Int,
        g: UnsafeMutablePointer<Float>, valid: Int
    ) {
        var a0 = SIMD8<Float>()
        for b in 0..<batch { a0 = a0.addingProduct(SIMD8(repeating: rows[b][input]), load(delta + b * padded)) }
        store(a0, g, valid: valid)
    }

    // MARK: Pre-activations of a chunk

    /// pre [B, Upad] += Σ_{p in first..<first+count} rows[b][p] · W[p, :] over the U real columns; W [D, U]
    /// row-major. Plain loops (the padding columns are left alone).
    static func accumulateForwardReference(
        rows: UnsafePointer<UnsafePointer<Float>>, batch: Int, first: Int, count: Int,
        w: UnsafePointer<Float>, units: Int, pre: UnsafeMutablePointer<Float>
    ) {
        let padded = paddedUnits(units)
        for b in 0..<batch {
            for unit in 0..<units {
                var sum = pre[b * padded + unit]
                for p in first..<(first + count) { sum += rows[b][p] * w[p * units + unit] }
                pre[b * padded + unit] = sum
            }
        }
    }

    /// Fast twin of `accumulateForwardReference` (4 × 3 register blocks). Reads whole vectors of W's rows (up to 7
    /// floats past a row's end: the next row, or `slack` after W's storage); the padding columns of pre receive
    /// those products and are never read.
    static func accumulateForward(
        rows: UnsafePointer<UnsafePointer<Float>>, batch: Int, first: Int, count: Int,
        w: UnsafePointer<Float>, units: Int, pre: UnsafeMutablePointer<Float>
    ) {
        let padded = paddedUnits(units)
        let vectors = padded / 8
        var vector = 0
        while vector < vectors {
            let width = blockWidth(remaining: vectors - vector)
            let column = 8 * vector
            var b = 0
            while b + 4 <= batch {
                if width == 3 {
                    forward4x3(
                        rows: rows + b, first: first, count: count, w: w + column, units: units,
                        pre: pre + b * padded + column, padded: padded)
                } else if width == 2 {
                    forward4x2(
                        rows: rows + b, first: first, count: count, w: w + column, units: units,
                        pre: pre + b * padded + column, padded: padded)
                } else {
                    for extra in 0..<width {
                        forward4x1(
                            rows: rows + b, first: first, count: count, w: w + column + 8 * extra, units: units,
                            pre: pre + b * padded + column + 8 * extra, padded: padded)
                    }
                }
                b += 4
            }
            while b < batch {
                for extra in 0..<width {
                    forward1x1(
                        row: rows[b], first: first, count: count, w: w + column + 8 * extra, units: units,
                        pre: pre + b * padded + column + 8 * extra)
                }
                b += 1
            }
            vector += width
        }
    }

    @inline(__always)
    static func forward4x3(
        rows: UnsafePointer<UnsafePointer<Float>>, first: Int, count: Int, w: UnsafePointer<Float>, units: Int,
        pre: UnsafeMutablePointer<Float>, padded: Int
    ) {
        let (x0, x1, x2, x3) = (rows[0], rows[1], rows[2], rows[3])
        var a00 = load(pre)
        var a01 = load(pre + 8)
        var a02 = load(pre + 16)
        var a10 = load(pre + padded)
        var a11 = load(pre + padded + 8)
        var a12 = load(pre + padded + 16)
        var a20 = load(pre + 2 * padded)
        var a21 = load(pre + 2 * padded + 8)
        var a22 = load(pre + 2 * padded + 16)
        var a30 = load(pre + 3 * padded)
        var a31 = load(pre + 3 * padded + 8)
        var a32 = load(pre + 3 * padded + 16)
        for p in first..<(first + count) {
            let line = w + p * units
            let w0 = load(line)
            let w1 = load(line + 8)
            let w2 = load(line + 16)
            let b0 = SIMD8<Float>(repeating: x0[p])
            a00 = a00.addingProduct(b0, w0)
            a01 = a01.addingProduct(b0, w1)
            a02 = a02.addingProduct(b0, w2)
            let b1 = SIMD8<Float>(repeating: x1[p])
            a10 = a10.addingProduct(b1, w0)
            a11 = a11.addingProduct(b1, w1)
            a12 = a12.addingProduct(b1, w2)
            let b2 = SIMD8<Float>(repeating: x2[p])
            a20 = a20.addingProduct(b2, w0)
            a21 = a21.addingProduct(b2, w1)
            a22 = a22.addingProduct(b2, w2)
            let b3 = SIMD8<Float>(repeating: x3[p])
            a30 = a30.addingProduct(b3, w0)
            a31 = a31.addingProduct(b3, w1)
            a32 = a32.addingProduct(b3, w2)
        }
        store3(a00, a01, a02, pre, valid: 24)
        store3(a10, a11, a12, pre + padded, valid: 24)
        store3(a20, a21, a22, pre + 2 * padded, valid: 24)
        store3(a30, a31, a32, pre + 3 * padded, valid: 24)
    }

    @inline(__always)
    static func forward4x2(
        rows: UnsafePointer<UnsafePointer<Float>>, first: Int, count: Int, w: UnsafePointer<Float>, units: Int,
        pre: UnsafeMutablePointer<Float>, padded: Int
    ) {
        let (x0, x1, x2, x3) = (rows[0], rows[1], rows[2], rows[3])
        var a00 = load(pre)
        var a01 = load(pre + 8)
        var a10 = load(pre + padded)
        var a11 = load(pre + padded + 8)
        var a20 = load(pre + 2 * padded)
        var a21 = load(pre + 2 * padded + 8)
        var a30 = load(pre + 3 * padded)
        var a31 = load(pre + 3 * padded + 8)
        for p in first..<(first + count) {
            let line = w + p * units
            let w0 = load(line)
            let w1 = load(line + 8)
            let b0 = SIMD8<Float>(repeating: x0[p])
            a00 = a00.addingProduct(b0, w0)
            a01 = a01.addingProduct(b0, w1)
            let b1 = SIMD8<Float>(repeating: x1[p])
            a10 = a10.addingProduct(b1, w0)
            a11 = a11.addingProduct(b1, w1)
            let b2 = SIMD8<Float>(repeating: x2[p])
            a20 = a20.addingProduct(b2, w0)
            a21 = a21.addingProduct(b2, w1)
            let b3 = SIMD8<Float>(repeating: x3[p])
            a30 = a30.addingProduct(b3, w0)
            a31 = a31.addingProduct(b3, w1)
        }
        store(a00, pre, valid: 8)
        store(a01, pre + 8, valid: 8)
        store(a10, pre + padded, valid: 8)
        store(a11, pre + padded + 8, valid: 8)
        store(a20, pre + 2 * padded, valid: 8)
        store(a21, pre + 2 * padded + 8, valid: 8)
        store(a30, pre + 3 * padded, valid: 8)
        store(a31, pre + 3 * padded + 8, valid: 8)
    }

    @inline(__always)
    static func forward4x1(
        rows: UnsafePointer<UnsafePointer<Float>>, first: Int, count: Int, w: UnsafePointer<Float>, units: Int,
        pre: UnsafeMutablePointer<Float>, padded: Int
    ) {
        let (x0, x1, x2, x3) = (rows[0], rows[1], rows[2], rows[3])
        var a0 = load(pre)
        var a1 = load(pre + padded)
        var a2 = load(pre + 2 * padded)
        var a3 = load(pre + 3 * padded)
        for p in first..<(first + count) {
            let w0 = load(w + p * units)
            a0 = a0.addingProduct(SIMD8(repeating: x0[p]), w0)
            a1 = a1.addingProduct(SIMD8(repeating: x1[p]), w0)
            a2 = a2.addingProduct(SIMD8(repeating: x2[p]), w0)
            a3 = a3.addingProduct(SIMD8(repeating: x3[p]), w0)
        }
        store(a0, pre, valid: 8)
        store(a1, pre + padded, valid: 8)
        store(a2, pre + 2 * padded, valid: 8)
        store(a3, pre + 3 * padded, valid: 8)
    }

    @inline(__always)
    static func forward1x1(
        row: UnsafePointer<Float>, first: Int, count: Int, w: UnsafePointer<Float>, units: Int,
        pre: UnsafeMutablePointer<Float>
    ) {
        var a0 = load(pre)
        for p in first..<(first + count) { a0 = a0.addingProduct(SIMD8(repeating: row[p]), load(w + p * units)) }
        store(a0, pre, valid: 8)
    }
}

/// What one fused step computed before its update.
struct FusedStepResult {
    /// Mean loss of the batch before the update.
    var loss: Float
    /// Rows whose argmax was their label before the update.
    var correct: Int
    /// False when the loss was not finite (nothing was updated) or a parameter turned non-finite.
    var finite: Bool
}

/// One training run's buffers and steps (see the file header). The caller fills `batchSamples`/`labels` for the
/// batch and `nextSamples` for the batch after it (if any) and calls `step`; the step prepares the next batch's
/// pre-activations, which the following `step` uses when its samples are the ones announced. With `sparse`
/// features (SparseFirstLayer.swift) the first layer's kernels skip zero features, with the same results.
/// Allocates nothing per step.
final class FusedHeadTrainer {
    let head: DenseHead
    let adam: Adam
    let capacity: Int
    /// D, U, K and Upad.
    let inputs, units, classes, padded: Int
    /// The samples [N, D] (row-major) the batches index.
    let features: UnsafePointer<Float>
    let sampleCount: Int
    /// Sample indices [capacity]: this batch, the next batch (filled by the caller), and the ones `upcoming` holds.
    let batchSamples, nextSamples, preparedSamples: UnsafeMutablePointer<Int32>
    /// Row tables [capacity] of this batch and the next (the dense kernels read the samples through them).
    let batchRows, nextRows: UnsafeMutablePointer<UnsafePointer<Float>>
    /// Labels [capacity] of this batch.
    let labels: UnsafeMutablePointer<Int32>
    /// Pre-activations Σ x·W1 [capacity, Upad] (+ slack) of this batch and of the next one.
    var current, upcoming: UnsafeMutablePointer<Float>
    /// hidden, dhidden [capacity, U]; δ [capacity, Upad] (+ slack); logits, probabilities, dlogits [capacity, K].
    let hidden, dhidden, delta, logits, probabilities, dlogits: UnsafeMutablePointer<Float>
    /// Gradients of b1, W2 (and b2): everything after W1 in the parameter layout.
    let tailGradients: UnsafeMutablePointer<Float>
    /// One chunk's W1 gradient [chunkRows, U] + slack.
    let chunkGradient: UnsafeMutablePointer<Float>
    /// The compressed samples, the sparse gradient's buckets and the staged batches (nil when dense).
    let sparse: SparseRun?
    private var preparedCount = 0
    private var buffers: [UnsafeMutablePointer<Float>] = []

    /// A trainer for batches of up to `capacity` of the `samples` rows at `features` [samples, D], which must stay
    /// valid and unchanged for the trainer's life. `sparse`, when given, compresses those same rows.
    init(
        head: DenseHead, adam: Adam, capacity: Int, features: UnsafePointer<Float>, samples: Int,
        sparse: SparseFeatures? = nil
    ) {
        precondition(capacity >= 1 && adam.parameterCount == head.architecture.parameterCount)
        precondition(samples >= 1 && samples <= Int(Int32.max))
        precondition(sparse.map { $0.samples == samples && $0.inputs == head.inputCount } ?? true)
        self.head = head
        self.adam = adam
        self.capacity = capacity
        self.features = features
        self.sampleCount = samples
        self.sparse = sparse.map { SparseRun($0, capacity: capacity) }
        let (d, u, k) = (head.inputCount, head.hiddenUnits, head.classes)
        inputs = d
        units = u
        classes = k
        let padded = FirstLayerKernel.paddedUnits(u)
        self.padded = padded
        var buffers: [UnsafeMutablePointer<Float>] = []
        // 64-byte aligned: the kernels read δ and the pre-activations as 32-byte vectors of rows of Upad floats
        // (416 B at U = 100), which then never straddle a cache line. From a plain allocation (16-byte aligned, an
        // offset that depends on the heap) half of them may: the sparse gradient's loop alone ran 16.3–16.9 instead
        // of 12.5 cycles per term (standalone, Zen 3). Whole [7,7,1024] trainings measured the same within noise
        // (`bench train`, 3 interleaved pairs: 928 / 950 / 896 ms aligned vs 913 / 940 / 885).
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let pointer = allocateAligned(floats: count)
            pointer.initialize(repeating: 0, count: count)
            buffers.append(pointer)
            return pointer
        }
        let slack = FirstLayerKernel.slack
        current = buffer(capacity * padded + slack)
        upcoming = buffer(capacity * padded + slack)
        hidden = buffer(capacity * u)
        dhidden = buffer(capacity * u)
        delta = buffer(capacity * padded + slack)
        logits = buffer(capacity * k)
        probabilities = buffer(capacity * k)
        dlogits = buffer(capacity * k)
        tailGradients = buffer(head.architecture.parameterCount - d * u)
        chunkGradient = buffer(FirstLayerKernel.chunkRows * u + slack)
        self.buffers = buffers
        batchSamples = .allocate(capacity: capacity)
        nextSamples = .allocate(capacity: capacity)
        preparedSamples = .allocate(capacity: capacity)
        for table in [batchSamples, nextSamples, preparedSamples] { table.initialize(repeating: 0, count: capacity) }
        batchRows = .allocate(capacity: capacity)
        batchRows.initialize(repeating: features, count: capacity)
        nextRows = .allocate(capacity: capacity)
        nextRows.initialize(repeating: features, count: capacity)
        labels = .allocate(capacity: capacity)
        labels.initialize(repeating: 0, count: capacity)
    }

    deinit {
        for pointer in buffers { deallocateAligned(pointer) }
        batchSamples.deallocate()
        nextSamples.deallocate()
        preparedSamples.deallocate()
        batchRows.deallocate()
        nextRows.deallocate()
        labels.deallocate()
    }

    /// Compressed rows of `features` [samples, D] when at most `maximumDensity` of them are non-zero (the sparse
    /// kernels then do less work than the dense ones: `bench train --density`), else nil; nil without looking when
    /// `maximumDensity` is nil.
    static func sparseFeatures(
        _ features: UnsafePointer<Float>, samples: Int, inputs: Int, maximumDensity: Double? = sparseDensityLimit
    ) -> SparseFeatures? {
        guard let maximumDensity else { return nil }
        let count = samples * inputs
        let nonZero = SparseFeatures.nonZeroCount(features, count: count)
        guard Double(nonZero) <= maximumDensity * Double(count) else { return nil }
        return SparseFeatures(features, samples: samples, inputs: inputs, nonZero: nonZero)
    }

    /// The density at or below which training compresses the features (measured: `bench train --density`).
    static let sparseDensityLimit = 0.35

    /// One chunk's pre-activations of `rows` batch rows (`next`: the announced next batch, else this one).
    @inline(__always)
    private func accumulateForward(next: Bool, rows: Int, first: Int, count: Int, into pre: UnsafeMutablePointer<Float>)
    {
        if let sparse {
            FirstLayerKernel.sparseAccumulateForward(
                next ? sparse.next : sparse.batch, chunk: first / FirstLayerKernel.chunkRows,
                w: head.hiddenKernelPointer, units: units, pre: pre)
        } else {
            FirstLayerKernel.accumulateForward(
                rows: next ? nextRows : batchRows, batch: rows, first: first, count: count,
                w: head.hiddenKernelPointer, units: units, pre: pre)
        }
    }

    /// One Adam step on the batch in `batchSamples`/`labels` [rows]; with `nextCount` > 0 also the pre-activations
    /// of the batch in `nextSamples` [nextCount] (used by the next call if it brings those samples).
    func step(rows: Int, nextCount: Int) -> FusedStepResult {
        precondition((1...capacity).contains(rows) && (0...capacity).contains(nextCount))
        let (d, u, k, padded) = (inputs, units, classes, padded)
        for b in 0..<rows {
            precondition((0..<sampleCount).contains(Int(batchSamples[b])), "batch sample out of range")
            batchRows[b] = features + Int(batchSamples[b]) * d
        }
        for b in 0..<nextCount {
            precondition((0..<sampleCount).contains(Int(nextSamples[b])), "next sample out of range")
            nextRows[b] = features + Int(nextSamples[b]) * d
        }
        let parameters = head.parameters
        let w1 = head.hiddenKernelPointer
        let chunkRows = FirstLayerKernel.chunkRows
        if preparedCount == rows && (0..<rows).allSatisfy({ preparedSamples[$0] == batchSamples[$0] }) {
            swap(&current, &upcoming)
            sparse?.swapBatches()
        } else {
            current.update(repeating: 0, count: rows * padded)
            sparse?.stage(samples: batchSamples, rows: rows, asNext: false)
            for first in stride(from: 0, to: d, by: chunkRows) {
                accumulateForward(
                    next: false, rows: rows, first: first, count: min(chunkRows, d - first), into: current)
            }
        }
        preparedCount = 0
        // hidden [B,U] = relu(pre + b1)
        let b1 = head.hiddenBiasPointer
        for b in 0..<rows {
            for unit in 0..<u { hidden[b * u + unit] = max(current[b * padded + unit] + b1[unit], 0) }
        }
        // logits [B,K] = hidden · W2 (+ b2); softmax; loss; dlogits = (p − y)/B
        DenseKernel.forward(
            x: hidden, w: head.outputKernelPointer, b: head.outputBiasPointer, y: logits, rows: rows, inputs: u,
            units: k, relu: false, backend: .openBLAS)
        let result = SoftmaxCrossEntropy.forwardReference(
            logits: logits, labels: labels, probabilities: probabilities, rows: rows, classes: k)
        guard result.loss.isFinite else {
            return FusedStepResult(loss: result.loss, correct: result.correct, finite: false)
        }
        SoftmaxCrossEntropy.backwardReference(
            probabilities: probabilities, labels: labels, dlogits: dlogits, rows: rows, classes: k)
        // dW2 [U,K], db2 [K], dhidden [B,U] = dlogits · W2ᵀ; through relu; db1 [U] = Σ_B dpre
        let gradB1 = tailGradients
        let gradW2 = gradB1 + u
        let gradB2: UnsafeMutablePointer<Float>? = head.architecture.outputBias ? gradW2 + u * k : nil
        DenseKernel.backward(
            dy: dlogits, x: hidden, w: head.outputKernelPointer, dx: dhidden, dw: gradW2, db: gradB2, rows: rows,
            inputs: u, units: k, backend: .openBLAS)
        ReLUKernel.backward(y: hidden, dy: dhidden, dx: dhidden, count: rows * u)
        gradB1.update(repeating: 0, count: u)
        for b in 0..<rows {
            for unit in 0..<u {
                gradB1[unit] += dhidden[b * u + unit]
                delta[b * padded + unit] = dhidden[b * u + unit]
            }
            for unit in u..<padded { delta[b * padded + unit] = 0 }
        }
        // Adam on b1, W2 (b2), then W1 chunk by chunk, each chunk's gradient computed just before.
        let total = head.architecture.parameterCount
        adam.update(parameters: parameters, gradients: tailGradients, range: (d * u)..<total)
        var finite = FiniteCheck.allFinite(parameters + d * u, count: total - d * u)
        if nextCount > 0 {
            upcoming.update(repeating: 0, count: nextCount * padded)
            sparse?.stage(samples: nextSamples, rows: nextCount, asNext: true)
        }
        for first in stride(from: 0, to: d, by: chunkRows) {
            let count = min(chunkRows, d - first)
            if let sparse {
                FirstLayerKernel.sparseWeightGradient(
                    sparse.batch, chunk: first / chunkRows, inputs: d, scratch: sparse.scratch, delta: delta, units: u,
                    g: chunkGradient)
            } else {
                FirstLayerKernel.weightGradient(
                    rows: batchRows, batch: rows, first: first, count: count, delta: delta, units: u, g: chunkGradient)
            }
            adam.update(parameters: parameters, gradients: chunkGradient, range: (first * u)..<((first + count) * u))
            finite = FiniteCheck.allFinite(w1 + first * u, count: count * u) && finite
            if nextCount > 0 {
                accumulateForward(next: true, rows: nextCount, first: first, count: count, into: upcoming)
            }
        }
        adam.finishStep()
        if nextCount > 0 {
            preparedSamples.update(from: nextSamples, count: nextCount)
            preparedCount = nextCount
        }
        return FusedStepResult(loss: result.loss, correct: result.correct, finite: finite)
    }
}
