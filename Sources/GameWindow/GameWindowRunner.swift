// GameWindowRunner: the frame loop around a GameSession — SDL events in, fixed 60 Hz game ticks
// (an accumulator decoupled from the display rate, at most 4 ticks caught up per frame), one canvas
// out per frame, a frame limiter when the display does not sync. Screenshot mode renders N frames on
// SDL's offscreen driver with one pipeline frame and one tick per frame (deterministic, as fast as
// possible) and writes the last canvas as a PNG; without any usable SDL it still renders the canvas.
// Only screenshot mode uses the offscreen driver: the live window asks SDL for x11 or wayland and
// refuses (GameWindowError.noDisplay, naming DISPLAY, WAYLAND_DISPLAY and SDL's error) rather than
// running forever on a driver that draws nowhere.
import Capture
import Foundation
import Gestures
import Raster
import SystemSupport

/// How to show the window.
public struct WindowOptions: Sendable, Equatable {
    /// Initial window width in screen pixels (a multiple of 640 keeps pixels whole from the start).
    public var width: Int
    /// Initial window height in screen pixels.
    public var height: Int
    /// Full screen at the desktop's resolution.
    public var fullscreen: Bool
    /// Render `screenshotFrames` frames offscreen and write the last one here (PNG), instead of a live window.
    public var screenshotPath: String?
    /// Frames to render before the screenshot.
    public var screenshotFrames: Int

    /// Window options; 1280×720 (2× the logical size) by default.
    public init(
        width: Int = 1280, height: Int = 720, fullscreen: Bool = false, screenshotPath: String? = nil,
        screenshotFrames: Int = 60
    ) {
        self.width = width
        self.height = height
        self.fullscreen = fullscreen
        self.screenshotPath = screenshotPath
        self.screenshotFrames = screenshotFrames
    }

    /// Parses `WIDTHxHEIGHT` (at least 320×180).
    public static func parseSize(_ text: String) throws(GameWindowError) -> (width: Int, height: Int) {
        let parts = text.lowercased().split(separator: "x").map { Int($0) }
        guard parts.count == 2, let width = parts[0], let height = parts[1], width >= 320, height >= 180 else {
            throw .invalidWindowSize(text)
        }
        return (width, height)
    }
}

/// What a run did.
public struct RunReport: Sendable, Equatable {
    /// Frames drawn.
    public var frames: Int
    /// SDL's video driver, or nil when no window could be opened (screenshot without SDL).
    public var videoDriver: String?
    /// SDL's renderer.
    public var renderer: String?
    /// Why SDL was not used, when a screenshot was rendered without it.
    public var windowlessReason: String?
}

/// Runs sessions in a window.
public enum GameWindowRunner {
    /// Ticks per second of the game (and the frame rate aimed at).
    static let ticksPerSecond: UInt64 = 60
    static let tickNanoseconds: UInt64 = 1_000_000_000 / ticksPerSecond

    /// Shows `session` until the user quits (or, with a screenshot path, renders the frames and writes the PNG).
    public static func run(_ session: GameSession, options: WindowOptions) throws(GameWindowError) -> RunReport {
        if let path = options.screenshotPath {
            return try screenshot(session, path: path, frames: max(1, options.screenshotFrames), options: options)
        }
        let window = try openLiveWindow(options)
        session.startPipeline()
        defer { session.shutdown() }
        var frames = 0
        var previous = SystemFrameClock.nanoseconds()
        var accumulated: UInt64 = 0
        var deadline = previous
        while !session.isQuitRequested {
            for event in window.pollEvents() { deliver(event, to: session) }
            let now = SystemFrameClock.nanoseconds()
            accumulated += now - previous
            previous = now
            var ticks = Int(accumulated / tickNanoseconds)
            accumulated -= UInt64(ticks) * tickNanoseconds
            if ticks > 4 {
                // After a stall (window dragged, machine busy) skip ahead rather than fast-forward.
                ticks = 4
                accumulated = 0
            }
            session.advance(ticks: ticks)
            window.present(session.render())
            frames += 1
            // Frame limiter for displays without vsync (and Xvfb): sleep until the next 60 Hz slot.
            deadline += tickNanoseconds
            let after = SystemFrameClock.nanoseconds()
            if deadline > after {
                usleep(UInt32((deadline - after) / 1000))
            } else if after - deadline > 4 * tickNanoseconds {
                deadline = after
            }
        }
        return RunReport(frames: frames, videoDriver: window.driverName, renderer: window.rendererName)
    }

    /// Video drivers that open a "window" without showing it anywhere: never for the live window.
    static let invisibleDrivers: Set<String> = ["offscreen", "dummy", "evdev"]

    /// The live window on a real display, or `noDisplay`. An SDL_VIDEODRIVER naming a real driver is kept; unset,
    /// SDL may choose only x11 (DISPLAY set) and wayland (WAYLAND_DISPLAY set).
    static func openLiveWindow(_ options: WindowOptions) throws(GameWindowError) -> SDLWindow {
        let environment = ProcessInfo.processInfo.environment
        func nonEmpty(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let (display, waylandDisplay) = (nonEmpty("DISPLAY"), nonEmpty("WAYLAND_DISPLAY"))
        if let asked = nonEmpty("SDL_VIDEODRIVER"), invisibleDrivers.contains(asked.lowercased()) {
            throw .noDisplay(
                display: display, waylandDisplay: waylandDisplay, driver: asked,
                sdlError: "SDL_VIDEODRIVER=\(asked) is for --screenshot only")
        }
        if nonEmpty("SDL_VIDEODRIVER") == nil {
            // The drivers whose display the environment names (x11 first, SDL 2's own order); with neither, x11 alone
            // gives SDL's error without libwayland's noise about XDG_RUNTIME_DIR.
            let drivers = (display == nil ? [] : ["x11"]) + (waylandDisplay == nil ? [] : ["wayland"])
            setenv("SDL_VIDEODRIVER", drivers.isEmpty ? "x11" : drivers.joined(separator: ","), 1)
        }
        let window: SDLWindow
        do {
            window = try SDLWindow(
                title: "gesturepad", width: options.width, height: options.height, fullscreen: options.fullscreen)
        } catch {
            if case .sdl(let call, let reason) = error {
                throw .noDisplay(
                    display: display, waylandDisplay: waylandDisplay, driver: nil, sdlError: "\(call): \(reason)")
            }
            throw error
        }
        guard !invisibleDrivers.contains(window.driverName) else {
            throw .noDisplay(
                display: display, waylandDisplay: waylandDisplay, driver: window.driverName,
                sdlError: "SDL chose a driver that shows nothing")
        }
        return window
    }

    /// Whether SDL can open a window on its offscreen driver here (nil) or why not (for tests and diagnostics).
    public static func probeOffscreenDriver() -> String? { SDLWindow.probeOffscreenDriver() }

    /// Passes a window event on to the session.
    static func deliver(_ event: WindowEvent, to session: GameSession) {
        switch event {
        case .keyDown(let key, let isRepeat, let shift): session.keyDown(key, isRepeat: isRepeat, shift: shift)
        case .keyUp(let key): session.keyUp(key)
        case .click(let x, let y): session.click(x: x, y: y)
        case .focusLost: session.releaseAllKeys()
        case .quit: session.quit()
        }
    }

    private static func screenshot(_ session: GameSession, path: String, frames: Int, options: WindowOptions)
        throws(GameWindowError)
        -> RunReport
    {
        // Headless by default: SDL's offscreen driver needs no display.
        if ProcessInfo.processInfo.environment["SDL_VIDEODRIVER"] == nil { setenv("SDL_VIDEODRIVER", "offscreen", 1) }
        var window: SDLWindow?
        var windowlessReason: String?
        do {
            window = try SDLWindow(title: "gesturepad", width: options.width, height: options.height, fullscreen: false)
        } catch {
            windowlessReason = error.description
        }
        var canvas = Canvas(width: LogicalScreen.width, height: LogicalScreen.height)
        for _ in 0..<frames {
            if let window { for event in window.pollEvents() { deliver(event, to: session) } }
            session.processPipelineFrame()
            session.advance(ticks: 1)
            canvas = session.render()
            window?.present(canvas)
        }
        session.shutdown()
        let png = RGBImage(width: canvas.width, height: canvas.height, pixels: canvas.pixels).pngData()
        do throws(AtomicFileError) {
            try AtomicFile.write(png, to: path)
        } catch {
            throw .screenshotNotWritten(path: path, reason: error.reason)
        }
        return RunReport(
            frames: frames, videoDriver: window?.driverName, renderer: window?.rendererName,
            windowlessReason: windowlessReason)
    }
}
