// Issue 15 items 6 and 10 against ControlServer in-process: shutdown while clients keep connecting is
// orderly (it used to trap in SwiftNIO's NIOAsyncWriter deinit), a connection cap that evicts the
// longest-idle client (so idle clients never lock `status` out) and refuses with one `too_many_clients`
// line when every slot is busy, a backlog that takes a burst of 100 non-blocking connects without EAGAIN,
// and request lines ended by a bare `\r`, `\r\n` (also split across writes) or `\n`.
import Foundation
import Synchronization
import Testing

@testable import Daemon

#if canImport(Glibc)
    import Glibc
#endif

/// Binds a server with a small client limit in a private temp directory; serves while `body` runs.
func withLimitedServer<Value: Sendable>(
    maximumClients: Int, _ body: (ControlServer, ControlClient) async throws -> Value
) async throws -> Value {
    let directory = try TemporaryDirectory()
    let configuration = ControlServer.Configuration(
        location: ControlSocketLocation(socketPath: directory.socketPath), maximumClients: maximumClients)
    let server = try await ControlServer.bind(configuration, handler: FakeControlHandler())
    let running = Task { try await server.run() }
    defer { server.shutdown() }
    let value = try await body(server, ControlClient(socketPath: directory.socketPath, timeout: .seconds(20)))
    server.shutdown()
    try await running.value
    return value
}

/// A raw non-blocking connect; returns the descriptor (or -errno).
func rawConnect(_ path: String, nonBlocking: Bool) -> Int32 {
    let flags =
        Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | (nonBlocking ? Int32(SOCK_NONBLOCK.rawValue) : 0)
    let fd = socket(AF_UNIX, flags, 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        raw.copyBytes(from: Array(path.utf8))
        raw[path.utf8.count] = 0
    }
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
    }
    if result != 0 {
        let code = errno
        close(fd)
        return -code
    }
    return fd
}

extension ControlServerTests {
    @Test func idleClientsAreClosedForNewcomersSoStatusKeepsAnswering() async throws {
        try await withLimitedServer(maximumClients: 4) { server, client in
            let idle = try await onThread { try (0..<20).map { _ in try client.connect() } }
            defer { idle.forEach { $0.close() } }
            #expect(await eventually { server.refusedAndEvictedCounts.evicted == 16 })
            let status = try await onThread { try client.send(.status) }
            #expect(status.ok && status.command == "status")
            #expect(server.clientCount <= 4)
            // Connections are admitted on two event loops, so which ones were idle longest is not their connect
            // order: 17 (16 + one for `status`) got one line saying why, then EOF; the other 3 are still served.
            let (closed, survivors) = try await onThread {
                var closed: [ControlResponse] = []
                var survivors: [ControlConnection] = []
                for connection in idle {
                    do throws(DaemonError) {
                        guard let line = try connection.readLine(timeout: .milliseconds(300)) else { continue }
                        closed.append(try ControlResponse(line: line))
                        #expect(try connection.readLine(timeout: .seconds(20)) == nil)
                    } catch {
                        guard case .controlTimeout = error else { throw error }
                        survivors.append(connection)
                    }
                }
                return (closed, survivors)
            }
            #expect(closed.count == 17 && survivors.count == 3)
            #expect(closed.allSatisfy { !$0.ok && $0.code == "idle_closed" })
            #expect(closed.first?.error?.contains("limit of 4 clients") == true)
            let answers = try await onThread {
                try survivors.map { connection in
                    try connection.write(ControlRequest.version.jsonLine)
                    return try readReply(connection).command
                }
            }
            #expect(answers == ["version", "version", "version"])
        }
    }

    @Test func busyClientsAtTheLimitGetOneTooManyClientsLine() async throws {
        try await withLimitedServer(maximumClients: 3) { server, client in
            let subscribers = try await onThread { try (0..<3).map { _ in try client.subscribe() } }
            defer { subscribers.forEach { $0.close() } }
            #expect(await eventually { server.broadcaster.subscriberCount == 3 })
            let reply = try await onThread { try client.send(.status) }
            #expect(!reply.ok && reply.code == "too_many_clients")
            #expect(reply.error?.contains("too many clients (limit 3") == true, "\(reply.line)")
            #expect(server.refusedAndEvictedCounts.refused == 1)
            #expect(throws: DaemonError.self) { try reply.check() }
            // A subscriber leaving frees a slot.
            subscribers[0].close()
            #expect(await eventually { server.clientCount == 2 })
            #expect(try await onThread { try client.send(.status) }.ok)
        }
    }

    @Test func aBurstOfHundredNonBlockingConnectsNeverHitsTheBacklog() async throws {
        try await withServer { server, _, client in
            let results = try await onThread { (0..<100).map { _ in rawConnect(server.socketPath, nonBlocking: true) } }
            defer { results.filter { $0 >= 0 }.forEach { close($0) } }
            #expect(results.filter { $0 == -EAGAIN }.count == 0, "EAGAIN for \(results.filter { $0 < 0 }.count) of 100")
            #expect(results.allSatisfy { $0 >= 0 })
            #expect(ControlServer.listenBacklog >= 100)
            #expect(try await onThread { try client.send(.status) }.ok)
        }
    }

    static let terminators: [(String, String)] = [("\r", "bare CR"), ("\r\n", "CRLF"), ("\n", "LF")]

    @Test("a request line ended by CR, CRLF or LF is answered", arguments: terminators)
    func everyLineTerminatorIsAnswered(terminator: String, name: String) async throws {
        try await withServer { _, _, client in
            let replies = try await onThread {
                let connection = try client.connect()
                defer { connection.close() }
                try connection.write(#"{"cmd":"status"}"# + terminator + #"{"cmd":"version"}"# + terminator)
                return try (0..<2).map { _ in try readReply(connection, timeout: .seconds(20)) }
            }
            #expect(replies.map(\.command) == ["status", "version"], "\(name)")
        }
    }

    @Test func aLoneCarriageReturnGetsAnErrorReplyAndSplitCRLFIsOneTerminator() async throws {
        try await withServer { _, _, client in
            let (lone, status, version) = try await onThread {
                let connection = try client.connect()
                defer { connection.close() }
                try connection.write("\r")
                let lone = try readReply(connection)
                try connection.write(#"{"cmd":"status"}"# + "\r")
                let status = try readReply(connection)
                Thread.sleep(forTimeInterval: 0.05)  // the \n of this CRLF arrives in a later read
                try connection.write("\n" + #"{"cmd":"version"}"# + "\n")
                return (lone, status, try readReply(connection))
            }
            #expect(!lone.ok && lone.code == "not_json")
            #expect(status.ok && status.command == "status")
            #expect(version.ok && version.command == "version")  // no empty-line error in between
        }
    }

    /// A connection is read only once `serve` has installed its handlers; a client that writes and half-closes at
    /// once makes NIO read on EOF before that — those frames are held, not lost (one in three runs lost them).
    @Test func requestThenImmediateHalfCloseIsAlwaysAnswered() async throws {
        try await withServer { _, _, client in
            let answered = try await onThread {
                try (0..<50).filter { _ in
                    let connection = try client.connect()
                    defer { connection.close() }
                    try connection.write(ControlRequest.version.jsonLine)
                    connection.shutdownWrite()
                    return try readReply(connection).command == "version"
                }.count
            }
            #expect(answered == 50)
        }
    }

    /// Issue 15 item 6 in-process: threads connect and send requests in a loop while the server shuts down.
    /// Before the fix a connection accepted but not yet served trapped in `NIOAsyncWriter.deinit` (SIGILL kills
    /// the whole test process).
    @Test func shutdownWhileClientsKeepConnectingIsOrderly() async throws {
        for round in 0..<20 {
            let directory = try TemporaryDirectory()
            let server = try await ControlServer.bind(
                .init(location: ControlSocketLocation(socketPath: directory.socketPath)), handler: FakeControlHandler())
            let running = Task { try await server.run() }
            let stop = Atomic<Bool>(false)
            let connects = Atomic<Int>(0)
            let threads = (0..<4).map { _ in
                let done = DispatchSemaphore(value: 0)
                Thread {
                    while !stop.load(ordering: .relaxed) {
                        let fd = rawConnect(directory.socketPath, nonBlocking: false)
                        guard fd >= 0 else { continue }
                        connects.add(1, ordering: .relaxed)
                        _ = #"{"cmd":"status"}"#.utf8CString.withUnsafeBytes {
                            send(fd, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL))
                        }
                        close(fd)
                    }
                    done.signal()
                }.start()
                return done
            }
            // Shut down while connects are under way: after the first one (on a loaded machine the threads may start
            // late), plus a little more that varies by round.
            let connecting = await eventually(within: 30) { connects.load(ordering: .relaxed) > 0 }
            try await Task.sleep(for: .milliseconds(round % 5 * 10))
            server.shutdown()
            try await running.value
            stop.store(true, ordering: .relaxed)
            try await onThread { for done in threads { done.wait() } }
            #expect(!FileManager.default.fileExists(atPath: directory.socketPath))
            #expect(await eventually { server.clientCount == 0 }, "round \(round): connections left open")
            #expect(connecting, "round \(round): no client connected within 30 s")
        }
    }
}
