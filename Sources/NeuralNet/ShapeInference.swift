// Shape inference and weight validation for a `Model`: walks the layers in order, computes each
// output shape (batch axis excluded, NHWC → [H, W, C]) and checks every weight against the shape
// its layer config implies. Also counts multiply-accumulates per layer for `model inspect`/bench.
// Every size is checked (CheckedSize, SizeLimits): each output ≤ maximumTensorElements with sizes ≥ 1,
// strides and paddings ≤ the input's height/width, each layer's MACs ≤ maximumMultiplyAccumulates. The
// Embedder plans (and its -Ounchecked kernels index) only shapes that passed here.

/// What shape inference learns about one layer.
public struct LayerShapeInfo: Sendable, Equatable {
    /// Output shape without the batch axis.
    public var outputShape: [Int]
    /// Multiply-accumulate operations per image.
    public var multiplyAccumulates: Int
}

extension Model {
    /// Output shape and MACs of every layer, checking weights on the way.
    /// - Parameter inputShape: [H, W, C] replacing the input layer's declared shape (needed when it has nil dims).
    public func inferShapes(inputShape: [Int]? = nil) throws(NeuralNetError) -> [String: LayerShapeInfo] {
        var info: [String: LayerShapeInfo] = [:]
        for layer in layers {
            var inputs: [[Int]] = []
            for name in layer.inbound {
                guard let shape = info[name]?.outputShape else {
                    throw .invalidGraph(
                        reason: "layer \(layer.name) takes input from \(name), which is not defined before it")
                }
                inputs.append(shape)
            }
            let result = try Self.infer(layer, inputs: inputs, inputOverride: inputShape)
            guard result.outputShape.allSatisfy({ $0 >= 1 }) else {
                throw .shapeMismatch(
                    layer: layer.name,
                    expected: "an output with every size at least 1, found "
                        + "\(result.outputShape)", found: inputs.first ?? result.outputShape)
            }
            guard CheckedSize.product(result.outputShape, limit: SizeLimits.maximumTensorElements) != nil else {
                throw .limitExceeded(
                    layer: layer.name, what: "its output shape \(result.outputShape)",
                    limit: "\(SizeLimits.maximumTensorElements) elements")
            }
            info[layer.name] = result
        }
        return info
    }

    private static func requireRank3(_ layer: Layer, _ inputs: [[Int]]) throws(NeuralNetError) -> [Int] {
        guard inputs.count == 1, inputs[0].count == 3 else {
            throw .shapeMismatch(
                layer: layer.name, expected: "one [height, width, channels] input", found: inputs.first ?? [])
        }
        return inputs[0]
    }

    private static func requireOneInput(_ layer: Layer, _ inputs: [[Int]]) throws(NeuralNetError) -> [Int] {
        guard inputs.count == 1 else {
            throw .invalidGraph(
                reason: "layer \(layer.name) (\(layer.kind.className)) takes one input, has \(inputs.count)")
        }
        return inputs[0]
    }

    /// ∏ `factors` as a MAC count, or `limitExceeded` naming the layer.
    private static func multiplyAccumulates(_ layer: Layer, _ factors: [Int]) throws(NeuralNetError) -> Int {
        guard let count = CheckedSize.product(factors, limit: SizeLimits.maximumMultiplyAccumulates) else {
            throw .limitExceeded(
                layer: layer.name,
                what: "its work per image (\(factors.map(String.init).joined(separator: " × ")) "
                    + "multiply-accumulates)", limit: "\(SizeLimits.maximumMultiplyAccumulates)")
        }
        return count
    }

    /// Strides must not exceed the input's height and width (a larger stride only skips the whole input).
    private static func checkStrides(_ layer: Layer, _ strides: (Int, Int), input shape: [Int]) throws(NeuralNetError) {
        guard strides.0 <= shape[0], strides.1 <= shape[1] else {
            throw .shapeMismatch(
                layer: layer.name,
                expected: "strides of at most the input's height and width, "
                    + "found strides [\(strides.0), \(strides.1)]", found: shape)
        }
    }

    /// A convolution's geometry on a rank-3 input: strides within the input, the kernel fitting it.
    private static func convolutionGeometry(
        _ layer: Layer, input shape: [Int], kernel: (Int, Int), strides: (Int, Int), padding: Padding
    ) throws(NeuralNetError) -> ConvGeometry {
        try checkStrides(layer, strides, input: shape)
        guard
            let geometry = ConvGeometry(
                height: shape[0], width: shape[1], channels: shape[2], kernel: kernel, strides: strides, mode: padding)
        else {
            throw .shapeMismatch(layer: layer.name, expected: "at least the \(kernel) kernel", found: shape)
        }
        return geometry
    }

    private static func checkWeight(_ layer: Layer, _ name: String, _ expected: [Int]) throws(NeuralNetError) {
        guard let weight = layer.weights[name] else { throw .missingWeight(layer: layer.name, weight: name) }
        guard weight.shape == expected else {
            throw .weightShapeMismatch(layer: layer.name, weight: name, expected: expected, found: weight.shape)
        }
    }

    private static func infer(_ layer: Layer, inputs: [[Int]], inputOverride: [Int]?) throws(NeuralNetError)
        -> LayerShapeInfo
    {
        switch layer.kind {
        case .input(let declared):
            if let inputOverride { return LayerShapeInfo(outputShape: inputOverride, multiplyAccumulates: 0) }
            let fixed = declared.compactMap { $0 }
            guard fixed.count == declared.count else { throw .inputShapeUnknown(layer: layer.name) }
            return LayerShapeInfo(outputShape: fixed, multiplyAccumulates: 0)

        case .conv2D(let config):
            let shape = try requireRank3(layer, inputs)
            let g = try convolutionGeometry(
                layer, input: shape, kernel: config.kernelSize, strides: config.strides, padding: config.padding)
            try checkWeight(layer, "kernel", [config.kernelSize.0, config.kernelSize.1, shape[2], config.filters])
            if config.useBias { try checkWeight(layer, "bias", [config.filters]) }
            return LayerShapeInfo(
                outputShape: [g.outputHeight, g.outputWidth, config.filters],
                multiplyAccumulates: try multiplyAccumulates(
                    layer, [g.outputHeight, g.outputWidth, g.kernelHeight, g.kernelWidth, shape[2], config.filters]))

        case .depthwiseConv2D(let config):
            let shape = try requireRank3(layer, inputs)
            let g = try convolutionGeometry(
                layer, input: shape, kernel: config.kernelSize, strides: config.strides, padding: config.padding)
            try checkWeight(layer, "depthwise_kernel", [config.kernelSize.0, config.kernelSize.1, shape[2], 1])
            if config.useBias { try checkWeight(layer, "bias", [shape[2]]) }
            return LayerShapeInfo(
                outputShape: [g.outputHeight, g.outputWidth, shape[2]],
                multiplyAccumulates: try multiplyAccumulates(
                    layer, [g.outputHeight, g.outputWidth, g.kernelHeight, g.kernelWidth, shape[2]]))

        case .batchNormalization:
            let shape = try requireOneInput(layer, inputs)
            guard let channels = shape.last else {
                throw .shapeMismatch(layer: layer.name, expected: "a tensor with a channel axis", found: shape)
            }
            for name in layer.kind.weightNames { try checkWeight(layer, name, [channels]) }
            return LayerShapeInfo(outputShape: shape, multiplyAccumulates: 0)

        case .activation, .relu, .dropout, .softmax:
            return LayerShapeInfo(outputShape: try requireOneInput(layer, inputs), multiplyAccumulates: 0)

        case .zeroPadding2D(let p):
            let shape = try requireRank3(layer, inputs)
            // Paddings are ≤ SizeLimits.maximumSpatialSize from the config; here also ≤ the input size.
            guard max(p.top, p.bottom) <= shape[0], max(p.left, p.right) <= shape[1] else {
                throw .shapeMismatch(
                    layer: layer.name,
                    expected: "paddings of at most the input's height and width, found "
                        + "[[\(p.top), \(p.bottom)], [\(p.left), \(p.right)]]", found: shape)
            }
            return LayerShapeInfo(
                outputShape: [shape[0] + p.top + p.bottom, shape[1] + p.left + p.right, shape[2]],
                multiplyAccumulates: 0)

        case .add:
            guard inputs.count >= 2, inputs.allSatisfy({ $0 == inputs[0] }) else {
                throw .shapeMismatch(
                    layer: layer.name, expected: "two or more inputs of one shape",
                    found: inputs.flatMap { $0 })
            }
            return LayerShapeInfo(outputShape: inputs[0], multiplyAccumulates: 0)

        case .globalAveragePooling2D:
            let shape = try requireRank3(layer, inputs)
            return LayerShapeInfo(outputShape: [shape[2]], multiplyAccumulates: 0)

        case .flatten:
            let shape = try requireOneInput(layer, inputs)
            return LayerShapeInfo(outputShape: [shape.reduce(1, *)], multiplyAccumulates: 0)

        case .reshape(let target):
            let shape = try requireOneInput(layer, inputs)
            let count = shape.reduce(1, *)
            var resolved = target
            if let wildcard = target.firstIndex(of: -1) {
                let known =
                    CheckedSize.product(target.filter { $0 != -1 }, limit: SizeLimits.maximumTensorElements) ?? 0
                guard known > 0, count % known == 0 else {
                    throw .shapeMismatch(layer: layer.name, expected: "a size divisible by \(known)", found: shape)
                }
                resolved[wildcard] = count / known
            }
            guard CheckedSize.product(resolved, limit: SizeLimits.maximumTensorElements) == count,
                resolved.allSatisfy({ $0 > 0 })
            else {
                throw .shapeMismatch(
                    layer: layer.name, expected: "\(count) elements for target shape \(target)",
                    found: shape)
            }
            return LayerShapeInfo(outputShape: resolved, multiplyAccumulates: 0)

        case .dense(let units, let useBias, _):
            let shape = try requireOneInput(layer, inputs)
            guard let features = shape.last else {
                throw .shapeMismatch(layer: layer.name, expected: "a tensor with a feature axis", found: shape)
            }
            try checkWeight(layer, "kernel", [features, units])
            if useBias { try checkWeight(layer, "bias", [units]) }
            let rows = shape.dropLast().reduce(1, *)  // ≤ the input's checked element count
            return LayerShapeInfo(
                outputShape: shape.dropLast() + [units],
                multiplyAccumulates: try multiplyAccumulates(layer, [rows, features, units]))
        }
    }
}
