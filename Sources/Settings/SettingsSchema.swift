// SettingsSchema: every key of config.toml declared once — section, name, kind (type with its allowed
// range or values), one-line doc, whether a change applies on reload or needs a restart, and how the
// key reads and writes `GesturepadConfig`. Defaults are not written here: a key's default is what it
// reads from `GesturepadConfig()`, i.e. the libraries' own defaults (DecisionFilterSettings,
// TrainingOptions, RecordingSettings, V4L2CameraConfiguration, WorkspaceConfiguration); ranges
// reuse the libraries' range constants where they exist. ConfigDecoder decodes and checks by this
// table, ConfigRendering renders it, `config show --doc` prints its docs, and a test checks that
// Config/gesturepad.toml documents exactly these keys with these defaults.
// Invariant: keys are applied in table order, so a key that depends on another comes after it
// (exposure before exposure_time_100us; labels before [keys] and the per-label thresholds).
import Capture
import Gestures
import NeuralNet

/// Allowed values of a number: a lower and an upper bound, each inclusive or not, and a unit.
public struct SettingBounds: Sendable, Equatable, CustomStringConvertible {
    public var lower: Double
    public var lowerInclusive: Bool
    public var upper: Double
    public var upperInclusive: Bool
    /// Appended to the closed-range form ("0...10000 ms").
    public var unit: String?

    /// `lower ≤ value ≤ upper`.
    public static func closed(_ range: ClosedRange<Int>, unit: String? = nil) -> SettingBounds {
        SettingBounds(
            lower: Double(range.lowerBound), lowerInclusive: true, upper: Double(range.upperBound),
            upperInclusive: true, unit: unit)
    }

    /// `lower ≤ value ≤ upper` for fractional values.
    public static func closed(_ range: ClosedRange<Double>, unit: String? = nil) -> SettingBounds {
        SettingBounds(
            lower: range.lowerBound, lowerInclusive: true, upper: range.upperBound, upperInclusive: true, unit: unit)
    }

    /// `lower < value ≤ upper`.
    public static func aboveZero(atMost upper: Double) -> SettingBounds {
        SettingBounds(lower: 0, lowerInclusive: false, upper: upper, upperInclusive: true)
    }

    /// `lower ≤ value < upper`.
    public static func from(_ lower: Double, below upper: Double) -> SettingBounds {
        SettingBounds(lower: lower, lowerInclusive: true, upper: upper, upperInclusive: false)
    }

    /// Whether `value` is allowed (NaN never is).
    public func contains(_ value: Double) -> Bool {
        (lowerInclusive ? value >= lower : value > lower) && (upperInclusive ? value <= upper : value < upper)
    }

    /// "1...240", "0...10000 ms", "0 < value ≤ 1", "0 ≤ value < 1".
    public var description: String {
        if lowerInclusive && upperInclusive {
            return "\(Self.number(lower))...\(Self.number(upper))" + (unit.map { " \($0)" } ?? "")
        }
        return "\(Self.number(lower)) \(lowerInclusive ? "≤" : "<") value \(upperInclusive ? "≤" : "<") "
            + Self.number(upper) + (unit.map { " \($0)" } ?? "")
    }

    /// Whole numbers without ".0"; others in Swift's shortest form.
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? "\(Int(value))" : "\(value)"
    }
}

/// What a string must look like.
public enum TextRule: Sendable, Equatable {
    /// Any string.
    case any
    /// Not empty; `message` and `hint` say what to write.
    case nonEmpty(message: String, hint: String)
    /// "" (the default place) or an absolute path or one starting with "~/", of at most `maximumBytes`.
    case path(maximumBytes: Int?)
}

/// The type of a key and what values it allows.
public enum SettingKind: Sendable, Equatable {
    /// A whole number in `bounds`.
    case integer(SettingBounds)
    /// A number (integers accepted) in `bounds`; `single`: stored as Float, rendered in Float's shortest form.
    case number(SettingBounds, single: Bool)
    /// true or false.
    case boolean
    /// A string following `rule`.
    case text(TextRule)
    /// One of `choices`.
    case choice([String])
    /// An array of label names (no "idle", no repeats).
    case labelOrder
    /// A key chord ("KEY_A", "KEY_LEFTCTRL+KEY_C") or "none".
    case keyChord
    /// A table `label = number` with each number in `bounds` (rendered as a `[section.name]` subtable).
    case labelNumbers(SettingBounds)
    /// The whole section is a table `label = key chord` (`[keys]`).
    case labelKeys

    /// What the value must be, for type errors and `config show --doc`.
    public var expected: String {
        switch self {
        case .integer: "an integer"
        case .number: "a number"
        case .boolean: "true or false"
        case .text: "a string in quotes"
        case .choice: "a string in quotes"
        case .labelOrder: "an array of label names"
        case .keyChord: "a key name in quotes (\"KEY_UP\")"
        case .labelNumbers: "a table of label = threshold"
        case .labelKeys: "a key name in quotes (\"KEY_UP\")"
        }
    }

    /// "integer 1...240", "one of "yuyv", "rgb24"", for `config show --doc`.
    public var summary: String {
        switch self {
        case .integer(let bounds): "integer \(bounds)"
        case .number(let bounds, _): "number \(bounds)"
        case .boolean: "true or false"
        case .text(.path): "absolute path or \"\" (default place)"
        case .text: "string"
        case .choice(let choices): "one of " + choices.map { "\"\($0)\"" }.joined(separator: ", ")
        case .labelOrder: "array of label names"
        case .keyChord: "key chord or \"none\""
        case .labelNumbers(let bounds): "label = number \(bounds)"
        case .labelKeys: "label = key chord or \"none\""
        }
    }
}

/// A decoded value of one key.
public enum SettingValue: Sendable, Equatable {
    case integer(Int)
    case number(Double)
    case boolean(Bool)
    case text(String)
    case texts([String])
    case binding(KeyBinding)
    case labelNumbers([String: Double])
    case labelKeys([String: KeyBinding])
}

/// When a changed value takes effect in a running daemon.
public enum SettingApplication: String, Sendable, Equatable {
    /// `gesturepad reload` / SIGHUP applies it.
    case reload
    /// Only a restart applies it (the workspace, the key device, the socket and the log are set up once).
    case restart
}

/// One key of config.toml.
public struct SettingKey: Sendable {
    /// "camera".
    public let section: String
    /// "fps" (for `.labelKeys`, "*": the section's keys are the labels).
    public let name: String
    public let kind: SettingKind
    /// One line saying what the key does (Config/gesturepad.toml explains it at length).
    public let doc: String
    public let application: SettingApplication
    /// The field name the library's `validate` uses for it ("dwellMilliseconds"), to place its findings.
    public let libraryField: String?
    /// The key's value in `config`.
    public let read: @Sendable (GesturepadConfig) -> SettingValue
    /// Stores a checked value; a rejection is reported at the key (labels that no longer form a set).
    public let write: @Sendable (inout GesturepadConfig, SettingValue) throws(SettingRejection) -> Void

    init(
        _ section: String, _ name: String, _ kind: SettingKind, _ application: SettingApplication,
        field libraryField: String? = nil, doc: String,
        read: @escaping @Sendable (GesturepadConfig) -> SettingValue,
        write: @escaping @Sendable (inout GesturepadConfig, SettingValue) throws(SettingRejection) -> Void
    ) {
        self.section = section
        self.name = name
        self.kind = kind
        self.doc = doc
        self.application = application
        self.libraryField = libraryField
        self.read = read
        self.write = write
    }

    /// "camera.fps" (for `[keys]`, "keys").
    public var dottedName: String { kind == .labelKeys ? section : "\(section).\(name)" }

    /// The built-in default: the value read from `GesturepadConfig()`.
    public var defaultValue: SettingValue { read(GesturepadConfig()) }
}

/// Why a value cannot be stored even though it has the right type and range.
public struct SettingRejection: Error, Sendable {
    public var message: String
    public var hint: String?
    /// Report at this key instead of the one written (e.g. the label list when `idle = false` leaves one class).
    public var reportAt: String?
}

// MARK: - The table

/// The keys of config.toml in file order.
public enum SettingsSchema {
    /// Camera limits the capture library does not state (it checks only positivity when it opens the device).
    public static let frameSizeRange = 16...8192
    public static let framesPerSecondRange = 1...240
    /// `[model] threads`: 1 up to one caller plus the worker pool's most workers.
    public static let modelThreadsRange = 1...64
    public static let bufferCountRange = 1...32  // VIDEO_MAX_FRAME
    public static let exposureTimeRange = 1...100_000  // 100 µs units: up to 10 s
    /// `sun_path` holds 108 bytes including the terminating NUL.
    public static let maximumSocketPathBytes = 107
    /// A probability threshold of the decision filter: (0, 1].
    static let thresholdBounds = SettingBounds.aboveZero(atMost: 1)

    /// Every key, in the order of Config/gesturepad.toml.
    public static let keys: [SettingKey] =
        camera + model + labels + bindings + filter + head + recording + safety
        + daemon

    /// The sections in file order.
    public static let sections: [String] = keys.reduce(into: []) { if $0.last != $1.section { $0.append($1.section) } }

    /// The keys of `section` in file order.
    public static func keys(in section: String) -> [SettingKey] { keys.filter { $0.section == section } }

    /// The key "section.name", nil when there is none.
    public static func key(_ dottedName: String) -> SettingKey? { keys.first { $0.dottedName == dottedName } }

    private static let camera: [SettingKey] = [
        SettingKey(
            "camera", "device",
            .text(
                .nonEmpty(
                    message: "must name a device such as \"/dev/video0\"",
                    hint: "`gesturepad devices` lists the cameras")),
            .reload, doc: "Camera device node, short name or /dev/v4l/by-id/ name (or a .y4m recording).",
            read: { .text($0.camera.device) }, write: { config, value in config.camera.device = value.text }),
        SettingKey(
            "camera", "width", .integer(.closed(frameSizeRange)), .reload, doc: "Frame width to ask for, in pixels.",
            read: { .integer($0.camera.width) }, write: { config, value in config.camera.width = value.integer }),
        SettingKey(
            "camera", "height", .integer(.closed(frameSizeRange)), .reload, doc: "Frame height to ask for, in pixels.",
            read: { .integer($0.camera.height) }, write: { config, value in config.camera.height = value.integer }),
        SettingKey(
            "camera", "fps", .integer(.closed(framesPerSecondRange)), .reload, doc: "Frames per second to ask for.",
            read: { .integer($0.camera.framesPerSecond) },
            write: { config, value in config.camera.framesPerSecond = value.integer }),
        SettingKey(
            "camera", "pixel_format", .choice(CameraPixelFormat.allCases.map(\.rawValue)), .reload,
            doc: "Layout frames are delivered in.",
            read: { .text($0.camera.pixelFormat.rawValue) },
            write: { config, value in config.camera.pixelFormat = PixelFormat(rawValue: value.text) ?? .yuyv }),
        SettingKey(
            "camera", "buffer_count", .integer(.closed(bufferCountRange)), .reload,
            doc: "Driver buffers in the capture ring.",
            read: { .integer($0.camera.bufferCount) },
            write: { config, value in config.camera.bufferCount = value.integer }),
        SettingKey(
            "camera", "mirror", .boolean, .restart,
            doc: "Mirror frames left-right like a selfie view (samples must agree).",
            read: { .boolean($0.mirror) }, write: { config, value in config.mirror = value.boolean }),
        SettingKey(
            "camera", "share", .choice(CameraShareMode.allCases.map(\.rawValue)), .restart,
            doc: "Share the camera with video calls through a v4l2loopback device (\"off\" or \"v4l2loopback\").",
            read: { .text($0.share.rawValue) },
            write: { config, value in config.share = CameraShareMode(rawValue: value.text) ?? .off }),
        SettingKey(
            "camera", "share_device",
            .text(
                .nonEmpty(
                    message: "must name a v4l2loopback device such as \"/dev/video10\"",
                    hint: "`gesturepad share setup` creates one; `gesturepad devices` marks it")),
            .restart, doc: "The v4l2loopback device node the camera's frames are written to.",
            read: { .text($0.shareDevice) }, write: { config, value in config.shareDevice = value.text }),
        SettingKey(
            "camera", "exposure", .choice(ExposureMode.allCases.map(\.rawValue)), .reload,
            doc: "How the exposure is set when the camera opens.",
            read: { .text(ExposureMode($0.camera.exposure).rawValue) },
            write: { config, value in
                let exposure = config.camera.exposure
                switch ExposureMode(rawValue: value.text) ?? .unchanged {
                case .unchanged: config.camera.exposure = .unchanged
                case .auto: config.camera.exposure = .automatic(allowFrameRateDrop: exposure.allowsFrameRateDrop)
                case .manual: config.camera.exposure = .manual(hundredMicroseconds: exposure.manualTime)
                }
            }),
        SettingKey(
            "camera", "exposure_time_100us", .integer(.closed(exposureTimeRange)), .reload,
            doc: "Exposure time for exposure = \"manual\", in 100 µs units.",
            read: { .integer($0.camera.exposure.manualTime) },
            write: { config, value in
                if case .manual = config.camera.exposure {
                    config.camera.exposure = .manual(hundredMicroseconds: value.integer)
                }
            }),
        SettingKey(
            "camera", "allow_frame_rate_drop", .boolean, .reload,
            doc: "With exposure = \"auto\": whether the camera may drop below fps in dim light.",
            read: { .boolean($0.camera.exposure.allowsFrameRateDrop) },
            write: { config, value in
                if case .automatic = config.camera.exposure {
                    config.camera.exposure = .automatic(allowFrameRateDrop: value.boolean)
                }
            }),
    ]

    private static let model: [SettingKey] = [
        SettingKey(
            "model", "name", .text(.any), .restart,
            doc: "The installed embedding model; \"\" means the current head's model, else the built-in default.",
            read: { .text($0.modelName ?? "") },
            write: { config, value in config.modelName = value.text.isEmpty ? nil : value.text }),
        SettingKey(
            "model", "layer", .text(.any), .restart, doc: "The layer the model is cut at; \"\" means the model's own.",
            read: { .text($0.layer ?? "") },
            write: { config, value in config.layer = value.text.isEmpty ? nil : value.text }),
        SettingKey(
            "model", "threads", .integer(.closed(modelThreadsRange)), .restart,
            doc: "Threads the embedder splits its larger layers over (1 keeps the service light).",
            read: { .integer($0.modelThreads) }, write: { config, value in config.modelThreads = value.integer }),
    ]

    private static let labels: [SettingKey] = [
        SettingKey(
            "labels", "order", .labelOrder, .restart, doc: "The gestures the head learns, in output order.",
            read: { .texts($0.labels.names.filter { $0 != LabelSet.idle }) },
            write: { config, value throws(SettingRejection) in
                try config.setLabels(value.texts, idle: config.labels.hasIdle)
            }),
        SettingKey(
            "labels", "idle", .boolean, .restart, doc: "Add the \"idle\" class (last), which presses nothing.",
            read: { .boolean($0.labels.hasIdle) },
            write: { config, value throws(SettingRejection) in
                try config.setLabels(config.labels.names.filter { $0 != LabelSet.idle }, idle: value.boolean)
            }),
    ]

    private static let bindings: [SettingKey] = [
        SettingKey(
            "keys", "*", .labelKeys, .restart, doc: "The key (chord) each label holds down, or \"none\".",
            read: { config in .labelKeys(config.keys) }, write: { config, value in config.keys = value.labelKeys })
    ]

    private static let filter: [SettingKey] = [
        SettingKey(
            "filter", "enter", .number(thresholdBounds, single: true), .reload, field: "enterThreshold",
            doc: "Probability a label must reach to start a press.",
            read: { .number(Double($0.filter.enterThreshold)) },
            write: { config, value in config.filter.enterThreshold = Float(value.number) }),
        SettingKey(
            "filter", "exit", .number(thresholdBounds, single: true), .reload, field: "exitThreshold",
            doc: "Probability below which a held key is released (below enter).",
            read: { .number(Double($0.filter.exitThreshold)) },
            write: { config, value in config.filter.exitThreshold = Float(value.number) }),
        SettingKey(
            "filter", "dwell_ms", .integer(.closed(DecisionFilterSettings.dwellRange, unit: "ms")), .reload,
            field: "dwellMilliseconds",
            doc: "Milliseconds a label must stay on top above enter before its key goes down.",
            read: { .integer($0.filter.dwellMilliseconds) },
            write: { config, value in config.filter.dwellMilliseconds = value.integer }),
        SettingKey(
            "filter", "refractory_ms", .integer(.closed(DecisionFilterSettings.refractoryRange, unit: "ms")), .reload,
            field: "refractoryMilliseconds", doc: "Milliseconds after a release before a new press may start.",
            read: { .integer($0.filter.refractoryMilliseconds) },
            write: { config, value in config.filter.refractoryMilliseconds = value.integer }),
        SettingKey(
            "filter", "smoothing_ms", .integer(.closed(DecisionFilterSettings.smoothingRange, unit: "ms")), .reload,
            field: "smoothingTimeConstantMilliseconds", doc: "Time constant of probability smoothing; 0 is off.",
            read: { .integer($0.filter.smoothingTimeConstantMilliseconds) },
            write: { config, value in config.filter.smoothingTimeConstantMilliseconds = value.integer }),
        SettingKey(
            "filter", "stale_ms", .integer(.closed(DecisionFilterSettings.staleInputTimeoutRange, unit: "ms")), .reload,
            field: "staleInputTimeoutMilliseconds", doc: "Milliseconds without a frame before held keys are released.",
            read: { .integer($0.filter.staleInputTimeoutMilliseconds) },
            write: { config, value in config.filter.staleInputTimeoutMilliseconds = value.integer }),
        SettingKey(
            "filter", "enter_by_label", .labelNumbers(thresholdBounds), .reload,
            doc: "Per-label enter thresholds replacing `enter`.",
            read: { .labelNumbers($0.filter.enterThresholdByLabel.mapValues(Double.init)) },
            write: { config, value in config.filter.enterThresholdByLabel = value.labelNumbers.mapValues(Float.init) }),
        SettingKey(
            "filter", "exit_by_label", .labelNumbers(thresholdBounds), .reload,
            doc: "Per-label exit thresholds replacing `exit`.",
            read: { .labelNumbers($0.filter.exitThresholdByLabel.mapValues(Double.init)) },
            write: { config, value in config.filter.exitThresholdByLabel = value.labelNumbers.mapValues(Float.init) }),
    ]

    private static let head: [SettingKey] = [
        SettingKey(
            "head", "learning_rate", .number(.closed(TrainingOptions.learningRateRange), single: false), .reload,
            field: "learningRate", doc: "Adam step size of head training.",
            read: { .number($0.head.learningRate) }, write: { config, value in config.head.learningRate = value.number }
        ),
        SettingKey(
            "head", "batch_fraction",
            .number(.aboveZero(atMost: TrainingOptions.batchSizeFractionRange.upperBound), single: false),
            .reload, field: "batchSizeFraction", doc: "Mini-batch size as a fraction of the sample count.",
            read: { .number($0.head.batchSizeFraction) },
            write: { config, value in config.head.batchSizeFraction = value.number }),
        SettingKey(
            "head", "epochs", .integer(.closed(TrainingOptions.epochsRange)), .reload, field: "epochs",
            doc: "Passes over all samples per training run.",
            read: { .integer($0.head.epochs) }, write: { config, value in config.head.epochs = value.integer }),
        SettingKey(
            "head", "hidden_units", .integer(.closed(TrainingOptions.hiddenUnitsRange)), .reload, field: "hiddenUnits",
            doc: "Units in the head's hidden layer.",
            read: { .integer($0.head.hiddenUnits) }, write: { config, value in config.head.hiddenUnits = value.integer }
        ),
        SettingKey(
            "head", "seed", .integer(.closed(0...Int.max)), .reload,
            doc: "Seed of weight initialisation and shuffling.",
            read: { .integer(Int(clamping: $0.head.seed)) },
            write: { config, value in config.head.seed = UInt64(max(0, value.integer)) }),
    ]

    private static let recording: [SettingKey] = [
        SettingKey(
            "recording", "samples_per_second", .number(.aboveZero(atMost: 120), single: false), .reload,
            field: "samples_per_second", doc: "At most this many samples are kept per second while recording.",
            read: { .number($0.recording.samplesPerSecond) },
            write: { config, value in config.recording.samplesPerSecond = value.number }),
        SettingKey(
            "recording", "duplicate_distance", .number(.from(0, below: 1), single: true), .reload,
            field: "duplicate_distance", doc: "Relative embedding distance below which a frame is a near-duplicate.",
            read: { .number(Double($0.recording.duplicateDistance)) },
            write: { config, value in config.recording.duplicateDistance = Float(value.number) }),
        SettingKey(
            "recording", "countdown_seconds", .number(.closed(0.0...30.0, unit: "seconds"), single: false), .reload,
            field: "countdown_seconds", doc: "Seconds of countdown before the first sample is kept.",
            read: { .number($0.recording.countdownSeconds) },
            write: { config, value in config.recording.countdownSeconds = value.number }),
    ]

    private static let safety: [SettingKey] = [
        SettingKey(
            "safety", "lens_cover", .boolean, .reload,
            doc: "Covering the lens for lens_cover_ms pauses (keys released at once); covering it again resumes.",
            read: { .boolean($0.lensCover.enabled) },
            write: { config, value in config.lensCover.enabled = value.boolean }
        ),
        SettingKey(
            "safety", "lens_cover_ms", .integer(.closed(LensCoverSettings.coverRange, unit: "ms")), .reload,
            field: "lens_cover_ms", doc: "Milliseconds the frames must stay dark to count as a covered lens.",
            read: { .integer($0.lensCover.coverMilliseconds) },
            write: { config, value in config.lensCover.coverMilliseconds = value.integer }),
        SettingKey(
            "safety", "lens_cover_luma", .integer(.closed(LensCoverSettings.darkLumaRange)), .reload,
            field: "lens_cover_luma", doc: "Mean brightness (0-255) below which a frame counts as dark.",
            read: { .integer($0.lensCover.darkLuma) },
            write: { config, value in config.lensCover.darkLuma = value.integer }),
    ]

    private static let daemon: [SettingKey] = [
        SettingKey(
            "daemon", "socket_path", .text(.path(maximumBytes: maximumSocketPathBytes)), .restart,
            doc: "The control socket; \"\" means $XDG_RUNTIME_DIR/gesturepad/control.sock.",
            read: { .text($0.daemon.socketPath ?? "") },
            write: { config, value in config.daemon.socketPath = value.text.isEmpty ? nil : value.text }),
        SettingKey(
            "daemon", "pause_hotkey", .keyChord, .restart,
            doc: "Key (chord) that pauses and resumes recognition, or \"none\".",
            read: { .binding($0.daemon.pauseHotkey.map(KeyBinding.chord) ?? .unbound) },
            write: { config, value in
                if case .chord(let chord) = value.binding {
                    config.daemon.pauseHotkey = chord
                } else {
                    config.daemon.pauseHotkey = nil
                }
            }),
        SettingKey(
            "daemon", "dry_run", .boolean, .restart, doc: "Recognise and log, but press no keys.",
            read: { .boolean($0.daemon.dryRun) }, write: { config, value in config.daemon.dryRun = value.boolean }),
        SettingKey(
            "daemon", "log_level", .choice(ConfigLogLevel.allCases.map(\.rawValue)), .restart,
            doc: "How much the daemon logs.",
            read: { .text($0.daemon.logLevel.rawValue) },
            write: { config, value in config.daemon.logLevel = ConfigLogLevel(rawValue: value.text) ?? .info }),
        SettingKey(
            "daemon", "data_directory", .text(.path(maximumBytes: nil)), .restart,
            doc: "Where samples, heads and recordings live; \"\" means $XDG_DATA_HOME/gesturepad.",
            read: { .text($0.daemon.dataDirectory ?? "") },
            write: { config, value in config.daemon.dataDirectory = value.text.isEmpty ? nil : value.text }),
    ]

    /// The keys whose values differ between `old` and `new`, in table order.
    public static func changedKeys(from old: GesturepadConfig, to new: GesturepadConfig) -> [SettingKey] {
        keys.filter { $0.read(old) != $0.read(new) }
    }
}

// MARK: - Helpers the table uses

extension SettingValue {
    // Each accessor is only called with the case the key's kind produces (ConfigDecoder checks first).
    var integer: Int { if case .integer(let value) = self { value } else { 0 } }
    var number: Double {
        switch self {
        case .number(let value): value
        case .integer(let value): Double(value)
        default: 0
        }
    }
    var boolean: Bool { if case .boolean(let value) = self { value } else { false } }
    var text: String { if case .text(let value) = self { value } else { "" } }
    var texts: [String] { if case .texts(let value) = self { value } else { [] } }
    var binding: KeyBinding { if case .binding(let value) = self { value } else { .unbound } }
    var labelNumbers: [String: Double] { if case .labelNumbers(let value) = self { value } else { [:] } }
    var labelKeys: [String: KeyBinding] { if case .labelKeys(let value) = self { value } else { [:] } }
}

extension GesturepadConfig {
    /// Sets the labels to `names` (+ idle); a rejection when they do not form a valid set of two or more classes.
    mutating func setLabels(_ names: [String], idle: Bool) throws(SettingRejection) {
        let all = names + (idle ? [LabelSet.idle] : [])
        do {
            labels = try LabelSet(all)
        } catch {
            throw SettingRejection(
                message: "at least two classes are needed, found \(all.count) (\(all.joined(separator: ", ")))",
                hint: "list two or more labels, or one label and `idle = true`", reportAt: "labels.order")
        }
    }
}

extension ExposureMode {
    /// The mode of a camera exposure setting.
    init(_ exposure: V4L2Exposure) {
        switch exposure {
        case .unchanged: self = .unchanged
        case .automatic: self = .auto
        case .manual: self = .manual
        }
    }
}

extension V4L2Exposure {
    /// The manual exposure time (the default when not manual).
    var manualTime: Int {
        if case .manual(let time) = self { return time }
        return GesturepadConfig.defaultExposureTime100Microseconds
    }
    /// Whether automatic exposure may drop frames (false when not automatic).
    var allowsFrameRateDrop: Bool {
        if case .automatic(let allow) = self { return allow }
        return false
    }
}

/// The pixel formats a camera can be asked for (`[camera] pixel_format`); Y4M-only layouts are left out.
public enum CameraPixelFormat: String, CaseIterable, Sendable {
    case yuyv, rgb24, yuv420, mjpeg
}
