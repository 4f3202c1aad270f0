// NeuralNetError: every way loading, planning or running a model can fail. Each case names the
// file, layer and weight involved and what was expected, and its description says what to do.

/// A typed failure of the NeuralNet library; `description` is a complete sentence for the user.
public enum NeuralNetError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A file could not be opened or read.
    case fileUnreadable(path: String, reason: String)
    /// A file could not be written.
    case fileUnwritable(path: String, reason: String)
    /// model.json is not valid JSON or not a TF.js Layers model.
    case invalidModelJSON(path: String, reason: String)
    /// A required field is missing or has the wrong type (`field` is a JSON path such as `layers[3].config.strides`).
    case invalidField(path: String, field: String, expected: String)
    /// The model uses a Keras layer class gesturepad does not implement.
    case unknownLayerClass(path: String, layer: String, className: String)
    /// A layer config value gesturepad does not support (e.g. dilation_rate ≠ 1).
    case unsupportedConfig(layer: String, field: String, value: String, expected: String)
    /// A weight's dtype or quantisation is not float32.
    case unsupportedWeightType(path: String, weight: String, dtype: String)
    /// A shard named in the manifest is missing or shorter/longer than the manifest says.
    case shardMismatch(path: String, group: Int, expectedBytes: Int, actualBytes: Int)
    /// A layer's weight is absent from the manifest.
    case missingWeight(layer: String, weight: String)
    /// A manifest weight belongs to no layer (strict mode).
    case unusedWeight(path: String, weight: String)
    /// A weight has a different shape from what the layer config implies.
    case weightShapeMismatch(layer: String, weight: String, expected: [Int], found: [Int])
    /// A weight holds NaN or ±Inf.
    case nonFiniteWeight(layer: String, weight: String, index: Int, value: Float)
    /// A named layer does not exist.
    case layerNotFound(layer: String, available: [String])
    /// The graph is malformed: unknown inbound layer, cycle, a layer used twice, …
    case invalidGraph(reason: String)
    /// Shapes do not fit together at `layer`.
    case shapeMismatch(layer: String, expected: String, found: [Int])
    /// The model's input size is not fixed and none was given.
    case inputShapeUnknown(layer: String)
    /// An .npy file is malformed or of an unsupported kind.
    case invalidNPY(path: String, reason: String)

    public var description: String {
        switch self {
        case .fileUnreadable(let path, let reason):
            return "cannot read \(path): \(reason). Check that the path exists and is readable."
        case .fileUnwritable(let path, let reason):
            return "cannot write \(path): \(reason). Check the directory exists, is writable and has space."
        case .invalidModelJSON(let path, let reason):
            return "\(path) is not a TF.js Layers model: \(reason). Pass the model.json written by "
                + "tensorflowjs_converter (--output_format tfjs_layers_model) or by gesturepad."
        case .invalidField(let path, let field, let expected):
            return "\(path): field \(field) should be \(expected)."
        case .unknownLayerClass(let path, let layer, let className):
            return "\(path): layer \(layer) has class \(className), which gesturepad does not implement. "
                + "Supported: \(TFJSLayersFormat.supportedClassNames.joined(separator: ", "))."
        case .unsupportedConfig(let layer, let field, let value, let expected):
            return "layer \(layer): \(field) = \(value) is not supported (expected \(expected))."
        case .unsupportedWeightType(let path, let weight, let dtype):
            return "\(path): weight \(weight) is \(dtype); only unquantised float32 weights are supported. "
                + "Re-export the model without quantisation."
        case .shardMismatch(let path, let group, let expectedBytes, let actualBytes):
            return "\(path): weight group \(group) should hold \(expectedBytes) bytes but its shards hold "
                + "\(actualBytes). A shard is missing, truncated or from another model; copy the model directory again."
        case .missingWeight(let layer, let weight):
            return "layer \(layer) needs weight \(weight), which the weights manifest does not list."
        case .unusedWeight(let path, let weight):
            return "\(path): weight \(weight) matches no layer of the model (strict loading). "
                + "Load with strict: false to ignore extra weights."
        case .weightShapeMismatch(let layer, let weight, let expected, let found):
            return "layer \(layer): weight \(weight) has shape \(found), expected \(expected)."
        case .nonFiniteWeight(let layer, let weight, let index, let value):
            return "layer \(layer): weight \(weight) holds \(value) at index \(index); the model file is corrupt."
        case .layerNotFound(let layer, let available):
            let sample = available.suffix(8).joined(separator: ", ")
            return "no layer named \(layer) in the model (\(available.count) layers; last ones: \(sample)). "
                + "Run `gesturepad model inspect` to list them."
        case .invalidGraph(let reason):
            return "the model graph is malformed: \(reason)."
        case .shapeMismatch(let layer, let expected, let found):
            return "layer \(layer): input shape \(found) does not fit (expected \(expected))."
        case .inputShapeUnknown(let layer):
            return "input \(layer) has no fixed height/width; give an input shape (e.g. 224x224x3)."
        case .invalidNPY(let path, let reason):
            return "\(path) is not a usable .npy array: \(reason). Save a little-endian float32 array "
                + "with numpy.save(path, array.astype('<f4'))."
        }
    }
}
