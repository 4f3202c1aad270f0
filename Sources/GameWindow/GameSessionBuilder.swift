// GameSessionBuilder: turns the `play` command's choices into a GameSession — opens the workspace
// (samples, heads, the embedding model), the live recognizer with the stored head, the pipeline on
// the chosen source, the trainer. Whatever cannot be opened is left out with a reason the screen
// shows (and the CLI prints): no model → keyboard play and tiles only; no camera → keyboard play.
// The builder the CLI and the tests both call (hummingbird's `App+build` habit).
import Capture
import Foundation
import Gestures
import NeuralNet
import Paths

/// The choices of `gesturepad play`.
public struct PlayConfiguration: Sendable {
    /// Model, labels, mirroring and data directory.
    public var workspace: WorkspaceConfiguration
    /// Camera device or recording to read (nil: no camera).
    public var source: String?
    /// How file sources are paced (`.realTime` for play, `.asFastAsPossible` for screenshots).
    public var pacing: FramePacing
    /// The screen to start on.
    public var screen: AppScreen
    /// The first game's seed.
    public var seed: UInt64
    /// Camera format to ask for (device aside: that is `source`); the config's [camera].
    public var camera = V4L2CameraConfiguration()
    /// The decision filter steering the game; the config's [filter].
    public var filter = DecisionFilterSettings.default
    /// How the training screen keeps samples; the config's [recording].
    public var recording = RecordingSettings()
    /// Covering the lens pauses the gestures (keys up), covering it again resumes.
    public var lensCover = LensCoverSettings()
    /// Head training from the training screen; the config's [head].
    public var training = TrainingOptions(seed: 1)

    /// A configuration; by default the camera /dev/video0, real-time pacing, the training screen.
    public init(
        workspace: WorkspaceConfiguration = WorkspaceConfiguration(), source: String? = "/dev/video0",
        pacing: FramePacing = .realTime, screen: AppScreen = .training, seed: UInt64 = 1
    ) {
        self.workspace = workspace
        self.source = source
        self.pacing = pacing
        self.screen = screen
        self.seed = seed
    }
}

/// Builds sessions.
public enum GameSessionBuilder {
    /// A session for `configuration`, plus warnings about what could not be opened (for the CLI to print).
    public static func build(_ configuration: PlayConfiguration, models: ModelStore? = nil) -> (
        session: GameSession, warnings: [String]
    ) {
        var warnings: [String] = []
        var parts = GameSessionParts()
        parts.editedSettingsPath = DataDirectory(configuration.workspace.dataDirectory).editedSettings
        let labels = configuration.workspace.labels
        do {
            let workspace = try GestureWorkspace(configuration.workspace, models: models)
            parts.store = workspace.samples
            let recognizer: Recognizer
            do {
                recognizer = try workspace.makeRecognizer()
            } catch {
                // A stored head that does not fit (another model) must not stop play: start without one.
                warnings.append("the stored head is not used: \(error.description)")
                recognizer = Recognizer(
                    extractor: try workspace.trainer.extractor.duplicate(), mirror: configuration.workspace.mirror)
            }
            parts.recognizer = recognizer
            var opener: FrameSourceOpener?
            if let source = configuration.source {
                let pacing = configuration.pacing
                opener = { [camera = configuration.camera] () throws(CaptureError) -> any FrameSource in
                    try FrameSources.open(source, pacing: pacing, loops: true, camera: camera)
                }
            }
            parts.pipeline = try GesturePipeline(
                recognizer: recognizer,
                storage: .init(store: workspace.samples, cacheKey: workspace.trainer.cacheKey), labels: labels,
                sourceName: configuration.source ?? "camera", filterSettings: configuration.filter,
                recordingSettings: configuration.recording, trainer: workspace.trainer,
                trainingOptions: configuration.training, lensCover: configuration.lensCover, opener: opener)
        } catch {
            let reason = "\(error.description)"
            parts.gesturesUnavailableReason = Self.shortModelReason(error, model: configuration.workspace.modelName)
            warnings.append("gestures are off: \(reason)")
            // The samples still show on the tiles.
            parts.store = try? SampleStore(path: DataDirectory(configuration.workspace.dataDirectory).samplesDatabase)
        }
        let app = App(
            labels: labels, screen: configuration.screen, seed: configuration.seed,
            trainingOptions: configuration.training, recordKeys: RecordKeySettings(recording: configuration.recording))
        return (GameSession(app: app, parts: parts), warnings)
    }

    /// A screen-sized reason for a workspace that did not open.
    static func shortModelReason(_ error: GesturesError, model: String) -> String {
        switch error {
        case .model:
            "the model \(model) is not installed or unreadable. Run `make models`, then `gesturepad model list`."
        default:
            error.description
        }
    }
}
