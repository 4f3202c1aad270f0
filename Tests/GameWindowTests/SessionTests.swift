// GameSession end to end on the real model (skipped without `make models`): a synthetic camera clip
// through the pipeline, holding a key records samples into the store (with cached embeddings),
// T trains in the background and the head swaps in, the recognizer's probabilities then steer
// through the decision filter; a new session on the same data directory starts with the same
// samples and head. And the SDL shell on the offscreen driver: a window, frames, a screenshot PNG.
import Capture
import Foundation
import Game
import Gestures
import NeuralNet
import Paths
import Raster
import Settings
import TestSupport
import Testing

@testable import GameWindow

@Suite(
    "GameWindow: session on the real model", .serialized,
    .enabled(if: TestFiles.available || TestFiles.required, "photos/models not fetched: run `make models`"))
struct SessionTests {
    /// A 4 s clip showing the `label` photo under camera jitter.
    func clip(showing label: String, directory: String) throws -> String {
        let path = (directory as NSString).appendingPathComponent("\(label).y4m")
        let truth = try TruthTimeline(changes: [.init(atSeconds: 0, label: label)], labels: .standard)
        try SyntheticRecording.write(
            to: path, photos: [label: try TestFiles.photo(label)], truth: truth, durationSeconds: 4,
            framesPerSecond: 15, seed: 5)
        return path
    }

    func configuration(directory: String, source: String?) -> PlayConfiguration {
        PlayConfiguration(
            workspace: WorkspaceConfiguration(modelName: TestFiles.modelName, dataDirectory: directory), source: source,
            pacing: .asFastAsPossible, screen: .training)
    }

    @Test("record by holding a key, train with T, the head swaps in and steers; a restart keeps samples and head")
    func recordTrainPlayRestart() throws {
        let directory = temporaryDirectory("session")
        let upClip = try clip(showing: "up", directory: directory)
        let (session, warnings) = GameSessionBuilder.build(configuration(directory: directory, source: upClip))
        #expect(warnings.isEmpty, "\(warnings)")

        // Hold W: frames become "up" samples (throttled to 10/s of wall time, near-duplicates skipped).
        session.keyDown(.letter("w"))
        session.advance(ticks: RecordKeySettings.holdTicks)
        var frames = 0
        var stored = 0
        while frames < 200 && stored < 6 {
            session.processPipelineFrame()
            frames += 1
            let model = session.model()
            stored = model.recordedInSession
            #expect(model.camera.isRunning)
        }
        session.keyUp(.letter("w"))
        let workspace = try GestureWorkspace(configuration(directory: directory, source: nil).workspace)
        let upCount = try #require(try workspace.samples.counts()["up"])
        #expect(upCount >= 6)
        // Each recorded sample's embedding is already cached for the trainer.
        #expect(try workspace.samples.cachedEmbeddings(modelID: workspace.trainer.cacheKey).count == upCount)

        // Another label from a photo clip through the importer (one camera per session).
        let downClip = try clip(showing: "down", directory: directory)
        let source = try FrameSources.open(downClip, pacing: .asFastAsPossible)
        _ = try workspace.makeImporter().addRecording(
            source, framesPerSecond: 15, label: "down", settings: RecordingSettings(samplesPerSecond: 5),
            sourceName: downClip)
        source.close()
        // One held key is one take, one import another: honest evaluation keeps each on one side of a split.
        let infos = try workspace.samples.samples()
        #expect(Set(infos.filter { $0.label == "up" }.map(\.take)).count == 1)
        #expect(Set(infos.map(\.take)).count == 2, "\(infos.map(\.take))")

        // The tiles show the store's counts.
        _ = session.render()
        let counts = try workspace.samples.counts()
        #expect(session.countTexts.first { $0.label == "up" }?.text == "\(counts["up"]!)")
        #expect(session.countTexts.first { $0.label == "down" }?.text == "\(counts["down"]!)")

        // T trains in the background; the new head replaces "no head".
        #expect(session.model().headVersion == nil)
        session.keyDown(.letter("t"))
        let deadline = Date().addingTimeInterval(300)
        while session.model().training.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        let progress = session.model().training
        guard case .finished(let version, let losses, _, _) = progress else {
            Issue.record("training did not finish: \(progress)")
            return
        }
        #expect(losses.count == TrainingOptions().epochs)
        #expect(session.model().headVersion == version)

        // The live recognizer now gives probabilities over the trained labels; the clip shows "up".
        for _ in 0..<10 { session.processPipelineFrame() }
        let reading = session.model().reading
        #expect(reading.labels == ["up", "down"])
        #expect(reading.top?.label == "up")
        let canvas = session.render()
        #expect(
            !findText("FILTER:", color: Palette.text, in: TrainingLayout.confidence, of: canvas).isEmpty
                || !findText("FILTER:", color: Palette.good, in: TrainingLayout.confidence, of: canvas).isEmpty)
        session.shutdown()

        // A new session on the same directory: the same samples on the tiles and the same head, at once.
        let (restarted, _) = GameSessionBuilder.build(configuration(directory: directory, source: nil))
        _ = restarted.render()
        #expect(restarted.model().headVersion == version)
        #expect(restarted.countTexts.first { $0.label == "up" }?.text == "\(counts["up"]!)")
        #expect(restarted.model().camera == .off)
    }

    @Test("a covered lens shows as paused with how to resume (never as a failed camera), on both screens")
    func lensCoverPauseIsShownAsPaused() throws {
        let directory = temporaryDirectory("lens")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let session = try lensCoveredSession(directory: directory)
        defer { session.shutdown() }
        guard case .paused(_, let cause, let reason) = session.model().camera else {
            Issue.record("the lens cover did not pause: \(session.model().camera)")
            return
        }
        #expect(cause == .lensCover && reason.hasPrefix("paused: lens covered"), "\(reason)")
        let canvas = session.render()
        let camera = TrainingLayout.camera
        #expect(!findText("PAUSED", scale: 2, color: Palette.accent, in: camera, of: canvas).isEmpty)
        #expect(!findText("Paused: lens covered - every", color: Palette.text, in: camera, of: canvas).isEmpty)
        #expect(!findText("again to resume.", color: Palette.text, in: camera, of: canvas).isEmpty)
        #expect(findText("NO CAMERA", scale: 2, color: Palette.alert, in: camera, of: canvas).isEmpty)
        // Recording is refused with the same words, not "camera failed".
        session.keyDown(.letter("w"))
        session.keyUp(.letter("w"))
        #expect(session.model().toast?.hasPrefix("Cannot record while paused. Paused: lens covered") == true)
        // The play screen's corner says it too.
        session.keyDown(.enter)
        let play = session.render()
        #expect(!findText("PAUSED", color: Palette.accent, in: PlayLayout.camera, of: play).isEmpty)
        #expect(findText("NO CAMERA", color: Palette.alert, in: PlayLayout.camera, of: play).isEmpty)
    }

    @Test("a missing source shows NO CAMERA and keyboard play still works")
    func missingSource() throws {
        let directory = temporaryDirectory("nosource")
        let (session, _) = GameSessionBuilder.build(
            configuration(directory: directory, source: directory + "/absent.y4m"))
        session.processPipelineFrame()
        guard case .failed(_, let reason) = session.model().camera else {
            Issue.record("camera should have failed: \(session.model().camera)")
            return
        }
        #expect(reason.contains("absent.y4m"))
        session.keyDown(.enter)
        session.keyDown(.arrowLeft)
        session.advance(ticks: GameTiming.readyTicksNewGame + 30)
        #expect(session.app.game.phase == .playing)
        #expect(session.app.lastSteering == .keyboard)
        let canvas = session.render()
        #expect(!findText("NO CAMERA", color: Palette.alert, in: PlayLayout.camera, of: canvas).isEmpty)
        session.shutdown()
    }
}

@Suite("GameWindow: sessions without a model")
struct ModellessSessionTests {
    @Test("an unknown model turns gestures off with a reason, and the tiles still show the samples")
    func unknownModel() throws {
        let (store, directory) = try filledStore(counts: ["up": 2])
        _ = store
        let configuration = PlayConfiguration(
            workspace: WorkspaceConfiguration(modelName: "no_such_model", dataDirectory: directory), source: nil)
        let (session, warnings) = GameSessionBuilder.build(
            configuration, models: ModelStore(root: directory + "/models"))
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("gestures are off") == true)
        let model = session.model()
        #expect(model.gesturesUnavailableReason?.contains("make models") == true)
        _ = session.render()
        #expect(session.countTexts.first { $0.label == "up" }?.text == "2")
        session.keyDown(.letter("t"))
        #expect(session.model().toast?.contains("Cannot train") == true)
    }

    @Test("training settings changed on the screen are kept in the data directory and come back after a restart")
    func editedTrainingSettingsSurviveARestart() throws {
        let directory = temporaryDirectory("edited")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let root = temporaryDirectory("edited-home")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let loader = ConfigLoader(environment: ["HOME": root, "XDG_CONFIG_HOME": root + "/xdg"])
        let dataFlag = ConfigOverride("daemon.data_directory", .string(directory), flag: "--data-dir")
        func start() throws -> GameSession {
            let config = try loader.load(overrides: [dataFlag]).validConfig()
            var configuration = PlayConfiguration(workspace: config.workspaceConfiguration(), source: nil)
            configuration.training = config.trainingOptions()
            return GameSessionBuilder.build(configuration, models: ModelStore(root: directory + "/models")).session
        }
        let first = try start()
        let defaults = TrainingOptions()
        #expect(first.app.trainingOptions == defaults)
        first.keyDown(.tab)  // epochs
        first.keyDown(.plus)
        first.keyDown(.tab)  // hidden units
        first.keyDown(.minus)
        let edited = first.app.trainingOptions
        #expect(edited.epochs > defaults.epochs && edited.hiddenUnits < defaults.hiddenUnits)
        let file = DataDirectory(directory).editedSettings
        #expect(first.model().toast?.contains(file) == true)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(
            text.contains("\nepochs = \(edited.epochs)\n") && text.contains("\nhidden_units = \(edited.hiddenUnits)\n"))
        #expect(text.hasPrefix("# Training settings changed in the game window"))

        // A restart reads them back through the one config loader (so every command sees them), the screen shows them.
        let loaded = loader.load(overrides: [dataFlag])
        #expect(loaded.editedSettingsPath == file)
        #expect(loaded.diagnostics.allSatisfy { $0.severity == .note }, "\(loaded.diagnostics)")
        #expect(loaded.config.head.epochs == edited.epochs && loaded.config.head.hiddenUnits == edited.hiddenUnits)
        let second = try start()
        #expect(second.app.trainingOptions == edited)
        // A flag still beats the file.
        let flagged = loader.load(overrides: [dataFlag, ConfigOverride("head.epochs", .integer(3), flag: "--epochs")])
        #expect(flagged.config.head.epochs == 3 && flagged.config.head.hiddenUnits == edited.hiddenUnits)
    }
}

/// Whether SDL can open a window on its offscreen driver here (nil) or why not.
let offscreenProblem: String? = GameWindowRunner.probeOffscreenDriver()

@Suite(
    "GameWindow: SDL shell on the offscreen driver", .serialized,
    .enabled(if: offscreenProblem == nil, "SDL's offscreen video driver cannot start: \(offscreenProblem ?? "")"))
struct SDLShellTests {
    @Test("a window opens, frames render, the screenshot PNG is the canvas")
    func screenshot() throws {
        let directory = temporaryDirectory("sdl")
        let path = (directory as NSString).appendingPathComponent("play.png")
        let session = GameSession(app: App(screen: .play), parts: GameSessionParts())
        let report = try GameWindowRunner.run(
            session, options: WindowOptions(width: 640, height: 360, screenshotPath: path, screenshotFrames: 5))
        #expect(report.frames == 5)
        #expect(report.videoDriver == "offscreen")
        #expect(report.windowlessReason == nil)
        let image = try RGBImage.read(path)
        #expect(image.width == LogicalScreen.width && image.height == LogicalScreen.height)
        let canvas = Canvas(width: image.width, height: image.height, pixels: image.pixels)
        #expect(count(Palette.wall, in: PlayLayout.maze, of: canvas) > 3000)
        #expect(count(Palette.pacman, in: PlayLayout.maze, of: canvas) > 80)
    }

    @Test("a screenshot that cannot be written is a typed error naming the path")
    func unwritableScreenshot() {
        let path = "/nonexistent-gesturepad-directory/shot.png"
        let session = GameSession(app: App(), parts: GameSessionParts())
        #expect {
            try GameWindowRunner.run(session, options: WindowOptions(screenshotPath: path, screenshotFrames: 1))
        } throws: { error in
            guard case .screenshotNotWritten(let failedPath, _) = error as? GameWindowError else { return false }
            return failedPath == path
        }
    }

    @Test("SDL key codes (the key's label) map to app keys")
    func keyMapping() {
        #expect(SDLWindow.appKey(code: 0x77) == .letter("w"))  // SDLK_w = 'w'
        #expect(SDLWindow.appKey(code: 0x3D) == .plus)  // SDLK_EQUALS, the unshifted '+'
        #expect(SDLWindow.appKey(code: 0x1B) == .escape)
        #expect(SDLWindow.appKey(code: 0x4000_0052) == .arrowUp)  // SDLK_UP = scancode 82 | 1<<30
        #expect(SDLWindow.appKey(code: 0x4000_003A) == .f1)
        #expect(SDLWindow.appKey(code: 0x31) == .digit(1))  // SDLK_1 = '1': records the first label
        #expect(SDLWindow.appKey(code: 0x4000_004B) == .pageUp)  // SDLK_PAGEUP = scancode 75 | 1<<30
        #expect(SDLWindow.appKey(code: 0x2F) == nil)  // '/' is not bound
    }
}
