// ModelImporter: `gesturepad model import FILE` — recognises the file (TF GraphDef .pb, PyTorch
// checkpoint, TF.js Layers directory), runs the matching importer and writes the metadata that
// goes with each architecture (input normalisation, default embedding layer and why, classifier).
import Foundation

/// The kinds of model file gesturepad imports.
public enum ModelFileFormat: String, Sendable {
    case tfGraphDef = "tensorflow-graphdef"
    case pyTorchCheckpoint = "pytorch-state-dict"
    case tfjsLayers = "tfjs-layers"

    /// Recognises `path` by content (zip/pickle magic, model.json), then by extension.
    public static func detect(_ path: String) throws(NeuralNetError) -> ModelFileFormat {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            if FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("model.json")) { return .tfjsLayers }
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
    public static let mobileNetV1 = "conv_pw_13_relu [7,7,C]: the TF.js Pac-Man demo's cut, so heads stay compatible "
        + "with it; keeps the 7x7 map of where the hand is. Measured separability of moved photos: 2.38/1.98/2.71 "
        + "(conv_pw_12_relu scored 3.37/2.75/3.85 and is the better choice where compatibility does not matter)."
    public static let mobileNetV2 = "block_15_add [7,7,160]: the best-separating 7x7 map measured (3.26/2.54/3.71 vs "
        + "block_16_project_BN 2.55/2.10/3.27 and out_relu 2.41/2.04/3.17) with the fewest dimensions (7840)."
}

/// Imports model files into `Model` + `ModelMetadata`.
public enum ModelImporter {
    /// Bumped whenever imported models or their metadata change; installs from an older version are redone.
    public static let version = 3

    /// Whether `store` already holds `name` imported from the file at `path` by this importer version.
    public static func isCurrent(_ name: String, in store: ModelStore, source path: String) -> Bool {
        guard let installed = try? ModelMetadata.read(directory: store.directory(of: name)),
              installed.importerVersion == version,
              let format = try? ModelFileFormat.detect(path), let hash = try? sha256(of: path, format: format) else { return false }
        return installed.source.sha256 == hash
    }

    /// Imports `path`; `name` defaults to the architecture's name, `classNames` to none.
    public static func importModel(from path: String, name: String? = nil, classNames: [String] = [],
                                   normalization: InputNormalization? = nil) throws(NeuralNetError)
        -> (model: Model, metadata: ModelMetadata) {
        let format = try ModelFileFormat.detect(path)
        let model: Model
        var metadata: ModelMetadata
        let source = ModelMetadata.Source(file: (path as NSString).lastPathComponent, sha256: try sha256(of: path, format: format),
                                          format: format.rawValue)
        switch format {
        case .tfGraphDef:
            model = try TFGraphDefImporter.importMobileNetV1(path: path)
            let alpha = Double(model.layer(named: "conv1")!.weights["kernel"]!.shape[3]) / 32
            metadata = ModelMetadata(
                name: name ?? "mobilenet_v1_\(formatAlpha(alpha))_224", architecture: "mobilenet_v1", widthMultiplier: alpha,
                inputSize: 224, normalization: normalization ?? .symmetric, embeddingLayer: "conv_pw_13_relu",
                embeddingLayerReason: EmbeddingLayerChoice.mobileNetV1, classifierLayer: model.outputNames.first,
                classNames: classNames, source: source)
        case .pyTorchCheckpoint:
            model = try PyTorchImporter.importMobileNetV2(path: path)
            metadata = ModelMetadata(
                name: name ?? "mobilenet_v2_1.0_224", architecture: "mobilenet_v2", widthMultiplier: 1.0, inputSize: 224,
                normalization: normalization ?? .imagenet, embeddingLayer: "block_15_add",
                embeddingLayerReason: EmbeddingLayerChoice.mobileNetV2, classifierLayer: model.outputNames.first,
                classNames: classNames, source: source)
        case .tfjsLayers:
            model = try TFJSLayersFormat.read(path)
            let embedding = model.index(of: "conv_pw_13_relu") != nil ? "conv_pw_13_relu" : model.outputNames[0]
            let inputSize = (try? model.inferShapes())?[model.inputNames[0]]?.outputShape.first ?? 224
            metadata = ModelMetadata(
                name: name ?? model.name, architecture: "tfjs-layers", widthMultiplier: 1.0, inputSize: inputSize,
                normalization: normalization ?? .symmetric, embeddingLayer: embedding,
                embeddingLayerReason: "conv_pw_13_relu when present (MobileNet v1 convention), else the model output",
                classifierLayer: classNames.isEmpty ? nil : model.outputNames.first, classNames: classNames, source: source)
        }
        if let classifier = metadata.classifierLayer, !classNames.isEmpty {
            let classes = try model.inferShapes(inputShape: [metadata.inputSize, metadata.inputSize, 3])[classifier]!.outputShape.last
            guard classes == classNames.count else {
                throw .invalidField(path: path, field: "class names", expected: "\(classes ?? 0) names for layer \(classifier), got \(classNames.count)")
            }
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
