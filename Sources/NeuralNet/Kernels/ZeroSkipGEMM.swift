// ZeroSkipGEMM: the 1×1-convolution GEMM C[M, N] = clamp(A[M, K] · B[K, N] + bias[N]) skipping the multiply-adds of
// zero activations. A pointwise convolution after a ReLU (every MobileNet v1 pointwise layer, v2's projections)
// reads inputs that are 41–48 % (v1's deep layers) to 51–57 % (v2) zero on a real photo (README, "Zero skipping").
// Rows go in pairs: one branch-free pass lists, per pair and block of K (128 long; 64 with AVX-512), the k where
// either row is non-zero; a tile of 2 rows × 3 packed panels (12 accumulators: PackedWeightsAVX2's 16-column panels
// with SIMD8, or PackedWeights' 32-column AVX-512 panels with SIMD16, read in place) runs over the list only. A k
// zero in one row of the pair still costs both; a one-row tile skips more but needs a weight load per FMA (measured
// slower than the pair tile on every MobileNet shape). Same arithmetic as the dense kernel — accumulators from 0,
// ascending k, C stored and reloaded exactly between k blocks, bias and clamp last; a skipped term is 0 · w — so C
// equals the dense packed kernel's bit for bit (up to a zero's sign), as the twin test asserts. Each part checks
// its density first and runs the dense kernel above `densityLimit`. Hand-written: the BLAS and XNNPACK kernels are
// dense; the head's training skips zero features the same way (SparseFirstLayer.swift). The AVX-512 tile is tested
// for results, its speed not yet measured (no AVX-512 machine). Legend: M rows (pixels), K input channels, N output
// channels.

import CVectorMask

/// Zero-skipping twin of the packed Swift GEMMs for inputs with many zeros (ReLU outputs).
public enum ZeroSkipGEMM {
    /// K entries per list block for a tile of `Vector`: the weight rows one block touches stay in L1 — 3 panels ×
    /// 128 rows × 64 B = 24 KiB with AVX2 (128 measured 3–4 % faster than 64 on v1's 14×14×512 GEMMs), 3 × 64 ×
    /// 128 B = 24 KiB with AVX-512.
    static func blockLength<Vector: SIMD>(_: Vector.Type) -> Int { Vector.scalarCount >= 16 ? 64 : 128 }
    /// The shortest block length (sizes the scratch for either tile).
    static let shortestBlock = 64
    /// Shortest reduction worth listing. At K = 128 the one-k-at-a-time list pass cost what the skipped work saved;
    /// listed eight at a time it pays: v1 0.25's 14×14×128 blocks 0.075 → 0.066–0.072 ms, the network 1.027 →
    /// 0.999 ms (Zen 3, p10); v1 1.0 and v2 unchanged. Below 128 (K = 64: 8 k per 64-row block of weights) not tried.
    public static let minimumReduction = 128
    /// Above this fraction of listed (pair, k) entries a part runs the dense kernel instead.
    public static let densityLimit = 0.85
    /// Pairs per pass over the weights: their A rows (128 × K floats: 256 KiB at K = 512) stay in L2 while every
    /// panel group reads them.
    static let pairsPerChunk = 64

    /// Whether `weights` can take this kernel: packed for the Swift kernels (AVX2 16-column or AVX-512 32-column
    /// panels), N a whole number of panels, K ≥ `minimumReduction`.
    public static func accepts(_ weights: GEMMWeights) -> Bool {
        guard weights.k >= minimumReduction else { return false }
        if weights.packedAVX2 != nil { return weights.n % PackedWeightsAVX2.nr == 0 }
        if weights.packed != nil { return weights.n % PackedWeights.nr == 0 }
        return false
    }

    /// Floats of scratch `multiply` needs for `rows` rows of reduction `k`: per pair, the list starts of its
    /// blocks (blocks + 1) and up to k listed indices, stored as Int32 in Float-sized slots.
    public static func scratchCount(rows: Int, k: Int) -> Int {
        (rows + 1) / 2 * pairListCount(k: k, blockLength: shortestBlock)
    }

    /// Int32 slots of one pair's lists: its blocks' starts (blocks + 1), then up to k indices.
    static func pairListCount(k: Int, blockLength: Int) -> Int { (k + blockLength - 1) / blockLength + 1 + k }

    /// Plain definition, for the twin tests: the dense reference (skipping zeros does not change the sum).
    public static func reference(
        rows m: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, k: Int, n: Int,
        bias: UnsafePointer<Float>?, clamp: (low: Float, high: Float), c: UnsafeMutablePointer<Float>
    ) {
        GEMM.reference(rows: m, a: a, b: b, k: k, n: n, bias: bias, clamp: clamp, c: c)
    }

    /// Fast twin: a [M, K] × weights [K, N] → c [M, N] with bias and clamp, skipping zero activations.
    /// `weights` must satisfy `accepts`; `scratch` holds `scratchCount(rows: m, k: K)` floats (overwritten).
    /// With `threads` > 1 the pairs are split into row parts; every part lists its own pairs and chooses the
    /// sparse or the dense kernel by its own density. Allocates nothing.
    /// `densityLimit` is for the tests (1: always the sparse tiles, a negative value: always the dense kernel).
    public static func multiply(
        rows m: Int, a: UnsafePointer<Float>, weights: GEMMWeights, bias: UnsafePointer<Float>?,
        clamp: (low: Float, high: Float), c: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
        threads: Int = 1, densityLimit: Double = ZeroSkipGEMM.densityLimit
    ) {
        precondition(accepts(weights), "ZeroSkipGEMM.multiply needs weights that ZeroSkipGEMM.accepts")
        if m == 0 { return }
        let pairs = (m + 1) / 2
        let k = weights.k
        // Parts of whole pairs (each lists its own and reads all of B), above ThreadSplit's work threshold.
        let parts =
            threads > 1 && m * weights.n * k >= ThreadSplit.minimumMultiplyAccumulates ? min(threads, pairs) : 1
        scratch.withMemoryRebound(to: Int32.self, capacity: scratchCount(rows: m, k: k)) { lists in
            let problem = Problem(
                m: m, a: a, k: k, n: weights.n, bias: bias, clamp: clamp, c: c, lists: lists, densityLimit: densityLimit
            )
            func multiplyPart(_ part: Int) {
                let firstPair = part * pairs / parts
                let endPair = (part + 1) * pairs / parts
                if let packed = weights.packedAVX2 {
                    problem.multiplyPairs(
                        SIMD8<Float>.self, firstPair, endPair, panels: UnsafePointer(packed.storage),
                        panelCount: packed.panelCount
                    ) { rowStart, rowEnd in
                        packedGEMMBlockAVX2(
                            rows: rowStart, rowEnd, panels: 0, packed.panelCount, a: a, lda: k, weights: packed,
                            bias: bias, clampLow: clamp.low, clampHigh: clamp.high, c: c, ldc: weights.n)
                    }
                } else if let packed = weights.packed {
                    problem.multiplyPairs(
                        SIMD16<Float>.self, firstPair, endPair, panels: UnsafePointer(packed.storage),
                        panelCount: packed.panelCount
                    ) { rowStart, rowEnd in
                        packedGEMMBlock(
                            rows: rowStart, rowEnd, panels: 0, packed.panelCount, a: a, lda: k, weights: packed,
                            bias: bias, clampLow: clamp.low, clampHigh: clamp.high, c: c, ldc: weights.n)
                    }
                }
            }
            if parts <= 1 {
                multiplyPart(0)
            } else {
                WorkerPool.shared.run(parts: parts, threads: threads) { multiplyPart($0) }
            }
        }
    }

    /// One call's operands: A [M, K], C [M, N], bias, clamp and the lists (`scratchCount(rows: m, k: k)` Int32).
    struct Problem {
        let m: Int
        let a: UnsafePointer<Float>
        let k: Int
        let n: Int
        let bias: UnsafePointer<Float>?
        let clamp: (low: Float, high: Float)
        let c: UnsafeMutablePointer<Float>
        let lists: UnsafeMutablePointer<Int32>
        let densityLimit: Double

        /// Pairs [firstPair, endPair): lists them, then runs the `Vector`-wide pair tiles over the packed panels
        /// (each 2 · Vector.scalarCount columns, [K][panel width] contiguous), or `dense` on their rows.
        func multiplyPairs<Vector: SIMD>(
            _: Vector.Type, _ firstPair: Int, _ endPair: Int, panels: UnsafePointer<Float>, panelCount: Int,
            dense: (_ rowStart: Int, _ rowEnd: Int) -> Void
        ) where Vector.Scalar == Float {
            guard endPair > firstPair else { return }
            let listed = listNonZero(
                firstPair, endPair, m: m, a: a, k: k, blockLength: blockLength(Vector.self), lists: lists)
            if Double(listed) > densityLimit * Double((endPair - firstPair) * k) {
                dense(2 * firstPair, min(m, 2 * endPair))
                return
            }
            let panelWidth = 2 * Vector.scalarCount
            var chunk = firstPair
            while chunk < endPair {
                let chunkEnd = min(endPair, chunk + pairsPerChunk)
                var panel = 0
                while panel < panelCount {
                    let left = panelCount - panel
                    let width = left == 4 ? 2 : min(3, left)  // 3-panel groups; a 4 left is split 2 + 2
                    let tile = PairTile<Vector>(
                        m: m, a: a, k: k, panels: panels + panel * k * panelWidth,
                        bias: bias.map { $0 + panel * panelWidth }, low: clamp.low, high: clamp.high,
                        c: c + panel * panelWidth, ldc: n, lists: UnsafePointer(lists))
                    switch width {
                    case 3: tile.runThreePanels(chunk, chunkEnd)
                    case 2: tile.runTwoPanels(chunk, chunkEnd)
                    default: tile.runOnePanel(chunk, chunkEnd)
                    }
                    panel += width
                }
                chunk = chunkEnd
            }
        }
    }

    /// Writes pair p's lists at `lists + p · pairListCount`: `blocks + 1` starts (offsets into its indices),
    /// then the k (ascending, per block) where row 2p or row 2p + 1 is non-zero. An odd last row pairs with
    /// itself. Branch-free, eight k at a time: the eight "either non-zero" flags become a byte (CVectorMask's
    /// VMOVMSKPS), `compaction[byte]` holds the positions of its set bits packed to the front, and all eight lanes
    /// are stored at the list's end — the count advances by the byte's population, so lanes past it are
    /// overwritten by the next group (they stay inside the pair's K entries: the count never passes the group's
    /// first k). Zen 3, standalone, v1's real activations, 196×512: one k at a time 0.038 ms, eight with a shifted
    /// lane sum for the byte 0.015, with VMOVMSKPS 0.013; the same lists. Returns entries listed.
    static func listNonZero(
        _ firstPair: Int, _ endPair: Int, m: Int, a: UnsafePointer<Float>, k: Int, blockLength: Int,
        lists: UnsafeMutablePointer<Int32>
    ) -> Int {
        let blocks = (k + blockLength - 1) / blockLength
        let pairStride = pairListCount(k: k, blockLength: blockLength)
        let compaction = Self.compaction
        var listed = 0
        for pair in firstPair..<endPair {
            let row0 = UnsafeRawPointer(a + 2 * pair * k)
            let row1 = 2 * pair + 1 < m ? row0 + k * MemoryLayout<Float>.stride : row0
            let starts = lists + pair * pairStride
            let indices = starts + blocks + 1
            var count = 0
            for block in 0..<blocks {
                starts[block] = Int32(truncatingIfNeeded: count)
                var index = block * blockLength
                let end = min(k, (block + 1) * blockLength)
                while index + 8 <= end {
                    let byte = Int(gp_nonzero_mask8(row0 + index * 4, row1 + index * 4))
                    UnsafeMutableRawPointer(indices + count).storeBytes(
                        of: compaction[byte] &+ Int32(truncatingIfNeeded: index), as: SIMD8<Int32>.self)
                    count &+= byte.nonzeroBitCount
                    index += 8
                }
                while index < end {
                    indices[count] = Int32(truncatingIfNeeded: index)
                    let magnitude =
                        (row0.load(fromByteOffset: index * 4, as: UInt32.self)
                            | row1.load(fromByteOffset: index * 4, as: UInt32.self)) & 0x7FFF_FFFF
                    count &+= Int((magnitude &+ 0x7FFF_FFFF) >> 31)
                    index += 1
                }
            }
            starts[blocks] = Int32(truncatingIfNeeded: count)
            listed += count
        }
        return listed
    }

    /// For each byte, the positions (0…7) of its set bits packed to the front (the rest 0): 256 × 32 B, built once.
    nonisolated(unsafe) static let compaction: UnsafePointer<SIMD8<Int32>> = {
        let table = UnsafeMutableRawPointer.allocate(
            byteCount: 256 * MemoryLayout<SIMD8<Int32>>.stride, alignment: 64
        ).bindMemory(to: SIMD8<Int32>.self, capacity: 256)
        for byte in 0..<256 {
            var positions = SIMD8<Int32>()
            var count = 0
            for bit in 0..<8 where byte & (1 << bit) != 0 {
                positions[count] = Int32(bit)
                count += 1
            }
            table[byte] = positions
        }
        return UnsafePointer(table)
    }()
}

/// One panel group's view for the pair tiles: A, the group's first packed panel, bias, clamp, C and the lists.
/// `Vector` is SIMD8 (AVX2 panels of 16 columns) or SIMD16 (AVX-512 panels of 32); a panel is two vectors wide.
struct PairTile<Vector: SIMD> where Vector.Scalar == Float {
    let m: Int
    /// A [M, K] row-major.
    let a: UnsafePointer<Float>
    let k: Int
    /// The group's first panel [K][2 · lanes]; the next panels follow at k · 2 · lanes floats each.
    let panels: UnsafePointer<Float>
    /// Bias of the group's first column, or nil.
    let bias: UnsafePointer<Float>?
    let low: Float
    let high: Float
    /// C at the group's first column; rows ldc apart.
    let c: UnsafeMutablePointer<Float>
    let ldc: Int
    let lists: UnsafePointer<Int32>

    @inline(never) func runThreePanels(_ firstPair: Int, _ endPair: Int) { run(3, firstPair, endPair) }
    @inline(never) func runTwoPanels(_ firstPair: Int, _ endPair: Int) { run(2, firstPair, endPair) }
    @inline(never) func runOnePanel(_ firstPair: Int, _ endPair: Int) { run(1, firstPair, endPair) }

    /// Pairs [firstPair, endPair) × `width` panels, block by block: C is reloaded between blocks, the bias and
    /// clamp applied after the last one. `width` is a literal at every call, so the unused accumulators fold away.
    @inline(__always)
    func run(_ width: Int, _ firstPair: Int, _ endPair: Int) {
        let blockLength = ZeroSkipGEMM.blockLength(Vector.self)
        let blocks = (k + blockLength - 1) / blockLength
        let lanes = Vector.scalarCount
        let panelStride = k * 2 * lanes
        let pairStride = ZeroSkipGEMM.pairListCount(k: k, blockLength: blockLength)
        for block in 0..<blocks {
            let first = block == 0
            let last = block == blocks - 1
            for pair in firstPair..<endPair {
                let c0 = c + 2 * pair * ldc
                let c1 = 2 * pair + 1 < m ? c0 + ldc : c0  // an odd last row: both rows are that row
                let a0 = a + 2 * pair * k
                let a1 = 2 * pair + 1 < m ? a0 + k : a0
                @inline(__always) func start(_ row: UnsafeMutablePointer<Float>, _ vector: Int) -> Vector {
                    first ? Vector() : UnsafeRawPointer(row + lanes * vector).loadUnaligned(as: Vector.self)
                }
                var x0 = start(c0, 0)
                var x1 = start(c0, 1)
                var y0 = start(c1, 0)
                var y1 = start(c1, 1)
                var x2 = width > 1 ? start(c0, 2) : Vector()
                var x3 = width > 1 ? start(c0, 3) : Vector()
                var y2 = width > 1 ? start(c1, 2) : Vector()
                var y3 = width > 1 ? start(c1, 3) : Vector()
                var x4 = width > 2 ? start(c0, 4) : Vector()
                var x5 = width > 2 ? start(c0, 5) : Vector()
                var y4 = width > 2 ? start(c1, 4) : Vector()
                var y5 = width > 2 ? start(c1, 5) : Vector()
                let starts = lists + pair * pairStride
                let indices = starts + blocks + 1
                var entry = Int(starts[block])
                let end = Int(starts[block + 1])
                while entry < end {
                    let index = Int(indices[entry])
                    let u = Vector(repeating: a0[index])
                    let v = Vector(repeating: a1[index])
                    let row = panels + index &* (2 * lanes)
                    @inline(__always) func weight(_ offset: Int) -> Vector {
                        UnsafeRawPointer(row + offset).load(as: Vector.self)
                    }
                    let w0 = weight(0)
                    let w1 = weight(lanes)
                    x0 = x0.addingProduct(u, w0)
                    x1 = x1.addingProduct(u, w1)
                    y0 = y0.addingProduct(v, w0)
                    y1 = y1.addingProduct(v, w1)
                    if width > 1 {
                        let w2 = weight(panelStride)
                        let w3 = weight(panelStride + lanes)
                        x2 = x2.addingProduct(u, w2)
                        x3 = x3.addingProduct(u, w3)
                        y2 = y2.addingProduct(v, w2)
                        y3 = y3.addingProduct(v, w3)
                    }
                    if width > 2 {
                        let w4 = weight(2 * panelStride)
                        let w5 = weight(2 * panelStride + lanes)
                        x4 = x4.addingProduct(u, w4)
                        x5 = x5.addingProduct(u, w5)
                        y4 = y4.addingProduct(v, w4)
                        y5 = y5.addingProduct(v, w5)
                    }
                    entry &+= 1
                }
                let low = self.low
                let high = self.high
                @inline(__always) func store(_ value: Vector, _ row: UnsafeMutablePointer<Float>, _ vector: Int) {
                    var result = value
                    if last {
                        if let bias { result += UnsafeRawPointer(bias + lanes * vector).loadUnaligned(as: Vector.self) }
                        result = Lanes.clamp(result, low, high)  // max then min, as the dense kernel's epilogue
                    }
                    UnsafeMutableRawPointer(row + lanes * vector).storeBytes(of: result, as: Vector.self)
                }
                // Row 1 first: for an odd last row c1 == c0 and both hold the same sums.
                store(y0, c1, 0)
                store(y1, c1, 1)
                if width > 1 {
                    store(y2, c1, 2)
                    store(y3, c1, 3)
                }
                if width > 2 {
                    store(y4, c1, 4)
                    store(y5, c1, 5)
                }
                store(x0, c0, 0)
                store(x1, c0, 1)
                if width > 1 {
                    store(x2, c0, 2)
                    store(x3, c0, 3)
                }
                if width > 2 {
                    store(x4, c0, 4)
                    store(x5, c0, 5)
                }
            }
        }
    }
}
