// The daemon behind its real control socket, in process: GestureDaemon (replay source, real
// recognizer and decision filter, a RecordingKeySink standing in for the uinput keyboard) +
// DaemonControlHandler + ControlServer on a temp-dir socket, driven by ControlClient as the CLI
// drives it: status, a subscriber seeing predictions and key events, pause/resume, record, train
// with the head version changing, samples, reload; then shutdown releases every key and removes
// the socket.
import Capture
import Foundation
import Gestures
import Logging
import NeuralNet
import Settings
import Testing

@testable import Daemon

@Suite(.serialized) struct DaemonSocketEndToEndTests {
    @Test func aClientDrivesTheDaemonOverTheSocket() async throws {
        let (configuration, models, photos) = try makeTinyDaemonWorkspace()
        let clip = configuration.dataDirectory + "/loop.y4m"
        let truth = try TruthTimeline(parsing: "0 idle\n0.5 up\n1.5 idle\n", labels: configuration.labels)
        try SyntheticRecording.write(
            to: clip, photos: photos, truth: truth, durationSeconds: 2, framesPerSecond: 30, width: 64,
            height: 48, jitter: CameraJitter(shift: 0.02, zoom: 1...1, brightness: 0.9...1.1, noise: 6),
            seed: 9)
        let workspace = try GestureWorkspace(configuration, models: models)
        let sink = RecordingKeySink(keys: [.up, .left])
        let broadcaster = ControlBroadcaster()
        let settings = DaemonSettings(
            workspace: configuration, source: clip, loopRecordings: true,
            keys: ["up": KeyChord([.up]), "left": KeyChord([.left])])
        let daemon = try GestureDaemon(
            settings: settings, workspace: workspace, keySink: sink, dryRun: false,
            emit: { event in if let control = ControlEvent(event) { broadcaster.publish(control) } })
        let handler = DaemonControlHandler(daemon: daemon) { () throws(DaemonError) in
            try daemon.reload(settings)
            return ReloadResult()
        }
        let socketPath = configuration.dataDirectory + "/run/control.sock"
        let server = try await ControlServer.bind(
            ControlServer.Configuration(location: ControlSocketLocation(socketPath: socketPath)),
            handler: handler, broadcaster: broadcaster)
        let serving = Task { try await server.run() }
        daemon.start()
        let client = ControlClient(socketPath: socketPath)

        // A subscriber sees predictions and the clip's key presses (the clip loops: it may join mid-press).
        let events = try client.subscribe()
        var kinds: Set<String> = []
        var keyLines: [String] = []
        let deadline = Date().addingTimeInterval(15)
        func pressAndRelease() -> Bool {
            guard let down = keyLines.firstIndex(of: "down up [\"KEY_UP\"]") else { return false }
            return keyLines[down...].contains("up up [\"KEY_UP\"]")
        }
        while Date() < deadline, !pressAndRelease() {
            guard let line = try events.next(timeout: .seconds(5)) else { break }
            if let event = line.event {
                kinds.insert(event.kind)
                if case .key(let key) = event { keyLines.append("\(key.action.rawValue) \(key.label) \(key.keys)") }
            }
        }
        events.close()
        #expect(kinds.contains("prediction") && kinds.contains("key"), "\(kinds)")
        #expect(pressAndRelease(), "\(keyLines)")
        #expect(
            Set(keyLines).isSubset(of: ["down up [\"KEY_UP\"]", "up up [\"KEY_UP\"]"]),
            "only the clip's gesture: \(keyLines)")

        // Status over the socket.
        let status = try client.send(.status).result(DaemonStatus.self)
        #expect(status.state == .running)
        #expect(status.headVersion == 1 && status.labels == ["up", "left", "idle"])
        #expect(status.latency["embed"] != nil && status.fps > 0)
        #expect(status.samples == ["up": 8, "left": 8, "idle": 8])

        // The game window's lease: pauses the daemon (camera released), resumes it on release.
        let lease = try #require(DaemonCameraLease.acquire(socketPath: socketPath))
        #expect(try client.send(.status).result(DaemonStatus.self).state == .paused)
        #expect(DaemonCameraLease.acquire(socketPath: socketPath) == nil, "an already paused daemon is left alone")
        lease.release()
        #expect(try client.send(.status).result(DaemonStatus.self).state != .paused)
        #expect(DaemonCameraLease.acquire(socketPath: configuration.dataDirectory + "/none.sock") == nil)

        // Pause releases keys and stops frames; resume continues.
        _ = try client.send(.pause).check()
        #expect(try client.send(.status).result(DaemonStatus.self).state == .paused)
        #expect(sink.heldKeys.isEmpty)
        _ = try client.send(.resume).check()

        // Record 1 s of "up" from the live frames, then train: the head version changes, prediction goes on.
        let recorded = try client.send(.record(label: "up", seconds: 1)).result(RecordResult.self)
        #expect(recorded.added >= 1 && recorded.total == 8 + recorded.added, "\(recorded)")
        let trained = try client.send(.train, timeout: .seconds(60)).result(TrainResult.self)
        #expect(trained.headVersion == 2)
        #expect(try client.send(.status).result(DaemonStatus.self).headVersion == 2)
        #expect(try client.send(.samples).result(SampleCounts.self).counts["up"] == 8 + recorded.added)
        _ = try client.send(.reload).check()
        // An unknown command gets an error reply and the connection stays usable.
        let connection = try client.connect()
        try connection.write("{\"cmd\":\"jump\"}\n")
        let reply = try ControlResponse(line: connection.readLine(timeout: .seconds(5)) ?? "")
        #expect(!reply.ok && reply.error != nil)
        try connection.write("{\"cmd\":\"status\"}\n")
        #expect(try ControlResponse(line: connection.readLine(timeout: .seconds(5)) ?? "").ok)
        connection.close()

        // Shutdown: keys released, socket removed.
        try daemon.stop()
        server.shutdown()
        _ = try? await serving.value
        #expect(sink.heldKeys.isEmpty && sink.isClosed)
        #expect(!FileManager.default.fileExists(atPath: socketPath))
    }

    /// Issue 15 items 7 and 8 through the real services: the group `gesturepad daemon` runs (pipeline + control
    /// socket), shut down gracefully as SIGTERM does. Before: the socket closed first, so a monitor never saw
    /// `stopping` nor the key-up, and a pending `record` kept the shutdown waiting forever.
    @Test func gracefulShutdownFlushesStoppingAndTheKeyUpToSubscribersAndAnswersAPendingRecord() async throws {
        let (configuration, models, photos) = try makeTinyDaemonWorkspace()
        let clip = configuration.dataDirectory + "/hold.y4m"
        try SyntheticRecording.write(
            to: clip, photos: photos, truth: try TruthTimeline(parsing: "0 up\n", labels: configuration.labels),
            durationSeconds: 1, framesPerSecond: 30, width: 64, height: 48,
            jitter: CameraJitter(shift: 0.02, zoom: 1...1, brightness: 0.9...1.1, noise: 6), seed: 3)
        // The daemon as `gesturepad daemon` builds it (DaemonApp.build), from a config file; only the key sink
        // (a recorder for the uinput keyboard), the model store and the systemd notifier are the test's.
        let socketPath = configuration.dataDirectory + "/run/control.sock"
        let configPath = configuration.dataDirectory + "/config.toml"
        try """
        [camera]
        device = "\(clip)"
        mirror = false
        [model]
        name = "tiny"
        [labels]
        order = ["up", "left"]
        idle = true
        [keys]
        up = "KEY_UP"
        left = "KEY_LEFT"
        [daemon]
        socket_path = "\(socketPath)"
        data_directory = "\(configuration.dataDirectory)"
        """.write(toFile: configPath, atomically: true, encoding: .utf8)
        let loader = ConfigLoader(environment: ["HOME": configuration.dataDirectory])
        let sink = RecordingKeySink(keys: [.up, .left])
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let app = try await DaemonApp.build(
            settings: loader.load(explicitPath: configPath), reload: { loader.load(explicitPath: configPath) },
            parts: DaemonApp.Parts(
                keySink: sink, models: models, notifier: SystemdNotifier(environment: [:]),
                environment: ["HOME": configuration.dataDirectory]),
            logger: logger)
        let (daemon, pipeline) = (app.daemon, app.pipeline)
        #expect(app.location.socketPath == socketPath)
        let group = app.serviceGroup(gracefulShutdownSignals: [])
        let running = Task { try await DaemonRunner.run(group, pipeline: pipeline) }
        let client = ControlClient(socketPath: socketPath)
        let deadline = Date().addingTimeInterval(15)
        while sink.heldKeys != [.up] && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        try #require(sink.heldKeys == [.up])

        let events = try client.subscribe()
        let record = Task {
            try await onThread { try client.send(.record(label: "up", seconds: 600), timeout: .seconds(20)) }
        }
        while daemon.snapshot().recordingLabel == nil && Date() < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let start = Date()
        await group.triggerGracefulShutdown()
        // The subscriber reads until the server closes the stream.
        let lines: [ControlEventLine] = try await onThread {
            var lines: [ControlEventLine] = []
            while let line = try events.next(timeout: .seconds(10)) { lines.append(line) }
            return lines
        }
        try await running.value
        let elapsed = Date().timeIntervalSince(start)
        events.close()
        let sequence = lines.compactMap { line -> String? in
            switch line.event {
            case .state(let state)?: return "state \(state.state.rawValue)"
            case .key(let key)?: return "key \(key.action.rawValue) \(key.keys.joined()) \(key.reason ?? "nil")"
            default: return nil
            }
        }
        let stopping = try #require(sequence.firstIndex(of: "state stopping"), "\(sequence)")
        #expect(
            Array(sequence[stopping...]) == ["state stopping", "key up KEY_UP stop", "state stopped"], "\(sequence)")
        let reply = try await record.value
        let result = try reply.result(RecordResult.self)
        #expect(result.ended == "stopping" && !result.completed, "\(result)")
        #expect(elapsed < 3, "graceful shutdown took \(elapsed) s")
        #expect(sink.heldKeys.isEmpty && sink.isClosed)
        #expect(!FileManager.default.fileExists(atPath: socketPath))
    }
}
