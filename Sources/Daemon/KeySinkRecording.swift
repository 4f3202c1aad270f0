// RecordingKeySink: the key sink for tests and the end-to-end daemon test. It keeps the same
// bookkeeping as the real virtual keyboard (configured keys, no double press, reverse-order release,
// idempotent releaseAll/close) and records every key transition with its time on an injected clock,
// so a test on virtual time can assert "KEY_UP down at 1.20 s, up at 1.65 s".
import SystemSupport
import Capture

/// One recorded key transition.
public struct RecordedKeyEvent: Equatable, Sendable, CustomStringConvertible {
    /// Whether the key went down or up.
    public enum Direction: Equatable, Sendable {
        case down, up
    }

    /// When it happened, in the injected clock's nanoseconds.
    public var timeNanoseconds: UInt64
    /// The key.
    public var key: KeyCode
    /// Down or up.
    public var direction: Direction
    /// Which report (press/release group, one SYN_REPORT on a real device) it belongs to, from 0.
    public var report: Int

    public init(timeNanoseconds: UInt64, key: KeyCode, direction: Direction, report: Int) {
        self.timeNanoseconds = timeNanoseconds
        self.key = key
        self.direction = direction
        self.report = report
    }

    /// "1.200000000 s KEY_UP down".
    public var description: String {
        let seconds = timeNanoseconds / 1_000_000_000
        let fraction = String(timeNanoseconds % 1_000_000_000)
        let padded = String(repeating: "0", count: 9 - fraction.count) + fraction
        return "\(seconds).\(padded) s \(key) \(direction == .down ? "down" : "up")"
    }
}

/// A key sink that records timestamped transitions instead of injecting them.
public final class RecordingKeySink: KeySink {
    /// Every transition so far, in order.
    public private(set) var events: [RecordedKeyEvent] = []
    /// Whether `close()` has run.
    public private(set) var isClosed = false
    /// The keys currently held down, in press order.
    public var heldKeys: [KeyCode] { book.held }

    private var book: HeldKeyBook
    private let clock: any FrameClock
    private var reportCount = 0

    /// A recorder allowing `keys` (nil: any key), timestamping with `clock`.
    public init(keys: Set<KeyCode>? = nil, clock: any FrameClock = SystemFrameClock()) {
        self.book = HeldKeyBook(configuredKeys: keys, device: "the recording key sink")
        self.clock = clock
    }

    public func press(keys: [KeyCode]) throws(DaemonError) {
        guard !isClosed else { throw DaemonError.keySinkClosed(device: book.device) }
        let keys = try book.keysToPress(keys)
        record(keys, .down)
        book.markPressed(keys)
    }

    public func release(keys: [KeyCode]) throws(DaemonError) {
        guard !isClosed else { throw DaemonError.keySinkClosed(device: book.device) }
        let keys = try book.keysToRelease(keys)
        record(keys, .up)
        book.markReleased(keys)
    }

    public func releaseAll() throws(DaemonError) {
        guard !isClosed else { return }
        let keys = book.keysToReleaseAll
        record(keys, .up)
        book.markReleased(keys)
    }

    public func close() throws(DaemonError) {
        guard !isClosed else { return }
        try releaseAll()
        isClosed = true
    }

    /// The transitions as "KEY_UP down" strings, without times (for compact assertions).
    public var transcript: [String] { events.map { "\($0.key) \($0.direction == .down ? "down" : "up")" } }

    private func record(_ keys: [KeyCode], _ direction: RecordedKeyEvent.Direction) {
        guard !keys.isEmpty else { return }
        let now = clock.nowNanoseconds
        for key in keys {
            events.append(RecordedKeyEvent(timeNanoseconds: now, key: key, direction: direction, report: reportCount))
        }
        reportCount += 1
    }
}
