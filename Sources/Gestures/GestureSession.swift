// GestureSession: the one live loop of gesturepad, shared by the daemon and the game window — the
// frame source opened and reopened (one backoff policy, `V4L2ReconnectPolicy`, on an injected
// `FrameClock`), each frame recognised, the decision filter run (rebuilt by one rule when the head
// changes), samples recorded with honest endings, heads trained in the background and swapped in
// atomically, rolling statistics; everything that happens is an event. What a decision does is the
// `GestureOutput`'s business (the daemon's key sink, the window's game input); the session only
// says when and why.
// Invariants:
// - Every stop path goes through `releaseKeys(reason:)`: the filter forgets its press (its key-ups
//   carry the reason), then the output lets go of anything still held. A release that fails is an
//   event, an error notice and part of what `stop()` returns — never swallowed.
// - One filter rule (`followHead`): whenever the head in use differs from the one the filter was
//   built for (version or labels), keys are released (`newHead` / `labelsChanged`) and the filter is
//   rebuilt from the session's filter settings. A rebuild or update that fails is an error notice and
//   keys stay up; there is no silent fallback to other settings.
// - A source that fails or vanishes is reopened after initial · 2^(n−1) capped at
//   `maximumReopenDelay`; `pause` closes it (so a video call can use the camera), `resume` reopens.
// - The state never leaves `stopping` except for `stopped`, and never leaves `stopped`.
// - Frames are counted where they happen: captured by the source, processed here; dropped is the
//   difference. A lock-free heartbeat is stamped each time round the loop (`loopStall`).
// Threading: one `NSCondition` guards the state; commands come from any thread; the loop runs on
// the session's own thread (`start`). Waits between reopen attempts and while paused are deadlines
// on the injected clock, woken early by commands.
import SystemSupport
import Capture
import Foundation
import NeuralNet
import Synchronization

/// Opens the session's frame source; runs on the loop thread (opening a camera can take a second or two).
public typealias FrameSourceOpener = @Sendable () throws(CaptureError) -> any FrameSource

/// The live loop and its commands.
public final class GestureSession: @unchecked Sendable {
    public let recognizer: Recognizer
    public let samples: SampleStore
    /// The trainer's embedding-cache key (`GestureTrainer.cacheKey`).
    public let cacheKey: String
    public let trainer: GestureTrainer?
    private let output: any GestureOutput
    private let openSource: FrameSourceOpener
    private let clock: any FrameClock
    private let emit: @Sendable (SessionEvent) -> Void
    private let startNanoseconds: UInt64

    // Guarded by `lock`: everything below, touched by the loop thread and commands.
    private let lock = NSCondition()
    private var settings: GestureSessionSettings
    private var filter: DecisionFilter?
    /// The head version the filter was built for (0: no head).
    private var filterHeadVersion: Int
    private var filterFailure: String?
    private var state: SessionState = .starting
    private var reason = "starting"
    /// Why the session is paused; nil while it is not (see `PauseCause` for what each cause closes and resumes).
    private var pauseCause: PauseCause?
    private var paused: Bool { pauseCause != nil }
    /// Watches the frames' luma for a covered lens (fed in `process`).
    private var lensCover: LensCoverDetector
    private var stopRequested = false
    private var recording: ActiveRecording?
    private var releaseFailures: [String] = []
    /// Filter failures (each also an error notice); an owner that exits reports them (the daemon exits non-zero).
    private var filterFailures: [String] = []
    private var keyPresses = 0
    private var statistics = RollingStatistics(window: 300)
    private var framesCaptured = 0
    private var framesProcessed = 0
    private var predictions = 0
    private var keptInRecording = 0
    private var storeChanges = 0
    private var storeError: String?
    private var preview: RGBImage?
    private var latestProbabilities: [Float] = []
    private var latestLabels: [String]?
    private var frameMilliseconds = 0.0
    private var openDescription: String?
    /// The processing rate forced the filter's stale limit above `stale_ms` and a notice said so (again after a reload).
    private var staleLimitWarned = false
    private var sourceNeedsReopen = false
    /// Whether the loop holds the source open.
    private var sourceOpen = false
    private var thread: Thread?
    private var finished = false
    /// When the loop last went round, on `clock`; 0 while no loop runs. Lock-free on purpose: a loop stuck while
    /// holding `lock` must not stop a watchdog from noticing.
    private let heartbeat = Atomic<UInt64>(0)

    /// A recording in progress.
    private struct ActiveRecording {
        var recorder: SampleRecorder
        let startNanoseconds: UInt64
        let untilNanoseconds: UInt64
        var saved = 0
        /// The countdown second last announced (nil: none yet; 0: recording announced).
        var announcedSecondsLeft: Int?
        /// The store's take for this recording, allocated with its first kept sample.
        var take: Int64?
        let completion: @Sendable (RecordingOutcome) -> Void
    }

    /// The longest single wait for a frame (ms): bounds how long the loop goes without a heartbeat while the camera
    /// sends nothing, whatever `stale_ms` says (the daemon unit's WatchdogSec is 10 s).
    public static let longestFrameWaitMilliseconds = 500
    /// The first wait after a failed open; doubling up to `maximumReopenDelay`.
    public static let firstReopenDelay: Duration = .milliseconds(250)

    /// Builds the session; nothing runs until `start()`. Throws when the filter settings do not fit the labels.
    /// - Parameters:
    ///   - output: where decisions go.
    ///   - openSource: opens the source (called again for every reopen).
    ///   - clock: monotonic time for the filter, statistics, recordings and the waits between reopen attempts.
    ///   - emit: receives events, on the loop thread, a command's thread or the trainer's queue, mostly with the
    ///     session's lock held — must not block or call the session.
    public init(
        settings: GestureSessionSettings, recognizer: Recognizer, samples: SampleStore, cacheKey: String,
        trainer: GestureTrainer?, output: any GestureOutput, clock: any FrameClock = SystemFrameClock(),
        openSource: @escaping FrameSourceOpener, emit: @escaping @Sendable (SessionEvent) -> Void = { _ in }
    ) throws(GesturesError) {
        self.settings = settings
        self.recognizer = recognizer
        self.samples = samples
        self.cacheKey = cacheKey
        self.trainer = trainer
        self.output = output
        self.clock = clock
        self.openSource = openSource
        self.emit = emit
        startNanoseconds = clock.nowNanoseconds
        try settings.lensCover.validate()
        lensCover = LensCoverDetector(settings: settings.lensCover)
        let head = recognizer.currentHead
        filter = try DecisionFilter(labels: head?.labels ?? settings.labels, settings: settings.filter)
        filterHeadVersion = head?.version ?? 0
    }

    deinit {
        source?.close()
    }

    private var now: UInt64 { clock.nowNanoseconds }

    // MARK: Commands

    /// The loop thread's name in the kernel (/proc/PID/task/TID/comm).
    public static let loopThreadName = "gp-pipeline"

    /// Starts the loop thread.
    public func start() {
        lock.lock()
        defer { lock.unlock() }
        guard thread == nil else { return }
        heartbeat.store(max(1, now), ordering: .relaxed)
        let thread = Thread { [self] in
            Self.nameKernelThread(Self.loopThreadName)
            runLoop()
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

    /// Stops the loop, releases every key and closes the output; a pending recording ends (`.stopping`) and a running
    /// training is cancelled. Events go out in order: state `stopping`, the key-ups (reason `stop`), state `stopped`.
    /// Blocks until the loop thread ended. Idempotent.
    ///
    /// Returns every key release that failed during the session's life, one sentence each (each was already an event
    /// and an error notice); empty when all went well. A non-empty answer means a key may still be held.
    @discardableResult
    public func stop() -> [String] {
        lock.lock()
        stopRequested = true
        setState(.stopping, "stopping")
        finishRecording(.stopping)
        let failuresBeforeStop = releaseFailures.count
        // At once, not after the loop ends: `process` changes nothing once `stopRequested` is set, so no key can go
        // down again, and the user's key comes up without waiting for a camera call to return.
        releaseKeys(reason: .stop)
        wakeLoop()
        let running = thread != nil
        lock.unlock()
        if let trainer, trainer.isRunning { trainer.cancel() }
        if running {
            lock.lock()
            while !finished { _ = lock.wait(until: Date().addingTimeInterval(0.05)) }
            lock.unlock()
        } else {
            // Stepped by its owner (no loop thread): the caller is that stepping thread, so the source is closed here.
            closeSource()
        }
        lock.lock()
        defer { lock.unlock() }
        // Keys were released above and none can go down since; closing gives the output up. A close that fails is
        // reported unless that release already was.
        let alreadyReported = releaseFailures.count != failuresBeforeStop
        if case .failed(let keys, let error) = output.close(alreadyReported: alreadyReported) {
            if alreadyReported {
                emit(.notice(.error, "closing key output failed too: \(error)", metadata: [:]))
            } else {
                recordReleaseFailure(keys: keys, reason: .stop, error: error)
            }
        }
        setState(.stopped, "stopped")
        return releaseFailures
    }

    /// The key releases that failed so far, one sentence each (empty when every release worked).
    public var keyReleaseFailures: [String] {
        lock.lock()
        defer { lock.unlock() }
        return releaseFailures
    }

    /// The decision filter's failures so far (it could not follow a head, or failed on a frame), one sentence each
    /// in the order they first happened.
    public var decisionFilterFailures: [String] {
        lock.lock()
        defer { lock.unlock() }
        return filterFailures
    }

    /// Releases keys and the source; frames stop until `resume`. Returns once the source is closed (so a video call
    /// can open the camera right away), or after 2 s if a frame wait is stuck. `cause` is `.request` (a command, the
    /// window) or `.hotkey`; a pause made by the lens cover becomes this one. Does nothing while stopping.
    public func pause(by cause: PauseCause = .request) {
        lock.lock()
        pauseLocked(by: cause == .lensCover ? .request : cause)
        let deadline = Date().addingTimeInterval(2)
        while sourceOpen && thread != nil && !finished && Date() < deadline { _ = lock.wait(until: deadline) }
        lock.unlock()
    }

    /// Reopens the source (when the pause closed it) and recognises again, whatever paused the session.
    public func resume() {
        lock.lock()
        lensCover.reset()
        resumeLocked(reason: "resuming")
        lock.unlock()
    }

    /// The pause hotkey: pauses (`.hotkey`, the source closes) when not paused, else resumes whatever paused it.
    /// Returns the cause of the pause it made, nil when it resumed.
    @discardableResult
    public func togglePause(by cause: PauseCause = .hotkey) -> PauseCause? {
        lock.lock()
        let wasPaused = paused
        lock.unlock()
        if wasPaused {
            lock.lock()
            lensCover.reset()
            resumeLocked(reason: "resumed: \(Self.phrase(cause))")
            lock.unlock()
            return nil
        }
        pause(by: cause)
        return cause
    }

    /// "pause hotkey", "lens covered", "request".
    static func phrase(_ cause: PauseCause) -> String {
        switch cause {
        case .request: "by request"
        case .hotkey: "pause hotkey"
        case .lensCover: "lens covered"
        }
    }

    /// One paused state with one cause: keys up at once, any recording ended, the state `paused` with a reason that
    /// names the cause. Caller holds the lock.
    private func pauseLocked(by cause: PauseCause) {
        guard !stopRequested, state != .stopping, state != .stopped else { return }
        pauseCause = cause
        finishRecording(.paused)
        releaseKeys(reason: .pause)
        let reason: String
        switch cause {
        case .request: reason = "paused by request (camera released)"
        case .hotkey: reason = "paused: pause hotkey (camera released; press it again to resume)"
        case .lensCover: reason = "paused: lens covered (cover it again to resume)"
        }
        // A new cause is news even when the state already was paused (lens cover → request).
        if state == .paused && self.reason != reason { emit(.state(.paused, reason: reason)) }
        setState(.paused, reason)
        wakeLoop()
    }

    /// Leaves the paused state (whatever its cause). The lens detector is left as it is: after a resume by the lens,
    /// the hand still on it keeps keys off until a bright frame (`.stillCovered`). Caller holds the lock.
    private func resumeLocked(reason: String) {
        let cause = pauseCause
        pauseCause = nil
        if state == .paused {
            // Paused by the lens, the source is still open and frames come at once; else the loop reopens it.
            setState(cause == .lensCover ? .running : .starting, reason)
        }
        wakeLoop()
    }

    /// Records samples of `label` from the live frames (throttled, de-duplicated) for `seconds`, or until
    /// `stopRecording` when nil; each kept frame is committed with its embedding in one transaction. `completion` runs
    /// exactly once with what was stored and why the recording ended: the time was up, the requester stopped it, a
    /// newer request, `pause`, the end of the source, `stop`, or a sample that could not be written (the recording
    /// stops at the first one, so the count stays exact).
    ///
    /// Refused (nothing starts) while paused, stopping, or after the source (a recording) has ended: no frame would
    /// come, and the request would otherwise wait forever.
    ///
    /// `countdownSeconds` (nil: the settings' `countdown_seconds`; 0 to 30) passes before the first sample is kept,
    /// announced as `.recordingCountdown` events (3, 2, 1, then 0 when keeping starts); `seconds` counts after it.
    public func record(
        label: String, seconds: Double?, countdownSeconds: Double? = nil,
        completion: @escaping @Sendable (RecordingOutcome) -> Void = { _ in }
    ) throws(GestureSessionError) {
        lock.lock()
        let labels = settings.labels
        lock.unlock()
        do { try labels.requireKnown(label) } catch { throw .gestures(error) }
        if let seconds, !(seconds > 0 && seconds <= 3600) {
            throw .recordingRefused(label: label, state: .running, reason: "seconds must be > 0 and ≤ 3600")
        }
        if let countdownSeconds, !(countdownSeconds >= 0 && countdownSeconds <= 30) {
            throw .recordingRefused(label: label, state: .running, reason: "the countdown must be 0 to 30 seconds")
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
        let start = now
        var recordingSettings = settings.recording
        if let countdownSeconds { recordingSettings.countdownSeconds = countdownSeconds }
        let countdown = UInt64(recordingSettings.countdownSeconds * 1e9)
        let until = seconds.map { start &+ countdown &+ UInt64($0 * 1e9) } ?? UInt64.max
        keptInRecording = 0
        recording = ActiveRecording(
            recorder: SampleRecorder(label: label, settings: recordingSettings, startNanoseconds: start),
            startNanoseconds: start &+ countdown, untilNanoseconds: until, completion: completion)
        announceCountdown(at: start)
    }

    /// Ends the running recording (`.stopped`), if any.
    public func stopRecording() {
        lock.lock()
        defer { lock.unlock() }
        finishRecording(.stopped)
    }

    /// Trains a head on the stored samples in the background; recognition continues; the new head swaps in and the
    /// filter follows it (keys released with reason `newHead`). Throws `.trainingInProgress` when a run is going, and
    /// when the session has no trainer. `heldOutFolds` adds the held-out check (`TrainingRequest.heldOutFolds`).
    public func train(
        options: TrainingOptions? = nil, heldOutFolds: Int? = nil,
        completion: @escaping @Sendable (Result<TrainedHead, GesturesError>) -> Void = { _ in }
    ) throws(GesturesError) {
        lock.lock()
        let request = TrainingRequest(
            labels: settings.labels, options: options ?? settings.training, heldOutFolds: heldOutFolds)
        lock.unlock()
        guard let trainer else { throw .trainingInProgress }
        emit(.training(.started(epochs: request.options.epochs)))
        try trainer.start(
            request,
            onEvent: { [emit] event in
                switch event {
                case .embedding(let done, let total): emit(.training(.embedding(done: done, total: total)))
                case .epoch(let report): emit(.training(.epoch(report)))
                case .fold: break
                case .heldOutEpoch(let epoch, let epochs, let trainingLoss, let heldOutLoss):
                    emit(
                        .training(
                            .heldOutEpoch(
                                epoch: epoch, epochs: epochs, trainingLoss: trainingLoss, heldOutLoss: heldOutLoss)))
                }
            },
            completion: { [self] result in
                var result = result
                if case .success(let trained) = result {
                    do throws(GesturesError) {
                        try recognizer.swapHead(trained.active)
                        lock.lock()
                        followHead(labels: trained.active.labels, version: trained.active.version)
                        lock.unlock()
                    } catch { result = .failure(error) }
                }
                switch result {
                case .success(let trained): emit(.training(.finished(trained)))
                case .failure(let error): emit(.training(.failed(error)))
                }
                completion(result)
            })
    }

    /// Whether a training run is going.
    public var isTraining: Bool { trainer?.isRunning ?? false }

    /// Asks a running training to stop (the head in use stays).
    public func cancelTraining() { trainer?.cancel() }

    /// Applies new settings and picks up the current stored head (e.g. trained by `gesturepad train` meanwhile): keys
    /// are released first; the source reopens when `reopenSource`; `applying` runs with the lock held right after the
    /// release (an owner's own settings, such as the daemon's key chords, change there). Throws (changing nothing)
    /// when the filter settings do not fit.
    public func reload(
        _ newSettings: GestureSessionSettings, reopenSource: Bool, applying: () -> Void = {}
    ) throws(GesturesError) {
        if let trainer, let stored = try trainer.loadCurrentHead(), stored.version != recognizer.currentHead?.version {
            try recognizer.swapHead(stored)
        }
        let head = recognizer.currentHead
        try newSettings.lensCover.validate()
        let newFilter = try DecisionFilter(labels: head?.labels ?? newSettings.labels, settings: newSettings.filter)
        lock.lock()
        defer { lock.unlock() }
        releaseKeys(reason: .reload)
        applying()
        settings = newSettings
        lensCover.settings = newSettings.lensCover
        lensCover.reset()
        filter = newFilter
        filterHeadVersion = head?.version ?? 0
        filterFailure = nil
        staleLimitWarned = false
        if reopenSource { sourceNeedsReopen = true }
        wakeLoop()
    }

    /// How long the loop has gone without progress (a frame, a timed-out frame wait, a reopen attempt, a paused
    /// check); nil when no loop runs. Never takes the session's lock, so it answers even when the loop is stuck
    /// holding it.
    public func loopStall() -> Duration? {
        let last = heartbeat.load(ordering: .relaxed)
        guard last != 0 else { return nil }
        let current = now
        return .nanoseconds(Int64(clamping: current > last ? current - last : 0))
    }

    /// Runs `body` with the session's lock held: it sees the output as the loop leaves it (a status reading the keys
    /// the daemon's sink holds). `body` must not call the session.
    public func withLock<Result>(_ body: () -> Result) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    /// The newest reading.
    public func snapshot() -> GestureSessionSnapshot {
        lock.lock()
        defer { lock.unlock() }
        let head = recognizer.currentHead
        return GestureSessionSnapshot(
            state: state, reason: reason, pauseCause: pauseCause, source: openDescription ?? settings.sourceName,
            headVersion: head?.version,
            labels: (head?.labels ?? settings.labels).names, probabilities: latestProbabilities,
            predictionLabels: latestLabels ?? [],
            filterState: filter?.state ?? .idle, heldLabel: filter?.heldLabel,
            statistics: statistics.summary(
                now: now, framesCaptured: framesCaptured, framesProcessed: framesProcessed, predictions: predictions),
            recordingLabel: recording?.recorder.label, keptInRecording: keptInRecording, storeChanges: storeChanges,
            storeError: storeError, training: isTraining, uptimeSeconds: Double(now &- startNanoseconds) / 1e9,
            keyPresses: keyPresses, preview: preview, frameMilliseconds: frameMilliseconds,
            frameCount: framesProcessed)
    }

    // MARK: The loop

    /// Waits on the lock (held) until `deadline` on the session's clock or a command's broadcast.
    private func waitLocked(untilNanoseconds deadline: UInt64) {
        let current = now
        guard deadline > current else { return }
        _ = lock.wait(until: Date().addingTimeInterval(Double(deadline - current) / 1e9))
    }

    /// Closes the loop's source and records it (loop thread only).
    private func closeSource() {
        source?.close()
        source = nil
        lock.lock()
        sourceOpen = false
        openDescription = nil
        lock.broadcast()
        lock.unlock()
    }

    /// What one `step` did.
    public enum Step: Sendable, Equatable {
        /// A frame was processed, or a frame wait ended (call again at once).
        case progressed
        /// Nothing to do before `untilNanoseconds` on the session's clock (paused, waiting to reopen, the source
        /// ended) unless a command comes first; `generation` is the command count the decision saw.
        case idle(untilNanoseconds: UInt64, generation: UInt64)
        /// The session is stopping: the loop ends.
        case stopped
    }

    // Loop state: touched only by the thread that steps (the loop thread, or a caller of `step` that never starts
    // one).
    private var source: (any FrameSource)?
    private var failures = 0
    /// `framesCaptured` of the open source when last counted, and whether its low rate was reported.
    private var capturedBySource = 0
    private var frameRateWarned = false
    /// No reopen attempt before this (the backoff after a failed open); 0: at once.
    private var nextOpenAttempt: UInt64 = 0
    /// The source (a finite recording) ended; nothing happens until a reopen, pause or stop.
    private var sourceHasEnded = false
    /// Grows with every command that may change what the loop does (guarded by `lock`).
    private var generation: UInt64 = 0

    /// Wakes the loop for a command. Caller holds the lock.
    private func wakeLoop() {
        generation &+= 1
        lock.broadcast()
    }

    private func runLoop() {
        defer {
            source?.close()
            source = nil
            lock.lock()
            sourceOpen = false
            finished = true
            heartbeat.store(0, ordering: .relaxed)
            lock.broadcast()
            lock.unlock()
        }
        while true {
            switch step() {
            case .progressed: continue
            case .stopped: return
            case .idle(let deadline, let seen):
                lock.lock()
                if !stopRequested && generation == seen { waitLocked(untilNanoseconds: deadline) }
                lock.unlock()
            }
        }
    }

    /// One round of the loop on the calling thread: close the source when paused or asked to reopen, open it when due
    /// (backoff after failures), then wait at most `min(stale_ms, 500 ms)` for one frame and process it. Never waits
    /// on a command: where the loop would wait, it says until when (`.idle`). The session's own thread calls this;
    /// a caller that never `start`s may step it itself (the window's deterministic screenshots, tests on a virtual
    /// clock).
    @discardableResult
    public func step() -> Step {
        heartbeat.store(max(1, now), ordering: .relaxed)
        lock.lock()
        if stopRequested {
            lock.unlock()
            return .stopped
        }
        // A recording's time runs out with or without frames (a lost camera, frame waits that time out).
        expireRecording(at: now)
        let closesSource = pauseCause?.closesSource ?? false
        if closesSource || sourceNeedsReopen {
            lensCover.reset()
            if let open = source {
                open.close()
                source = nil
            }
            sourceOpen = false
            openDescription = nil
            sourceHasEnded = false
            lock.broadcast()
            // Paused or asked to reopen: the next open is due at once (resume, a new source).
            nextOpenAttempt = 0
            sourceNeedsReopen = false
            if closesSource {
                defer { lock.unlock() }
                return .idle(untilNanoseconds: now &+ 250_000_000, generation: generation)
            }
        }
        if sourceHasEnded {
            defer { lock.unlock() }
            return .idle(untilNanoseconds: now &+ 250_000_000, generation: generation)
        }
        let current = settings
        let seen = generation
        lock.unlock()

        if source == nil {
            guard now >= nextOpenAttempt else { return .idle(untilNanoseconds: nextOpenAttempt, generation: seen) }
            do throws(CaptureError) {
                let opened = try openSource()
                source = opened
                failures = 0
                nextOpenAttempt = 0
                capturedBySource = opened.framesCaptured
                frameRateWarned = false
                let description = opened.sourceDescription
                let summary = opened.formatSummary
                lock.lock()
                emit(
                    .notice(
                        .info, "opened \(description): \(summary)",
                        metadata: ["source": description, "format": summary]))
                sourceOpen = true
                openDescription = description
                setState(.running, "recognising \(description)")
                lock.unlock()
            } catch {
                failures += 1
                let delay = Self.reopenDelay(afterFailures: failures, maximum: current.maximumReopenDelay)
                nextOpenAttempt = now &+ max(10_000_000, Self.nanoseconds(delay))
                lock.lock()
                releaseKeys(reason: .cameraLost)
                setState(.cameraLost, error.description)
                lock.unlock()
                return .idle(untilNanoseconds: nextOpenAttempt, generation: seen)
            }
        }

        var processed = false
        var frameError: CaptureError?
        // Wait at most `stale_ms` for a frame, so the filter's stale-input timer is checked that often — and never
        // longer than `longestFrameWaitMilliseconds`, so the loop goes round (its heartbeat) well within a watchdog's
        // limit even with stale_ms up to its 60 s limit; a timeout only ticks the filter.
        let waitMilliseconds = min(current.filter.staleInputTimeoutMilliseconds, Self.longestFrameWaitMilliseconds)
        let active = source!
        do {
            defer { countCaptured(active, &capturedBySource) }
            let delivered: Void? = try active.withNextFrame(timeoutMilliseconds: waitMilliseconds) { frame in
                do throws(CaptureError) { try process(frame, keepsPreview: current.keepsPreview) } catch {
                    frameError = error
                }
                processed = true
            }
            if processed, !frameRateWarned, let warning = active.deliveryWarning {
                // Once per open: a camera far below its negotiated rate (the auto-exposure trap).
                frameRateWarned = true
                lock.lock()
                emit(.notice(.warning, "\(active.sourceDescription): \(warning)", metadata: [:]))
                lock.unlock()
            }
            if delivered == nil {
                // A finite recording ended (not looping): keys up, stay alive for commands.
                closeSource()
                lock.lock()
                sourceHasEnded = true
                releaseKeys(reason: .sourceEnded)
                finishRecording(.sourceEnded)
                setState(.sourceEnded, "the recording ended; reload or restart to replay it")
                lock.unlock()
                return .progressed
            }
        } catch {
            frameError = error
        }
        if let frameError {
            lock.lock()
            if frameError.isFrameWaitTimeout {
                // No frame yet: not a fault. The filter's timer releases a held key once input is stale (its limit
                // follows the measured frame interval, so a camera or machine at 1 fps keeps working).
                tickFilter()
                setState(.running, "no frames for \(waitMilliseconds) ms")
                lock.unlock()
                return .progressed
            }
            releaseKeys(reason: .cameraLost)
            setState(.cameraLost, frameError.description)
            lock.unlock()
            closeSource()
            return .progressed
        }
        if !processed {
            lock.lock()
            tickFilter()
            lock.unlock()
        }
        return .progressed
    }

    /// The wait before reopen attempt `failures + 1`: 250 ms doubling, capped at `maximum`.
    public static func reopenDelay(afterFailures failures: Int, maximum: Duration) -> Duration {
        let policy = V4L2ReconnectPolicy(
            initialDelay: min(firstReopenDelay, maximum), maximumDelay: maximum)
        return policy.delay(afterFailures: failures)
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        return UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
    }

    /// Adds the frames `source` captured since the last count (loop thread).
    private func countCaptured(_ source: any FrameSource, _ counted: inout Int) {
        let total = source.framesCaptured
        let added = total >= counted ? total - counted : total
        counted = total
        guard added > 0 else { return }
        lock.lock()
        framesCaptured += added
        lock.unlock()
    }

    /// One frame through recognizer, lens-cover check, filter, output and recording. Paused by the lens, a frame is
    /// only preprocessed (the lens check needs the sample frame, not the embedding) and never reaches the filter.
    private func process(_ frame: FrameView, keepsPreview: Bool) throws(CaptureError) {
        let frameStart = now
        lock.lock()
        let watchingLensOnly = pauseCause == .lensCover
        lock.unlock()
        let recognition: Recognition?
        if watchingLensOnly {
            try recognizer.framer.run(frame: frame, into: recognizer.sample.baseAddress!)
            recognition = nil
        } else {
            recognition = try recognizer.recognize(frame: frame)
        }
        let luma = LensCoverDetector.meanLuma(sample: recognizer.sample.baseAddress!, side: recognizer.framer.side)
        let filterStart = now
        let image =
            keepsPreview
            ? RGBImage(width: recognizer.framer.side, height: recognizer.framer.side, pixels: Array(recognizer.sample))
            : nil
        lock.lock()
        defer { lock.unlock() }
        framesProcessed += 1
        if let image { preview = image }
        // A frame that was in flight when pause/stop came in changes nothing (no key may go down after a stop path).
        if stopRequested || sourceNeedsReopen || (pauseCause?.closesSource ?? false) { return }
        switch lensCover.observe(luma: luma, atNanoseconds: filterStart) {
        case .covered:
            // Keys up at once on the first cover; the next cover (after a bright frame) resumes.
            let milliseconds = lensCover.darkNanoseconds / 1_000_000
            emit(
                .notice(
                    .info,
                    "lens covered: \(lensCover.darkFrames) dark frames over \(milliseconds) ms (mean luma \(luma))",
                    metadata: ["dark_frames": "\(lensCover.darkFrames)", "dark_ms": "\(milliseconds)"]))
            if pauseCause == .lensCover {
                resumeLocked(reason: "resumed: lens covered again")
            } else {
                pauseLocked(by: .lensCover)
            }
            return
        case .stillCovered:
            // The hand that resumed is still on the lens: nothing to recognise yet.
            return
        case .nothing:
            break
        }
        guard !paused, let recognition else { return }
        if state != .running { setState(.running, "recognising") }
        var events: [KeyEvent] = []
        // Copied into the session's own array (in place when its size is unchanged and no snapshot holds it), so the
        // recognizer's buffer stays unshared and a frame allocates nothing.
        if latestProbabilities.count == recognition.probabilities.count {
            for index in latestProbabilities.indices { latestProbabilities[index] = recognition.probabilities[index] }
        } else {
            latestProbabilities = Array(recognition.probabilities)
        }
        latestLabels = recognition.labels?.names
        if let labels = recognition.labels, !recognition.probabilities.isEmpty {
            predictions += 1
            followHead(labels: labels, version: recognition.headVersion)
            if filter != nil {
                // Updated in place (`filter!`): a copy would share the filter's arrays and copy them on write.
                do throws(GesturesError) {
                    events = try filter!.update(probabilities: recognition.probabilities, atNanoseconds: filterStart)
                    filterFailure = nil
                } catch {
                    reportFilterFailure("the decision filter failed on a frame: \(error.description)")
                }
                warnIfTooSlowForStaleSetting()
            }
        }
        let filterEnd = now
        for event in events {
            apply(event, frameNanoseconds: frameStart, capturedNanoseconds: frame.timestampNanoseconds)
        }
        // The frame's age at the start (a camera's capture timestamp, a paced replay's due time), on the same clock.
        let captured = frame.timestampNanoseconds
        let age: UInt64? =
            captured > 0 && frameStart >= captured && frameStart - captured < 10_000_000_000
            ? frameStart - captured : nil
        statistics.add(
            timings: recognition.timings, filterNanoseconds: filterEnd - filterStart,
            totalNanoseconds: filterEnd - frameStart, at: filterEnd, captureNanoseconds: age)
        frameMilliseconds = Double(filterEnd - frameStart) / 1e6
        if let labels = recognition.labels {
            emit(
                .prediction(
                    timeNanoseconds: filterStart, labels: labels.names, probabilities: recognition.probabilities,
                    filterState: filter?.state ?? .idle))
        }
        recordIfAsked(at: filterEnd)
    }

    /// The one filter rule: when the head in use is not the one the filter was built for (another version or other
    /// labels), keys come up (`labelsChanged` when the labels differ, else `newHead`) and the filter is rebuilt from
    /// the session's filter settings. A rebuild that fails leaves no filter (keys stay up) and is an error notice.
    /// Caller holds the lock.
    private func followHead(labels: LabelSet, version: Int) {
        guard filter == nil || filter?.labels != labels || filterHeadVersion != version else { return }
        if filter == nil && filterHeadVersion == version && filterFailure != nil { return }
        releaseKeys(reason: filter?.labels != labels ? .labelsChanged : .newHead)
        filterHeadVersion = version
        do throws(GesturesError) {
            filter = try DecisionFilter(labels: labels, settings: settings.filter)
            filterFailure = nil
        } catch {
            filter = nil
            reportFilterFailure("the decision filter cannot follow head v\(version): \(error.description)")
        }
    }

    /// A filter failure: keys up, an error notice (once per distinct message). Caller holds the lock.
    private func reportFilterFailure(_ message: String) {
        releaseKeys(reason: .filterError)
        guard filterFailure != message else { return }
        filterFailure = message
        filterFailures.append(message)
        emit(.notice(.error, message, metadata: [:]))
        emit(.state(state, reason: message))
    }

    /// Once the filter has a full history of frame intervals: if frames come too slowly for `stale_ms`, says so once
    /// (the filter then judges staleness by 3 frame intervals instead). Caller holds the lock.
    private func warnIfTooSlowForStaleSetting() {
        guard !staleLimitWarned, let filter, filter.frameIntervalSampleCount >= DecisionFilter.intervalHistoryLength,
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
        emit(
            .notice(
                .warning, message,
                metadata: ["frame_interval_ms": "\(intervalMilliseconds)", "stale_limit_ms": "\(limitMilliseconds)"]))
    }

    /// Hands one decision to the output. A failed press is a notice and a state note; a failed release is recorded as
    /// one (error notice, counted for `stop()`). Caller holds the lock.
    private func apply(
        _ event: KeyEvent, frameNanoseconds: UInt64?, capturedNanoseconds: UInt64? = nil, reason: KeyReason = .filter
    ) {
        let latency = frameNanoseconds.map { now - $0 }
        let outcome = output.apply(
            KeyDecision(
                event: event, reason: reason, latencyNanoseconds: latency, frameCapturedNanoseconds: capturedNanoseconds
            ))
        switch outcome {
        case .ignored: return
        case .done:
            if event.kind == .down {
                keyPresses += 1
                if let latency { statistics.addFrameToKey(latency) }
            }
        case .failed(let keys, let error):
            if event.kind == .down {
                emit(.notice(.error, "key output failed: \(error)", metadata: [:]))
                emit(.state(state, reason: "key output failed: \(error)"))
                if let latency { statistics.addFrameToKey(latency) }
            } else {
                recordReleaseFailure(keys: keys, reason: reason, error: error)
            }
        }
    }

    /// The filter's timer: releases on stale input. Caller holds the lock.
    private func tickFilter() {
        guard filter != nil else { return }
        let events = filter!.advance(toNanoseconds: now)
        for event in events { apply(event, frameNanoseconds: nil, reason: .staleInput) }
    }

    /// Every stop path: the filter forgets its press (key-ups carry `reason`), then the output lets go of anything
    /// still held. A release that fails is an error notice and part of `stop()`'s answer. Caller holds the lock.
    private func releaseKeys(reason: KeyReason) {
        let failuresBefore = releaseFailures.count
        if var current = filter {
            let events = current.releaseAll(atNanoseconds: now)
            filter = current
            for event in events { apply(event, frameNanoseconds: nil, reason: reason) }
        }
        let alreadyReported = releaseFailures.count != failuresBefore
        if case .failed(let keys, let error) = output.releaseEverything(
            reason: reason, alreadyReported: alreadyReported), !alreadyReported
        {
            recordReleaseFailure(keys: keys, reason: reason, error: error)
        }
    }

    /// The error notice and the record of a failed release. Caller holds the lock.
    private func recordReleaseFailure(keys: String, reason: KeyReason, error: String) {
        let message = "releasing \(keys) (\(reason.rawValue)) failed: \(error); the key may still be held"
        releaseFailures.append(message)
        emit(.notice(.error, message, metadata: ["keys": keys, "reason": reason.rawValue]))
    }

    /// Adds the current sample frame when a recording is running and the recorder keeps it: the sample and its
    /// embedding in one transaction. The first write that fails ends the recording (`.writeFailed`), so the count the
    /// requester gets is exactly what is stored. Caller holds the lock.
    private func recordIfAsked(at time: UInt64) {
        expireRecording(at: time)
        announceCountdown(at: time)
        guard var active = recording else { return }
        let decision = active.recorder.consider(features: UnsafeBufferPointer(recognizer.features), atNanoseconds: time)
        recording = active
        guard decision == .keep else { return }
        do throws(GesturesError) {
            if active.take == nil { active.take = try samples.newTake() }
            let id = try samples.addRecognized(
                by: recognizer, label: active.recorder.label, source: settings.sampleSource, cacheKey: cacheKey,
                take: active.take)
            active.saved += 1
            recording = active
            keptInRecording = active.saved
            storeChanges += 1
            let count = ((try? samples.counts()) ?? [:])[active.recorder.label] ?? active.saved
            emit(.sample(label: active.recorder.label, id: id, countForLabel: count))
        } catch {
            storeError = error.description
            emit(.notice(.error, "recording \(active.recorder.label) stopped: \(error.description)", metadata: [:]))
            finishRecording(.writeFailed, failure: error.description)
        }
    }

    /// Emits `.recordingCountdown` when the whole seconds left before keeping samples change (3, 2, 1), and once with
    /// 0 when keeping starts; nothing for a recording without a countdown. Caller holds the lock.
    private func announceCountdown(at time: UInt64) {
        guard var active = recording, active.recorder.settings.countdownSeconds > 0 else { return }
        let first = active.recorder.firstSampleNanoseconds
        let left = time >= first ? 0 : Int(((Double(first - time) / 1e9)).rounded(.up))
        guard left != active.announcedSecondsLeft else { return }
        active.announcedSecondsLeft = left
        recording = active
        emit(.recordingCountdown(label: active.recorder.label, secondsLeft: left))
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
        let endNanoseconds = min(time ?? now, active.untilNanoseconds)
        let outcome = RecordingOutcome(
            label: active.recorder.label, saved: active.saved,
            // Seconds after the countdown (0 when it ended during the countdown).
            secondsRecorded: Double(
                endNanoseconds > active.startNanoseconds ? endNanoseconds - active.startNanoseconds : 0)
                / 1e9, end: end, failure: failure)
        emit(.recordingFinished(outcome))
        active.completion(outcome)
    }

    /// Caller holds the lock. From `stopping` the only way is `stopped`, and `stopped` is final: a loop that notices a
    /// timeout or a frame while the session stops cannot move it back to `running`.
    private func setState(_ newState: SessionState, _ newReason: String) {
        if state == .stopped || (state == .stopping && newState != .stopped) { return }
        guard newState != state || newReason != reason else { return }
        let changed = newState != state
        state = newState
        reason = newReason
        if changed { emit(.state(newState, reason: newReason)) }
    }
}
