// KeySink: the narrow key-output interface the daemon presses keys through (keyd `vkbd.h` style):
// press/release chords, release everything, close. Three implementations: `UInputKeySink` (the
// kernel's uinput), `RecordingKeySink` (records timestamped events for tests) and `DryRunKeySink`
// (reports what it would press). Invariants shared by all three (`HeldKeyBook`): only configured
// keys can be pressed, a held key is not pressed twice, releases go in reverse press order, and
// `releaseAll`/`close` are idempotent — every stop path (stop, pause, reload, camera loss, error,
// signal) calls `releaseAll` or `close` and nothing stays held.

/// Where key presses go: a virtual keyboard, a recorder or a dry-run reporter.
public protocol KeySink: AnyObject {
    /// The keys currently held down, in the order they were pressed.
    var heldKeys: [KeyCode] { get }

    /// Presses `keys` together, in order (a chord: Ctrl then C); keys already held are skipped.
    /// Throws `.keyNotConfigured` (nothing pressed) for a key outside the configured set.
    func press(keys: [KeyCode]) throws(DaemonError)

    /// Releases those of `keys` that are held, in reverse order (C then Ctrl).
    func release(keys: [KeyCode]) throws(DaemonError)

    /// Releases every held key, last pressed first; does nothing when none is held or after `close`.
    func releaseAll() throws(DaemonError)

    /// Releases every held key and gives the output up; idempotent. Afterwards no key counts as held,
    /// even when a release failed (closing a real device makes the kernel release its keys).
    func close() throws(DaemonError)
}

extension KeySink {
    /// Presses the chord's keys in order.
    public func press(_ chord: KeyChord) throws(DaemonError) { try press(keys: chord.keys) }

    /// Releases the chord's keys in reverse order.
    public func release(_ chord: KeyChord) throws(DaemonError) { try release(keys: chord.keys) }
}

/// One thing a key sink did (or, in dry-run, would have done): a group of keys going down or up.
public enum KeySinkAction: Equatable, Sendable, CustomStringConvertible {
    /// Keys pressed together, in press order.
    case press([KeyCode])
    /// Keys released together, in release order.
    case release([KeyCode])

    /// "press KEY_LEFTCTRL+KEY_C", "release KEY_C+KEY_LEFTCTRL".
    public var description: String {
        switch self {
        case .press(let keys): return "press " + keys.map(\.description).joined(separator: "+")
        case .release(let keys): return "release " + keys.map(\.description).joined(separator: "+")
        }
    }
}

// MARK: - Opening key output

/// The sink the daemon should use, and why it is a dry run when uinput could not be opened.
public struct KeySinkOpening {
    /// The sink to press keys through.
    public let sink: any KeySink
    /// Why key output fell back to dry-run (uinput missing or not writable); nil when it did not.
    public let fallbackReason: DaemonError?
}

/// Opens key output for `keys`: a dry-run sink when `dryRun` is set, otherwise the uinput virtual
/// keyboard — and a dry-run sink plus the reason when uinput cannot be set up, so the daemon (and
/// its control socket) keeps running. `report` receives what the dry-run sink would press.
public func openKeySink(
    keys: Set<KeyCode>,
    dryRun: Bool,
    path: String = UInputKeySink.defaultPath,
    system: any UInputSystem = LinuxUInputSystem(),
    report: @escaping (KeySinkAction) -> Void
) -> KeySinkOpening {
    if dryRun { return KeySinkOpening(sink: DryRunKeySink(keys: keys, report: report), fallbackReason: nil) }
    do {
        return KeySinkOpening(sink: try UInputKeySink(keys: keys, path: path, system: system), fallbackReason: nil)
    } catch {
        return KeySinkOpening(sink: DryRunKeySink(keys: keys, report: report), fallbackReason: error)
    }
}

// MARK: - Held-key bookkeeping shared by the sinks

/// Which keys a sink may press and which it holds; plans each press/release group.
struct HeldKeyBook {
    /// The keys that may be pressed; nil allows every key (a recorder with no config).
    let configuredKeys: Set<KeyCode>?
    /// The sink's name for errors ("gesturepad virtual keyboard (/dev/uinput)").
    let device: String
    /// Held keys in press order.
    private(set) var held: [KeyCode] = []

    init(configuredKeys: Set<KeyCode>?, device: String) {
        self.configuredKeys = configuredKeys
        self.device = device
    }

    /// Throws `.keyNotConfigured` for the first key outside the configured set.
    func checkConfigured(_ keys: [KeyCode]) throws(DaemonError) {
        guard let configuredKeys else { return }
        if let stranger = keys.first(where: { !configuredKeys.contains($0) }) {
            throw DaemonError.keyNotConfigured(key: stranger, device: device)
        }
    }

    /// The keys a press of `keys` puts down: in order, without repeats or keys already held.
    func keysToPress(_ keys: [KeyCode]) throws(DaemonError) -> [KeyCode] {
        try checkConfigured(keys)
        var result: [KeyCode] = []
        for key in keys where !held.contains(key) && !result.contains(key) { result.append(key) }
        return result
    }

    /// The held keys among `keys`, in reverse order of `keys` (the chord's last key first).
    func keysToRelease(_ keys: [KeyCode]) throws(DaemonError) -> [KeyCode] {
        try checkConfigured(keys)
        var result: [KeyCode] = []
        for key in keys.reversed() where held.contains(key) && !result.contains(key) { result.append(key) }
        return result
    }

    /// Every held key, last pressed first.
    var keysToReleaseAll: [KeyCode] { held.reversed() }

    mutating func markPressed(_ keys: some Sequence<KeyCode>) { held.append(contentsOf: keys) }

    mutating func markReleased(_ keys: some Sequence<KeyCode>) {
        let released = Set(keys)
        held.removeAll { released.contains($0) }
    }

    mutating func forgetAll() { held.removeAll() }
}
