// HeadExchange: heads in and out of gesturepad as TF.js Layers models. Export writes a stored head
// alone (its model.json and shard as stored) or as ONE bundle for a web page — the embedder cut at its
// layer followed by the head, loadable by `tf.loadLayersModel` and run on a normalised [1,S,S,3] frame —
// each with `labels.json` (labels in output order, input normalisation, embedder, mirror). Import takes
// a head TF.js trained and saved (`model.save`: model.json + weights .bin), checks its input against the
// embedder's cut-layer output and its outputs against the labels, and stores it as the next version.
import Foundation
import Gestures
import NeuralNet

/// `labels.json` written beside an exported head or bundle: what a web page needs to use it.
public struct HeadLabelsFile: Codable, Equatable, Sendable {
    /// How 8-bit RGB pixels become the bundle's input: input = pixel · scale[c] + offset[c] for c = R, G, B.
    public struct Normalization: Codable, Equatable, Sendable {
        /// `InputNormalization` raw value, e.g. "x/127.5-1".
        public var name: String
        public var scale: [Float]
        public var offset: [Float]
    }

    /// Class names in the model's output order.
    public var labels: [String]
    public var normalization: Normalization
    /// Shape of one input without the batch axis: [S, S, 3] for a bundle, the feature shape for a head alone.
    public var inputShape: [Int]
    /// Whether frames were mirrored (selfie view) for the samples: mirror the webcam image the same way.
    public var mirror: Bool
    /// The model and cut layer the head reads.
    public var embedder: EmbedderIdentity
    /// Head version in the store it came from.
    public var headVersion: Int
    /// Whether model.json is the whole pipeline (frame → probabilities) or the head alone (features → probabilities).
    public var bundle: Bool
    /// Name of the output layer (softmax probabilities).
    public var outputLayer: String
}

/// Export and import of heads as TF.js Layers models.
public enum HeadExchange {
    /// File name of the labels beside an exported model.json (and looked for beside an imported one).
    public static let labelsFileName = "labels.json"

    /// Writes head `version` (default: current) alone into `directory`: its model.json and weight file as
    /// stored, plus labels.json. Replaces `directory` atomically. Returns the head's metadata.
    @discardableResult
    public static func exportHead(from store: HeadStore, version: Int? = nil, to directory: String)
        throws(GesturesError) -> HeadMetadata
    {
        let (_, metadata) = try store.load(version)
        let source = store.directory(of: metadata.version)
        let labels = try labelsFile(metadata, inputShape: metadata.embedder.featureShape, bundle: false)
        do {
            let contents = try TFJSLayersFormat.readFiles(of: source).map { ($0.name, $0.bytes) }
            try FileIO.replaceDirectory(at: directory) { staging throws(NeuralNetError) in
                for (name, bytes) in contents + [(labelsFileName, labels)] {
                    try FileIO.writeAtomically(bytes, to: (staging as NSString).appendingPathComponent(name))
                }
            }
        } catch { throw .model(error) }
        return metadata
    }

    /// Writes head `version` (default: current) as one TF.js Layers model — the installed embedder it was
    /// trained on, cut at its layer, followed by the head — plus labels.json into `directory` (atomically).
    /// Refuses when the installed embedder is not the one the head was trained on (another sha256).
    @discardableResult
    public static func exportBundle(
        from store: HeadStore, version: Int? = nil, models: ModelStore, to directory: String
    )
        throws(GesturesError) -> HeadMetadata
    {
        let (headModel, metadata) = try store.load(version)
        let identity = metadata.embedder
        let embedder: Model
        let modelMetadata: ModelMetadata
        do { (embedder, modelMetadata) = try models.load(identity.modelName) } catch { throw .model(error) }
        guard modelMetadata.source.sha256 == identity.weightsSHA256,
            modelMetadata.normalization.rawValue == identity.normalization
        else {
            throw .headDoesNotFit(
                head: "version \(metadata.version)",
                reason:
                    "it was trained on \(identity.cacheKey), but the installed \(identity.modelName) is "
                    + "\(modelMetadata.source.sha256.prefix(12))/\(modelMetadata.normalization.rawValue)")
        }
        let side = modelMetadata.inputSize
        let labels = try labelsFile(metadata, inputShape: [side, side, 3], bundle: true)
        do {
            let head = try DenseHead(model: headModel)
            let bundle = try head.bundle(
                embedder: embedder, cutLayer: identity.layer, inputShape: [side, side, 3],
                name: "gesturepad_\(identity.modelName)_head_v\(metadata.version)")
            try TFJSLayersFormat.write(bundle, to: directory, extraFiles: [labelsFileName: labels])
        } catch { throw .model(error) }
        return metadata
    }

    /// Imports a head saved by TF.js (`model.save`: model.json with modelTopology + weightsManifest and its
    /// weight file) from `location` (directory or model.json): Input/Flatten → Dense(relu) → Dense(softmax,
    /// with or without bias). `labels` default to labels.json beside model.json (a JSON array of names, or
    /// an object with "labels"). The head's input must be `embedder.featureShape` and its outputs as many as
    /// the labels. Stored as the next version and made current; returns its metadata.
    @discardableResult
    public static func importHead(
        from location: String, labels: LabelSet?, embedder: EmbedderIdentity, mirror: Bool,
        into store: HeadStore
    ) throws(GesturesError) -> HeadMetadata {
        let jsonPath =
            location.hasSuffix(".json") ? location : (location as NSString).appendingPathComponent("model.json")
        let head: DenseHead
        var hashes: [String: String] = [:]
        let generatedBy: String?
        do {
            head = try DenseHead(model: TFJSLayersFormat.read(jsonPath))
            for file in try TFJSLayersFormat.files(of: jsonPath) {
                hashes[file.name] = try ModelStore.sha256(ofFile: file.path)
            }
            generatedBy = try? JSONDecoder().decode(ModelJSON.self, from: Data(try FileIO.read(jsonPath))).generatedBy
        } catch { throw .model(error) }
        let inputShape = head.architecture.inputShape
        guard inputShape == embedder.featureShape else {
            throw .headExchange(
                path: jsonPath,
                reason:
                    "its input is \(inputShape) (\(head.architecture.inputCount) features) but \(embedder.modelName) cut at "
                    + "\(embedder.layer) gives \(embedder.featureShape) (\(embedder.featureShape.reduce(1, *)) features); "
                    + "import it with the --model/--layer it was trained on (nothing was stored)")
        }
        let labelSet: LabelSet
        if let labels {
            labelSet = labels
        } else {
            labelSet = try readLabels(beside: jsonPath)
        }
        guard labelSet.count == head.architecture.classes else {
            throw .headExchange(
                path: jsonPath,
                reason:
                    "it has \(head.architecture.classes) outputs but \(labelSet.count) labels were given (\(labelSet)); give one "
                    + "label per output, in output order (nothing was stored)")
        }
        var metadata = HeadMetadata(
            labels: labelSet, embedder: embedder, mirror: mirror, training: nil,
            imported: HeadImportRecord(
                path: URL(fileURLWithPath: jsonPath).standardizedFileURL.path,
                generatedBy: generatedBy, files: hashes))
        metadata.version = try store.save(head.model(), metadata: metadata)
        return metadata
    }

    /// Class probabilities [N, K] of features [N, h, w, c] (or [N, D], or one [h, w, c]) with `head`.
    public static func predict(_ head: DenseHead, features: Tensor, path: String = "features") throws(GesturesError)
        -> Tensor
    {
        let shape = features.shape
        let expected = head.architecture.inputShape
        let rows: Int
        if shape == expected {
            rows = 1
        } else if shape.count == expected.count + 1, Array(shape.dropFirst()) == expected {
            rows = shape[0]
        } else if shape.count == 2, shape[1] == head.architecture.inputCount {
            rows = shape[0]
        } else {
            throw .headExchange(
                path: path,
                reason: "shape \(shape) does not fit the head's input \(expected): expected "
                    + "[N] + \(expected) or [N, \(head.architecture.inputCount)]")
        }
        guard rows >= 1 else { throw .headExchange(path: path, reason: "holds no samples (shape \(shape))") }
        do {
            return Tensor(shape: [rows, head.architecture.classes], scalars: try head.predict(features.scalars))
        } catch { throw .model(error) }
    }

    /// Labels from labels.json beside `jsonPath`: a JSON array of names or an object with "labels".
    static func readLabels(beside jsonPath: String) throws(GesturesError) -> LabelSet {
        let path = ((jsonPath as NSString).deletingLastPathComponent as NSString).appendingPathComponent(labelsFileName)
        guard FileManager.default.fileExists(atPath: path) else {
            throw .headExchange(
                path: jsonPath,
                reason: "no labels given and no \(labelsFileName) beside it; pass "
                    + "--labels a,b,c in the model's output order")
        }
        let bytes: [UInt8]
        do { bytes = try FileIO.read(path) } catch { throw .model(error) }
        let names: [String]
        if let list = try? JSONDecoder().decode([String].self, from: Data(bytes)) {
            names = list
        } else if let file = try? JSONDecoder().decode(LabelsObject.self, from: Data(bytes)) {
            names = file.labels
        } else {
            throw .headExchange(path: path, reason: "expected a JSON array of label names or an object with \"labels\"")
        }
        return try LabelSet(names)
    }

    private struct LabelsObject: Decodable { var labels: [String] }

    private static func labelsFile(_ metadata: HeadMetadata, inputShape: [Int], bundle: Bool) throws(GesturesError)
        -> [UInt8]
    {
        let normalization = InputNormalization(rawValue: metadata.embedder.normalization)
        let affine = normalization?.affine ?? []
        let file = HeadLabelsFile(
            labels: metadata.labels.names,
            normalization: .init(
                name: metadata.embedder.normalization, scale: affine.map(\.scale), offset: affine.map(\.offset)),
            inputShape: inputShape, mirror: metadata.mirror, embedder: metadata.embedder, headVersion: metadata.version,
            bundle: bundle, outputLayer: HeadLayerNames.output)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do { return Array(try encoder.encode(file)) } catch {
            throw .headExchange(path: labelsFileName, reason: "cannot encode: \(error)")
        }
    }
}
