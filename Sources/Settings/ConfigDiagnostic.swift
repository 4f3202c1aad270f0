// ConfigDiagnostic: one problem (or note) found in a config file, printed the way compilers print
// them — `file:line:column: error: message; hint` — so editors can jump to it. Also the key-name
// checks shared by [keys] and the pause hotkey (the edit distance behind "did you mean …?" is Gestures' `Spelling`,
// shared with the label checks).
import Foundation

/// One problem or note about a config file, with its place in the file when known.
public struct ConfigDiagnostic: Sendable, Equatable, CustomStringConvertible {
    /// How bad a diagnostic is.
    public enum Severity: String, Sendable, Equatable, Comparable {
        /// Informational (e.g. "no config file, using built-in defaults").
        case note
        /// Works, but probably not what was meant (e.g. two labels on the same key).
        case warning
        /// The file cannot be used as written.
        case error

        private var rank: Int {
            switch self {
            case .note: 0
            case .warning: 1
            case .error: 2
            }
        }

        public static func < (left: Severity, right: Severity) -> Bool { left.rank < right.rank }
    }

    /// The file the problem is in ("<built-in>" for the defaults).
    public var file: String
    /// 1-based line, nil for problems of the whole file (e.g. it cannot be read).
    public var line: Int?
    /// 1-based column (Unicode scalars), nil when unknown.
    public var column: Int?
    /// How bad it is.
    public var severity: Severity
    /// What is wrong, naming the key and value.
    public var message: String
    /// What to do about it (e.g. "did you mean 'dwell_ms'?"), when there is a good suggestion.
    public var hint: String?

    /// A diagnostic at `position` (nil: the whole file).
    public init(file: String, position: TOMLPosition?, severity: Severity, message: String, hint: String? = nil) {
        self.file = file
        line = position?.line
        column = position?.column
        self.severity = severity
        self.message = message
        self.hint = hint
    }

    /// `file:line:column: severity: message; hint` (line and column left out when unknown).
    public var description: String {
        var place = file
        if let line {
            place += ":\(line)"
            if let column { place += ":\(column)" }
        }
        return "\(place): \(severity.rawValue): \(message)" + (hint.map { "; \($0)" } ?? "")
    }
}

/// Answers which `KEY_*` names exist; the key-code table implements it so config checks can reject
/// names like `KEY_UPP` (without it, only the syntax `KEY_[A-Z0-9_]+` is checked).
public protocol KeyNameCatalog: Sendable {
    /// Whether `name` (e.g. "KEY_UP") is a known key.
    func contains(keyName name: String) -> Bool
    /// Every known name, for "did you mean …?" suggestions.
    var keyNames: [String] { get }
}

/// A key or a chord of keys pressed together, by Linux input-event names ("KEY_LEFTCTRL+KEY_C").
public struct KeyNameChord: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The key names in press order (modifiers first, as written).
    public var keyNames: [String]

    /// A chord of `keyNames`; call `KeyNameChord.parse` to check text from a file.
    public init(_ keyNames: [String]) { self.keyNames = keyNames }

    /// "KEY_LEFTCTRL+KEY_C".
    public var description: String { keyNames.joined(separator: "+") }

    /// Why a chord text is not valid; `message` says what to write.
    public struct SyntaxError: Error, Sendable, Equatable {
        /// What is wrong and what is expected.
        public var message: String
    }

    /// Parses "KEY_A" or "KEY_LEFTCTRL+KEY_C" (spaces around '+' allowed): each name `KEY_[A-Z0-9_]+`, no repeats.
    public static func parse(_ text: String) -> Result<KeyNameChord, SyntaxError> {
        let names = text.split(separator: "+", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        for name in names where !isValidKeyName(name) {
            let shown = name.isEmpty ? "an empty name" : "'\(name)'"
            return .failure(
                SyntaxError(
                    message: "\(shown) is not a key name: expected KEY_ followed by A–Z, 0–9 or '_' "
                        + "(e.g. \"KEY_UP\", chords as \"KEY_LEFTCTRL+KEY_C\")"))
        }
        if Set(names).count != names.count {
            return .failure(SyntaxError(message: "a key appears twice in the chord \"\(text)\""))
        }
        return .success(KeyNameChord(names))
    }

    /// Whether `name` matches `KEY_[A-Z0-9_]+`.
    public static func isValidKeyName(_ name: String) -> Bool {
        name.hasPrefix("KEY_") && name.count > 4
            && name.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
