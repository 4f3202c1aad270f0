// DryRunKeySink: `gesturepad daemon --dry-run`, and the fallback when /dev/uinput is missing or not
// writable. It recognises and reports but injects nothing: each press/release group goes to a
// closure (the executable prints or logs it; libraries never print). Same bookkeeping as the real
// virtual keyboard, so a dry run also catches chords using keys the config does not map.

/// A key sink that only reports what it would press.
public final class DryRunKeySink: KeySink {
    /// Whether `close()` has run.
    public private(set) var isClosed = false
    /// The keys that would be held down now, in press order.
    public var heldKeys: [KeyCode] { book.held }

    private var book: HeldKeyBook
    private let report: (KeySinkAction) -> Void

    /// A dry-run sink allowing `keys` (nil: any key); `report` receives each group it would send.
    public init(keys: Set<KeyCode>?, report: @escaping (KeySinkAction) -> Void) {
        self.book = HeldKeyBook(configuredKeys: keys, device: "the dry-run key sink")
        self.report = report
    }

    public func press(keys: [KeyCode]) throws(DaemonError) {
        guard !isClosed else { throw DaemonError.keySinkClosed(device: book.device) }
        let keys = try book.keysToPress(keys)
        guard !keys.isEmpty else { return }
        book.markPressed(keys)
        report(.press(keys))
    }

    public func release(keys: [KeyCode]) throws(DaemonError) {
        guard !isClosed else { throw DaemonError.keySinkClosed(device: book.device) }
        let keys = try book.keysToRelease(keys)
        guard !keys.isEmpty else { return }
        book.markReleased(keys)
        report(.release(keys))
    }

    public func releaseAll() throws(DaemonError) {
        guard !isClosed else { return }
        let keys = book.keysToReleaseAll
        guard !keys.isEmpty else { return }
        book.markReleased(keys)
        report(.release(keys))
    }

    public func close() throws(DaemonError) {
        guard !isClosed else { return }
        try releaseAll()
        isClosed = true
    }
}
