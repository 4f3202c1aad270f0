// GesturepadConfig: everything `config.toml` sets, as typed values. Filter, head and recording settings
// are the libraries' own types (their defaults are the config's defaults, their `validate` the
// config's range checks); camera and workspace settings map onto `V4L2CameraConfiguration` and
// `WorkspaceConfiguration`. Invariant: a value read by `ConfigLoader` without errors passes every
// `validate`. Which key of config.toml sets which field is SettingsSchema's table, and only there; the
// commented default file is Config/gesturepad.toml; `renderTOML()` writes the effective values.
import Capture
import Foundation
import Gestures
import NeuralNet
import Paths

/// How the camera's exposure is set when it opens (`[camera] exposure`).
public enum ExposureMode: String, Sendable, Equatable, CaseIterable {
    /// Leave the camera's exposure as it is.
    case unchanged
    /// Automatic exposure.
    case auto
    /// A fixed exposure time (`exposure_time_100us`).
    case manual
}

/// Log verbosity of the daemon (`[daemon] log_level`), swift-log's level names.
public enum ConfigLogLevel: String, Sendable, Equatable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}

/// What a label does when recognised: press a key (chord), or nothing.
public enum KeyBinding: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The label presses no key (written "none").
    case unbound
    /// The label holds these keys down while it is recognised.
    case chord(KeyNameChord)

    /// "none" or "KEY_LEFTCTRL+KEY_C".
    public var description: String {
        switch self {
        case .unbound: "none"
        case .chord(let chord): chord.description
        }
    }
}

/// How the daemon shares the camera with other programs (`[camera] share`).
public enum CameraShareMode: String, Sendable, CaseIterable {
    /// Not shared: the daemon alone reads the camera (`pause` releases it for a video call).
    case off
    /// Every camera frame is written to a v4l2loopback device (`[camera] share_device`) that video calls read.
    case v4l2loopback = "v4l2loopback"
}

/// Settings of the daemon process itself (`[daemon]`).
public struct DaemonSection: Sendable, Equatable {
    /// Control socket path as written (nil: `$XDG_RUNTIME_DIR/gesturepad/control.sock`); "~/" allowed.
    public var socketPath: String?
    /// Key (chord) that pauses and resumes recognition, read from the keyboards through evdev; nil (the default):
    /// no hotkey, and no keyboard is read (reading them needs the `input` group, which can read every keystroke).
    public var pauseHotkey: KeyNameChord?
    /// Recognise and log, but press no keys.
    public var dryRun: Bool
    /// Log verbosity.
    public var logLevel: ConfigLogLevel
    /// Data directory as written (nil: `$XDG_DATA_HOME/gesturepad`); "~/" allowed.
    public var dataDirectory: String?

    /// Settings with every value given or defaulted.
    public init(
        socketPath: String? = nil, pauseHotkey: KeyNameChord? = nil, dryRun: Bool = false,
        logLevel: ConfigLogLevel = .info, dataDirectory: String? = nil
    ) {
        self.socketPath = socketPath
        self.pauseHotkey = pauseHotkey
        self.dryRun = dryRun
        self.logLevel = logLevel
        self.dataDirectory = dataDirectory
    }
}

/// The whole configuration of gesturepad: camera, model, labels and keys, decision filter, head
/// training, recording and daemon settings. `GesturepadConfig()` is the built-in defaults.
public struct GesturepadConfig: Sendable, Equatable {
    /// Camera device and format (`[camera]` without `mirror`).
    public var camera: V4L2CameraConfiguration
    /// Mirror frames like a selfie view (`[camera] mirror`).
    public var mirror: Bool
    /// Whether the camera is shared through v4l2loopback (`[camera] share`).
    public var share: CameraShareMode
    /// The v4l2loopback node written to (`[camera] share_device`).
    public var shareDevice: String

    /// The v4l2loopback node `gesturepad share setup` creates (video_nr=10): out of the way of real cameras.
    public static let defaultShareDevice = "/dev/video10"
    /// Installed embedding model (`[model] name`); nil ("" in the file): the current head's model, else
    /// `WorkspaceConfiguration.defaultModel` (see `workspaceConfiguration`).
    public var modelName: String?
    /// Cut layer (`[model] layer`; nil: the model's recorded embedding layer).
    public var layer: String?
    /// Threads the embedder splits its larger steps over (`[model] threads`).
    public var modelThreads: Int
    /// Head classes in output order (`[labels] order`, plus `idle` last when `[labels] idle = true`).
    public var labels: LabelSet
    /// What each non-idle label presses (`[keys]`).
    public var keys: [String: KeyBinding]
    /// The decision filter (`[filter]`).
    public var filter: DecisionFilterSettings
    /// Head training (`[head]`).
    public var head: TrainingOptions
    /// Sample recording (`[recording]`).
    public var recording: RecordingSettings
    /// The lens-cover pause (`[safety]`).
    public var lensCover: LensCoverSettings
    /// The daemon process (`[daemon]`).
    public var daemon: DaemonSection

    /// Exposure time used for `exposure = "manual"` when none is written: 333 × 100 µs ≈ 1/30 s.
    public static let defaultExposureTime100Microseconds = 333
    /// Default key per direction label: the arrow keys.
    public static let defaultKeys: [String: KeyBinding] = [
        "up": .chord(KeyNameChord(["KEY_UP"])), "down": .chord(KeyNameChord(["KEY_DOWN"])),
        "left": .chord(KeyNameChord(["KEY_LEFT"])), "right": .chord(KeyNameChord(["KEY_RIGHT"])),
    ]

    /// The built-in defaults, taken from the libraries' own defaults.
    public init() {
        let workspace = WorkspaceConfiguration(dataDirectory: "")
        camera = V4L2CameraConfiguration()
        mirror = workspace.mirror
        share = .off
        shareDevice = Self.defaultShareDevice
        modelName = nil
        layer = workspace.layer
        modelThreads = workspace.threads
        labels = workspace.labels
        keys = Self.defaultKeys
        filter = DecisionFilterSettings()
        head = TrainingOptions()
        recording = RecordingSettings()
        lensCover = LensCoverSettings()
        daemon = DaemonSection()
    }

    // MARK: Mapping onto the libraries' types

    /// The camera to open.
    public func cameraConfiguration() -> V4L2CameraConfiguration { camera }

    /// The decision filter settings (already validated for `labels`).
    public func decisionFilterSettings() -> DecisionFilterSettings { filter }

    /// The head training options.
    public func trainingOptions() -> TrainingOptions { head }

    /// The recording settings.
    public func recordingSettings() -> RecordingSettings { recording }

    /// The workspace (model, cut, mirror, labels, data directory) under `environment`. With no model named, the
    /// current head's model and cut are used (a head keeps working when the built-in default changes), and without
    /// a head `WorkspaceConfiguration.defaultModel`.
    public func workspaceConfiguration(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> WorkspaceConfiguration {
        let directory = dataDirectory(environment: environment)
        var model = modelName
        var cut = layer
        if model == nil, let followed = WorkspaceConfiguration.modelFollowingCurrentHead(dataDirectory: directory) {
            model = followed.model
            cut = cut ?? followed.layer
        }
        return WorkspaceConfiguration(
            modelName: model ?? WorkspaceConfiguration.defaultModel, layer: cut, mirror: mirror, labels: labels,
            dataDirectory: directory, threads: modelThreads)
    }

    /// The data directory: `[daemon] data_directory` with "~/" expanded, else `$XDG_DATA_HOME/gesturepad`.
    public func dataDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        GesturepadPaths(environment: environment).dataDirectory(configured: daemon.dataDirectory).path
    }

    /// The control socket: `[daemon] socket_path` with "~/" expanded, else
    /// `$XDG_RUNTIME_DIR/gesturepad/control.sock` (`/run/user/<uid>/…` when the variable is unset).
    public func socketPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let paths = GesturepadPaths(environment: environment)
        if let written = daemon.socketPath { return paths.expandingHome(written) }
        return paths.controlSocket(userID: getuid())
    }

    /// The chord `label` presses, nil for idle and unbound labels.
    public func chord(for label: String) -> KeyNameChord? {
        if case .chord(let chord) = keys[label] { return chord }
        return nil
    }
}
