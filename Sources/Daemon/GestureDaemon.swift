// GestureDaemon: the background service's core — a GestureSession (Sources/Gestures/GestureSession.swift:
// the one live loop: source and reconnect, recognition, decision filter, recording, training, statistics)
// whose decisions go to a KeySink, plus what only the daemon has: labels mapped to key chords, key
// events with their chords for the control socket, status snapshots with the held keys, and the
// session's notices written to the log. Invariants (the session keeps the loop's own):
// - Every stop path releases held keys through the session; a release that fails is a key event with
//   the failure, an error log line, and `stop()` throws — never swallowed.
// - Keys go through one sink, touched only with the session's lock held (`KeySinkOutput`).
// - The log (swift-log) gets what the user must know about the camera and the rate — the negotiated
//   format, size and rate at each open, a low camera rate, a processing rate too low for `stale_ms` —
//   once each, never a line per frame.
// Time comes from an injected `FrameClock`; events go to an injected sink (the control socket's
// broadcaster, logs, tests).
import SystemSupport
import Capture
import Foundation
import Gestures
import Logging
import NeuralNet
import Synchronization

/// What the daemon needs to run, already validated (see GesturepadConfig for the file form).
public struct DaemonSettings: Sendable {
    /// Model, cut, mirror, labels, data directory.
    public var workspace: WorkspaceConfiguration
    /// A camera (`/dev/video0`, `video0`, a /dev/v4l/by-id name) or a recording/image file.
    public var source: String
    public var camera: V4L2CameraConfiguration
    /// Recordings play in real time and loop by default (a daemon replaying a file behaves like a camera).
    public var loopRecordings: Bool
    /// Label → key chord; labels without a chord (idle) press nothing.
    public var keys: [String: KeyChord]
    public var filter: DecisionFilterSettings
    public var recording: RecordingSettings
    public var training: TrainingOptions
    /// Longest wait between camera reopen attempts.
    public var maximumReopenDelay: Duration
    /// Covering the lens pauses and resumes.
    public var lensCover: LensCoverSettings
    /// The chord read from the keyboards that toggles pause; nil: no keyboard is read.
    public var pauseHotkey: KeyChord?
    /// The v4l2loopback node every camera frame is written to (nil: not shared).
    public var shareDevice: String?

    public init(
        workspace: WorkspaceConfiguration, source: String, camera: V4L2CameraConfiguration = V4L2CameraConfiguration(),
        loopRecordings: Bool = true, keys: [String: KeyChord], filter: DecisionFilterSettings = .default,
        recording: RecordingSettings = RecordingSettings(), training: TrainingOptions = TrainingOptions(),
        maximumReopenDelay: Duration = .seconds(1), lensCover: LensCoverSettings = LensCoverSettings(),
        pauseHotkey: KeyChord? = nil, shareDevice: String? = nil
    ) {
        self.shareDevice = shareDevice
        self.workspace = workspace
        self.source = source
        self.camera = camera
        self.loopRecordings = loopRecordings
        self.keys = keys
        self.filter = filter
        self.recording = recording
        self.training = training
        self.maximumReopenDelay = maximumReopenDelay
        self.lensCover = lensCover
        self.pauseHotkey = pauseHotkey
    }

    /// Every key any label maps to (the uinput device announces exactly these).
    public var allKeys: Set<KeyCode> { Set(keys.values.flatMap(\.keys)) }
}

/// Something that happened, for subscribers and logs.
public enum DaemonEvent: Sendable {
    /// One recognised frame: probabilities in `labels` order, the filter's state.
    case prediction(timeNanoseconds: UInt64, labels: [String], probabilities: [Float], filterState: FilterState)
    /// A key chord went down or up because of the filter (or a stop path), with the frame-to-key latency and, for
    /// filter decisions, when the deciding frame was captured (the camera's CLOCK_MONOTONIC buffer timestamp; the
    /// system tests subtract it from the evdev event's timestamp to measure camera-to-key latency with kernel clocks).
    /// `reason` says why (`KeyReason`: the filter's decision or a stop path); `failure` is set when the sink could not
    /// send it — for a release that means the key may still be held by the OS.
    case key(
        KeyEvent, keys: [KeyCode], latencyNanoseconds: UInt64?, frameCapturedNanoseconds: UInt64?,
        reason: KeyReason = .filter, failure: String? = nil)
    /// The state changed (reason in words).
    case state(DaemonState, reason: String)
    /// Recording kept a sample.
    case sample(label: String, id: Int64, countForLabel: Int)
    /// A recording's countdown: whole seconds until samples are kept (0: keeping starts now).
    case recordingCountdown(label: String, secondsLeft: Int)
    /// Recording of `label` finished (`outcome` says how, and how many samples were stored).
    case recordingFinished(RecordingOutcome)
    /// Training progress or result.
    case training(
        phase: String, epoch: Int?, epochs: Int?, loss: Float?, accuracy: Float?, headVersion: Int?, message: String?)
}

/// A snapshot for `status`.
public struct DaemonSnapshot: Sendable {
    public var state: DaemonState
    public var reason: String
    /// What paused the daemon (`request`, `pause-hotkey`, `lens-cover`); nil unless paused.
    public var pausedBy: PauseCause?
    /// The pause hotkey's state in words ("KEY_PAUSE on 2 keyboards: …", "off", why it cannot read keyboards).
    public var pauseHotkey: String
    public var source: String
    public var dryRun: Bool
    public var model: String
    public var headVersion: Int?
    public var labels: [String]
    public var heldKeys: [KeyCode]
    public var filterState: FilterState
    public var statistics: PipelineStatistics
    public var recordingLabel: String?
    public var training: Bool
    public var uptimeSeconds: Double
    /// Key-downs sent since start.
    public var keyPresses: Int
}

extension DaemonSettings {
    /// The session's part of the settings.
    public var session: GestureSessionSettings {
        GestureSessionSettings(
            sourceName: source, sampleSource: "daemon:" + source, labels: workspace.labels, filter: filter,
            recording: recording, training: training, maximumReopenDelay: maximumReopenDelay, lensCover: lensCover)
    }
}

/// The session's decisions as key chords on a `KeySink`, each also a `DaemonEvent.key`. Called with the session's
/// lock held.
final class KeySinkOutput: GestureOutput, @unchecked Sendable {
    let sink: any KeySink
    /// Label → chord (replaced on reload, under the session's lock).
    var keys: [String: KeyChord]
    private let clock: any FrameClock
    private let emit: @Sendable (DaemonEvent) -> Void

    init(
        sink: any KeySink, keys: [String: KeyChord], clock: any FrameClock,
        emit: @escaping @Sendable (DaemonEvent) -> Void
    ) {
        self.sink = sink
        self.keys = keys
        self.clock = clock
        self.emit = emit
    }

    func apply(_ decision: KeyDecision) -> KeyOutcome {
        let event = decision.event
        guard let chord = keys[event.label] else { return .ignored }
        var outcome = KeyOutcome.done
        var failure: String?
        do throws(DaemonError) {
            if event.kind == .down { try sink.press(chord) } else { try sink.release(chord) }
        } catch {
            failure = error.description
            outcome = .failed(keys: Self.names(chord.keys), error: error.description)
        }
        emit(
            .key(
                event, keys: chord.keys, latencyNanoseconds: decision.latencyNanoseconds,
                frameCapturedNanoseconds: decision.frameCapturedNanoseconds, reason: decision.reason, failure: failure))
        return outcome
    }

    func releaseEverything(reason: KeyReason, alreadyReported: Bool) -> KeyOutcome {
        let held = sink.heldKeys
        guard !held.isEmpty else { return .done }
        do throws(DaemonError) { try sink.releaseAll() } catch {
            return failed(held, reason: reason, error: error, alreadyReported: alreadyReported)
        }
        return .done
    }

    func close(alreadyReported: Bool) -> KeyOutcome {
        let held = sink.heldKeys
        do throws(DaemonError) { try sink.close() } catch {
            return failed(held, reason: .stop, error: error, alreadyReported: alreadyReported)
        }
        return .done
    }

    /// A release that failed outside a key event (the sink's releaseAll/close): a key-up event with the failure,
    /// unless the same keys' release was just reported.
    private func failed(_ held: [KeyCode], reason: KeyReason, error: DaemonError, alreadyReported: Bool) -> KeyOutcome {
        if !alreadyReported {
            emit(
                .key(
                    KeyEvent(.up, "", atNanoseconds: clock.nowNanoseconds), keys: held, latencyNanoseconds: nil,
                    frameCapturedNanoseconds: nil, reason: reason, failure: error.description))
        }
        return .failed(keys: Self.names(held), error: error.description)
    }

    static func names(_ keys: [KeyCode]) -> String { keys.map(\.description).joined(separator: "+") }
}

/// The session with key output and the daemon's commands.
public final class GestureDaemon: @unchecked Sendable {
    public let workspace: GestureWorkspace
    public let session: GestureSession
    public let dryRun: Bool
    /// Why no keys are injected when `dryRun` (shown by `status`); nil otherwise.
    public let dryRunReason: String?
    private let output: KeySinkOutput
    private let settings: CurrentSettings
    private let hotkeyState = Mutex("off")
    /// The v4l2loopback share (`[camera] share`), open for the daemon's life; nil when not sharing.
    public let share: CameraShare?

    /// The pipeline thread's name in the kernel (/proc/PID/task/TID/comm).
    public static let pipelineThreadName = GestureSession.loopThreadName

    /// Builds the daemon; nothing runs until `start()`.
    /// - Parameters:
    ///   - keySink: where keys go (uinput, dry run, or a recorder in tests).
    ///   - openSource: opens `settings.source` (default: FrameSources with real-time pacing for files).
    ///   - clock: monotonic time (the filter's clock, the waits between camera reopen attempts).
    ///   - emit: receives events; called on the pipeline thread — must not block.
    ///   - logger: gets camera opens (negotiated format, size, rate), rate warnings and key-output failures; none
    ///     per frame. Default: discards everything.
    public init(
        settings: DaemonSettings, workspace: GestureWorkspace, keySink: any KeySink, dryRun: Bool,
        dryRunReason: String? = nil,
        openSource: @escaping @Sendable (DaemonSettings) throws(CaptureError) -> any FrameSource = GestureDaemon
            .defaultOpener,
        clock: any FrameClock = SystemFrameClock(),
        emit: @escaping @Sendable (DaemonEvent) -> Void = { _ in },
        logger: Logger = Logger(label: "gesturepad", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(DaemonError) {
        self.workspace = workspace
        self.dryRun = dryRun
        self.dryRunReason = dryRun ? dryRunReason ?? "asked for" : nil
        let current = CurrentSettings(settings)
        self.settings = current
        let output = KeySinkOutput(sink: keySink, keys: settings.keys, clock: clock, emit: emit)
        self.output = output
        let share: CameraShare?
        if let shareDevice = settings.shareDevice {
            do throws(CaptureError) {
                share = try CameraShare(device: shareDevice, camera: settings.source) { [logger] problem in
                    logger.error("\(problem)")
                }
            } catch { throw .cameraShare(error) }
            logger.info("sharing the camera to \(shareDevice) (v4l2loopback)")
        } else {
            share = nil
        }
        self.share = share
        do {
            session = try GestureSession(
                settings: settings.session, recognizer: try workspace.makeRecognizer(), samples: workspace.samples,
                cacheKey: workspace.trainer.cacheKey, trainer: workspace.trainer, output: output, clock: clock,
                openSource: { () throws(CaptureError) in
                    let opened = try openSource(current.value)
                    guard let share else { return opened }
                    return try Self.sharing(opened, to: share)
                },
                emit: { event in Self.forward(event, to: emit, logger: logger) })
        } catch { throw .gestures(error) }
    }

    /// Opens cameras via FrameSources; files play in real time (looping when configured).
    public static let defaultOpener: @Sendable (DaemonSettings) throws(CaptureError) -> any FrameSource = {
        settings throws(CaptureError) in
        try FrameSources.open(
            settings.source, pacing: .realTime, loops: settings.loopRecordings, camera: settings.camera)
    }

    /// `opened` with every frame also written to `share` from its own capture thread (CameraShare.swift); refuses a
    /// camera that is the share's node.
    static func sharing(_ opened: any FrameSource, to share: CameraShare) throws(CaptureError) -> any FrameSource {
        var rate: Double?
        if let camera = opened as? V4L2Camera {
            guard camera.devicePath != share.devicePath else {
                opened.close()
                throw .shareIsTheCamera(device: share.devicePath, camera: camera.configuration.device)
            }
            rate = camera.negotiation.framesPerSecond
        }
        return SharingFrameSource(opened, share: share, framesPerSecond: rate)
    }

    /// A session event as a daemon event (and notices as log lines).
    private static func forward(
        _ event: SessionEvent, to emit: @Sendable (DaemonEvent) -> Void, logger: Logger
    ) {
        switch event {
        case .prediction(let time, let labels, let probabilities, let filterState):
            emit(
                .prediction(
                    timeNanoseconds: time, labels: labels, probabilities: probabilities, filterState: filterState))
        case .state(let state, let reason):
            emit(.state(DaemonState(state), reason: reason))
        case .sample(let label, let id, let count):
            emit(.sample(label: label, id: id, countForLabel: count))
        case .recordingCountdown(let label, let secondsLeft):
            emit(.recordingCountdown(label: label, secondsLeft: secondsLeft))
        case .recordingFinished(let outcome):
            emit(.recordingFinished(outcome))
        case .training(let training):
            switch training {
            case .started(let epochs):
                emit(
                    .training(
                        phase: "started", epoch: nil, epochs: epochs, loss: nil, accuracy: nil, headVersion: nil,
                        message: nil))
            case .embedding(let done, let total) where done == total || done % max(1, total / 10) == 0:
                // Embedding the new samples is most of a training's time: about every tenth, so clients can say so.
                emit(
                    .training(
                        phase: "embedding", epoch: nil, epochs: nil, loss: nil, accuracy: nil, headVersion: nil,
                        message: "\(done)/\(total) samples embedded"))
            case .embedding, .heldOutEpoch: break
            case .epoch(let report):
                emit(
                    .training(
                        phase: "epoch", epoch: report.epoch, epochs: report.epochs, loss: report.loss,
                        accuracy: report.accuracy, headVersion: nil, message: nil))
            case .finished(let trained):
                emit(
                    .training(
                        phase: "finished", epoch: nil, epochs: nil, loss: trained.summary.finalLoss,
                        accuracy: trained.summary.finalAccuracy, headVersion: trained.metadata.version, message: nil))
            case .failed(let error):
                emit(
                    .training(
                        phase: "failed", epoch: nil, epochs: nil, loss: nil, accuracy: nil, headVersion: nil,
                        message: error.description))
            }
        case .notice(let level, let message, let metadata):
            let logMetadata = metadata.mapValues { Logger.MetadataValue.string($0) }
            switch level {
            case .info: logger.info("\(message)", metadata: logMetadata)
            case .warning: logger.warning("\(message)", metadata: logMetadata)
            case .error: logger.error("\(message)", metadata: logMetadata)
            }
        }
    }

    // MARK: Commands

    /// Starts the pipeline thread.
    public func start() { session.start() }

    /// Stops the pipeline, releases every key and closes key output; a pending `record` ends (`.stopping`) and a
    /// running training is cancelled. Events go out in order: state `stopping`, the key-ups (reason `stop`), state
    /// `stopped`. Blocks until the pipeline thread ended. Idempotent.
    ///
    /// Throws `keyReleaseFailed` when any release failed during the daemon's life (each was already an event and an
    /// error log line): a key may still be held, and the process must not exit as if all was well. Else throws
    /// `filterFailed` when the decision filter failed (also each an event and a log line when it happened).
    public func stop() throws(DaemonError) {
        session.stop()
        share?.close()
        if let failure = failureToReport { throw failure }
    }

    /// The key releases that failed so far, one sentence each (empty when every release worked).
    public var keyReleaseFailures: [String] { session.keyReleaseFailures }

    /// What makes the daemon exit non-zero: failed key releases first, else decision filter failures; nil when
    /// neither happened.
    public var failureToReport: DaemonError? {
        let releases = session.keyReleaseFailures
        if !releases.isEmpty { return .keyReleaseFailed(failures: releases) }
        let filter = session.decisionFilterFailures
        return filter.isEmpty ? nil : .filterFailed(failures: filter)
    }

    /// Releases keys and the camera; frames stop until `resume`. Returns once the camera is closed
    /// (so a video call can open it right away), or after 2 s if a frame wait is stuck.
    public func pause() { session.pause() }

    /// Reopens the camera and recognises again (whatever paused it: a request, the hotkey, the lens cover).
    public func resume() { session.resume() }

    /// The pause hotkey was pressed: pauses (keys released at once, camera closed) or resumes.
    public func togglePauseByHotkey() { session.togglePause(by: .hotkey) }

    /// Sets what `status` says about the pause hotkey (the listener calls this when its keyboards change).
    public func setPauseHotkeyState(_ words: String) { hotkeyState.withLock { $0 = words } }

    /// Records samples of `label` for `seconds` from the live frames (see `GestureSession.record`); `completion` runs
    /// exactly once with what was stored and why the recording ended. Refused while paused, stopping, or after the
    /// source (a recording) ended.
    public func record(
        label: String, seconds: Double, countdownSeconds: Double? = nil,
        completion: @escaping @Sendable (RecordingOutcome) -> Void = { _ in }
    ) throws(DaemonError) {
        do {
            try session.record(
                label: label, seconds: seconds, countdownSeconds: countdownSeconds, completion: completion)
        } catch {
            switch error {
            case .gestures(let error): throw .gestures(error)
            case .recordingRefused(let label, let state, let reason):
                throw .recordingRefused(label: label, state: DaemonState(state), reason: reason)
            }
        }
    }

    /// Trains a head on the stored samples in the background; prediction continues; the new head swaps in.
    public func train(completion: @escaping @Sendable (Result<TrainedHead, GesturesError>) -> Void = { _ in })
        throws(DaemonError)
    {
        do { try session.train(completion: completion) } catch { throw .gestures(error) }
    }

    /// Applies new settings and picks up the current stored head (e.g. trained by `gesturepad train` meanwhile):
    /// keys are released first; the camera reopens when the source or camera settings changed. The workspace
    /// (model, labels, data) is fixed for the daemon's life — a change there needs a restart.
    public func reload(_ newSettings: DaemonSettings) throws(DaemonError) {
        let old = settings.value
        let reopen = newSettings.source != old.source || newSettings.camera != old.camera
        do {
            try session.reload(newSettings.session, reopenSource: reopen) { [output, settings] in
                output.keys = newSettings.keys
                settings.value = newSettings
            }
        } catch { throw .gestures(error) }
    }

    /// How long the pipeline thread has gone without progress (a frame, a timed-out frame wait, a camera retry, a
    /// paused check); nil when no pipeline runs (not started, or ended after `stop`). Never takes the session's lock,
    /// so it answers even when the pipeline is stuck holding it. The systemd watchdog pings only while this is short.
    public func pipelineStall() -> Duration? { session.loopStall() }

    /// A status snapshot.
    public func snapshot() -> DaemonSnapshot {
        let reading = session.snapshot()
        let source = settings.value.source
        return DaemonSnapshot(
            state: DaemonState(reading.state), reason: reading.reason, pausedBy: reading.pauseCause,
            pauseHotkey: hotkeyState.withLock { $0 }, source: source, dryRun: dryRun,
            model: session.recognizer.extractor.identity.description, headVersion: reading.headVersion,
            labels: reading.labels, heldKeys: session.withLock { output.sink.heldKeys },
            filterState: reading.filterState,
            statistics: reading.statistics, recordingLabel: reading.recordingLabel, training: reading.training,
            uptimeSeconds: reading.uptimeSeconds, keyPresses: reading.keyPresses)
    }
}

/// The daemon's settings as of the last reload, shared with the session's source opener.
final class CurrentSettings: Sendable {
    private let stored: Mutex<DaemonSettings>
    init(_ settings: DaemonSettings) { stored = Mutex(settings) }
    var value: DaemonSettings {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}

extension ShareStatus {
    /// The share's state as the protocol carries it.
    public init(_ status: CameraShareStatus) {
        self.init(
            device: status.device, state: status.state, format: status.format, framesWritten: status.framesWritten,
            stillFramesWritten: status.stillFramesWritten, fps: status.framesPerSecond, readers: status.readers,
            lastError: status.lastError)
    }
}

extension DaemonState {
    /// The session's state under its protocol name.
    public init(_ state: SessionState) { self.init(rawValue: state.rawValue) }
}
