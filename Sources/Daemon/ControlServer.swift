// ControlServer: the daemon's control socket, a SwiftNIO Unix-domain-socket server speaking
// ControlProtocol. Owns the socket file (mode 0600, removed on shutdown), the lock file (flock held
// for the server's life, so a second daemon fails; the lock *file* stays on disk — unlinking it
// would let two daemons lock two different inodes), stale-socket cleanup, line framing with a
// length limit, one reply per request line in order, and event streaming to subscribers through a
// ControlBroadcaster (bounded per-subscriber buffers; publishing never blocks). Lifecycle after
// swift-service-lifecycle: `bind` acquires everything and throws early; `run()` serves until its
// task is cancelled or `shutdown()` is called. Permissions and lock after keyd's src/ipc.c; the directory,
// lock and socket trust checks (owner, mode, no symlinks: O_NOFOLLOW, fstat after open) after ssh-agent and
// systemd. Shutdown with clients mid-connect never leaves an unserved NIOAsyncChannel (see ControlServer); a
// client cap evicts the longest-idle client or refuses with one `too_many_clients` line.
import Foundation
import NIOCore
import NIOPosix
import Paths
import SystemSupport
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
    /// `record` after a countdown of `countdown` seconds (nil: the config's `countdown_seconds`; validated 0…30).
    func record(label: String, seconds: Double, countdown: Double?) async throws -> RecordResult
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

    /// Handlers without a countdown record at once.
    public func record(label: String, seconds: Double, countdown: Double?) async throws -> RecordResult {
        try await record(label: label, seconds: seconds)
    }
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
        guard let socketPath = GesturepadPaths(environment: environment).controlSocket else {
            throw .controlRuntimeDirectoryUnset
        }
        return ControlSocketLocation(socketPath: socketPath)
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
    /// A complete line without its terminator (`\n`, `\r\n` or a bare `\r`).
    case line(ByteBuffer)
    /// A line longer than the limit; `bytes` is how many were seen when it was refused. The rest of
    /// the line, up to its terminator, is skipped.
    case tooLong(bytes: Int)
}

/// Cuts the byte stream into lines of at most `maximumLineBytes` (before any JSON parsing).
///
/// A line ends at `\n`, `\r\n` or a bare `\r` (a terminal or `nc -C` may send only `\r`; issue 15 item 10:
/// such a request used to get no reply at all). `\r\n` is one terminator even when split across reads. JSON
/// allows a raw CR only as whitespace between tokens, so no valid request is cut by this.
/// An oversized line is reported once, as soon as it exceeds the limit, then skipped up to its
/// terminator; the connection stays usable. A final unterminated line at EOF is delivered as a line.
struct ControlLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = ControlFrame
    let maximumLineBytes: Int
    /// True while skipping the rest of an oversized line.
    private var discarding = false
    /// Bytes of the pending partial line already searched for a terminator (avoids rescans).
    private var scanned = 0
    /// The last line ended with `\r` at the end of the data seen so far: a `\n` arriving next belongs to it.
    private var afterCarriageReturn = false

    init(maximumLineBytes: Int) { self.maximumLineBytes = maximumLineBytes }

    private static func isTerminator(_ byte: UInt8) -> Bool { byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") }

    /// Skips the terminator at the reader index (one byte, or two for `\r\n`).
    private mutating func skipTerminator(_ buffer: inout ByteBuffer) {
        let terminator = buffer.readInteger(as: UInt8.self)
        if terminator == UInt8(ascii: "\r") {
            if let next = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) {
                if next == UInt8(ascii: "\n") { buffer.moveReaderIndex(forwardBy: 1) }
            } else {
                afterCarriageReturn = true
            }
        }
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = nextFrame(&buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    /// The next frame in `buffer`, or nil when more data is needed (the framing rules, free of the pipeline).
    mutating func nextFrame(_ buffer: inout ByteBuffer) -> ControlFrame? {
        while true {
            if afterCarriageReturn {
                guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
                afterCarriageReturn = false
                if first == UInt8(ascii: "\n") { buffer.moveReaderIndex(forwardBy: 1) }
            }
            let view = buffer.readableBytesView
            if discarding {
                guard let end = view.firstIndex(where: Self.isTerminator) else {
                    buffer.moveReaderIndex(forwardBy: view.count)
                    return nil
                }
                buffer.moveReaderIndex(forwardBy: view.distance(from: view.startIndex, to: end))
                skipTerminator(&buffer)
                discarding = false
                continue
            }
            let searchStart = view.index(view.startIndex, offsetBy: min(scanned, view.count))
            if let end = view[searchStart...].firstIndex(where: Self.isTerminator) {
                let length = view.distance(from: view.startIndex, to: end)
                scanned = 0
                if length > maximumLineBytes {
                    buffer.moveReaderIndex(forwardBy: length)
                    skipTerminator(&buffer)
                    return .tooLong(bytes: length)
                }
                let line = buffer.readSlice(length: length)!
                skipTerminator(&buffer)
                return .line(line)
            }
            if view.count > maximumLineBytes {
                buffer.moveReaderIndex(forwardBy: view.count)
                discarding = true
                scanned = 0
                return .tooLong(bytes: view.count)
            }
            scanned = view.count
            return nil
        }
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        while let frame = nextFrame(&buffer) { context.fireChannelRead(wrapInboundOut(frame)) }
        if let line = finalLine(&buffer) { context.fireChannelRead(wrapInboundOut(line)) }
        return .needMoreData
    }

    /// At EOF: the unterminated rest as a last line (nil when empty or while skipping an oversized line).
    mutating func finalLine(_ buffer: inout ByteBuffer) -> ControlFrame? {
        scanned = 0
        guard !discarding, buffer.readableBytes > 0, let line = buffer.readSlice(length: buffer.readableBytes) else {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return nil
        }
        return .line(line)
    }
}

// MARK: - Server

/// The control socket server: bind once, `run()` until cancelled or `shutdown()`.
///
/// Accepting is split in two so that no `NIOAsyncChannel` is ever created for a connection that nobody
/// serves (issue 15 item 6: a SIGTERM while clients connected crashed the daemon with SIGILL in
/// `NIOAsyncWriter`'s deinit, apple/swift-nio#3481 — an accepted channel still buffered in the listener's
/// stream when shutdown cancelled the accept loop was dropped without `executeThenClose`). The child-channel
/// initializer only admits the raw channel (reads paused) into a `ControlConnectionRegistry`; `serve` wraps it
/// in a `NIOAsyncChannel` and starts reading in one event-loop step and always runs `executeThenClose`.
/// A dropped raw channel is harmless: `shutdown()` closes every admitted channel, served or not.
public final class ControlServer: Sendable {
    /// How many clients may be connected at once (issue 15 item 10). When all are taken, the connection
    /// idle longest (no request in flight, not subscribed) is closed for the new one; when none is idle, the
    /// new one gets a `too_many_clients` error line and is closed.
    public static let defaultMaximumClients = 64
    /// The listen(2) backlog: a burst of connects waits in the kernel instead of failing with EAGAIN.
    public static let listenBacklog: Int32 = 512

    /// Settings of a control server.
    public struct Configuration: Sendable {
        /// Where the socket and lock live.
        public var location: ControlSocketLocation
        /// The longest request line accepted, in bytes.
        public var maximumLineBytes: Int
        /// How long a dropped slow subscriber may take to drain before its connection is closed.
        public var slowSubscriberGrace: Duration
        /// The most clients connected at once (see `ControlServer.defaultMaximumClients`).
        public var maximumClients: Int
        /// The event loops serving connections.
        public var eventLoopGroup: any EventLoopGroup

        /// Creates a configuration; defaults: 64 KiB lines, 2 s grace, 64 clients, the shared NIO event loops.
        public init(
            location: ControlSocketLocation, maximumLineBytes: Int = ControlProtocol.maximumLineBytes,
            slowSubscriberGrace: Duration = .seconds(2), maximumClients: Int = ControlServer.defaultMaximumClients,
            eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
        ) {
            self.location = location
            self.maximumLineBytes = maximumLineBytes
            self.slowSubscriberGrace = slowSubscriberGrace
            self.maximumClients = max(1, maximumClients)
            self.eventLoopGroup = eventLoopGroup
        }
    }

    typealias Connection = NIOAsyncChannel<ControlFrame, ByteBuffer>

    /// What the child-channel initializer hands the accept loop: a channel to serve, or one already
    /// being refused (its handler writes the error line and closes it).
    enum Accepted: Sendable {
        case serve(any Channel)
        case refused
    }

    /// The configuration this server was bound with.
    public let configuration: Configuration
    /// The broadcaster the daemon publishes events into.
    public let broadcaster: ControlBroadcaster
    private let handler: any ControlHandler
    private let listener: NIOAsyncChannel<Accepted, Never>
    private let lock: ControlLockFile
    private let registry: ControlConnectionRegistry
    /// The socket file this server created (device, inode): only that file is removed on shutdown.
    private let socketIdentity: ControlFileSystem.FileIdentity
    private let hasRun = Mutex(false)

    /// The socket path being served.
    public var socketPath: String { configuration.location.socketPath }

    /// Clients connected now (served or waiting to be served).
    public var clientCount: Int { registry.count }

    /// Connections refused with `too_many_clients` and idle ones closed for a newcomer, since bind.
    public var refusedAndEvictedCounts: (refused: Int, evicted: Int) { registry.counts }

    /// Checks the socket directory, acquires the lock, removes a stale socket, binds the socket with mode 0600
    /// and starts listening.
    ///
    /// Connections are accepted into the kernel's backlog at once but served only by `run()`.
    /// Throws `DaemonError.daemonAlreadyRunning` if another process holds the lock, and
    /// `controlPathUntrusted` when the directory or lock file could be controlled by someone else.
    public static func bind(
        _ configuration: Configuration, handler: any ControlHandler,
        broadcaster: ControlBroadcaster = ControlBroadcaster()
    ) async throws(DaemonError) -> ControlServer {
        let location = configuration.location
        guard location.socketPath.utf8.count <= ControlSocketLocation.maximumPathBytes else {
            throw .controlSocketPathTooLong(path: location.socketPath, limit: ControlSocketLocation.maximumPathBytes)
        }
        let directory = try ControlFileSystem.openTrustedDirectory(location.directory)
        defer { close(directory) }
        let lock = try ControlLockFile.acquire(directory: directory, path: location.lockPath)
        do throws(DaemonError) {
            try ControlFileSystem.removeStaleSocket(at: location.socketPath)
            let registry = ControlConnectionRegistry(limit: configuration.maximumClients)
            let listener = try await bindListener(configuration, registry: registry)
            do throws(DaemonError) {
                let identity = try ControlFileSystem.verifyOwnSocket(at: location.socketPath)
                return ControlServer(
                    configuration: configuration, handler: handler, broadcaster: broadcaster,
                    listener: listener, lock: lock, registry: registry, socketIdentity: identity)
            } catch {
                try? await listener.channel.close()
                throw error
            }
        } catch {
            lock.release()
            throw error
        }
    }

    private init(
        configuration: Configuration, handler: any ControlHandler, broadcaster: ControlBroadcaster,
        listener: NIOAsyncChannel<Accepted, Never>, lock: ControlLockFile, registry: ControlConnectionRegistry,
        socketIdentity: ControlFileSystem.FileIdentity
    ) {
        (self.configuration, self.handler, self.broadcaster, self.listener, self.lock) =
            (configuration, handler, broadcaster, listener, lock)
        (self.registry, self.socketIdentity) = (registry, socketIdentity)
    }

    private static func bindListener(_ configuration: Configuration, registry: ControlConnectionRegistry)
        async throws(DaemonError) -> NIOAsyncChannel<Accepted, Never>
    {
        let path = configuration.location.socketPath
        let maximumLineBytes = configuration.maximumLineBytes
        let bootstrap = ServerBootstrap(group: configuration.eventLoopGroup)
            .serverChannelOption(.backlog, value: listenBacklog)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            // Nothing is read until `serve` has installed the NIOAsyncChannel handlers (reads before that
            // would be lost); a refused channel never reads at all.
            .childChannelOption(.autoRead, value: false)
        // The socket file is created by bind(2) with mode 0777 & ~umask: a umask of 0177 makes it
        // 0600 from its first instant (the process-wide umask is restored right after; files other
        // threads create meanwhile come out more private, never less). chmod below is a second guard.
        let previousMask = umask(0o177)
        let listener: NIOAsyncChannel<Accepted, Never>
        do {
            listener = try await bootstrap.bind(unixDomainSocketPath: path) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let refusal: String
                    switch registry.admit(channel) {
                    case .admitted(let evicted):
                        if let evicted { Self.closeWithLine(evicted, ControlServer.evictedLine(registry.limit)) }
                        try channel.pipeline.syncOperations.addHandlers([
                            ByteToMessageHandler(ControlLineDecoder(maximumLineBytes: maximumLineBytes)),
                            ControlHeldFrames(),
                        ])
                        return .serve(channel)
                    case .full:
                        refusal = ControlProtocol.failureLine(
                            command: nil,
                            error: "too many clients (limit \(registry.limit), all busy); try again shortly",
                            code: "too_many_clients")
                    case .shutDown:
                        refusal = ControlProtocol.failureLine(
                            command: nil, error: "the daemon is stopping", code: "stopping")
                    }
                    try channel.pipeline.syncOperations.addHandler(ControlRefusalHandler(line: refusal))
                    return .refused
                }
            }
        } catch {
            umask(previousMask)
            throw .controlBindFailed(path: path, reason: String(describing: error))
        }
        umask(previousMask)
        if case .failure(let code) = SystemCall.result({ chmod(path, 0o600) }) {
            try? await listener.channel.close()
            throw .controlSocketCall(call: "chmod", path: path, errno: code)
        }
        return listener
    }

    static func evictedLine(_ limit: Int) -> String {
        ControlProtocol.failureLine(
            command: nil, error: "closed: idle while the daemon was at its limit of \(limit) clients",
            code: "idle_closed")
    }

    /// Writes `line` to `channel` (not through its NIOAsyncChannel: used only for idle or unserved
    /// connections) and closes it once written.
    static func closeWithLine(_ channel: any Channel, _ line: String) {
        channel.writeAndFlush(ByteBuffer(string: line)).whenComplete { _ in channel.close(promise: nil) }
    }

    /// Serves connections until the calling task is cancelled or `shutdown()` is called, then closes
    /// every connection, removes the socket file and releases the lock. Call once.
    public func run() async throws {
        let alreadyRan = hasRun.withLock { ran in
            defer { ran = true }
            return ran
        }
        precondition(!alreadyRan, "ControlServer.run() called twice")
        defer { finishShutdown() }
        try await withTaskCancellationHandler {
            try await listener.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await accepted in inbound {
                        guard case .serve(let channel) = accepted else { continue }
                        group.addTask { await self.serve(channel) }
                    }
                }
            }
        } onCancel: {
            self.shutdown()
        }
    }

    /// Stops accepting, closes every connection (served or still waiting) and ends subscriptions; `run()`
    /// then returns. Safe from any thread, idempotent.
    public func shutdown() {
        let channels = registry.shutDown()
        listener.channel.close(promise: nil)
        for channel in channels { channel.close(promise: nil) }
        broadcaster.finishAll()
    }

    /// A graceful shutdown: stops accepting, ends every subscription after the events already published (the
    /// daemon's `stopping` state and stop-path key-ups reach monitors), closes idle connections at once and the others
    /// once their reply or event backlog is written, or after `grace` at the latest; `run()` then returns.
    public func shutdownGracefully(within grace: Duration = .seconds(1)) async {
        let idle = registry.beginShutdown()
        listener.channel.close(promise: nil)
        broadcaster.finishAll()
        for channel in idle { channel.close(promise: nil) }
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline, registry.hasActiveConnections {
            try? await Task.sleep(for: .milliseconds(10))
        }
        shutdown()
    }

    private func finishShutdown() {
        shutdown()
        ControlFileSystem.removeSocketFile(at: socketPath, ifIdentity: socketIdentity)
        lock.release()
    }

    // MARK: Connections

    private func serve(_ channel: any Channel) async {
        // Wrap and start reading in one event-loop step: once the NIOAsyncChannel exists, executeThenClose
        // below always runs (nothing between can throw), so its writer is always finished.
        let connection: Connection
        do {
            connection = try await channel.eventLoop.submit {
                let connection = try Connection(wrappingChannelSynchronously: channel)
                try channel.pipeline.syncOperations.handler(type: ControlHeldFrames.self).release()
                try channel.syncOptions?.setOption(.autoRead, value: true)
                return connection
            }.get()
        } catch {
            // Closed meanwhile (client gone, evicted, shutdown): a handler added to an active channel keeps the
            // writer until the pipeline is torn down, which finishes it first.
            channel.close(promise: nil)
            return
        }
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    var subscription: ControlSubscription?
                    for try await frame in inbound where subscription == nil {
                        registry.setBusy(channel, true)
                        defer { registry.setBusy(channel, false) }
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
                            registry.setSubscribed(channel)
                            let started = subscribe(channel: channel)
                            subscription = started
                            try await outbound.write(
                                ByteBuffer(string: ControlProtocol.successLine(command: "subscribe")))
                            group.addTask {
                                defer { self.registry.setStreamEnded(channel) }
                                try await self.stream(started, to: outbound, channel: channel)
                            }
                        } else {
                            try await outbound.write(ByteBuffer(string: await reply(to: request)))
                            // Shutting down: this was the last reply on this connection.
                            if registry.isShutDown { break }
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
            case .record(let label, let seconds, let countdown):
                return ControlProtocol.successLine(
                    command: command,
                    result: try await handler.record(label: label, seconds: seconds, countdown: countdown))
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

// MARK: - Connection registry and refusal

/// The connections a server holds: the client cap, what each connection is doing, eviction of the one idle
/// longest, and the shutdown snapshot. Admission and `shutDown()` share one lock, so a channel is either in
/// the snapshot that shutdown closes or refused — never left open and unowned.
final class ControlConnectionRegistry: Sendable {
    enum Admission {
        /// Admitted; `evicted` is an idle connection that made room and must be closed.
        case admitted(evicted: (any Channel)?)
        /// Every slot is busy (a request in flight or a subscriber).
        case full
        /// The server is shutting down.
        case shutDown
    }

    private struct Entry {
        var channel: any Channel
        var lastActive: ContinuousClock.Instant
        var busy = false
        var subscribed = false
    }
    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var isShutDown = false
        var refused = 0
        var evicted = 0
    }
    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) { self.limit = max(1, limit) }

    var count: Int { state.withLock { $0.entries.count } }
    var counts: (refused: Int, evicted: Int) { state.withLock { ($0.refused, $0.evicted) } }

    /// Admits `channel` (removed again when it closes), making room by evicting the longest-idle connection.
    func admit(_ channel: any Channel) -> Admission {
        let admission: Admission = state.withLock { state in
            guard !state.isShutDown else { return .shutDown }
            var evicted: (any Channel)?
            if state.entries.count >= limit {
                let idle = state.entries.filter { !$0.value.busy && !$0.value.subscribed }
                guard let oldest = idle.min(by: { $0.value.lastActive < $1.value.lastActive }) else {
                    state.refused += 1
                    return .full
                }
                evicted = state.entries.removeValue(forKey: oldest.key)?.channel
                state.evicted += 1
            }
            state.entries[ObjectIdentifier(channel)] = Entry(channel: channel, lastActive: .now)
            return .admitted(evicted: evicted)
        }
        if case .admitted = admission {
            channel.closeFuture.whenComplete { [weak self] _ in self?.remove(channel) }
        }
        return admission
    }

    func setBusy(_ channel: any Channel, _ busy: Bool) {
        state.withLock { state in
            state.entries[ObjectIdentifier(channel)]?.busy = busy
            state.entries[ObjectIdentifier(channel)]?.lastActive = .now
        }
    }

    func setSubscribed(_ channel: any Channel) {
        state.withLock { $0.entries[ObjectIdentifier(channel)]?.subscribed = true }
    }

    /// A subscriber whose event stream ended (shutdown finished it): no longer holds a graceful shutdown open.
    func setStreamEnded(_ channel: any Channel) {
        state.withLock { $0.entries[ObjectIdentifier(channel)]?.subscribed = false }
    }

    var isShutDown: Bool { state.withLock { $0.isShutDown } }

    /// Whether a connection is still replying or streaming events (a graceful shutdown waits for those).
    var hasActiveConnections: Bool { state.withLock { $0.entries.values.contains { $0.busy || $0.subscribed } } }

    /// Refuses every later admission and returns the idle channels (no request in flight, no event stream), to close
    /// at once; the others finish first (`hasActiveConnections`), then `shutDown()` closes whatever is left.
    func beginShutdown() -> [any Channel] {
        state.withLock { state in
            state.isShutDown = true
            return state.entries.values.filter { !$0.busy && !$0.subscribed }.map(\.channel)
        }
    }

    func remove(_ channel: any Channel) {
        _ = state.withLock { $0.entries.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Refuses every later admission and returns the channels to close.
    func shutDown() -> [any Channel] {
        state.withLock { state in
            state.isShutDown = true
            return state.entries.values.map(\.channel)
        }
    }
}

/// Holds what reaches the end of an unserved connection's pipeline — frames NIO reads despite autoRead being off
/// (it reads once on EOF: a client that writes a request and half-closes at once) and the half-close event —
/// until `serve` has put the NIOAsyncChannel handlers behind it; `release()` forwards them in order and then lets
/// everything pass. Event-loop only.
final class ControlHeldFrames: ChannelInboundHandler {
    typealias InboundIn = ControlFrame
    typealias InboundOut = ControlFrame
    private enum Held {
        case read(NIOAny)
        case event(Any)
    }
    private var held: [Held]? = []
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if held != nil { held!.append(.read(data)) } else { context.fireChannelRead(data) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if held == nil { context.fireChannelReadComplete() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if held != nil { held!.append(.event(event)) } else { context.fireUserInboundEventTriggered(event) }
    }

    /// Forwards everything held, then passes everything through.
    func release() {
        guard let context, let pending = held else { return }
        held = nil
        for item in pending {
            switch item {
            case .read(let data): context.fireChannelRead(data)
            case .event(let event): context.fireUserInboundEventTriggered(event)
            }
        }
        if !pending.isEmpty { context.fireChannelReadComplete() }
    }
}

/// On a refused connection: writes one error line as soon as the channel is active, then closes it.
final class ControlRefusalHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let line: String

    init(line: String) { self.line = line }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { refuse(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        refuse(context)
        context.fireChannelActive()
    }

    private func refuse(_ context: ChannelHandlerContext) {
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: line))).whenComplete { _ in
            channel.close(promise: nil)
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

    /// Opens (creating, mode 0600) and locks the lock file at `path` inside the already verified `directory`
    /// (a descriptor from `ControlFileSystem.openTrustedDirectory`). Never follows a symbolic link and refuses
    /// anything but a regular file of ours with one link before writing to it; throws `daemonAlreadyRunning(pid:)`
    /// if the lock is held elsewhere.
    static func acquire(directory: Int32, path: String) throws(DaemonError) -> ControlLockFile {
        let name = URL(fileURLWithPath: path).lastPathComponent
        let opened = SystemCall.result(retryOnInterrupt: true) {
            openat(directory, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o600)
        }
        let fd: Int32
        switch opened {
        case .success(let descriptor): fd = descriptor
        case .failure(let code):
            if code.rawValue == ELOOP {
                throw .controlPathUntrusted(
                    path: path, found: "a symbolic link", expected: "a regular file owned by you, not a link")
            }
            if code.rawValue == EISDIR {
                throw .controlPathUntrusted(path: path, found: "a directory", expected: "a regular file owned by you")
            }
            throw .controlSocketCall(call: "open", path: path, errno: code)
        }
        do throws(DaemonError) {
            try ControlFileSystem.checkLockFile(fd, path: path)
        } catch {
            close(fd)
            throw error
        }
        if case .failure(let code) = SystemCall.result(retryOnInterrupt: true, { flock(fd, LOCK_EX | LOCK_NB) }) {
            let owner = readPID(fd)
            close(fd)
            if code.rawValue == EWOULDBLOCK { throw .daemonAlreadyRunning(pid: owner, lockPath: path) }
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

/// Trust checks for the control socket's directory and files (issue 15 item 4), as ssh-agent and systemd
/// do them: the socket's directory must be a real directory (never a symbolic link: opened with
/// O_NOFOLLOW|O_DIRECTORY and checked with fstat) owned by the user and writable by nobody else; its parent
/// (e.g. `$XDG_RUNTIME_DIR`) must be owned by the user or root and not let others rename entries (not
/// group/world-writable, or sticky like /tmp). Directories we create are 0700. Everything else (lock, socket)
/// then lives in a directory only the user can change.
enum ControlFileSystem {
    /// A file's (device, inode), to recognise the socket this process bound.
    struct FileIdentity: Sendable, Equatable {
        var device: UInt64
        var inode: UInt64
    }

    /// `mode & 0o7777` as four octal digits, e.g. `0777`.
    static func octal(_ mode: mode_t) -> String {
        let digits = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: "a regular file"
        case S_IFDIR: "a directory"
        case S_IFLNK: "a symbolic link"
        case S_IFSOCK: "a socket"
        case S_IFIFO: "a FIFO"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        default: "an unknown kind of file"
        }
    }

    /// Creates `directory` (and missing parents) with mode 0700 when missing, checks it and its parent, and
    /// returns an open descriptor of the directory (the caller closes it).
    static func openTrustedDirectory(_ directory: String, owner: uid_t = geteuid()) throws(DaemonError) -> Int32 {
        try makeMissingDirectories(directory)
        let parent = URL(fileURLWithPath: directory).deletingLastPathComponent().path
        if parent != directory { try checkParent(parent, owner: owner) }
        let fd: Int32
        switch SystemCall.result(
            retryOnInterrupt: true, { open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) })
        {
        case .success(let descriptor): fd = descriptor
        case .failure(let code):
            var info = stat()
            if lstat(directory, &info) == 0 {
                if info.st_mode & S_IFMT == S_IFLNK {
                    throw .controlPathUntrusted(
                        path: directory, found: "a symbolic link",
                        expected: "a real directory owned by you, mode 0700")
                }
                if info.st_mode & S_IFMT != S_IFDIR {
                    throw .controlDirectoryUnusable(path: directory, reason: "it exists and is not a directory")
                }
            }
            throw .controlSocketCall(call: "open", path: directory, errno: code)
        }
        var info = stat()
        if case .failure(let code) = SystemCall.result({ fstat(fd, &info) }) {
            close(fd)
            throw .controlSocketCall(call: "fstat", path: directory, errno: code)
        }
        if info.st_uid != owner {
            close(fd)
            throw .controlPathUntrusted(
                path: directory, found: "owned by uid \(info.st_uid)", expected: "owned by you (uid \(owner)), 0700")
        }
        if info.st_mode & 0o022 != 0 {
            close(fd)
            throw .controlPathUntrusted(
                path: directory, found: "mode \(octal(info.st_mode))", expected: "owner-only, 0700")
        }
        return fd
    }

    /// The directory holding the socket's directory: others must not be able to rename or replace entries in it.
    static func checkParent(_ parent: String, owner: uid_t) throws(DaemonError) {
        var info = stat()
        if case .failure(let code) = SystemCall.result({ stat(parent, &info) }) {
            throw .controlSocketCall(call: "stat", path: parent, errno: code)
        }
        let expected = "owned by you or root and not writable by others (or sticky, like /tmp)"
        if info.st_uid != owner && info.st_uid != 0 {
            throw .controlPathUntrusted(path: parent, found: "owned by uid \(info.st_uid)", expected: expected)
        }
        if info.st_mode & 0o022 != 0 && info.st_mode & S_ISVTX == 0 {
            throw .controlPathUntrusted(path: parent, found: "mode \(octal(info.st_mode))", expected: expected)
        }
    }

    /// mkdir -p with mode 0700 for every component created (existing ones are left as they are and checked
    /// by the caller).
    static func makeMissingDirectories(_ directory: String) throws(DaemonError) {
        var info = stat()
        switch SystemCall.result({ lstat(directory, &info) }) {
        case .success: return
        case .failure(.noSuchFileOrDirectory): break
        case .failure(let code): throw .controlSocketCall(call: "lstat", path: directory, errno: code)
        }
        let parent = URL(fileURLWithPath: directory).deletingLastPathComponent().path
        if parent != directory { try makeMissingDirectories(parent) }
        switch SystemCall.result({ mkdir(directory, 0o700) }) {
        case .success, .failure(.fileExists): break
        case .failure(let code): throw .controlDirectoryUnusable(path: directory, reason: code.description)
        }
        _ = chmod(directory, 0o700)  // the umask may have removed bits; never adds any for others
    }

    /// The open lock file must be a regular file of ours with a single link, writable by nobody else.
    static func checkLockFile(_ fd: Int32, path: String, owner: uid_t = geteuid()) throws(DaemonError) {
        var info = stat()
        if case .failure(let code) = SystemCall.result({ fstat(fd, &info) }) {
            throw .controlSocketCall(call: "fstat", path: path, errno: code)
        }
        let expected = "a regular file owned by you (uid \(owner)), mode 0600, with one link"
        if info.st_mode & S_IFMT != S_IFREG {
            throw .controlPathUntrusted(path: path, found: kind(info.st_mode), expected: expected)
        }
        if info.st_uid != owner {
            throw .controlPathUntrusted(path: path, found: "owned by uid \(info.st_uid)", expected: expected)
        }
        if info.st_nlink != 1 {
            throw .controlPathUntrusted(
                path: path, found: "a file with \(info.st_nlink) hard links", expected: expected)
        }
        if info.st_mode & 0o022 != 0 {
            throw .controlPathUntrusted(path: path, found: "mode \(octal(info.st_mode))", expected: expected)
        }
    }

    /// With the lock held, a socket of ours at `path` is stale: unlink it. Anything else there is refused.
    static func removeStaleSocket(at path: String, owner: uid_t = geteuid()) throws(DaemonError) {
        var info = stat()
        switch SystemCall.result({ lstat(path, &info) }) {
        case .success: break
        case .failure(.noSuchFileOrDirectory): return
        case .failure(let code): throw .controlSocketCall(call: "lstat", path: path, errno: code)
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else { throw .controlSocketOccupied(path: path) }
        guard info.st_uid == owner else {
            throw .controlPathUntrusted(
                path: path, found: "a socket owned by uid \(info.st_uid)", expected: "owned by you (uid \(owner))")
        }
        switch SystemCall.result({ unlink(path) }) {
        case .success, .failure(.noSuchFileOrDirectory): break
        case .failure(let code): throw .controlSocketCall(call: "unlink", path: path, errno: code)
        }
    }

    /// After bind: the path must be a socket owned by us; returns its identity for `removeSocketFile`.
    static func verifyOwnSocket(at path: String, owner: uid_t = geteuid()) throws(DaemonError) -> FileIdentity {
        var info = stat()
        if case .failure(let code) = SystemCall.result({ lstat(path, &info) }) {
            throw .controlSocketCall(call: "lstat", path: path, errno: code)
        }
        guard info.st_mode & S_IFMT == S_IFSOCK, info.st_uid == owner else {
            throw .controlPathUntrusted(
                path: path, found: "\(kind(info.st_mode)) owned by uid \(info.st_uid) right after bind",
                expected: "the socket just bound, owned by you (uid \(owner))")
        }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// Removes the socket file on shutdown, only if it is still the socket this server bound.
    static func removeSocketFile(at path: String, ifIdentity identity: FileIdentity) {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK,
            FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)) == identity
        else { return }
        unlink(path)
    }

    /// Client side, before connect: `path` must be a socket (not a symbolic link) owned by us. Nil when nothing
    /// is there (the daemon is not running).
    static func checkSocketBeforeConnect(_ path: String, owner: uid_t = geteuid()) throws(DaemonError) {
        var info = stat()
        switch SystemCall.result({ lstat(path, &info) }) {
        case .success: break
        case .failure(.noSuchFileOrDirectory): throw .daemonNotRunning(socketPath: path)
        case .failure(let code): throw .controlSocketCall(call: "lstat", path: path, errno: code)
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw .controlPathUntrusted(
                path: path, found: kind(info.st_mode), expected: "the daemon's socket itself, owned by you")
        }
        guard info.st_uid == owner else {
            throw .controlPathUntrusted(
                path: path, found: "a socket owned by uid \(info.st_uid)", expected: "owned by you (uid \(owner))")
        }
    }

    /// Client side, after connect: the listening process must run as us (SO_PEERCRED).
    static func checkPeer(_ fd: Int32, path: String, owner: uid_t = geteuid()) throws(DaemonError) {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; } — Glibc's Swift module hides it (_GNU_SOURCE only).
        var credentials: [UInt32] = [0, 0, 0]
        var length = socklen_t(3 * MemoryLayout<UInt32>.size)
        let result = credentials.withUnsafeMutableBytes { buffer in
            SystemCall.result { getsockopt(fd, SOL_SOCKET, SO_PEERCRED, buffer.baseAddress, &length) }
        }
        if case .failure(let code) = result {
            throw .controlSocketCall(call: "getsockopt(SO_PEERCRED)", path: path, errno: code)
        }
        guard length == socklen_t(3 * MemoryLayout<UInt32>.size) else {
            throw .controlSocketCall(call: "getsockopt(SO_PEERCRED)", path: path, errno: .invalidArgument)
        }
        guard credentials[1] == owner else {
            throw .controlPeerUntrusted(socketPath: path, peerUID: credentials[1], ownUID: owner)
        }
    }
}
