// ControlClient: the CLI's side of the control socket — a small blocking Unix-socket client
// (socket/connect/poll/send/recv), deliberately not SwiftNIO: each CLI call is one short
// request/reply (or one event stream) from a synchronous command, so an event loop, its threads
// and an async command tree would add machinery and nothing else. Being a second, independent
// implementation of the framing also makes it an honest test client for ControlServer, with raw
// byte access for fuzzing. Invariants: SIGPIPE never fires (MSG_NOSIGNAL); every wait has a
// timeout unless the caller asks to block; "no daemon" (ENOENT/ECONNREFUSED) is a typed error; only a
// socket owned by the user with a peer running as the user is talked to (lstat before, SO_PEERCRED after connect).
import Foundation
import Synchronization
import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Talks to a running daemon over its control socket.
public struct ControlClient: Sendable {
    /// The socket this client connects to.
    public let socketPath: String
    /// How long `send` waits for a reply by default.
    public var timeout: Duration

    /// A client for the socket at `socketPath`.
    public init(socketPath: String, timeout: Duration = .seconds(10)) {
        self.socketPath = socketPath
        self.timeout = timeout
    }

    /// A client for a resolved socket location.
    public init(location: ControlSocketLocation, timeout: Duration = .seconds(10)) {
        self.init(socketPath: location.socketPath, timeout: timeout)
    }

    /// Opens a raw connection (for streaming, pipelining or tests).
    public func connect() throws(DaemonError) -> ControlConnection {
        try ControlConnection(socketPath: socketPath)
    }

    /// Sends one request and waits for its reply (`timeout` overrides the client's default;
    /// `nil` there means the client default). Does not throw on `"ok":false` — see `ControlResponse.check()`.
    public func send(_ request: ControlRequest, timeout: Duration? = nil) throws(DaemonError) -> ControlResponse {
        let connection = try connect()
        defer { connection.close() }
        do throws(DaemonError) {
            try connection.write(request.jsonLine)
        } catch {
            // A daemon at its client limit writes one `too_many_clients` line and closes at once; the request
            // may then meet a closed socket, but that line is still waiting to be read.
            guard case .controlConnectionClosed = error, let line = try? connection.readLine(timeout: .seconds(2)),
                let refusal = try? ControlResponse(line: line)
            else { throw error }
            return refusal
        }
        guard let line = try connection.readLine(timeout: timeout ?? self.timeout) else {
            throw .controlConnectionClosed(socketPath: socketPath)
        }
        return try ControlResponse(line: line)
    }

    /// Subscribes and returns a reader of event lines (the subscribe reply is already checked).
    public func subscribe() throws(DaemonError) -> ControlEventReader {
        let connection = try connect()
        do throws(DaemonError) {
            try connection.write(ControlRequest.subscribe.jsonLine)
            guard let line = try connection.readLine(timeout: timeout) else {
                throw .controlConnectionClosed(socketPath: socketPath)
            }
            _ = try ControlResponse(line: line).check()
        } catch {
            connection.close()
            throw error
        }
        return ControlEventReader(connection: connection)
    }

    /// Subscribes and delivers event lines as an async stream, read on a background thread.
    /// Ending the iteration (or cancelling the task) closes the connection.
    public func events() -> AsyncThrowingStream<ControlEventLine, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: ControlEventLine.self)
        let active = EventThreadState()
        continuation.onTermination = { _ in
            active.state.withLock { state in
                state.cancelled = true
                state.connection?.interrupt()
            }
        }
        let client = self
        let thread = Thread {
            do {
                let reader = try client.subscribe()
                let proceed = active.state.withLock { state in
                    state.connection = reader.connection
                    return !state.cancelled
                }
                guard proceed else { return reader.connection.close() }
                defer { reader.connection.close() }
                while let event = try reader.next(timeout: nil) { continuation.yield(event) }
                continuation.finish()
            } catch {
                let cancelled = active.state.withLock { $0.cancelled }
                continuation.finish(throwing: cancelled ? nil : error)
            }
        }
        thread.name = "gesturepad control events"
        thread.start()
        return stream
    }
}

/// A decoded reply line: `ok`, `cmd`, `error`, `code`, with typed access to `result`.
public struct ControlResponse: Sendable, Equatable {
    /// The raw reply line, without its newline.
    public let line: String
    /// The reply's protocol version.
    public let version: Int
    /// Whether the command succeeded.
    public let ok: Bool
    /// The command replied to, if the daemon could tell.
    public let command: String?
    /// On failure: what failed and what to do.
    public let error: String?
    /// On failure: the machine code.
    public let code: String?

    private struct Envelope: Decodable {
        var v: Int
        var ok: Bool
        var cmd: String?
        var error: String?
        var code: String?
    }

    /// Decodes a reply line; throws `controlReplyMalformed` if it is not a reply.
    public init(line: String) throws(DaemonError) {
        guard let envelope = try? ControlClientJSON.decoder.decode(Envelope.self, from: Data(line.utf8)) else {
            throw .controlReplyMalformed(line: line)
        }
        self.line = line
        (version, ok, command, error, code) = (envelope.v, envelope.ok, envelope.cmd, envelope.error, envelope.code)
    }

    /// Self if `ok`, else throws `controlCommandFailed` with the daemon's message and code.
    @discardableResult
    public func check() throws(DaemonError) -> ControlResponse {
        guard ok else {
            throw .controlCommandFailed(
                command: command ?? "request", code: code ?? "failed", message: error ?? "no reason given")
        }
        return self
    }

    /// The reply's `"result"` decoded as `type`; throws if the reply failed or has no such result.
    public func result<Result: Codable & Sendable>(_ type: Result.Type) throws(DaemonError) -> Result {
        try check()
        guard let reply = try? ControlClientJSON.decoder.decode(ControlReply<Result>.self, from: Data(line.utf8)),
            let result = reply.result
        else { throw .controlReplyMalformed(line: line) }
        return result
    }
}

/// One event line from a subscription: the raw JSON and, when this client knows its kind, the event.
public struct ControlEventLine: Sendable, Equatable {
    /// The raw line without its newline (print it for `--json`).
    public let line: String
    /// The decoded event, or nil for an event kind newer than this client.
    public let event: ControlEvent?

    /// Wraps a raw event line, decoding it when possible.
    public init(line: String) {
        self.line = line
        event = try? ControlClientJSON.decoder.decode(ControlEvent.self, from: Data(line.utf8))
    }
}

/// Reads event lines from a subscribed connection (blocking).
public final class ControlEventReader: Sendable {
    /// The subscribed connection.
    public let connection: ControlConnection

    init(connection: ControlConnection) { self.connection = connection }

    /// The next event line; nil when the daemon closed the stream. `timeout` nil blocks indefinitely.
    public func next(timeout: Duration?) throws(DaemonError) -> ControlEventLine? {
        guard let line = try connection.readLine(timeout: timeout) else { return nil }
        return ControlEventLine(line: line)
    }

    /// Closes the connection (ends the subscription).
    public func close() { connection.close() }
}

/// One blocking connection to the control socket: write bytes or lines, read lines.
///
/// Not thread-safe except `interrupt()`, which may be called from another thread to wake a
/// blocked `readLine`.
public final class ControlConnection: @unchecked Sendable {
    /// The socket path connected to.
    public let socketPath: String
    private let descriptor: Int32
    private let closed = Mutex(false)
    private var buffer: [UInt8] = []
    private var searchedBytes = 0

    /// The longest line this client accepts from the daemon (16 MiB).
    public static let maximumReplyBytes = 16 << 20

    /// Connects to `socketPath`; throws `daemonNotRunning` when nothing listens there.
    public init(socketPath: String) throws(DaemonError) {
        self.socketPath = socketPath
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else {
            throw .controlSocketPathTooLong(path: socketPath, limit: capacity - 1)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        // Only the user's own daemon is trusted (issue 15 item 4): the path must be a socket owned by us, not a
        // link another user planted, and the listening process must run as us.
        try ControlFileSystem.checkSocketBeforeConnect(socketPath)
        let fd: Int32
        switch SystemCall.result({ socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }) {
        case .success(let descriptor): fd = descriptor
        case .failure(let code): throw .controlSocketCall(call: "socket", path: socketPath, errno: code)
        }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                SystemCall.result(retryOnInterrupt: true) {
                    Glibc.connect(fd, socketAddress, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
        if case .failure(let code) = connected {
            Glibc.close(fd)
            if code == .noSuchFileOrDirectory || code == .connectionRefused {
                throw .daemonNotRunning(socketPath: socketPath)
            }
            throw .controlSocketCall(call: "connect", path: socketPath, errno: code)
        }
        do throws(DaemonError) {
            try ControlFileSystem.checkPeer(fd, path: socketPath)
        } catch {
            Glibc.close(fd)
            throw error
        }
        descriptor = fd
    }

    deinit { close() }

    /// Writes `text` (add the newline yourself, or use `ControlRequest.jsonLine`).
    public func write(_ text: String) throws(DaemonError) { try write(bytes: Array(text.utf8)) }

    /// Writes raw bytes, all of them (blocking).
    public func write(bytes: [UInt8]) throws(DaemonError) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                SystemCall.result(retryOnInterrupt: true) {
                    send(descriptor, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                }
            }
            switch sent {
            case .success(let count): offset += count
            case .failure(.brokenPipe), .failure(.connectionReset):
                throw .controlConnectionClosed(socketPath: socketPath)
            case .failure(let code): throw .controlSocketCall(call: "send", path: socketPath, errno: code)
            }
        }
    }

    /// Reads the next line (without `\n`); nil on a clean EOF. `timeout` nil blocks indefinitely.
    public func readLine(timeout: Duration?) throws(DaemonError) -> String? {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        while true {
            if let newline = buffer[searchedBytes...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                searchedBytes = 0
                return line
            }
            searchedBytes = buffer.count
            guard buffer.count <= Self.maximumReplyBytes else {
                throw .controlReplyMalformed(line: "(a line over 16 MiB)")
            }
            var milliseconds: Int32 = -1
            if let deadline {
                let left = ContinuousClock.now.duration(to: deadline)
                guard left > .zero else {
                    throw .controlTimeout(socketPath: socketPath, seconds: Double(timeout!.components.seconds))
                }
                milliseconds = Int32(
                    clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            // EINTR goes round the loop, which recomputes the time left (a plain retry would restart the timeout).
            switch SystemCall.result({ poll(&poller, 1, milliseconds) }) {
            case .success(0), .failure(.interrupted): continue  // the deadline check above throws
            case .success: break
            case .failure(let code): throw .controlSocketCall(call: "poll", path: socketPath, errno: code)
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let received = chunk.withUnsafeMutableBytes { buffer in
                SystemCall.result(retryOnInterrupt: true) { recv(descriptor, buffer.baseAddress, buffer.count, 0) }
            }
            let count: Int
            switch received {
            case .success(let value): count = value
            case .failure(.resourceTemporarilyUnavailable): continue
            case .failure(.connectionReset): throw .controlConnectionClosed(socketPath: socketPath)
            case .failure(let code): throw .controlSocketCall(call: "recv", path: socketPath, errno: code)
            }
            if count == 0 {
                guard !buffer.isEmpty else { return nil }
                let line = String(decoding: buffer, as: UTF8.self)
                buffer.removeAll()
                searchedBytes = 0
                return line
            }
            buffer.append(contentsOf: chunk[..<count])
        }
    }

    /// Closes the sending direction (the daemon sees EOF after the requests already sent).
    public func shutdownWrite() { _ = shutdown(descriptor, Int32(SHUT_WR)) }

    /// Wakes a `readLine` blocked on another thread (it then sees EOF); safe from any thread.
    public func interrupt() {
        closed.withLock { isClosed in
            if !isClosed { _ = shutdown(descriptor, Int32(SHUT_RDWR)) }
        }
    }

    /// Closes the connection; idempotent.
    public func close() {
        closed.withLock { isClosed in
            guard !isClosed else { return }
            isClosed = true
            Glibc.close(descriptor)
        }
    }
}

/// The connection of an `events()` reader thread and whether the stream was ended by its consumer.
private final class EventThreadState: Sendable {
    let state = Mutex<(connection: ControlConnection?, cancelled: Bool)>((nil, false))
}

enum ControlClientJSON {
    /// Decodes what `ControlProtocol.encodeLine` writes (non-finite numbers arrive as strings).
    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }
}
