// The daemon's stop paths (issue 15 items 7–9) at the fake seams: a scripted camera and a virtual clock
// (ScriptedFrameSource, TestClock) with the session stepped on the test's thread, a key sink whose releases fail, and a sample store capped with SQLite's
// max_page_count (a full disk). Checks: a pending `record` always ends — on pause, end of source, stop, its time
// running out without frames, and a failed write — with exactly what was stored; `stop` publishes `stopping`,
// then the key-ups with reason `stop`, then `stopped`; a release that fails is an event, an error log line and a
// `stop()` failure, never swallowed.
import Capture
import Foundation
import Gestures
import Logging
import NeuralNet
import Testing

@testable import Daemon
@testable import Gestures
import SystemSupport

/// A key sink whose presses work and whose releases fail as a uinput write would (EIO): the fake for "a release that
/// fails". `close` gives the device up anyway (the kernel releases the keys of a destroyed device) but reports it.
final class ReleaseFailingKeySink: KeySink, @unchecked Sendable {
    private let recorder = RecordingKeySink()
    private(set) var releaseAttempts = 0
    private var closed = false
    var heldKeys: [KeyCode] { closed ? [] : recorder.heldKeys }
    func press(keys: [KeyCode]) throws(DaemonError) { try recorder.press(keys: keys) }
    func release(keys: [KeyCode]) throws(DaemonError) {
        releaseAttempts += 1
        throw .uinputWriteFailed(path: "/dev/uinput", errno: Errno(rawValue: EIO), action: "release")
    }
    func releaseAll() throws(DaemonError) {
        guard !recorder.heldKeys.isEmpty, !closed else { return }
        releaseAttempts += 1
        throw .uinputWriteFailed(path: "/dev/uinput", errno: Errno(rawValue: EIO), action: "release")
    }
    func close() throws(DaemonError) {
        guard !closed else { return }
        let held = !recorder.heldKeys.isEmpty
        closed = true
        if held { throw .uinputWriteFailed(path: "/dev/uinput", errno: Errno(rawValue: EIO), action: "release") }
    }
}

/// The `record` outcomes a daemon handed to its requesters.
final class OutcomeLog: Sendable {
    private let outcomes = Shared<[RecordingOutcome]>([])
    var all: [RecordingOutcome] { outcomes.withLock { $0 } }
    var completion: @Sendable (RecordingOutcome) -> Void {
        { outcome in self.outcomes.withLock { $0.append(outcome) } }
    }
}

/// Key events as "up up stop" (action, label, reason) with the failure marked.
private func keyLines(_ log: EventLog) -> [String] {
    log.all.compactMap { event in
        guard case .key(let key, _, _, _, let reason, let failure) = event else { return nil }
        return "\(key.kind.rawValue) \(key.label) \(reason.rawValue)" + (failure == nil ? "" : " FAILED")
    }
}

/// Daemon events reduced to the stop sequence: states and key events in order.
private func stopSequence(_ log: EventLog) -> [String] {
    log.all.compactMap { event in
        switch event {
        case .state(let state, _): return "state \(state.rawValue)"
        case .key(let key, _, _, _, let reason, _): return "key \(key.kind.rawValue) \(key.label) \(reason.rawValue)"
        default: return nil
        }
    }
}

@Suite(.serialized) struct DaemonStopPathTests {
    /// A daemon on a scripted camera, never started: the test steps its session (`daemon.stepUntil`), so nothing but
    /// the test's command ends what is running, and the clock moves only with the script.
    struct Rig {
        let daemon: GestureDaemon
        let workspace: GestureWorkspace
        let source: ScriptedFrameSource
        let events: EventLog
        let records: LogRecords
        let clock: TestClock

        /// Steps until the script's frames are used up.
        func runScript() -> Bool { daemon.stepUntil { source.stepsLeft == 0 } }
    }

    static func rig(
        frames: [String], thenEnd: Bool = false, keySink: (any KeySink)? = nil, storePages: Int? = nil
    ) throws -> Rig {
        let (configuration, models, photos) = try makeTinyDaemonWorkspace()
        let workspace = try GestureWorkspace(configuration, models: models)
        if let storePages { try workspace.samples.limitGrowth(toExtraPages: storePages) }
        let clock = TestClock()
        var steps = frames.map { ScriptedFrameSource.Step.frame(photos[$0]!, afterMilliseconds: 200) }
        if thenEnd { steps.append(.end) }
        let source = ScriptedFrameSource(steps, clock: clock)
        let events = EventLog()
        let records = LogRecords()
        let settings = DaemonSettings(
            workspace: configuration, source: "/dev/video9", keys: ["up": KeyChord([.up]), "left": KeyChord([.left])])
        let daemon = try GestureDaemon(
            settings: settings, workspace: workspace, keySink: keySink ?? RecordingKeySink(keys: [.up, .left]),
            dryRun: false, openSource: { _ in source }, clock: clock, emit: { events.append($0) },
            logger: records.logger())
        return Rig(daemon: daemon, workspace: workspace, source: source, events: events, records: records, clock: clock)
    }

    // MARK: Item 7: a pending record always ends

    @Test("record while paused is refused at once (code paused); record pending when pause comes ends as paused")
    func recordAndPause() async throws {
        let rig = try Self.rig(frames: Array(repeating: "idle", count: 3))
        #expect(rig.runScript())
        let outcomes = OutcomeLog()
        try rig.daemon.record(label: "up", seconds: 30, completion: outcomes.completion)
        rig.daemon.pause()
        let outcome = try #require(outcomes.all.first, "record never ended on pause")
        #expect(outcome.end == .paused && outcome.saved == 0, "\(outcome)")
        #expect(outcome.summary.contains("the daemon was paused"), "\(outcome.summary)")
        // A new request while paused: refused, nothing waits.
        let error = #expect(throws: DaemonError.self) { try rig.daemon.record(label: "up", seconds: 5) }
        #expect(error?.description.contains("paused") == true)
        let handler = DaemonControlHandler(daemon: rig.daemon) { () throws(DaemonError) in ReloadResult() }
        do {
            _ = try await handler.record(label: "up", seconds: 5)
            Issue.record("record while paused replied instead of failing")
        } catch let failure as ControlCommandError {
            #expect(failure.code == "paused", "\(failure)")
        }
        try rig.daemon.stop()
        #expect(outcomes.all.count == 1, "each requester hears exactly once: \(outcomes.all)")
    }

    @Test("record pending when the source (a recording) ends: ends as source-ended; later requests are refused")
    func recordAndEndOfSource() async throws {
        let rig = try Self.rig(frames: Array(repeating: "idle", count: 2), thenEnd: true)
        let outcomes = OutcomeLog()
        // Asked before the first step: the source ends while it is pending.
        try rig.daemon.record(label: "up", seconds: 60, completion: outcomes.completion)
        #expect(rig.daemon.stepUntil { !outcomes.all.isEmpty })
        let outcome = try #require(outcomes.all.first, "record never ended at the end of the source")
        #expect(outcome.end == .sourceEnded, "\(outcome)")
        #expect(rig.daemon.snapshot().state == .sourceEnded)
        let handler = DaemonControlHandler(daemon: rig.daemon) { () throws(DaemonError) in ReloadResult() }
        do {
            _ = try await handler.record(label: "up", seconds: 1)
            Issue.record("record after the end of the source replied instead of failing")
        } catch let failure as ControlCommandError {
            #expect(failure.code == "source_ended", "\(failure)")
        }
        try rig.daemon.stop()
        #expect(rig.daemon.snapshot().state == .stopped)
    }

    @Test("record pending on stop: ends as stopping at once, not when its time runs out")
    func recordAndStop() throws {
        let rig = try Self.rig(frames: Array(repeating: "idle", count: 2))
        #expect(rig.runScript())
        let outcomes = OutcomeLog()
        try rig.daemon.record(label: "left", seconds: 600, completion: outcomes.completion)
        let before = rig.clock.now
        try rig.daemon.stop()
        #expect(rig.clock.now == before, "stop waited \(rig.clock.now - before) ns of the recording's time")
        let outcome = try #require(outcomes.all.first, "record never ended on stop")
        #expect(outcome.end == .stopping && outcome.label == "left", "\(outcome)")
        #expect(throws: DaemonError.self) { try rig.daemon.record(label: "up", seconds: 1) }
    }

    @Test("record with a camera that only times out: the time still runs out (virtual clock), 0 samples, completed")
    func recordWithoutFramesEndsOnTime() throws {
        let rig = try Self.rig(frames: ["idle"])
        #expect(rig.runScript())
        let outcomes = OutcomeLog()
        try rig.daemon.record(label: "up", seconds: 2, completion: outcomes.completion)
        // Every wait advances the clock by ≤ 500 ms: 2 s pass within a few timeouts.
        #expect(rig.daemon.stepUntil(limit: 20) { !outcomes.all.isEmpty })
        let outcome = try #require(outcomes.all.first, "record without frames never ended")
        #expect(outcome.end == .completed && outcome.saved == 0, "\(outcome)")
        try rig.daemon.stop()
    }

    @Test("a newer record request replaces the pending one, which hears `replaced` with its own count")
    func aNewerRecordReplacesThePendingOne() throws {
        let rig = try Self.rig(frames: ["idle"])
        #expect(rig.runScript())
        let first = OutcomeLog()
        let second = OutcomeLog()
        try rig.daemon.record(label: "up", seconds: 60, completion: first.completion)
        try rig.daemon.record(label: "left", seconds: 60, completion: second.completion)
        #expect(first.all.map(\.end) == [.replaced])
        try rig.daemon.stop()
        #expect(second.all.map(\.end) == [.stopping])
    }

    // MARK: Item 8: stop publishes stopping, then key-ups with reasons

    @Test("stop while a key is held: state stopping, then the key-up with reason stop, then stopped")
    func stopPublishesStoppingThenReasonedKeyUps() throws {
        let sink = RecordingKeySink(keys: [.up, .left])
        let rig = try Self.rig(frames: Array(repeating: "up", count: 12), keySink: sink)
        #expect(rig.daemon.stepUntil { sink.heldKeys == [.up] && rig.source.stepsLeft == 0 })
        try rig.daemon.stop()
        let sequence = stopSequence(rig.events)
        let stopping = try #require(sequence.firstIndex(of: "state stopping"), "\(sequence)")
        #expect(Array(sequence[stopping...]) == ["state stopping", "key up up stop", "state stopped"], "\(sequence)")
        #expect(keyLines(rig.events).first == "down up filter", "\(keyLines(rig.events))")
        // On the socket: reason "stop", and the filter's press carries its reason and latency.
        let controlEvents = rig.events.all.compactMap(ControlEvent.init)
        let keys = controlEvents.compactMap { if case .key(let key) = $0 { key } else { nil } }
        #expect(keys.map(\.reason) == ["filter", "stop"], "\(keys)")
        #expect(keys.first?.latencyMilliseconds != nil && keys.last?.error == nil)
        #expect(sink.transcript == ["KEY_UP down", "KEY_UP up"])
    }

    @Test("pause, reload and camera loss release with their own reasons")
    func otherStopPathsNameTheirReason() throws {
        let sink = RecordingKeySink(keys: [.up, .left])
        let rig = try Self.rig(frames: Array(repeating: "up", count: 12), keySink: sink)
        #expect(rig.daemon.stepUntil { sink.heldKeys == [.up] && rig.source.stepsLeft == 0 })
        rig.daemon.pause()
        #expect(keyLines(rig.events).last == "up up pause", "\(keyLines(rig.events))")
        try rig.daemon.stop()
        #expect(!keyLines(rig.events).contains { $0.hasSuffix(" stop") }, "nothing was held any more at stop")
    }

    // MARK: A release that fails is reported, never swallowed

    @Test("a failing release on stop: a key-up event with the failure, an error log line, and stop() throws")
    func aFailingReleaseIsReported() throws {
        let sink = ReleaseFailingKeySink()
        let rig = try Self.rig(frames: Array(repeating: "up", count: 12), keySink: sink)
        #expect(rig.daemon.stepUntil { sink.heldKeys == [.up] && rig.source.stepsLeft == 0 })
        let error = #expect(throws: DaemonError.self) { try rig.daemon.stop() }
        guard case .keyReleaseFailed(let failures)? = error else {
            Issue.record("stop() did not report the failed release: \(String(describing: error))")
            return
        }
        #expect(failures.first?.contains("releasing KEY_UP (stop) failed") == true, "\(failures)")
        #expect(keyLines(rig.events).contains("up up stop FAILED"), "\(keyLines(rig.events))")
        let errors = rig.records.messages(atLeast: .error)
        #expect(errors.contains { $0.contains("releasing KEY_UP (stop) failed") && $0.contains("EIO") }, "\(errors)")
        #expect(rig.daemon.snapshot().state == .stopped && sink.releaseAttempts >= 1)
        let controlKeys = rig.events.all.compactMap(ControlEvent.init).compactMap {
            if case .key(let key) = $0 { key } else { nil }
        }
        #expect(controlKeys.contains { $0.action == .up && $0.reason == "stop" && $0.error != nil }, "\(controlKeys)")
    }

    @Test("a failing release on pause is reported then, and still makes stop() fail later")
    func aFailingReleaseOnPauseIsRemembered() throws {
        let sink = ReleaseFailingKeySink()
        let rig = try Self.rig(frames: Array(repeating: "up", count: 12), keySink: sink)
        #expect(rig.daemon.stepUntil { sink.heldKeys == [.up] && rig.source.stepsLeft == 0 })
        rig.daemon.pause()
        #expect(keyLines(rig.events).contains("up up pause FAILED"), "\(keyLines(rig.events))")
        #expect(rig.daemon.keyReleaseFailures.count >= 1)
        #expect(throws: DaemonError.self) { try rig.daemon.stop() }
    }

    // MARK: Item 9: a full disk while recording

    @Test("record on a full disk: the recording stops at the failed write, and the reply says exactly what is stored")
    func recordOnAFullDiskSaysWhatWasStored() async throws {
        // Alternating colours, so every frame is kept (no near-duplicates); 200 ms apart (over the 100 ms throttle).
        let frames = (0..<24).map { ["up", "left", "idle"][$0 % 3] }
        let rig = try Self.rig(frames: frames, storePages: 6)
        let before = try rig.workspace.samples.counts()["up"] ?? 0
        let handler = DaemonControlHandler(daemon: rig.daemon) { () throws(DaemonError) in ReloadResult() }
        let reply = Task { try await handler.record(label: "up", seconds: 60) }
        // The request reaches the daemon on another task; no frame is processed before it does.
        for _ in 0..<1_000_000 where rig.daemon.snapshot().recordingLabel == nil { await Task.yield() }
        #expect(rig.daemon.snapshot().recordingLabel == "up")
        #expect(rig.daemon.stepUntil { rig.daemon.snapshot().recordingLabel == nil }, "the recording never stopped")
        do {
            let result = try await reply.value
            Issue.record("a full disk replied success: \(result)")
        } catch let failure as ControlCommandError {
            let stored = (try rig.workspace.samples.counts()["up"] ?? 0) - before
            #expect(failure.code == "write_failed", "\(failure)")
            #expect(failure.message.contains("\(stored) sample"), "stored \(stored): \(failure.message)")
            #expect(failure.message.contains("SQLITE_FULL"), "\(failure.message)")
            // Every stored sample has its embedding (one transaction each).
            let ids = Set(try rig.workspace.samples.samples(label: "up").map(\.id))
            let embedded = Set(try rig.workspace.samples.cachedEmbeddings(modelID: rig.workspace.trainer.cacheKey).keys)
            #expect(ids.isSubset(of: embedded), "samples without embeddings: \(ids.subtracting(embedded))")
        }
        #expect(rig.records.messages(atLeast: .error).contains { $0.contains("recording up stopped") })
        try rig.daemon.stop()
    }
}

/// A head whose output is fixed: `winner` at logit 20, the rest 0, whatever the features ([8, 8, 8] as the tiny
/// embedder gives).
private func fixedHead(labels: [String], winner: String, version: Int) throws -> ActiveHead {
    let architecture = HeadArchitecture(inputShape: [8, 8, 8], hiddenUnits: 1, classes: labels.count)
    let head = try DenseHead(
        architecture: architecture, hiddenKernel: [Float](repeating: 0, count: 512), hiddenBias: [1],
        outputKernel: labels.map { $0 == winner ? 20 : 0 })
    return ActiveHead(labels: try LabelSet(labels), version: version, predictor: DenseHeadPredictor(head))
}

@Suite(.serialized) struct DaemonFilterFailureTests {
    @Test(
        "a filter that cannot follow a new head: keys up (filter-error), an error line, and stop() throws filterFailed")
    func aFilterFailureMakesStopFail() throws {
        let (configuration, models, photos) = try makeTinyDaemonWorkspace()
        let workspace = try GestureWorkspace(configuration, models: models)
        let clock = TestClock()
        let source = ScriptedFrameSource(
            (0..<24).map { _ in .frame(photos["up"]!, afterMilliseconds: 100) }, clock: clock)
        let sink = RecordingKeySink(keys: [.up, .left])
        let events = EventLog()
        let records = LogRecords()
        var settings = DaemonSettings(
            workspace: configuration, source: "/dev/video9", keys: ["up": KeyChord([.up]), "left": KeyChord([.left])])
        // A per-label threshold for "left": fine for the trained head (up, left, idle), impossible for one without it.
        settings.filter.enterThresholdByLabel = ["left": 0.9]
        let daemon = try GestureDaemon(
            settings: settings, workspace: workspace, keySink: sink, dryRun: false, openSource: { _ in source },
            clock: clock, emit: { events.append($0) }, logger: records.logger())
        #expect(daemon.stepUntil { sink.heldKeys == [.up] })
        try daemon.session.recognizer.swapHead(try fixedHead(labels: ["up", "down", "idle"], winner: "up", version: 9))
        #expect(daemon.stepUntil { source.stepsLeft == 0 })
        #expect(sink.heldKeys.isEmpty, "nothing held without the configured filter: \(sink.transcript)")
        #expect(sink.transcript == ["KEY_UP down", "KEY_UP up"], "never pressed again: \(sink.transcript)")
        let errors = records.messages(atLeast: .error)
        #expect(errors.count == 1 && errors[0].contains("left"), "once, naming the label: \(errors)")
        let error = #expect(throws: DaemonError.self) { try daemon.stop() }
        guard case .filterFailed(let failures)? = error else {
            Issue.record("stop() did not report the filter failure: \(String(describing: error))")
            return
        }
        #expect(failures == errors, "\(failures)")
        #expect(daemon.snapshot().state == .stopped)
    }
}
