// MobileNetV2 builder: Keras layer names and counts, output shapes, the MAC count Keras/torchvision
// quote (≈ 300.8 M with the classifier at α = 1, 224), channel rounding for the released α,
// torchvision's symmetric stride-2 padding checked by hand, and the planned path against the reference
// path on random weights (residual adds fused with the arena's lifetimes).
import Testing

@testable import NeuralNet

@Suite("MobileNetV2 builder")
struct MobileNetV2Tests {
    static func zeros(_ layer: String, _ weight: String, _ shape: [Int]) -> [Float] {
        [Float](repeating: 0, count: shape.reduce(1, *))
    }

    @Test("Keras names and layer count: 155 layers to out_relu, 158 with the classifier")
    func names() throws {
        let features = MobileNetV2.features(weight: Self.zeros)
        #expect(features.layers.count == 155)
        #expect(features.name == "mobilenet_v2_1.0_224" && features.outputNames == ["out_relu"])
        #expect(
            Array(features.layers.prefix(15).map(\.name)) == [
                "input_1", "Conv1_pad", "Conv1", "bn_Conv1", "Conv1_relu",
                "expanded_conv_depthwise", "expanded_conv_depthwise_BN", "expanded_conv_depthwise_relu",
                "expanded_conv_project", "expanded_conv_project_BN",
                "block_1_expand", "block_1_expand_BN", "block_1_expand_relu", "block_1_pad", "block_1_depthwise",
            ])
        #expect(
            Array(features.layers.suffix(6).map(\.name)) == [
                "block_16_depthwise_relu", "block_16_project", "block_16_project_BN", "Conv_1", "Conv_1_bn", "out_relu",
            ])
        #expect(
            features.layers.filter { $0.kind.className == "ZeroPadding2D" }.map(\.name)
                == ["Conv1_pad", "block_1_pad", "block_3_pad", "block_6_pad", "block_13_pad"])
        #expect(
            features.layers.filter { $0.kind == .add }.map(\.name)
                == [2, 4, 5, 7, 8, 9, 11, 12, 14, 15].map { "block_\($0)_add" })
        #expect(features.layer(named: "block_15_add")!.inbound == ["block_14_add", "block_15_project_BN"])
        #expect(features.layer(named: "block_16_expand")!.inbound == ["block_15_add"])

        let classifier = MobileNetV2.classifier(weight: Self.zeros)
        #expect(classifier.layers.count == 158)
        #expect(
            Array(classifier.layers.suffix(3).map(\.name))
                == ["global_average_pooling2d", "dropout", "predictions"])
        #expect(classifier.layer(named: "dropout")!.kind == .dropout(rate: 0.2))
        #expect(
            classifier.layer(named: "predictions")!.kind
                == .dense(units: 1000, useBias: true, activation: .softmax))
        #expect(classifier.outputNames == ["predictions"])
        // torchvision semantics: symmetric padding, BN epsilon 1e-5, ReLU6.
        #expect(
            classifier.layer(named: "block_13_pad")!.kind
                == .zeroPadding2D(Padding2D(top: 1, bottom: 1, left: 1, right: 1)))
        #expect(
            classifier.layer(named: "block_12_depthwise")!.kind
                == .depthwiseConv2D(DepthwiseConv2DConfig(strides: (1, 1), padding: .same, useBias: false)))
        #expect(
            classifier.layer(named: "bn_Conv1")!.kind
                == .batchNormalization(epsilon: 1e-5, center: true, scale: true))
        #expect(classifier.layer(named: "out_relu")!.kind == .relu(maxValue: 6))
    }

    @Test("output shapes at 224 and the MAC count (300,774,272 with classifier ≈ Keras' 300.8 M)")
    func shapesAndMultiplyAccumulates() throws {
        let model = MobileNetV2.classifier(weight: Self.zeros)
        let shapes = try model.inferShapes()
        let expected: [String: [Int]] = [
            "Conv1_pad": [226, 226, 3], "Conv1": [112, 112, 32], "expanded_conv_project_BN": [112, 112, 16],
            "block_1_expand_relu": [112, 112, 96], "block_1_pad": [114, 114, 96], "block_1_depthwise": [56, 56, 96],
            "block_2_add": [56, 56, 24], "block_5_add": [28, 28, 32], "block_9_add": [14, 14, 64],
            "block_12_add": [14, 14, 96], "block_15_add": [7, 7, 160], "block_16_project_BN": [7, 7, 320],
            "out_relu": [7, 7, 1280], "global_average_pooling2d": [1280], "predictions": [1000],
        ]
        for (layer, shape) in expected { #expect(shapes[layer]!.outputShape == shape, "\(layer)") }
        let total = model.layers.reduce(0) { $0 + shapes[$1.name]!.multiplyAccumulates }
        #expect(total == 300_774_272)
        #expect(total - shapes["predictions"]!.multiplyAccumulates == 299_494_272)
        #expect(model.parameterCount - 2 * 17_056 == 3_504_872, "torchvision's parameter count plus BN statistics")
    }

    @Test("channel rounding matches Keras for the released widths")
    func widths() {
        for (alpha, stem, last) in [
            (0.35, 16, 1280), (0.5, 16, 1280), (0.75, 24, 1280), (1.0, 32, 1280),
            (1.3, 40, 1664), (1.4, 48, 1792),
        ] {
            #expect(MobileNetV2.stemFilters(alpha: alpha) == stem, "α \(alpha)")
            #expect(MobileNetV2.lastFilters(alpha: alpha) == last, "α \(alpha)")
        }
        let model = MobileNetV2.features(alpha: 0.35, weight: Self.zeros)
        let projections = (0...16).map { index in
            let layer = model.layer(named: MobileNetV2.blockPrefix(index) + "project")!
            guard case .conv2D(let config) = layer.kind else { return 0 }
            return config.filters
        }
        // Keras mobilenet_v2_0.35_224: int(filters·α) rounded by _make_divisible.
        #expect(projections == [8, 8, 8, 16, 16, 16, 24, 24, 24, 24, 32, 32, 32, 56, 56, 56, 112])
    }

    @Test("stride-2 convs pad one pixel on every side (torchvision), not bottom/right only (TF same)")
    func symmetricPadding() throws {
        // All-ones 3×3 kernels on Conv1, identity BN: output (0,0) sums rows/cols −1…1 of the input, i.e. 2×2
        // real pixels; output (1,1) sums rows/cols 1…3.
        let model = MobileNetV2.features(alpha: 0.35, inputSize: 8) { layer, weightName, shape in
            let value: Float =
                switch weightName {
                case "gamma", "moving_variance": 1
                case "kernel" where layer == "Conv1": 1
                default: 0
                }
            return [Float](repeating: value, count: shape.reduce(1, *))
        }
        var input = Tensor(shape: [8, 8, 3])
        for index in 0..<input.count { input.scalars[index] = Float(index % 7) * 0.01 }
        let output = try model.referenceForward(input, outputs: ["Conv1"])["Conv1"]!
        #expect(output.shape == [4, 4, 16])
        func window(_ rows: ClosedRange<Int>, _ columns: ClosedRange<Int>) -> Float {
            var sum: Float = 0
            for row in rows where row >= 0 && row < 8 {
                for column in columns where column >= 0 && column < 8 {
                    for channel in 0..<3 { sum += input.scalars[(row * 8 + column) * 3 + channel] }
                }
            }
            return sum
        }
        #expect(abs(output.scalars[0] - window(-1...1, -1...1)) < 1e-5)
        #expect(abs(output.scalars[(1 * 4 + 1) * 16] - window(1...3, 1...3)) < 1e-5)
        #expect(abs(output.scalars[(3 * 4 + 3) * 16] - window(5...7, 5...7)) < 1e-5)
    }

    /// Planned-vs-reference tolerance (relative to 1 + |reference|). With random weights the float32
    /// reordering error (sgemm sums, folded BN) grows about 1.3× per block: ~2e-6 after the stem, 1e-5 at
    /// block 5, 1e-4 at block 12, 3e-4 at block 16/out_relu (activations up to ~12; measured at α = 1, 64²).
    static func tolerance(_ layer: String) -> Float {
        ["block_2_add", "block_2_project_BN", "Conv1_relu"].contains(layer) ? 2e-5 : 6e-4
    }

    @Test("planned path matches the reference path on random weights", arguments: [(0.35, 96), (1.0, 64)])
    func embedderMatchesReference(alpha: Double, size: Int) throws {
        let model = MobileNetV2.classifier(alpha: alpha, inputSize: size, weight: MobileNetV1.randomWeights(seed: 31))
        let input = Tensor(shape: [size, size, 3], uniformIn: -2...2, seed: 32)
        for layer in ["block_2_add", "block_16_project_BN", "out_relu", "predictions"] {
            let embedder = try Embedder(model: model, outputLayer: layer)
            let expected = try model.referenceForward(input, outputs: [layer])[layer]!
            let actual = try embedder.embed(input)
            #expect(actual.shape == expected.shape, "\(layer)")
            expectClose(actual.scalars, expected.scalars, tolerance: Self.tolerance(layer), "α \(alpha) at \(layer)")
            #expect(expected.scalars.contains { $0 != 0 }, "\(layer) not degenerate")
        }
        // Unfused, every Add fused with nothing after it (project_BN is linear) but folded BN before: 10 add
        // steps; fused (the default), each Add is part of its block's banded step.
        let embedder = try Embedder(model: model, outputLayer: "out_relu", blockFusion: .off)
        #expect(embedder.steps.filter { $0.kind == "add" }.count == 10)
        let fused = try Embedder(model: model, outputLayer: "out_relu")
        #expect(fused.steps.filter { $0.kind.contains("+add") }.count == 10)
    }
}
