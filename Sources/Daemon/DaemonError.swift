// DaemonError: every way the background service, its config, key output, control socket and
// systemd notification can fail. Each case names the file:line, device, socket or syscall and says
// what to do. Several people add cases here: append new cases and their descriptions.
import Capture
import Gestures
import Glibc
import Settings
import SystemSupport

/// A typed failure of the Daemon library; `description` is a complete sentence for the user.
public enum DaemonError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A gestures-library failure (samples, heads, recognizer).
    case gestures(GesturesError)
    /// The camera share (`[camera] share_device`) could not be opened: not a v4l2loopback node, the camera itself, …
    case cameraShare(CaptureError)
    /// The config file has errors; each diagnostic carries its file:line (see `gesturepad config check`).
    case settings(SettingsError)
    /// A reload found errors in the config; the daemon keeps running on the configuration it had.
    case reloadConfigInvalid(SettingsError)
    /// On reload, the config file the daemon runs from is gone: the running config is kept, not the defaults.
    case configFileRemoved(path: String)

    // MARK: Key output (uinput) and key names

    /// open(2) of the uinput node failed: ENOENT/ENODEV/ENXIO (no uinput in the kernel),
    /// EACCES/EPERM (no udev rule granting access), or something else. The daemon goes on in dry-run.
    case uinputOpenFailed(path: String, errno: Errno)
    /// A uinput ioctl ("ioctl(UI_SET_KEYBIT)", UI_DEV_SETUP, UI_DEV_CREATE, UI_DEV_DESTROY) or close failed.
    case uinputCallFailed(call: String, path: String, errno: Errno)
    /// write(2) of key events failed (EAGAIN: the kernel's queue is full; ENODEV: the device is gone).
    case uinputWriteFailed(path: String, errno: Errno, action: String)
    /// write(2) wrote fewer bytes than the events it was given (only whole events reached the kernel).
    case uinputShortWrite(path: String, bytesWritten: Int, bytesExpected: Int)
    /// A key the config does not map was asked for; the device only has the configured keys enabled.
    case keyNotConfigured(key: KeyCode, device: String)
    /// press/release on a key sink after `close()`.
    case keySinkClosed(device: String)
    /// A key name the table does not know, in a key or chord text from the config.
    case unknownKeyName(token: String, text: String, suggestion: String?)
    /// An empty chord, or an empty part in one ("KEY_A+").
    case emptyKeyChord(text: String)
    /// The same key twice in one chord ("KEY_A+KEY_A").
    case repeatedKeyInChord(token: String, text: String)

    // MARK: systemd notification

    /// $NOTIFY_SOCKET is neither an absolute path nor an abstract "@name", or is too long for sun_path.
    case notifySocketInvalid(value: String)
    /// socket(2) or sendto(2) to $NOTIFY_SOCKET failed.
    case notifyFailed(call: String, socket: String, errno: Errno)
    /// The control socket's default path needs `XDG_RUNTIME_DIR`, which is unset.
    case controlRuntimeDirectoryUnset
    /// The control socket path is longer than a Unix socket address holds.
    case controlSocketPathTooLong(path: String, limit: Int)
    /// The control socket's directory cannot be used (not a directory, cannot be created).
    case controlDirectoryUnusable(path: String, reason: String)
    /// A directory or file of the control socket fails the ownership checks (issue 15 item 4): `found` says what
    /// it is (a symbolic link, mode 0777, owned by uid 1001, …), `expected` what it must be.
    case controlPathUntrusted(path: String, found: String, expected: String)
    /// The process listening on the control socket runs as another user (SO_PEERCRED).
    case controlPeerUntrusted(socketPath: String, peerUID: UInt32, ownUID: UInt32)
    /// Another daemon holds the control lock.
    case daemonAlreadyRunning(pid: Int32?, lockPath: String)
    /// Something that is not a socket sits where the control socket should be.
    case controlSocketOccupied(path: String)
    /// A system call on the control socket or its files failed.
    case controlSocketCall(call: String, path: String, errno: Errno)
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
    /// A `record` request cannot start: the daemon is paused, stopping, or its source has ended.
    case recordingRefused(label: String, state: DaemonState, reason: String)
    /// Releasing held keys failed on a stop path (each failure was logged and sent as an event when it happened).
    case keyReleaseFailed(failures: [String])
    /// The decision filter failed while the daemon ran (each failure was logged and sent as an event when it happened):
    /// keys stayed up from then on, so gestures may have gone unanswered.
    case filterFailed(failures: [String])

    public var description: String {
        switch self {
        case .gestures(let error): return error.description
        case .cameraShare(let error): return "cannot share the camera ([camera] share_device): \(error.description)"
        case .uinputOpenFailed(let path, let errorNumber):
            let failed =
                "Cannot open \(path) for the gesturepad virtual keyboard: open(2) failed with \(errorNumber.summary)."
            let continues =
                " The daemon keeps running in dry-run: it recognises gestures and answers on its control"
                + " socket but presses no keys."
            switch errorNumber.rawValue {
            case ENOENT, ENODEV, ENXIO:
                return failed + " The kernel has no uinput: load it with `sudo modprobe uinput` (and add `uinput` to"
                    + " /etc/modules-load.d/ to keep it)." + continues
            case EACCES, EPERM:
                return failed + " Install the udev rule systemd/70-gesturepad-uinput.rules as"
                    + " /etc/udev/rules.d/70-gesturepad-uinput.rules (it tags /dev/uinput with TAG+=\"uaccess\" so the"
                    + " logged-in user may write it), then run `sudo udevadm control --reload && sudo udevadm trigger"
                    + " /dev/uinput` or log in again." + continues
            default:
                return failed + continues
            }
        case .uinputCallFailed(let call, let path, let errorNumber):
            return "\(call) on \(path) failed with \(errorNumber.summary); the gesturepad virtual keyboard could not be"
                + " set up or removed. Check that \(path) is the uinput device (`modinfo uinput`, Linux ≥ 4.5)."
        case .uinputWriteFailed(let path, let errorNumber, let action):
            let advice: String
            switch errorNumber.rawValue {
            case EAGAIN: advice = "the kernel's event queue is full; the events were dropped, try again"
            case ENODEV: advice = "the virtual keyboard is gone; restart the daemon to create it again"
            default: advice = "the events were not delivered"
            }
            return "Writing key events (\(action)) to \(path) failed with \(errorNumber.summary): \(advice)."
        case .uinputShortWrite(let path, let bytesWritten, let bytesExpected):
            return "write(2) to \(path) wrote \(bytesWritten) of \(bytesExpected) bytes of key events; the rest"
                + " were not delivered."
        case .keyNotConfigured(let key, let device):
            return "\(key) is not one of the keys the config maps, so \(device) cannot press it; add it to a"
                + " gesture's keys in the config and reload."
        case .keySinkClosed(let device):
            return "\(device) is closed; no keys can be pressed until the daemon opens it again."
        case .unknownKeyName(let token, let text, let suggestion):
            let hint = suggestion.map { " Did you mean \($0)?" } ?? ""
            let context = token == text ? "" : " in \"\(text)\""
            return "Unknown key name \"\(token)\"\(context): use Linux input-event-codes names such as KEY_UP,"
                + " KEY_SPACE or KEY_LEFTCTRL+KEY_C (`evtest` shows them).\(hint)"
        case .emptyKeyChord(let text):
            return "Key chord \"\(text)\" has an empty part: write keys joined by \"+\", such as KEY_LEFTCTRL+KEY_C."
        case .repeatedKeyInChord(let token, let text):
            return "Key chord \"\(text)\" names \(token) twice: list each key once."
        case .notifySocketInvalid(let value):
            return "NOTIFY_SOCKET=\"\(value)\" is neither an absolute path nor an abstract \"@name\" (or is longer"
                + " than 107 bytes); systemd notifications are off. Check the service's environment."
        case .notifyFailed(let call, let socket, let errorNumber):
            return
                "Notifying systemd through \(socket): \(call) failed with \(errorNumber.summary). systemd may consider"
                + " the service not ready or hung; check that the unit is Type=notify and NotifyAccess allows it."
        case .settings(let error):
            return error.description
        case .reloadConfigInvalid(let error):
            return "Reload refused; the daemon still runs on its previous configuration. "
                + error.describe(then: "reload again (`gesturepad reload`).")
        case .configFileRemoved(let path):
            return "The config file \(path) the daemon was started with no longer exists; the running configuration "
                + "is kept (the built-in defaults are not applied silently). Restore the file and reload again, "
                + "or restart the daemon to run on the defaults."
        case .controlRuntimeDirectoryUnset:
            return "XDG_RUNTIME_DIR is not set, so the control socket has no default place; pass --socket PATH, "
                + "or log in through a systemd session (for a headless user: loginctl enable-linger $USER)"
        case .controlSocketPathTooLong(let path, let limit):
            return "control socket path \(path) is \(path.utf8.count) bytes, longer than the \(limit) "
                + "a Unix socket allows; choose a shorter --socket path"
        case .controlDirectoryUnusable(let path, let reason):
            return "cannot use \(path) for the control socket: \(reason); fix or remove it, or pass --socket PATH"
        case .controlPathUntrusted(let path, let found, let expected):
            return "\(path) is \(found) (expected \(expected)); refusing to use it for the control socket. "
                + "Another user may be able to replace it: remove it, or pass a --socket PATH in a directory only you own"
        case .controlPeerUntrusted(let socketPath, let peerUID, let ownUID):
            return "the process listening on \(socketPath) runs as uid \(peerUID), not as you (uid \(ownUID)); "
                + "refusing to talk to it (another user may have replaced the daemon's socket)"
        case .daemonAlreadyRunning(let pid, let lockPath):
            let owner = pid.map { "pid \($0)" } ?? "pid unknown"
            return "another gesturepad daemon is running (\(owner), lock \(lockPath)); stop it first "
                + "(systemctl --user stop gesturepad) or use another --socket"
        case .controlSocketOccupied(let path):
            return "\(path) exists and is not a socket; remove it or pass another --socket path"
        case .controlSocketCall(let call, let path, let code):
            return "\(call)(\(path)) failed: \(code.description) (errno \(code.rawValue)); "
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
        case .recordingRefused(let label, _, let reason):
            return "cannot record \(label): \(reason); nothing was recorded"
        case .keyReleaseFailed(let failures):
            let shown = failures.prefix(3).joined(separator: "; ")
            let more = failures.count > 3 ? " (and \(failures.count - 3) more)" : ""
            return "\(failures.count) key release(s) failed: \(shown)\(more). If a key is still held, press and "
                + "release it on a keyboard, or unplug the virtual keyboard by ending the process"
        case .filterFailed(let failures):
            let shown = failures.prefix(3).joined(separator: "; ")
            let more = failures.count > 3 ? " (and \(failures.count - 3) more)" : ""
            return "the decision filter failed \(failures.count) time(s): \(shown)\(more). Check [filter] in the "
                + "config against the labels of the head in use (gesturepad config check)"
        }
    }
}
