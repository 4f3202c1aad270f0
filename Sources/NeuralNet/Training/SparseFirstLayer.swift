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
// Register use: one output row of up to 104 units at a time (`WideRow`, Kernels/WideRow.swift: 13 ymm accumulators,
// one FMA each per non-zero term, the other operand read from memory).
// Wider U runs in groups of 104 columns. A group reads whole 104-float windows of δ, W1 and the
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

/// The sparse path of one training run (`FusedHeadTrainer`): the compressed samples, the gradient's buckets, and
/// the staged rows of this batch and of the next (swapped when the next batch becomes this one).
final class SparseRun {
    let features: SparseFeatures
    let scratch: SparseChunkScratch
    private(set) var batch, next: SparseBatch

    init(_ features: SparseFeatures, capacity: Int) {
        self.features = features
        scratch = SparseChunkScratch(capacity: capacity)
        batch = SparseBatch(capacity: capacity, for: features)
        next = SparseBatch(capacity: capacity, for: features)
    }

    /// Copies the rows of `samples` [rows] into this batch's staging (or the next batch's).
    func stage(samples: UnsafePointer<Int32>, rows: Int, asNext: Bool) {
        (asNext ? next : batch).stage(features, samples: samples, rows: rows)
    }

    func swapBatches() { swap(&batch, &next) }
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
