// DaemonApp: the daemon's composition root — a loaded config → the workspace, key output (uinput,
// or dry-run with the reason logged), the GestureDaemon (session + key sink), the events fanned out
// to the control socket and the log, the reloader, the pipeline service and the bound control
// socket. `gesturepad daemon` (@main) and the tests call the same `build`, then `run` (the
// hummingbird template's App+build habit, STYLE.md example 8); tests inject the key sink, the
// source, the clock and the systemd notifier, and drive the service group themselves.
import SystemSupport
import Capture
import Foundation
import Gestures
import Logging
import NeuralNet
import ServiceLifecycle
import Settings
import UnixSignals

/// The daemon, assembled and bound, not yet running.
public struct DaemonApp: Sendable {
    public let daemon: GestureDaemon
    /// The pipeline as a service (start, systemd notification, watchdog, SIGHUP reloads, stop).
    public let pipeline: PipelineService
    /// The control socket, bound (its file exists) but not yet serving.
    public let server: ControlServer
    public let location: ControlSocketLocation
    public let logger: Logger
    /// The pause hotkey's keyboard reader; nil when `[daemon] pause_hotkey` is "none".
    public let hotkey: PauseHotkeyService?

    /// What `build` may take from the caller instead of the real thing (tests).
    public struct Parts {
        /// Key output (nil: uinput, or dry-run per `daemon.dry_run` or when uinput cannot be opened).
        public var keySink: (any KeySink)?
        /// The model store (nil: the user's installed models).
        public var models: ModelStore?
        /// Opens the source (default: FrameSources, files paced in real time).
        public var openSource: @Sendable (DaemonSettings) throws(CaptureError) -> any FrameSource
        /// The session's clock.
        public var clock: any FrameClock
        public var notifier: SystemdNotifier
        /// Also receives every event (after the control socket and the log).
        public var observe: @Sendable (DaemonEvent) -> Void
        /// The process environment (XDG paths, the runtime directory).
        public var environment: [String: String]
        /// The OS calls of the pause hotkey (nil: the real /dev/input) and the folder it lists.
        public var evdev: (any EvdevSystem)?
        public var inputDirectory: String

        public init(
            keySink: (any KeySink)? = nil, models: ModelStore? = nil,
            openSource: @escaping @Sendable (DaemonSettings) throws(CaptureError) -> any FrameSource = GestureDaemon
                .defaultOpener,
            clock: any FrameClock = SystemFrameClock(), notifier: SystemdNotifier = SystemdNotifier(),
            observe: @escaping @Sendable (DaemonEvent) -> Void = { _ in },
            environment: [String: String] = ProcessInfo.processInfo.environment,
            evdev: (any EvdevSystem)? = nil, inputDirectory: String = "/dev/input"
        ) {
            self.keySink = keySink
            self.models = models
            self.openSource = openSource
            self.clock = clock
            self.notifier = notifier
            self.observe = observe
            self.environment = environment
            self.evdev = evdev
            self.inputDirectory = inputDirectory
        }
    }

    /// Builds the daemon from `settings` (the loaded config); `reload` loads it again for SIGHUP / `reload` (the same
    /// path and command-line overrides). Binds the control socket.
    public static func build(
        settings loaded: ConfigLoadResult, reload: @escaping @Sendable () -> ConfigLoadResult,
        parts: Parts = Parts(), logger baseLogger: Logger = Logger(label: "gesturepad")
    ) async throws -> DaemonApp {
        let config = try loaded.validConfig()
        var logger = baseLogger
        logger.logLevel = Logger.Level(rawValue: config.daemon.logLevel.rawValue) ?? .info
        let settings = try DaemonSettings(config: config, environment: parts.environment)
        let workspace = try GestureWorkspace(settings.workspace, models: parts.models)
        let dryRun: Bool
        let sink: any KeySink
        let asked = "dry_run is on (--dry-run, or [daemon] dry_run = true in \(loaded.source))"
        var dryRunReason: String? = config.daemon.dryRun ? asked : nil
        if let given = parts.keySink {
            (sink, dryRun) = (given, config.daemon.dryRun)
        } else {
            let opening = openKeySink(keys: settings.allKeys, dryRun: config.daemon.dryRun) { [logger] action in
                logger.info("dry-run: would \(action)")
            }
            if let reason = opening.fallbackReason {
                logger.warning("\(reason.description)")
                dryRunReason = "the key output could not be opened: \(reason.description)"
            }
            (sink, dryRun) = (opening.sink, config.daemon.dryRun || opening.fallbackReason != nil)
        }
        // Events go to the control socket's subscribers; state changes also to the log, key events at debug level
        // (config: "info" logs start, stop, reloads and camera changes; "debug" adds every press and release).
        let broadcaster = ControlBroadcaster()
        let observe = parts.observe
        let daemon = try GestureDaemon(
            settings: settings, workspace: workspace, keySink: sink, dryRun: dryRun, dryRunReason: dryRunReason,
            openSource: parts.openSource,
            clock: parts.clock,
            emit: { [logger] event in
                // Predictions come every frame: their socket form (labels, probabilities as Double, the filter's
                // state as text) is built only while someone subscribes, so the live loop allocates nothing per frame.
                let unheard: Bool
                if case .prediction = event { unheard = broadcaster.subscriberCount == 0 } else { unheard = false }
                if !unheard, let controlEvent = ControlEvent(event) { broadcaster.publish(controlEvent) }
                log(event, to: logger)
                observe(event)
            }, logger: logger)
        // A reload reads the same file with the same flags on top; the schema says which changes need a restart.
        let reloader = ConfigReloader(initial: loaded, environment: parts.environment, load: reload)
        let pipeline = PipelineService(daemon: daemon, notifier: parts.notifier, logger: logger) {
            () throws(DaemonError) in try reloader.next()
        }
        let location = try ControlSocketLocation.resolve(
            config.socketPath(environment: parts.environment), environment: parts.environment)
        let handler = DaemonControlHandler(daemon: daemon) { () throws(DaemonError) in
            let before = daemon.snapshot().headVersion
            let restartNeeded = try pipeline.reload()
            return ReloadResult(
                restartNeeded: restartNeeded, headBefore: before, headAfter: daemon.snapshot().headVersion)
        }
        let server = try await ControlServer.bind(
            ControlServer.Configuration(location: location), handler: handler, broadcaster: broadcaster)
        logger.info("control socket \(location.socketPath)")
        var hotkey: PauseHotkeyService?
        if let chord = settings.pauseHotkey {
            daemon.setPauseHotkeyState("\(chord): looking for keyboards under \(parts.inputDirectory)")
            let listener = PauseHotkeyListener(
                chord: chord, system: parts.evdev ?? LinuxEvdevSystem(), directory: parts.inputDirectory,
                onChord: { [daemon, logger] in
                    logger.info("pause hotkey \(chord) pressed")
                    daemon.togglePauseByHotkey()
                },
                report: { [daemon, logger] words, problem in
                    daemon.setPauseHotkeyState(words)
                    if problem {
                        logger.warning("pause hotkey: \(words)")
                    } else {
                        logger.info("pause hotkey: \(words)")
                    }
                })
            hotkey = PauseHotkeyService(listener: listener)
        } else {
            daemon.setPauseHotkeyState("off ([daemon] pause_hotkey = \"none\")")
        }
        return DaemonApp(
            daemon: daemon, pipeline: pipeline, server: server, location: location, logger: logger, hotkey: hotkey)
    }

    /// The service group: the control socket, then the pipeline (which stops first). Tests pass no signals and call
    /// `triggerGracefulShutdown()`.
    public func serviceGroup(gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint]) -> ServiceGroup {
        DaemonRunner.serviceGroup(
            pipeline: pipeline,
            extraServices: [ControlService(server: server) as any Service] + (hotkey.map { [$0 as any Service] } ?? []),
            logger: logger,
            gracefulShutdownSignals: gracefulShutdownSignals)
    }

    /// Runs until SIGTERM/SIGINT; throws `keyReleaseFailed` (a non-zero exit) when any key release failed.
    public func run() async throws {
        try await DaemonRunner.run(serviceGroup(), pipeline: pipeline)
    }

    /// "pressed" or "released": the key action as a word that cannot be mistaken for a label.
    public static func keyVerb(_ kind: KeyEvent.Kind) -> String { kind == .down ? "pressed" : "released" }

    /// The log lines of an event: state changes and finished trainings at info, key events at debug.
    static func log(_ event: DaemonEvent, to logger: Logger) {
        switch event {
        case .key(let key, let keys, _, let captured, let reason, _):
            // The capture time (CLOCK_MONOTONIC s) lets a reader of the evdev stream compute camera-to-key latency.
            // (A failed release is also logged as an error by the daemon itself.)
            let capture = captured.map { String(format: ", frame captured at %.6f s", Double($0) / 1e9) } ?? ""
            let names = keys.map(\.description).joined(separator: "+")
            // Format read by tools/vm/guest/scenarios.py: "key pressed LABEL (KEYS), frame captured at S s" (the label in
            // capitals, so a label named like a key action never reads "key down down").
            logger.debug("key \(keyVerb(key.kind)) \(key.label.uppercased()) (\(names))\(capture) — \(reason.rawValue)")
        case .state(let state, let reason): logger.info("state \(state): \(reason)")
        case .training(let phase, _, _, _, _, let version, let message) where phase == "finished" || phase == "failed":
            logger.info("training \(phase)\(version.map { ": head v\($0)" } ?? "")\(message.map { ": \($0)" } ?? "")")
        default: break
        }
    }
}
