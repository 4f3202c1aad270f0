// MobileNetV2: the Keras `applications.MobileNetV2` topology (Sandler et al. 2018) as a `Model`, with
// Keras layer names (Conv1, bn_Conv1, Conv1_relu, expanded_conv_*, block_N_{expand,depthwise,project}…,
// block_N_add, Conv_1, Conv_1_bn, out_relu) but torchvision's semantics, so torchvision weights run
// unchanged: symmetric padding 1 before every stride-2 3×3 conv (ZeroPadding2D(((1,1),(1,1))) + `valid`,
// layers Conv1_pad / block_N_pad), BatchNorm epsilon 1e-5, ReLU6, channel rounding by torchvision's
// `_make_divisible` (equal to Keras' for the released α). Residual Add where stride 1 and in == out channels.
// References: keras/src/applications/mobilenet_v2.py, torchvision/models/mobilenetv2.py.

/// Builds MobileNet v2 topologies with Keras names and torchvision semantics.
public enum MobileNetV2 {
    /// (expansion factor, output channels at α = 1, depthwise stride) of Keras blocks 0…16
    /// (torchvision `features.1` … `features.17`).
    public static let blocks: [(expansion: Int, filters: Int, stride: Int)] = [
        (1, 16, 1),
        (6, 24, 2), (6, 24, 1),
        (6, 32, 2), (6, 32, 1), (6, 32, 1),
        (6, 64, 2), (6, 64, 1), (6, 64, 1), (6, 64, 1),
        (6, 96, 1), (6, 96, 1), (6, 96, 1),
        (6, 160, 2), (6, 160, 1), (6, 160, 1),
        (6, 320, 1),
    ]

    /// torchvision/Keras `_make_divisible`: `value` rounded to the nearest multiple of `divisor`, at least
    /// `divisor`, and never more than 10 % below `value`.
    public static func makeDivisible(_ value: Double, divisor: Int = 8) -> Int {
        var rounded = max(divisor, Int(value + Double(divisor) / 2) / divisor * divisor)
        if Double(rounded) < 0.9 * value { rounded += divisor }
        return rounded
    }

    /// Channels of the stem conv (Conv1) for width multiplier `alpha`.
    public static func stemFilters(alpha: Double) -> Int { makeDivisible(32 * alpha) }

    /// Channels of the last 1×1 conv (Conv_1): 1280, widened only when `alpha` > 1.
    public static func lastFilters(alpha: Double) -> Int { makeDivisible(1280 * max(1, alpha)) }

    /// Keras name prefix of block `index` (0 → "expanded_conv_", else "block_N_").
    public static func blockPrefix(_ index: Int) -> String { index == 0 ? "expanded_conv_" : "block_\(index)_" }

    /// MobileNet v2 up to `out_relu` ([7, 7, 1280] at 224 for α ≤ 1) with width multiplier `alpha`.
    /// - Parameter weight: (layer name, weight name, Keras shape) → scalars.
    public static func features(
        alpha: Double = 1.0, inputSize: Int? = 224, epsilon: Float = 1e-5,
        weight: (String, String, [Int]) -> [Float]
    ) -> Model {
        var layers: [Layer] = [Layer(name: "input_1", kind: .input(shape: [inputSize, inputSize, 3]), inbound: [])]
        func add(_ name: String, _ kind: LayerKind, inbound: [String]? = nil, shapes: [String: [Int]] = [:]) {
            var weights: [String: Tensor] = [:]
            for weightName in kind.weightNames {  // Keras order, so callers see a deterministic sequence
                guard let shape = shapes[weightName] else { continue }
                weights[weightName] = Tensor(shape: shape, scalars: weight(name, weightName, shape))
            }
            layers.append(Layer(name: name, kind: kind, inbound: inbound ?? [layers.last!.name], weights: weights))
        }
        func batchNorm(_ name: String, _ channels: Int) {
            add(
                name, .batchNormalization(epsilon: epsilon, center: true, scale: true),
                shapes: [
                    "gamma": [channels], "beta": [channels], "moving_mean": [channels], "moving_variance": [channels],
                ])
        }
        func pointwise(_ name: String, _ inputChannels: Int, _ filters: Int) {
            add(
                name, .conv2D(Conv2DConfig(filters: filters, kernelSize: (1, 1), padding: .same, useBias: false)),
                shapes: ["kernel": [1, 1, inputChannels, filters]])
        }
        let symmetricPadding = Padding2D(top: 1, bottom: 1, left: 1, right: 1)

        // Stem: torchvision features.0 = Conv(3→32, 3×3/2, pad 1) + BN + ReLU6.
        let stemFilters = Self.stemFilters(alpha: alpha)
        add("Conv1_pad", .zeroPadding2D(symmetricPadding))
        add(
            "Conv1",
            .conv2D(
                Conv2DConfig(
                    filters: stemFilters, kernelSize: (3, 3), strides: (2, 2), padding: .valid,
                    useBias: false)), shapes: ["kernel": [3, 3, 3, stemFilters]])
        batchNorm("bn_Conv1", stemFilters)
        add("Conv1_relu", .relu(maxValue: 6))

        // Inverted residual blocks: [expand 1×1 + BN + ReLU6] → depthwise 3×3 + BN + ReLU6 → project 1×1 + BN [→ Add].
        var channels = stemFilters
        for (index, block) in blocks.enumerated() {
            let prefix = blockPrefix(index)
            let blockInput = layers.last!.name
            let filters = makeDivisible(Double(block.filters) * alpha)
            let expanded = channels * block.expansion
            if block.expansion != 1 {
                pointwise(prefix + "expand", channels, expanded)
                batchNorm(prefix + "expand_BN", expanded)
                add(prefix + "expand_relu", .relu(maxValue: 6))
            }
            var padding: Padding = .same  // stride 1: `same` is symmetric padding 1 for a 3×3 kernel
            if block.stride == 2 {
                add(prefix + "pad", .zeroPadding2D(symmetricPadding))
                padding = .valid
            }
            add(
                prefix + "depthwise",
                .depthwiseConv2D(
                    DepthwiseConv2DConfig(
                        kernelSize: (3, 3), strides: (block.stride, block.stride), padding: padding, useBias: false)),
                shapes: ["depthwise_kernel": [3, 3, expanded, 1]])
            batchNorm(prefix + "depthwise_BN", expanded)
            add(prefix + "depthwise_relu", .relu(maxValue: 6))
            pointwise(prefix + "project", expanded, filters)
            batchNorm(prefix + "project_BN", filters)
            if block.stride == 1, channels == filters {
                add(prefix + "add", .add, inbound: [blockInput, prefix + "project_BN"])
            }
            channels = filters
        }

        // Head: torchvision features.18 = Conv(320→1280, 1×1) + BN + ReLU6.
        let lastFilters = Self.lastFilters(alpha: alpha)
        pointwise("Conv_1", channels, lastFilters)
        batchNorm("Conv_1_bn", lastFilters)
        add("out_relu", .relu(maxValue: 6))
        return Model(
            name: "mobilenet_v2_\(alpha)_\(inputSize.map(String.init) ?? "any")", layers: layers,
            inputNames: ["input_1"], outputNames: ["out_relu"])
    }

    /// `features` plus torchvision's classifier: GlobalAveragePooling2D "global_average_pooling2d" →
    /// Dropout "dropout" (identity at inference) → Dense(`classes`, softmax) "predictions".
    public static func classifier(
        alpha: Double = 1.0, inputSize: Int? = 224, epsilon: Float = 1e-5,
        classes: Int = 1000, dropoutRate: Float = 0.2,
        weight: (String, String, [Int]) -> [Float]
    ) -> Model {
        var model = features(alpha: alpha, inputSize: inputSize, epsilon: epsilon, weight: weight)
        let featureCount = lastFilters(alpha: alpha)
        model.layers.append(
            Layer(
                name: "global_average_pooling2d", kind: .globalAveragePooling2D,
                inbound: ["out_relu"]))
        model.layers.append(
            Layer(
                name: "dropout", kind: .dropout(rate: dropoutRate),
                inbound: ["global_average_pooling2d"]))
        model.layers.append(
            Layer(
                name: "predictions", kind: .dense(units: classes, useBias: true, activation: .softmax),
                inbound: ["dropout"],
                weights: [
                    "kernel": Tensor(
                        shape: [featureCount, classes],
                        scalars: weight("predictions", "kernel", [featureCount, classes])),
                    "bias": Tensor(shape: [classes], scalars: weight("predictions", "bias", [classes])),
                ]))
        model.outputNames = ["predictions"]
        return model
    }
}
