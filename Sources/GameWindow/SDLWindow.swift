// SDLWindow: the thin SDL2 edge (the only file that touches CSDL2) — one window, one renderer, one
// streaming RGB24 texture the 640×360 canvas is uploaded to each frame. SDL scales it: nearest
// neighbour (`SDL_HINT_RENDER_SCALE_QUALITY` "nearest", `SDL_SetTextureScaleMode`) with letterboxing
// (`SDL_RenderSetLogicalSize`) at whole factors (`SDL_RenderSetIntegerScale`) whenever the window
// is at least 640×360, so pixels stay square and crisp at any window size. Keys are translated
// from SDL key codes (the key's label, so T is T on any layout) into `AppKey`s.
import CSDL2
import Foundation
import Raster

/// Something that happened to the window.
enum WindowEvent: Equatable {
    case keyDown(AppKey, isRepeat: Bool, shift: Bool)
    case keyUp(AppKey)
    /// The left mouse button went down at logical (`x`, `y`) (SDL maps window pixels through the logical size).
    case click(x: Int, y: Int)
    /// The window lost the keyboard (held keys will never see their key-up).
    case focusLost
    /// The window was closed.
    case quit
}

/// An SDL window showing canvases of the logical size.
final class SDLWindow {
    private let window: OpaquePointer
    private let renderer: OpaquePointer
    private let texture: OpaquePointer
    /// The video driver SDL chose (`x11`, `wayland`, `offscreen`, …).
    let driverName: String
    /// The renderer SDL chose (`opengl`, `software`, …).
    let rendererName: String

    /// Opens a window of `width`×`height` (or full screen on the desktop's resolution).
    init(title: String, width: Int, height: Int, fullscreen: Bool) throws(GameWindowError) {
        SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "nearest")
        guard SDL_Init(SDL_INIT_VIDEO) == 0 else {
            throw .sdl(call: "SDL_Init(SDL_INIT_VIDEO)", reason: Self.lastError())
        }
        var flags = SDL_WINDOW_RESIZABLE.rawValue | SDL_WINDOW_ALLOW_HIGHDPI.rawValue
        if fullscreen { flags |= SDL_WINDOW_FULLSCREEN_DESKTOP.rawValue }
        guard
            let window = SDL_CreateWindow(
                title, Int32(bitPattern: CSDL2_WINDOWPOS_CENTERED), Int32(bitPattern: CSDL2_WINDOWPOS_CENTERED),
                Int32(width), Int32(height), flags)
        else {
            let reason = Self.lastError()
            SDL_Quit()
            throw .sdl(call: "SDL_CreateWindow", reason: reason)
        }
        // Prefer an accelerated renderer synchronised with the display; fall back to software.
        let accelerated = SDL_RENDERER_ACCELERATED.rawValue | SDL_RENDERER_PRESENTVSYNC.rawValue
        guard
            let renderer = SDL_CreateRenderer(window, -1, accelerated)
                ?? SDL_CreateRenderer(window, -1, SDL_RENDERER_SOFTWARE.rawValue)
        else {
            let reason = Self.lastError()
            SDL_DestroyWindow(window)
            SDL_Quit()
            throw .sdl(call: "SDL_CreateRenderer", reason: reason)
        }
        guard
            let texture = SDL_CreateTexture(
                renderer, CSDL2_PIXELFORMAT_RGB24, Int32(SDL_TEXTUREACCESS_STREAMING.rawValue),
                Int32(LogicalScreen.width), Int32(LogicalScreen.height))
        else {
            let reason = Self.lastError()
            SDL_DestroyRenderer(renderer)
            SDL_DestroyWindow(window)
            SDL_Quit()
            throw .sdl(call: "SDL_CreateTexture(RGB24, \(LogicalScreen.width)x\(LogicalScreen.height))", reason: reason)
        }
        SDL_SetTextureScaleMode(texture, SDL_ScaleModeNearest)
        SDL_RenderSetLogicalSize(renderer, Int32(LogicalScreen.width), Int32(LogicalScreen.height))
        self.window = window
        self.renderer = renderer
        self.texture = texture
        driverName = SDL_GetCurrentVideoDriver().map { String(cString: $0) } ?? "unknown"
        var info = SDL_RendererInfo()
        rendererName =
            SDL_GetRendererInfo(renderer, &info) == 0 && info.name != nil ? String(cString: info.name) : "unknown"
        updateScaling()
    }

    deinit {
        SDL_DestroyTexture(texture)
        SDL_DestroyRenderer(renderer)
        SDL_DestroyWindow(window)
        SDL_Quit()
    }

    /// Opens and closes a small window on SDL's offscreen driver; nil when that works, else why not.
    static func probeOffscreenDriver() -> String? {
        if getenv("SDL_VIDEODRIVER") == nil { setenv("SDL_VIDEODRIVER", "offscreen", 1) }
        do {
            _ = try SDLWindow(title: "probe", width: 640, height: 360, fullscreen: false)
            return nil
        } catch {
            return error.description
        }
    }

    /// `SDL_GetError()` as a Swift string.
    static func lastError() -> String {
        SDL_GetError().map { String(cString: $0) } ?? ""
    }

    /// Whole-factor scaling when the window can hold the logical size at least once; otherwise SDL
    /// shrinks it (integer scaling would crop).
    private func updateScaling() {
        var width: Int32 = 0
        var height: Int32 = 0
        SDL_GetRendererOutputSize(renderer, &width, &height)
        let fits = Int(width) >= LogicalScreen.width && Int(height) >= LogicalScreen.height
        SDL_RenderSetIntegerScale(renderer, fits ? SDL_TRUE : SDL_FALSE)
    }

    /// Uploads `canvas` (logical size, RGB8) and shows it letterboxed on black.
    func present(_ canvas: Canvas) {
        canvas.pixels.withUnsafeBytes { bytes in
            _ = SDL_UpdateTexture(texture, nil, bytes.baseAddress, Int32(canvas.width * 3))
        }
        SDL_SetRenderDrawColor(renderer, 0, 0, 0, 255)
        SDL_RenderClear(renderer)
        SDL_RenderCopy(renderer, texture, nil, nil)
        SDL_RenderPresent(renderer)
    }

    /// The events since the last call.
    func pollEvents() -> [WindowEvent] {
        var events: [WindowEvent] = []
        var event = SDL_Event()
        while SDL_PollEvent(&event) != 0 {
            switch event.type {
            case SDL_QUIT.rawValue:
                events.append(.quit)
            case SDL_KEYDOWN.rawValue:
                if let key = Self.appKey(code: event.key.keysym.sym) {
                    let shift = (UInt32(event.key.keysym.mod) & UInt32(KMOD_SHIFT.rawValue)) != 0
                    events.append(.keyDown(key, isRepeat: event.key.repeat != 0, shift: shift))
                }
            case SDL_KEYUP.rawValue:
                if let key = Self.appKey(code: event.key.keysym.sym) { events.append(.keyUp(key)) }
            case SDL_MOUSEBUTTONDOWN.rawValue:
                if event.button.button == UInt8(SDL_BUTTON_LEFT) {
                    events.append(.click(x: Int(event.button.x), y: Int(event.button.y)))
                }
            case SDL_WINDOWEVENT.rawValue:
                switch UInt32(event.window.event) {
                case UInt32(SDL_WINDOWEVENT_SIZE_CHANGED.rawValue): updateScaling()
                case UInt32(SDL_WINDOWEVENT_FOCUS_LOST.rawValue): events.append(.focusLost)
                default: break
                }
            default:
                break
            }
        }
        return events
    }

    /// The app key for an SDL key code (`SDL_Keysym.sym`: the label on the key, not its position).
    static func appKey(code: Int32) -> AppKey? {
        switch code {
        case Int32(SDLK_UP.rawValue): return .arrowUp
        case Int32(SDLK_DOWN.rawValue): return .arrowDown
        case Int32(SDLK_LEFT.rawValue): return .arrowLeft
        case Int32(SDLK_RIGHT.rawValue): return .arrowRight
        case Int32(SDLK_SPACE.rawValue): return .space
        case Int32(SDLK_BACKSPACE.rawValue), Int32(SDLK_DELETE.rawValue): return .backspace
        case Int32(SDLK_RETURN.rawValue), Int32(SDLK_KP_ENTER.rawValue): return .enter
        case Int32(SDLK_ESCAPE.rawValue): return .escape
        case Int32(SDLK_TAB.rawValue): return .tab
        case Int32(SDLK_F1.rawValue): return .f1
        case Int32(SDLK_PLUS.rawValue), Int32(SDLK_EQUALS.rawValue), Int32(SDLK_KP_PLUS.rawValue): return .plus
        case Int32(SDLK_MINUS.rawValue), Int32(SDLK_KP_MINUS.rawValue): return .minus
        case Int32(SDLK_PAGEUP.rawValue): return .pageUp
        case Int32(SDLK_PAGEDOWN.rawValue): return .pageDown
        case Int32(SDLK_0.rawValue)...Int32(SDLK_9.rawValue): return .digit(Int(code - Int32(SDLK_0.rawValue)))
        case Int32(SDLK_a.rawValue)...Int32(SDLK_z.rawValue):
            return .letter(Character(Unicode.Scalar(UInt8(code))))
        default: return nil
        }
    }
}
