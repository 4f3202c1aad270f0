// DaemonError: every way the background service, its config, key output, control socket and
// systemd notification can fail. Each case names the file:line, device, socket or syscall and says
// what to do. Several people add cases here: append new cases and their descriptions.
import Gestures

/// A typed failure of the Daemon library; `description` is a complete sentence for the user.
public enum DaemonError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A gestures-library failure (samples, heads, recognizer).
    case gestures(GesturesError)
    /// The config file has errors; each diagnostic carries its file:line (see `gesturepad config check`).
    case configInvalid(file: String, diagnostics: [ConfigDiagnostic])

    public var description: String {
        switch self {
        case .gestures(let error): return error.description
        case .configInvalid(let file, let diagnostics):
            let count = diagnostics.count == 1 ? "1 error" : "\(diagnostics.count) errors"
            return "The config \(file) has \(count):\n"
                + diagnostics.map { "  \($0)" }.joined(separator: "\n")
                + "\nFix them (run `gesturepad config check` to list them again) and start again."
        }
    }
}
