// The real `gesturepad daemon` process as systemd runs it: a real datagram socket stands in for
// systemd's $NOTIFY_SOCKET (same kind of socket, the test on the other end) and must receive READY=1,
// WATCHDOG=1 at half of WATCHDOG_USEC and STOPPING=1; the control socket answers `status`; SIGTERM
// ends the process with exit status 0 within a second. The daemon runs in dry-run on a looping
// recording (this machine has no camera and no /dev/uinput). Needs the installed MobileNet v1.
import Capture
import Foundation
import Gestures
import Glibc
import TestSupport
import Testing

@testable import Daemon

@Suite(
    "gesturepad daemon process", .serialized,
    .enabled(if: TestFiles.modelInstalled() || TestFiles.required, "MobileNet v1 not installed: run `make models`"))
struct DaemonProcessTests {
    @Test func readyWatchdogStatusAndAQuickCleanSigterm() throws {
        // No config file: built-in defaults.
        let daemon = try DaemonUnderTest(prefix: "gp-proc", configText: nil, environment: ["WATCHDOG_USEC": "400000"])
        let (notify, process, socketPath) = (daemon.notify, daemon.process, daemon.socketPath)

        // READY=1 (with a STATUS=) once the pipeline runs; model loading takes a few seconds in debug builds.
        let datagrams = daemon.waitReady()
        #expect(datagrams.contains { $0.contains("READY=1") }, "datagrams: \(datagrams)")
        // WATCHDOG=1 at half of 400 ms.
        var watchdogs = 0
        let watchdogDeadline = Date().addingTimeInterval(1.5)
        while Date() < watchdogDeadline {
            if let datagram = notify.receive(), datagram.contains("WATCHDOG=1") { watchdogs += 1 }
        }
        #expect(watchdogs >= 3, "expected a WATCHDOG=1 every 200 ms, got \(watchdogs) in 1.5 s")

        // The control socket answers while it runs.
        let status = try ControlClient(socketPath: socketPath).send(.status).result(DaemonStatus.self)
        #expect(status.dryRun && status.state == .running, "\(status)")
        #expect((try FileManager.default.attributesOfItem(atPath: socketPath)[.posixPermissions] as? Int) == 0o600)

        // SIGTERM: exit 0 within a second, STOPPING=1 sent, the socket removed.
        let (elapsed, log) = daemon.stop(within: 5)
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 0, "exit status \(process.terminationStatus); log:\n\(log)")
        #expect(elapsed < 1.0, "SIGTERM → exit took \(elapsed) s")
        var rest: [String] = []
        while let datagram = notify.receive() { rest.append(datagram) }
        #expect(rest.contains { $0.contains("STOPPING=1") }, "\(rest)")
        #expect(!FileManager.default.fileExists(atPath: socketPath))
        #expect(log.contains("all keys released"), "\(log)")
    }
}

extension DaemonProcessTests {
    /// Issue 15 item 5: SIGHUP with a config nesting arrays 15,000 deep used to overflow the stack of the
    /// running daemon. Now the reload fails with the file:line error and the old config keeps running.
    @Test func sighupWithADeeplyNestedConfigKeepsTheRunningConfig() throws {
        let daemon = try DaemonUnderTest(prefix: "gp-hup", configText: "# defaults\n")
        let (process, socketPath, config) = (daemon.process, daemon.socketPath, daemon.configPath)
        try #require(daemon.waitReady().contains { $0.contains("READY=1") })

        let crafted = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Regression/deep-array.toml")
        try FileManager.default.removeItem(atPath: config)
        try FileManager.default.copyItem(atPath: crafted.path, toPath: config)
        kill(process.processIdentifier, SIGHUP)
        // The reload is done when the daemon answers again; it must still be running the old config.
        Thread.sleep(forTimeInterval: 0.5)
        #expect(process.isRunning, "the daemon died on SIGHUP with a deeply nested config")
        let status = try ControlClient(socketPath: socketPath).send(.status).result(DaemonStatus.self)
        #expect(status.state == .running, "\(status)")

        let (_, log) = daemon.stop(within: 5)
        #expect(process.terminationStatus == 0, "exit status \(process.terminationStatus); log:\n\(log)")
        #expect(log.contains("reload failed, keeping the running configuration"), "\(log)")
        #expect(log.contains("config.toml:3:") && log.contains("deeper than 64 levels"), "\(log)")
    }
}

extension DaemonProcessTests {
    /// Issue 15 items 7 and 8 on the real process: a `record` pending when `pause` comes ends at once (before: it
    /// waited forever); one asked while paused is refused; one pending at SIGTERM is answered `stopping`, a monitor
    /// sees `stopping` then `stopped`, and the process exits 0 promptly (before: still running 80 s later).
    @Test func pendingRecordsEndOnPauseAndSigtermAndAMonitorSeesStopping() async throws {
        let daemon = try DaemonUnderTest(prefix: "gp-rec", configText: nil)
        let (process, socketPath) = (daemon.process, daemon.socketPath)
        try #require(daemon.waitReady().contains { $0.contains("READY=1") })
        let client = ControlClient(socketPath: socketPath)
        let label = try client.send(.status).result(DaemonStatus.self).labels.first ?? "idle"

        // Pending, then pause: the reply comes at once, saying why it ended.
        let paused = Task {
            try await onThread { try client.send(.record(label: label, seconds: 600), timeout: .seconds(20)) }
        }
        try await Task.sleep(for: .milliseconds(500))
        _ = try client.send(.pause).check()
        let pausedResult = try await paused.value.result(RecordResult.self)
        #expect(pausedResult.ended == "paused", "\(pausedResult)")
        // Asked while paused: refused, code "paused".
        let refused = try client.send(.record(label: label, seconds: 5), timeout: .seconds(10))
        #expect(!refused.ok && refused.code == "paused", "\(refused)")
        _ = try client.send(.resume).check()

        // Pending at SIGTERM, with a monitor attached.
        let monitor = try client.subscribe()
        let stopped = Task {
            try await onThread { try client.send(.record(label: label, seconds: 600), timeout: .seconds(20)) }
        }
        try await Task.sleep(for: .milliseconds(500))
        let start = Date()
        kill(process.processIdentifier, SIGTERM)
        let states: [String] = try await onThread {
            var states: [String] = []
            while let line = try monitor.next(timeout: .seconds(10)) {
                if case .state(let state)? = line.event { states.append(state.state.rawValue) }
            }
            return states
        }
        while process.isRunning && Date().timeIntervalSince(start) < 10 { try await Task.sleep(for: .milliseconds(10)) }
        let elapsed = Date().timeIntervalSince(start)
        let log = daemon.standardError()
        #expect(!process.isRunning && process.terminationStatus == 0, "status \(process.terminationStatus); \(log)")
        #expect(elapsed < 2, "SIGTERM → exit took \(elapsed) s")
        #expect(states.suffix(2) == ["stopping", "stopped"], "\(states)")
        let stoppedResult = try await stopped.value.result(RecordResult.self)
        #expect(stoppedResult.ended == "stopping", "\(stoppedResult)")
    }
}

/// One `gesturepad daemon --dry-run` on a flat looping clip in a temp folder of its own (removed with it): a datagram
/// socket as $NOTIFY_SOCKET, the control socket in the folder, XDG_CONFIG_HOME there (`configText` written to
/// gesturepad/config.toml when given; nil: no config file, built-in defaults). Terminated when released.
final class DaemonUnderTest {
    let directory: String
    let socketPath: String
    let configPath: String
    let notify: NotifyListener
    let process = Process()
    private let errorPipe = Pipe()

    init(prefix: String, configText: String?, environment extra: [String: String] = [:]) throws {
        directory = temporaryDirectory(prefix)
        try FileManager.default.createDirectory(
            atPath: directory + "/config/gesturepad", withIntermediateDirectories: true)
        let clip = directory + "/loop.y4m"
        try writeFlatClip(clip, colour: (90, 90, 200))
        configPath = directory + "/config/gesturepad/config.toml"
        if let configText { try configText.write(toFile: configPath, atomically: true, encoding: .utf8) }
        notify = try NotifyListener()
        socketPath = directory + "/control.sock"
        process.executableURL = URL(fileURLWithPath: GesturepadBinary.path)
        process.arguments = [
            "daemon", "--source", clip, "--dry-run", "--data-dir", directory + "/data", "--socket", socketPath,
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = notify.environmentValue
        environment["XDG_CONFIG_HOME"] = directory + "/config"
        environment.merge(extra) { $1 }
        process.environment = environment
        process.standardError = errorPipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The notify datagrams up to READY=1 (or the process's end, or `seconds`; debug builds load the model slowly).
    func waitReady(seconds: Double = 60) -> [String] {
        var datagrams: [String] = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, !datagrams.contains(where: { $0.contains("READY=1") }), process.isRunning {
            if let datagram = notify.receive() { datagrams.append(datagram) }
        }
        return datagrams
    }

    /// SIGTERM, then waits up to `seconds` for the exit; returns the seconds it took and the daemon's stderr.
    func stop(within seconds: Double) -> (elapsed: Double, log: String) {
        let start = Date()
        kill(process.processIdentifier, SIGTERM)
        while process.isRunning && Date().timeIntervalSince(start) < seconds { Thread.sleep(forTimeInterval: 0.01) }
        return (Date().timeIntervalSince(start), standardError())
    }

    /// Everything the daemon wrote to stderr (blocks until it closes it, i.e. exits).
    func standardError() -> String {
        String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }
}

extension DaemonProcessTests {
    /// Issue 15 item 13: `reload` said "reloaded" while ignoring model changes, and a config deleted before
    /// SIGHUP silently meant defaults. Now the reply names the keys that need a restart, and a deleted file is a
    /// failed reload naming the path, with the running config kept.
    @Test func reloadNamesRestartOnlyChangesAndRefusesADeletedConfig() throws {
        let daemon = try DaemonUnderTest(prefix: "gp-rl", configText: "# defaults\n")
        let (process, socketPath, config) = (daemon.process, daemon.socketPath, daemon.configPath)
        try #require(daemon.waitReady().contains { $0.contains("READY=1") })

        try "[model]\nname = \"mobilenet_v1_1.0_224\"\n[filter]\nenter = 0.9\n".write(
            toFile: config, atomically: true, encoding: .utf8)
        let client = ControlClient(socketPath: socketPath)
        let reloaded = try client.send(.reload, timeout: .seconds(60)).result(ReloadResult.self)
        #expect(reloaded.restartNeeded == ["model.name changed: restart the daemon to apply"])
        #expect(try client.send(.status).result(DaemonStatus.self).model?.contains("mobilenet_v1_0.25_224") == true)

        try FileManager.default.removeItem(atPath: config)
        let refused = try client.send(.reload, timeout: .seconds(60))
        #expect(!refused.ok)
        #expect(refused.error?.contains("\(config) the daemon was started with no longer exists") == true)
        #expect(try client.send(.status).result(DaemonStatus.self).state == .running)

        let (_, log) = daemon.stop(within: 5)
        #expect(process.terminationStatus == 0, "exit status \(process.terminationStatus); log:\n\(log)")
        #expect(log.contains("model.name changed: restart the daemon to apply"), "\(log)")
        #expect(log.contains("reload failed, keeping the running configuration: The config file \(config)"), "\(log)")
    }
}
