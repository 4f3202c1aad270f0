// GameWindowError: what can go wrong in the game window's edge (SDL, the screenshot file, options).
// Each description names the failing call and says what to do; the pure screens never throw.

/// A failure of the SDL shell or of writing a screenshot.
public enum GameWindowError: Error, Equatable, CustomStringConvertible {
    /// An SDL call failed; `reason` is `SDL_GetError()` at that moment.
    case sdl(call: String, reason: String)
    /// The screenshot PNG could not be written.
    case screenshotNotWritten(path: String, reason: String)
    /// A window size option is malformed.
    case invalidWindowSize(String)
    /// The live window found no real display: the environment's DISPLAY and WAYLAND_DISPLAY (nil: unset), the video
    /// driver asked for or used (offscreen/dummy draw nowhere), and SDL's error.
    case noDisplay(display: String?, waylandDisplay: String?, driver: String?, sdlError: String)

    public var description: String {
        switch self {
        case .sdl(let call, let reason):
            "\(call) failed: \(reason.isEmpty ? "(SDL_GetError gave no reason)" : reason). "
                + "Is there a display? Run inside a desktop session, set DISPLAY / WAYLAND_DISPLAY, "
                + "or choose a driver with SDL_VIDEODRIVER=x11|wayland (offscreen for headless screenshots)."
        case .screenshotNotWritten(let path, let reason):
            "could not write the screenshot \(path): \(reason); check that the directory exists and is writable"
        case .noDisplay(let display, let waylandDisplay, let driver, let sdlError):
            "the game window needs a display and found none usable: "
                + "DISPLAY is \(display.map { "'\($0)'" } ?? "not set"), "
                + "WAYLAND_DISPLAY is \(waylandDisplay.map { "'\($0)'" } ?? "not set")"
                + (driver.map { ", SDL video driver '\($0)' draws nowhere" } ?? "")
                + " (SDL: \(sdlError.isEmpty ? "no error given" : sdlError)). "
                + "Run it in a desktop session (or set DISPLAY, e.g. DISPLAY=:0), or render a picture offscreen "
                + "with --screenshot FILE.png."
        case .invalidWindowSize(let text):
            "window size '\(text)' is not WIDTHxHEIGHT (e.g. 1280x720) with both at least 320x180"
        }
    }
}
