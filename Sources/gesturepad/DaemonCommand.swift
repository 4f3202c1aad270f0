// `gesturepad daemon`: the background input service (systemd user unit gesturepad.service). Wiring
// only: options → config → DaemonApp.build (Sources/Daemon/DaemonApp.swift) → run.
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

    @Option(
        name: .long,
        help:
            "Share the camera: write every frame to this v4l2loopback device (sets [camera] share = \"v4l2loopback\" and share_device)."
    )
    var share: String?

    /// This command's own flags as config overrides (the shared ones come from `gestures`).
    var overrides: [ConfigOverride] {
        var overrides: [ConfigOverride] = []
        if let source { overrides.append(ConfigOverride("camera.device", .string(source), flag: "--source")) }
        if let share {
            overrides.append(ConfigOverride("camera.share", .string("v4l2loopback"), flag: "--share"))
            overrides.append(ConfigOverride("camera.share_device", .string(share), flag: "--share"))
        }
        if dryRun { overrides.append(ConfigOverride("daemon.dry_run", .boolean(true), flag: "--dry-run")) }
        if let socket {
            overrides.append(ConfigOverride("daemon.socket_path", .string(absolutePath(socket)), flag: "--socket"))
        }
        return overrides
    }

    func run() async throws {
        // Before anything large is allocated: freed training buffers go back to the kernel (HeapPolicy.swift).
        let heapPolicyApplied = HeapPolicy.applyForLongRunningProcess()
        let loaded = try gestures.resolveResult(overrides)
        // A reload reads the same file with the same flags on top; the schema says which changes need a restart.
        let configPath = gestures.settings.file.config
        let allOverrides = gestures.overrides + overrides
        let app = try await DaemonApp.build(settings: loaded) {
            SettingsOptions.loader().load(explicitPath: configPath, overrides: allOverrides)
        }
        if !heapPolicyApplied {
            app.logger.warning("glibc refused the fixed mmap threshold; memory may grow after trainings")
        }
        try await app.run()
    }
}
