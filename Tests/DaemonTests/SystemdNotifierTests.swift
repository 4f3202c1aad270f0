// SystemdNotifier end to end: a real AF_UNIX datagram socket (in a temp directory, or in the abstract
// namespace) plays systemd's notify socket and receives the exact datagrams. Not a fake: it is the
// same kind of socket systemd creates; only the process on the other end is the test. Also the
// environment parsing: unset → no-op, watchdog interval = half of WATCHDOG_USEC, WATCHDOG_PID.
import Capture
import Foundation
import Glibc
import Testing

@testable import Daemon
import SystemSupport

/// A bound AF_UNIX datagram socket standing in for systemd's $NOTIFY_SOCKET.
final class NotifyListener {
    let descriptor: Int32
    /// The $NOTIFY_SOCKET value that reaches this socket.
    let environmentValue: String
    private let directory: URL?

    /// Binds a socket file in a fresh temp directory, or an abstract name when `abstract` is set.
    init(abstract: Bool = false) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(descriptor >= 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes: [UInt8]
        if abstract {
            let name = "gesturepad-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            environmentValue = "@" + name
            pathBytes = [0] + Array(name.utf8)
            directory = nil
        } else {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            environmentValue = directory.appendingPathComponent("notify").path
            pathBytes = Array(environmentValue.utf8) + [0]
            self.directory = directory
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + pathBytes.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        try #require(bound == 0, "bind failed: \(Errno(rawValue: errno))")
    }

    deinit {
        close(descriptor)
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// The next datagram as text, waiting at most one second; nil when none arrives.
    func receive() -> String? {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 1000) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { return nil }
        return String(decoding: buffer.prefix(count), as: UTF8.self)
    }

    /// Whether a datagram is waiting right now.
    var hasPending: Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 1
    }
}

@Suite("Daemon: systemd notification")
struct SystemdNotifierTests {
    @Test("READY with STATUS, WATCHDOG, RELOADING and STOPPING arrive as exact datagrams on a socket file")
    func endToEndPath() throws {
        let listener = try NotifyListener()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.environmentValue])
        #expect(notifier.isEnabled)
        #expect(notifier.socket == .path(listener.environmentValue))

        try notifier.send([.ready, .status("watching camera /dev/video0\n4 gestures")])
        #expect(listener.receive() == "READY=1\nSTATUS=watching camera /dev/video0 4 gestures\n")
        try notifier.send(.watchdog)
        #expect(listener.receive() == "WATCHDOG=1\n")
        try notifier.send(.reloading(monotonicMicroseconds: 123_456_789))
        #expect(listener.receive() == "RELOADING=1\nMONOTONIC_USEC=123456789\n")
        try notifier.send(.stopping)
        #expect(listener.receive() == "STOPPING=1\n")
        #expect(!listener.hasPending)
    }

    @Test("an abstract socket name (@name) receives READY and WATCHDOG")
    func endToEndAbstract() throws {
        let listener = try NotifyListener(abstract: true)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.environmentValue])
        #expect(notifier.socket == .abstract(String(listener.environmentValue.dropFirst())))
        try notifier.send(.ready)
        try notifier.send(.watchdog)
        #expect(listener.receive() == "READY=1\n")
        #expect(listener.receive() == "WATCHDOG=1\n")
    }

    @Test("unset NOTIFY_SOCKET: disabled, sending is a silent no-op, no watchdog")
    func unset() throws {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        #expect(notifier.watchdogInterval == nil)
        try notifier.send([.ready, .status("x"), .watchdog, .stopping])
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": ""]).isEnabled == false)
    }

    @Test(
        "a relative or overlong NOTIFY_SOCKET is reported when sending, naming the value",
        arguments: ["run/notify", "/" + String(repeating: "a", count: 200), "@"])
    func invalidSocket(value: String) {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": value])
        #expect(!notifier.isEnabled)
        #expect(throws: DaemonError.notifySocketInvalid(value: value)) { try notifier.send(.ready) }
        #expect(DaemonError.notifySocketInvalid(value: value).description.contains(value))
    }

    @Test("a socket path nobody listens on: sendto fails with the errno and the socket named")
    func nobodyListening() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("missing-\(UUID().uuidString)").path
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path])
        #expect(throws: DaemonError.notifyFailed(call: "sendto", socket: path, errno: Errno(rawValue: ENOENT))) {
            try notifier.send(.ready)
        }
    }

    @Test("watchdog interval is half of WATCHDOG_USEC; WATCHDOG_PID must be this process")
    func watchdogInterval() {
        let base = ["NOTIFY_SOCKET": "/run/notify", "WATCHDOG_USEC": "5000000"]
        let plain = SystemdNotifier(environment: base, processID: 42)
        #expect(plain.watchdogTimeout == .seconds(5))
        #expect(plain.watchdogInterval == .milliseconds(2500))

        var forUs = base
        forUs["WATCHDOG_PID"] = "42"
        #expect(SystemdNotifier(environment: forUs, processID: 42).watchdogInterval == .milliseconds(2500))

        var forOther = base
        forOther["WATCHDOG_PID"] = "43"
        #expect(SystemdNotifier(environment: forOther, processID: 42).watchdogInterval == nil)

        for bad in ["0", "", "-5", "abc", "1.5"] {
            #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": bad]).watchdogInterval == nil, "\(bad)")
        }
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "3"]).watchdogInterval == .nanoseconds(1500))
    }

    @Test("reloadingNow stamps MONOTONIC_USEC with CLOCK_MONOTONIC")
    func reloadingNow() {
        let before = SystemFrameClock().nowNanoseconds / 1000
        let notification = SystemdNotification.reloadingNow()
        let after = SystemFrameClock().nowNanoseconds / 1000
        guard case .reloading(let microseconds) = notification else {
            Issue.record("expected .reloading, got \(notification)")
            return
        }
        #expect(microseconds >= before && microseconds <= after)
    }
}
