// The KeySink contract, run against all three sinks (uinput on FakeUInputSystem, recording, dry-run):
// chords down in order and up in reverse, no double presses, releaseAll and close idempotent,
// unconfigured keys refused. Plus what only one sink does: the recorder's timestamps on virtual
// time, the dry-run reports, and `openKeySink` falling back to dry-run when uinput cannot be opened.
import Capture
import Glibc
import Testing

@testable import Daemon
import SystemSupport

/// A sink under test, with a way to read back what it emitted as "press …"/"release …" lines.
struct KeySinkUnderTest: CustomTestStringConvertible, Sendable {
    let kind: String
    var testDescription: String { kind }

    /// Builds the sink for `keys`; `emitted` returns the groups it sent so far.
    func make(keys: Set<KeyCode>) throws -> (sink: any KeySink, emitted: () -> [String]) {
        switch kind {
        case "uinput":
            // Fake: the kernel's uinput driver (see UInputKeySinkTests), accepting every write.
            let fake = FakeUInputSystem()
            let sink = try UInputKeySink(keys: keys, system: fake)
            return (
                sink,
                {
                    fake.writes.map { events in
                        let keys = events.dropLast().map { KeyCode(rawValue: $0.code).description }.joined(
                            separator: "+")
                        return (events.first?.value == 1 ? "press " : "release ") + keys
                    }
                }
            )
        case "recording":
            let sink = RecordingKeySink(keys: keys, clock: VirtualFrameClock())
            return (
                sink,
                {
                    Dictionary(grouping: sink.events, by: \.report).sorted { $0.key < $1.key }.map { _, events in
                        (events[0].direction == .down ? "press " : "release ")
                            + events.map(\.key.description).joined(separator: "+")
                    }
                }
            )
        default:
            let log = ActionLog()
            let sink = DryRunKeySink(keys: keys) { log.actions.append($0.description) }
            return (sink, { log.actions })
        }
    }
}

private final class ActionLog {
    var actions: [String] = []
}

private let allSinks = [
    KeySinkUnderTest(kind: "uinput"), KeySinkUnderTest(kind: "recording"), KeySinkUnderTest(kind: "dry-run"),
]
private let keys: Set<KeyCode> = [.leftControl, .c, .up, .down]

@Suite("Daemon: key sinks")
struct KeySinkTests {
    @Test(
        "chord down in order, up in reverse; repeats skipped; releaseAll last-first and idempotent",
        arguments: allSinks)
    func contract(subject: KeySinkUnderTest) throws {
        let (sink, emitted) = try subject.make(keys: keys)
        try sink.press(try KeyChord.parse("KEY_LEFTCTRL+KEY_C"))
        try sink.press(keys: [.leftControl])
        #expect(sink.heldKeys == [.leftControl, .c])
        try sink.release(keys: [.leftControl, .c])
        try sink.press(keys: [.up])
        try sink.press(keys: [.down])
        try sink.releaseAll()
        try sink.releaseAll()
        #expect(sink.heldKeys.isEmpty)
        #expect(
            emitted() == [
                "press KEY_LEFTCTRL+KEY_C",
                "release KEY_C+KEY_LEFTCTRL",
                "press KEY_UP",
                "press KEY_DOWN",
                "release KEY_DOWN+KEY_UP",
            ])
    }

    @Test("close releases what is held, is idempotent, and later presses are refused", arguments: allSinks)
    func closing(subject: KeySinkUnderTest) throws {
        let (sink, emitted) = try subject.make(keys: keys)
        try sink.press(keys: [.up])
        try sink.close()
        try sink.close()
        try sink.releaseAll()
        #expect(sink.heldKeys.isEmpty)
        #expect(emitted() == ["press KEY_UP", "release KEY_UP"])
        #expect(throws: DaemonError.self) { try sink.press(keys: [.up]) }
    }

    @Test("a key outside the configured set is refused and nothing is emitted", arguments: allSinks)
    func unconfigured(subject: KeySinkUnderTest) throws {
        let (sink, emitted) = try subject.make(keys: keys)
        do {
            try sink.press(keys: [.up, .a])
            Issue.record("pressing KEY_A should throw")
        } catch {
            guard case .keyNotConfigured(let key, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(key == .a)
        }
        #expect(sink.heldKeys.isEmpty)
        #expect(emitted().isEmpty)
    }

    @Test("the recorder stamps transitions with the injected clock and groups them into reports")
    func recorderTimestamps() throws {
        let clock = VirtualFrameClock(startNanoseconds: 1_000_000_000)
        let sink = RecordingKeySink(clock: clock)  // no config: any key
        clock.advance(byNanoseconds: 200_000_000)
        try sink.press(keys: [.leftControl, .a])
        clock.advance(byNanoseconds: 450_000_000)
        try sink.releaseAll()
        #expect(
            sink.events == [
                RecordedKeyEvent(timeNanoseconds: 1_200_000_000, key: .leftControl, direction: .down, report: 0),
                RecordedKeyEvent(timeNanoseconds: 1_200_000_000, key: .a, direction: .down, report: 0),
                RecordedKeyEvent(timeNanoseconds: 1_650_000_000, key: .a, direction: .up, report: 1),
                RecordedKeyEvent(timeNanoseconds: 1_650_000_000, key: .leftControl, direction: .up, report: 1),
            ])
        #expect(sink.transcript == ["KEY_LEFTCTRL down", "KEY_A down", "KEY_A up", "KEY_LEFTCTRL up"])
        #expect(sink.events[0].description == "1.200000000 s KEY_LEFTCTRL down")
    }

    @Test("dry-run reports what it would press and holds the keys in its bookkeeping only")
    func dryRunReports() throws {
        let log = ActionLog()
        let sink = DryRunKeySink(keys: keys) { log.actions.append($0.description) }
        try sink.press(keys: [.up])
        #expect(sink.heldKeys == [.up])
        try sink.close()
        #expect(log.actions == ["press KEY_UP", "release KEY_UP"])
    }

    @Test("openKeySink: uinput when it opens; dry-run plus the reason when it does not; dry-run on request")
    func opening() throws {
        // Fake: the uinput driver; first working, then refusing open with EACCES (no udev rule).
        let working = FakeUInputSystem()
        let opened = openKeySink(keys: keys, dryRun: false, system: working) { _ in }
        #expect(opened.sink is UInputKeySink)
        #expect(opened.fallbackReason == nil)

        let refusing = FakeUInputSystem()
        refusing.openError = EACCES
        let log = ActionLog()
        let fallback = openKeySink(keys: keys, dryRun: false, system: refusing) { log.actions.append($0.description) }
        #expect(fallback.sink is DryRunKeySink)
        #expect(fallback.fallbackReason == .uinputOpenFailed(path: "/dev/uinput", errno: Errno(rawValue: EACCES)))
        try fallback.sink.press(keys: [.up])
        #expect(log.actions == ["press KEY_UP"])
        #expect(refusing.writes.isEmpty)

        let untouched = FakeUInputSystem()
        let dryRun = openKeySink(keys: keys, dryRun: true, system: untouched) { _ in }
        #expect(dryRun.sink is DryRunKeySink)
        #expect(dryRun.fallbackReason == nil)
        #expect(untouched.calls.isEmpty)
    }
}
