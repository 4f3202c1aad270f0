// TFGraphDefImporter: reads a TensorFlow frozen GraphDef (.pb) of TF-slim's MobileNet v1 (any width
// multiplier α) and returns the same network as a gesturepad `Model` with Keras layer names, so it
// runs, saves and fine-tunes like a model read from TF.js. Only `Const` weights are read; the graph's
// ops are not interpreted: the topology is rebuilt by `MobileNetV1.features(style: .samePadding)`,
// which is slim's `SAME` padding, plus the Keras classifier head (conv_preds, act_softmax).
// Invariants: every tensor's dtype and shape are checked against α before use; slim's 1001-class
// logits lose class 0 (background) so output k is ImageNet-1k class k. Reference: tensorflow/models
// research/slim/nets/mobilenet_v1.py and docs/MODELS.md §1; schema in tools/proto.
import Foundation
import NeuralNet
import SwiftProtobuf

/// Imports TF-slim MobileNet v1 frozen graphs.
public enum TFGraphDefImporter {
    /// BatchNorm epsilon used when the graph stores none (slim's `batch_norm_epsilon` default).
    public static let defaultEpsilon: Float = 0.001
    /// Dropout rate of the Keras head (identity at inference; Keras' MobileNet default).
    public static let headDropoutRate: Float = 0.001
    /// Name scope of every MobileNet v1 tensor in a slim graph.
    static let scope = "MobilenetV1/"

    /// Reads the frozen GraphDef at `path` and returns MobileNet v1 with Keras names, ending in
    /// `conv_preds` → `reshape_2` → `act_softmax` (the model's single output).
    ///
    /// The width multiplier is found from `MobilenetV1/Conv2d_0/weights` ([3, 3, 3, 32·α]); every other
    /// tensor must have the shape α implies. BatchNorm layers without `gamma` (slim `scale=False`) get
    /// `scale: false`; epsilon comes from `…/BatchNorm/batchnorm/add/y` (or a FusedBatchNorm's
    /// `epsilon` attribute), else `defaultEpsilon`. 1001-class logits drop class 0 (background).
    /// - Parameters:
    ///   - path: the .pb file.
    ///   - inputSize: fixed input height and width (slim's graphs are 224; `SAME` padding fits any size).
    public static func importMobileNetV1(path: String, inputSize: Int = 224) throws(NeuralNetError) -> Model {
        guard inputSize > 0 else {
            throw .unsupportedConfig(
                layer: "input_1", field: "input size", value: "\(inputSize)", expected: "≥ 1 pixel")
        }
        let bytes = try FileIO.read(path)
        let graph = try decodeGraph(bytes, path: path)
        let reader = ConstantReader(graph: graph, path: path)
        let stem = try reader.floats(
            scope + "Conv2d_0/weights",
            ifMissing: "not a MobileNet v1 graph: missing \(scope)Conv2d_0/weights")
        guard stem.shape.count == 4, stem.shape.prefix(3) == [3, 3, 3], stem.shape[3] > 0 else {
            throw .invalidGraphDef(
                path: path,
                reason: "tensor \(scope)Conv2d_0/weights has shape \(stem.shape), "
                    + "expected [3, 3, 3, 32·α]")
        }
        let alpha = Double(stem.shape[3]) / 32
        var weights = KerasWeights()
        weights.set("conv1", "kernel", stem)
        try readBatchNorm(
            reader, slimScope: scope + "Conv2d_0", kerasLayer: "conv1_bn", channels: stem.shape[3],
            alpha: alpha, into: &weights)
        var channels = stem.shape[3]
        for (index, block) in MobileNetV1.blocks.enumerated() {
            let id = index + 1
            let depthwise = scope + "Conv2d_\(id)_depthwise"
            let pointwise = scope + "Conv2d_\(id)_pointwise"
            weights.set(
                "conv_dw_\(id)", "depthwise_kernel",
                try reader.floats(depthwise + "/depthwise_weights", shape: [3, 3, channels, 1], alpha: alpha))
            try readBatchNorm(
                reader, slimScope: depthwise, kerasLayer: "conv_dw_\(id)_bn", channels: channels,
                alpha: alpha, into: &weights)
            let filters = Int(Double(block.filters) * alpha)
            weights.set(
                "conv_pw_\(id)", "kernel",
                try reader.floats(pointwise + "/weights", shape: [1, 1, channels, filters], alpha: alpha))
            try readBatchNorm(
                reader, slimScope: pointwise, kerasLayer: "conv_pw_\(id)_bn", channels: filters,
                alpha: alpha, into: &weights)
            channels = filters
        }

        // Every BN is built with gamma and one epsilon, then adjusted to what the graph holds (only an
        // absent gamma reaches the placeholder of ones, and it is removed below).
        var model = MobileNetV1.features(
            alpha: alpha, inputSize: inputSize, style: .samePadding,
            epsilon: defaultEpsilon
        ) { layer, weight, shape in
            weights.scalars(layer, weight) ?? [Float](repeating: 1, count: shape.reduce(1, *))
        }
        for index in model.layers.indices {
            guard case .batchNormalization = model.layers[index].kind else { continue }
            let name = model.layers[index].name
            let hasGamma = weights.scalars(name, "gamma") != nil
            if !hasGamma { model.layers[index].weights["gamma"] = nil }
            model.layers[index].kind = .batchNormalization(
                epsilon: weights.epsilon[name] ?? defaultEpsilon,
                center: true, scale: hasGamma)
        }
        try appendClassifier(to: &model, reader: reader, channels: channels, alpha: alpha)
        model.name = "mobilenet_v1_\(alpha)_\(inputSize)"
        try TFJSLayersFormat.validate(model)
        return model
    }

    // MARK: Decoding

    /// Decodes the protobuf; a decoder failure or a graph with no nodes means "not a GraphDef".
    static func decodeGraph(_ bytes: [UInt8], path: String) throws(NeuralNetError) -> Tensorflow_GraphDef {
        var options = BinaryDecodingOptions()
        options.discardUnknownFields = true
        let graph: Tensorflow_GraphDef
        do {
            graph = try Tensorflow_GraphDef(serializedBytes: bytes, options: options)
        } catch {
            throw .invalidGraphDef(
                path: path,
                reason: "not a valid GraphDef protobuf, the file is truncated or of "
                    + "another format (decoder: \(error))")
        }
        guard !graph.node.isEmpty else {
            throw .invalidGraphDef(path: path, reason: "not a valid GraphDef: it holds no nodes (\(bytes.count) bytes)")
        }
        return graph
    }

    /// Reads `<slimScope>/BatchNorm/{gamma?, beta, moving_mean, moving_variance}` and the epsilon.
    private static func readBatchNorm(
        _ reader: ConstantReader, slimScope: String, kerasLayer: String, channels: Int,
        alpha: Double, into weights: inout KerasWeights
    ) throws(NeuralNetError) {
        let batchNorm = slimScope + "/BatchNorm/"
        for name in ["gamma", "beta", "moving_mean", "moving_variance"] {
            if name == "gamma", !reader.has(batchNorm + name) { continue }  // slim batch_norm(scale=False)
            weights.set(kerasLayer, name, try reader.floats(batchNorm + name, shape: [channels], alpha: alpha))
        }
        if let epsilon = try reader.epsilon(batchNormScope: batchNorm) { weights.epsilon[kerasLayer] = epsilon }
    }

    /// Appends the Keras head: pool → reshape [1, 1, C] → dropout → 1×1 conv_preds → reshape [K] → softmax.
    private static func appendClassifier(to model: inout Model, reader: ConstantReader, channels: Int, alpha: Double)
        throws(NeuralNetError)
    {
        let logits = scope + "Logits/Conv2d_1c_1x1/"
        let kernel = try reader.floats(logits + "weights")
        guard kernel.shape.count == 4, kernel.shape[0] == 1, kernel.shape[1] == 1, kernel.shape[2] == channels,
            kernel.shape[3] > 0
        else {
            throw .invalidGraphDef(
                path: reader.path,
                reason: "tensor \(logits)weights has shape \(kernel.shape), "
                    + "expected [1, 1, \(channels), classes] (width multiplier α = \(alpha))")
        }
        let slimClasses = kernel.shape[3]
        let bias = try reader.floats(logits + "biases", shape: [slimClasses], alpha: alpha)
        // slim's ImageNet heads have 1001 outputs, 0 = background: keep 1…1000 so index k is class k.
        let dropped = slimClasses == 1001 ? 1 : 0
        let classes = slimClasses - dropped
        var keptKernel = [Float]()
        keptKernel.reserveCapacity(channels * classes)
        for channel in 0..<channels {  // kernel [1, 1, C, K]: row `channel` is K contiguous scalars
            keptKernel += kernel.scalars[(channel * slimClasses + dropped)..<((channel + 1) * slimClasses)]
        }
        let keptBias = Array(bias.scalars[dropped...])

        func append(_ name: String, _ kind: LayerKind, _ weights: [String: Tensor] = [:]) {
            let previous = model.layers[model.layers.count - 1].name
            model.layers.append(Layer(name: name, kind: kind, inbound: [previous], weights: weights))
        }
        append("global_average_pooling2d", .globalAveragePooling2D)
        append("reshape_1", .reshape(targetShape: [1, 1, channels]))
        append("dropout", .dropout(rate: headDropoutRate))
        let head = Conv2DConfig(filters: classes, kernelSize: (1, 1), padding: .same, useBias: true)
        append(
            "conv_preds", .conv2D(head),
            [
                "kernel": Tensor(shape: [1, 1, channels, classes], scalars: keptKernel),
                "bias": Tensor(shape: [classes], scalars: keptBias),
            ])
        append("reshape_2", .reshape(targetShape: [classes]))
        append("act_softmax", .activation(.softmax))
        model.outputNames = ["act_softmax"]
    }
}

/// Keras (layer, weight) → scalars gathered from the graph, plus per-BN-layer epsilons.
private struct KerasWeights {
    private var tensors: [String: [Float]] = [:]
    /// BatchNormalization layer name → epsilon found in the graph.
    var epsilon: [String: Float] = [:]

    mutating func set(_ layer: String, _ weight: String, _ tensor: Tensor) {
        tensors[layer + "/" + weight] = tensor.scalars
    }

    func scalars(_ layer: String, _ weight: String) -> [Float]? { tensors[layer + "/" + weight] }
}

/// The graph's `Const` nodes by name, decoded to float32 tensors on demand with dtype and shape checks.
struct ConstantReader {
    /// The .pb file, for error messages.
    let path: String
    private var constants: [String: Tensorflow_TensorProto] = [:]
    /// FusedBatchNorm* node name → its `epsilon` attribute.
    private var fusedEpsilons: [String: Float] = [:]

    /// Indexes the `Const` nodes (attribute `value`) and fused batch-norm epsilons of `graph`.
    init(graph: Tensorflow_GraphDef, path: String) {
        self.path = path
        for node in graph.node {
            if node.op == "Const", case .tensor(let tensor)? = node.attr["value"]?.value {
                constants[node.name] = tensor
            } else if node.op.hasPrefix("FusedBatchNorm"), case .f(let epsilon)? = node.attr["epsilon"]?.value {
                fusedEpsilons[node.name] = epsilon
            }
        }
    }

    /// Whether a `Const` called `name` exists.
    func has(_ name: String) -> Bool { constants[name] != nil }

    /// The float32 tensor `name`, which must have `shape` (implied by the width multiplier `alpha`).
    func floats(_ name: String, shape: [Int], alpha: Double) throws(NeuralNetError) -> Tensor {
        let tensor = try floats(name)
        guard tensor.shape == shape else {
            throw .invalidGraphDef(
                path: path,
                reason: "tensor \(name) has shape \(tensor.shape), expected \(shape) "
                    + "(width multiplier α = \(alpha))")
        }
        return tensor
    }

    /// The float32 tensor `name` with whatever shape the graph gives it.
    /// - Parameter missingReason: the error reason when absent (default: "missing tensor <name>").
    func floats(_ name: String, ifMissing missingReason: String? = nil) throws(NeuralNetError) -> Tensor {
        guard let proto = constants[name] else {
            throw .invalidGraphDef(path: path, reason: missingReason ?? "missing tensor \(name)")
        }
        guard proto.dtype == .dtFloat else {
            throw .invalidGraphDef(
                path: path,
                reason: "tensor \(name) has dtype \(Self.describe(proto.dtype)), "
                    + "expected DT_FLOAT")
        }
        let shape = proto.tensorShape.dim.map { Int(clamping: $0.size) }
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard size >= 0, !overflow, product <= Int(Int32.max) else {
                throw .invalidGraphDef(path: path, reason: "tensor \(name) has an invalid shape \(shape)")
            }
            count = product
        }
        let scalars: [Float]
        if !proto.tensorContent.isEmpty {
            guard proto.tensorContent.count == 4 * count else {
                throw .invalidGraphDef(
                    path: path,
                    reason: "tensor \(name) of shape \(shape) needs \(4 * count) bytes "
                        + "of tensor_content, found \(proto.tensorContent.count)")
            }
            scalars = Self.littleEndianFloats(proto.tensorContent, count: count)
        } else {
            let values = proto.floatVal
            guard values.count <= count else {
                throw .invalidGraphDef(
                    path: path,
                    reason: "tensor \(name) of shape \(shape) lists \(values.count) "
                        + "float_val entries, more than its \(count) elements")
            }
            // TensorFlow's rule (Tensor::FromProto): missing trailing values repeat the last one; none at all = zeros.
            scalars = values + [Float](repeating: values.last ?? 0, count: count - values.count)
        }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// The epsilon of the batch norm under `batchNormScope` ("…/BatchNorm/"), if the graph records one:
    /// the scalar `batchnorm/add/y` of an unfused batch norm, or a FusedBatchNorm node's attribute.
    func epsilon(batchNormScope: String) throws(NeuralNetError) -> Float? {
        var found: Float?
        let constantName = batchNormScope + "batchnorm/add/y"
        if has(constantName) {
            let tensor = try floats(constantName)
            guard tensor.count == 1 else {
                throw .invalidGraphDef(
                    path: path,
                    reason: "tensor \(constantName) has shape \(tensor.shape), "
                        + "expected a scalar")
            }
            found = tensor.scalars[0]
        } else {
            found = ["FusedBatchNorm", "FusedBatchNormV3"].lazy.compactMap { fusedEpsilons[batchNormScope + $0] }.first
        }
        if let found, !(found.isFinite && found >= 0) {
            throw .invalidGraphDef(
                path: path,
                reason: "batch norm \(batchNormScope) has epsilon \(found), expected a "
                    + "finite non-negative number")
        }
        return found
    }

    /// `count` little-endian float32 values from the start of `data` (whose size is checked by the caller).
    private static func littleEndianFloats(_ data: Data, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            data.withUnsafeBytes { raw in
                for index in 0..<count {
                    let bits = raw.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self)
                    buffer[index] = Float(bitPattern: UInt32(littleEndian: bits))
                }
            }
            initialized = count
        }
    }

    /// "DT_INT32"-style name of a dtype, for error messages.
    static func describe(_ type: Tensorflow_DataType) -> String {
        switch type {
        case .UNRECOGNIZED(let value): return "DataType \(value)"
        default:
            let name = "\(type)"  // dtInt32 → DT_INT32
            guard name.hasPrefix("dt") else { return name }
            return "DT_"
                + name.dropFirst(2).reduce(into: "") { text, character in
                    if character.isUppercase, !text.isEmpty, !(text.last?.isNumber ?? false) { text += "_" }
                    text += character.uppercased()
                }
        }
    }
}
