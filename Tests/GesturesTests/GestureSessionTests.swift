// GestureSession stepped on the test's thread with a virtual clock (no wall-clock sleeps): the reopen
// backoff schedule, the one filter rule when the head changes (new-head, labels-changed), a filter that
// cannot follow the head reported instead of replaced by other settings, and a release that fails on
// the stop path returned by `stop()`. The embedder is the random tiny MobileNet of GestureTrainerTests;
// heads are real DenseHeads whose weights make one class win whatever the features (a constant head),
// so the filter's decisions are exact.
import SystemSupport
import Capture
import Foundation
import Gestures
import NeuralNet
import Synchronization
import Testing

/// A head that gives `winner` a probability of about 1 for every frame.
private func constantHead(labels: [String], winner: String, version: Int) throws -> ActiveHead {
    let labelSet = try LabelSet(labels)
    let classes = labels.count
    let architecture = HeadArchitecture(inputShape: [1, 1, 256], hiddenUnits: 1, classes: classes)
    // Hidden unit: relu(0 · features + 1) = 1; output logits: 20 for the winner, 0 elsewhere.
    let head = try DenseHead(
        architecture: architecture, hiddenKernel: [Float](repeating: 0, count: 256), hiddenBias: [1],
        outputKernel: labels.map { $0 == winner ? 20 : 0 })
    return ActiveHead(labels: labelSet, version: version, predictor: DenseHeadPredictor(head))
}

/// A camera stand-in at the FrameSource seam: a uniform frame every 33 ms of the virtual clock, grey (128) unless
/// the test dims it (a hand over the lens: 0).
private final class SteadySource: FrameSource, @unchecked Sendable {
    let clock: VirtualFrameClock
    let brightness = Atomic<UInt8>(128)
    private(set) var delivered = 0
    private(set) var closed = false
    init(clock: VirtualFrameClock) { self.clock = clock }

    var sourceDescription: String { "/dev/video7 (Steady Test Camera)" }
    var formatSummary: String { "48×40 RGB24 at 30 fps" }
    var framesCaptured: Int { delivered }
    var deliveryWarning: String? { nil }
    func close() { closed = true }

    func withNextFrame<Result>(timeoutMilliseconds: Int, _ body: (FrameView) -> Result) throws(CaptureError) -> Result?
    {
        clock.advance(byNanoseconds: 33_000_000)
        delivered += 1
        let pixels = [UInt8](repeating: brightness.load(ordering: .relaxed), count: 48 * 40 * 3)
        return pixels.withUnsafeBytes { bytes in
            body(
                FrameView(
                    width: 48, height: 40, format: .rgb24, bytesPerLine: 48 * 3, bytes: bytes,
                    sequence: UInt64(delivered), timestampNanoseconds: clock.nowNanoseconds))
        }
    }
}

/// Records decisions (with their reasons) and can make releases fail.
private final class RecordingOutput: GestureOutput, Sendable {
    let decisions = Mutex<[(KeyEvent, KeyReason)]>([])
    let failReleases = Atomic<Bool>(false)
    let held = Mutex<Set<String>>([])

    func apply(_ decision: KeyDecision) -> KeyOutcome {
        decisions.withLock { $0.append((decision.event, decision.reason)) }
        if decision.event.kind == .down {
            held.withLock { _ = $0.insert(decision.event.label) }
            return .done
        }
        if failReleases.load(ordering: .relaxed) { return .failed(keys: "KEY_UP", error: "EIO (test)") }
        held.withLock { _ = $0.remove(decision.event.label) }
        return .done
    }
    func releaseEverything(reason: KeyReason, alreadyReported: Bool) -> KeyOutcome { .done }
    func close(alreadyReported: Bool) -> KeyOutcome { .done }

    var lines: [String] {
        decisions.withLock { $0.map { "\($0.0.kind.rawValue) \($0.0.label) \($0.1.rawValue)" } }
    }
}

private final class Events: Sendable {
    let all = Mutex<[SessionEvent]>([])
    func append(_ event: SessionEvent) { all.withLock { $0.append(event) } }
    var errors: [String] {
        all.withLock { $0.compactMap { if case .notice(.error, let message, _) = $0 { message } else { nil } } }
    }
    var states: [SessionState] {
        all.withLock { $0.compactMap { if case .state(let state, _) = $0 { state } else { nil } } }
    }
}

private struct Rig {
    let session: GestureSession
    let recognizer: Recognizer
    let clock: VirtualFrameClock
    let output: RecordingOutput
    let events: Events
    let opens: Counter
    let source: SteadySource
}

private final class Counter: Sendable {
    let value = Mutex(0)
}

@Suite("GestureSession: one loop, stepped on virtual time")
struct GestureSessionTests {
    /// A session on the tiny embedder whose opener fails `failingOpens` times before it gives a steady source.
    private func rig(
        head: ActiveHead?, filter: DecisionFilterSettings = .default, failingOpens: Int = 0,
        lensCover: LensCoverSettings = LensCoverSettings()
    ) throws -> Rig {
        let (trainer, store, _) = try makeTinyTrainer(labels: ["up", "down", "idle"], perLabel: 2)
        let recognizer = Recognizer(extractor: try trainer.extractor.duplicate(), mirror: false)
        try recognizer.swapHead(head)
        let clock = VirtualFrameClock()
        let source = SteadySource(clock: clock)
        let output = RecordingOutput()
        let events = Events()
        let opens = Counter()
        let session = try GestureSession(
            settings: GestureSessionSettings(
                sourceName: "/dev/video7", labels: try LabelSet(["up", "down", "idle"]), filter: filter,
                lensCover: lensCover),
            recognizer: recognizer, samples: store, cacheKey: trainer.cacheKey, trainer: trainer, output: output,
            clock: clock,
            openSource: { [opens] () throws(CaptureError) -> any FrameSource in
                let attempt = opens.value.withLock {
                    $0 += 1
                    return $0
                }
                if attempt <= failingOpens { throw .deviceNotFound(device: "/dev/video7") }
                return source
            },
            emit: { events.append($0) })
        return Rig(
            session: session, recognizer: recognizer, clock: clock, output: output, events: events, opens: opens,
            source: source)
    }

    /// Steps until `condition` holds (at most `limit` steps), sleeping the virtual clock through idle waits.
    @discardableResult
    private func step(_ rig: Rig, limit: Int = 200, until condition: () -> Bool) -> Bool {
        for _ in 0..<limit {
            if condition() { return true }
            if case .idle(let deadline, _) = rig.session.step() { rig.clock.sleep(untilNanoseconds: deadline) }
        }
        return condition()
    }

    @Test("a source that cannot be opened is retried after 250, 500, 1000, 1000 ms of the session's clock")
    func reopenBackoffRunsOnTheInjectedClock() throws {
        let rig = try rig(head: nil, failingOpens: 4)
        var waits: [UInt64] = []
        for _ in 0..<4 {
            let before = rig.clock.nowNanoseconds
            guard case .idle(let deadline, _) = rig.session.step() else {
                Issue.record("a failed open should leave the loop idle until the next attempt")
                return
            }
            waits.append((deadline - before) / 1_000_000)
            // Stepping again before the deadline does not open again.
            #expect(rig.session.step() == .idle(untilNanoseconds: deadline, generation: 0))
            rig.clock.sleep(untilNanoseconds: deadline)
        }
        #expect(waits == [250, 500, 1000, 1000])
        #expect(rig.session.snapshot().state == .cameraLost)
        #expect(rig.session.step() == .progressed)
        #expect(rig.opens.value.withLock { $0 } == 5)
        #expect(rig.session.snapshot().state == .running)
        #expect(rig.events.states == [.cameraLost, .running])
    }

    @Test("the filter follows the head: a held key comes up with new-head, then with labels-changed")
    func theFilterFollowsTheHead() throws {
        let rig = try rig(head: try constantHead(labels: ["up", "down", "idle"], winner: "up", version: 1))
        #expect(step(rig) { rig.output.held.withLock { $0 } == ["up"] })
        // Another version with the same labels swaps in (as a training run or `reload` does).
        try rig.recognizer.swapHead(try constantHead(labels: ["up", "down", "idle"], winner: "up", version: 2))
        rig.session.step()
        #expect(rig.output.lines.contains("up up new-head"), "\(rig.output.lines)")
        #expect(step(rig) { rig.output.held.withLock { $0 } == ["up"] }, "the rebuilt filter presses again")
        // A head with other labels.
        try rig.recognizer.swapHead(try constantHead(labels: ["up", "left", "idle"], winner: "left", version: 3))
        rig.session.step()
        #expect(rig.output.lines.last == "up up labels-changed", "\(rig.output.lines)")
        #expect(step(rig) { rig.output.held.withLock { $0 } == ["left"] })
        #expect(rig.session.snapshot().labels == ["up", "left", "idle"])
        #expect(rig.events.errors.isEmpty, "\(rig.events.errors)")
    }

    @Test("a filter that cannot follow the head is an error and presses nothing: no fallback to other settings")
    func aFilterThatCannotFollowTheHeadIsReported() throws {
        var filter = DecisionFilterSettings.default
        filter.enterThresholdByLabel = ["down": 0.9]
        let rig = try rig(
            head: try constantHead(labels: ["up", "down", "idle"], winner: "up", version: 1), filter: filter)
        #expect(step(rig) { rig.output.held.withLock { $0 } == ["up"] })
        // The new head has no "down": the configured per-label threshold cannot apply.
        try rig.recognizer.swapHead(try constantHead(labels: ["up", "left", "idle"], winner: "left", version: 2))
        for _ in 0..<30 { rig.session.step() }
        #expect(rig.output.held.withLock { $0 }.isEmpty, "\(rig.output.lines)")
        #expect(!rig.output.lines.contains("down left filter"), "nothing pressed without the configured filter")
        #expect(rig.events.errors.count == 1, "reported once, not per frame: \(rig.events.errors)")
        #expect(rig.events.errors.first?.contains("down") == true, "\(rig.events.errors)")
        // Kept for the owner's exit status (the daemon exits non-zero with `filterFailed`).
        #expect(rig.session.decisionFilterFailures == rig.events.errors)
    }

    @Test("stop releases with reason stop, and a release that fails is returned, never swallowed")
    func aFailedReleaseOnStopIsReturned() throws {
        let rig = try rig(head: try constantHead(labels: ["up", "down", "idle"], winner: "up", version: 1))
        #expect(step(rig) { rig.output.held.withLock { $0 } == ["up"] })
        rig.output.failReleases.store(true, ordering: .relaxed)
        let failures = rig.session.stop()
        #expect(rig.output.lines.last == "up up stop")
        #expect(failures.count == 1 && failures[0].contains("KEY_UP") && failures[0].contains("EIO"), "\(failures)")
        #expect(rig.events.errors == failures)
        #expect(rig.session.snapshot().state == .stopped)
        #expect(rig.session.step() == .stopped)
        #expect(rig.source.closed, "a stepped session closes its source on stop")
    }

    @Test("pause closes the source and idles; resume reopens at once")
    func pauseAndResume() throws {
        let rig = try rig(head: nil)
        #expect(rig.session.step() == .progressed)
        rig.session.pause()
        guard case .idle = rig.session.step() else {
            Issue.record("a paused session idles")
            return
        }
        #expect(rig.session.snapshot().state == .paused)
        rig.session.resume()
        #expect(rig.session.step() == .progressed)
        #expect(rig.opens.value.withLock { $0 } == 2)
        #expect(rig.session.snapshot().state == .running)
    }

    /// Steps frames (33 ms each on the virtual clock) for `milliseconds` at `brightness`; returns the frames stepped.
    @discardableResult
    private func run(_ rig: Rig, brightness: UInt8, milliseconds: Int) -> Int {
        rig.source.brightness.store(brightness, ordering: .relaxed)
        let end = rig.clock.nowNanoseconds + UInt64(milliseconds) * 1_000_000
        var frames = 0
        while rig.clock.nowNanoseconds < end {
            if case .idle(let deadline, _) = rig.session.step() { rig.clock.sleep(untilNanoseconds: deadline) }
            frames += 1
        }
        return frames
    }

    private func downs(_ rig: Rig) -> Int { rig.output.lines.filter { $0.hasPrefix("down ") }.count }

    @Test(
        "a covered lens: 0.5 s changes nothing; 1.2 s pauses and releases; uncovered stays paused; a second cover resumes"
    )
    func coveringTheLensPausesAndResumes() throws {
        let rig = try rig(head: try constantHead(labels: ["up", "down", "idle"], winner: "up", version: 1))
        #expect(step(rig) { rig.output.held.withLock { $0 } == ["up"] })

        // A short shadow (0.5 s) is not a cover.
        run(rig, brightness: 0, milliseconds: 500)
        run(rig, brightness: 128, milliseconds: 300)
        #expect(rig.session.snapshot().state == .running)
        #expect(!rig.output.lines.contains { $0.hasSuffix(" pause") }, "\(rig.output.lines)")

        // 1.2 s dark: paused by the lens, every key released at once, the source kept open.
        let downsBeforeCover = downs(rig)
        run(rig, brightness: 0, milliseconds: 1200)
        var reading = rig.session.snapshot()
        #expect(reading.state == .paused && reading.pauseCause == .lensCover, "\(reading.state) \(reading.reason)")
        #expect(reading.reason.hasPrefix("paused: lens covered"), "\(reading.reason)")
        #expect(rig.output.held.withLock { $0 }.isEmpty)
        #expect(rig.output.lines.last == "up up pause", "\(rig.output.lines)")
        #expect(!rig.source.closed, "the lens pause keeps watching the camera")

        // Uncovered: stays paused, and no key goes down while paused.
        let framesWhilePaused = run(rig, brightness: 128, milliseconds: 1500)
        #expect(framesWhilePaused > 30)
        #expect(rig.session.snapshot().state == .paused)
        #expect(downs(rig) == downsBeforeCover, "\(rig.output.lines)")

        // Covered again for 1.2 s: resumed (no key while the hand is still there), then keys once uncovered.
        run(rig, brightness: 0, milliseconds: 1200)
        reading = rig.session.snapshot()
        #expect(reading.state == .running && reading.pauseCause == nil, "\(reading.state) \(reading.reason)")
        #expect(downs(rig) == downsBeforeCover)
        #expect(
            step(rig) {
                rig.source.brightness.store(128, ordering: .relaxed)
                return rig.output.held.withLock { $0 } == ["up"]
            })
        let reasons = rig.events.all.withLock {
            $0.compactMap { if case .state(_, let reason) = $0 { reason } else { nil } }
        }
        #expect(reasons.contains { $0.hasPrefix("paused: lens covered") }, "\(reasons)")
        #expect(reasons.contains("resumed: lens covered again"), "\(reasons)")
        #expect(rig.events.errors.isEmpty, "\(rig.events.errors)")
    }

    @Test("a release that fails when the lens pauses is an error and part of stop()'s answer")
    func aFailedReleaseOnLensCoverIsReported() throws {
        let rig = try rig(head: try constantHead(labels: ["up", "down", "idle"], winner: "up", version: 1))
        #expect(step(rig) { rig.output.held.withLock { $0 } == ["up"] })
        rig.output.failReleases.store(true, ordering: .relaxed)
        run(rig, brightness: 0, milliseconds: 1200)
        #expect(rig.session.snapshot().state == .paused)
        #expect(rig.events.errors.count == 1 && rig.events.errors[0].contains("(pause)"), "\(rig.events.errors)")
        #expect(rig.session.keyReleaseFailures == rig.events.errors)
    }

    @Test("lens cover off: a dark camera is just frames")
    func lensCoverCanBeTurnedOff() throws {
        let rig = try rig(
            head: try constantHead(labels: ["up", "down", "idle"], winner: "up", version: 1),
            lensCover: LensCoverSettings(enabled: false))
        #expect(step(rig) { rig.output.held.withLock { $0 } == ["up"] })
        run(rig, brightness: 0, milliseconds: 3000)
        #expect(rig.session.snapshot().state == .running)
        #expect(rig.output.held.withLock { $0 } == ["up"])
    }

    @Test("pause by request while the lens paused: the source closes; the hotkey toggles one paused state")
    func oneStateWithOneCause() throws {
        let rig = try rig(head: nil)
        run(rig, brightness: 0, milliseconds: 1200)
        #expect(rig.session.snapshot().pauseCause == .lensCover)
        rig.session.pause()
        #expect(rig.session.snapshot().pauseCause == .request)
        guard case .idle = rig.session.step() else {
            Issue.record("paused by request, the session idles with its source closed")
            return
        }
        #expect(rig.source.closed)
        // The hotkey resumes whatever paused it, and pauses again.
        #expect(rig.session.togglePause() == nil)
        #expect(rig.session.step() == .progressed)
        #expect(rig.session.snapshot().state == .running)
        #expect(rig.session.togglePause() == .hotkey)
        #expect(rig.session.snapshot().pauseCause == .hotkey)
        #expect(rig.session.snapshot().reason.hasPrefix("paused: pause hotkey"))
    }

    @Test("mean luma of a sample frame", arguments: [(UInt8(0), 0), (UInt8(128), 128), (UInt8(255), 255)])
    func meanLuma(value: UInt8, expected: Int) {
        let side = 224
        let pixels = [UInt8](repeating: value, count: side * side * 3)
        #expect(
            pixels.withUnsafeBufferPointer { LensCoverDetector.meanLuma(sample: $0.baseAddress!, side: side) }
                == expected)
    }
}
