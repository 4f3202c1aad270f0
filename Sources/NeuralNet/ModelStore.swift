// ModelStore: the installed models under `$XDG_DATA_HOME/gesturepad/models/<name>/` (model.json,
// shards and gesturepad.json metadata). Installing imports a source file (TF GraphDef .pb,
// PyTorch .pth, or a TF.js Layers directory), records where it came from (sha256) and replaces
// the model directory atomically, so a crash leaves the old model or the new one, never half. The importers
// themselves (and the hashing) live in the Importers target, which only the CLI links.
import Foundation
import Paths

/// The directory of installed models.
public struct ModelStore: Sendable {
    /// Directory holding one sub-directory per model.
    public let root: String

    public init(root: String) { self.root = root }

    /// The user's models: `GesturepadPaths.modelsDirectory` (`$XDG_DATA_HOME/gesturepad/models`).
    public static func userDefault(environment: [String: String] = ProcessInfo.processInfo.environment) -> ModelStore {
        ModelStore(root: GesturepadPaths(environment: environment).modelsDirectory)
    }

    /// Directory of the model called `name`.
    public func directory(of name: String) -> String { (root as NSString).appendingPathComponent(name) }

    /// Metadata of every installed model, by name; unreadable entries are reported, not skipped silently.
    public func list() -> [(name: String, metadata: Result<ModelMetadata, NeuralNetError>)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.filter { !$0.contains(".staging-") && !$0.contains(".old-") && !$0.hasPrefix(".") }.sorted().map {
            name in
            (name, Result { () throws(NeuralNetError) in try ModelMetadata.read(directory: directory(of: name)) })
        }
    }

    /// Whether a model called `name` is installed (its metadata reads).
    public func contains(_ name: String) -> Bool {
        (try? ModelMetadata.read(directory: directory(of: name))) != nil
    }

    /// Loads an installed model and its metadata.
    public func load(_ name: String) throws(NeuralNetError) -> (model: Model, metadata: ModelMetadata) {
        let directory = directory(of: name)
        guard FileManager.default.fileExists(atPath: directory) else {
            throw .modelNotInstalled(name: name, store: root, installed: list().map(\.name))
        }
        return (try TFJSLayersFormat.read(directory), try ModelMetadata.read(directory: directory))
    }

    /// Writes `model` and `metadata` as `metadata.name`, replacing any model of that name atomically.
    public func install(_ model: Model, metadata: ModelMetadata) throws(NeuralNetError) {
        let metadataBytes = try metadata.encoded()
        try TFJSLayersFormat.write(
            model, to: directory(of: metadata.name), extraFiles: [ModelMetadata.fileName: metadataBytes])
    }

    /// Copies a TF.js Layers model (model.json and every weight file its manifest names) byte for byte
    /// into the directory of `metadata.name`, with `gesturepad.json`, replacing any model of that name atomically.
    public func installUnchanged(tfjsModel path: String, metadata: ModelMetadata) throws(NeuralNetError) {
        let contents = try TFJSLayersFormat.readFiles(of: path)
        let metadataBytes = try metadata.encoded()
        try FileIO.replaceDirectory(at: directory(of: metadata.name)) { staging throws(NeuralNetError) in
            for (name, bytes) in contents {
                try FileIO.writeAtomically(bytes, to: (staging as NSString).appendingPathComponent(name))
            }
            try FileIO.writeAtomically(
                metadataBytes, to: (staging as NSString).appendingPathComponent(ModelMetadata.fileName))
        }
    }
}
