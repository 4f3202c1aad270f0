// DaemonRunner: `gesturepad daemon` assembled — config → DaemonSettings, the workspace, key output
// (uinput, or dry-run with the reason), the GestureDaemon pipeline, and swift-service-lifecycle's
// service group: SIGTERM/SIGINT shut down gracefully (keys released, STOPPING=1), SIGHUP reloads the
// config (keys released first, RELOADING=1 … READY=1), systemd gets READY=1, STATUS= and WATCHDOG=1
// at half of WATCHDOG_USEC — only while the pipeline thread makes progress (GestureDaemon.pipelineStall),
// so a hung pipeline is restarted by systemd even though the rest of the process still answers.
// Extra services (the control socket) join the same group. The executable only parses options and
// calls `run`. ConfigReloader decides what a reload applies: keys the schema marks "restart" keep their
// running values and are named in the reply; a config file deleted since the start is an error, never
// a silent switch to the defaults.
import Capture
import Foundation
import Gestures
import Logging
import NeuralNet
import ServiceLifecycle
import Settings
import Synchronization
import UnixSignals

extension DaemonSettings {
    /// Settings from a loaded config (`camera.device` is the camera or a recording to read).
    public init(
        config: GesturepadConfig,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(DaemonError) {
        var keys: [String: KeyChord] = [:]
        for label in config.labels.names {
            if let chord = config.chord(for: label) { keys[label] = try chord.keyChord() }
        }
        self.init(
            workspace: config.workspaceConfiguration(environment: environment),
            source: config.camera.device, camera: config.cameraConfiguration(), keys: keys,
            filter: config.decisionFilterSettings(), recording: config.recordingSettings(),
            training: config.trainingOptions(), lensCover: config.lensCover,
            pauseHotkey: try config.daemon.pauseHotkey?.keyChord(),
            shareDevice: config.share == .v4l2loopback ? config.shareDevice : nil)
    }
}

/// What a reload applies: the new settings and the changed keys that only a restart applies.
public struct ReloadPlan: Sendable {
    public var settings: DaemonSettings
    /// "model.name changed: restart the daemon to apply", one per changed restart-only key.
    public var restartNeeded: [String]

    public init(settings: DaemonSettings, restartNeeded: [String] = []) {
        self.settings = settings
        self.restartNeeded = restartNeeded
    }
}

/// Re-reads the config for reloads and compares it with the running one through the schema.
public final class ConfigReloader: Sendable {
    /// Loads the config as at start (same path resolution, same command-line overrides).
    private let load: @Sendable () -> ConfigLoadResult
    private let environment: [String: String]
    /// The config in effect: what was loaded at start, then what each reload applied.
    private let running: Mutex<ConfigLoadResult>

    /// A reloader starting from `initial` (the config the daemon was started with).
    public init(
        initial: ConfigLoadResult, environment: [String: String] = ProcessInfo.processInfo.environment,
        load: @escaping @Sendable () -> ConfigLoadResult
    ) {
        self.load = load
        self.environment = environment
        running = Mutex(initial)
    }

    /// The config in effect.
    public var config: GesturepadConfig { running.withLock { $0.config } }

    /// Loads the config again. Throws when it has errors, or when the file the daemon runs from has gone (then
    /// the defaults would apply without anyone asking); both keep the running config. Changed keys that need a
    /// restart keep their running values and are listed in the plan.
    public func next() throws(DaemonError) -> ReloadPlan {
        let fresh = load()
        let current = running.withLock { $0 }
        if let path = current.source.path, fresh.source.path == nil {
            throw .configFileRemoved(path: path)
        }
        var applied: GesturepadConfig
        do { applied = try fresh.validConfig() } catch { throw .reloadConfigInvalid(error) }
        var restartNeeded: [String] = []
        for key in SettingsSchema.changedKeys(from: current.config, to: applied) where key.application == .restart {
            restartNeeded.append("\(key.dottedName) changed: restart the daemon to apply")
            try? key.write(&applied, key.read(current.config))
        }
        let settings = try DaemonSettings(config: applied, environment: environment)
        running.withLock {
            $0 = fresh
            $0.config = applied
        }
        return ReloadPlan(settings: settings, restartNeeded: restartNeeded)
    }
}

/// The pipeline as a service: starts the daemon, tells systemd, feeds the watchdog, reloads on SIGHUP,
/// and on graceful shutdown stops the pipeline (releasing every key) before returning.
public struct PipelineService: Service {
    public let daemon: GestureDaemon
    public let notifier: SystemdNotifier
    public let logger: Logger
    /// Re-reads the config for SIGHUP / `reload` (ConfigReloader.next in the daemon).
    public let reloadSettings: @Sendable () throws(DaemonError) -> ReloadPlan

    public init(
        daemon: GestureDaemon, notifier: SystemdNotifier, logger: Logger,
        reloadSettings: @escaping @Sendable () throws(DaemonError) -> ReloadPlan
    ) {
        self.daemon = daemon
        self.notifier = notifier
        self.logger = logger
        self.reloadSettings = reloadSettings
    }

    /// Reloads the config: keys are released first; errors leave the running settings in place (and are logged).
    /// Returns the changed keys that need a restart (also logged as warnings).
    @discardableResult
    public func reload() throws(DaemonError) -> [String] {
        try? notifier.send(.reloadingNow())
        defer { try? notifier.send([.ready, .status(Self.statusLine(daemon.snapshot()))]) }
        let plan: ReloadPlan
        do {
            plan = try reloadSettings()
            try daemon.reload(plan.settings)
        } catch {
            logger.error("reload failed, keeping the running configuration: \(error.description)")
            throw error
        }
        for note in plan.restartNeeded { logger.warning("\(note)") }
        let pending = plan.restartNeeded.isEmpty ? "" : " (\(plan.restartNeeded.count) change(s) need a restart)"
        logger.info("configuration reloaded\(pending)")
        return plan.restartNeeded
    }

    public func run() async throws {
        // SIGHUP is trapped before READY=1: systemd (ExecReload) or a user may send it right after, and
        // its default action would kill the daemon, possibly with a key held.
        let reloadSignals = await UnixSignalsSequence(trapping: .sighup)
        daemon.start()
        try? notifier.send([.ready, .status("starting: \(daemon.snapshot().source)")])
        logger.info(
            "gesturepad daemon started",
            metadata: [
                "source": "\(daemon.snapshot().source)",
                "dry-run": "\(daemon.dryRun)",
            ])
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    if let interval = notifier.watchdogInterval, let timeout = notifier.watchdogTimeout {
                        group.addTask {
                            var withheld = false
                            while !Task.isCancelled {
                                let ping = Self.watchdogShouldPing(stall: daemon.pipelineStall(), timeout: timeout)
                                if ping { try? notifier.send(.watchdog) }
                                if ping == withheld {
                                    withheld = !ping
                                    if withheld {
                                        logger.error(
                                            """
                                            the pipeline has made no progress for over \(timeout) (stuck in a camera \
                                            call or a deadlock): watchdog pings withheld so that systemd restarts it
                                            """)
                                    } else {
                                        logger.notice("the pipeline is making progress again; watchdog pings resumed")
                                    }
                                }
                                try await Task.sleep(for: interval)
                            }
                        }
                    }
                    group.addTask {
                        while !Task.isCancelled {
                            try await Task.sleep(for: .seconds(5))
                            try? notifier.send(.status(Self.statusLine(daemon.snapshot())))
                        }
                    }
                    group.addTask {
                        for await _ in reloadSignals {
                            do throws(DaemonError) { try reload() } catch {
                                // reload() logged it; the running configuration stays.
                            }
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        } catch is CancellationError {
            // Graceful shutdown.
        }
        try? notifier.send([.stopping, .status("stopping")])
        do throws(DaemonError) {
            try daemon.stop()
            logger.info("gesturepad daemon stopped; all keys released")
        } catch {
            // Each failed release was logged and sent to subscribers when it happened; `DaemonRunner.run` exits
            // non-zero after the control socket has flushed them.
            logger.error("gesturepad daemon stopped, but \(error.description)")
        }
    }

    /// Whether to send WATCHDOG=1 now: yes while the pipeline went round its loop within the watchdog timeout (or
    /// runs no loop at all: before start, after stop); no once it has been stuck longer. With pings every half
    /// timeout, systemd's watchdog fires at most about two timeouts after the pipeline stopped.
    static func watchdogShouldPing(stall: Duration?, timeout: Duration) -> Bool {
        guard let stall else { return true }
        return stall <= timeout
    }

    /// A one-line STATUS= text.
    static func statusLine(_ snapshot: DaemonSnapshot) -> String {
        var parts = ["\(snapshot.state.rawValue)", String(format: "%.1f fps", snapshot.statistics.framesPerSecond)]
        if let version = snapshot.headVersion { parts.append("head v\(version)") } else { parts.append("no head yet") }
        if snapshot.dryRun { parts.append("dry-run") }
        return parts.joined(separator: ", ")
    }
}

/// Runs a service group until SIGTERM/SIGINT.
public enum DaemonRunner {
    /// Runs `pipeline` and `extraServices` (e.g. the control server) until a graceful shutdown signal.
    ///
    /// The group shuts its services down one at a time in reverse order, so the pipeline comes last in the list: it
    /// stops first (state `stopping`, key-ups with reason `stop`, pending `record`/`train` requests answered), and
    /// only then does the control socket flush those events to its subscribers and close. Throws
    /// `keyReleaseFailed` (a non-zero exit) when any key release failed during the daemon's life.
    public static func run(pipeline: PipelineService, extraServices: [any Service], logger: Logger) async throws {
        try await run(
            serviceGroup(pipeline: pipeline, extraServices: extraServices, logger: logger), pipeline: pipeline)
    }

    /// The service group `run` uses (pipeline last, so it stops first); tests pass no signals and call
    /// `triggerGracefulShutdown()` instead of sending SIGTERM to the test process.
    public static func serviceGroup(
        pipeline: PipelineService, extraServices: [any Service], logger: Logger,
        gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint]
    ) -> ServiceGroup {
        ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: extraServices.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
                    + [ServiceGroupConfiguration.ServiceConfiguration(service: pipeline)],
                gracefulShutdownSignals: gracefulShutdownSignals, cancellationSignals: [], logger: logger))
    }

    /// Runs `group` to its end, then throws `keyReleaseFailed` if any release of `pipeline`'s daemon failed, else
    /// `filterFailed` if its decision filter failed.
    public static func run(_ group: ServiceGroup, pipeline: PipelineService) async throws {
        try await group.run()
        if let failure = pipeline.daemon.failureToReport { throw failure }
    }
}

/// The control socket as a service: serves until graceful shutdown, then stops accepting, lets subscribers receive
/// the events already published (the pipeline's `stopping` and key-ups) and in-flight replies go out, within
/// `drainTime`, closes connections and removes the socket.
public struct ControlService: Service {
    public let server: ControlServer
    /// The longest a graceful shutdown waits for subscribers and replies to be written.
    public let drainTime: Duration
    public init(server: ControlServer, drainTime: Duration = .seconds(1)) {
        self.server = server
        self.drainTime = drainTime
    }
    public func run() async throws {
        do {
            // Not cancelWhenGracefulShutdown: cancelling the serving tasks would end subscriber streams before they
            // were written out (AsyncStream iteration stops on cancellation).
            try await withGracefulShutdownHandler {
                try await server.run()
            } onGracefulShutdown: { [server, drainTime] in
                Task { await server.shutdownGracefully(within: drainTime) }
            }
        } catch is CancellationError {
            // The group was cancelled: run() closed everything.
        }
    }
}
