// DaemonError: every way the background service, its config, key output, control socket and
// systemd notification can fail. Each case names the file:line, device, socket or syscall and says
// what to do. Several people add cases here: append new cases and their descriptions.
import Gestures

/// A typed failure of the Daemon library; `description` is a complete sentence for the user.
public enum DaemonError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A gestures-library failure (samples, heads, recognizer).
    case gestures(GesturesError)
    /// The control socket's default path needs `XDG_RUNTIME_DIR`, which is unset.
    case controlRuntimeDirectoryUnset
    /// The control socket path is longer than a Unix socket address holds.
    case controlSocketPathTooLong(path: String, limit: Int)
    /// The control socket's directory cannot be used (not a directory, cannot be created).
    case controlDirectoryUnusable(path: String, reason: String)
    /// Another daemon holds the control lock.
    case daemonAlreadyRunning(pid: Int32?, lockPath: String)
    /// Something that is not a socket sits where the control socket should be.
    case controlSocketOccupied(path: String)
    /// A system call on the control socket or its files failed.
    case controlSocketCall(call: String, path: String, errno: Int32)
    /// Binding the control socket failed.
    case controlBindFailed(path: String, reason: String)
    /// No daemon listens on the control socket.
    case daemonNotRunning(socketPath: String)
    /// The daemon closed the connection before replying.
    case controlConnectionClosed(socketPath: String)
    /// The daemon did not reply in time.
    case controlTimeout(socketPath: String, seconds: Double)
    /// The daemon's reply is not a valid control-protocol line.
    case controlReplyMalformed(line: String)
    /// The daemon answered a command with `"ok":false`.
    case controlCommandFailed(command: String, code: String, message: String)

    public var description: String {
        switch self {
        case .gestures(let error): return error.description
        case .controlRuntimeDirectoryUnset:
            return "XDG_RUNTIME_DIR is not set, so the control socket has no default place; pass --socket PATH, "
                + "or log in through a systemd session (for a headless user: loginctl enable-linger $USER)"
        case .controlSocketPathTooLong(let path, let limit):
            return "control socket path \(path) is \(path.utf8.count) bytes, longer than the \(limit) "
                + "a Unix socket allows; choose a shorter --socket path"
        case .controlDirectoryUnusable(let path, let reason):
            return "cannot use \(path) for the control socket: \(reason); fix or remove it, or pass --socket PATH"
        case .daemonAlreadyRunning(let pid, let lockPath):
            let owner = pid.map { "pid \($0)" } ?? "pid unknown"
            return "another gesturepad daemon is running (\(owner), lock \(lockPath)); stop it first "
                + "(systemctl --user stop gesturepad) or use another --socket"
        case .controlSocketOccupied(let path):
            return "\(path) exists and is not a socket; remove it or pass another --socket path"
        case .controlSocketCall(let call, let path, let code):
            return "\(call)(\(path)) failed: \(systemErrorMessage(code)) (errno \(code)); "
                + "check the path and its permissions"
        case .controlBindFailed(let path, let reason):
            return "cannot listen on control socket \(path): \(reason); "
                + "check the directory's permissions or pass --socket PATH"
        case .daemonNotRunning(let socketPath):
            return "gesturepad daemon not running (no listener on \(socketPath)); start it with "
                + "`systemctl --user start gesturepad` or `gesturepad daemon`"
        case .controlConnectionClosed(let socketPath):
            return "the daemon closed the connection on \(socketPath) without replying; "
                + "see its log (journalctl --user -u gesturepad)"
        case .controlTimeout(let socketPath, let seconds):
            return "the daemon on \(socketPath) did not reply within \(seconds) s; "
                + "it may be busy or hung (journalctl --user -u gesturepad)"
        case .controlReplyMalformed(let line):
            return "the daemon sent a reply this client cannot read: \(line.prefix(200)); "
                + "are client and daemon the same version?"
        case .controlCommandFailed(let command, let code, let message):
            return "\(command) failed (\(code)): \(message)"
        }
    }
}
