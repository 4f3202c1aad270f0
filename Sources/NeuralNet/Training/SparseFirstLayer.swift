// SparseFirstLayer: the fused first-layer kernels (FusedFirstLayer.swift) for sparse features. A head trains on
// post-ReLU MobileNet activations, and most of them are exactly zero: 68–84 % of v1 0.25's and 79–84 % of v1 1.0's
// conv_pw_13_relu outputs on the five test photos (`gesturepad embed --source <photo>`, counted with numpy). A
// dense kernel multiplies every zero; these skip them, so the first layer's gradient and forward passes cost in
// proportion to the non-zero features. The samples are fixed for a run, so they are compressed once
// (`SparseFeatures`: per chunk of 64 inputs, each sample's non-zero values and their inputs, 5 bytes a term), and
// each batch's rows are copied together once (`SparseBatch`), so the kernels read their terms in order.
// Measured (`gesturepad bench train --density 0.25 --first-layer dense|sparse`, AMD EPYC Zen 3, AVX2, 1 thread):
// [7,7,256] 345 → 276 ms, [7,7,1024] 1430 → 1070 ms. Per term the sparse kernels run one load per FMA (a dense
// register block reuses each load four times), so a term costs about twice a dense multiply-add here: they win
// below about 40 % density (at 0.4: 302–329 vs 321 ms; 0.5: 387 vs 361; 0.7: 529 vs 378), so `FirstLayerFeatures.auto`
// compresses at most 35 %.
// Exactness: each output still sums its terms in the dense kernels' order (the gradient over the batch in row
// order, the pre-activations over D in order, with FMA), only without the zero terms; fma(0, y, s) = s for finite
// y, so the results are bit for bit the dense kernels' (SparseFirstLayerTests; ±0 aside). W1 entries that are not
// finite would differ (0 · ∞ is NaN), but a step stops at the first non-finite parameter anyway.
// Register use: one output row of up to 104 units at a time in 13 ymm accumulators (U = 100 pads to 104), one FMA
// per accumulator per non-zero term, the other operand read from memory — enough independent chains for two FMA
// pipes of latency 4. Wider U runs in groups of 104 columns. A group reads whole 104-float windows of δ, W1 and the
// pre-activations: up to 103 floats past a row's end (the next row, or `FirstLayerKernel.slack` past the buffer);
// the extra lanes go to padding columns or nowhere. Hand-written: no library has a sparse × dense kernel that keeps
// the dense kernels' summation order (and so their bits).
// Legend as in FusedFirstLayer.swift: B batch rows, D inputs, U units, Upad = U rounded up to 8, P chunk rows.

/// Non-zero features of N samples [N, D], compressed chunk-major: for each chunk of `FirstLayerKernel.chunkRows`
/// inputs, every sample's non-zero values in that chunk and their inputs (ascending). A step reads one chunk of its
/// batch's samples at a time, so this keeps what it reads together (one block per chunk, in order) instead of one
/// stream per sample. Immutable after creation.
final class SparseFeatures {
    let samples: Int
    let inputs: Int
    let chunks: Int
    /// Starts [chunks · (N + 1)]: chunk c's values of sample s are at `start[c·(N+1) + s] ..< start[c·(N+1) + s + 1]`.
    let start: UnsafeMutablePointer<Int>
    /// Input of each stored value, counted from its chunk's first input (chunkRows ≤ 256) [nnz]: 5 bytes a term
    /// with its value, which is what a step streams.
    let indices: UnsafeMutablePointer<UInt8>
    let values: UnsafeMutablePointer<Float>
    /// Stored (non-zero) values.
    var nonZeroCount: Int { start[chunks * (samples + 1)] }

    /// Non-zero features among `count` scalars (a quick scan to decide whether compressing pays).
    static func nonZeroCount(_ features: UnsafePointer<Float>, count: Int) -> Int {
        var zeroLanes = SIMD8<Int32>()
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(features + i).loadUnaligned(as: SIMD8<Float>.self)
            zeroLanes &+= SIMD8<Int32>(repeating: 1).replacing(with: 0, where: v .!= 0)
            i += 8
        }
        var zeros = zeroLanes.indices.reduce(0) { $0 + Int(zeroLanes[$1]) }
        while i < count {
            if features[i] == 0 { zeros += 1 }
            i += 1
        }
        return count - zeros
    }

    /// Compresses `samples` rows of `inputs` features. `nonZero` is their non-zero count (`nonZeroCount`).
    init(_ features: UnsafePointer<Float>, samples: Int, inputs: Int, nonZero: Int) {
        precondition(samples >= 0 && inputs >= 1 && nonZero >= 0)
        let chunkRows = FirstLayerKernel.chunkRows
        precondition(chunkRows <= 256, "chunk-relative inputs are stored in one byte")
        self.samples = samples
        self.inputs = inputs
        chunks = (inputs + chunkRows - 1) / chunkRows
        start = .allocate(capacity: chunks * (samples + 1) + 1)
        // + copySlack: `SparseBatch.stage` copies whole blocks of terms, reading up to copySlack − 1 past the end.
        indices = .allocate(capacity: nonZero + SparseBatch.copySlack)
        indices.initialize(repeating: 0, count: nonZero + SparseBatch.copySlack)
        values = .allocate(capacity: nonZero + SparseBatch.copySlack)
        values.initialize(repeating: 0, count: nonZero + SparseBatch.copySlack)
        var stored = 0
        for chunk in 0..<chunks {
            let first = chunk * chunkRows
            let end = min(inputs, first + chunkRows)
            for sample in 0..<samples {
                start[chunk * (samples + 1) + sample] = stored
                let row = features + sample * inputs
                for input in first..<end where row[input] != 0 {
                    precondition(stored < nonZero, "SparseFeatures: more non-zero features than counted")
                    indices[stored] = UInt8(truncatingIfNeeded: input - first)
                    values[stored] = row[input]
                    stored += 1
                }
            }
            start[chunk * (samples + 1) + samples] = stored
        }
        precondition(stored == nonZero, "SparseFeatures: fewer non-zero features than counted")
        start[chunks * (samples + 1)] = stored
    }

    deinit {
        start.deallocate()
        indices.deallocate()
        values.deallocate()
    }

    /// Sample `sample`'s stored values in chunk `chunk`.
    @inline(__always) func range(chunk: Int, sample: Int) -> Range<Int> {
        let base = chunk * (samples + 1) + sample
        return start[base]..<start[base + 1]
    }
}

/// One batch's rows of `SparseFeatures`, copied chunk-major in batch order: chunk c's values of batch row b are at
/// `start[c·(B+1) + b] ..< start[c·(B+1) + b + 1]`. The kernels then read each chunk's terms in one sequential
/// pass; reading them from `SparseFeatures` directly jumps between the batch's (shuffled) samples, and those
/// dependent misses cost more than this copy, whose loads are independent (measured: `bench train`, Zen 3).
final class SparseBatch {
    let capacity: Int
    let chunks: Int
    /// Rows staged by the last `stage`.
    private(set) var rows = 0
    let start: UnsafeMutablePointer<Int>
    /// Chunk-relative inputs and values, as in `SparseFeatures`.
    let indices: UnsafeMutablePointer<UInt8>
    let values: UnsafeMutablePointer<Float>
    let entryCapacity: Int

    /// Room for any `capacity` rows of `features`: the sum of its `capacity` fullest samples' counts.
    init(capacity: Int, for features: SparseFeatures) {
        precondition(capacity >= 1)
        self.capacity = capacity
        chunks = features.chunks
        var perSample = [Int](repeating: 0, count: features.samples)
        for chunk in 0..<features.chunks {
            for sample in 0..<features.samples {
                perSample[sample] += features.range(chunk: chunk, sample: sample).count
            }
        }
        entryCapacity = max(1, perSample.sorted(by: >).prefix(capacity).reduce(0, +))
        start = .allocate(capacity: chunks * (capacity + 1))
        start.initialize(repeating: 0, count: chunks * (capacity + 1))
        indices = .allocate(capacity: entryCapacity + Self.copySlack)
        values = .allocate(capacity: entryCapacity + Self.copySlack)
    }

    deinit {
        start.deallocate()
        indices.deallocate()
        values.deallocate()
    }

    /// Copies the compressed rows of `samples` [rows] from `features`.
    func stage(_ features: SparseFeatures, samples: UnsafePointer<Int32>, rows: Int) {
        precondition(rows <= capacity && features.chunks == chunks)
        self.rows = rows
        var stored = 0
        for chunk in 0..<chunks {
            let table = start + chunk * (capacity + 1)
            for b in 0..<rows {
                table[b] = stored
                let terms = features.range(chunk: chunk, sample: Int(samples[b]))
                precondition(stored + terms.count <= entryCapacity, "SparseBatch: more terms than the fullest rows")
                // Whole blocks of 16 terms (a row has ~16 in a chunk at density 0.25): one or two iterations,
                // instead of a memmove call per short row; the copy runs up to 15 terms past the row (into slack,
                // overwritten by the next row).
                var n = 0
                while n < terms.count {
                    let from = terms.lowerBound + n
                    UnsafeMutableRawPointer(indices + stored + n).storeBytes(
                        of: UnsafeRawPointer(features.indices + from).loadUnaligned(as: SIMD16<UInt8>.self),
                        as: SIMD16<UInt8>.self)
                    UnsafeMutableRawPointer(values + stored + n).storeBytes(
                        of: UnsafeRawPointer(features.values + from).loadUnaligned(as: SIMD8<Float>.self),
                        as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(values + stored + n + 8).storeBytes(
                        of: UnsafeRawPointer(features.values + from + 8).loadUnaligned(as: SIMD8<Float>.self),
                        as: SIMD8<Float>.self)
                    n += Self.copySlack
                }
                stored += terms.count
            }
            table[rows] = stored
        }
    }

    /// Terms copied per block by `stage` (the arrays' slack).
    static let copySlack = 16

    /// Batch row `row`'s staged values in chunk `chunk`.
    @inline(__always) func range(chunk: Int, row: Int) -> Range<Int> {
        let base = chunk * (capacity + 1) + row
        return start[base]..<start[base + 1]
    }
}

/// 13 ymm accumulators: one group of up to 104 output columns.
struct WideRow {
    static let width = 104
    var v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12: SIMD8<Float>

    @inline(__always) init() {
        let zero = SIMD8<Float>()
        (v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12) = (
            zero, zero, zero, zero, zero, zero, zero, zero, zero, zero, zero, zero, zero
        )
    }

    /// The 104 floats at `p`.
    @inline(__always) init(loading p: UnsafePointer<Float>) {
        let l = FirstLayerKernel.load
        (v0, v1, v2, v3, v4, v5, v6) = (l(p), l(p + 8), l(p + 16), l(p + 24), l(p + 32), l(p + 40), l(p + 48))
        (v7, v8, v9, v10, v11, v12) = (l(p + 56), l(p + 64), l(p + 72), l(p + 80), l(p + 88), l(p + 96))
    }

    /// self += x · (the 104 floats at p), one FMA per vector (the dense kernels' operation, so the same bits).
    @inline(__always) mutating func addProduct(_ x: Float, _ p: UnsafePointer<Float>) {
        addProduct(x) { FirstLayerKernel.load(p + 8 * $0) }
    }

    /// self += x · (the 104 weights at p): Float32 as above; Int16 widened to Float32 first (`vpmovsxwd` +
    /// `vcvtdq2ps`), for DenseRow's int16 rows.
    @inline(__always) mutating func addProduct<Element: WideRowElement>(_ x: Float, _ p: UnsafePointer<Element>) {
        if Element.self == Float.self {
            addProduct(x, UnsafeRawPointer(p).assumingMemoryBound(to: Float.self))
            return
        }
        let raw = UnsafeRawPointer(p)
        addProduct(x) {
            SIMD8<Float>(
                SIMD8<Int32>(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: 16 * $0, as: SIMD8<Int16>.self)))
        }
    }

    /// self += x · (vector i of the window, i = 0 ..< 13, from `vector`).
    @inline(__always) mutating func addProduct(_ x: Float, _ vector: (Int) -> SIMD8<Float>) {
        let b = SIMD8<Float>(repeating: x)
        v0 = v0.addingProduct(b, vector(0))
        v1 = v1.addingProduct(b, vector(1))
        v2 = v2.addingProduct(b, vector(2))
        v3 = v3.addingProduct(b, vector(3))
        v4 = v4.addingProduct(b, vector(4))
        v5 = v5.addingProduct(b, vector(5))
        v6 = v6.addingProduct(b, vector(6))
        v7 = v7.addingProduct(b, vector(7))
        v8 = v8.addingProduct(b, vector(8))
        v9 = v9.addingProduct(b, vector(9))
        v10 = v10.addingProduct(b, vector(10))
        v11 = v11.addingProduct(b, vector(11))
        v12 = v12.addingProduct(b, vector(12))
    }

    /// Stores the first `valid` of the 104 lanes (all when valid ≥ 104).
    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>, valid: Int) {
        let s = FirstLayerKernel.store
        s(v0, p, valid)
        s(v1, p + 8, valid - 8)
        s(v2, p + 16, valid - 16)
        s(v3, p + 24, valid - 24)
        s(v4, p + 32, valid - 32)
        s(v5, p + 40, valid - 40)
        s(v6, p + 48, valid - 48)
        s(v7, p + 56, valid - 56)
        s(v8, p + 64, valid - 64)
        s(v9, p + 72, valid - 72)
        s(v10, p + 80, valid - 80)
        s(v11, p + 88, valid - 88)
        s(v12, p + 96, valid - 96)
    }
}

/// Per-run scratch of the sparse gradient: a chunk's non-zero terms regrouped by input (buckets: batch row and
/// value, in row order).
final class SparseChunkScratch {
    let capacity: Int
    /// Terms per input of the chunk [chunkRows]; terms [chunkRows, capacity]: batch row, value.
    let counts: UnsafeMutablePointer<Int>
    let bucketRows: UnsafeMutablePointer<Int32>
    let bucketValues: UnsafeMutablePointer<Float>

    init(capacity: Int) {
        precondition(capacity >= 1 && capacity <= Int(Int32.max))
        self.capacity = capacity
        counts = .allocate(capacity: FirstLayerKernel.chunkRows)
        bucketRows = .allocate(capacity: FirstLayerKernel.chunkRows * capacity)
        bucketValues = .allocate(capacity: FirstLayerKernel.chunkRows * capacity)
    }

    deinit {
        counts.deallocate()
        bucketRows.deallocate()
        bucketValues.deallocate()
    }
}

extension FirstLayerKernel {
    /// Sparse twin of `weightGradient` for chunk `chunk` (inputs first ..< first + count, first = chunk · chunkRows):
    /// g [count, U] = Σ_b x_b[first + i] · δ[b, :] over the non-zero x of the staged batch [batch.rows].
    /// δ [B, Upad] + 104 floats of slack.
    static func sparseWeightGradient(
        _ batch: SparseBatch, chunk: Int, inputs: Int, scratch: SparseChunkScratch, delta: UnsafePointer<Float>,
        units: Int, g: UnsafeMutablePointer<Float>
    ) {
        precondition(batch.rows <= scratch.capacity && (0..<batch.chunks).contains(chunk))
        let first = chunk * chunkRows
        let count = min(chunkRows, inputs - first)
        let padded = paddedUnits(units)
        let (capacity, counts, bucketRows, bucketValues) = (
            scratch.capacity, scratch.counts, scratch.bucketRows, scratch.bucketValues
        )
        let (indices, values) = (batch.indices, batch.values)
        counts.update(repeating: 0, count: count)
        for b in 0..<batch.rows {
            let row = Int32(truncatingIfNeeded: b)
            for n in batch.range(chunk: chunk, row: b) {
                let i = Int(indices[n])
                let slot = i * capacity + counts[i]
                bucketRows[slot] = row
                bucketValues[slot] = values[n]
                counts[i] += 1
            }
        }
        for group in stride(from: 0, to: units, by: WideRow.width) {
            for i in 0..<count {
                var accumulator = WideRow()
                let terms = i * capacity
                for n in 0..<counts[i] {
                    accumulator.addProduct(
                        bucketValues[terms + n], delta + Int(bucketRows[terms + n]) * padded + group)
                }
                accumulator.store(g + i * units + group, valid: units - group)
            }
        }
    }

    /// Sparse twin of `accumulateForward` for chunk `chunk`: pre [B, Upad] += Σ_{p in chunk} x_b[p] · W[p, :] over
    /// the non-zero x of the staged batch [batch.rows]. Reads 104-float windows of W's rows and of pre's rows (pre
    /// needs 104 floats of slack); writes only pre's Upad columns.
    static func sparseAccumulateForward(
        _ batch: SparseBatch, chunk: Int, w: UnsafePointer<Float>, units: Int, pre: UnsafeMutablePointer<Float>
    ) {
        precondition((0..<batch.chunks).contains(chunk))
        let padded = paddedUnits(units)
        let (indices, values) = (batch.indices, batch.values)
        let w = w + chunk * chunkRows * units
        for b in 0..<batch.rows {
            let terms = batch.range(chunk: chunk, row: b)
            if terms.isEmpty { continue }
            for group in stride(from: 0, to: padded, by: WideRow.width) {
                var accumulator = WideRow(loading: pre + b * padded + group)
                for n in terms { accumulator.addProduct(values[n], w + Int(indices[n]) * units + group) }
                accumulator.store(pre + b * padded + group, valid: padded - group)
            }
        }
    }
}
