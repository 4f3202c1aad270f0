// Screenshots of the training screen for people to look at (run with GESTUREPAD_SHOTS_DIR=/some/dir;
// skipped otherwise): after a real training run on the real model (held-out accuracy, per-label
// figures, the no-idle warning, training and held-out loss), the sample browser with marks, the README's
// quick-start picture, a tapped key's countdown and take, the help, a lens-cover pause on both screens,
// and a config with custom labels recorded by digit keys. The assertions are light: the pictures are the point.
import Capture
import Foundation
import Gestures
import NeuralNet
import Raster
import TestSupport
import Testing

@testable import GameWindow

@Suite(
    "GameWindow: screenshots for review", .serialized,
    .enabled(if: ProcessInfo.processInfo.environment["GESTUREPAD_SHOTS_DIR"] != nil && TestFiles.available))
struct WindowScreenshotTests {
    static let shots = ProcessInfo.processInfo.environment["GESTUREPAD_SHOTS_DIR"] ?? "/tmp"

    static func write(_ canvas: Canvas, _ name: String) throws {
        let png = RGBImage(width: canvas.width, height: canvas.height, pixels: canvas.pixels).pngData()
        try Data(png).write(to: URL(fileURLWithPath: shots + "/" + name), options: .atomic)
    }

    @Test func trainedHeadAndSampleBrowser() throws {
        let directory = temporaryDirectory("shots")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = PlayConfiguration(
            workspace: WorkspaceConfiguration(modelName: TestFiles.modelName, dataDirectory: directory), source: nil,
            pacing: .asFastAsPossible, screen: .training)
        let workspace = try GestureWorkspace(configuration.workspace)
        // Two takes per direction (two imports of a jittered photo clip each); no idle class on purpose.
        for (offset, label) in ["up", "down", "left", "right"].enumerated() {
            for take in 0..<2 {
                let path = directory + "/\(label)-\(take).y4m"
                let truth = try TruthTimeline(changes: [.init(atSeconds: 0, label: label)], labels: .standard)
                try SyntheticRecording.write(
                    to: path, photos: [label: try TestFiles.photo(label)], truth: truth, durationSeconds: 3,
                    framesPerSecond: 15, seed: UInt64(10 * offset + take))
                let source = try FrameSources.open(path, pacing: .asFastAsPossible)
                _ = try workspace.makeImporter().addRecording(
                    source, framesPerSecond: 15, label: label, settings: RecordingSettings(samplesPerSecond: 5),
                    sourceName: path)
                source.close()
            }
        }
        let (session, _) = GameSessionBuilder.build(configuration)
        session.keyDown(.letter("t"))
        let deadline = Date().addingTimeInterval(300)
        while session.model().training.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        let model = session.model()
        #expect(model.heldOut.report != nil, "\(model.training) \(model.heldOut)")
        #expect(model.heldOut.warnings.contains(.noIdleClass))
        try Self.write(session.render(), "training-held-out.png")

        session.keyDown(.letter("v"))
        session.keyDown(.arrowLeft)
        session.keyDown(.space)
        session.keyDown(.arrowUp)
        session.keyDown(.space)
        session.keyDown(.arrowLeft)
        _ = session.render()
        try Self.write(session.render(), "sample-browser.png")
        session.shutdown()
    }

    /// The README's quick-start picture (a few takes of every label, a trained head, the camera live), then a tapped
    /// key's countdown and its take recording with the progress bar.
    @Test func quickStartAndTakeCountdown() throws {
        let directory = temporaryDirectory("shots-quick")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let workspace = try GestureWorkspace(
            WorkspaceConfiguration(modelName: TestFiles.modelName, dataDirectory: directory))
        func clip(_ label: String, seed: UInt64, seconds: Double) throws -> String {
            let path = directory + "/\(label)-\(seed).y4m"
            let truth = try TruthTimeline(changes: [.init(atSeconds: 0, label: label)], labels: .standard)
            try SyntheticRecording.write(
                to: path, photos: [label: try TestFiles.photo(label)], truth: truth, durationSeconds: seconds,
                framesPerSecond: 15, seed: seed)
            return path
        }
        for (offset, label) in LabelSet.standard.names.enumerated() {
            for take in 0..<2 {
                let path = try clip(label, seed: UInt64(10 * offset + take), seconds: 3)
                let source = try FrameSources.open(path, pacing: .asFastAsPossible)
                _ = try workspace.makeImporter().addRecording(
                    source, framesPerSecond: 15, label: label, settings: RecordingSettings(samplesPerSecond: 4),
                    sourceName: path)
                source.close()
            }
        }
        let camera = try clip("up", seed: 99, seconds: 4)
        let configuration = PlayConfiguration(
            workspace: WorkspaceConfiguration(modelName: TestFiles.modelName, dataDirectory: directory),
            source: camera, pacing: .asFastAsPossible, screen: .training)
        let (session, _) = GameSessionBuilder.build(configuration)
        defer { session.shutdown() }
        session.keyDown(.letter("t"))
        let deadline = Date().addingTimeInterval(300)
        while session.model().training.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        for _ in 0..<12 {
            session.processPipelineFrame()
            session.advance(ticks: 1)
        }
        #expect(session.model().headVersion != nil)
        for _ in 0...GameSession.toastFrames { _ = session.render() }  // the "training started" message fades
        try Self.write(session.render(), "quick-start.png")

        // Tap W: "UP IN 3" … then the take records with a progress bar.
        session.keyDown(.letter("w"))
        session.advance(ticks: 4)
        session.keyUp(.letter("w"))
        session.advance(ticks: 70)
        #expect(session.app.take?.phase == .countdown(secondsLeft: 2))
        try Self.write(session.render(), "take-countdown.png")
        session.advance(ticks: 110)
        for _ in 0..<20 {
            session.processPipelineFrame()
            session.advance(ticks: 6)
        }
        #expect(session.app.recordingLabel == "up")
        try Self.write(session.render(), "take-recording.png")
        session.keyDown(.f1)
        try Self.write(session.render(), "help.png")
    }

    @Test func lensCoverPause() throws {
        let directory = temporaryDirectory("shots-lens")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let session = try lensCoveredSession(directory: directory)
        try Self.write(session.render(), "lens-cover-paused.png")
        session.keyDown(.enter)
        try Self.write(session.render(), "lens-cover-paused-play.png")
        session.shutdown()
    }

    @Test func customLabelsHaveDigitKeys() throws {
        let labels = try LabelSet(["jump", "duck", "wave", "idle", "clap", "nod"])
        let (store, directory) = try filledStore(
            counts: ["jump": 12, "duck": 3, "wave": 0, "idle": 20, "clap": 7, "nod": 1],
            colors: ["jump": RGB(220, 60, 60), "duck": RGB(60, 200, 90), "idle": RGB(90, 90, 200)])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let session = GameSession(app: App(labels: labels), parts: GameSessionParts(store: store))
        session.keyDown(.digit(5))
        session.advance(ticks: RecordKeySettings.holdTicks)
        #expect(session.app.recordingLabel == "clap")
        try Self.write(session.render(), "custom-labels.png")
        session.keyUp(.digit(5))
    }
}
