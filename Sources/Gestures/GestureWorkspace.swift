// GestureWorkspace: the user's gesture data opened together — the sample store, the head store,
// the embedding model — paths from `GesturepadPaths` ($XDG_DATA_HOME/gesturepad/…) — and builds
// the trainer and recognizers. The CLI, the game window and the daemon all start here, so they see
// the same samples and heads.
import Foundation
import NeuralNet
import Paths

/// Which model, cut and orientation to use, and where the data lives.
public struct WorkspaceConfiguration: Sendable, Equatable {
    /// Installed embedding model (see `gesturepad model list`).
    public var modelName: String
    /// Cut layer (nil: the model's recorded embedding layer).
    public var layer: String?
    /// Mirror frames (selfie view). Training and recognition always use the same setting.
    public var mirror: Bool
    /// Labels to train and recognise.
    public var labels: LabelSet
    /// `$XDG_DATA_HOME/gesturepad` by default.
    public var dataDirectory: String
    /// Threads the embedder splits its larger steps over (`Embedder.threads`); 1 keeps the live service light.
    public var threads: Int

    /// The model when no config names one and no current head names its own (`modelFollowingCurrentHead`).
    public static let defaultModel = "mobilenet_v1_0.25_224"

    /// The embedder (model and cut layer) of the current head in `dataDirectory`, if there is one whose `head.json`
    /// reads: a config that names no model follows it, so a head keeps working when `defaultModel` changes. An
    /// unreadable store gives nil here and is reported by the head load that follows.
    public static func modelFollowingCurrentHead(dataDirectory: String) -> (model: String, layer: String)? {
        let heads = HeadStore(root: DataDirectory(dataDirectory).headsDirectory)
        guard let metadata = try? heads.currentMetadata() else { return nil }
        return (metadata.embedder.modelName, metadata.embedder.layer)
    }

    public init(
        modelName: String = defaultModel, layer: String? = nil, mirror: Bool = true, labels: LabelSet = .standard,
        dataDirectory: String = WorkspaceConfiguration.defaultDataDirectory(), threads: Int = 1
    ) {
        self.modelName = modelName
        self.layer = layer
        self.mirror = mirror
        self.labels = labels
        self.dataDirectory = dataDirectory
        self.threads = threads
    }

    /// `GesturepadPaths.dataDirectory`: `$XDG_DATA_HOME/gesturepad` (default `~/.local/share/gesturepad`).
    public static func defaultDataDirectory(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> String
    {
        GesturepadPaths(environment: environment).dataDirectory.path
    }
}

/// Samples, heads and the embedder of one configuration.
public final class GestureWorkspace: @unchecked Sendable {
    public let configuration: WorkspaceConfiguration
    public let samples: SampleStore
    public let heads: HeadStore
    /// The training thread's extractor.
    public let trainer: GestureTrainer
    private let prototype: FeatureExtractor

    /// Opens (creating when absent) the stores and loads the model (split over `configuration.threads`).
    public init(_ configuration: WorkspaceConfiguration, models: ModelStore? = nil) throws(GesturesError) {
        self.configuration = configuration
        let directory = DataDirectory(configuration.dataDirectory)
        samples = try SampleStore(path: directory.samplesDatabase)
        heads = HeadStore(root: directory.headsDirectory)
        let modelStore = models ?? ModelStore.userDefault()
        prototype = try FeatureExtractor.load(
            modelName: configuration.modelName, layer: configuration.layer,
            store: modelStore, threads: configuration.threads)
        trainer = GestureTrainer(
            samples: samples, heads: heads, extractor: try prototype.duplicate(),
            mirror: configuration.mirror)
    }

    /// The features heads must fit.
    public var identity: EmbedderIdentity { prototype.identity }

    /// A recognizer with its own extractor and the current stored head (if one fits).
    public func makeRecognizer() throws(GesturesError) -> Recognizer {
        let recognizer = Recognizer(extractor: try prototype.duplicate(), mirror: configuration.mirror)
        try recognizer.swapHead(try trainer.loadCurrentHead())
        return recognizer
    }

    /// An importer that also fills the embedding cache.
    public func makeImporter() throws(GesturesError) -> SampleImporter {
        SampleImporter(
            store: samples, framer: SampleFramer(side: prototype.side, mirror: configuration.mirror),
            extractor: try prototype.duplicate(), cacheKey: trainer.cacheKey)
    }
}
