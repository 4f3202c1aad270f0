// ControlProtocol: the daemon's control-socket language, pure (no sockets, no NIO). Newline-delimited
// JSON, version 1: a request is one object with a "cmd" field; every reply is one line carrying
// "v", "ok" and, on failure, "error" + "code"; a subscribed connection receives event lines
// {"v":1,"event":"…",…}. Invariants: decoding never traps on any byte sequence; every error has a
// stable machine code; unknown request fields are ignored (forward compatibility), unknown
// commands are errors. The framer (ControlLineDecoder) enforces `maximumLineBytes` before parsing.
// Shape after keyd's ipc.c (a small command set over a private socket) and the JSON-lines habit.
import Foundation
import Gestures

// MARK: - Constants and requests

/// The control protocol's constants, request decoding and reply/event encoding.
public enum ControlProtocol {
    /// The protocol version sent as `"v"` in every reply and event; a request may carry `"v"` too.
    public static let version = 1
    /// The longest request line accepted, in bytes, excluding the newline (64 KiB).
    public static let maximumLineBytes = 64 * 1024
    /// The longest recording a `record` request may ask for, in seconds.
    public static let maximumRecordSeconds = 600.0
    /// The recording length used when a `record` request has no `"seconds"`.
    public static let defaultRecordSeconds = RecordingSettings.defaultTakeSeconds
    /// The longest countdown before a recording, in seconds (as `recording.countdown_seconds`).
    public static let maximumCountdownSeconds = 30.0
    /// The countdown `gesturepad record` asks for unless told otherwise: time to get into pose.
    public static let defaultCountdownSeconds = RecordingSettings.defaultTakeCountdownSeconds
}

/// One decoded control request: the `"cmd"` field and its arguments.
public enum ControlRequest: Equatable, Sendable {
    /// `{"cmd":"status"}`: the daemon's state, model, head, fps, per-stage latency and counts.
    case status
    /// `{"cmd":"subscribe"}`: switch this connection to a stream of event lines.
    case subscribe
    /// `{"cmd":"pause"}`: stop recognising and release every held key (capture may stay open).
    case pause
    /// `{"cmd":"resume"}`: recognise again after `pause`.
    case resume
    /// `{"cmd":"record","label":"up","seconds":5,"countdown":3}`: add samples of `label` from the live camera for
    /// `seconds` after a countdown (`countdown` seconds, 0 to 30; absent: the config's `countdown_seconds`).
    case record(label: String, seconds: Double, countdown: Double? = nil)
    /// `{"cmd":"train"}`: train a new head from the stored samples and swap it in.
    case train
    /// `{"cmd":"samples"}`: the stored sample counts per label.
    case samples
    /// `{"cmd":"reload"}`: re-read the config and the current head (like SIGHUP).
    case reload
    /// `{"cmd":"version"}`: the protocol version, the daemon's version and the command list.
    case version

    /// The command names, in the order `version` lists them.
    public static let commandNames = [
        "status", "subscribe", "pause", "resume", "record", "train", "samples", "reload", "version",
    ]

    /// The `"cmd"` value of this request.
    public var command: String {
        switch self {
        case .status: "status"
        case .subscribe: "subscribe"
        case .pause: "pause"
        case .resume: "resume"
        case .record: "record"
        case .train: "train"
        case .samples: "samples"
        case .reload: "reload"
        case .version: "version"
        }
    }

    /// Decodes one request line (without its newline); throws a `ControlProtocolError` naming what is wrong.
    ///
    /// Accepts at most `ControlProtocol.maximumLineBytes` bytes, a trailing `\r`, surrounding
    /// whitespace, an optional `"v"` that must equal `ControlProtocol.version`, and ignores
    /// fields it does not know.
    public init(line: some Collection<UInt8>) throws(ControlProtocolError) {
        guard line.count <= ControlProtocol.maximumLineBytes else {
            throw .lineTooLong(bytes: line.count, limit: ControlProtocol.maximumLineBytes)
        }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(line))
        } catch {
            throw .notJSON
        }
        guard case .object(let fields) = value else { throw .notAnObject(found: value.typeName) }
        if let version = fields["v"] {
            guard case .number(let number) = version else { throw .wrongFieldType(field: "v", expected: "number") }
            guard number == Double(ControlProtocol.version) else {
                throw .unsupportedVersion(requested: number.description, supported: ControlProtocol.version)
            }
        }
        guard let commandValue = fields["cmd"] else { throw .missingCommand }
        guard case .string(let command) = commandValue else { throw .wrongFieldType(field: "cmd", expected: "string") }
        switch command {
        case "status": self = .status
        case "subscribe": self = .subscribe
        case "pause": self = .pause
        case "resume": self = .resume
        case "train": self = .train
        case "samples": self = .samples
        case "reload": self = .reload
        case "version": self = .version
        case "record":
            guard let labelValue = fields["label"] else { throw .missingField(command: command, field: "label") }
            guard case .string(let label) = labelValue else {
                throw .wrongFieldType(field: "label", expected: "string")
            }
            guard !label.trimmingCharacters(in: .whitespaces).isEmpty, label.utf8.count <= 64 else {
                throw .outOfRange(field: "label", value: label, allowed: "1 to 64 bytes, not blank")
            }
            var seconds = ControlProtocol.defaultRecordSeconds
            if let secondsValue = fields["seconds"] {
                guard case .number(let number) = secondsValue else {
                    throw .wrongFieldType(field: "seconds", expected: "number")
                }
                seconds = number
            }
            guard seconds.isFinite, seconds > 0, seconds <= ControlProtocol.maximumRecordSeconds else {
                throw .outOfRange(
                    field: "seconds", value: seconds.description,
                    allowed: "0 < seconds ≤ \(Int(ControlProtocol.maximumRecordSeconds))")
            }
            var countdown: Double?
            if let countdownValue = fields["countdown"] {
                guard case .number(let number) = countdownValue else {
                    throw .wrongFieldType(field: "countdown", expected: "number")
                }
                guard number.isFinite, number >= 0, number <= ControlProtocol.maximumCountdownSeconds else {
                    throw .outOfRange(
                        field: "countdown", value: number.description,
                        allowed: "0 ≤ countdown ≤ \(Int(ControlProtocol.maximumCountdownSeconds))")
                }
                countdown = number
            }
            self = .record(label: label, seconds: seconds, countdown: countdown)
        default:
            throw .unknownCommand(command)
        }
    }

    /// This request as one JSON line with its newline, e.g. `{"cmd":"record","label":"up","seconds":5,"v":1}\n`.
    public var jsonLine: String {
        var fields: [String: JSONValue] = ["v": .number(Double(ControlProtocol.version)), "cmd": .string(command)]
        if case .record(let label, let seconds, let countdown) = self {
            fields["label"] = .string(label)
            fields["seconds"] = .number(seconds)
            if let countdown { fields["countdown"] = .number(countdown) }
        }
        return ControlProtocol.encodeLine(JSONValue.object(fields))
    }
}

// MARK: - Errors

/// Why a request line was refused; `code` is the stable machine-readable `"code"` of the error reply.
public enum ControlProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The line is longer than the framer's limit; the rest of the line is skipped.
    case lineTooLong(bytes: Int, limit: Int)
    /// The line is not valid UTF-8 JSON.
    case notJSON
    /// The line is JSON but not an object (`found` names the JSON type).
    case notAnObject(found: String)
    /// The object has no `"cmd"` field.
    case missingCommand
    /// `"cmd"` names no command this daemon knows.
    case unknownCommand(String)
    /// A command's required field is absent.
    case missingField(command: String, field: String)
    /// A field has the wrong JSON type.
    case wrongFieldType(field: String, expected: String)
    /// A field's value is outside its allowed range.
    case outOfRange(field: String, value: String, allowed: String)
    /// The request's `"v"` is a protocol version this daemon does not speak.
    case unsupportedVersion(requested: String, supported: Int)

    /// The stable `"code"` sent in the error reply.
    public var code: String {
        switch self {
        case .lineTooLong: "line_too_long"
        case .notJSON: "not_json"
        case .notAnObject: "not_object"
        case .missingCommand: "missing_command"
        case .unknownCommand: "unknown_command"
        case .missingField: "missing_field"
        case .wrongFieldType: "wrong_type"
        case .outOfRange: "out_of_range"
        case .unsupportedVersion: "unsupported_version"
        }
    }

    public var description: String {
        let commands = ControlRequest.commandNames.joined(separator: ", ")
        switch self {
        case .lineTooLong(let bytes, let limit):
            return "request line is too long (\(bytes)+ bytes, limit \(limit)); send one JSON object per line"
        case .notJSON:
            return "request is not valid JSON; send one object per line, e.g. {\"cmd\":\"status\"}"
        case .notAnObject(let found):
            return "request is a JSON \(found), not an object; send e.g. {\"cmd\":\"status\"}"
        case .missingCommand:
            return "request has no \"cmd\" field; commands: \(commands)"
        case .unknownCommand(let command):
            return "unknown command \"\(command.prefix(64))\"; commands: \(commands)"
        case .missingField(let command, let field):
            return "\"\(command)\" needs a \"\(field)\" field"
        case .wrongFieldType(let field, let expected):
            return "field \"\(field)\" must be a JSON \(expected)"
        case .outOfRange(let field, let value, let allowed):
            return "field \"\(field)\" is \(value.prefix(64)), allowed: \(allowed)"
        case .unsupportedVersion(let requested, let supported):
            return "protocol version \(requested.prefix(16)) is not supported; this daemon speaks version \(supported)"
        }
    }
}

/// A failure a `ControlHandler` throws to choose the reply's `"code"` (other errors reply `"failed"`).
public struct ControlCommandError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The stable machine code, e.g. `"busy"`, `"unknown_label"`, `"no_samples"`.
    public var code: String
    /// A sentence saying what failed and what to do.
    public var message: String
    /// Creates a failure with a machine code and a human message.
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}

// MARK: - Replies

/// One reply line: `{"v":1,"ok":true,"cmd":"status","result":{…}}` or
/// `{"v":1,"ok":false,"cmd":"record","error":"…","code":"out_of_range"}`.
public struct ControlReply<Result: Codable & Sendable>: Codable, Sendable {
    /// The protocol version (`ControlProtocol.version`).
    public var v: Int
    /// Whether the command succeeded.
    public var ok: Bool
    /// The command this replies to; absent when the line could not be decoded far enough.
    public var cmd: String?
    /// The command's result (absent for commands without one and on failure).
    public var result: Result?
    /// On failure: what failed and what to do.
    public var error: String?
    /// On failure: a stable machine code (see `ControlProtocolError.code`; handler failures use `"failed"`).
    public var code: String?

    /// A success reply.
    public init(command: String, result: Result?) {
        (v, ok, cmd, self.result, error, code) = (ControlProtocol.version, true, command, result, nil, nil)
    }
    /// A failure reply.
    public init(command: String?, error: String, code: String) {
        (v, ok, cmd, result, self.error, self.code) = (ControlProtocol.version, false, command, nil, error, code)
    }
}

/// A reply with no result payload (pause, errors).
public struct NoResult: Codable, Sendable, Equatable {}

/// The `reload` command's result: changed keys the reload could not apply.
public struct ReloadResult: Codable, Sendable, Equatable {
    /// "model.name changed: restart the daemon to apply", one per changed key that needs a restart.
    public var restartNeeded: [String]
    /// The current head before and after the reload (nil: none, or a daemon from before these fields).
    public var headBefore: Int?
    public var headAfter: Int?
    /// Creates a reload result.
    public init(restartNeeded: [String] = [], headBefore: Int? = nil, headAfter: Int? = nil) {
        self.restartNeeded = restartNeeded
        self.headBefore = headBefore
        self.headAfter = headAfter
    }
}

/// The `version` command's result.
public struct VersionInfo: Codable, Sendable, Equatable {
    /// The protocol version (`ControlProtocol.version`).
    public var protocolVersion: Int
    /// The daemon's software version.
    public var daemon: String
    /// The commands this daemon accepts.
    public var commands: [String]
    /// The longest request line accepted, in bytes.
    public var maximumLineBytes: Int
    /// Creates a version result.
    public init(daemon: String) {
        protocolVersion = ControlProtocol.version
        self.daemon = daemon
        commands = ControlRequest.commandNames
        maximumLineBytes = ControlProtocol.maximumLineBytes
    }
}

extension ControlProtocol {
    /// A success reply line (with newline) for `command` carrying `result`.
    public static func successLine<Result: Codable & Sendable>(command: String, result: Result?) -> String {
        encodeLine(ControlReply(command: command, result: result))
    }

    /// A success reply line with no result, e.g. `{"cmd":"reload","ok":true,"v":1}\n`.
    public static func successLine(command: String) -> String {
        encodeLine(ControlReply<NoResult>(command: command, result: nil))
    }

    /// A failure reply line (with newline).
    public static func failureLine(command: String?, error: String, code: String) -> String {
        encodeLine(ControlReply<NoResult>(command: command, error: error, code: code))
    }

    /// The failure reply line for a request the protocol refused.
    public static func failureLine(_ error: ControlProtocolError) -> String {
        failureLine(command: nil, error: error.description, code: error.code)
    }

    /// Encodes a value as one compact JSON line with sorted keys and a trailing newline.
    ///
    /// Non-finite doubles are written as the strings `"nan"`, `"inf"`, `"-inf"` (ControlClient reads
    /// them back). Should encoding fail anyway, a failure reply line is returned instead, so the
    /// "exactly one line per request" rule holds.
    public static func encodeLine(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            let data = try encoder.encode(value)
            return String(decoding: data, as: UTF8.self) + "\n"
        } catch {
            return #"{"code":"encoding_failed","error":"the daemon could not encode its reply","ok":false,"v":1}"#
                + "\n"
        }
    }
}

// MARK: - Status and event payloads

/// The daemon's run state: a string, open to new values (`running`, `paused`, `camera-lost`, …).
public struct DaemonState: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
    public var description: String { rawValue }

    /// Opening the camera and loading the model.
    public static let starting: DaemonState = "starting"
    /// Capturing, recognising and pressing keys.
    public static let running: DaemonState = "running"
    /// Paused by the user: no keys are pressed.
    public static let paused: DaemonState = "paused"
    /// The camera disappeared; the daemon retries and presses no keys.
    public static let cameraLost: DaemonState = "camera-lost"
    /// Shutting down.
    public static let stopping: DaemonState = "stopping"
}

/// Rolling latency of one pipeline stage, in milliseconds.
public struct StageLatency: Codable, Sendable, Equatable {
    /// Median latency in milliseconds.
    public var p50Milliseconds: Double
    /// 95th percentile latency in milliseconds.
    public var p95Milliseconds: Double
    /// How many measurements the percentiles cover.
    public var count: Int
    /// Creates a latency summary.
    public init(p50Milliseconds: Double, p95Milliseconds: Double, count: Int) {
        (self.p50Milliseconds, self.p95Milliseconds, self.count) = (p50Milliseconds, p95Milliseconds, count)
    }
}

/// Running totals since the daemon started.
public struct DaemonCounters: Codable, Sendable, Equatable {
    /// Frames delivered by the camera (every frame, including those skipped while recognition was busy).
    public var framesCaptured: Int
    /// Frames run through recognition.
    public var framesProcessed: Int
    /// Frames captured but never processed (the newest frame wins while recognition is busy):
    /// `framesCaptured − framesProcessed`.
    public var framesDropped: Int
    /// Predictions made by the head.
    public var predictions: Int
    /// Key presses sent (key-down events).
    public var keyPresses: Int
    /// Creates a counter set.
    public init(
        framesCaptured: Int = 0, framesProcessed: Int = 0, framesDropped: Int = 0, predictions: Int = 0,
        keyPresses: Int = 0
    ) {
        (self.framesCaptured, self.framesProcessed, self.framesDropped, self.predictions, self.keyPresses) =
            (framesCaptured, framesProcessed, framesDropped, predictions, keyPresses)
    }

    private enum CodingKeys: String, CodingKey {
        case framesCaptured, framesProcessed, framesDropped, predictions, keyPresses
    }

    /// Decodes counters; `framesProcessed` may be missing (a daemon from before it was reported): captured − dropped.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        framesCaptured = try container.decode(Int.self, forKey: .framesCaptured)
        framesDropped = try container.decode(Int.self, forKey: .framesDropped)
        framesProcessed =
            try container.decodeIfPresent(Int.self, forKey: .framesProcessed) ?? max(0, framesCaptured - framesDropped)
        predictions = try container.decode(Int.self, forKey: .predictions)
        keyPresses = try container.decode(Int.self, forKey: .keyPresses)
    }
}

/// The camera share's part of `status` (`[camera] share = "v4l2loopback"`).
public struct ShareStatus: Codable, Sendable, Equatable {
    /// The v4l2loopback node written to.
    public var device: String
    /// "live", "camera unavailable (still frame)", "waiting for the camera's first frame", "closed".
    public var state: String
    /// The format the share carries ("640×480 YUYV at 30 fps"), absent before the first frame.
    public var format: String?
    /// Frames written (the camera's and the still frame's) and of those still frames.
    public var framesWritten: Int
    public var stillFramesWritten: Int
    /// Frames per second over the last writes.
    public var fps: Double?
    /// Programs reading the share; absent when the kernel does not tell (v4l2loopback 0.12 does not).
    public var readers: Int?
    /// The last write error, absent when the last write worked.
    public var lastError: String?

    public init(
        device: String, state: String, format: String?, framesWritten: Int, stillFramesWritten: Int, fps: Double?,
        readers: Int?, lastError: String?
    ) {
        (self.device, self.state, self.format) = (device, state, format)
        (self.framesWritten, self.stillFramesWritten, self.fps) = (framesWritten, stillFramesWritten, fps)
        (self.readers, self.lastError) = (readers, lastError)
    }
}

/// The `status` command's result.
public struct DaemonStatus: Codable, Sendable, Equatable {
    /// Run state (`running`, `paused`, `camera-lost`, `stopping`, …).
    public var state: DaemonState
    /// True when gestures are recognised but no keys are injected.
    public var dryRun: Bool
    /// Why it is a dry run: asked for (config or --dry-run), or the key output could not be opened (nil: not a dry
    /// run, or a daemon from before this field).
    public var dryRunReason: String?
    /// The frame source: a camera device path or a replay file.
    public var source: String
    /// The embedding model's name, if loaded.
    public var model: String?
    /// The current head's version, if one is loaded.
    public var headVersion: Int?
    /// The head's labels in output order.
    public var labels: [String]
    /// Frames recognised per second (rolling).
    public var fps: Double
    /// Per-stage latency (capture, convert, preprocess, embed, head, filter, inject).
    public var latency: [String: StageLatency]
    /// Stored samples per label.
    public var samples: [String: Int]
    /// Running totals.
    public var counters: DaemonCounters
    /// Seconds since the daemon started.
    public var uptimeSeconds: Double
    /// Labels whose keys are held down right now.
    public var keysHeld: [String]
    /// Connections currently subscribed to events (filled in by the server).
    public var subscribers: Int
    /// Why the daemon is in its state ("paused: lens covered (cover it again to resume)"); nil from older daemons.
    public var reason: String?
    /// What paused it: `request` (`pause`), `pause-hotkey` or `lens-cover`; nil unless paused.
    public var pausedBy: String?
    /// The pause hotkey in words: "off", the chord and the keyboards read, or why none can be read.
    public var pauseHotkey: String?
    /// The camera share, absent when the camera is not shared.
    public var share: ShareStatus?

    /// Creates a status.
    public init(
        state: DaemonState, dryRun: Bool = false, dryRunReason: String? = nil, source: String, model: String? = nil,
        headVersion: Int? = nil,
        labels: [String] = [], fps: Double = 0, latency: [String: StageLatency] = [:], samples: [String: Int] = [:],
        counters: DaemonCounters = DaemonCounters(), uptimeSeconds: Double = 0, keysHeld: [String] = [],
        subscribers: Int = 0, reason: String? = nil, pausedBy: String? = nil, pauseHotkey: String? = nil,
        share: ShareStatus? = nil
    ) {
        self.share = share
        self.state = state
        self.dryRun = dryRun
        self.dryRunReason = dryRunReason
        self.source = source
        self.model = model
        self.headVersion = headVersion
        self.labels = labels
        self.fps = fps
        self.latency = latency
        self.samples = samples
        self.counters = counters
        self.uptimeSeconds = uptimeSeconds
        self.keysHeld = keysHeld
        self.subscribers = subscribers
        self.reason = reason
        self.pausedBy = pausedBy
        self.pauseHotkey = pauseHotkey
    }

    /// The pipeline stages in order, for display.
    public static let stageOrder = ["capture", "convert", "preprocess", "embed", "head", "filter", "inject"]
}

/// The `record` command's result. A recording that could not store a sample replies with an error (code
/// `write_failed`, the message says how many were stored); one ended early by `pause`, the end of the source or the
/// daemon stopping replies with this result, `ended` saying why.
public struct RecordResult: Codable, Sendable, Equatable {
    /// The label recorded.
    public var label: String
    /// Seconds actually recorded.
    public var seconds: Double
    /// Samples added (committed, each with its embedding) by this recording.
    public var added: Int
    /// Samples stored for the label afterwards.
    public var total: Int
    /// How the recording ended: `completed` (the time was up), `replaced` (a newer record request), `paused`,
    /// `source-ended`, `stopping`. Absent from daemons before it was reported: read as `completed`.
    public var ended: String?
    /// One sentence saying what was stored and, for an early end, why.
    public var message: String?
    /// Creates a record result.
    public init(
        label: String, seconds: Double, added: Int, total: Int, ended: String? = nil, message: String? = nil
    ) {
        (self.label, self.seconds, self.added, self.total, self.ended, self.message) =
            (label, seconds, added, total, ended, message)
    }

    /// Whether the recording ran for its whole time.
    public var completed: Bool { ended == nil || ended == "completed" }
}

/// The `train` command's result.
public struct TrainResult: Codable, Sendable, Equatable {
    /// The version of the new head, now current.
    public var headVersion: Int
    /// Samples the head was trained on.
    public var samples: Int
    /// Final training loss.
    public var loss: Double?
    /// Final training (or cross-validated) accuracy, 0…1.
    public var accuracy: Double?
    /// Wall time of the training, in seconds.
    public var durationSeconds: Double
    /// Creates a train result.
    public init(headVersion: Int, samples: Int, loss: Double? = nil, accuracy: Double? = nil, durationSeconds: Double) {
        (self.headVersion, self.samples, self.loss, self.accuracy, self.durationSeconds) =
            (headVersion, samples, loss, accuracy, durationSeconds)
    }
}

/// The `samples` command's result.
public struct SampleCounts: Codable, Sendable, Equatable {
    /// Stored samples per label.
    public var counts: [String: Int]
    /// The sum of `counts`.
    public var total: Int
    /// Creates a count set; `total` is the sum.
    public init(counts: [String: Int]) {
        self.counts = counts
        total = counts.values.reduce(0, +)
    }
}

/// The `pause`/`resume` commands' result.
public struct StateResult: Codable, Sendable, Equatable {
    /// The state after the command.
    public var state: DaemonState
    /// Creates a state result.
    public init(state: DaemonState) { self.state = state }
}

/// A `prediction` event: the head's output for one frame and the decision filter's state.
public struct PredictionEvent: Codable, Sendable, Equatable {
    /// Seconds on the daemon's monotonic clock.
    public var time: Double
    /// The head's labels in output order.
    public var labels: [String]
    /// One probability per label.
    public var probabilities: [Double]
    /// The most probable label.
    public var top: String
    /// The top label's probability.
    public var confidence: Double
    /// The decision filter's state, e.g. `idle`, `holding up since 1.200 s`.
    public var filter: String
    /// Creates a prediction event.
    public init(
        time: Double, labels: [String], probabilities: [Double], top: String, confidence: Double, filter: String
    ) {
        (self.time, self.labels, self.probabilities, self.top, self.confidence, self.filter) =
            (time, labels, probabilities, top, confidence, filter)
    }
}

/// A `key` event: a key went down or up.
public struct KeyEventPayload: Codable, Sendable, Equatable {
    /// Key down or key up.
    public enum Action: String, Codable, Sendable { case down, up }
    /// Seconds on the daemon's monotonic clock.
    public var time: Double
    /// Down or up.
    public var action: Action
    /// The gesture label that caused it.
    public var label: String
    /// The key names sent (e.g. `["KEY_UP"]`).
    public var keys: [String]
    /// Why: `filter` (the decision filter), `stale-input` (its timer), or a stop path — `stop` (SIGTERM/SIGINT),
    /// `pause`, `reload`, `camera-lost`, `source-ended`, `new-head`, `labels-changed`, `filter-error`.
    public var reason: String?
    /// For filter decisions: milliseconds from the frame's arrival to the key.
    public var latencyMilliseconds: Double?
    /// Set when the key sink could not send this event (for an `up`: the key may still be held).
    public var error: String?
    /// Creates a key event.
    public init(
        time: Double, action: Action, label: String, keys: [String], reason: String? = nil,
        latencyMilliseconds: Double? = nil, error: String? = nil
    ) {
        (self.time, self.action, self.label, self.keys, self.reason) = (time, action, label, keys, reason)
        (self.latencyMilliseconds, self.error) = (latencyMilliseconds, error)
    }
}

/// A `training` event: progress of a background head training.
public struct TrainingEventPayload: Codable, Sendable, Equatable {
    /// `started`, `embedding`, `epoch`, `finished` or `failed`.
    public var phase: String
    /// The epoch just finished (phase `epoch`).
    public var epoch: Int?
    /// Epochs planned.
    public var epochs: Int?
    /// Training loss after `epoch`.
    public var loss: Double?
    /// Training accuracy after `epoch`, 0…1.
    public var accuracy: Double?
    /// The new head's version (phase `finished`).
    public var headVersion: Int?
    /// A human sentence (phase `failed`: what failed and what to do).
    public var message: String?
    /// Creates a training event.
    public init(
        phase: String, epoch: Int? = nil, epochs: Int? = nil, loss: Double? = nil, accuracy: Double? = nil,
        headVersion: Int? = nil, message: String? = nil
    ) {
        (self.phase, self.epoch, self.epochs, self.loss, self.accuracy, self.headVersion, self.message) =
            (phase, epoch, epochs, loss, accuracy, headVersion, message)
    }
}

/// A `state` event: the daemon's run state changed.
public struct StateEventPayload: Codable, Sendable, Equatable {
    /// The new state.
    public var state: DaemonState
    /// Why (e.g. `user`, `camera unplugged`, `SIGTERM`).
    public var reason: String?
    /// Creates a state event.
    public init(state: DaemonState, reason: String? = nil) { (self.state, self.reason) = (state, reason) }
}

/// One event line sent to subscribers: `{"v":1,"event":"<kind>", …payload fields…}` (payload flattened).
public enum ControlEvent: Codable, Sendable, Equatable {
    /// A head prediction for one frame.
    case prediction(PredictionEvent)
    /// A key went down or up.
    case key(KeyEventPayload)
    /// The run state changed.
    case state(StateEventPayload)
    /// Training progress.
    case training(TrainingEventPayload)
    /// The last line of a subscriber the server dropped (e.g. `reason: "slow subscriber"`).
    case dropped(reason: String)

    private enum EnvelopeKeys: String, CodingKey { case v, event, reason }

    /// The `"event"` value.
    public var kind: String {
        switch self {
        case .prediction: "prediction"
        case .key: "key"
        case .state: "state"
        case .training: "training"
        case .dropped: "dropped"
        }
    }

    public func encode(to encoder: any Encoder) throws {
        // Payload fields and the envelope share one JSON object (keyed containers at one level merge).
        switch self {
        case .prediction(let payload): try payload.encode(to: encoder)
        case .key(let payload): try payload.encode(to: encoder)
        case .state(let payload): try payload.encode(to: encoder)
        case .training(let payload): try payload.encode(to: encoder)
        case .dropped: break
        }
        var envelope = encoder.container(keyedBy: EnvelopeKeys.self)
        try envelope.encode(ControlProtocol.version, forKey: .v)
        try envelope.encode(kind, forKey: .event)
        if case .dropped(let reason) = self { try envelope.encode(reason, forKey: .reason) }
    }

    public init(from decoder: any Decoder) throws {
        let envelope = try decoder.container(keyedBy: EnvelopeKeys.self)
        let kind = try envelope.decode(String.self, forKey: .event)
        switch kind {
        case "prediction": self = .prediction(try PredictionEvent(from: decoder))
        case "key": self = .key(try KeyEventPayload(from: decoder))
        case "state": self = .state(try StateEventPayload(from: decoder))
        case "training": self = .training(try TrainingEventPayload(from: decoder))
        case "dropped": self = .dropped(reason: try envelope.decodeIfPresent(String.self, forKey: .reason) ?? "")
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .event, in: envelope, debugDescription: "unknown event \(kind)")
        }
    }

    /// This event as one JSON line with its newline.
    public var jsonLine: String { ControlProtocol.encodeLine(self) }
}

// MARK: - JSON values

/// A parsed JSON value with exact types (a bool is never a number), for request validation.
enum JSONValue: Codable, Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The JSON type's name, for error messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
