// HeadStore: trained heads on disk, versioned — `$XDG_DATA_HOME/gesturepad/heads/v0001/` … each a
// TF.js Layers model (model.json + shard, loadable by a browser's tf.loadLayersModel) plus
// `head.json` (labels, the embedder identity it was trained on, mirror, and either the training record
// or, for a head made elsewhere (TF.js `model.save`), where it was imported from). The file
// `heads/current` names the version in use; saving writes the new directory atomically (temp dir +
// fsync + rename) and only then moves `current` (temp file + fsync + rename), so a crash leaves the
// old head or the new one. The previous head stays for `rollback()`; old versions are pruned
// beyond `keep` (never the current one or its predecessor).
import Foundation
import NeuralNet

/// How a head was trained (recorded beside it; shown by `status` and `train`).
public struct HeadTrainingRecord: Codable, Equatable, Sendable {
    public var learningRate: Float
    public var batchSizeFraction: Float
    public var epochs: Int
    public var hiddenUnits: Int
    public var seed: UInt64
    /// Samples per label used for training.
    public var samplesPerLabel: [String: Int]
    public var finalLoss: Float
    public var trainingAccuracy: Float
    /// k-fold accuracy when measured before saving (nil: not measured).
    public var crossValidatedAccuracy: Double?
    /// Accuracy on takes held out of a check run (nil: not measured).
    public var heldOutAccuracy: Double?
    public var milliseconds: Double
    /// ISO 8601 time of training.
    public var trainedAt: String

    public init(
        learningRate: Float, batchSizeFraction: Float, epochs: Int, hiddenUnits: Int, seed: UInt64,
        samplesPerLabel: [String: Int], finalLoss: Float, trainingAccuracy: Float,
        crossValidatedAccuracy: Double? = nil, heldOutAccuracy: Double? = nil, milliseconds: Double,
        trainedAt: Date = Date()
    ) {
        self.learningRate = learningRate
        self.batchSizeFraction = batchSizeFraction
        self.epochs = epochs
        self.hiddenUnits = hiddenUnits
        self.seed = seed
        self.samplesPerLabel = samplesPerLabel
        self.finalLoss = finalLoss
        self.trainingAccuracy = trainingAccuracy
        self.crossValidatedAccuracy = crossValidatedAccuracy
        self.heldOutAccuracy = heldOutAccuracy
        self.milliseconds = milliseconds
        self.trainedAt = ISO8601DateFormatter().string(from: trainedAt)
    }
}

/// Where an imported head came from (`gesturepad head import`): a head trained outside gesturepad.
public struct HeadImportRecord: Codable, Equatable, Sendable {
    /// model.json as given to the import.
    public var path: String
    /// model.json's `generatedBy` (e.g. "TensorFlow.js tfjs-layers v2.3.0"), if present.
    public var generatedBy: String?
    /// SHA-256 of model.json and of each weight file, by file name.
    public var files: [String: String]
    /// ISO 8601 time of import.
    public var importedAt: String

    public init(path: String, generatedBy: String?, files: [String: String], importedAt: Date = Date()) {
        self.path = path
        self.generatedBy = generatedBy
        self.files = files
        self.importedAt = ISO8601DateFormatter().string(from: importedAt)
    }
}

/// `head.json`: what a stored head predicts and which features it needs.
public struct HeadMetadata: Codable, Equatable, Sendable {
    public static let fileName = "head.json"
    /// Format version of this file.
    public var formatVersion: Int = 1
    /// Store version (1, 2, …); 0 before saving.
    public var version: Int
    public var labels: LabelSet
    /// The features the head was trained on; a head is refused for any other embedder.
    public var embedder: EmbedderIdentity
    /// Whether sample frames were mirrored.
    public var mirror: Bool
    /// How gesturepad trained it (nil for an imported head).
    public var training: HeadTrainingRecord?
    /// Where it was imported from (nil for a head gesturepad trained).
    public var imported: HeadImportRecord?

    public init(
        version: Int = 0, labels: LabelSet, embedder: EmbedderIdentity, mirror: Bool, training: HeadTrainingRecord?,
        imported: HeadImportRecord? = nil
    ) {
        self.version = version
        self.labels = labels
        self.embedder = embedder
        self.mirror = mirror
        self.training = training
        self.imported = imported
    }

    /// Throws unless this head fits `identity` (same model weights, cut layer, normalisation, shape).
    public func checkFits(_ identity: EmbedderIdentity) throws(GesturesError) {
        guard embedder == identity else {
            throw .headDoesNotFit(
                head: "version \(version)",
                reason:
                    "it was trained on \(embedder.cacheKey) \(embedder.featureShape), the current embedder is "
                    + "\(identity.cacheKey) \(identity.featureShape)")
        }
    }
}

/// The versioned head directory.
public struct HeadStore: Sendable {
    public let root: String
    /// How many versions to keep (the current one and its predecessor are always kept).
    public var keep: Int

    public init(root: String, keep: Int = 10) {
        self.root = root
        self.keep = max(2, keep)
    }

    /// Directory of `version`.
    public func directory(of version: Int) -> String {
        (root as NSString).appendingPathComponent(String(format: "v%04d", version))
    }

    private var currentFile: String { (root as NSString).appendingPathComponent("current") }

    /// Stored versions, ascending (directories that hold a readable model.json and head.json name).
    public func versions() -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.compactMap { name -> Int? in
            guard name.count == 5, name.hasPrefix("v"), let version = Int(name.dropFirst()), version > 0 else {
                return nil
            }
            let directory = directory(of: version)
            let fileManager = FileManager.default
            guard fileManager.fileExists(atPath: directory + "/model.json"),
                fileManager.fileExists(atPath: directory + "/" + HeadMetadata.fileName)
            else { return nil }
            return version
        }.sorted()
    }

    /// The version in use, if any. A `current` naming a missing version counts as none.
    public func currentVersion() throws(GesturesError) -> Int? {
        guard FileManager.default.fileExists(atPath: currentFile) else { return nil }
        let bytes: [UInt8]
        do { bytes = try FileIO.read(currentFile) } catch { throw .model(error) }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let version = Int(text), version > 0 else {
            throw .headStoreCorrupt(path: currentFile, reason: "expected a version number, found '\(text.prefix(40))'")
        }
        return versions().contains(version) ? version : nil
    }

    /// Saves `model` with `metadata` as the next version and makes it current. Returns the version.
    @discardableResult
    public func save(_ model: Model, metadata: HeadMetadata) throws(GesturesError) -> Int {
        let version = (versions().last ?? 0) + 1
        var metadata = metadata
        metadata.version = version
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let metadataBytes: [UInt8]
        do { metadataBytes = Array(try encoder.encode(metadata)) } catch {
            throw .headStoreCorrupt(path: directory(of: version), reason: "cannot encode head.json: \(error)")
        }
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            throw .model(.fileUnwritable(path: root, reason: FileIO.describe(error)))
        }
        do {
            try TFJSLayersFormat.write(
                model, to: directory(of: version), extraFiles: [HeadMetadata.fileName: metadataBytes])
        } catch { throw .model(error) }
        try makeCurrent(version)
        prune()
        return version
    }

    /// Loads `version` (default: the current one): the TF.js model and its metadata.
    public func load(_ version: Int? = nil) throws(GesturesError) -> (model: Model, metadata: HeadMetadata) {
        let current = try currentVersion()
        guard let chosen = version ?? current else { throw .noHead(store: root) }
        let directory = directory(of: chosen)
        guard versions().contains(chosen) else { throw .headVersionMissing(version: chosen, available: versions()) }
        let model: Model
        do { model = try TFJSLayersFormat.read(directory) } catch { throw .model(error) }
        return (model, try Self.readMetadata(in: directory))
    }

    /// The current head's metadata alone (`head.json`, not the weights); nil without a current head.
    public func currentMetadata() throws(GesturesError) -> HeadMetadata? {
        guard let current = try currentVersion(), versions().contains(current) else { return nil }
        return try Self.readMetadata(in: directory(of: current))
    }

    private static func readMetadata(in directory: String) throws(GesturesError) -> HeadMetadata {
        let path = directory + "/" + HeadMetadata.fileName
        let bytes: [UInt8]
        do { bytes = try FileIO.read(path) } catch { throw .model(error) }
        do {
            return try JSONDecoder().decode(HeadMetadata.self, from: Data(bytes))
        } catch {
            throw .headStoreCorrupt(path: path, reason: TFJSLayersFormat.describe(decodingError: error))
        }
    }

    /// Makes `version` current (atomic replace of `heads/current`).
    public func makeCurrent(_ version: Int) throws(GesturesError) {
        guard versions().contains(version) else { throw .headVersionMissing(version: version, available: versions()) }
        do { try FileIO.writeAtomically(Array("\(version)\n".utf8), to: currentFile) } catch { throw .model(error) }
    }

    /// Goes back to the newest version older than the current one; returns it.
    @discardableResult
    public func rollback() throws(GesturesError) -> Int {
        guard let current = try currentVersion() else { throw .noHead(store: root) }
        guard let previous = versions().last(where: { $0 < current }) else {
            throw .noEarlierHead(current: current, available: versions())
        }
        try makeCurrent(previous)
        return previous
    }

    /// Deletes the oldest versions beyond `keep`, never the current one or the one before it.
    public func prune() {
        let all = versions()
        guard all.count > keep else { return }
        let current = (try? currentVersion()) ?? all.last!
        let protected = Set([current, all.last(where: { $0 < current }) ?? current])
        var excess = all.count - keep
        for version in all where excess > 0 && !protected.contains(version) {
            try? FileManager.default.removeItem(atPath: directory(of: version))
            excess -= 1
        }
    }
}
