// SettingsError: the one way loading the config fails for a caller that needs a usable config — the
// file (or a command-line value) has errors, each a diagnostic carrying its file:line:column or flag.
import Foundation

/// A config that cannot be used; `description` lists every error and says what to do.
public enum SettingsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The config file or command-line values have errors (see `gesturepad config check`).
    case configInvalid(file: String, diagnostics: [ConfigDiagnostic])

    public var description: String { describe(then: "start again.") }

    /// The errors, then "Fix them … and `then`" (a reload says it keeps the running configuration meanwhile).
    public func describe(then: String) -> String {
        switch self {
        case .configInvalid(let file, let diagnostics):
            let count = diagnostics.count == 1 ? "1 error" : "\(diagnostics.count) errors"
            return "The config \(file) has \(count):\n"
                + diagnostics.map { "  \($0)" }.joined(separator: "\n")
                + "\nFix them (run `gesturepad config check` to list them again) and \(then)"
        }
    }
}
