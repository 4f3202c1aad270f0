// `gesturepad play`: the game window — the training screen (record, train, watch the confidences)
// and Pac-Man steered by gestures or the keyboard. Wiring only: options → GameSessionBuilder →
// GameWindowRunner; what could not be opened is printed here and shown in the window.
import ArgumentParser
import Capture
import Daemon
import Foundation
import GameWindow
import Gestures
import NeuralNet
import Settings

struct Play: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open the game window: teach your gestures, then play Pac-Man with them.",
        discussion: """
            Keys on the training screen: hold arrows/WASD to record a direction (I or Space: idle) or 1-9 to \
            record the n-th label of the config (custom labels too); tap one of those keys instead for a take: a \
            countdown on screen ([recording] countdown_seconds, 3 s when 0), then 5 s of recording with a progress \
            bar (Esc or a record key stops it). V (or a click on a tile) opens the sample browser to see, delete \
            and relabel every sample. Backspace deletes the last sample, Tab and +/- change \
            the training settings (kept in the data directory's edited-settings.toml for the next start and for \
            `gesturepad train`), T trains, Enter plays. In play arrows/WASD steer, Space pauses, \
            R restarts, Esc goes back. F1 or H shows every key. Samples and trained heads are saved and reused on \
            the next start.
            """)

    @OptionGroup var gestures: GestureOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Camera device or stable name, or a .y4m recording / image to use instead of a camera "
                + "(default: [camera] device)."))
    var source: String?

    @Flag(name: .long, help: "Do not open a camera: keyboard play (the training screen shows the stored samples).")
    var noCamera = false

    @Option(name: .long, help: "Render --frames frames offscreen and write the last one to this PNG (no window).")
    var screenshot: String?

    @Option(name: .long, help: "Frames to render for --screenshot.")
    var frames: Int = 60

    @Option(name: .long, help: "Screen to start on: training or play.")
    var screen: StartScreen = .training

    @Option(name: .long, help: "Initial window size WIDTHxHEIGHT (multiples of 640x360 keep pixels whole).")
    var window: String = "1280x720"

    @Flag(name: .long, help: "Full screen at the desktop's resolution.")
    var fullscreen = false

    @Option(name: .long, help: "Seed of the first game (ghost randomness).")
    var seed: UInt64 = 1

    enum StartScreen: String, ExpressibleByArgument, CaseIterable {
        case training, play
    }

    func validate() throws {
        guard frames >= 1 else { throw ValidationError("--frames must be at least 1") }
        do { _ = try WindowOptions.parseSize(window) } catch { throw ValidationError(error.description) }
    }

    func run() throws {
        let settings = try gestures.resolve(
            source.map { [ConfigOverride("camera.device", .string($0), flag: "--source")] } ?? [])
        let source = settings.camera.device
        let size = try WindowOptions.parseSize(window)
        // A model named on the command line that is not installed is a mistake to name, not a reason to open a window
        // without gestures (the window does that only when the configured default is missing: keyboard play).
        if let named = gestures.model {
            let models = ModelStore.userDefault()
            guard models.contains(named) else {
                throw NeuralNetError.modelNotInstalled(
                    name: named, store: models.root, installed: models.list().map(\.name))
            }
        }
        // A running daemon holds the camera: pause it while the window uses the camera, resume it after.
        let usesCamera = !noCamera && screenshot == nil && (source.hasPrefix("/dev/") || source.hasPrefix("video"))
        let lease = usesCamera ? DaemonCameraLease.acquire() : nil
        if lease != nil {
            FileHandle.standardError.write(Data("gesturepad play: paused the running daemon (resumed on exit)\n".utf8))
        }
        defer { lease?.release() }
        var configuration = PlayConfiguration(
            workspace: settings.workspaceConfiguration(), source: noCamera ? nil : source,
            pacing: screenshot == nil ? .realTime : .asFastAsPossible, screen: screen == .play ? .play : .training,
            seed: seed)
        configuration.camera = settings.cameraConfiguration()
        configuration.filter = settings.decisionFilterSettings()
        configuration.recording = settings.recordingSettings()
        configuration.lensCover = settings.lensCover
        configuration.training = settings.trainingOptions()
        let (session, warnings) = GameSessionBuilder.build(configuration)
        for warning in warnings { FileHandle.standardError.write(Data("gesturepad play: \(warning)\n".utf8)) }
        let options = WindowOptions(
            width: size.width, height: size.height, fullscreen: fullscreen, screenshotPath: screenshot,
            screenshotFrames: frames)
        let report = try GameWindowRunner.run(session, options: options)
        if let screenshot {
            let how =
                report.videoDriver.map { "SDL \($0) driver, \(report.renderer ?? "?") renderer" }
                ?? "no SDL window: \(report.windowlessReason ?? "unknown reason")"
            print("wrote \(screenshot) after \(report.frames) frame(s) (\(how))")
        }
    }
}
