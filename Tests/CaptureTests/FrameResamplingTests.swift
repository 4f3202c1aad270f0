// The frame path's SIMD kernels against their plain definitions, on seeded random rows: the band filter (a
// plane's horizontal taps folded into 16-lane blocks, chroma at x/2, mirror) against the resample filter applied tap
// by tap, and the vertical row pass against Σ weight · byte. Sizes below, at and above the 16-lane block and the
// camera ones (480 → 224 for 640×480, 240 → 224, 1280×720's 720 → 224). Tolerance: float sums in another order,
// 1e-3 on values up to 255 (relative ~4e-6).
import NeuralNet
import Testing

@testable import Capture

@Suite("Capture: frame resampling kernels")
struct FrameResamplingTests {
    @Test(
        "band filter equals the tap-by-tap filter",
        arguments: [(7, 4), (20, 16), (50, 17), (240, 224), (480, 224), (720, 224), (224, 224), (100, 300)],
        [0, 1])
    func bandEqualsTaps(_ sizes: (Int, Int), shift: Int) {
        var random = SplitMix64(seed: UInt64(sizes.0 * 1000 + sizes.1 * 10 + shift))
        let filter = ResampleFilter(inputSize: sizes.0, outputSize: sizes.1)
        let stride = 1 + shift * 3
        let offset = shift
        let elements = (sizes.0 + shift) >> shift
        var row = [Float](repeating: .nan, count: offset + stride * elements + 16)
        for element in 0..<elements { row[offset + stride * element] = Float.random(in: 0...255, using: &random) }
        for mirror in [false, true] {
            let band = BandFilter(filter: filter, mirror: mirror, shift: shift, stride: stride, offset: offset)
            var worst: Float = 0
            row.withUnsafeBufferPointer { buffer in
                for block in 0..<band.blocks {
                    let (sums, again) = band.sums(block: block, first: buffer.baseAddress!, second: buffer.baseAddress!)
                    #expect(sums == again)
                    for lane in 0..<16 where block * 16 + lane < sizes.1 {
                        let output = block * 16 + lane
                        let source = mirror ? sizes.1 - 1 - output : output
                        var expected: Float = 0
                        for tap in 0..<filter.counts[source] {
                            let element = (filter.starts[source] + tap) >> shift
                            expected += filter.weights[source * filter.taps + tap] * buffer[offset + stride * element]
                        }
                        worst = max(worst, abs(sums[lane] - expected))
                    }
                }
            }
            #expect(worst <= 1e-3, "\(sizes) shift \(shift) mirror \(mirror): worst |Δ| \(worst)")
        }
    }

    @Test("vertical row pass equals Σ weight · byte", arguments: [1, 5, 15, 16, 17, 33, 962], [1, 3, 7])
    func verticalEqualsSum(count: Int, taps: Int) {
        var random = SplitMix64(seed: UInt64(count * 10 + taps))
        let rows = (0..<taps).map { _ in (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) } }
        let weights = (0..<taps).map { _ in Float.random(in: 0...1, using: &random) }
        var output = [Float](repeating: .nan, count: count)
        let pointers = rows.map { row -> UnsafeMutablePointer<UInt8> in
            let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: count)
            pointer.initialize(from: row, count: count)
            return pointer
        }
        defer { pointers.forEach { $0.deallocate() } }
        let rowPointers = pointers.map { UnsafePointer($0) }
        rowPointers.withUnsafeBufferPointer { rowsBuffer in
            output.withUnsafeMutableBufferPointer {
                verticalRow(
                    rows: rowsBuffer.baseAddress!, weights: weights, taps: taps, count: count, into: $0.baseAddress!)
            }
        }
        let worst = (0..<count).map { index in
            abs(output[index] - (0..<taps).reduce(Float(0)) { $0 + weights[$1] * Float(rows[$1][index]) })
        }.max()!
        #expect(worst <= 1e-3, "count \(count) taps \(taps): worst |Δ| \(worst)")
    }
}
