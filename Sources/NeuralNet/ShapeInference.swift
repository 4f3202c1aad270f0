// Shape inference and weight validation for a `Model`: walks the layers in order, computes each
// output shape (batch axis excluded, NHWC → [H, W, C]) and checks every weight against the shape
// its layer config implies. Also counts multiply-accumulates per layer for `model inspect`/bench.

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
                    throw .invalidGraph(reason: "layer \(layer.name) takes input from \(name), which is not defined before it")
                }
                inputs.append(shape)
            }
            info[layer.name] = try Self.infer(layer, inputs: inputs, inputOverride: inputShape)
        }
        return info
    }

    private static func requireRank3(_ layer: Layer, _ inputs: [[Int]]) throws(NeuralNetError) -> [Int] {
        guard inputs.count == 1, inputs[0].count == 3 else {
            throw .shapeMismatch(layer: layer.name, expected: "one [height, width, channels] input", found: inputs.first ?? [])
        }
        return inputs[0]
    }

    private static func requireOneInput(_ layer: Layer, _ inputs: [[Int]]) throws(NeuralNetError) -> [Int] {
        guard inputs.count == 1 else {
            throw .invalidGraph(reason: "layer \(layer.name) (\(layer.kind.className)) takes one input, has \(inputs.count)")
        }
        return inputs[0]
    }

    private static func checkWeight(_ layer: Layer, _ name: String, _ expected: [Int]) throws(NeuralNetError) {
        guard let weight = layer.weights[name] else { throw .missingWeight(layer: layer.name, weight: name) }
        guard weight.shape == expected else {
            throw .weightShapeMismatch(layer: layer.name, weight: name, expected: expected, found: weight.shape)
        }
    }

    private static func infer(_ layer: Layer, inputs: [[Int]], inputOverride: [Int]?) throws(NeuralNetError)
        -> LayerShapeInfo {
        switch layer.kind {
        case .input(let declared):
            if let inputOverride { return LayerShapeInfo(outputShape: inputOverride, multiplyAccumulates: 0) }
            let fixed = declared.compactMap { $0 }
            guard fixed.count == declared.count else { throw .inputShapeUnknown(layer: layer.name) }
            return LayerShapeInfo(outputShape: fixed, multiplyAccumulates: 0)

        case .conv2D(let config):
            let shape = try requireRank3(layer, inputs)
            guard let g = ConvGeometry(height: shape[0], width: shape[1], channels: shape[2], kernel: config.kernelSize,
                                       strides: config.strides, mode: config.padding) else {
                throw .shapeMismatch(layer: layer.name, expected: "at least the \(config.kernelSize) kernel", found: shape)
            }
            try checkWeight(layer, "kernel", [config.kernelSize.0, config.kernelSize.1, shape[2], config.filters])
            if config.useBias { try checkWeight(layer, "bias", [config.filters]) }
            return LayerShapeInfo(outputShape: [g.outputHeight, g.outputWidth, config.filters],
                                  multiplyAccumulates: g.outputPixels * g.patchLength * config.filters)

        case .depthwiseConv2D(let config):
            let shape = try requireRank3(layer, inputs)
            guard let g = ConvGeometry(height: shape[0], width: shape[1], channels: shape[2], kernel: config.kernelSize,
                                       strides: config.strides, mode: config.padding) else {
                throw .shapeMismatch(layer: layer.name, expected: "at least the \(config.kernelSize) kernel", found: shape)
            }
            try checkWeight(layer, "depthwise_kernel", [config.kernelSize.0, config.kernelSize.1, shape[2], 1])
            if config.useBias { try checkWeight(layer, "bias", [shape[2]]) }
            return LayerShapeInfo(outputShape: [g.outputHeight, g.outputWidth, shape[2]],
                                  multiplyAccumulates: g.outputPixels * g.patchLength)

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
            return LayerShapeInfo(outputShape: [shape[0] + p.top + p.bottom, shape[1] + p.left + p.right, shape[2]],
                                  multiplyAccumulates: 0)

        case .add:
            guard inputs.count >= 2, inputs.allSatisfy({ $0 == inputs[0] }) else {
                throw .shapeMismatch(layer: layer.name, expected: "two or more inputs of one shape",
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
                let known = target.filter { $0 != -1 }.reduce(1, *)
                guard known > 0, count % known == 0 else {
                    throw .shapeMismatch(layer: layer.name, expected: "a size divisible by \(known)", found: shape)
                }
                resolved[wildcard] = count / known
            }
            guard resolved.reduce(1, *) == count, resolved.allSatisfy({ $0 > 0 }) else {
                throw .shapeMismatch(layer: layer.name, expected: "\(count) elements for target shape \(target)",
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
            let rows = shape.dropLast().reduce(1, *)
            return LayerShapeInfo(outputShape: shape.dropLast() + [units], multiplyAccumulates: rows * features * units)
        }
    }
}
