// The planned fast path (BN folded, activations and padding fused, one arena) against the
// reference path (layer by layer, nothing fused) on full MobileNet v1 topologies with seeded
// random weights and BN statistics. Tolerance: 1e-4 relative to 1 + |reference| — float32 sums
// of up to 9·1024 products reordered by sgemm and folding, through 27 layers.
import CHeapStats
import Foundation
import Testing

@testable import NeuralNet

@Suite("Embedder: planned path vs reference path")
struct EmbedderTests {
    @Test(
        "MobileNet v1 α=0.25 at 224 matches the reference path at conv_pw_13_relu",
        arguments: [MobileNetV1.PaddingStyle.explicitZeroPadding, .samePadding], GEMMBackend.allCases)
    func mobileNetV1Quarter(style: MobileNetV1.PaddingStyle, backend: GEMMBackend) throws {
        let model = MobileNetV1.features(alpha: 0.25, style: style, weight: MobileNetV1.randomWeights(seed: 42))
        let embedder = try Embedder(model: model, gemmBackend: backend)
        #expect(embedder.outputLayer == "conv_pw_13_relu")
        #expect(embedder.outputShape == [7, 7, 256])
        // 27 convolutions, with BN, ReLU6 and padding all fused away, and the 13 depthwise → pointwise pairs
        // run as banded blocks: the stem plus 13 steps.
        #expect(embedder.steps.count == 14)
        #expect(try Embedder(model: model, gemmBackend: backend, blockFusion: .off).steps.count == 27)
        let input = Tensor(shape: [1, 224, 224, 3], uniformIn: -1...1, seed: 7)
        let expected = try model.referenceForward(input)["conv_pw_13_relu"]!
        let actual = try embedder.embed(input)
        #expect(actual.shape == [7, 7, 256])
        expectClose(actual.scalars, expected.scalars, tolerance: 1e-4, "v1 0.25 \(style) \(backend)")
        #expect(
            expected.scalars.contains { $0 > 0 } && expected.scalars.contains { $0 == 0 }, "activations not degenerate")
    }

    @Test("cutting at an inner layer keeps BN unfused where the cut falls between conv and BN")
    func cutBetweenConvAndBatchNorm() throws {
        let model = MobileNetV1.features(alpha: 0.25, inputSize: 64, weight: MobileNetV1.randomWeights(seed: 3))
        let input = Tensor(shape: [64, 64, 3], uniformIn: -1...1, seed: 8)
        for layer in ["conv1", "conv1_bn", "conv_dw_2", "conv_dw_2_bn", "conv_pad_4", "conv_pw_5_relu"] {
            let embedder = try Embedder(model: model, outputLayer: layer)
            let expected = try model.referenceForward(input, outputs: [layer])[layer]!
            let actual = try embedder.embed(input)
            #expect(actual.shape == expected.shape, "\(layer)")
            expectClose(actual.scalars, expected.scalars, tolerance: 1e-4, layer)
        }
    }

    @Test("two threads give the same result as one")
    func threads() throws {
        let model = MobileNetV1.features(alpha: 0.5, inputSize: 96, weight: MobileNetV1.randomWeights(seed: 5))
        let input = Tensor(shape: [96, 96, 3], uniformIn: -1...1, seed: 9)
        let single = try Embedder(model: model, threads: 1).embed(input)
        let double = try Embedder(model: model, threads: 2).embed(input)
        expectClose(double.scalars, single.scalars, tolerance: 1e-5, "threads")
        GEMM.setThreadCount(1)
    }

    @Test("the arena reuses memory: far smaller than the sum of all activations")
    func arenaReuse() throws {
        let model = MobileNetV1.features(
            alpha: 1.0, weight: { _, _, shape in [Float](repeating: 0.01, count: shape.reduce(1, *)) })
        let embedder = try Embedder(model: model)
        let sumOfOutputs = embedder.steps.reduce(0) { $0 + $1.outputShape.reduce(1, *) }
        #expect(embedder.arenaCount < sumOfOutputs / 2, "arena \(embedder.arenaCount) vs \(sumOfOutputs) floats")
        // The paper's 569 M mult-adds include the 1024×1000 classifier: 568,740,352 − 1,024,000.
        #expect(embedder.multiplyAccumulates == 567_716_352, "MACs of v1 1.0 features")
    }

    /// glibc's counters are process-wide, so other tests allocating at the same time disturb them:
    /// `make test` runs this test alone in its own process (GESTUREPAD_ISOLATED_TESTS=1).
    @Test(
        "embed allocates nothing per call at 1 and 2 threads (glibc heap counters)",
        .enabled(
            if: ProcessInfo.processInfo.environment["GESTUREPAD_ISOLATED_TESTS"] == "1",
            "needs a process of its own: make test runs it with --filter noAllocationPerCall"),
        arguments: [1, 2])
    func noAllocationPerCall(threads: Int) throws {
        let model = MobileNetV1.features(alpha: 0.25, inputSize: 96, weight: MobileNetV1.randomWeights(seed: 6))
        let embedder = try Embedder(model: model, threads: threads)
        if threads > 1 { #expect(embedder.steps.contains { $0.threads == threads }, "no step splits") }
        let input = [Float](repeating: 0.5, count: embedder.inputCount)
        var output = [Float](repeating: 0, count: embedder.outputCount)
        // Other tests run concurrently and allocate; retry a few times and require one clean window.
        var deltas: [Int] = []
        for _ in 0..<10 {
            input.withUnsafeBufferPointer { source in
                output.withUnsafeMutableBufferPointer { destination in
                    embedder.embed(source.baseAddress!, into: destination.baseAddress!)  // warm
                    let before = gp_heap_bytes_in_use()
                    for _ in 0..<20 { embedder.embed(source.baseAddress!, into: destination.baseAddress!) }
                    let after = gp_heap_bytes_in_use()
                    deltas.append(Int(after) - Int(before))
                }
            }
            if deltas.last == 0 { break }
        }
        #expect(deltas.contains(0), "heap grew by \(deltas) bytes over 20 calls")
    }

    @Test("a Dense head after global pooling runs fused (relu) and unfused (softmax)")
    func denseHead() throws {
        var model = MobileNetV1.features(alpha: 0.25, inputSize: 32, weight: MobileNetV1.randomWeights(seed: 11))
        let random = MobileNetV1.randomWeights(seed: 12)
        func append(_ name: String, _ kind: LayerKind, _ weights: [String: [Int]] = [:]) {
            var tensors: [String: Tensor] = [:]
            for (key, shape) in weights { tensors[key] = Tensor(shape: shape, scalars: random(name, key, shape)) }
            model.layers.append(Layer(name: name, kind: kind, inbound: [model.layers.last!.name], weights: tensors))
        }
        append("pool", .globalAveragePooling2D)
        append("dropout", .dropout(rate: 0.5))
        append("hidden", .dense(units: 10, useBias: true, activation: .linear), ["kernel": [256, 10], "bias": [10]])
        append("hidden_relu", .activation(.relu))
        append("probabilities", .dense(units: 4, useBias: false, activation: .softmax), ["kernel": [10, 4]])
        model.outputNames = ["probabilities"]
        let input = Tensor(shape: [32, 32, 3], uniformIn: -1...1, seed: 13)
        let embedder = try Embedder(model: model, outputLayer: "probabilities")
        let expected = try model.referenceForward(input)["probabilities"]!
        let actual = try embedder.embed(input)
        expectClose(actual.scalars, expected.scalars, tolerance: 1e-5, "head")
        #expect(abs(actual.scalars.reduce(0, +) - 1) < 1e-5)
    }

    @Test("errors: unknown cut layer, wrong input size")
    func errors() throws {
        let model = MobileNetV1.features(alpha: 0.25, inputSize: 32, weight: MobileNetV1.randomWeights(seed: 1))
        #expect {
            try Embedder(model: model, outputLayer: "conv_pw_14_relu")
        } throws: { error in
            guard case NeuralNetError.layerNotFound(let layer, _) = error else { return false }
            return layer == "conv_pw_14_relu" && "\(error)".contains("model inspect")
        }
        let embedder = try Embedder(model: model)
        #expect(throws: NeuralNetError.self) { try embedder.embed(Tensor(shape: [31, 32, 3])) }
        let open = MobileNetV1.features(alpha: 0.25, inputSize: nil, weight: MobileNetV1.randomWeights(seed: 1))
        #expect(throws: NeuralNetError.inputShapeUnknown(layer: "input_1")) { try Embedder(model: open) }
        #expect(try Embedder(model: open, inputShape: [64, 64, 3]).outputShape == [2, 2, 256])
    }
}
