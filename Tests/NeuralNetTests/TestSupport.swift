// Helpers shared by the NeuralNet tests: seeded random buffers and tolerance checks that report
// the worst element, as llm.c's test_gpt2 does.
import Testing

@testable import NeuralNet

/// Seeded uniform random scalars.
func randomScalars(_ count: Int, seed: UInt64, in range: ClosedRange<Float> = -1...1) -> [Float] {
    var generator = SplitMix64(seed: seed)
    return (0..<count).map { _ in generator.nextFloat(in: range) }
}

/// Worst |a − b| / (1 + |b|) over two equally long arrays and where it happened.
func worstRelativeError(_ actual: [Float], _ expected: [Float]) -> (error: Float, index: Int) {
    precondition(actual.count == expected.count, "\(actual.count) vs \(expected.count) values")
    var worst: (error: Float, index: Int) = (0, -1)
    for index in 0..<actual.count {
        let error = abs(actual[index] - expected[index]) / (1 + abs(expected[index]))
        if !(error <= worst.error) { worst = (error.isNaN ? .infinity : error, index) }
    }
    return worst
}

/// Expects `actual` ≈ `expected` within `tolerance` (relative to 1 + |expected|), naming the worst element.
func expectClose(
    _ actual: [Float], _ expected: [Float], tolerance: Float, _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(
        actual.count == expected.count, "\(what): \(actual.count) vs \(expected.count) values",
        sourceLocation: sourceLocation)
    guard actual.count == expected.count else { return }
    let worst = worstRelativeError(actual, expected)
    #expect(
        worst.error <= tolerance,
        "\(what): worst error \(worst.error) at \(worst.index): \(worst.index >= 0 ? "\(actual[worst.index]) vs \(expected[worst.index])" : "")",
        sourceLocation: sourceLocation)
}

/// Channel counts that straddle the 4/8/16-lane SIMD widths.
let simdStraddlingChannels = [1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64]
