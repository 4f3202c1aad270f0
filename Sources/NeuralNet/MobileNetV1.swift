// MobileNetV1: the Keras `applications.MobileNet` topology (Howard et al. 2017) as a `Model`, with
// Keras layer names (conv1, conv1_bn, conv1_relu, conv_dw_1 … conv_pw_13_relu). Two padding styles:
// Keras ≥ 2.2 (ZeroPadding2D + `valid` before every stride-2 conv, as the TF-slim `SAME` semantics)
// and Keras 2.1 (`same` padding on the conv itself; what the TF.js demo's model.json uses).
// Weights come from a closure so importers can fill real ones and tests seeded random ones.

/// Builds MobileNet v1 topologies with Keras names.
public enum MobileNetV1 {
    /// How stride-2 convolutions pad.
    public enum PaddingStyle: Sendable {
        /// ZeroPadding2D(((0,1),(0,1))) + `valid` (Keras ≥ 2.2; layers conv1_pad, conv_pad_N).
        case explicitZeroPadding
        /// `same` on the convolution (Keras 2.1).
        case samePadding
    }

    /// (pointwise filters at α = 1, depthwise stride) for blocks 1…13.
    public static let blocks: [(filters: Int, stride: Int)] = [
        (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
        (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
    ]

    /// MobileNet v1 up to `conv_pw_13_relu` with width multiplier `alpha`.
    /// - Parameter weight: (layer name, weight name, shape) → scalars.
    public static func features(
        alpha: Double, inputSize: Int? = 224, style: PaddingStyle = .explicitZeroPadding,
        epsilon: Float = 0.001, weight: (String, String, [Int]) -> [Float]
    ) -> Model {
        var layers: [Layer] = [Layer(name: "input_1", kind: .input(shape: [inputSize, inputSize, 3]), inbound: [])]
        func add(_ name: String, _ kind: LayerKind, shapes: [String: [Int]] = [:]) {
            var weights: [String: Tensor] = [:]
            for (weightName, shape) in shapes {
                weights[weightName] = Tensor(shape: shape, scalars: weight(name, weightName, shape))
            }
            layers.append(Layer(name: name, kind: kind, inbound: [layers.last!.name], weights: weights))
        }
        func batchNorm(_ name: String, _ channels: Int) {
            add(
                name, .batchNormalization(epsilon: epsilon, center: true, scale: true),
                shapes: [
                    "gamma": [channels], "beta": [channels], "moving_mean": [channels], "moving_variance": [channels],
                ])
        }
        let stemFilters = Int(32 * alpha)
        let stemPadding: Padding
        switch style {
        case .explicitZeroPadding:
            add("conv1_pad", .zeroPadding2D(Padding2D(top: 0, bottom: 1, left: 0, right: 1)))
            stemPadding = .valid
        case .samePadding:
            stemPadding = .same
        }
        add(
            "conv1",
            .conv2D(
                Conv2DConfig(
                    filters: stemFilters, kernelSize: (3, 3), strides: (2, 2), padding: stemPadding,
                    useBias: false)), shapes: ["kernel": [3, 3, 3, stemFilters]])
        batchNorm("conv1_bn", stemFilters)
        add("conv1_relu", .relu(maxValue: 6))
        var channels = stemFilters
        for (index, block) in blocks.enumerated() {
            let id = index + 1
            var padding: Padding = .same
            if block.stride == 2, style == .explicitZeroPadding {
                add("conv_pad_\(id)", .zeroPadding2D(Padding2D(top: 0, bottom: 1, left: 0, right: 1)))
                padding = .valid
            }
            add(
                "conv_dw_\(id)",
                .depthwiseConv2D(
                    DepthwiseConv2DConfig(
                        kernelSize: (3, 3), strides: (block.stride, block.stride), padding: padding, useBias: false)),
                shapes: ["depthwise_kernel": [3, 3, channels, 1]])
            batchNorm("conv_dw_\(id)_bn", channels)
            add("conv_dw_\(id)_relu", .relu(maxValue: 6))
            let filters = Int(Double(block.filters) * alpha)
            add(
                "conv_pw_\(id)",
                .conv2D(Conv2DConfig(filters: filters, kernelSize: (1, 1), padding: .same, useBias: false)),
                shapes: ["kernel": [1, 1, channels, filters]])
            batchNorm("conv_pw_\(id)_bn", filters)
            add("conv_pw_\(id)_relu", .relu(maxValue: 6))
            channels = filters
        }
        return Model(
            name: "mobilenet_\(alpha)_\(inputSize.map(String.init) ?? "any")", layers: layers,
            inputNames: ["input_1"], outputNames: [layers.last!.name])
    }

    /// Seeded random weights with realistic scales (He-style kernels, BN statistics away from identity),
    /// for tests and benchmarks. Deterministic per (seed, layer, weight).
    public static func randomWeights(seed: UInt64) -> (String, String, [Int]) -> [Float] {
        return { layer, weightName, shape in
            var generator = SplitMix64(seed: seed ^ stableHash(layer + "/" + weightName))
            let count = shape.reduce(1, *)
            let fanIn = Float(
                shape.count == 4 ? shape[0] * shape[1] * (shape[3] == 1 ? 1 : shape[2]) : max(shape.first ?? 1, 1))
            let range: ClosedRange<Float>
            switch weightName {
            case "gamma": range = 0.5...1.5
            case "beta", "bias": range = -0.2...0.2
            case "moving_mean": range = -0.2...0.2
            case "moving_variance": range = 0.5...1.5
            default:
                let limit = (6 / fanIn).squareRoot()
                range = -limit...limit
            }
            return (0..<count).map { _ in generator.nextFloat(in: range) }
        }
    }

    /// FNV-1a of a string: a stable per-name seed component (Swift's `hashValue` is randomised per process).
    static func stableHash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return hash
    }
}
