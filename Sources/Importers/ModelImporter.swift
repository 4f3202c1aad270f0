// ModelImporter: `gesturepad model import FILE` — recognises the file (TF GraphDef .pb, PyTorch
// checkpoint, TF.js Layers directory), runs the matching importer and writes the metadata that
// goes with each architecture (input normalisation, default embedding layer and why, classifier).
// A TF.js Layers model is installed unchanged (its model.json and weight files byte for byte, plus
// gesturepad.json); the others are converted and written as TF.js Layers models.
import Crypto
import Foundation
import NeuralNet

/// The kinds of model file gesturepad imports.
public enum ModelFileFormat: String, Sendable {
    case tfGraphDef = "tensorflow-graphdef"
    case pyTorchCheckpoint = "pytorch-state-dict"
    case tfjsLayers = "tfjs-layers"

    /// Recognises `path` by content (zip/pickle magic, model.json), then by extension.
    public static func detect(_ path: String) throws(NeuralNetError) -> ModelFileFormat {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            if FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("model.json")) {
                return .tfjsLayers
            }
            throw .unknownModelFormat(path: path)
        }
        if path.hasSuffix("model.json") { return .tfjsLayers }
        let head = try FileIO.readPrefix(path, count: 4)
        if head == [0x50, 0x4B, 0x03, 0x04] || head.first == 0x80 { return .pyTorchCheckpoint }  // zip or pickle PROTO
        if path.hasSuffix(".pb") { return .tfGraphDef }
        if path.hasSuffix(".pth") || path.hasSuffix(".pt") { return .pyTorchCheckpoint }
        throw .unknownModelFormat(path: path)
    }
}

/// Why each architecture embeds where it does (recorded in the metadata; README "Embedding layers"
/// has the measurement: `gesturepad bench layers`, a photo moved up/down/left/right vs jitter).
public enum EmbeddingLayerChoice {
    public static let mobileNetV1 =
        "conv_pw_13_relu [7,7,C]: the TF.js Pac-Man demo's cut, so heads stay compatible "
        + "with it; keeps the 7x7 map of where the hand is. Measured separability of moved photos: 2.38/1.98/2.71 "
        + "(conv_pw_12_relu scored 3.37/2.75/3.85 and is the better choice where compatibility does not matter)."
    public static let mobileNetV2 =
        "block_15_add [7,7,160]: the best-separating 7x7 map measured (3.26/2.54/3.71 vs "
        + "block_16_project_BN 2.55/2.10/3.27 and out_relu 2.41/2.04/3.17) with the fewest dimensions (7840)."
    /// The rule that picks the default embedding layer of an imported TF.js Layers model (recorded in its metadata).
    public static let rule =
        "rule: among the layers before the first global pooling/flatten whose output is a spatial "
        + "map of at least 7x7 (at the model's input size), the last residual Add if the network has any (MobileNetV2: "
        + "block_15_add), else the last ReLU/activation output (MobileNetV1: conv_pw_13_relu), else the last such layer; "
        + "never a classifier (Dense, Softmax, softmax activation) or anything after the pooling. No map of 7x7: the "
        + "input of the global pooling/flatten."
    /// Smallest spatial side the rule accepts.
    public static let minimumSide = 7

    /// The default embedding layer of `model` by `rule`, at input [inputSize, inputSize, 3].
    public static func defaultLayer(in model: Model, inputSize: Int) throws(NeuralNetError) -> String {
        let shapes = try model.inferShapes(inputShape: [inputSize, inputSize, 3])
        let poolIndex = model.layers.firstIndex { layer in
            switch layer.kind {
            case .globalAveragePooling2D, .flatten: return true
            default: return false
            }
        }
        let before = model.layers[..<(poolIndex ?? model.layers.count)]
        let candidates = before.filter { layer in
            guard let shape = shapes[layer.name]?.outputShape, shape.count == 3,
                shape[0] >= minimumSide, shape[1] >= minimumSide
            else { return false }
            switch layer.kind {
            case .input, .dense, .softmax, .activation(.softmax): return false
            default: return true
            }
        }
        if let add = candidates.last(where: { $0.kind == .add }) { return add.name }
        if let activation = candidates.last(where: { layer in
            switch layer.kind {
            case .relu, .activation(.relu), .activation(.relu6): return true
            default: return false
            }
        }) {
            return activation.name
        }
        if let last = candidates.last { return last.name }
        if let poolIndex, let source = model.layers[poolIndex].inbound.first,
            model.layer(named: source).map({
                if case .input = $0.kind { return false } else { return true }
            }) == true
        {
            return source
        }
        throw .invalidGraph(reason: "no layer fits the embedding rule (\(rule)); name one with --embedding-layer")
    }
}

/// The MobileNet family and width multiplier of a model, inferred from its structure, not its names.
public enum ArchitectureInference {
    /// ("mobilenet_v1" | "mobilenet_v2" | "tfjs-layers", α). Only the layers before the first global
    /// pooling/flatten count. v1 (13 depthwise convs, no residual Add): α = filters of the first conv / 32
    /// (32·α exactly for α 0.25, 0.5, 0.75, 1.0). v2 (17 depthwise convs with residual Adds): α = filters of
    /// the last block's projection / 320 — the stem's 32·α is rounded to a multiple of 8 (α 0.35 and 0.5 both
    /// give 16) but 320·α is exact for every published α (0.35 … 1.4). Anything else: "tfjs-layers" with
    /// α = first conv / 32.
    public static func infer(_ model: Model) -> (architecture: String, widthMultiplier: Double) {
        let end =
            model.layers.firstIndex { layer in
                switch layer.kind {
                case .globalAveragePooling2D, .flatten: return true
                default: return false
                }
            } ?? model.layers.count
        let features = model.layers[..<end]
        let convolutions = features.compactMap { layer -> Int? in
            if case .conv2D(let config) = layer.kind { return config.filters }
            return nil
        }
        let depthwise = features.filter { if case .depthwiseConv2D = $0.kind { return true } else { return false } }
            .count
        let residual = features.contains { $0.kind == .add }
        guard let first = convolutions.first else { return ("tfjs-layers", 1.0) }
        if depthwise == 13, !residual { return ("mobilenet_v1", Double(first) / 32) }
        if depthwise == 17, residual, convolutions.count >= 2 {
            return ("mobilenet_v2", Double(convolutions[convolutions.count - 2]) / 320)
        }
        return ("tfjs-layers", Double(first) / 32)
    }
}

/// Imports model files into `Model` + `ModelMetadata`.
public enum ModelImporter {
    /// Bumped whenever imported models or their metadata change; installs from an older version are redone.
    public static let version = ModelMetadata.currentImporterVersion

    /// Whether `store` already holds `name` imported from the file at `path` by this importer version.
    public static func isCurrent(_ name: String, in store: ModelStore, source path: String) -> Bool {
        guard let installed = try? ModelMetadata.read(directory: store.directory(of: name)),
            installed.importerVersion == version,
            let format = try? ModelFileFormat.detect(path), let hash = try? sha256(of: path, format: format)
        else { return false }
        return installed.source.sha256 == hash
    }

    /// Imports `path`; `name` defaults to the architecture's name, `classNames` to none.
    /// - Parameter embeddingLayer: overrides the default embedding layer (the TF.js rule or the architecture's cut).
    /// - Parameter origin: where the file came from (e.g. the PyPI wheel and its sha256), recorded as is.
    public static func importModel(
        from path: String, name: String? = nil, classNames: [String] = [],
        normalization: InputNormalization? = nil, embeddingLayer: String? = nil,
        origin: String? = nil
    ) throws(NeuralNetError)
        -> (model: Model, metadata: ModelMetadata)
    {
        let format = try ModelFileFormat.detect(path)
        let model: Model
        var metadata: ModelMetadata
        var source = ModelMetadata.Source(
            file: (path as NSString).lastPathComponent, sha256: try sha256(of: path, format: format),
            format: format.rawValue)
        source.origin = origin
        switch format {
        case .tfGraphDef:
            model = try TFGraphDefImporter.importMobileNetV1(path: path)
            let alpha = Double(model.layer(named: "conv1")!.weights["kernel"]!.shape[3]) / 32
            metadata = ModelMetadata(
                name: name ?? "mobilenet_v1_\(formatAlpha(alpha))_224", architecture: "mobilenet_v1",
                widthMultiplier: alpha,
                inputSize: 224, normalization: normalization ?? .symmetric, embeddingLayer: "conv_pw_13_relu",
                embeddingLayerReason: EmbeddingLayerChoice.mobileNetV1, classifierLayer: model.outputNames.first,
                classNames: classNames, source: source)
        case .pyTorchCheckpoint:
            model = try PyTorchImporter.importMobileNetV2(path: path)
            metadata = ModelMetadata(
                name: name ?? "mobilenet_v2_1.0_224", architecture: "mobilenet_v2", widthMultiplier: 1.0,
                inputSize: 224,
                normalization: normalization ?? .imagenet, embeddingLayer: "block_15_add",
                embeddingLayerReason: EmbeddingLayerChoice.mobileNetV2, classifierLayer: model.outputNames.first,
                classNames: classNames, source: source)
        case .tfjsLayers:
            model = try TFJSLayersFormat.read(path)
            let inputSize = (try? model.inferShapes())?[model.inputNames[0]]?.outputShape.first ?? 224
            let (architecture, alpha) = ArchitectureInference.infer(model)
            var embedding = embeddingLayer ?? ""
            if embeddingLayer == nil {
                embedding = try EmbeddingLayerChoice.defaultLayer(in: model, inputSize: inputSize)
            }
            var hashes: [String: String] = [:]
            for file in try TFJSLayersFormat.files(of: path) {
                hashes[file.name] = try ModelStore.sha256(ofFile: file.path)
            }
            source.files = hashes
            metadata = ModelMetadata(
                name: name ?? model.name, architecture: architecture, widthMultiplier: alpha, inputSize: inputSize,
                normalization: normalization ?? .symmetric, embeddingLayer: embedding,
                embeddingLayerReason: embeddingLayer == nil
                    ? EmbeddingLayerChoice.rule : "chosen at import (--embedding-layer)",
                classifierLayer: classNames.isEmpty ? nil : model.outputNames.first, classNames: classNames,
                source: source)
        }
        if format != .tfjsLayers, let embeddingLayer {
            metadata.embeddingLayer = embeddingLayer
            metadata.embeddingLayerReason = "chosen at import (--embedding-layer)"
        }
        guard model.index(of: metadata.embeddingLayer) != nil else {
            throw .layerNotFound(layer: metadata.embeddingLayer, available: model.layers.map(\.name))
        }
        if let classifier = metadata.classifierLayer, !classNames.isEmpty {
            let classes = try model.inferShapes(inputShape: [metadata.inputSize, metadata.inputSize, 3])[classifier]!
                .outputShape.last
            guard classes == classNames.count else {
                throw .invalidField(
                    path: path, field: "class names",
                    expected: "\(classes ?? 0) names for layer \(classifier), got \(classNames.count)")
            }
        }
        return (model, metadata)
    }

    /// Imports `path` and installs it in `store` as `metadata.name`: a TF.js Layers model unchanged (its
    /// files byte for byte), any other format converted. Returns what was installed.
    @discardableResult
    public static func install(
        from path: String, into store: ModelStore, name: String? = nil, classNames: [String] = [],
        normalization: InputNormalization? = nil, embeddingLayer: String? = nil,
        origin: String? = nil
    ) throws(NeuralNetError) -> (model: Model, metadata: ModelMetadata) {
        let (model, metadata) = try importModel(
            from: path, name: name, classNames: classNames, normalization: normalization,
            embeddingLayer: embeddingLayer, origin: origin)
        if try ModelFileFormat.detect(path) == .tfjsLayers {
            try store.installUnchanged(tfjsModel: path, metadata: metadata)
        } else {
            try store.install(model, metadata: metadata)
        }
        return (model, metadata)
    }

    /// 1.0 → "1.0", 0.25 → "0.25".
    static func formatAlpha(_ alpha: Double) -> String {
        alpha == alpha.rounded() ? String(format: "%.1f", alpha) : String(format: "%g", alpha)
    }

    private static func sha256(of path: String, format: ModelFileFormat) throws(NeuralNetError) -> String {
        if format == .tfjsLayers {
            let json = path.hasSuffix(".json") ? path : (path as NSString).appendingPathComponent("model.json")
            return try ModelStore.sha256(ofFile: json)
        }
        return try ModelStore.sha256(ofFile: path)
    }
}

extension ModelStore {
    /// Hex SHA-256 of a file (recorded in model and head metadata).
    public static func sha256(ofFile path: String) throws(NeuralNetError) -> String {
        SHA256.hash(data: try FileIO.read(path)).map { String(format: "%02x", $0) }.joined()
    }
}
