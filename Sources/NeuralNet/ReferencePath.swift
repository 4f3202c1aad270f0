// The reference path: runs a `Model` layer by layer with the plain reference kernels, allocating
// a fresh tensor per layer, BN unfolded, nothing fused. It is slow on purpose and exists to be
// obviously right; `Embedder` (the planned fast path) is tested against it.

extension Model {
    /// Runs the model on one image with the reference kernels and returns the requested layers' outputs.
    /// - Parameters:
    ///   - input: [H, W, C] or [1, H, W, C] for the (single) input layer.
    ///   - outputs: layer names to return; default the model's outputs.
    public func referenceForward(_ input: Tensor, outputs requested: [String]? = nil) throws(NeuralNetError)
        -> [String: Tensor]
    {
        guard inputNames.count == 1, let inputName = inputNames.first else {
            throw .invalidGraph(reason: "the reference path runs single-input models; this one has \(inputNames)")
        }
        let imageShape = input.imageShape
        let wanted = requested ?? outputNames
        for name in wanted where index(of: name) == nil {
            throw .layerNotFound(layer: name, available: layers.map(\.name))
        }
        let shapes = try inferShapes(inputShape: imageShape)
        var needed = Set(wanted)
        for layer in layers.reversed() where needed.contains(layer.name) { needed.formUnion(layer.inbound) }

        var values: [String: Tensor] = [:]
        for layer in layers where needed.contains(layer.name) {
            let shape = shapes[layer.name]!.outputShape
            if layer.name == inputName {
                values[layer.name] = input.reshaped(to: shape)
                continue
            }
            let arguments = layer.inbound.map { values[$0]! }
            values[layer.name] = Self.referenceLayer(layer, arguments, outputShape: shape)
        }
        return values.filter { wanted.contains($0.key) }
    }

    private static func referenceLayer(_ layer: Layer, _ arguments: [Tensor], outputShape: [Int]) -> Tensor {
        var output = Tensor(shape: outputShape)
        let x = arguments.first ?? Tensor(shape: [0])
        let noClamp: (low: Float, high: Float) = (-.infinity, .infinity)
        x.scalars.withUnsafeBufferPointer { xs in
            output.scalars.withUnsafeMutableBufferPointer { ys in
                let inPtr = xs.baseAddress!
                let outPtr = ys.baseAddress!
                switch layer.kind {
                case .input:
                    break
                case .conv2D(let config):
                    let g = ConvGeometry(
                        height: x.shape[0], width: x.shape[1], channels: x.shape[2],
                        kernel: config.kernelSize, strides: config.strides, mode: config.padding)!
                    layer.weights["kernel"]!.scalars.withUnsafeBufferPointer { kernel in
                        withOptionalPointer(layer.weights["bias"]?.scalars) { bias in
                            Conv2D.reference(
                                input: inPtr, geometry: g, kernel: kernel.baseAddress!,
                                filters: config.filters, bias: bias, clamp: noClamp, output: outPtr)
                        }
                    }
                    ActivationKernel.reference(
                        config.activation, outPtr, rows: g.outputPixels, channels: config.filters)
                case .depthwiseConv2D(let config):
                    let g = ConvGeometry(
                        height: x.shape[0], width: x.shape[1], channels: x.shape[2],
                        kernel: config.kernelSize, strides: config.strides, mode: config.padding)!
                    layer.weights["depthwise_kernel"]!.scalars.withUnsafeBufferPointer { kernel in
                        withOptionalPointer(layer.weights["bias"]?.scalars) { bias in
                            DepthwiseConv2D.reference(
                                input: inPtr, geometry: g, kernel: kernel.baseAddress!,
                                bias: bias, clamp: noClamp, output: outPtr)
                        }
                    }
                    ActivationKernel.reference(config.activation, outPtr, rows: g.outputPixels, channels: x.shape[2])
                case .batchNormalization(let epsilon, _, _):
                    let channels = x.shape.last!
                    BatchNorm.reference(
                        input: inPtr, pixels: x.count / channels, channels: channels,
                        gamma: layer.weights["gamma"]?.scalars, beta: layer.weights["beta"]?.scalars,
                        mean: layer.weights["moving_mean"]!.scalars,
                        variance: layer.weights["moving_variance"]!.scalars, epsilon: epsilon,
                        output: outPtr)
                case .activation(let activation):
                    outPtr.update(from: inPtr, count: x.count)
                    let channels = x.shape.last ?? 1
                    ActivationKernel.reference(activation, outPtr, rows: x.count / channels, channels: channels)
                case .relu(let maxValue):
                    for i in 0..<x.count { outPtr[i] = min(max(inPtr[i], 0), maxValue ?? .infinity) }
                case .softmax:
                    outPtr.update(from: inPtr, count: x.count)
                    let channels = x.shape.last ?? 1
                    ActivationKernel.reference(.softmax, outPtr, rows: x.count / channels, channels: channels)
                case .zeroPadding2D(let padding):
                    ZeroPad.reference(
                        input: inPtr, height: x.shape[0], width: x.shape[1], channels: x.shape[2],
                        padding: padding, output: outPtr)
                case .add:
                    outPtr.update(from: inPtr, count: x.count)
                    for other in arguments.dropFirst() {
                        for i in 0..<x.count { outPtr[i] += other.scalars[i] }
                    }
                case .globalAveragePooling2D:
                    GlobalAveragePool.reference(
                        input: inPtr, pixels: x.shape[0] * x.shape[1], channels: x.shape[2],
                        output: outPtr)
                case .flatten, .reshape, .dropout:
                    outPtr.update(from: inPtr, count: x.count)
                case .dense(let units, _, let activation):
                    let features = x.shape.last!
                    let rows = x.count / features
                    layer.weights["kernel"]!.scalars.withUnsafeBufferPointer { kernel in
                        withOptionalPointer(layer.weights["bias"]?.scalars) { bias in
                            GEMM.reference(
                                rows: rows, a: inPtr, b: kernel.baseAddress!, k: features, n: units,
                                bias: bias, clamp: noClamp, c: outPtr)
                        }
                    }
                    ActivationKernel.reference(activation, outPtr, rows: rows, channels: units)
                }
            }
        }
        return output
    }
}

/// Calls `body` with a pointer to `array`'s scalars, or nil when `array` is nil.
func withOptionalPointer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress) }
}
