// GestureSession's vocabulary: its settings, states, events, the key-output seam (`GestureOutput`)
// and what a recording or a status reading reports. The raw values of `SessionState`, `KeyReason`
// and `RecordingEnd` are the control protocol's strings (Sources/Daemon/ControlProtocol.swift), so
// the daemon forwards them unchanged. The loop itself is in GestureSession.swift.
import Capture
import Foundation
import NeuralNet

/// What a session needs to run, already validated.
public struct GestureSessionSettings: Sendable, Equatable {
    /// The source's name for people and the sample store's `source` column (`daemon:/dev/video0`, a file).
    public var sourceName: String
    /// What samples recorded from this session are tagged with in the store.
    public var sampleSource: String
    /// The labels to train (the filter uses the labels of the head in use, these until one exists).
    public var labels: LabelSet
    public var filter: DecisionFilterSettings
    public var recording: RecordingSettings
    public var training: TrainingOptions
    /// Longest wait between reopen attempts of a failed source.
    public var maximumReopenDelay: Duration
    /// Keep a copy of each recognised sample frame for drawing (`GestureSessionSnapshot.preview`).
    public var keepsPreview: Bool
    /// Covering the lens pauses, covering it again resumes.
    public var lensCover: LensCoverSettings

    public init(
        sourceName: String, sampleSource: String? = nil, labels: LabelSet, filter: DecisionFilterSettings = .default,
        recording: RecordingSettings = RecordingSettings(), training: TrainingOptions = TrainingOptions(),
        maximumReopenDelay: Duration = .seconds(1), keepsPreview: Bool = false,
        lensCover: LensCoverSettings = LensCoverSettings()
    ) {
        self.sourceName = sourceName
        self.sampleSource = sampleSource ?? sourceName
        self.labels = labels
        self.filter = filter
        self.recording = recording
        self.training = training
        self.maximumReopenDelay = maximumReopenDelay
        self.keepsPreview = keepsPreview
        self.lensCover = lensCover
    }
}

/// Why a session is paused: there is one paused state, and it has one cause. The raw values are the control
/// protocol's `paused_by` strings.
///
/// - `request` (`gesturepad pause`, the window) and `hotkey` (the daemon's pause hotkey) close the source, so a video
///   call can use the camera; `resume` or the hotkey resumes.
/// - `lensCover` keeps the source open (frames are only preprocessed to watch the lens, never recognised or turned
///   into keys) so that covering the lens again resumes; `resume` and the hotkey resume it too.
/// - A `pause` request or the hotkey while paused by the lens turns it into their pause (the source closes); a lens
///   cover never resumes a pause it did not make (the source is closed then anyway).
public enum PauseCause: String, Sendable, Equatable, CaseIterable {
    case request
    case hotkey = "pause-hotkey"
    case lensCover = "lens-cover"

    /// Whether this pause closes the source.
    public var closesSource: Bool { self != .lensCover }
}

/// The session's run state. The raw values are the control protocol's state strings.
public enum SessionState: String, Sendable, Equatable, CaseIterable {
    case starting
    case running
    case paused
    case cameraLost = "camera-lost"
    case sourceEnded = "source-ended"
    case stopping
    case stopped
}

/// Why a key went down or up: the decision filter, its stale-input timer, or one of the stop paths. The raw
/// values are the control protocol's `"reason"` strings of key events (Sources/Daemon/ControlProtocol.swift).
public enum KeyReason: String, Sendable, Equatable, CaseIterable {
    /// The decision filter decided (a gesture started or ended).
    case filter
    /// The filter's timer: no fresh frame within the stale limit.
    case staleInput = "stale-input"
    /// The session is stopping (SIGTERM, SIGINT, `stop()`).
    case stop
    /// `pause`, the pause hotkey or a covered lens.
    case pause
    /// `reload` / SIGHUP.
    case reload
    /// The camera vanished, failed or cannot be opened.
    case cameraLost = "camera-lost"
    /// A finite recording used as the source ended.
    case sourceEnded = "source-ended"
    /// A newly trained head was swapped in.
    case newHead = "new-head"
    /// The head's labels changed under the filter.
    case labelsChanged = "labels-changed"
    /// The decision filter failed (could not be rebuilt or updated); keys stay up until it works again.
    case filterError = "filter-error"
}

/// How a recording ended.
public enum RecordingEnd: String, Sendable, Equatable, Codable {
    /// The requested time was up.
    case completed
    /// The requester stopped it (the window's record key let go).
    case stopped
    /// A newer `record` request took over.
    case replaced
    /// `pause` ended it early.
    case paused
    /// The source (a finite recording) ended.
    case sourceEnded = "source-ended"
    /// The session is stopping.
    case stopping
    /// A sample could not be stored (e.g. the disk is full); the recording stopped there.
    case writeFailed = "write-failed"
}

/// The result of one recording: exactly how many samples were committed (each with its embedding).
public struct RecordingOutcome: Sendable, Equatable {
    /// The label recorded.
    public var label: String
    /// Samples committed to the store by this request (each sample and its embedding in one transaction).
    public var saved: Int
    /// Seconds between the request and its end.
    public var secondsRecorded: Double
    /// Why it ended.
    public var end: RecordingEnd
    /// What failed, for `.writeFailed`.
    public var failure: String?

    public init(label: String, saved: Int, secondsRecorded: Double, end: RecordingEnd, failure: String? = nil) {
        (self.label, self.saved, self.secondsRecorded, self.end, self.failure) =
            (label, saved, secondsRecorded, end, failure)
    }

    /// One sentence for people: what was stored and, for an early end, why.
    public var summary: String {
        let samples = "\(saved) sample\(saved == 1 ? "" : "s") of \(label) saved"
        let time = String(format: "%.1f", secondsRecorded)
        switch end {
        case .completed, .stopped: return "\(samples) in \(time) s"
        case .replaced: return "stopped after \(time) s: a newer record request took over; \(samples)"
        case .paused: return "stopped after \(time) s: the daemon was paused; \(samples)"
        case .sourceEnded: return "stopped after \(time) s: the source (a recording) ended; \(samples)"
        case .stopping: return "stopped after \(time) s: the daemon is stopping; \(samples)"
        case .writeFailed:
            return "stopped after \(time) s: a sample could not be stored (\(failure ?? "write failed")); "
                + "\(samples) before that, nothing after"
        }
    }
}

/// Rolling per-stage latencies and frame rate over the last frames, and the frame counters since start.
public struct PipelineStatistics: Sendable, Codable, Equatable {
    /// Stage → (p50, p95) in milliseconds: capture (the frame's age when processing starts), preprocess, normalize,
    /// embed, head, filter, total, frame_to_key (`PipelineStage`).
    public var latencyMilliseconds: [String: [Double]]
    /// Frames processed per second over the window.
    public var framesPerSecond: Double
    /// Frames the sources captured (every frame the camera delivered, including those skipped because recognition
    /// was busy and a newer one was ready).
    public var framesCaptured: Int
    /// Frames run through recognition.
    public var framesProcessed: Int
    /// Frames that produced class probabilities (a head is loaded).
    public var predictions: Int
    /// Captured but never processed: `framesCaptured − framesProcessed`.
    public var framesDropped: Int { max(0, framesCaptured - framesProcessed) }
}

/// How a `GestureOutput` handled a decision.
public enum KeyOutcome: Sendable, Equatable {
    /// Done (keys pressed or released).
    case done
    /// Nothing maps to this label (idle): no key event.
    case ignored
    /// It failed: `keys` names what was involved (`KEY_UP+KEY_LEFT`), `error` says why.
    case failed(keys: String, error: String)
}

/// What the session tells an output about a decision.
public struct KeyDecision: Sendable {
    public var event: KeyEvent
    public var reason: KeyReason
    /// From the start of the deciding frame's processing to the key (filter decisions only).
    public var latencyNanoseconds: UInt64?
    /// When the deciding frame was captured (the camera's CLOCK_MONOTONIC buffer timestamp).
    public var frameCapturedNanoseconds: UInt64?
}

/// Where the session's decisions go: the daemon's key sink, the window's game input. Called with the session's lock
/// held, on the loop thread or the thread of a command: must not block for long and must not call the session.
public protocol GestureOutput: AnyObject, Sendable {
    /// Acts on one decision (a press or a release).
    func apply(_ decision: KeyDecision) -> KeyOutcome
    /// After the filter's releases on a stop path: lets go of anything still held. `alreadyReported` says a release
    /// of the same keys just failed and was reported, so a failure here adds no second report.
    func releaseEverything(reason: KeyReason, alreadyReported: Bool) -> KeyOutcome
    /// The session stops: gives the output up for good (keys were released just before).
    func close(alreadyReported: Bool) -> KeyOutcome
}

/// How loud a notice is (the daemon maps these to log levels).
public enum NoticeLevel: String, Sendable {
    case info, warning, error
}

/// Progress of a background training run.
public enum SessionTraining: Sendable {
    case started(epochs: Int)
    case embedding(done: Int, total: Int)
    case epoch(EpochReport)
    /// An epoch of the held-out check (`TrainingRequest.heldOutFolds`), which runs before the final training.
    case heldOutEpoch(epoch: Int, epochs: Int, trainingLoss: Float, heldOutLoss: Float)
    /// The new head is in use.
    case finished(TrainedHead)
    case failed(GesturesError)
}

/// Something that happened in the session.
public enum SessionEvent: Sendable {
    /// One recognised frame: probabilities in `labels` order, the filter's state.
    case prediction(timeNanoseconds: UInt64, labels: [String], probabilities: [Float], filterState: FilterState)
    /// The state changed, or something worth saying about the current state happened.
    case state(SessionState, reason: String)
    /// Recording kept a sample.
    case sample(label: String, id: Int64, countForLabel: Int)
    /// A recording's countdown: `secondsLeft` whole seconds until samples are kept (3, 2, 1), then 0 when they are.
    case recordingCountdown(label: String, secondsLeft: Int)
    /// A recording finished (`outcome` says how, and how many samples were stored).
    case recordingFinished(RecordingOutcome)
    /// Training progress or result.
    case training(SessionTraining)
    /// Something for the log (camera opens, rate warnings, failures); never one per frame.
    case notice(NoticeLevel, String, metadata: [String: String])
}

/// The newest reading for drawing and status.
public struct GestureSessionSnapshot: Sendable {
    public var state: SessionState
    public var reason: String
    /// Why the session is paused; nil unless `state` is `.paused`.
    public var pauseCause: PauseCause?
    /// The open source's description (or the configured name while none is open).
    public var source: String
    public var headVersion: Int?
    /// The labels of the head in use, or the session's labels.
    public var labels: [String]
    /// The newest frame's probabilities, in `predictionLabels` order (both empty without a head).
    public var probabilities: [Float]
    public var predictionLabels: [String]
    public var filterState: FilterState
    public var heldLabel: String?
    public var statistics: PipelineStatistics
    public var recordingLabel: String?
    /// Samples kept by the current recording.
    public var keptInRecording: Int
    /// Grows by one with every sample stored (tells a screen to reload counts).
    public var storeChanges: Int
    /// The last failure to store a sample.
    public var storeError: String?
    public var training: Bool
    public var uptimeSeconds: Double
    /// Key-downs done since start.
    public var keyPresses: Int
    /// The newest sample frame (mirrored as recorded) when `keepsPreview` is set.
    public var preview: RGBImage?
    /// Milliseconds the newest frame took from framing to the filter.
    public var frameMilliseconds: Double
    /// Frames recognised since start.
    public var frameCount: Int
}

/// Why the session refused a command.
public enum GestureSessionError: Error, Sendable, CustomStringConvertible {
    case gestures(GesturesError)
    case recordingRefused(label: String, state: SessionState, reason: String)

    public var description: String {
        switch self {
        case .gestures(let error): return error.description
        case .recordingRefused(let label, let state, let reason):
            return "cannot record \(label) (\(state.rawValue)): \(reason)"
        }
    }
}
