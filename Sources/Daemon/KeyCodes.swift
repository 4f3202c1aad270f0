// Key names → Linux evdev key codes, and chords ("KEY_LEFTCTRL+KEY_C") as the config writes them.
// The names are exactly the kernel's <linux/input-event-codes.h> macro names, so users can look
// them up with `evtest` or `libinput debug-events`. The table is hand-written: Swift cannot import
// the header's #defines as a name list, and no Swift package maps evdev names to codes (keyd and
// input-remapper keep their own tables too). It covers the keys a gesture is likely to press:
// letters, digits, punctuation, arrows, navigation, F1–F24, modifiers, keypad and media keys.
// `KeyCodesTests` checks a sample against the kernel header's compile-time values (CUInput).
import Settings

/// A Linux input key code (`EV_KEY` code), such as 103 for `KEY_UP`.
public struct KeyCode: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The evdev code from <linux/input-event-codes.h>.
    public let rawValue: UInt16

    /// Wraps a raw evdev code (any value; `name` is nil for codes outside the table).
    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// Looks up a kernel key name such as "KEY_UP"; nil when the table does not know it.
    public init?(name: String) {
        guard let code = KeyCode.codesByName[name] else { return nil }
        self.rawValue = code
    }

    /// The kernel name ("KEY_UP"), or nil for a code outside the table.
    public var name: String? { KeyCode.namesByCode[rawValue] }

    /// The kernel name, or "key code N" for a code outside the table.
    public var description: String { name ?? "key code \(rawValue)" }

    public static func < (left: KeyCode, right: KeyCode) -> Bool { left.rawValue < right.rawValue }

    /// Every key name this table knows, sorted by code.
    public static var allNames: [String] { table.map(\.name) }

    /// Parses one key name, throwing `DaemonError.unknownKeyName` (with a close match if any) otherwise.
    public static func parse(_ token: String, in text: String? = nil) throws(DaemonError) -> KeyCode {
        let trimmed = token.trimmingWhitespace()
        if let key = KeyCode(name: trimmed) { return key }
        throw DaemonError.unknownKeyName(token: trimmed, text: text ?? trimmed, suggestion: suggestion(for: trimmed))
    }

    /// A likely intended name for a token the table does not know: the same name upper-cased and/or
    /// with the missing "KEY_" prefix ("up" → "KEY_UP", "key_a" → "KEY_A").
    static func suggestion(for token: String) -> String? {
        let upper = token.uppercased()
        for candidate in [upper, "KEY_" + upper] where KeyCode(name: candidate) != nil {
            return candidate
        }
        return nil
    }

    // MARK: - The table (values from <linux/input-event-codes.h>, Linux 6.1)

    static let table: [(name: String, code: UInt16)] = [
        ("KEY_ESC", 1),
        ("KEY_1", 2), ("KEY_2", 3), ("KEY_3", 4), ("KEY_4", 5), ("KEY_5", 6),
        ("KEY_6", 7), ("KEY_7", 8), ("KEY_8", 9), ("KEY_9", 10), ("KEY_0", 11),
        ("KEY_MINUS", 12), ("KEY_EQUAL", 13), ("KEY_BACKSPACE", 14), ("KEY_TAB", 15),
        ("KEY_Q", 16), ("KEY_W", 17), ("KEY_E", 18), ("KEY_R", 19), ("KEY_T", 20),
        ("KEY_Y", 21), ("KEY_U", 22), ("KEY_I", 23), ("KEY_O", 24), ("KEY_P", 25),
        ("KEY_LEFTBRACE", 26), ("KEY_RIGHTBRACE", 27), ("KEY_ENTER", 28), ("KEY_LEFTCTRL", 29),
        ("KEY_A", 30), ("KEY_S", 31), ("KEY_D", 32), ("KEY_F", 33), ("KEY_G", 34),
        ("KEY_H", 35), ("KEY_J", 36), ("KEY_K", 37), ("KEY_L", 38),
        ("KEY_SEMICOLON", 39), ("KEY_APOSTROPHE", 40), ("KEY_GRAVE", 41), ("KEY_LEFTSHIFT", 42),
        ("KEY_BACKSLASH", 43),
        ("KEY_Z", 44), ("KEY_X", 45), ("KEY_C", 46), ("KEY_V", 47), ("KEY_B", 48),
        ("KEY_N", 49), ("KEY_M", 50),
        ("KEY_COMMA", 51), ("KEY_DOT", 52), ("KEY_SLASH", 53), ("KEY_RIGHTSHIFT", 54),
        ("KEY_KPASTERISK", 55), ("KEY_LEFTALT", 56), ("KEY_SPACE", 57), ("KEY_CAPSLOCK", 58),
        ("KEY_F1", 59), ("KEY_F2", 60), ("KEY_F3", 61), ("KEY_F4", 62), ("KEY_F5", 63),
        ("KEY_F6", 64), ("KEY_F7", 65), ("KEY_F8", 66), ("KEY_F9", 67), ("KEY_F10", 68),
        ("KEY_NUMLOCK", 69), ("KEY_SCROLLLOCK", 70),
        ("KEY_KP7", 71), ("KEY_KP8", 72), ("KEY_KP9", 73), ("KEY_KPMINUS", 74),
        ("KEY_KP4", 75), ("KEY_KP5", 76), ("KEY_KP6", 77), ("KEY_KPPLUS", 78),
        ("KEY_KP1", 79), ("KEY_KP2", 80), ("KEY_KP3", 81), ("KEY_KP0", 82), ("KEY_KPDOT", 83),
        ("KEY_102ND", 86), ("KEY_F11", 87), ("KEY_F12", 88),
        ("KEY_KPENTER", 96), ("KEY_RIGHTCTRL", 97), ("KEY_KPSLASH", 98), ("KEY_SYSRQ", 99),
        ("KEY_RIGHTALT", 100),
        ("KEY_HOME", 102), ("KEY_UP", 103), ("KEY_PAGEUP", 104), ("KEY_LEFT", 105),
        ("KEY_RIGHT", 106), ("KEY_END", 107), ("KEY_DOWN", 108), ("KEY_PAGEDOWN", 109),
        ("KEY_INSERT", 110), ("KEY_DELETE", 111),
        ("KEY_MUTE", 113), ("KEY_VOLUMEDOWN", 114), ("KEY_VOLUMEUP", 115),
        ("KEY_KPEQUAL", 117), ("KEY_PAUSE", 119),
        ("KEY_LEFTMETA", 125), ("KEY_RIGHTMETA", 126), ("KEY_COMPOSE", 127),
        ("KEY_BACK", 158), ("KEY_FORWARD", 159),
        ("KEY_NEXTSONG", 163), ("KEY_PLAYPAUSE", 164), ("KEY_PREVIOUSSONG", 165), ("KEY_STOPCD", 166),
        ("KEY_F13", 183), ("KEY_F14", 184), ("KEY_F15", 185), ("KEY_F16", 186), ("KEY_F17", 187),
        ("KEY_F18", 188), ("KEY_F19", 189), ("KEY_F20", 190), ("KEY_F21", 191), ("KEY_F22", 192),
        ("KEY_F23", 193), ("KEY_F24", 194),
        ("KEY_PLAYCD", 200), ("KEY_PAUSECD", 201),
        ("KEY_BRIGHTNESSDOWN", 224), ("KEY_BRIGHTNESSUP", 225),
    ]

    static let codesByName: [String: UInt16] = Dictionary(uniqueKeysWithValues: table.map { ($0.name, $0.code) })
    static let namesByCode: [UInt16: String] = Dictionary(uniqueKeysWithValues: table.map { ($0.code, $0.name) })
}

/// Named keys for code and tests (`KeyCode.up`); the config names keys by their kernel names instead.
extension KeyCode {
    public static let escape = KeyCode(rawValue: 1)
    public static let a = KeyCode(rawValue: 30)
    public static let c = KeyCode(rawValue: 46)
    public static let v = KeyCode(rawValue: 47)
    public static let enter = KeyCode(rawValue: 28)
    public static let space = KeyCode(rawValue: 57)
    public static let leftControl = KeyCode(rawValue: 29)
    public static let leftShift = KeyCode(rawValue: 42)
    public static let leftAlt = KeyCode(rawValue: 56)
    public static let leftMeta = KeyCode(rawValue: 125)
    public static let up = KeyCode(rawValue: 103)
    public static let down = KeyCode(rawValue: 108)
    public static let left = KeyCode(rawValue: 105)
    public static let right = KeyCode(rawValue: 106)
}

/// Keys pressed together, in order: "KEY_LEFTCTRL+KEY_C" presses Ctrl then C and releases C then Ctrl.
public struct KeyChord: Hashable, Sendable, CustomStringConvertible {
    /// The keys in press order; never empty, no key twice.
    public let keys: [KeyCode]

    /// A chord of `keys` in press order (the caller guarantees non-empty and distinct; `parse` checks).
    public init(_ keys: [KeyCode]) {
        self.keys = keys
    }

    /// Parses "KEY_A" or "KEY_LEFTCTRL+KEY_LEFTSHIFT+KEY_T" (spaces around "+" allowed).
    ///
    /// Throws `DaemonError.emptyKeyChord` for an empty text or an empty part ("KEY_A+"),
    /// `.unknownKeyName` naming the bad token, `.repeatedKeyInChord` for "KEY_A+KEY_A".
    public static func parse(_ text: String) throws(DaemonError) -> KeyChord {
        let parts = text.split(separator: "+", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }
        guard !parts.isEmpty, !parts.contains(where: \.isEmpty) else { throw DaemonError.emptyKeyChord(text: text) }
        var keys: [KeyCode] = []
        for part in parts {
            let key = try KeyCode.parse(part, in: text)
            guard !keys.contains(key) else { throw DaemonError.repeatedKeyInChord(token: part, text: text) }
            keys.append(key)
        }
        return KeyChord(keys)
    }

    /// "KEY_LEFTCTRL+KEY_C".
    public var description: String { keys.map(\.description).joined(separator: "+") }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    fileprivate func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}

/// The evdev key-name table as the config checker's catalog (unknown names get "did you mean …?").
public struct EvdevKeyNames: KeyNameCatalog {
    public init() {}
    public func contains(keyName name: String) -> Bool { KeyCode(name: name) != nil }
    public var keyNames: [String] { KeyCode.allNames }
}

extension KeyNameChord {
    /// The chord as key codes (every name was checked against `EvdevKeyNames` when the config loaded).
    public func keyChord() throws(DaemonError) -> KeyChord { try KeyChord.parse(keyNames.joined(separator: "+")) }
}
