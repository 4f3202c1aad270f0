// SystemdNotifier: the sd_notify(3) protocol by hand — newline-separated assignments ("READY=1",
// "STATUS=…", "WATCHDOG=1", "STOPPING=1", "RELOADING=1" + "MONOTONIC_USEC=…") sent as one datagram
// to the AF_UNIX socket named by $NOTIFY_SOCKET (an absolute path, or "@name" for the abstract
// namespace). No libsystemd: the protocol is one sendto(2), and libsystemd-dev would add a C
// dependency and a module map for about 20 lines. The watchdog interval is half of $WATCHDOG_USEC
// (sd_watchdog_enabled's advice), only when $WATCHDOG_PID is unset or names this process.
// Everything is a no-op when $NOTIFY_SOCKET is unset (not started by systemd, or Type=simple).
import SystemSupport
import Foundation
import Glibc

/// One notification to systemd: a line of the sd_notify protocol.
public enum SystemdNotification: Equatable, Sendable {
    /// Startup finished (or a reload finished): "READY=1".
    case ready
    /// Free-form status shown by `systemctl status`: "STATUS=…" (newlines become spaces).
    case status(String)
    /// Keep-alive ping: "WATCHDOG=1"; due every `SystemdNotifier.watchdogInterval`.
    case watchdog
    /// Shutdown began: "STOPPING=1".
    case stopping
    /// A reload began (Type=notify-reload, systemd ≥ 253): "RELOADING=1" plus "MONOTONIC_USEC=…",
    /// the CLOCK_MONOTONIC time in microseconds; send `.ready` when the reload is done.
    case reloading(monotonicMicroseconds: UInt64)

    /// A reload notification stamped with the current CLOCK_MONOTONIC time.
    public static func reloadingNow() -> SystemdNotification {
        .reloading(monotonicMicroseconds: SystemFrameClock.nanoseconds() / 1_000)
    }

    /// The protocol text, without a trailing newline ("RELOADING=1\nMONOTONIC_USEC=12345").
    public var assignment: String {
        switch self {
        case .ready: return "READY=1"
        case .status(let text):
            return "STATUS=" + String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
        case .watchdog: return "WATCHDOG=1"
        case .stopping: return "STOPPING=1"
        case .reloading(let microseconds): return "RELOADING=1\nMONOTONIC_USEC=\(microseconds)"
        }
    }
}

/// Sends service state to systemd through $NOTIFY_SOCKET; does nothing when it is unset.
public struct SystemdNotifier: Sendable {
    /// Where notifications go.
    public enum SocketAddress: Equatable, Sendable {
        /// A socket file ("/run/user/1000/systemd/notify").
        case path(String)
        /// A name in the abstract namespace ("@/org/freedesktop/systemd1/notify" → without the "@").
        case abstract(String)
    }

    /// The socket from $NOTIFY_SOCKET; nil when unset or invalid.
    public let socket: SocketAddress?
    /// The $NOTIFY_SOCKET text when it was set but unusable (relative path, too long).
    public let invalidSocketValue: String?
    /// The watchdog timeout from $WATCHDOG_USEC; nil when unset, zero, malformed or meant for another PID.
    public let watchdogTimeout: Duration?

    /// How often to send `.watchdog`: half the timeout, so one late ping does not get the service killed.
    public var watchdogInterval: Duration? { watchdogTimeout.map { $0 / 2 } }

    /// Whether notifications are sent at all.
    public var isEnabled: Bool { socket != nil }

    /// Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID from `environment`.
    /// - Parameter processID: this process's PID, compared with $WATCHDOG_PID.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        processID: Int32 = getpid()
    ) {
        let value = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        let parsed = value.flatMap(Self.parseSocket)
        socket = parsed
        invalidSocketValue = parsed == nil ? value : nil

        let pidMatches = environment["WATCHDOG_PID"].map { Int32($0) == processID } ?? true
        if pidMatches, let text = environment["WATCHDOG_USEC"], let microseconds = UInt64(text), microseconds > 0 {
            watchdogTimeout = .microseconds(Int64(clamping: microseconds))
        } else {
            watchdogTimeout = nil
        }
    }

    /// The address a $NOTIFY_SOCKET value names: "/abs/path" or "@abstract" up to 107 bytes; else nil.
    static func parseSocket(_ value: String) -> SocketAddress? {
        let maximumBytes = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1
        if value.hasPrefix("/"), value.utf8.count <= maximumBytes { return .path(value) }
        if value.hasPrefix("@"), value.utf8.count - 1 <= maximumBytes, value.utf8.count > 1 {
            return .abstract(String(value.dropFirst()))
        }
        return nil
    }

    /// Sends `notifications` together in one datagram (for example `[.ready, .status("watching")]`).
    ///
    /// Does nothing when $NOTIFY_SOCKET is unset. Throws `.notifySocketInvalid` when it was set to
    /// something unusable, `.notifyFailed` naming socket(2) or sendto(2) and the errno otherwise.
    public func send(_ notifications: [SystemdNotification]) throws(DaemonError) {
        guard let socket else {
            if let invalidSocketValue { throw DaemonError.notifySocketInvalid(value: invalidSocketValue) }
            return
        }
        guard !notifications.isEmpty else { return }
        let message = notifications.map(\.assignment).joined(separator: "\n") + "\n"
        try Self.sendDatagram(Array(message.utf8), to: socket)
    }

    /// Sends one notification; see `send(_:)`.
    public func send(_ notification: SystemdNotification) throws(DaemonError) {
        try send([notification])
    }

    // MARK: - The datagram

    private static func sendDatagram(_ bytes: [UInt8], to socket: SocketAddress) throws(DaemonError) {
        let name: String
        switch socket {
        case .path(let path): name = path
        case .abstract(let abstract): name = "@" + abstract
        }
        let descriptor: Int32
        switch SystemCall.result({ Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        ) {
        case .success(let opened): descriptor = opened
        case .failure(let errorNumber):
            throw DaemonError.notifyFailed(call: "socket(AF_UNIX, SOCK_DGRAM)", socket: name, errno: errorNumber)
        }
        defer { _ = Glibc.close(descriptor) }

        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes: [UInt8]
        switch socket {
        case .path(let path): pathBytes = Array(path.utf8) + [0]  // NUL-terminated
        case .abstract(let abstract): pathBytes = [0] + Array(abstract.utf8)  // leading NUL, no terminator
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + pathBytes.count)

        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bytes.withUnsafeBytes { buffer in
                    SystemCall.result(retryOnInterrupt: true) {
                        sendto(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), socketAddress, length)
                    }
                }
            }
        }
        if case .failure(let errorNumber) = sent {
            throw DaemonError.notifyFailed(call: "sendto", socket: name, errno: errorNumber)
        }
    }
}
