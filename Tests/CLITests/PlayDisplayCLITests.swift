// `gesturepad play` without a display: the live window must refuse with a message naming DISPLAY,
// WAYLAND_DISPLAY and SDL's error and exit 1 — never fall back to SDL's offscreen driver and run on
// unseen. The binary runs with a watchdog (a regression would otherwise run forever).
import Foundation
import TestSupport
import Testing

@Suite("gesturepad play without a display", .serialized)
struct PlayDisplayCLITests {
    /// Runs gesturepad with `environment`; kills it after `seconds` (then `timedOut` is true).
    static func run(_ arguments: [String], environment: [String: String], seconds: Double = 60) throws -> (
        status: Int32, error: String, timedOut: Bool
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: GesturepadBinary.path)
        process.arguments = arguments
        process.environment = environment
        let errorPipe = Pipe()
        process.standardError = errorPipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let finished = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            process.waitUntilExit()
            finished.signal()
        }
        let timedOut = finished.wait(timeout: .now() + seconds) == .timedOut
        if timedOut {
            process.terminate()
            finished.wait()
        }
        let error = String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, error, timedOut)
    }

    static func environment(_ changes: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for name in ["DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"] { environment[name] = nil }
        environment["XDG_CONFIG_HOME"] = temporaryDirectory("play-config")
        return environment.merging(changes) { $1 }
    }

    @Test func noDisplayIsAClearErrorAndExitOne() throws {
        let data = temporaryDirectory("play-no-display")
        defer { try? FileManager.default.removeItem(atPath: data) }
        let run = try Self.run(["play", "--no-camera", "--data-dir", data], environment: Self.environment([:]))
        #expect(!run.timedOut, "play ran on without a display")
        #expect(run.status == 1, "\(run.error)")
        #expect(run.error.contains("the game window needs a display"), "\(run.error)")
        #expect(run.error.contains("DISPLAY is not set") && run.error.contains("WAYLAND_DISPLAY is not set"))
        #expect(run.error.contains("(SDL: SDL_Init(SDL_INIT_VIDEO): "), "SDL's own error is quoted: \(run.error)")
        #expect(run.error.contains("--screenshot"))
    }

    @Test func theOffscreenDriverIsRefusedForTheLiveWindow() throws {
        let data = temporaryDirectory("play-offscreen")
        defer { try? FileManager.default.removeItem(atPath: data) }
        let run = try Self.run(
            ["play", "--no-camera", "--data-dir", data], environment: Self.environment(["SDL_VIDEODRIVER": "offscreen"])
        )
        #expect(!run.timedOut, "play ran on the offscreen driver")
        #expect(run.status == 1)
        #expect(run.error.contains("SDL video driver 'offscreen' draws nowhere"), "\(run.error)")
    }

    @Test("play --help names every record key and the sample browser")
    func helpNamesTheKeys() throws {
        let run = try GesturepadBinary.run(["play", "--help"], environment: Self.environment([:]))
        #expect(run.status == 0)
        let help = run.standardOutput.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.contains("or 1-9 to record the n-th label of the config"), "\(help)")
        #expect(help.contains("V (or a click on a tile) opens the sample browser"), "\(help)")
    }

    @Test func aScreenshotStillRendersOffscreen() throws {
        let data = temporaryDirectory("play-screenshot")
        defer { try? FileManager.default.removeItem(atPath: data) }
        let png = data + "/shot.png"
        let run = try Self.run(
            ["play", "--no-camera", "--data-dir", data, "--screenshot", png, "--frames", "2"],
            environment: Self.environment([:]))
        #expect(run.status == 0, "\(run.error)")
        #expect(FileManager.default.fileExists(atPath: png))
    }
}
