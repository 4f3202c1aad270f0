// FrameResampling: the SIMD kernels of the frame path (`Preprocessor.run(frame:into:)`), one output row at a time.
// - Vertical pass (`verticalRow`): Σ over the row's taps of weight · byte rows of the crop → one float row (kept in
//   L1), two taps per vectorised loop, channel-agnostic.
// - Horizontal pass (`BandFilter`): each plane's 1-D filter as a band matrix over blocks of 16 outputs. Block b
//   reads `spans[b]` consecutive plane elements from `firsts[b]` and adds element · (16-lane weight vector, zero
//   where an output does not use the element): broadcast FMAs, no gathers, no per-output tap loops. Chroma stored
//   at half width (4:2:x) gets the full-width filter folded onto its elements (the reference upsamples chroma by
//   repetition, so Σ over x of w(x)·U[x/2] = Σ over e of (Σ over x with x/2 = e of w(x))·U[e]); mirroring is
//   folded into the plan too. YUV→RGB, the 0…255 clamp and the normalisation run on the 16-lane sums.
// Twin: `Preprocessor.reference(frame:)` (FramePreprocessing.swift), compared by FramePreprocessingTests.
// Legend: S output side, side = crop side, L lanes per block (16).

/// One plane's horizontal resampling as 16-lane band blocks (outputs in destination order, mirror applied).
/// Planned once per frame size; the kernel reads its tables through pointers (no array access per frame).
final class BandFilter {
    /// Lanes per block.
    static let lanes = 16
    /// Blocks of 16 outputs (the last one may be partial).
    let blocks: Int
    /// [blocks] first plane element read by each block.
    let firsts: UnsafeMutablePointer<Int>
    /// [blocks] plane elements read by each block.
    let spans: UnsafeMutablePointer<Int>
    /// [blocks] index into `weights` of each block's first weight vector.
    let weightStarts: UnsafeMutablePointer<Int>
    /// Per block, `spans[b]` weight vectors: lane l is the weight of element `firsts[b] + j` in output 16·b + l.
    let weights: UnsafeMutablePointer<SIMD16<Float>>
    /// Element e of the plane is at `row[offset + stride · e]` in the vertical pass's row buffer.
    let stride: Int
    let offset: Int

    /// Folds `filter` (full-width taps over `0..<side`) onto plane elements `x >> shift`.
    init(filter: ResampleFilter, mirror: Bool, shift: Int, stride: Int, offset: Int) {
        let outputs = filter.outputSize
        blocks = (outputs + Self.lanes - 1) / Self.lanes
        var firsts = [Int](repeating: 0, count: blocks)
        var spans = firsts
        var weightStarts = firsts
        var weights: [SIMD16<Float>] = []
        func source(_ output: Int) -> Int { mirror ? outputs - 1 - output : output }
        for block in 0..<blocks {
            let lanes = block * Self.lanes..<min(outputs, (block + 1) * Self.lanes)
            let first = lanes.map { filter.starts[source($0)] >> shift }.min()!
            let last = lanes.map { (filter.starts[source($0)] + max(filter.counts[source($0)], 1) - 1) >> shift }.max()!
            firsts[block] = first
            spans[block] = last - first + 1
            weightStarts[block] = weights.count
            weights.append(contentsOf: repeatElement(SIMD16<Float>(), count: last - first + 1))
            for output in lanes {
                let sourceX = source(output)
                for tap in 0..<filter.counts[sourceX] {
                    let element = (filter.starts[sourceX] + tap) >> shift
                    weights[weightStarts[block] + element - first][output - block * Self.lanes] +=
                        filter.weights[sourceX * filter.taps + tap]
                }
            }
        }
        self.firsts = .allocate(capacity: max(blocks, 1))
        self.firsts.initialize(from: firsts, count: blocks)
        self.spans = .allocate(capacity: max(blocks, 1))
        self.spans.initialize(from: spans, count: blocks)
        self.weightStarts = .allocate(capacity: max(blocks, 1))
        self.weightStarts.initialize(from: weightStarts, count: blocks)
        self.weights = .allocate(capacity: max(weights.count, 1))
        self.weights.initialize(from: weights, count: weights.count)
        self.stride = stride
        self.offset = offset
    }

    deinit {
        firsts.deallocate()
        spans.deallocate()
        weightStarts.deallocate()
        weights.deallocate()
    }

    /// The 16 sums of block `block` over two row buffers at once (each weight vector loaded once for both rows):
    /// Σ_j weights[start + j] · row[offset + stride·(first + j)] for `first` and `second`.
    @inline(__always)
    func sums(block: Int, first: UnsafePointer<Float>, second: UnsafePointer<Float>) -> (
        SIMD16<Float>, SIMD16<Float>
    ) {
        let start = offset + stride * firsts[block]
        let (sourceA, sourceB) = (first + start, second + start)
        let vectors = weights + weightStarts[block]
        let span = spans[block]
        let step = self.stride
        var sumA0 = SIMD16<Float>()
        var sumA1 = SIMD16<Float>()
        var sumB0 = SIMD16<Float>()
        var sumB1 = SIMD16<Float>()
        var element = 0
        // Four independent FMA chains (latency 4); the weights (tens of KB, from L2) are read once per row pair.
        while element + 1 < span {
            let (vector0, vector1) = (vectors[element], vectors[element + 1])
            sumA0 = sumA0.addingProduct(vector0, SIMD16(repeating: sourceA[element * step]))
            sumB0 = sumB0.addingProduct(vector0, SIMD16(repeating: sourceB[element * step]))
            sumA1 = sumA1.addingProduct(vector1, SIMD16(repeating: sourceA[(element + 1) * step]))
            sumB1 = sumB1.addingProduct(vector1, SIMD16(repeating: sourceB[(element + 1) * step]))
            element += 2
        }
        if element < span {
            sumA0 = sumA0.addingProduct(vectors[element], SIMD16(repeating: sourceA[element * step]))
            sumB0 = sumB0.addingProduct(vectors[element], SIMD16(repeating: sourceB[element * step]))
        }
        return (sumA0 + sumA1, sumB0 + sumB1)
    }
}

/// The vertical pass of one output row: `destination[i] = Σ_t weights[t] · rows[t][i]` for i in 0..<count.
/// Plain loops over two taps at a time, which LLVM vectorises (zero-extend, convert, FMA; the row stays in L1).
@inline(__always)
func verticalRow(
    rows: UnsafePointer<UnsafePointer<UInt8>>, weights: UnsafePointer<Float>, taps: Int, count: Int,
    into destination: UnsafeMutablePointer<Float>
) {
    guard taps > 0 else {
        destination.update(repeating: 0, count: count)
        return
    }
    var tap: Int
    if taps >= 2 {
        let (first, second) = (rows[0], rows[1])
        let (weight0, weight1) = (weights[0], weights[1])
        for index in 0..<count { destination[index] = weight0 * Float(first[index]) + weight1 * Float(second[index]) }
        tap = 2
    } else {
        let first = rows[0]
        let weight0 = weights[0]
        for index in 0..<count { destination[index] = weight0 * Float(first[index]) }
        tap = 1
    }
    while tap + 1 < taps {
        let (first, second) = (rows[tap], rows[tap + 1])
        let (weight0, weight1) = (weights[tap], weights[tap + 1])
        for index in 0..<count {
            destination[index] += weight0 * Float(first[index]) + weight1 * Float(second[index])
        }
        tap += 2
    }
    if tap < taps {
        let first = rows[tap]
        let weight0 = weights[tap]
        for index in 0..<count { destination[index] += weight0 * Float(first[index]) }
    }
}
