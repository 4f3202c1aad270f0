// `gesturepad daemon`: the background input service (systemd user unit gesturepad.service). Wiring
// only: options → config → DaemonRunner (Sources/Daemon/DaemonRunner.swift).
import ArgumentParser
import Daemon
import Foundation
import Gestures
import Logging
import Settings

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract:
            "Watch the camera and press keys for recognised gestures (runs until SIGTERM; SIGHUP reloads the config).")

    @OptionGroup var gestures: GestureOptions

    @Option(
        name: .long,
        help: "Frames from a recording (.y4m, looped in real time) or another camera instead of [camera] device.")
    var source: String?

    @Flag(name: .long, help: "Recognise and report, but inject no keys (default: [daemon] dry_run).")
    var dryRun = false

    @Option(name: .long, help: "Control socket path (default: [daemon] socket_path).")
    var socket: String?

    /// This command's own flags as config overrides (the shared ones come from `gestures`).
    var overrides: [ConfigOverride] {
        var overrides: [ConfigOverride] = []
        if let source { overrides.append(ConfigOverride("camera.device", .string(source), flag: "--source")) }
        if dryRun { overrides.append(ConfigOverride("daemon.dry_run", .boolean(true), flag: "--dry-run")) }
        if let socket {
            overrides.append(ConfigOverride("daemon.socket_path", .string(absolutePath(socket)), flag: "--socket"))
        }
        return overrides
    }

    func run() async throws {
        // Before anything large is allocated: freed training buffers go back to the kernel (HeapPolicy.swift).
        let heapPolicyApplied = HeapPolicy.applyForLongRunningProcess()
        var logger = Logger(label: "gesturepad")
        let loaded = try gestures.resolveResult(overrides)
        let config = loaded.config
        logger.logLevel = Logger.Level(rawValue: config.daemon.logLevel.rawValue) ?? .info
        if !heapPolicyApplied {
            logger.warning("glibc refused the fixed mmap threshold; memory may grow after trainings")
        }
        let settings = try DaemonSettings(config: config)
        let workspace = try GestureWorkspace(settings.workspace)
        let dryRun = config.daemon.dryRun
        let opening = openKeySink(keys: settings.allKeys, dryRun: dryRun) { [logger] action in
            logger.info("dry-run: would \(action)")
        }
        if let reason = opening.fallbackReason { logger.warning("\(reason.description)") }
        // Events go to the control socket's subscribers; state changes also to the log, key events at debug level
        // (config: "info" logs start, stop, reloads and camera changes; "debug" adds every press and release).
        let broadcaster = ControlBroadcaster()
        let daemon = try GestureDaemon(
            settings: settings, workspace: workspace, keySink: opening.sink,
            dryRun: dryRun || opening.fallbackReason != nil,
            emit: { [logger] event in
                if let controlEvent = ControlEvent(event) { broadcaster.publish(controlEvent) }
                switch event {
                case .key(let key, let keys, _, let captured, let reason, _):
                    // The capture time (CLOCK_MONOTONIC s) lets a reader of the evdev stream compute camera-to-key latency.
                    // (A failed release is also logged as an error by the daemon itself.)
                    let capture = captured.map { String(format: ", frame captured at %.6f s", Double($0) / 1e9) } ?? ""
                    let names = keys.map(\.description).joined(separator: "+")
                    // Format read by tools/vm/guest/scenarios.py: "key down LABEL (KEYS), frame captured at S s".
                    logger.debug("key \(key.kind.rawValue) \(key.label) (\(names))\(capture) — \(reason.rawValue)")
                case .state(let state, let reason): logger.info("state \(state): \(reason)")
                case .training(let phase, _, _, _, _, let version, let message)
                where phase == "finished" || phase == "failed":
                    logger.info(
                        "training \(phase)\(version.map { ": head v\($0)" } ?? "")\(message.map { ": \($0)" } ?? "")")
                default: break
                }
            }, logger: logger)
        // A reload reads the same file with the same flags on top; the schema says which changes need a restart.
        let configPath = gestures.settings.file.config
        let allOverrides = gestures.overrides + overrides
        let reloader = ConfigReloader(initial: loaded) {
            SettingsOptions.loader().load(explicitPath: configPath, overrides: allOverrides)
        }
        let pipeline = PipelineService(daemon: daemon, notifier: SystemdNotifier(), logger: logger) {
            () throws(DaemonError) in try reloader.next()
        }
        let location = try ControlSocketLocation.resolve(config.socketPath())
        let handler = DaemonControlHandler(daemon: daemon) { () throws(DaemonError) in
            ReloadResult(restartNeeded: try pipeline.reload())
        }
        let server = try await ControlServer.bind(
            ControlServer.Configuration(location: location), handler: handler,
            broadcaster: broadcaster)
        logger.info("control socket \(location.socketPath)")
        try await DaemonRunner.run(pipeline: pipeline, extraServices: [ControlService(server: server)], logger: logger)
    }
}
