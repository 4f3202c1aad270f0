// The daemon's pipeline at its seams, for what a first real-kernel run found (issue 14): a scripted
// frame source standing in for the camera (`ScriptedFrameSource`, on a virtual clock the daemon
// also reads), a replay source paced in real time on that virtual clock for the frame counters, a
// RecordingKeySink for the keys and a collecting swift-log handler for the log. The tests step the
// daemon's session on their own thread (`stepUntil`), so nothing waits on the wall clock; only the
// shutdown test runs the pipeline thread, because what it pins is the thread meeting `stop`. Checked: a source (or machine) at one frame a
// second still presses and releases, its wait timeouts are not faults, and the log warns once about
// the rate; `status` counts captured, processed and dropped frames honestly; every camera open logs
// the negotiated format, size and rate, a delivery warning once, and nothing per frame; shutdown
// goes stopping → stopped with nothing in between.
import SystemSupport
import Capture
import Foundation
import Gestures
import Logging
import NeuralNet
import Synchronization
import Testing

@testable import Daemon

/// Log records collected by `CollectingLogHandler` (thread-safe).
final class LogRecords: Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    private let records = Mutex<[Record]>([])

    func append(_ record: Record) { records.withLock { $0.append(record) } }
    var all: [Record] { records.withLock { $0 } }
    /// Messages at `level` or above.
    func messages(atLeast level: Logger.Level) -> [String] { all.filter { $0.level >= level }.map(\.message) }

    /// A logger at `level` whose records land here.
    func logger(level: Logger.Level = .info) -> Logger {
        var logger = Logger(label: "gesturepad-test") { _ in CollectingLogHandler(records: self) }
        logger.logLevel = level
        return logger
    }
}

/// A swift-log handler that keeps every record in a `LogRecords`.
struct CollectingLogHandler: LogHandler {
    let records: LogRecords
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        records.append(
            .init(
                level: event.level, message: event.message.description,
                metadata: metadata.merging(event.metadata ?? [:]) { $1 }))
    }
}

/// Monotonic nanoseconds the test moves: the daemon's `now` and the key sink's clock.
final class TestClock: FrameClock, Sendable {
    private let nanoseconds = Atomic<UInt64>(1_000_000_000)
    var now: UInt64 { nanoseconds.load(ordering: .relaxed) }
    var nowNanoseconds: UInt64 { now }
    func advance(byMilliseconds milliseconds: UInt64) {
        _ = nanoseconds.wrappingAdd(milliseconds * 1_000_000, ordering: .relaxed)
    }
    /// Nothing here waits on this clock; jumps to the deadline if something does.
    func sleep(untilNanoseconds deadlineNanoseconds: UInt64) {
        let now = self.now
        if deadlineNanoseconds > now { _ = nanoseconds.wrappingAdd(deadlineNanoseconds - now, ordering: .relaxed) }
    }
}

extension GestureDaemon {
    /// Steps the session on the calling thread (no pipeline thread, virtual time) until `condition` holds; false if
    /// it still does not after `limit` steps (a bug: the scripted sources end long before).
    @discardableResult
    func stepUntil(limit: Int = 10_000, _ condition: () -> Bool) -> Bool {
        for _ in 0..<limit {
            if condition() { return true }
            session.step()
        }
        return condition()
    }
}

/// A value shared with the pipeline thread.
final class Shared<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    func withLock<Result>(_ body: (inout Value) -> Result) -> Result { lock.withLock { body(&stored) } }
}

/// A camera stand-in at the `FrameSource` seam. Each `withNextFrame` call takes the next step of a script:
/// a frame (the virtual clock first moves on by the frame's gap) or a wait that times out (the clock moves on by the
/// wait, the call throws `.frameTimeout` as a camera does). After the script every call times out; `beforeTimeout`
/// runs first (a test can hold the pipeline there).
final class ScriptedFrameSource: FrameSource, @unchecked Sendable {
    enum Step {
        case frame(RGBImage, afterMilliseconds: UInt64)
        case timeout
        /// A finite recording ends here: `withNextFrame` returns nil (and keeps doing so).
        case end
    }

    let sourceDescription: String
    let formatSummary: String
    private let clock: TestClock
    private let lock = NSLock()
    private var steps: [Step]
    private var delivered = 0
    private var warning: String?
    private var hook: (@Sendable () -> Void)?
    private var longestWait = 0

    init(
        _ steps: [Step], clock: TestClock, description: String = "/dev/video9 (Scripted Camera)",
        formatSummary: String = "64×48 YUYV at 30 fps (asked 640×480 at 30 fps), 4 buffers"
    ) {
        self.steps = steps
        self.clock = clock
        sourceDescription = description
        self.formatSummary = formatSummary
    }

    var framesCaptured: Int { lock.withLock { delivered } }
    var deliveryWarning: String? {
        get { lock.withLock { warning } }
        set { lock.withLock { warning = newValue } }
    }
    var beforeTimeout: (@Sendable () -> Void)? {
        get { lock.withLock { hook } }
        set { lock.withLock { hook = newValue } }
    }
    var stepsLeft: Int { lock.withLock { steps.count } }
    /// The longest `timeoutMilliseconds` the pipeline asked for.
    var longestWaitAsked: Int { lock.withLock { longestWait } }

    func withNextFrame<Result>(timeoutMilliseconds: Int, _ body: (FrameView) -> Result) throws(CaptureError) -> Result?
    {
        let step: Step? = lock.withLock {
            longestWait = max(longestWait, timeoutMilliseconds)
            if case .end? = steps.first { return .end }
            return steps.isEmpty ? nil : steps.removeFirst()
        }
        if case .end? = step { return nil }
        guard case .frame(let image, let gap)? = step else {
            beforeTimeout?()
            clock.advance(byMilliseconds: UInt64(timeoutMilliseconds))
            throw .frameTimeout(device: "/dev/video9", milliseconds: timeoutMilliseconds)
        }
        clock.advance(byMilliseconds: gap)
        lock.withLock { delivered += 1 }
        return image.pixels.withUnsafeBytes { bytes in
            body(
                FrameView(
                    width: image.width, height: image.height, format: .rgb24, bytesPerLine: image.width * 3,
                    bytes: bytes, sequence: UInt64(delivered), timestampNanoseconds: clock.now))
        }
    }

    func close() {}
}

/// The daemon's state changes, in order.
private func states(_ log: EventLog) -> [DaemonState] {
    log.all.compactMap { if case .state(let state, _) = $0 { state } else { nil } }
}

@Suite(.serialized) struct DaemonPipelineTests {
    @Test("a frame wait never exceeds 500 ms, even with stale_ms 20000: the pipeline keeps its watchdog heartbeat")
    func frameWaitsStayShortWhateverStaleMsSays() throws {
        let (configuration, models, _) = try makeTinyDaemonWorkspace()
        let workspace = try GestureWorkspace(configuration, models: models)
        let clock = TestClock()
        let source = ScriptedFrameSource([.timeout, .timeout, .timeout], clock: clock)
        var settings = DaemonSettings(workspace: configuration, source: "/dev/video9", keys: ["up": KeyChord([.up])])
        settings.filter.staleInputTimeoutMilliseconds = 20_000
        let daemon = try GestureDaemon(
            settings: settings, workspace: workspace, keySink: RecordingKeySink(keys: [.up], clock: clock),
            dryRun: false, openSource: { _ in source }, clock: clock)
        // Stepped on this thread (virtual time): open, then three frame waits that time out.
        for _ in 0..<4 { daemon.session.step() }
        try daemon.stop()
        #expect(source.stepsLeft == 0)
        #expect(source.longestWaitAsked == 500, "asked for \(source.longestWaitAsked) ms")
    }

    @Test("one frame a second with a wait timeout between frames: one press for a 5 s gesture, released when it ends")
    func oneFramePerSecondPressesAndReleases() throws {
        let (configuration, models, photos) = try makeTinyDaemonWorkspace()
        let workspace = try GestureWorkspace(configuration, models: models)
        let clock = TestClock()
        // A camera at 1 fps read with the default 500 ms wait: every frame comes after one timeout.
        var steps: [ScriptedFrameSource.Step] = []
        for label in Array(repeating: "idle", count: 3) + Array(repeating: "up", count: 5)
            + Array(repeating: "idle", count: 4)
        {
            steps += [.timeout, .frame(photos[label]!, afterMilliseconds: 500)]
        }
        let source = ScriptedFrameSource(steps, clock: clock)
        let sink = RecordingKeySink(keys: [.up, .left], clock: clock)
        let events = EventLog()
        let records = LogRecords()
        let settings = DaemonSettings(workspace: configuration, source: "/dev/video9", keys: ["up": KeyChord([.up])])
        let daemon = try GestureDaemon(
            settings: settings, workspace: workspace, keySink: sink, dryRun: false, openSource: { _ in source },
            clock: clock, emit: { events.append($0) }, logger: records.logger())
        #expect(daemon.stepUntil { source.stepsLeft == 0 && daemon.snapshot().statistics.framesProcessed == 12 })
        try daemon.stop()
        // Before the fix: stale_ms 500 called every 1 s gap stale (no press at all), and each wait timeout released keys.
        let predictions = events.all.compactMap { event -> String? in
            guard case .prediction(let time, _, let probabilities, let state) = event else { return nil }
            return "\(time / 1_000_000) ms \(probabilities.map { String(format: "%.2f", $0) }) \(state)"
        }
        #expect(sink.transcript == ["KEY_UP down", "KEY_UP up"], "\(sink.transcript): \(predictions)")
        let down = try #require(sink.events.first { $0.direction == .down })
        let up = try #require(sink.events.last)
        #expect(up.timeNanoseconds - down.timeNanoseconds >= 3_000_000_000, "held across the gesture: \(sink.events)")
        let warnings = records.messages(atLeast: .warning).filter {
            $0.hasPrefix("frames reach the decision filter only every 1000 ms")
        }
        #expect(warnings.count == 1, "\(records.messages(atLeast: .warning))")
        #expect(!states(events).contains(.cameraLost), "a wait timeout is not a camera fault")
    }

    @Test("status counts frames the camera captured, the pipeline processed, and the difference as dropped")
    func statusCountsCapturedProcessedAndDropped() async throws {
        let clock = TestClock()
        let (configuration, models, photos) = try makeTinyDaemonWorkspace()
        let clip = configuration.dataDirectory + "/fast.y4m"
        let truth = try TruthTimeline(parsing: "0 idle\n", labels: configuration.labels)
        _ = try SyntheticRecording.write(
            to: clip, photos: photos, truth: truth, durationSeconds: 1, framesPerSecond: 120, width: 64,
            height: 48, seed: 6)
        let workspace = try GestureWorkspace(configuration, models: models)
        let opened = Shared<Y4MFileSource?>(nil)
        let settings = DaemonSettings(workspace: configuration, source: clip, loopRecordings: true, keys: [:])
        // The replay plays at 120 fps in (virtual) real time; each frame costs the pipeline 15 ms of that time, so the
        // newest frame wins and most frames are skipped, as with a camera faster than recognition.
        let daemon = try GestureDaemon(
            settings: settings, workspace: workspace, keySink: RecordingKeySink(), dryRun: false,
            openSource: { settings throws(CaptureError) in
                let source = try Y4MFileSource(path: settings.source, pacing: .realTime, loops: true, clock: clock)
                opened.withLock { $0 = source }
                return source
            },
            clock: clock, emit: { event in if case .prediction = event { clock.advance(byMilliseconds: 15) } })
        #expect(daemon.stepUntil { daemon.snapshot().statistics.framesProcessed >= 30 })
        let handler = DaemonControlHandler(daemon: daemon) { () throws(DaemonError) in ReloadResult() }
        let live = await handler.status().counters
        #expect(
            live.framesCaptured > live.framesProcessed
                && live.framesDropped == live.framesCaptured - live.framesProcessed)
        try daemon.stop()
        let source = try #require(opened.withLock { $0 })
        let final = await handler.status().counters
        // Exactly the source's own counts: every frame it produced, every frame it handed to the pipeline.
        #expect(
            final.framesCaptured == source.framesCaptured && final.framesProcessed == source.framesDelivered, "\(final)"
        )
        #expect(final.framesDropped == source.framesDropped && final.framesDropped > 0, "\(final)")
        #expect(final.predictions >= final.framesProcessed - 1 && final.predictions <= final.framesProcessed)
    }

    @Test("each camera open logs the negotiated format, size and rate; a delivery warning once; nothing per frame")
    func logsOpensAndWarningsButNotFrames() throws {
        let (configuration, models, photos) = try makeTinyDaemonWorkspace()
        let workspace = try GestureWorkspace(configuration, models: models)
        let clock = TestClock()
        let frames = (0..<40).map { _ in ScriptedFrameSource.Step.frame(photos["idle"]!, afterMilliseconds: 33) }
        let first = ScriptedFrameSource(frames, clock: clock)
        first.deliveryWarning = "the camera delivers 12.0 fps, expected 30.0 fps"
        let second = ScriptedFrameSource(
            frames, clock: clock, formatSummary: "32×24 YUYV at 15 fps (asked 320×240 at 15 fps), 4 buffers")
        let sources = Shared<[ScriptedFrameSource]>([first, second])
        let events = EventLog()
        let records = LogRecords()
        let settings = DaemonSettings(workspace: configuration, source: "/dev/video9", keys: ["up": KeyChord([.up])])
        let daemon = try GestureDaemon(
            settings: settings, workspace: workspace, keySink: RecordingKeySink(keys: [.up]), dryRun: false,
            openSource: { _ in sources.withLock { $0.removeFirst() } }, clock: clock, emit: { events.append($0) },
            logger: records.logger(level: .info))
        #expect(daemon.stepUntil { first.stepsLeft == 0 })
        // A reload with other camera settings reopens the camera: the new negotiation is logged too.
        var changed = settings
        changed.camera.width = 320
        changed.camera.height = 240
        try daemon.reload(changed)
        #expect(daemon.stepUntil { second.stepsLeft == 0 })
        try daemon.stop()
        let messages = records.messages(atLeast: .info)
        #expect(
            messages.filter { $0.hasPrefix("opened ") } == [
                "opened /dev/video9 (Scripted Camera): 64×48 YUYV at 30 fps (asked 640×480 at 30 fps), 4 buffers",
                "opened /dev/video9 (Scripted Camera): 32×24 YUYV at 15 fps (asked 320×240 at 15 fps), 4 buffers",
            ])
        #expect(
            records.all.first { $0.message.hasPrefix("opened ") }?.metadata["format"]
                == "64×48 YUYV at 30 fps (asked 640×480 at 30 fps), 4 buffers")
        #expect(
            records.messages(atLeast: .warning) == [
                "/dev/video9 (Scripted Camera): the camera delivers 12.0 fps, expected 30.0 fps"
            ])
        // 80 frames processed, a handful of lines: opens, a warning, state changes — none per frame.
        #expect(daemon.snapshot().statistics.framesProcessed >= 80)
        #expect(messages.count <= 4, "\(messages)")
    }

    @Test("shutdown goes stopping → stopped even when the pipeline sees a frame timeout while stopping")
    func stopNeverLeavesStopping() throws {
        let (configuration, models, photos) = try makeTinyDaemonWorkspace()
        let workspace = try GestureWorkspace(configuration, models: models)
        let clock = TestClock()
        let source = ScriptedFrameSource(
            (0..<5).map { _ in .frame(photos["idle"]!, afterMilliseconds: 33) }, clock: clock)
        let events = EventLog()
        let stopping = DispatchSemaphore(value: 0)
        let scriptDone = DispatchSemaphore(value: 0)
        let settings = DaemonSettings(workspace: configuration, source: "/dev/video9", keys: [:])
        let daemon = try GestureDaemon(
            settings: settings, workspace: workspace, keySink: RecordingKeySink(), dryRun: false,
            openSource: { _ in source },
            clock: clock,
            emit: { event in
                events.append(event)
                if case .state(.stopping, _) = event { stopping.signal() }
            })
        // The pipeline thread's frame wait ends in a timeout only once the daemon is stopping (what SIGTERM met on
        // the real kernel). The semaphore waits are bounds for a broken build, not timing.
        let held = Shared(false)
        source.beforeTimeout = {
            guard
                held.withLock({ first in
                    defer { first = true }; return !first
                })
            else { return }
            scriptDone.signal()
            _ = stopping.wait(timeout: .now() + 60)
        }
        daemon.start()
        #expect(scriptDone.wait(timeout: .now() + 60) == .success, "the pipeline never reached the end of the script")
        try daemon.stop()
        let sequence = states(events)
        let first = try #require(sequence.firstIndex(of: .stopping), "\(sequence)")
        #expect(Array(sequence[first...]) == [.stopping, .stopped], "\(sequence)")
        #expect(daemon.snapshot().state == .stopped)
    }
}
