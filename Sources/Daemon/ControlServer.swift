// ControlServer: the daemon's control socket, a SwiftNIO Unix-domain-socket server speaking
// ControlProtocol. Owns the socket file (mode 0600, removed on shutdown), the lock file (flock held
// for the server's life, so a second daemon fails; the lock *file* stays on disk — unlinking it
// would let two daemons lock two different inodes), stale-socket cleanup, line framing with a
// length limit, one reply per request line in order, and event streaming to subscribers through a
// ControlBroadcaster (bounded per-subscriber buffers; publishing never blocks). Lifecycle after
// swift-service-lifecycle: `bind` acquires everything and throws early; `run()` serves until its
// task is cancelled or `shutdown()` is called. Permissions and lock after keyd's src/ipc.c.
import Foundation
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

// MARK: - Handler

/// What the control socket asks of the daemon; the daemon implements it, tests use a fake.
///
/// Several connections may call these concurrently: implementations serialise as they need
/// (an actor is the natural fit). A thrown `ControlCommandError` chooses the reply's `"code"`;
/// any other error replies `"failed"` with the error's description.
public protocol ControlHandler: Sendable {
    /// The daemon's current status (the server fills in `subscribers`).
    func status() async -> DaemonStatus
    /// Stops recognising and releases every held key; returns the new state.
    func pause() async throws -> DaemonState
    /// Resumes recognising after `pause`; returns the new state.
    func resume() async throws -> DaemonState
    /// Records `seconds` of live samples of `label` (already validated: 0 < seconds ≤ 600).
    func record(label: String, seconds: Double) async throws -> RecordResult
    /// Trains a new head from the stored samples and makes it current.
    func train() async throws -> TrainResult
    /// The stored sample counts.
    func samples() async throws -> SampleCounts
    /// Re-reads the config and the current head; names changed keys that need a restart.
    func reload() async throws -> ReloadResult
    /// The daemon's software version, reported by the `version` command.
    var softwareVersion: String { get }
}

extension ControlHandler {
    /// Default: `"unknown"`.
    public var softwareVersion: String { "unknown" }
}

// MARK: - Socket location

/// Where the control socket and its lock file live.
public struct ControlSocketLocation: Sendable, Equatable {
    /// The Unix domain socket's path.
    public var socketPath: String
    /// The lock file's path: `control.sock` → `control.lock`, otherwise the socket path + `.lock`.
    public var lockPath: String
    /// The directory holding both; created with mode 0700 when missing.
    public var directory: String

    /// The longest socket path the kernel accepts (`sizeof(sun_path) - 1`).
    public static let maximumPathBytes = 107

    /// A location at an explicit socket path (e.g. from `--socket`).
    public init(socketPath: String) {
        self.socketPath = socketPath
        let url = URL(fileURLWithPath: socketPath)
        directory = url.deletingLastPathComponent().path
        lockPath = url.pathExtension == "sock" ? url.deletingPathExtension().path + ".lock" : socketPath + ".lock"
    }

    /// The default location, `$XDG_RUNTIME_DIR/gesturepad/control.sock`.
    ///
    /// Throws `DaemonError.controlRuntimeDirectoryUnset` when `XDG_RUNTIME_DIR` is unset or empty.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(DaemonError) -> ControlSocketLocation
    {
        guard let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty else {
            throw .controlRuntimeDirectoryUnset
        }
        return ControlSocketLocation(socketPath: runtime + "/gesturepad/control.sock")
    }

    /// `path` if given, else the default location.
    public static func resolve(_ path: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(DaemonError) -> ControlSocketLocation
    {
        if let path, !path.isEmpty { return ControlSocketLocation(socketPath: path) }
        return try standard(environment: environment)
    }
}

// MARK: - Broadcaster

/// Fans daemon events out to subscribed connections without ever blocking the publisher.
///
/// Each subscriber has a bounded buffer (`bufferSize` events). When a subscriber's buffer is
/// full the subscriber is **dropped** (not "drop oldest"): it is removed at once, its connection
/// gets a final `{"event":"dropped","reason":"slow subscriber"}` line when it next drains, and is
/// closed (after a grace period at the latest). Silently losing key events would mislead a
/// monitor; an explicit drop tells the client to reconnect.
public final class ControlBroadcaster: Sendable {
    /// Events buffered per subscriber before it counts as slow.
    public let bufferSize: Int

    private struct State {
        var subscribers: [UInt64: ControlSubscription] = [:]
        var nextIdentifier: UInt64 = 0
        var droppedCount = 0
    }
    private let state = Mutex(State())

    /// Creates a broadcaster with a per-subscriber buffer of `bufferSize` events (at least 1).
    public init(bufferSize: Int = 256) { self.bufferSize = max(1, bufferSize) }

    /// Sends `event` to every subscriber; never blocks, never waits for a slow reader.
    public func publish(_ event: ControlEvent) {
        let targets: [ControlSubscription] = state.withLock { state in
            state.subscribers.isEmpty ? [] : Array(state.subscribers.values)
        }
        for subscription in targets {
            switch subscription.continuation.yield(event) {
            case .enqueued: break
            case .dropped: drop(subscription, reason: "slow subscriber")
            case .terminated: remove(subscription)
            @unknown default: break
            }
        }
    }

    /// Subscribers currently attached.
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Subscribers dropped for being slow since this broadcaster was created.
    public var droppedSubscriberCount: Int { state.withLock { $0.droppedCount } }

    /// Attaches a new subscriber; `onDrop` runs (once, on the publisher's thread — keep it quick)
    /// if the subscriber is dropped for being slow.
    public func subscribe(onDrop: @escaping @Sendable (_ reason: String) -> Void = { _ in }) -> ControlSubscription {
        let (stream, continuation) = AsyncStream.makeStream(
            of: ControlEvent.self, bufferingPolicy: .bufferingOldest(bufferSize))
        let subscription = state.withLock { state in
            state.nextIdentifier += 1
            let subscription = ControlSubscription(
                identifier: state.nextIdentifier, events: stream, continuation: continuation, onDrop: onDrop)
            state.subscribers[subscription.identifier] = subscription
            return subscription
        }
        continuation.onTermination = { [weak self, weak subscription] _ in
            if let self, let subscription { self.remove(subscription) }
        }
        return subscription
    }

    /// Detaches every subscriber (their event streams end); used on shutdown.
    public func finishAll() {
        let all = state.withLock { state in
            defer { state.subscribers.removeAll() }
            return Array(state.subscribers.values)
        }
        for subscription in all { subscription.continuation.finish() }
    }

    private func remove(_ subscription: ControlSubscription) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: subscription.identifier) }
    }

    private func drop(_ subscription: ControlSubscription, reason: String) {
        let removed = state.withLock { state in
            guard state.subscribers.removeValue(forKey: subscription.identifier) != nil else { return false }
            state.droppedCount += 1
            return true
        }
        guard removed else { return }
        subscription.markDropped(reason: reason)
        subscription.continuation.finish()
        subscription.onDrop(reason)
    }
}

/// One subscriber's view of a `ControlBroadcaster`: a bounded stream of events.
public final class ControlSubscription: Sendable {
    let identifier: UInt64
    /// The events, in publish order; ends when cancelled, dropped or the broadcaster finishes.
    public let events: AsyncStream<ControlEvent>
    let continuation: AsyncStream<ControlEvent>.Continuation
    let onDrop: @Sendable (String) -> Void
    private let dropReason = Mutex<String?>(nil)

    init(
        identifier: UInt64, events: AsyncStream<ControlEvent>, continuation: AsyncStream<ControlEvent>.Continuation,
        onDrop: @escaping @Sendable (String) -> Void
    ) {
        (self.identifier, self.events, self.continuation, self.onDrop) = (identifier, events, continuation, onDrop)
    }

    /// Why the broadcaster dropped this subscriber, or nil while it is attached.
    public var droppedReason: String? { dropReason.withLock { $0 } }

    func markDropped(reason: String) { dropReason.withLock { $0 = reason } }

    /// Detaches from the broadcaster; the event stream ends.
    public func cancel() { continuation.finish() }
}

// MARK: - Framing

/// One inbound unit of the control protocol, as cut by `ControlLineDecoder`.
enum ControlFrame: Sendable {
    /// A complete line without its `\n` (and without a trailing `\r`).
    case line(ByteBuffer)
    /// A line longer than the limit; `bytes` is how many were seen when it was refused. The rest of
    /// the line, up to its newline, is skipped.
    case tooLong(bytes: Int)
}

/// Cuts the byte stream into lines of at most `maximumLineBytes` (before any JSON parsing).
///
/// An oversized line is reported once, as soon as it exceeds the limit, then skipped up to its
/// newline; the connection stays usable. A final unterminated line at EOF is delivered as a line.
struct ControlLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = ControlFrame
    let maximumLineBytes: Int
    /// True while skipping the rest of an oversized line.
    private var discarding = false
    /// Bytes of the pending partial line already searched for a newline (avoids rescans).
    private var scanned = 0

    init(maximumLineBytes: Int) { self.maximumLineBytes = maximumLineBytes }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        if discarding {
            guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
                buffer.moveReaderIndex(forwardBy: view.count)
                return .needMoreData
            }
            buffer.moveReaderIndex(forwardBy: view.distance(from: view.startIndex, to: newline) + 1)
            discarding = false
            return .continue
        }
        let searchStart = view.index(view.startIndex, offsetBy: scanned)
        if let newline = view[searchStart...].firstIndex(of: UInt8(ascii: "\n")) {
            let length = view.distance(from: view.startIndex, to: newline)
            scanned = 0
            if length > maximumLineBytes {
                buffer.moveReaderIndex(forwardBy: length + 1)
                context.fireChannelRead(wrapInboundOut(.tooLong(bytes: length)))
                return .continue
            }
            var line = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: 1)
            if line.readableBytesView.last == UInt8(ascii: "\r") { line.moveWriterIndex(to: line.writerIndex - 1) }
            context.fireChannelRead(wrapInboundOut(.line(line)))
            return .continue
        }
        if view.count > maximumLineBytes {
            context.fireChannelRead(wrapInboundOut(.tooLong(bytes: view.count)))
            buffer.moveReaderIndex(forwardBy: view.count)
            discarding = true
            scanned = 0
            return .needMoreData
        }
        scanned = view.count
        return .needMoreData
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if !discarding, buffer.readableBytes > 0, let line = buffer.readSlice(length: buffer.readableBytes) {
            context.fireChannelRead(wrapInboundOut(.line(line)))
        }
        scanned = 0
        return .needMoreData
    }
}

// MARK: - Server

/// The control socket server: bind once, `run()` until cancelled or `shutdown()`.
public final class ControlServer: Sendable {
    /// Settings of a control server.
    public struct Configuration: Sendable {
        /// Where the socket and lock live.
        public var location: ControlSocketLocation
        /// The longest request line accepted, in bytes.
        public var maximumLineBytes: Int
        /// How long a dropped slow subscriber may take to drain before its connection is closed.
        public var slowSubscriberGrace: Duration
        /// The event loops serving connections.
        public var eventLoopGroup: any EventLoopGroup

        /// Creates a configuration; defaults: 64 KiB lines, 2 s grace, the shared NIO event loops.
        public init(
            location: ControlSocketLocation, maximumLineBytes: Int = ControlProtocol.maximumLineBytes,
            slowSubscriberGrace: Duration = .seconds(2),
            eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
        ) {
            self.location = location
            self.maximumLineBytes = maximumLineBytes
            self.slowSubscriberGrace = slowSubscriberGrace
            self.eventLoopGroup = eventLoopGroup
        }
    }

    typealias Connection = NIOAsyncChannel<ControlFrame, ByteBuffer>

    /// The configuration this server was bound with.
    public let configuration: Configuration
    /// The broadcaster the daemon publishes events into.
    public let broadcaster: ControlBroadcaster
    private let handler: any ControlHandler
    private let listener: NIOAsyncChannel<Connection, Never>
    private let lock: ControlLockFile

    private struct State {
        var connections: [ObjectIdentifier: any Channel] = [:]
        /// Connections waiting for a handler's reply, and those streaming events (a graceful shutdown lets them finish).
        var replying: Set<ObjectIdentifier> = []
        var streaming: Set<ObjectIdentifier> = []
        var isShutDown = false
        var hasRun = false
    }
    private let state = Mutex(State())

    /// The socket path being served.
    public var socketPath: String { configuration.location.socketPath }

    /// Acquires the lock, removes a stale socket, binds the socket with mode 0600 and starts listening.
    ///
    /// Connections are accepted into the kernel's backlog at once but served only by `run()`.
    /// Throws `DaemonError.daemonAlreadyRunning` if another process holds the lock.
    public static func bind(
        _ configuration: Configuration, handler: any ControlHandler,
        broadcaster: ControlBroadcaster = ControlBroadcaster()
    ) async throws(DaemonError) -> ControlServer {
        let location = configuration.location
        guard location.socketPath.utf8.count <= ControlSocketLocation.maximumPathBytes else {
            throw .controlSocketPathTooLong(path: location.socketPath, limit: ControlSocketLocation.maximumPathBytes)
        }
        try ControlFileSystem.prepareDirectory(location.directory)
        let lock = try ControlLockFile.acquire(path: location.lockPath)
        do throws(DaemonError) {
            try ControlFileSystem.removeStaleSocket(at: location.socketPath)
            let listener = try await bindListener(configuration)
            return ControlServer(
                configuration: configuration, handler: handler, broadcaster: broadcaster,
                listener: listener, lock: lock)
        } catch {
            lock.release()
            throw error
        }
    }

    private init(
        configuration: Configuration, handler: any ControlHandler, broadcaster: ControlBroadcaster,
        listener: NIOAsyncChannel<Connection, Never>, lock: ControlLockFile
    ) {
        (self.configuration, self.handler, self.broadcaster, self.listener, self.lock) =
            (configuration, handler, broadcaster, listener, lock)
    }

    private static func bindListener(_ configuration: Configuration) async throws(DaemonError)
        -> NIOAsyncChannel<Connection, Never>
    {
        let path = configuration.location.socketPath
        let maximumLineBytes = configuration.maximumLineBytes
        let bootstrap = ServerBootstrap(group: configuration.eventLoopGroup)
            .serverChannelOption(.backlog, value: 32)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
        // The socket file is created by bind(2) with mode 0777 & ~umask: a umask of 0177 makes it
        // 0600 from its first instant (the process-wide umask is restored right after; files other
        // threads create meanwhile come out more private, never less). chmod below is a second guard.
        let previousMask = umask(0o177)
        let listener: NIOAsyncChannel<Connection, Never>
        do {
            listener = try await bootstrap.bind(unixDomainSocketPath: path) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(ControlLineDecoder(maximumLineBytes: maximumLineBytes)))
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        } catch {
            umask(previousMask)
            throw .controlBindFailed(path: path, reason: String(describing: error))
        }
        umask(previousMask)
        if chmod(path, 0o600) != 0 {
            let code = errno
            listener.channel.close(promise: nil)
            throw .controlSocketCall(call: "chmod", path: path, errno: code)
        }
        return listener
    }

    /// Serves connections until the calling task is cancelled or `shutdown()` is called, then closes
    /// every connection, removes the socket file and releases the lock. Call once.
    public func run() async throws {
        let alreadyRan = state.withLock { state in
            defer { state.hasRun = true }
            return state.hasRun
        }
        precondition(!alreadyRan, "ControlServer.run() called twice")
        defer { finishShutdown() }
        try await withTaskCancellationHandler {
            try await listener.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        } onCancel: {
            self.shutdown()
        }
    }

    /// Stops accepting, closes every connection and ends subscriptions; `run()` then returns.
    /// Safe from any thread, idempotent.
    public func shutdown() {
        let connections = state.withLock { state in
            state.isShutDown = true
            return Array(state.connections.values)
        }
        listener.channel.close(promise: nil)
        for channel in connections { channel.close(promise: nil) }
        broadcaster.finishAll()
    }

    /// A graceful shutdown: stops accepting, ends every subscription after the events already published (the
    /// daemon's `stopping` state and stop-path key-ups reach monitors), closes idle connections at once and the others
    /// once their reply or event backlog is written, or after `grace` at the latest; `run()` then returns.
    public func shutdownGracefully(within grace: Duration = .seconds(1)) async {
        let idle = state.withLock { state in
            state.isShutDown = true
            return state.connections.filter { !state.replying.contains($0.key) && !state.streaming.contains($0.key) }
                .map(\.value)
        }
        listener.channel.close(promise: nil)
        broadcaster.finishAll()
        for channel in idle { channel.close(promise: nil) }
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline {
            if state.withLock({ $0.replying.isEmpty && $0.streaming.isEmpty }) { break }
            try? await Task.sleep(for: .milliseconds(10))
        }
        shutdown()
    }

    private func finishShutdown() {
        shutdown()
        ControlFileSystem.removeSocketFile(at: socketPath)
        lock.release()
    }

    // MARK: Connections

    private func serve(_ connection: Connection) async {
        let channel = connection.channel
        let key = ObjectIdentifier(channel)
        let accepted = state.withLock { state in
            guard !state.isShutDown else { return false }
            state.connections[key] = channel
            return true
        }
        guard accepted else {
            try? await channel.close()
            return
        }
        defer {
            state.withLock { state in
                state.connections.removeValue(forKey: key)
                state.replying.remove(key)
                state.streaming.remove(key)
            }
        }
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    var subscription: ControlSubscription?
                    for try await frame in inbound where subscription == nil {
                        let request: ControlRequest
                        switch frame {
                        case .tooLong(let bytes):
                            let error = ControlProtocolError.lineTooLong(
                                bytes: bytes, limit: configuration.maximumLineBytes)
                            try await outbound.write(ByteBuffer(string: ControlProtocol.failureLine(error)))
                            continue
                        case .line(let line):
                            do throws(ControlProtocolError) {
                                request = try ControlRequest(line: line.readableBytesView)
                            } catch {
                                try await outbound.write(ByteBuffer(string: ControlProtocol.failureLine(error)))
                                continue
                            }
                        }
                        if request == .subscribe {
                            let started = subscribe(channel: channel)
                            subscription = started
                            state.withLock { _ = $0.streaming.insert(key) }
                            try await outbound.write(
                                ByteBuffer(string: ControlProtocol.successLine(command: "subscribe")))
                            group.addTask {
                                defer { self.state.withLock { _ = $0.streaming.remove(key) } }
                                try await self.stream(started, to: outbound, channel: channel)
                            }
                        } else {
                            state.withLock { _ = $0.replying.insert(key) }
                            defer { state.withLock { _ = $0.replying.remove(key) } }
                            try await outbound.write(ByteBuffer(string: await reply(to: request)))
                            // Shutting down: this was the last reply on this connection.
                            if state.withLock({ $0.isShutDown }) { break }
                        }
                    }
                    // EOF from the client ends the connection, and with it any subscription (lines a
                    // subscriber sends are ignored; closing its write side means "stop").
                    group.cancelAll()
                    try await group.waitForAll()
                }
            }
        } catch {
            // A connection's I/O failure (peer gone, reset) ends only that connection.
        }
    }

    private func subscribe(channel: any Channel) -> ControlSubscription {
        let grace = TimeAmount.nanoseconds(
            Int64(configuration.slowSubscriberGrace.components.seconds) * 1_000_000_000
                + configuration.slowSubscriberGrace.components.attoseconds / 1_000_000_000)
        return broadcaster.subscribe { _ in
            // Bound the time a dropped subscriber that never reads can hold its connection.
            channel.eventLoop.scheduleTask(in: grace) { channel.close(promise: nil) }
        }
    }

    private func stream(
        _ subscription: ControlSubscription, to outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        channel: any Channel
    ) async throws {
        defer { subscription.cancel() }
        for await event in subscription.events {
            if subscription.droppedReason != nil { break }
            try await outbound.write(ByteBuffer(string: event.jsonLine))
        }
        if let reason = subscription.droppedReason {
            try? await outbound.write(ByteBuffer(string: ControlEvent.dropped(reason: reason).jsonLine))
            try? await channel.close()
        }
    }

    private func reply(to request: ControlRequest) async -> String {
        let command = request.command
        do {
            switch request {
            case .status:
                var status = await handler.status()
                status.subscribers = broadcaster.subscriberCount
                return ControlProtocol.successLine(command: command, result: status)
            case .pause:
                return ControlProtocol.successLine(
                    command: command, result: StateResult(state: try await handler.pause()))
            case .resume:
                return ControlProtocol.successLine(
                    command: command, result: StateResult(state: try await handler.resume()))
            case .record(let label, let seconds):
                return ControlProtocol.successLine(
                    command: command,
                    result: try await handler.record(label: label, seconds: seconds))
            case .train:
                return ControlProtocol.successLine(command: command, result: try await handler.train())
            case .samples:
                return ControlProtocol.successLine(command: command, result: try await handler.samples())
            case .reload:
                return ControlProtocol.successLine(command: command, result: try await handler.reload())
            case .version:
                return ControlProtocol.successLine(
                    command: command, result: VersionInfo(daemon: handler.softwareVersion))
            case .subscribe:
                return ControlProtocol.successLine(command: command)
            }
        } catch let error as ControlCommandError {
            return ControlProtocol.failureLine(command: command, error: error.message, code: error.code)
        } catch {
            return ControlProtocol.failureLine(command: command, error: String(describing: error), code: "failed")
        }
    }
}

// MARK: - Files: directory, lock, stale socket

/// The lock that keeps a second daemon off the socket: `flock(LOCK_EX|LOCK_NB)` on the lock file,
/// held (fd open) until `release()`. The file holds the owner's pid for the error message.
final class ControlLockFile: Sendable {
    let path: String
    private let descriptor: Mutex<Int32>

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = Mutex(descriptor)
    }

    /// Opens (creating, mode 0600) and locks `path`; throws `daemonAlreadyRunning(pid:)` if held elsewhere.
    static func acquire(path: String) throws(DaemonError) -> ControlLockFile {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .controlSocketCall(call: "open", path: path, errno: errno) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            let owner = readPID(fd)
            close(fd)
            if code == EWOULDBLOCK { throw .daemonAlreadyRunning(pid: owner, lockPath: path) }
            throw .controlSocketCall(call: "flock", path: path, errno: code)
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
        return ControlLockFile(path: path, descriptor: fd)
    }

    private static func readPID(_ fd: Int32) -> Int32? {
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int32(String(decoding: bytes[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Unlocks and closes the lock file (the file itself stays); idempotent.
    func release() {
        descriptor.withLock { fd in
            guard fd >= 0 else { return }
            close(fd)  // closing the only descriptor of the open file description drops the flock
            fd = -1
        }
    }

    deinit { release() }
}

enum ControlFileSystem {
    /// Creates `directory` (mode 0700) if missing; refuses a path that exists but is not a directory.
    static func prepareDirectory(_ directory: String) throws(DaemonError) {
        var info = stat()
        if stat(directory, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw .controlDirectoryUnusable(path: directory, reason: "it exists and is not a directory")
            }
            return
        }
        guard errno == ENOENT else { throw .controlSocketCall(call: "stat", path: directory, errno: errno) }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .controlDirectoryUnusable(path: directory, reason: String(describing: error))
        }
        guard chmod(directory, 0o700) == 0 else {
            throw .controlSocketCall(call: "chmod", path: directory, errno: errno)
        }
    }

    /// With the lock held, any socket file at `path` is stale: unlink it. Anything else there is refused.
    static func removeStaleSocket(at path: String) throws(DaemonError) {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw .controlSocketCall(call: "lstat", path: path, errno: errno)
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else { throw .controlSocketOccupied(path: path) }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw .controlSocketCall(call: "unlink", path: path, errno: errno)
        }
    }

    /// Removes the socket file if it is still a socket (shutdown).
    static func removeSocketFile(at path: String) {
        var info = stat()
        if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK { unlink(path) }
    }
}

/// `strerror(code)` as a Swift string (for `DaemonError` descriptions).
func systemErrorMessage(_ code: Int32) -> String { String(cString: strerror(code)) }
