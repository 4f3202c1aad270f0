// GestureDaemon: the background service's core — one pipeline thread runs capture → recognise →
// decision filter → key sink at camera rate, and commands (pause, resume, record, train, reload,
// stop) arrive from other threads (the control socket, signals). Invariants:
// - Every stop path releases held keys: stop, pause, reload, camera loss/error, end of a recording,
//   stale input (the filter's timeout), and a frame error. Keys go through one lock-guarded sink.
// - Prediction never stops for training: the trainer has its own embedder; a new head swaps in
//   atomically (Recognizer.swapHead) and is already persisted by the head store.
// - A camera that vanishes is reopened with backoff capped at `maximumReopenDelay` (≤ 1 s by
//   default) so the daemon resumes within 2 s of the device returning; `pause` closes the camera
//   (so video calls can use it) and `resume` reopens it.
// - The state machine never leaves `stopping` except for `stopped`, and never leaves `stopped`.
// - Frames are counted where they happen: captured by the source (newest-frame-wins skips included),
//   processed by the pipeline; dropped is the difference.
// - The pipeline thread stamps a lock-free heartbeat each time round its loop (a frame, a frame wait
//   that timed out, a camera retry, a paused or ended-recording check); the systemd watchdog pings only
//   while that heartbeat is fresh, so a pipeline stuck in a driver call or a deadlock gets the service
//   restarted even though the rest of the process still runs.
// Time comes from an injected monotonic clock; events go to an injected sink (the control socket's
// broadcaster, logs, tests). The log (swift-log) gets what the user must know about the camera and the
// rate — the negotiated format, size and rate at each open, a low camera rate, a processing rate too low
// for `stale_ms` — once each, never a line per frame.
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

    public init(
        workspace: WorkspaceConfiguration, source: String, camera: V4L2CameraConfiguration = V4L2CameraConfiguration(),
        loopRecordings: Bool = true, keys: [String: KeyChord], filter: DecisionFilterSettings = .default,
        recording: RecordingSettings = RecordingSettings(), training: TrainingOptions = TrainingOptions(),
        maximumReopenDelay: Duration = .seconds(1)
    ) {
        self.workspace = workspace
        self.source = source
        self.camera = camera
        self.loopRecordings = loopRecordings
        self.keys = keys
        self.filter = filter
        self.recording = recording
        self.training = training
        self.maximumReopenDelay = maximumReopenDelay
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
    /// Recording of `label` finished (`outcome` says how, and how many samples were stored).
    case recordingFinished(RecordingOutcome)
    /// Training progress or result.
    case training(
        phase: String, epoch: Int?, epochs: Int?, loss: Float?, accuracy: Float?, headVersion: Int?, message: String?)
}

/// Why a key went down or up: the decision filter, its stale-input timer, or one of the stop paths. The raw
/// values are the control protocol's `"reason"` strings of key events (Sources/Daemon/ControlProtocol.swift).
public enum KeyReason: String, Sendable, Equatable, CaseIterable {
    /// The decision filter decided (a gesture started or ended).
    case filter
    /// The filter's timer: no fresh frame within the stale limit.
    case staleInput = "stale-input"
    /// The daemon is stopping (SIGTERM, SIGINT, `stop()`).
    case stop
    /// `pause`.
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
}

/// How a `record` request ended.
public enum RecordingEnd: String, Sendable, Equatable, Codable {
    /// The requested time was up.
    case completed
    /// A newer `record` request took over.
    case replaced
    /// `pause` ended it early.
    case paused
    /// The source (a finite recording) ended.
    case sourceEnded = "source-ended"
    /// The daemon is stopping.
    case stopping
    /// A sample could not be stored (e.g. the disk is full); the recording stopped there.
    case writeFailed = "write-failed"
}

/// The result of one `record` request: exactly how many samples were committed (each with its embedding).
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
        case .completed: return "\(samples) in \(time) s"
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
    /// Stage → (p50, p95) in milliseconds: preprocess, normalize, embed, head, filter, total, frame_to_key.
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

/// A snapshot for `status`.
public struct DaemonSnapshot: Sendable {
    public var state: DaemonState
    public var reason: String
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

/// The pipeline and its commands.
public final class GestureDaemon: @unchecked Sendable {
    public let workspace: GestureWorkspace
    public let recognizer: Recognizer
    public let dryRun: Bool
    private let keySink: any KeySink
    private let openSource: @Sendable (DaemonSettings) throws(CaptureError) -> any FrameSource
    private let now: @Sendable () -> UInt64
    private let emit: @Sendable (DaemonEvent) -> Void
    private let logger: Logger
    private let startNanoseconds: UInt64

    // Guarded by `lock`: everything below, touched by the pipeline thread and commands.
    private let lock = NSCondition()
    private var settings: DaemonSettings
    private var filter: DecisionFilter
    private var state: DaemonState = .starting
    private var reason = "starting"
    private var paused = false
    private var stopRequested = false
    private var recording: ActiveRecording?
    /// Key releases that failed (each also an event and an error log line); `stop()` throws when there were any.
    private var releaseFailures: [String] = []
    private var keyPresses = 0
    private var statistics = RollingStatistics(window: 300)
    private var framesCaptured = 0
    private var framesProcessed = 0
    private var predictions = 0
    /// The processing rate forced the filter's stale limit above `stale_ms` and the log said so (again after a reload).
    private var staleLimitWarned = false
    private var thread: Thread?
    private var finished = false
    /// When the pipeline thread last went round its loop, on `now`; 0 while no pipeline runs. Lock-free on
    /// purpose: a pipeline stuck while holding `lock` must not stop the watchdog from noticing.
    private let heartbeat = Atomic<UInt64>(0)

    /// A `record` request in progress.
    private struct ActiveRecording {
        var recorder: SampleRecorder
        let startNanoseconds: UInt64
        let untilNanoseconds: UInt64
        /// Samples committed so far (each with its embedding).
        var saved = 0
        let completion: @Sendable (RecordingOutcome) -> Void
    }

    /// The longest single wait for a frame (ms): bounds how long the pipeline goes without a heartbeat while the
    /// camera sends nothing, whatever `stale_ms` says (the unit's WatchdogSec is 10 s).
    static let longestFrameWaitMilliseconds = 500

    /// Builds the daemon; nothing runs until `start()`.
    /// - Parameters:
    ///   - keySink: where keys go (uinput, dry run, or a recorder in tests).
    ///   - openSource: opens `settings.source` (default: FrameSources with real-time pacing for files).
    ///   - now: monotonic nanoseconds (the filter's clock).
    ///   - emit: receives events; called on the pipeline thread — must not block.
    ///   - logger: gets camera opens (negotiated format, size, rate), rate warnings and key-output failures; none
    ///     per frame. Default: discards everything.
    public init(
        settings: DaemonSettings, workspace: GestureWorkspace, keySink: any KeySink, dryRun: Bool,
        openSource: @escaping @Sendable (DaemonSettings) throws(CaptureError) -> any FrameSource = GestureDaemon
            .defaultOpener,
        now: @escaping @Sendable () -> UInt64 = Monotonic.nanoseconds,
        emit: @escaping @Sendable (DaemonEvent) -> Void = { _ in },
        logger: Logger = Logger(label: "gesturepad", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(DaemonError) {
        self.settings = settings
        self.workspace = workspace
        self.keySink = keySink
        self.dryRun = dryRun
        self.openSource = openSource
        self.now = now
        self.emit = emit
        self.logger = logger
        startNanoseconds = now()
        do {
            recognizer = try workspace.makeRecognizer()
            filter = try DecisionFilter(
                labels: recognizer.currentHead?.labels ?? settings.workspace.labels, settings: settings.filter)
        } catch { throw .gestures(error) }
    }

    /// Opens cameras via FrameSources; files play in real time (looping when configured).
    public static let defaultOpener: @Sendable (DaemonSettings) throws(CaptureError) -> any FrameSource = {
        settings throws(CaptureError) in
        try FrameSources.open(
            settings.source, pacing: .realTime, loops: settings.loopRecordings, camera: settings.camera)
    }

    // MARK: Commands

    /// The pipeline thread's name in the kernel (/proc/PID/task/TID/comm).
    public static let pipelineThreadName = "gp-pipeline"

    /// Starts the pipeline thread.
    public func start() {
        lock.lock()
        defer { lock.unlock() }
        guard thread == nil else { return }
        heartbeat.store(max(1, now()), ordering: .relaxed)
        let thread = Thread { [self] in
            Self.nameKernelThread(Self.pipelineThreadName)
            runPipeline()
        }
        thread.name = "gesturepad pipeline"
        thread.qualityOfService = .userInteractive
        self.thread = thread
        thread.start()
    }

    /// Names the calling thread for the kernel (`top -H`, /proc/PID/task/TID/comm, debuggers; 15 bytes at most):
    /// Foundation's Thread.name does not reach the kernel on Linux, and Swift's Glibc module lacks
    /// pthread_setname_np, so it is written to /proc/thread-self/comm (what prctl(PR_SET_NAME) sets). Best effort.
    static func nameKernelThread(_ name: String) {
        let descriptor = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
    }

    /// Stops the pipeline, releases every key and closes key output; a pending `record` ends (`.stopping`) and a
    /// running training is cancelled. Events go out in order: state `stopping`, the key-ups (reason `stop`), state
    /// `stopped`. Blocks until the pipeline thread ended. Idempotent.
    ///
    /// Throws `keyReleaseFailed` when any release failed during the daemon's life (each was already an event and an
    /// error log line): a key may still be held, and the process must not exit as if all was well.
    public func stop() throws(DaemonError) {
        lock.lock()
        stopRequested = true
        setState(.stopping, "stopping")
        finishRecording(.stopping)
        let failuresBeforeStop = releaseFailures.count
        // At once, not after the pipeline thread ends: `process` changes nothing once `stopRequested` is set, so no key
        // can go down again, and the user's key comes up without waiting for a camera call to return.
        releaseKeys(reason: .stop)
        lock.broadcast()
        let running = thread != nil
        lock.unlock()
        if workspace.trainer.isRunning { workspace.trainer.cancel() }
        if running {
            lock.lock()
            while !finished { _ = lock.wait(until: Date().addingTimeInterval(0.05)) }
            lock.unlock()
        }
        lock.lock()
        defer { lock.unlock() }
        // Keys were released above and none can go down since; closing gives the device up (the kernel releases
        // whatever a failed release left down). A close that fails is reported unless that release already was.
        let held = keySink.heldKeys
        do throws(DaemonError) { try keySink.close() } catch {
            if releaseFailures.count == failuresBeforeStop {
                reportReleaseFailure(keys: held, label: nil, reason: .stop, error: error)
            } else {
                logger.error("closing key output failed too: \(error.description)")
            }
        }
        setState(.stopped, "stopped")
        if !releaseFailures.isEmpty {
            throw .keyReleaseFailed(failures: releaseFailures)
        }
    }

    /// The key releases that failed so far, one sentence each (empty when every release worked).
    public var keyReleaseFailures: [String] {
        lock.lock()
        defer { lock.unlock() }
        return releaseFailures
    }

    /// Releases keys and the camera; frames stop until `resume`. Returns once the camera is closed
    /// (so a video call can open it right away), or after 2 s if a frame wait is stuck.
    public func pause() {
        lock.lock()
        paused = true
        finishRecording(.paused)
        releaseKeys(reason: .pause)
        setState(.paused, "paused by request (camera released)")
        lock.broadcast()
        let deadline = Date().addingTimeInterval(2)
        while sourceOpen && thread != nil && !finished && Date() < deadline { _ = lock.wait(until: deadline) }
        lock.unlock()
    }

    /// Reopens the camera and recognises again.
    public func resume() {
        lock.lock()
        paused = false
        if state == .paused { setState(.starting, "resuming") }
        lock.broadcast()
        lock.unlock()
    }

    /// Records samples of `label` for `seconds` from the live frames (throttled, de-duplicated); each kept frame is
    /// committed with its embedding in one transaction. `completion` runs exactly once with what was stored and why
    /// the recording ended: the time was up, a newer request, `pause`, the end of the source, `stop`, or a sample
    /// that could not be written (the recording stops at the first one, so the count stays exact).
    ///
    /// Refused (nothing starts) while the daemon is paused, stopping, or its source (a recording) has ended: no frame
    /// would come, and the request would otherwise wait forever.
    public func record(
        label: String, seconds: Double, completion: @escaping @Sendable (RecordingOutcome) -> Void = { _ in }
    ) throws(DaemonError) {
        guard settings.workspace.labels.names.contains(label) else {
            throw .gestures(.unknownLabel(label: label, known: settings.workspace.labels.names))
        }
        guard seconds > 0, seconds <= 3600 else {
            throw .recordingRefused(label: label, state: .running, reason: "seconds must be > 0 and ≤ 3600")
        }
        lock.lock()
        defer { lock.unlock() }
        if stopRequested || state == .stopping || state == .stopped {
            throw .recordingRefused(label: label, state: .stopping, reason: "the daemon is stopping")
        }
        if paused {
            throw .recordingRefused(
                label: label, state: .paused, reason: "the daemon is paused: resume it first (gesturepad resume)")
        }
        if state == .sourceEnded {
            throw .recordingRefused(
                label: label, state: .sourceEnded,
                reason: "the source (a recording) has ended: reload or restart the daemon to replay it")
        }
        finishRecording(.replaced)
        let start = now()
        recording = ActiveRecording(
            recorder: SampleRecorder(label: label, settings: settings.recording, startNanoseconds: start),
            startNanoseconds: start, untilNanoseconds: start + UInt64(seconds * 1e9), completion: completion)
    }

    /// Trains a head on the stored samples in the background; prediction continues; the new head swaps in.
    public func train(completion: @escaping @Sendable (Result<TrainedHead, GesturesError>) -> Void = { _ in })
        throws(DaemonError)
    {
        let request = TrainingRequest(labels: settings.workspace.labels, options: settings.training)
        emit(
            .training(
                phase: "started", epoch: nil, epochs: request.options.epochs, loss: nil, accuracy: nil,
                headVersion: nil,
                message: nil))
        do {
            try workspace.trainer.start(
                request,
                onEvent: { [emit] event in
                    if case .epoch(let report) = event {
                        emit(
                            .training(
                                phase: "epoch", epoch: report.epoch, epochs: report.epochs, loss: report.loss,
                                accuracy: report.accuracy, headVersion: nil, message: nil))
                    }
                },
                completion: { [self] result in
                    switch result {
                    case .success(let trained):
                        do throws(GesturesError) {
                            try recognizer.swapHead(trained.active)
                            lock.lock()
                            releaseKeys(reason: .newHead)
                            filter =
                                (try? DecisionFilter(labels: trained.active.labels, settings: settings.filter))
                                ?? filter
                            lock.unlock()
                            emit(
                                .training(
                                    phase: "finished", epoch: nil, epochs: nil, loss: trained.summary.finalLoss,
                                    accuracy: trained.summary.finalAccuracy, headVersion: trained.metadata.version,
                                    message: nil))
                        } catch {
                            emit(
                                .training(
                                    phase: "failed", epoch: nil, epochs: nil, loss: nil, accuracy: nil,
                                    headVersion: nil,
                                    message: error.description))
                        }
                    case .failure(let error):
                        emit(
                            .training(
                                phase: "failed", epoch: nil, epochs: nil, loss: nil, accuracy: nil, headVersion: nil,
                                message: error.description))
                    }
                    completion(result)
                })
        } catch { throw .gestures(error) }
    }

    /// Applies new settings and picks up the current stored head (e.g. trained by `gesturepad train` meanwhile):
    /// keys are released first; the camera reopens when the source or camera settings changed. The workspace
    /// (model, labels, data) is fixed for the daemon's life — a change there needs a restart.
    public func reload(_ newSettings: DaemonSettings) throws(DaemonError) {
        do {
            if let stored = try workspace.trainer.loadCurrentHead(), stored.version != recognizer.currentHead?.version {
                try recognizer.swapHead(stored)
            }
        } catch { throw .gestures(error) }
        let newFilter: DecisionFilter
        do {
            newFilter = try DecisionFilter(
                labels: recognizer.currentHead?.labels ?? newSettings.workspace.labels,
                settings: newSettings.filter)
        } catch { throw .gestures(error) }
        lock.lock()
        defer { lock.unlock() }
        releaseKeys(reason: .reload)
        let reopen = newSettings.source != settings.source || newSettings.camera != settings.camera
        settings = newSettings
        filter = newFilter
        staleLimitWarned = false
        if reopen { sourceNeedsReopen = true }
        lock.broadcast()
    }

    /// How long the pipeline thread has gone without progress (a frame, a timed-out frame wait, a camera retry, a
    /// paused check); nil when no pipeline runs (not started, or ended after `stop`). Never takes the daemon's lock,
    /// so it answers even when the pipeline is stuck holding it. The systemd watchdog pings only while this is short.
    public func pipelineStall() -> Duration? {
        let last = heartbeat.load(ordering: .relaxed)
        guard last != 0 else { return nil }
        let current = now()
        return .nanoseconds(Int64(clamping: current > last ? current - last : 0))
    }

    /// A status snapshot.
    public func snapshot() -> DaemonSnapshot {
        lock.lock()
        defer { lock.unlock() }
        return DaemonSnapshot(
            state: state, reason: reason, source: settings.source, dryRun: dryRun,
            model: recognizer.extractor.identity.description, headVersion: recognizer.currentHead?.version,
            labels: (recognizer.currentHead?.labels ?? settings.workspace.labels).names,
            heldKeys: keySink.heldKeys, filterState: filter.state,
            statistics: statistics.summary(
                now: now(), framesCaptured: framesCaptured,
                framesProcessed: framesProcessed, predictions: predictions),
            recordingLabel: recording?.recorder.label, training: workspace.trainer.isRunning,
            uptimeSeconds: Double(now() - startNanoseconds) / 1e9, keyPresses: keyPresses)
    }

    // MARK: Pipeline

    private var sourceNeedsReopen = false
    /// Whether the pipeline holds the source open (guarded by `lock`).
    private var sourceOpen = false

    /// Closes the pipeline's source and records it (pipeline thread only).
    private func closeSource(_ source: inout (any FrameSource)?) {
        source?.close()
        source = nil
        lock.lock()
        sourceOpen = false
        lock.broadcast()
        lock.unlock()
    }

    private func runPipeline() {
        var source: (any FrameSource)?
        var failures = 0
        /// `framesCaptured` of the open source when last counted, and whether its low rate was logged.
        var capturedBySource = 0
        var frameRateWarned = false
        defer {
            source?.close()
            lock.lock()
            sourceOpen = false
            finished = true
            heartbeat.store(0, ordering: .relaxed)
            lock.broadcast()
            lock.unlock()
        }
        while true {
            heartbeat.store(max(1, now()), ordering: .relaxed)
            lock.lock()
            if stopRequested {
                lock.unlock()
                return
            }
            // A recording's time runs out with or without frames (a lost camera, frame waits that time out).
            expireRecording(at: now())
            if paused || sourceNeedsReopen {
                if let open = source {
                    open.close()
                    source = nil
                }
                sourceOpen = false
                lock.broadcast()
                sourceNeedsReopen = false
                if paused {
                    _ = lock.wait(until: Date().addingTimeInterval(0.25))
                    lock.unlock()
                    continue
                }
            }
            let current = settings
            lock.unlock()

            if source == nil {
                do throws(CaptureError) {
                    let opened = try openSource(current)
                    source = opened
                    failures = 0
                    capturedBySource = opened.framesCaptured
                    frameRateWarned = false
                    logOpened(opened)
                    lock.lock()
                    sourceOpen = true
                    setState(.running, "recognising \(opened.sourceDescription)")
                    lock.unlock()
                } catch {
                    failures += 1
                    lock.lock()
                    releaseKeys(reason: .cameraLost)
                    setState(.cameraLost, error.description)
                    let delay = min(
                        V4L2ReconnectPolicy(maximumDelay: current.maximumReopenDelay).delay(afterFailures: failures),
                        current.maximumReopenDelay)
                    _ = lock.wait(until: Date().addingTimeInterval(max(0.01, Self.seconds(delay))))
                    lock.unlock()
                    continue
                }
            }

            var processed = false
            var frameError: CaptureError?
            // Wait at most `stale_ms` for a frame, so the filter's stale-input timer is checked that often — and never
            // longer than `longestFrameWaitMilliseconds`, so the pipeline goes round (its watchdog heartbeat) well within
            // WatchdogSec even with stale_ms up to its 60 s limit; a timeout only ticks the filter.
            let waitMilliseconds = min(current.filter.staleInputTimeoutMilliseconds, Self.longestFrameWaitMilliseconds)
            let active = source!
            do {
                defer { countCaptured(active, &capturedBySource) }
                let delivered: Void? = try active.withNextFrame(timeoutMilliseconds: waitMilliseconds) { frame in
                    do throws(CaptureError) { try process(frame) } catch { frameError = error }
                    processed = true
                }
                if processed, !frameRateWarned, let warning = active.deliveryWarning {
                    // Once per open: a camera far below its negotiated rate (the auto-exposure trap).
                    frameRateWarned = true
                    logger.warning("\(active.sourceDescription): \(warning)")
                }
                if delivered == nil {
                    // A finite recording ended (not looping): keys up, stay alive for the socket.
                    source?.close()
                    lock.lock()
                    sourceOpen = false
                    releaseKeys(reason: .sourceEnded)
                    finishRecording(.sourceEnded)
                    setState(.sourceEnded, "the recording ended; reload or restart to replay it")
                    while !stopRequested && !sourceNeedsReopen && !paused {
                        heartbeat.store(max(1, now()), ordering: .relaxed)
                        _ = lock.wait(until: Date().addingTimeInterval(0.25))
                    }
                    lock.unlock()
                    source = nil
                    continue
                }
            } catch {
                frameError = error
            }
            if let frameError {
                lock.lock()
                if frameError.isFrameWaitTimeout {
                    // No frame yet: not a fault. The filter's timer releases a held key once input is stale (its
                    // limit follows the measured frame interval, so a camera or machine at 1 fps keeps working).
                    tickFilter()
                    setState(.running, "no frames for \(waitMilliseconds) ms")
                    lock.unlock()
                    continue
                }
                releaseKeys(reason: .cameraLost)
                setState(.cameraLost, frameError.description)
                lock.unlock()
                closeSource(&source)
                continue
            }
            if !processed {
                lock.lock()
                tickFilter()
                lock.unlock()
            }
        }
    }

    /// Logs what an opened source delivers: for a camera the negotiated format, size and rate next to what was asked
    /// (the camera may give less), for a file its layout and rate.
    private func logOpened(_ source: any FrameSource) {
        let description = source.sourceDescription
        let summary = source.formatSummary
        logger.info(
            "opened \(description): \(summary)", metadata: ["source": "\(description)", "format": "\(summary)"])
    }

    /// Adds the frames `source` captured since the last count (pipeline thread).
    private func countCaptured(_ source: any FrameSource, _ counted: inout Int) {
        let total = source.framesCaptured
        let added = total >= counted ? total - counted : total
        counted = total
        guard added > 0 else { return }
        lock.lock()
        framesCaptured += added
        lock.unlock()
    }

    /// One frame through recognizer, filter, keys and recording.
    private func process(_ frame: FrameView) throws(CaptureError) {
        let frameStart = now()
        let recognition = try recognizer.recognize(frame: frame)
        let filterStart = now()
        lock.lock()
        defer { lock.unlock() }
        framesProcessed += 1
        // A frame that was in flight when pause/stop came in changes nothing (no key may go down after a stop path).
        if paused || stopRequested || sourceNeedsReopen { return }
        if state != .running { setState(.running, "recognising") }
        var events: [KeyEvent] = []
        if !recognition.probabilities.isEmpty {
            predictions += 1
            if filter.labels != recognition.labels, let labels = recognition.labels {
                releaseKeys(reason: .labelsChanged)
                filter = (try? DecisionFilter(labels: labels, settings: settings.filter)) ?? filter
            }
            events = (try? filter.update(probabilities: recognition.probabilities, atNanoseconds: filterStart)) ?? []
            warnIfTooSlowForStaleSetting()
        }
        let filterEnd = now()
        for event in events {
            apply(event, frameNanoseconds: frameStart, capturedNanoseconds: frame.timestampNanoseconds)
        }
        statistics.add(
            timings: recognition.timings, filterNanoseconds: filterEnd - filterStart,
            totalNanoseconds: filterEnd - frameStart, at: filterEnd)
        if let labels = recognition.labels {
            emit(
                .prediction(
                    timeNanoseconds: filterStart, labels: labels.names, probabilities: recognition.probabilities,
                    filterState: filter.state))
        }
        recordIfAsked(at: filterEnd)
    }

    /// Once the filter has a full history of frame intervals: if frames come too slowly for `stale_ms`, says so once
    /// (the filter then judges staleness by 3 frame intervals instead). Caller holds the lock.
    private func warnIfTooSlowForStaleSetting() {
        guard !staleLimitWarned, filter.frameIntervalSampleCount >= DecisionFilter.intervalHistoryLength,
            let interval = filter.typicalFrameIntervalNanoseconds
        else { return }
        let configured = UInt64(settings.filter.staleInputTimeoutMilliseconds) * 1_000_000
        let limit = filter.staleInputLimitNanoseconds
        guard limit > configured else { return }
        staleLimitWarned = true
        let intervalMilliseconds: Int = Int((Double(interval) / 1e6).rounded())
        let limitMilliseconds: Int = Int((Double(limit) / 1e6).rounded())
        let rate: String = String(format: "%.1f", 1e9 / Double(interval))
        let stale: Int = settings.filter.staleInputTimeoutMilliseconds
        let multiple: UInt64 = DecisionFilter.staleIntervalMultiple
        var message = "frames reach the decision filter only every \(intervalMilliseconds) ms (\(rate) fps): "
        message += "[filter] stale_ms = \(stale) would call every frame stale, so input counts as stale after "
        message +=
            "\(limitMilliseconds) ms (\(multiple) frame intervals) instead. A narrower model ([model] name) raises the "
        message += "rate; stale_ms = \(limitMilliseconds) or more says so explicitly."
        logger.warning(
            "\(message)",
            metadata: ["frame_interval_ms": "\(intervalMilliseconds)", "stale_limit_ms": "\(limitMilliseconds)"])
    }

    /// Presses or releases the chord of `event`'s label (labels without keys press nothing), and emits the key event
    /// with its reason. A failed release is reported as one (event, error log line, counted for `stop()`).
    private func apply(
        _ event: KeyEvent, frameNanoseconds: UInt64?, capturedNanoseconds: UInt64? = nil, reason: KeyReason = .filter
    ) {
        guard let chord = settings.keys[event.label] else { return }
        var failure: String?
        do throws(DaemonError) {
            if event.kind == .down { try keySink.press(chord) } else { try keySink.release(chord) }
        } catch {
            failure = error.description
            if event.kind == .down {
                logger.error("key output failed: \(error.description)")
                emit(.state(state, reason: "key output failed: \(error.description)"))
            } else {
                recordReleaseFailure(keys: chord.keys, label: event.label, reason: reason, error: error)
            }
        }
        if event.kind == .down, failure == nil { keyPresses += 1 }
        let latency = frameNanoseconds.map { now() - $0 }
        if event.kind == .down, let latency { statistics.addFrameToKey(latency) }
        emit(
            .key(
                event, keys: chord.keys, latencyNanoseconds: latency, frameCapturedNanoseconds: capturedNanoseconds,
                reason: reason, failure: failure))
    }

    /// The filter's timer: releases on stale input. Caller holds the lock.
    private func tickFilter() {
        for event in filter.advance(toNanoseconds: now()) { apply(event, frameNanoseconds: nil, reason: .staleInput) }
    }

    /// Every stop path: the filter forgets its press (key-up events carry `reason`), then the sink lets go of every
    /// key still held. A release that fails is an event, an error log line and a `stop()` failure — never swallowed.
    /// Caller holds the lock.
    private func releaseKeys(reason: KeyReason) {
        for event in filter.releaseAll(atNanoseconds: now()) {
            apply(event, frameNanoseconds: nil, reason: reason)
        }
        let held = keySink.heldKeys
        guard !held.isEmpty else { return }
        let failuresBefore = releaseFailures.count
        do throws(DaemonError) { try keySink.releaseAll() } catch {
            // The same keys' release just failed through the filter: one report per key-up, not two.
            if releaseFailures.count == failuresBefore {
                reportReleaseFailure(keys: held, label: nil, reason: reason, error: error)
            }
        }
    }

    /// A release that failed outside a key event (the sink's releaseAll/close): a key-up event with the failure, the
    /// error log line and the record. Caller holds the lock.
    private func reportReleaseFailure(keys: [KeyCode], label: String?, reason: KeyReason, error: DaemonError) {
        recordReleaseFailure(keys: keys, label: label, reason: reason, error: error)
        let event = KeyEvent(.up, label ?? "", atNanoseconds: now())
        emit(
            .key(
                event, keys: keys, latencyNanoseconds: nil, frameCapturedNanoseconds: nil, reason: reason,
                failure: error.description))
    }

    /// The error log line and the record of a failed release. Caller holds the lock.
    private func recordReleaseFailure(keys: [KeyCode], label: String?, reason: KeyReason, error: DaemonError) {
        let names = keys.map(\.description).joined(separator: "+")
        let message = "releasing \(names) (\(reason.rawValue)) failed: \(error.description); the key may still be held"
        releaseFailures.append(message)
        logger.error("\(message)", metadata: ["keys": "\(names)", "reason": "\(reason.rawValue)"])
    }

    /// Adds the current sample frame when a recording is running and the recorder keeps it: the sample and its
    /// embedding in one transaction. The first write that fails ends the recording (`.writeFailed`), so the count
    /// the requester gets is exactly what is stored. Caller holds the lock.
    private func recordIfAsked(at time: UInt64) {
        expireRecording(at: time)
        guard var active = recording else { return }
        let decision = active.recorder.consider(features: UnsafeBufferPointer(recognizer.features), atNanoseconds: time)
        recording = active
        guard decision == .keep else { return }
        do throws(GesturesError) {
            let id = try workspace.samples.addRecognized(
                by: recognizer, label: active.recorder.label,
                source: "daemon:" + settings.source, cacheKey: workspace.trainer.cacheKey)
            active.saved += 1
            recording = active
            let count = ((try? workspace.samples.counts()) ?? [:])[active.recorder.label] ?? active.saved
            emit(.sample(label: active.recorder.label, id: id, countForLabel: count))
        } catch {
            logger.error("recording \(active.recorder.label) stopped: \(error.description)")
            finishRecording(.writeFailed, failure: error.description)
        }
    }

    /// Ends the running recording once its time is up. Caller holds the lock.
    private func expireRecording(at time: UInt64) {
        guard let active = recording, time >= active.untilNanoseconds else { return }
        finishRecording(.completed, at: time)
    }

    /// Ends the running recording, if any: the event, then its requester's completion (exactly once). Caller holds
    /// the lock.
    private func finishRecording(_ end: RecordingEnd, failure: String? = nil, at time: UInt64? = nil) {
        guard let active = recording else { return }
        recording = nil
        let endNanoseconds = min(time ?? now(), active.untilNanoseconds)
        let outcome = RecordingOutcome(
            label: active.recorder.label, saved: active.saved,
            secondsRecorded: Double(endNanoseconds &- active.startNanoseconds) / 1e9, end: end, failure: failure)
        emit(.recordingFinished(outcome))
        active.completion(outcome)
    }

    /// Caller holds the lock. From `stopping` the only way is `stopped`, and `stopped` is final: a pipeline thread that
    /// notices a timeout or a frame while the daemon stops cannot move it back to `running`.
    private func setState(_ newState: DaemonState, _ newReason: String) {
        if state == .stopped || (state == .stopping && newState != .stopped) { return }
        guard newState != state || newReason != reason else { return }
        let changed = newState != state
        state = newState
        reason = newReason
        if changed { emit(.state(newState, reason: newReason)) }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}

/// Per-stage timings over a sliding window of frames (p50/p95) and the frame rate.
struct RollingStatistics: Sendable {
    let window: Int
    private var stages: [String: [Double]] = [:]
    private var frameTimes: [UInt64] = []
    private var frameToKey: [Double] = []

    init(window: Int) { self.window = window }

    mutating func add(timings: StageTimings, filterNanoseconds: UInt64, totalNanoseconds: UInt64, at time: UInt64) {
        let values: [(String, UInt64)] = [
            ("preprocess", timings.preprocess), ("normalize", timings.normalize),
            ("embed", timings.embed), ("head", timings.head), ("filter", filterNanoseconds),
            ("total", totalNanoseconds),
        ]
        for (name, nanoseconds) in values {
            stages[name, default: []].append(Double(nanoseconds) / 1e6)
            if stages[name]!.count > window { stages[name]!.removeFirst(stages[name]!.count - window) }
        }
        frameTimes.append(time)
        if frameTimes.count > window { frameTimes.removeFirst(frameTimes.count - window) }
    }

    mutating func addFrameToKey(_ nanoseconds: UInt64) {
        frameToKey.append(Double(nanoseconds) / 1e6)
        if frameToKey.count > window { frameToKey.removeFirst(frameToKey.count - window) }
    }

    func summary(now: UInt64, framesCaptured: Int, framesProcessed: Int, predictions: Int) -> PipelineStatistics {
        func percentiles(_ values: [Double]) -> [Double] {
            guard !values.isEmpty else { return [] }
            let sorted = values.sorted()
            // Nearest rank: the smallest value with at least p of the values at or below it.
            func at(_ p: Double) -> Double {
                sorted[max(0, min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1))]
            }
            return [at(0.5), at(0.95)]
        }
        var latency = stages.mapValues(percentiles)
        if !frameToKey.isEmpty { latency["frame_to_key"] = percentiles(frameToKey) }
        var fps = 0.0
        if frameTimes.count >= 2, let first = frameTimes.first, let last = frameTimes.last, last > first {
            fps = Double(frameTimes.count - 1) / (Double(last - first) / 1e9)
        }
        return PipelineStatistics(
            latencyMilliseconds: latency, framesPerSecond: fps, framesCaptured: framesCaptured,
            framesProcessed: framesProcessed, predictions: predictions)
    }
}
