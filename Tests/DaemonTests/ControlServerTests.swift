// ControlServer over a real Unix socket in a temp directory, driven by the blocking ControlClient
// (run on its own threads, never on the cooperative pool) and a fake ControlHandler: round trips,
// error replies that leave the connection usable, file modes, the lock, stale sockets, subscribers
// (ordered delivery, slow ones dropped without blocking publish), shutdown, client errors, and a
// seeded fuzz of random / truncated / garbled lines.
import Foundation
import NeuralNet
import Synchronization
import Testing

@testable import Daemon

#if canImport(Glibc)
    import Glibc
#endif

// MARK: - Fixtures

/// A ControlHandler that records calls and answers canned results.
actor FakeControlHandler: ControlHandler {
    private(set) var calls: [String] = []
    var state: DaemonState = .running
    var recordError: (any Error)?

    nonisolated var softwareVersion: String { "test-1.0" }

    static let status = DaemonStatus(
        state: .running, dryRun: true, source: "/dev/video0", model: "mobilenet_v1_025", headVersion: 4,
        labels: ["up", "down", "left", "right"], fps: 29.97,
        latency: [
            "capture": StageLatency(p50Milliseconds: 1.25, p95Milliseconds: 3.5, count: 300),
            "embed": StageLatency(p50Milliseconds: 4, p95Milliseconds: 6.75, count: 300),
        ],
        samples: ["up": 40, "down": 38],
        counters: DaemonCounters(framesCaptured: 1000, framesDropped: 2, predictions: 998, keyPresses: 7),
        uptimeSeconds: 3725, keysHeld: ["up"])

    func setRecordError(_ error: (any Error)?) { recordError = error }

    func status() async -> DaemonStatus {
        calls.append("status")
        var status = Self.status
        status.state = state
        return status
    }
    func pause() async throws -> DaemonState {
        calls.append("pause")
        state = .paused
        return state
    }
    func resume() async throws -> DaemonState {
        calls.append("resume")
        state = .running
        return state
    }
    func record(label: String, seconds: Double) async throws -> RecordResult {
        calls.append("record \(label) \(seconds)")
        if let recordError { throw recordError }
        return RecordResult(label: label, seconds: seconds, added: Int(seconds * 10), total: 50)
    }
    func train() async throws -> TrainResult {
        calls.append("train")
        return TrainResult(headVersion: 5, samples: 78, loss: 0.05, accuracy: 0.97, durationSeconds: 1.5)
    }
    func samples() async throws -> SampleCounts {
        calls.append("samples")
        return SampleCounts(counts: ["up": 40, "down": 38])
    }
    func reload() async throws -> ReloadResult {
        calls.append("reload")
        return ReloadResult()
    }
}

/// A short-named temporary directory (Unix socket paths are limited to 107 bytes).
final class TemporaryDirectory: Sendable {
    let path: String
    init() throws {
        var template = Array("/tmp/gpc.XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = String(cString: try #require(created))
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    var socketPath: String { path + "/control.sock" }
}

/// Runs blocking client code on its own thread so it never blocks the Swift concurrency pool
/// the server's connection tasks run on.
func onThread<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// Binds a server on a temp socket, serves while `body` runs, then shuts down and waits for `run()`.
func withServer<Value: Sendable>(
    handler: FakeControlHandler = FakeControlHandler(), grace: Duration = .seconds(2),
    _ body: (ControlServer, FakeControlHandler, ControlClient) async throws -> Value
) async throws -> Value {
    let directory = try TemporaryDirectory()
    let configuration = ControlServer.Configuration(
        location: ControlSocketLocation(socketPath: directory.socketPath),
        slowSubscriberGrace: grace)
    let server = try await ControlServer.bind(configuration, handler: handler)
    let running = Task { try await server.run() }
    let client = ControlClient(socketPath: directory.socketPath, timeout: .seconds(20))
    do {
        let value = try await body(server, handler, client)
        server.shutdown()
        try await running.value
        return value
    } catch {
        server.shutdown()
        _ = try? await running.value
        throw error
    }
}

/// A test precondition that failed off the test's task (where `#require` cannot report).
struct MissingValue: Error, CustomStringConvertible {
    var description: String
}

func required<Value>(_ value: Value?, _ what: String) throws -> Value {
    guard let value else { throw MissingValue(description: "\(what) missing") }
    return value
}

/// Reads one reply line; EOF instead of a reply is an error.
func readReply(_ connection: ControlConnection, timeout: Duration = .seconds(20)) throws -> ControlResponse {
    try ControlResponse(line: try required(try connection.readLine(timeout: timeout), "reply (connection closed)"))
}

/// Polls `condition` until true or `seconds` pass.
func eventually(within seconds: Double = 10, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return await condition()
}

// MARK: - Tests

@Suite("Control server")
struct ControlServerTests {
    @Test func statusRoundTrip() async throws {
        try await withServer { _, _, client in
            let response = try await onThread { try client.send(.status) }
            #expect(response.ok && response.command == "status" && response.version == 1)
            #expect(try response.result(DaemonStatus.self) == FakeControlHandler.status)
        }
    }

    @Test func pauseAndResumeCallTheHandler() async throws {
        try await withServer { _, handler, client in
            let paused = try await onThread { try client.send(.pause).result(StateResult.self) }
            let resumed = try await onThread { try client.send(.resume).result(StateResult.self) }
            #expect(paused.state == .paused && resumed.state == .running)
            #expect(await handler.calls == ["pause", "resume"])
        }
    }

    @Test func everyOtherCommandReachesTheHandler() async throws {
        try await withServer { _, handler, client in
            let record = try await onThread {
                try client.send(.record(label: "up", seconds: 3)).result(RecordResult.self)
            }
            let train = try await onThread { try client.send(.train).result(TrainResult.self) }
            let samples = try await onThread { try client.send(.samples).result(SampleCounts.self) }
            let reload = try await onThread { try client.send(.reload) }
            let version = try await onThread { try client.send(.version).result(VersionInfo.self) }
            #expect(record == RecordResult(label: "up", seconds: 3, added: 30, total: 50))
            #expect(train.headVersion == 5 && samples.total == 78 && reload.ok)
            #expect(version.protocolVersion == 1 && version.daemon == "test-1.0" && version.commands.contains("record"))
            #expect(await handler.calls == ["record up 3.0", "train", "samples", "reload"])
        }
    }

    @Test func handlerErrorsBecomeFailureReplies() async throws {
        try await withServer { _, handler, client in
            await handler.setRecordError(
                ControlCommandError(code: "unknown_label", message: "no label \"jump\"; labels: up, down"))
            let typed = try await onThread { try client.send(.record(label: "jump", seconds: 1)) }
            #expect(!typed.ok && typed.code == "unknown_label" && typed.error == "no label \"jump\"; labels: up, down")
            await handler.setRecordError(CancellationError())
            let untyped = try await onThread { try client.send(.record(label: "up", seconds: 1)) }
            #expect(!untyped.ok && untyped.code == "failed" && untyped.command == "record")
        }
    }

    static let badLines: [(String, String)] = [
        (#"{"cmd":"explode"}"#, "unknown_command"),
        ("not json at all", "not_json"),
        ("[1,2,3]", "not_object"),
        ("", "not_json"),
        (#"{"cmd":"record","label":"up","seconds":601}"#, "out_of_range"),
        (#"{"cmd":"record","label":["up"]}"#, "wrong_type"),
        (#"{"cmd":"record"}"#, "missing_field"),
        (String(repeating: "x", count: 70_000), "line_too_long"),
        (
            "{\"cmd\":\"status\"" + String(repeating: " ", count: ControlProtocol.maximumLineBytes) + "}",
            "line_too_long"
        ),
    ]

    @Test("a bad request gets an error reply and the connection stays usable", arguments: badLines)
    func badRequestThenValidRequest(line: String, code: String) async throws {
        try await withServer { _, _, client in
            let (bad, good) = try await onThread {
                let connection = try client.connect()
                defer { connection.close() }
                try connection.write(line + "\n")
                let bad = try readReply(connection)
                try connection.write(ControlRequest.status.jsonLine)
                let good = try readReply(connection)
                return (bad, good)
            }
            #expect(!bad.ok && bad.code == code && bad.error?.isEmpty == false)
            #expect(good.ok && good.command == "status")
        }
    }

    @Test func oversizedLineArrivingInChunksGetsOneErrorThenTheNextLineWorks() async throws {
        try await withServer { _, _, client in
            let replies = try await onThread {
                let connection = try client.connect()
                defer { connection.close() }
                let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 10_000)
                for _ in 0..<30 { try connection.write(bytes: chunk) }  // 300 kB, no newline yet
                try connection.write("tail\n" + ControlRequest.version.jsonLine)
                return try (0..<2).map { _ in try readReply(connection) }
            }
            #expect(replies.map(\.code) == ["line_too_long", nil])
            #expect(replies[1].command == "version")
        }
    }

    @Test func finalLineWithoutNewlineIsAnsweredAfterHalfClose() async throws {
        try await withServer { _, _, client in
            let (reply, end) = try await onThread {
                let connection = try client.connect()
                defer { connection.close() }
                try connection.write(#"{"cmd":"status"}"#)
                connection.shutdownWrite()
                let reply = try readReply(connection)
                return (reply, try connection.readLine(timeout: .seconds(20)))
            }
            #expect(reply.ok && reply.command == "status")
            #expect(end == nil)
        }
    }

    @Test func requestsOnOneConnectionAreAnsweredInOrder() async throws {
        try await withServer { _, _, client in
            let commands = try await onThread {
                let connection = try client.connect()
                defer { connection.close() }
                let requests: [ControlRequest] = [.version, .status, .samples, .pause, .resume, .train, .reload]
                try connection.write(requests.map(\.jsonLine).joined())
                return try requests.map { _ in
                    try readReply(connection).command
                }
            }
            #expect(commands == ["version", "status", "samples", "pause", "resume", "train", "reload"])
        }
    }

    @Test func socketIsMode0600InADirectoryOfMode0700() async throws {
        let parent = try TemporaryDirectory()
        let location = ControlSocketLocation(socketPath: parent.path + "/nested/control.sock")
        #expect(location.lockPath == parent.path + "/nested/control.lock")
        let server = try await ControlServer.bind(.init(location: location), handler: FakeControlHandler())
        let running = Task { try await server.run() }
        var socketInfo = stat()
        var directoryInfo = stat()
        #expect(lstat(location.socketPath, &socketInfo) == 0 && stat(location.directory, &directoryInfo) == 0)
        server.shutdown()
        try await running.value
        #expect(socketInfo.st_mode & S_IFMT == S_IFSOCK)
        #expect(socketInfo.st_mode & 0o777 == 0o600)
        #expect(directoryInfo.st_mode & 0o777 == 0o700)
    }

    @Test func secondServerOnTheSamePathFailsWithTheLockError() async throws {
        try await withServer { server, _, client in
            let configuration = ControlServer.Configuration(location: server.configuration.location)
            await #expect(
                throws: DaemonError.daemonAlreadyRunning(
                    pid: getpid(), lockPath: server.configuration.location.lockPath)
            ) {
                _ = try await ControlServer.bind(configuration, handler: FakeControlHandler())
            }
            #expect(
                DaemonError.daemonAlreadyRunning(pid: 42, lockPath: "/x").description
                    .contains("another gesturepad daemon is running (pid 42"))
            // The first server is untouched.
            let reply = try await onThread { try client.send(.status) }
            #expect(reply.ok)
        }
    }

    @Test func staleSocketWithoutLockHolderIsReplaced() async throws {
        let directory = try TemporaryDirectory()
        try makeStaleSocket(at: directory.socketPath)
        await #expect(throws: DaemonError.daemonNotRunning(socketPath: directory.socketPath)) {
            try await onThread { try ControlClient(socketPath: directory.socketPath).send(.status) }
        }
        let server = try await ControlServer.bind(
            .init(location: ControlSocketLocation(socketPath: directory.socketPath)),
            handler: FakeControlHandler())
        let running = Task { try await server.run() }
        let reply = try await onThread { try ControlClient(socketPath: directory.socketPath).send(.status) }
        server.shutdown()
        try await running.value
        #expect(reply.ok)
    }

    @Test func somethingElseAtTheSocketPathIsRefused() async throws {
        let directory = try TemporaryDirectory()
        #expect(FileManager.default.createFile(atPath: directory.socketPath, contents: Data("keep".utf8)))
        await #expect(throws: DaemonError.controlSocketOccupied(path: directory.socketPath)) {
            _ = try await ControlServer.bind(
                .init(location: ControlSocketLocation(socketPath: directory.socketPath)),
                handler: FakeControlHandler())
        }
        #expect(FileManager.default.contents(atPath: directory.socketPath) == Data("keep".utf8))
    }

    @Test func shutdownRemovesTheSocketAndReleasesTheLock() async throws {
        let directory = try TemporaryDirectory()
        let location = ControlSocketLocation(socketPath: directory.socketPath)
        for _ in 0..<2 {  // the second bind proves the lock was released
            let server = try await ControlServer.bind(.init(location: location), handler: FakeControlHandler())
            let running = Task { try await server.run() }
            let subscribed = try await onThread { try ControlClient(socketPath: location.socketPath).subscribe() }
            #expect(await eventually { server.broadcaster.subscriberCount == 1 })
            server.shutdown()
            try await running.value
            #expect(!FileManager.default.fileExists(atPath: location.socketPath))
            #expect(try await onThread { try subscribed.next(timeout: .seconds(20)) } == nil)  // connection closed
            subscribed.close()
        }
        #expect(FileManager.default.fileExists(atPath: location.lockPath))  // the lock file stays, unlocked
    }

    @Test func cancellingRunShutsDownToo() async throws {
        let directory = try TemporaryDirectory()
        let server = try await ControlServer.bind(
            .init(location: ControlSocketLocation(socketPath: directory.socketPath)),
            handler: FakeControlHandler())
        let running = Task { try await server.run() }
        #expect(try await onThread { try ControlClient(socketPath: directory.socketPath).send(.status) }.ok)
        running.cancel()
        _ = try? await running.value
        #expect(!FileManager.default.fileExists(atPath: directory.socketPath))
    }

    @Test func subscriberReceivesPublishedEventsInOrder() async throws {
        try await withServer { server, _, client in
            let reader = try await onThread { try client.subscribe() }
            defer { reader.close() }
            #expect(await eventually { server.broadcaster.subscriberCount == 1 })
            let events = (0..<200).map { index in
                index % 2 == 0
                    ? ControlEvent.prediction(
                        PredictionEvent(
                            time: Double(index), labels: ["up", "down"], probabilities: [0.75, 0.25],
                            top: "up", confidence: 0.75, filter: "idle"))
                    : ControlEvent.key(
                        KeyEventPayload(time: Double(index), action: .down, label: "up", keys: ["KEY_UP"]))
            }
            for event in events { server.broadcaster.publish(event) }
            let received = try await onThread {
                try (0..<200).map { _ in
                    try required(try reader.next(timeout: .seconds(20)), "event line").event
                }
            }
            #expect(received == events)
            let status = try await onThread { try client.send(.status).result(DaemonStatus.self) }
            #expect(status.subscribers == 1)
        }
    }

    @Test func asyncEventStreamDeliversEvents() async throws {
        try await withServer { server, _, client in
            let publisher = Task {
                #expect(await eventually { server.broadcaster.subscriberCount == 1 })
                for index in 0..<5 {
                    server.broadcaster.publish(.state(StateEventPayload(state: DaemonState(rawValue: "s\(index)"))))
                }
            }
            var states: [String] = []
            for try await line in client.events() {  // leaving the loop ends the stream and the connection
                if case .state(let payload) = line.event { states.append(payload.state.rawValue) }
                if states.count == 5 { break }
            }
            await publisher.value
            #expect(states == ["s0", "s1", "s2", "s3", "s4"])
            #expect(await eventually { server.broadcaster.subscriberCount == 0 })
        }
    }

    @Test func slowSubscriberNeverBlocksPublishAndIsDropped() async throws {
        try await withServer(grace: .seconds(60)) { server, _, client in
            let reader = try await onThread { try client.subscribe() }  // and then never reads
            defer { reader.close() }
            #expect(await eventually { server.broadcaster.subscriberCount == 1 })
            let event = ControlEvent.prediction(
                PredictionEvent(
                    time: 1, labels: ["up", "down", "left", "right"],
                    probabilities: [0.7, 0.1, 0.1, 0.1], top: "up", confidence: 0.7,
                    filter: "arming up since 0.950 s"))
            let clock = ContinuousClock()
            let elapsed = clock.measure { for _ in 0..<100_000 { server.broadcaster.publish(event) } }
            #expect(elapsed < .seconds(5), "publishing 100k events took \(elapsed)")
            #expect(server.broadcaster.droppedSubscriberCount == 1)
            #expect(server.broadcaster.subscriberCount == 0)
            // Reading now drains what was in flight, then the final "dropped" line, then EOF.
            let lines = try await onThread {
                var lines: [ControlEventLine] = []
                while let line = try reader.next(timeout: .seconds(20)) { lines.append(line) }
                return lines
            }
            #expect(lines.count < 100_000)
            #expect(lines.last?.event == .dropped(reason: "slow subscriber"))
            #expect(lines.dropLast().allSatisfy { $0.event == event })
            // The server is fine.
            #expect(try await onThread { try client.send(.status) }.ok)
        }
    }

    @Test func clientSaysDaemonNotRunningWhenNothingListens() async throws {
        let directory = try TemporaryDirectory()
        let client = ControlClient(socketPath: directory.socketPath)
        #expect(throws: DaemonError.daemonNotRunning(socketPath: directory.socketPath)) { try client.send(.status) }
        let message = DaemonError.daemonNotRunning(socketPath: directory.socketPath).description
        #expect(
            message.contains("not running") && message.contains("systemctl --user start gesturepad")
                && message.contains("gesturepad daemon"))
        #expect(throws: DaemonError.controlRuntimeDirectoryUnset) {
            try ControlSocketLocation.resolve(nil, environment: [:])
        }
        #expect(
            try ControlSocketLocation.resolve(nil, environment: ["XDG_RUNTIME_DIR": "/run/user/1000"]).socketPath
                == "/run/user/1000/gesturepad/control.sock")
        #expect(DaemonError.controlRuntimeDirectoryUnset.description.contains("--socket"))
        let long = "/tmp/" + String(repeating: "d", count: 120) + "/control.sock"
        #expect(throws: DaemonError.controlSocketPathTooLong(path: long, limit: 107)) {
            try ControlClient(socketPath: long).connect()
        }
    }

    @Test func fuzzedLinesEachGetOneReplyAndTheServerSurvives() async throws {
        try await withServer { _, _, client in
            let summary = try await onThread { try Self.fuzz(client: client, seed: 0x6765_7374_7572_6570, lines: 3000) }
            #expect(summary.replies == summary.lines)
            #expect(summary.failures > summary.lines / 2)  // most fuzz lines are invalid
            #expect(summary.successes > 0)  // some survive truncation/garbling (e.g. extra trailing bytes)
            #expect(summary.finalStatusOK)
            // A fresh connection works as well.
            #expect(try await onThread { try client.send(.status) }.ok)
        }
    }

    // MARK: Helpers

    struct FuzzSummary: Sendable {
        var lines = 0, replies = 0, successes = 0, failures = 0
        var finalStatusOK = false
    }

    /// Sends `lines` seeded random lines in batches over one connection; every line must get exactly one
    /// well-formed reply (ok true or false). Commands that reach the fake handler are harmless.
    static func fuzz(client: ControlClient, seed: UInt64, lines: Int) throws -> FuzzSummary {
        var random = SplitMix64(seed: seed)
        let valid: [ControlRequest] = [
            .status, .pause, .resume, .record(label: "up", seconds: 2), .samples, .version, .reload,
        ]
        var summary = FuzzSummary()
        let connection = try client.connect()
        defer { connection.close() }
        var sent = 0
        while sent < lines {
            let batch = min(25, lines - sent)
            var bytes: [UInt8] = []
            for _ in 0..<batch {
                var line: [UInt8]
                switch random.next() % 6 {
                case 0:  // random bytes
                    line = (0..<Int(random.next() % 300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                case 1:  // truncated valid request
                    let whole = Array(valid[Int(random.next() % UInt64(valid.count))].jsonLine.utf8.dropLast())
                    line = Array(whole.prefix(Int(random.next() % UInt64(whole.count))))
                case 2:  // garbled valid request
                    line = Array(valid[Int(random.next() % UInt64(valid.count))].jsonLine.utf8.dropLast())
                    for _ in 0..<(1 + random.next() % 4) {
                        line[Int(random.next() % UInt64(line.count))] = UInt8(truncatingIfNeeded: random.next())
                    }
                case 3:  // valid JSON of the wrong shape, or wrong field types
                    let shapes = [
                        #"{"cmd":null}"#, #"{"cmd":"record","label":"up","seconds":1e999}"#, "[]", "{}", "true",
                        #"{"cmd":"record","label":"up","seconds":-0.0}"#, #"{"cmd":{"x":[1,2,{"y":null}]}}"#,
                        #"{"v":99,"cmd":"status"}"#, "\u{FEFF}{\"cmd\":\"status\"}",
                    ]
                    line = Array(shapes[Int(random.next() % UInt64(shapes.count))].utf8)
                case 4:  // deep nesting
                    let depth = Int(random.next() % 5000)
                    line = Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth / 2)).utf8)
                default:  // a valid request
                    line = Array(valid[Int(random.next() % UInt64(valid.count))].jsonLine.utf8.dropLast())
                }
                // CR and LF both end a request line: neither may occur inside one.
                bytes +=
                    line.map { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") ? UInt8(ascii: " ") : $0 } + [
                        UInt8(ascii: "\n")
                    ]
            }
            try connection.write(bytes: bytes)
            for _ in 0..<batch {
                let reply = try readReply(connection, timeout: .seconds(30))
                summary.replies += 1
                if reply.ok { summary.successes += 1 } else { summary.failures += 1 }
            }
            sent += batch
            summary.lines = sent
        }
        try connection.write(ControlRequest.status.jsonLine)
        summary.finalStatusOK = try readReply(connection).ok
        return summary
    }

    /// Leaves a socket file at `path` with nobody listening (as after a daemon crash).
    func makeStaleSocket(at path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8))
            raw[path.utf8.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        close(fd)
        #expect(bound == 0)
        var info = stat()
        #expect(lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK)
    }
}
