// `gesturepad daemon`: the background input service (systemd user unit gesturepad.service). Wiring
// only: options → config → DaemonRunner (Sources/Daemon/DaemonRunner.swift).
import ArgumentParser
import Daemon
import Foundation
import Gestures
import Logging

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract:
            "Watch the camera and press keys for recognised gestures (runs until SIGTERM; SIGHUP reloads the config).")

    @OptionGroup var configFile: ConfigFileOption

    @Option(
        name: .long,
        help: "Frames from a recording (.y4m, looped in real time) or another camera instead of the configured one.")
    var source: String?

    @Flag(name: .long, help: "Recognise and report, but inject no keys.")
    var dryRun = false

    @Option(name: .long, help: "Control socket path (default: $XDG_RUNTIME_DIR/gesturepad/control.sock).")
    var socket: String?

    @Option(name: .customLong("data-dir"), help: "Data directory (default: $XDG_DATA_HOME/gesturepad).")
    var dataDirectory: String?

    func run() async throws {
        var logger = Logger(label: "gesturepad")
        let loader = ConfigLoader(keyNames: EvdevKeyNames())
        var config = try loader.load(explicitPath: configFile.config).validConfig()
        if let dataDirectory { config.daemon.dataDirectory = dataDirectory }
        logger.logLevel = Logger.Level(rawValue: config.daemon.logLevel.rawValue) ?? .info
        let settings = try DaemonSettings(config: config, source: source)
        let workspace = try GestureWorkspace(settings.workspace)
        let dryRun = dryRun || config.daemon.dryRun
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
        let explicitConfig = configFile.config
        let explicitSource = source
        let explicitData = dataDirectory
        let pipeline = PipelineService(daemon: daemon, notifier: SystemdNotifier(), logger: logger) {
            () throws(DaemonError) in
            var fresh = try ConfigLoader(keyNames: EvdevKeyNames()).load(explicitPath: explicitConfig).validConfig()
            if let explicitData { fresh.daemon.dataDirectory = explicitData }
            return try DaemonSettings(config: fresh, source: explicitSource)
        }
        let location = try ControlSocketLocation.resolve(socket ?? config.socketPath())
        let handler = DaemonControlHandler(daemon: daemon) { () throws(DaemonError) in try pipeline.reload() }
        let server = try await ControlServer.bind(
            ControlServer.Configuration(location: location), handler: handler,
            broadcaster: broadcaster)
        logger.info("control socket \(location.socketPath)")
        try await DaemonRunner.run(pipeline: pipeline, extraServices: [ControlService(server: server)], logger: logger)
    }
}
