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

    public var description: String {
        switch self {
        case .sdl(let call, let reason):
            "\(call) failed: \(reason.isEmpty ? "(SDL_GetError gave no reason)" : reason). "
                + "Is there a display? Run inside a desktop session, set DISPLAY / WAYLAND_DISPLAY, "
                + "or choose a driver with SDL_VIDEODRIVER=x11|wayland (offscreen for headless screenshots)."
        case .screenshotNotWritten(let path, let reason):
            "could not write the screenshot \(path): \(reason); check that the directory exists and is writable"
        case .invalidWindowSize(let text):
            "window size '\(text)' is not WIDTHxHEIGHT (e.g. 1280x720) with both at least 320x180"
        }
    }
}
