// Issue 17 items 5, 9 and 10 against a real `gesturepad daemon` process (DaemonUnderTest: dry run on a
// looping clip) driven by the built CLI, as a user types it: `status` says why it is a dry run; `control
// train` reports progress; `monitor` prints times from its own start and "pressed"/"released" rather
// than "key down down"; `reload` names the head change and, when the config is broken, says the daemon
// still runs on its previous configuration; `record` counts down first (the countdown also in `monitor`).
// Part of DaemonProcessTests (a socket suite: its own --no-parallel process in `make test`).
import Foundation
import Gestures
import TestSupport
import Testing

@testable import Daemon

extension DaemonProcessTests {
    /// `gesturepad ARGUMENTS --socket <the daemon's>` with the daemon's config home.
    static func cli(_ daemon: DaemonUnderTest, _ arguments: [String], socket: Bool = true) throws -> GesturepadRun {
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_CONFIG_HOME"] = daemon.directory + "/config"
        return try GesturepadBinary.run(
            arguments + (socket ? ["--socket", daemon.socketPath] : []), environment: environment)
    }

    @Test func theCLIExplainsDryRunTrainingReloadAndMonitor() throws {
        let daemon = try DaemonUnderTest(prefix: "gp-msg", configText: "[labels]\norder = [\"up\", \"down\"]\n")
        try #require(daemon.waitReady().contains { $0.contains("READY=1") })
        let data = daemon.directory + "/data"
        try SampleSeed.fill(database: data + "/samples.sqlite", [("up", 4), ("down", 4), ("idle", 4)])

        let status = try Self.cli(daemon, ["status"])
        #expect(status.status == 0, "\(status.standardError)")
        #expect(
            status.standardOutput.contains("(dry run: no keys injected, because dry_run is on (--dry-run, or [daemon]"),
            "\(status.standardOutput)")

        // Training through the daemon: progress lines, then the result.
        let trained = try Self.cli(daemon, ["control", "train"])
        #expect(trained.status == 0, "\(trained.standardError)")
        #expect(trained.standardOutput.contains("training in the daemon (progress below)"), "\(trained.standardOutput)")
        #expect(trained.standardOutput.contains("12/12 samples embedded"), "\(trained.standardOutput)")
        #expect(trained.standardOutput.contains("  epoch "), "\(trained.standardOutput)")
        #expect(trained.standardOutput.contains("head v1: 12 samples"), "\(trained.standardOutput)")

        // A head trained offline into the same data directory: reload names the change.
        let offline = try Self.cli(daemon, ["train", "--epochs", "2", "--data-dir", data], socket: false)
        #expect(offline.status == 0, "\(offline.standardError)")
        let reloaded = try Self.cli(daemon, ["reload"])
        #expect(reloaded.status == 0, "\(reloaded.standardError)")
        #expect(reloaded.standardOutput.contains("reloaded: head v1 → v2"), "\(reloaded.standardOutput)")

        // A broken config: refused, and the message says the daemon carries on as it was.
        try "[filter]\nenter = 7\n".write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        let refused = try Self.cli(daemon, ["reload"])
        #expect(refused.status == 1)
        #expect(
            refused.standardError.contains("Reload refused; the daemon still runs on its previous configuration."),
            "\(refused.standardError)")
        #expect(refused.standardError.contains("reload again (`gesturepad reload`)"), "\(refused.standardError)")
        #expect(!refused.standardError.contains("start again"), "\(refused.standardError)")
        #expect(try Self.cli(daemon, ["status"]).standardOutput.contains("running"))

        // monitor: times from its own start (not the daemon's monotonic clock, which is hours on a running machine).
        let monitor = Process()
        monitor.executableURL = URL(fileURLWithPath: GesturepadBinary.path)
        monitor.arguments = ["monitor", "--socket", daemon.socketPath]
        let output = Pipe()
        monitor.standardOutput = output
        try monitor.run()
        Thread.sleep(forTimeInterval: 2)
        monitor.terminate()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        monitor.waitUntilExit()
        let lines = text.split(separator: "\n")
        #expect(lines.first == "time: seconds since monitor started", "\(text.prefix(500))")
        let predictions = lines.filter { $0.contains(" prediction ") }
        #expect(!predictions.isEmpty, "\(text.prefix(500))")
        for line in predictions.prefix(20) {
            let seconds = Double(line.split(separator: " ").first ?? "") ?? -1
            #expect(seconds >= 0 && seconds < 10, "\(line)")
        }
        #expect(!text.contains("key down down") && !text.contains("key up   up"))

        let (_, log) = daemon.stop(within: 5)
        #expect(!log.contains("key down down"), "\(log)")
    }

    @Test func recordCountsDownFirstAndMonitorShowsIt() throws {
        let daemon = try DaemonUnderTest(prefix: "gp-cd", configText: "# defaults\n")
        try #require(daemon.waitReady().contains { $0.contains("READY=1") })
        let monitor = Process()
        monitor.executableURL = URL(fileURLWithPath: GesturepadBinary.path)
        monitor.arguments = ["monitor", "--no-predictions", "--socket", daemon.socketPath]
        let output = Pipe()
        monitor.standardOutput = output
        try monitor.run()
        Thread.sleep(forTimeInterval: 0.5)

        let start = Date()
        let recorded = try Self.cli(daemon, ["record", "up", "--seconds", "1", "--countdown", "2"])
        let elapsed = Date().timeIntervalSince(start)
        #expect(recorded.status == 0, "\(recorded.standardError)")
        let text = recorded.standardOutput
        #expect(text.contains("up in 2…\nup in 1…\nrecording up for 1.0 s\n"), "\(text)")
        #expect(text.contains("recorded "), "\(text)")
        // The countdown is not recording time: the request takes about countdown + seconds.
        #expect(elapsed >= 2.9, "took \(elapsed) s")

        monitor.terminate()
        let events = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        monitor.waitUntilExit()
        #expect(events.contains("recording up in 2… (get into pose)"), "\(events)")
        #expect(events.contains("recording up in 1… (get into pose)"), "\(events)")
        #expect(events.contains("recording up: recording now"), "\(events)")

        // --countdown 0 records at once.
        let now = try Self.cli(daemon, ["record", "up", "--seconds", "1", "--countdown", "0"])
        #expect(now.status == 0 && !now.standardOutput.contains("…"), "\(now.standardOutput)")
        let bad = try Self.cli(daemon, ["record", "up", "--countdown", "31"])
        #expect(bad.status != 0 && bad.standardError.contains("--countdown must be 0 to 30 seconds"))
        _ = daemon.stop(within: 5)
    }
}
