// DenseRowWeights (the head's one-row first layer) against the plain reference `DenseKernel.forwardReference`:
// every plan (panels: float32, float16 × 8, 16 lanes; rows: float32, int16), sizes below, at and above one vector,
// one panel and one 104-unit row group (1, 7, 8, 16, 33, 64, 100, 129 units), inputs with zeros. Tolerances:
// float32 1e-5 relative to 1 + |reference| (sums in another order); float16 the rounding bound of the stored
// weights, 2⁻¹¹ · Σ|x·w| (+ the float32 term), since each half is within 2⁻¹¹ relative of its float (normal range;
// the subnormal floor 2⁻²⁵ absolute is covered by the float32 term at these magnitudes); int16 Σ|x|·scale/2 with
// scale = the row's largest |w| / 32767. Float32 rows equal float32 8-lane panels bit for bit (same order, zero
// terms skipped). Then the bar on the real head shapes: the head's probabilities within 1e-4 of the
// float32 reference for the default (int16 rows) and float32 plans; float16 is held to 3e-4 (measured worst
// 1.3e-4: it misses the 1e-4 bar, which is why it is not the default).
import Foundation
import Testing

@testable import NeuralNet

/// Every plan a `DenseRowWeights` can take: precision, lanes, layout.
let denseRowPlans: [(DenseRowPrecision, Int, DenseRowLayout)] = [
    (.float32, 8, .panels), (.float32, 16, .panels), (.float16, 8, .panels), (.float16, 16, .panels),
    (.float32, 8, .rows), (.int16, 8, .rows),
]

struct DenseRowCase: CustomTestStringConvertible, Sendable {
    var inputs: Int, units: Int
    var testDescription: String { "D=\(inputs) U=\(units)" }
}

@Suite("DenseRow: the head's first-layer kernel vs the plain reference")
struct DenseRowTests {
    static let cases: [DenseRowCase] = [(1, 1), (7, 3), (16, 8), (33, 16), (100, 33), (64, 64), (300, 100), (9, 129)]
        .map { DenseRowCase(inputs: $0.0, units: $0.1) }

    @Test(
        "fast == reference for every plan (bias + relu, and neither); float32 rows == panels bit for bit",
        arguments: cases)
    func matchesTheReference(_ c: DenseRowCase) {
        let x = randomScalars(c.inputs, seed: 11, in: -4...6).map { max($0, 0) }  // ~40 % zeros, as after a ReLU
        let w = randomScalars(c.inputs * c.units, seed: 12)
        let b = randomScalars(c.units, seed: 13)
        for (useBias, relu) in [(true, true), (false, false)] {
            var expected = [Float](repeating: .nan, count: c.units)
            // Σ|x·w| per unit: the scale of the float16 rounding bound.
            let magnitude = (0..<c.units).map { unit in
                (0..<c.inputs).reduce(Float(0)) { $0 + abs(x[$1] * w[$1 * c.units + unit]) }
            }
            b.withUnsafeBufferPointer { bias in
                DenseKernel.forwardReference(
                    x: x, w: w, b: useBias ? bias.baseAddress : nil, y: &expected, rows: 1, inputs: c.inputs,
                    units: c.units, relu: relu)
                // Σ|x|·scale/2 per unit: the int16 rounding bound (scale per input row).
                let int16Bound = (0..<c.inputs).reduce(Float(0)) { sum, input in
                    let largest = (0..<c.units).map { abs(w[input * c.units + $0]) }.max()!
                    return sum + abs(x[input]) * largest / 32767 / 2
                }
                var results: [String: [Float]] = [:]
                for (precision, lanes, layout) in denseRowPlans {
                    let weights = DenseRowWeights(
                        inputs: c.inputs, units: c.units, kernel: w, precision: precision, lanes: lanes, layout: layout)
                    var actual = [Float](repeating: .nan, count: c.units + 1)
                    actual.withUnsafeMutableBufferPointer { output in
                        weights.multiply(
                            x: x, bias: useBias ? bias.baseAddress : nil, relu: relu, y: output.baseAddress!)
                    }
                    let plan = "\(precision) \(lanes) lanes \(layout)"
                    #expect(actual[c.units].isNaN, "wrote past U (\(plan))")
                    for unit in 0..<c.units {
                        let bound =
                            1e-5 * (1 + abs(expected[unit]))
                            + (precision == .float16 ? magnitude[unit] / 2048 : 0)
                            + (precision == .int16 ? int16Bound * 1.01 : 0)
                        #expect(
                            abs(actual[unit] - expected[unit]) <= bound,
                            "\(c.testDescription) \(plan) unit \(unit): \(actual[unit]) vs \(expected[unit]) (bound \(bound))"
                        )
                    }
                    results[plan] = Array(actual[0..<c.units])
                }
                #expect(
                    results["float32 8 lanes rows"] == results["float32 8 lanes panels"], "rows == panels, bit for bit")
            }
        }
    }

    /// Probabilities [K] of one sample: the first layer from `hidden` (fast or reference), the rest plain.
    static func probabilities(head: DenseHead, hidden: [Float]) -> [Float] {
        let (u, k) = (head.architecture.hiddenUnits, head.architecture.classes)
        var logits = [Float](repeating: 0, count: k)
        DenseKernel.forwardReference(
            x: hidden, w: head.outputKernelPointer, b: nil, y: &logits, rows: 1, inputs: u, units: k, relu: false)
        ActivationKernel.reference(.softmax, &logits, rows: 1, channels: k)
        return logits
    }

    @Test(
        "head probabilities with the fast first layer: int16 rows and float32 within 1e-4, float16 within 3e-4 (real shapes)",
        arguments: [[7, 7, 256], [7, 7, 1024]])
    func headProbabilitiesWithin1e4(shape: [Int]) throws {
        // A head trained briefly on separable post-ReLU-like features (4 classes, 100 hidden units), then
        // fresh features with half of them 0 and the rest up to 6 (ReLU6 activations), as a MobileNet cut gives.
        let classes = 4
        let (features, labels) = HeadBenchmark.separableFeatures(classes: classes, perClass: 3, shape: shape, seed: 5)
        let (head, _) = try DenseHead.trained(
            inputShape: shape, classes: classes, features: features, labels: labels,
            options: TrainingOptions(epochs: 3, seed: 2))
        let (d, u) = (head.architecture.inputCount, head.architecture.hiddenUnits)
        var worst: [DenseRowPrecision: Float] = [:]
        for (precision, lanes, layout) in denseRowPlans {
            let bar: Float = precision == .float16 ? 3e-4 : 1e-4
            do {
                let weights = DenseRowWeights(
                    inputs: d, units: u, kernel: head.hiddenKernelPointer, precision: precision, lanes: lanes,
                    layout: layout)
                for sample in 0..<6 {
                    var random = SplitMix64(seed: UInt64(sample) + 40)
                    let x: [Float] = (0..<d).map { _ in
                        random.nextFloat(in: 0...1) < 0.5 ? 0 : random.nextFloat(in: 0...6)
                    }
                    var expectedHidden = [Float](repeating: 0, count: u)
                    DenseKernel.forwardReference(
                        x: x, w: head.hiddenKernelPointer, b: head.hiddenBiasPointer, y: &expectedHidden, rows: 1,
                        inputs: d, units: u, relu: true)
                    var actualHidden = [Float](repeating: 0, count: u)
                    weights.multiply(x: x, bias: head.hiddenBiasPointer, relu: true, y: &actualHidden)
                    let expected = Self.probabilities(head: head, hidden: expectedHidden)
                    let actual = Self.probabilities(head: head, hidden: actualHidden)
                    let difference = zip(actual, expected).map { abs($0 - $1) }.max()!
                    worst[precision] = max(worst[precision] ?? 0, difference)
                    #expect(
                        difference <= bar,
                        "\(shape) \(precision) \(lanes) lanes \(layout) sample \(sample): max |Δp| \(difference), \(actual) vs \(expected)"
                    )
                }
            }
        }
        print(
            "DenseRow \(shape): worst |Δp| float32 \(worst[.float32] ?? .nan), float16 \(worst[.float16] ?? .nan), "
                + "int16 \(worst[.int16] ?? .nan)")
    }
}
