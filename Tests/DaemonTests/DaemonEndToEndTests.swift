// The daemon end to end without camera, uinput or systemd: a Y4M replay source (colour-coded
// "gestures" so a small random MobileNet — α 0.25 at 32×32, installed into a temp model store —
// tells them apart quickly), the real recognizer and decision filter, a RecordingKeySink standing in
// for the uinput keyboard, a temp data directory. Checks: the keys follow the recording, pause
// releases keys and the camera, resume continues, record adds samples, train swaps in a new head
// version while prediction continues, reload releases keys, and stop releases everything. On virtual
// time: the replay is paced on a TestClock and the session is stepped on the test's thread
// (`stepUntil`); the only wait on another thread is the trainer's queue.
import Capture
import Foundation
import Gestures
import NeuralNet
import Synchronization
import SystemSupport
import TestSupport
import Testing

@testable import Daemon

/// A data directory with a tiny installed model, colour samples for up/left/idle and a trained head.
func makeTinyDaemonWorkspace() throws -> (WorkspaceConfiguration, ModelStore, [String: RGBImage]) {
    let directory = temporaryDirectory("daemon")
    let models = ModelStore(root: directory + "/models")
    // A tiny "embedder": one 4×4 stride-4 convolution with 8 seeded random filters + ReLU → [8, 8, 8]. A random
    // MobileNet at this size maps flat colours to nearly the same features; this keeps colour apart, so the test is fast.
    var random = SplitMix64(seed: 5)
    let model = Model(
        name: "tiny",
        layers: [
            Layer(name: "input_1", kind: .input(shape: [32, 32, 3]), inbound: []),
            Layer(
                name: "conv_pw_13_relu",
                kind: .conv2D(
                    Conv2DConfig(
                        filters: 8, kernelSize: (4, 4), strides: (4, 4), padding: .valid,
                        useBias: true, activation: .relu)),
                inbound: ["input_1"],
                weights: [
                    "kernel": Tensor(
                        shape: [4, 4, 3, 8], scalars: (0..<384).map { _ in random.nextFloat(in: -0.3...0.3) }),
                    "bias": Tensor(shape: [8], scalars: Array(repeating: 0.05, count: 8)),
                ]),
        ], inputNames: ["input_1"], outputNames: ["conv_pw_13_relu"])
    try models.install(
        model,
        metadata: ModelMetadata(
            name: "tiny", architecture: "test", widthMultiplier: 1, inputSize: 32, normalization: .symmetric,
            embeddingLayer: "conv_pw_13_relu", embeddingLayerReason: "test", classifierLayer: nil, classNames: [],
            source: .init(file: "random", sha256: "random5", format: "random")))
    let labels = try LabelSet(["up", "left", "idle"])
    let configuration = WorkspaceConfiguration(
        modelName: "tiny", mirror: false, labels: labels, dataDirectory: directory)
    // Flat colour "photos" per label, camera-sized.
    let colours: [String: [UInt8]] = ["up": [220, 40, 40], "left": [40, 200, 60], "idle": [90, 90, 200]]
    var photos: [String: RGBImage] = [:]
    for (label, colour) in colours {
        photos[label] = RGBImage(width: 64, height: 48, pixels: (0..<64 * 48 * 3).map { colour[$0 % 3] })
    }
    let workspace = try GestureWorkspace(configuration, models: models)
    var camera = SimulatedCamera(
        width: 64, height: 48, jitter: CameraJitter(shift: 0.02, zoom: 1...1, brightness: 0.9...1.1, noise: 6),
        seed: 1)
    let framer = SampleFramer(side: 32, mirror: false)
    for label in labels.names {
        _ = try workspace.samples.add(
            contentsOf: (0..<8).map { _ in
                NewSample(
                    label: label, frame: framer.run(camera.frame(of: photos[label]!)), side: 32, source: "test",
                    mirror: false,
                    normalization: "x/127.5-1")
            })
    }
    let trained = try workspace.trainer.train(
        TrainingRequest(labels: labels, options: TrainingOptions(learningRate: 0.001, epochs: 30, seed: 2)))
    #expect(trained.summary.finalAccuracy == 1, "the colour gestures are learnable: \(trained.summary)")
    return (configuration, models, photos)
}

/// Collects daemon events (thread-safe).
final class EventLog: Sendable {
    private let events = Mutex<[DaemonEvent]>([])
    func append(_ event: DaemonEvent) { events.withLock { $0.append(event) } }
    var all: [DaemonEvent] { events.withLock { $0 } }
    var keys: [String] {
        all.compactMap {
            if case .key(let event, _, _, _, _, _) = $0 {
                return "\(event.kind.rawValue) \(event.label)"
            } else {
                return nil
            }
        }
    }
}

@Suite(.serialized) struct DaemonEndToEndTests {
    @Test func keysFollowTheRecordingAndEveryStopPathReleases() throws {
        let (configuration, models, photos) = try makeTinyDaemonWorkspace()
        let clip = configuration.dataDirectory + "/session.y4m"
        let truth = try TruthTimeline(
            parsing: "0 idle\n0.6 up\n1.6 idle\n2.2 left\n3.2 idle\n", labels: configuration.labels)
        try SyntheticRecording.write(
            to: clip, photos: photos, truth: truth, durationSeconds: 4, framesPerSecond: 30, width: 64,
            height: 48, jitter: CameraJitter(shift: 0.02, zoom: 1...1, brightness: 0.9...1.1, noise: 6),
            seed: 9)
        let workspace = try GestureWorkspace(configuration, models: models)
        let sink = RecordingKeySink(keys: [.up, .left])
        let log = EventLog()
        let settings = DaemonSettings(
            workspace: configuration, source: clip, loopRecordings: false,
            keys: ["up": KeyChord([.up]), "left": KeyChord([.left])])
        let clock = TestClock()
        let daemon = try GestureDaemon(
            settings: settings, workspace: workspace, keySink: sink, dryRun: false,
            openSource: { settings throws(CaptureError) in
                try Y4MFileSource(path: settings.source, pacing: .realTime, loops: false, clock: clock)
            }, clock: clock, emit: { log.append($0) })
        // The clip plays in real time on the virtual clock (4 s) and ends; keys follow the timeline.
        #expect(daemon.stepUntil { daemon.snapshot().state == .sourceEnded })
        let predictions = log.all.compactMap { event -> String? in
            if case .prediction(_, _, let probabilities, _) = event {
                return probabilities.map { String(format: "%.2f", $0) }.joined(separator: ",")
            }
            return nil
        }
        #expect(
            sink.transcript == ["KEY_UP down", "KEY_UP up", "KEY_LEFT down", "KEY_LEFT up"],
            "\(sink.transcript); predictions: \(predictions.enumerated().filter { $0.offset % 10 == 0 }.map(\.element))"
        )
        #expect(log.keys == ["down up", "up up", "down left", "up left"])
        // Filter decisions carry the deciding frame's capture time (the system tests compare it with evdev's).
        #expect(
            log.all.allSatisfy { event in
                if case .key(let key, _, _, let captured, _, _) = event, key.kind == .down {
                    captured != nil
                } else {
                    true
                }
            })
        let snapshot = daemon.snapshot()
        #expect(snapshot.statistics.framesProcessed >= 100)
        #expect(snapshot.statistics.latencyMilliseconds["embed"]?.count == 2)
        #expect(snapshot.statistics.latencyMilliseconds["frame_to_key"] != nil)
        try daemon.stop()
        #expect(sink.heldKeys.isEmpty && sink.isClosed)
        #expect(daemon.snapshot().state == .stopped)
    }

    @Test func pauseResumeRecordTrainReloadAndStopWhileHolding() throws {
        let (configuration, models, photos) = try makeTinyDaemonWorkspace()
        let clip = configuration.dataDirectory + "/hold.y4m"
        // "up" for the whole clip, looped: the key is held until a stop path releases it.
        let truth = try TruthTimeline(parsing: "0 up\n", labels: configuration.labels)
        try SyntheticRecording.write(
            to: clip, photos: photos, truth: truth, durationSeconds: 1, framesPerSecond: 30, width: 64,
            height: 48, jitter: CameraJitter(shift: 0.02, zoom: 1...1, brightness: 0.9...1.1, noise: 6),
            seed: 3)
        let workspace = try GestureWorkspace(configuration, models: models)
        let sink = RecordingKeySink(keys: [.up, .left])
        let log = EventLog()
        let settings = DaemonSettings(
            workspace: configuration, source: clip, loopRecordings: true,
            keys: ["up": KeyChord([.up]), "left": KeyChord([.left])])
        let clock = TestClock()
        let daemon = try GestureDaemon(
            settings: settings, workspace: workspace, keySink: sink, dryRun: false,
            openSource: { settings throws(CaptureError) in
                try Y4MFileSource(path: settings.source, pacing: .realTime, loops: true, clock: clock)
            }, clock: clock, emit: { log.append($0) })
        #expect(daemon.stepUntil { sink.heldKeys == [.up] })
        // Pause: keys up, camera closed, no frames however long the loop goes round.
        daemon.pause()
        #expect(sink.heldKeys.isEmpty)
        #expect(daemon.snapshot().state == .paused)
        let framesAtPause = daemon.snapshot().statistics.framesProcessed
        for _ in 0..<20 {
            if case .idle(let until, _) = daemon.session.step() { clock.sleep(untilNanoseconds: until) }
        }
        #expect(daemon.snapshot().statistics.framesProcessed == framesAtPause)
        // Resume: frames again, the key goes down again.
        daemon.resume()
        #expect(daemon.stepUntil { sink.heldKeys == [.up] })
        // Record 1 s of "up": samples are added to the store while prediction continues.
        let before = try workspace.samples.counts()["up"] ?? 0
        try daemon.record(label: "up", seconds: 1)
        #expect(
            daemon.stepUntil {
                log.all.contains { if case .recordingFinished = $0 { true } else { false } }
            })
        #expect(try workspace.samples.counts()["up"]! > before)
        #expect(throws: DaemonError.self) { try daemon.record(label: "jump", seconds: 1) }
        // Train (on the trainer's own queue, the one wait on another thread): a new head version swaps in and
        // prediction goes on.
        let versionBefore = daemon.snapshot().headVersion!
        let trained = DispatchSemaphore(value: 0)
        try daemon.train { _ in trained.signal() }
        #expect(trained.wait(timeout: .now() + 120) == .success, "training never finished")
        #expect(
            log.all.contains {
                if case .training("finished", _, _, _, _, let version?, _) = $0 {
                    version > versionBefore
                } else {
                    false
                }
            })
        #expect(daemon.snapshot().headVersion == versionBefore + 1)
        let framesAfterTraining = daemon.snapshot().statistics.framesProcessed
        #expect(daemon.stepUntil { daemon.snapshot().statistics.framesProcessed > framesAfterTraining + 5 })
        // Reload releases keys first.
        #expect(daemon.stepUntil { sink.heldKeys == [.up] })
        try daemon.reload(settings)
        #expect(
            sink.transcript.suffix(1) == ["KEY_UP up"] || sink.heldKeys == [.up],
            "released by reload (and maybe pressed again)")
        // Stop while holding: everything released, sink closed.
        #expect(daemon.stepUntil { sink.heldKeys == [.up] })
        try daemon.stop()
        #expect(sink.heldKeys.isEmpty && sink.isClosed)
        #expect(sink.transcript.last == "KEY_UP up")
    }

    /// On virtual time: the daemon's session is stepped on the test's thread with a virtual clock, so the reopen
    /// schedule is exact and nothing waits on the wall clock.
    @Test func aMissingCameraIsRetriedAndRecoveredWithinTwoSeconds() throws {
        let (configuration, models, photos) = try makeTinyDaemonWorkspace()
        let clip = configuration.dataDirectory + "/later.y4m"
        let truth = try TruthTimeline(parsing: "0 idle\n", labels: configuration.labels)
        let workspace = try GestureWorkspace(configuration, models: models)
        let log = EventLog()
        let clock = VirtualFrameClock()
        // The "device" (a file standing in for /dev/video0) does not exist yet.
        let settings = DaemonSettings(workspace: configuration, source: clip, loopRecordings: true, keys: [:])
        let daemon = try GestureDaemon(
            settings: settings, workspace: workspace, keySink: RecordingKeySink(), dryRun: false,
            openSource: { settings throws(CaptureError) in
                try FrameSources.open(settings.source, pacing: .asFastAsPossible, loops: true)
            }, clock: clock, emit: { log.append($0) })
        /// One round of the loop; an idle round sleeps the virtual clock until the loop's next attempt.
        func step() {
            if case .idle(let deadline, _) = daemon.session.step() { clock.sleep(untilNanoseconds: deadline) }
        }
        step()
        #expect(daemon.snapshot().state == .cameraLost)
        // 1.2 s (virtual) of failed attempts.
        let lost = clock.nowNanoseconds
        while clock.nowNanoseconds - lost < 1_200_000_000 { step() }
        try SyntheticRecording.write(
            to: clip, photos: photos, truth: truth, durationSeconds: 1, framesPerSecond: 30, width: 64,
            height: 48, seed: 4)
        let returned = clock.nowNanoseconds
        var rounds = 0
        while daemon.snapshot().statistics.framesProcessed == 0 && rounds < 20 {
            step()
            rounds += 1
        }
        #expect(daemon.snapshot().state == .running && daemon.snapshot().statistics.framesProcessed > 0)
        let recovery = Double(clock.nowNanoseconds - returned) / 1e9
        #expect(recovery <= 1, "resumed \(recovery) s (virtual) after the device returned; the cap is 1 s")
        try daemon.stop()
    }
}
