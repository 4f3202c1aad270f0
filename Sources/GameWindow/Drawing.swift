// Drawing: the fixed logical screen (640×360, 16:9, scaled by whole factors to 1280×720, 1920×1080,
// 3840×2160), the palette, and the drawing helpers the screens share on top of Raster's Canvas
// (filled circles, Pac-Man's wedge, centred text, panels, nearest-neighbour image scaling, colour
// remapping for Raster's light charts). Everything draws into a Canvas; nothing here knows SDL.
import Capture
import Game
import Raster

/// The logical resolution every screen is drawn at; the window scales it by whole factors.
public enum LogicalScreen {
    /// Width in logical pixels.
    public static let width = 640
    /// Height in logical pixels.
    public static let height = 360
    /// The whole screen.
    public static var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }
}

/// The colours of the window (arcade palette for the maze, a dark theme for the panels).
public enum Palette {
    /// Screen background.
    public static let background = RGB(0, 0, 0)
    /// Panel fill on the training screen.
    public static let panel = RGB(16, 18, 42)
    /// Panel outline.
    public static let panelBorder = RGB(48, 52, 110)
    /// Header strip.
    public static let header = RGB(26, 28, 70)
    /// Body text.
    public static let text = RGB(222, 222, 235)
    /// Secondary text (captions, hints).
    public static let dimText = RGB(130, 134, 170)
    /// Titles and highlights (Pac-Man yellow).
    public static let accent = RGB(255, 224, 0)
    /// Recording, warnings.
    public static let alert = RGB(255, 64, 64)
    /// Success (a finished training run, a held gesture).
    public static let good = RGB(80, 220, 110)
    /// Maze wall outline.
    public static let wall = RGB(40, 60, 255)
    /// Maze wall interior.
    public static let wallFill = RGB(8, 10, 60)
    /// The ghost-house door.
    public static let door = RGB(255, 184, 222)
    /// Pellets and power pellets.
    public static let pellet = RGB(255, 184, 151)
    /// Pac-Man.
    public static let pacman = RGB(255, 255, 0)
    /// Frightened ghosts.
    public static let frightened = RGB(33, 33, 255)
    /// Frightened ghosts flashing at the end of the period.
    public static let frightenedFlash = RGB(240, 240, 255)
    /// Ghost eyes.
    public static let eyeWhite = RGB(255, 255, 255)
    /// Ghost pupils.
    public static let pupil = RGB(30, 40, 200)
    /// Confidence bar tracks.
    public static let track = RGB(36, 40, 80)
    /// Confidence bars.
    public static let bar = RGB(70, 130, 255)

    /// Each ghost's body colour (the arcade's red, pink, cyan and orange).
    public static func ghost(_ name: GhostName) -> RGB {
        switch name {
        case .blinky: RGB(255, 0, 0)
        case .pinky: RGB(255, 184, 255)
        case .inky: RGB(0, 255, 255)
        case .clyde: RGB(255, 184, 82)
        }
    }
}

extension Canvas {
    /// `fill(rect:color:)` for large areas: one pass over raw rows (Raster's per-pixel fill is the
    /// frame's hot spot in debug builds, where Raster is not optimised).
    mutating func fillArea(_ rect: Rect, color: RGB) {
        let clipped = rect.intersection(bounds)
        guard !clipped.isEmpty else { return }
        let width = self.width
        pixels.withUnsafeMutableBufferPointer { buffer in
            for y in clipped.y..<clipped.maxY {
                var index = (y * width + clipped.x) * 3
                for _ in 0..<clipped.width {
                    buffer[index] = color.red
                    buffer[index + 1] = color.green
                    buffer[index + 2] = color.blue
                    index += 3
                }
            }
        }
    }

    /// Mixes `color` over `rect` at opacity `alpha` (0…1) in integer arithmetic (for full-screen overlays).
    mutating func shade(_ rect: Rect, color: RGB, alpha: Double) {
        let clipped = rect.intersection(bounds)
        guard !clipped.isEmpty else { return }
        let over = Int((min(max(alpha, 0), 1) * 256).rounded())
        let under = 256 - over
        let channels = [Int(color.red) * over, Int(color.green) * over, Int(color.blue) * over]
        let width = self.width
        pixels.withUnsafeMutableBufferPointer { buffer in
            for y in clipped.y..<clipped.maxY {
                var index = (y * width + clipped.x) * 3
                for _ in 0..<clipped.width {
                    for channel in 0..<3 {
                        buffer[index + channel] = UInt8((Int(buffer[index + channel]) * under + channels[channel]) >> 8)
                    }
                    index += 3
                }
            }
        }
    }

    /// Fills the disc of `radius` around (`centerX`, `centerY`) (pixel centres inside the circle).
    mutating func fillCircle(centerX: Double, centerY: Double, radius: Double, color: RGB) {
        fillDisc(centerX: centerX, centerY: centerY, radius: radius, color: color) { _, _ in true }
    }

    /// Fills the pixels of a disc for which `include(dx, dy)` holds (offsets from the centre).
    mutating func fillDisc(
        centerX: Double, centerY: Double, radius: Double, color: RGB, include: (Double, Double) -> Bool
    ) {
        let top = Int((centerY - radius).rounded(.down))
        let bottom = Int((centerY + radius).rounded(.up))
        let left = Int((centerX - radius).rounded(.down))
        let right = Int((centerX + radius).rounded(.up))
        let radiusSquared = radius * radius
        for y in max(0, top)...max(0, min(height - 1, bottom)) where y >= top && y <= bottom {
            let dy = Double(y) + 0.5 - centerY
            for x in max(0, left)...max(0, min(width - 1, right)) where x >= left && x <= right {
                let dx = Double(x) + 0.5 - centerX
                if dx * dx + dy * dy <= radiusSquared && include(dx, dy) {
                    setPixel(x: x, y: y, color: color)
                }
            }
        }
    }

    /// Draws `text` centred horizontally in `rect` at `y`, clipped by the canvas.
    mutating func draw(text: String, centeredIn rect: Rect, y: Int, color: RGB, scale: Int = 1) {
        let width = PixelFont.measure(text: text, scale: scale).width
        draw(text: text, at: Point(x: rect.x + (rect.width - width) / 2, y: y), color: color, scale: scale)
    }

    /// Draws `text` with its right edge at `rightX`.
    mutating func draw(text: String, rightAlignedAt rightX: Int, y: Int, color: RGB, scale: Int = 1) {
        let width = PixelFont.measure(text: text, scale: scale).width
        draw(text: text, at: Point(x: rightX - width, y: y), color: color, scale: scale)
    }

    /// A filled panel with a one-pixel outline.
    mutating func panel(_ rect: Rect, fill: RGB = Palette.panel, border: RGB = Palette.panelBorder) {
        fillArea(rect, color: fill)
        strokeRect(rect, color: border)
    }

    /// Copies `image` scaled to `rect` by nearest-neighbour sampling (clipped by the canvas).
    mutating func drawImage(_ image: RGBImage, in rect: Rect) {
        guard image.width > 0, image.height > 0, !rect.isEmpty else { return }
        let visible = rect.intersection(bounds)
        guard !visible.isEmpty else { return }
        let width = self.width
        image.pixels.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { target in
                for y in visible.y..<visible.maxY {
                    let sourceRow = (y - rect.y) * image.height / rect.height * image.width
                    for x in visible.x..<visible.maxX {
                        let from = (sourceRow + (x - rect.x) * image.width / rect.width) * 3
                        let to = (y * width + x) * 3
                        target[to] = source[from]
                        target[to + 1] = source[from + 1]
                        target[to + 2] = source[from + 2]
                    }
                }
            }
        }
    }

    /// This canvas with every pixel whose colour is a key of `mapping` replaced by its value (Raster's
    /// charts draw dark on white; the window's theme is light on dark).
    func recolored(_ mapping: [RGB: RGB]) -> Canvas {
        var result = self
        for index in stride(from: 0, to: pixels.count, by: 3) {
            let color = RGB(pixels[index], pixels[index + 1], pixels[index + 2])
            if let replacement = mapping[color] {
                result.pixels[index] = replacement.red
                result.pixels[index + 1] = replacement.green
                result.pixels[index + 2] = replacement.blue
            }
        }
        return result
    }

    /// A small filled triangle pointing in `direction`, centred on (`centerX`, `centerY`): `size / 2 + 1`
    /// pixels from base to tip, `size + 1` wide at the base.
    mutating func arrow(pointing direction: ArrowDirection, centerX: Int, centerY: Int, size: Int, color: RGB) {
        let half = size / 2
        // Row `step` from the tip is 2·step+1 wide; the tip sits half the triangle's height from the centre.
        let tipOffset = (half + 1) / 2
        for step in 0...half {
            switch direction {
            case .up:
                fill(
                    rect: Rect(x: centerX - step, y: centerY - tipOffset + step, width: 2 * step + 1, height: 1),
                    color: color)
            case .down:
                fill(
                    rect: Rect(x: centerX - step, y: centerY + tipOffset - step, width: 2 * step + 1, height: 1),
                    color: color)
            case .left:
                fill(
                    rect: Rect(x: centerX - tipOffset + step, y: centerY - step, width: 1, height: 2 * step + 1),
                    color: color)
            case .right:
                fill(
                    rect: Rect(x: centerX + tipOffset - step, y: centerY - step, width: 1, height: 2 * step + 1),
                    color: color)
            }
        }
    }
}

/// Which way a drawn arrow points.
public enum ArrowDirection: Sendable {
    /// Tip at the top.
    case up
    /// Tip at the bottom.
    case down
    /// Tip on the left.
    case left
    /// Tip on the right.
    case right

    /// The arrow for a label name (`up`, `down`, `left`, `right`), nil for others.
    init?(label: String) {
        switch label {
        case "up": self = .up
        case "down": self = .down
        case "left": self = .left
        case "right": self = .right
        default: return nil
        }
    }
}

/// Short number formats for the screens.
enum ScreenText {
    /// A probability as a whole percentage: `93%`.
    static func percent(_ value: Float) -> String {
        guard value.isFinite else { return "-" }
        return "\(Int((min(max(value, 0), 1) * 100).rounded()))%"
    }

    /// A learning rate without trailing zeros: `0.0001`, `0.003`.
    static func learningRate(_ value: Double) -> String {
        var digits = 1
        while digits < 8 && abs(value * pow10(digits) - (value * pow10(digits)).rounded()) > 1e-9 { digits += 1 }
        return fixed(value, decimals: digits)
    }

    /// `value` with exactly `decimals` digits after the point (no Foundation formatting).
    static func fixed(_ value: Double, decimals: Int) -> String {
        let scale = pow10(decimals)
        let scaled = Int((abs(value) * scale).rounded())
        let whole = scaled / Int(scale)
        var fraction = String(scaled % Int(scale))
        while fraction.count < decimals { fraction = "0" + fraction }
        return (value < 0 && scaled != 0 ? "-" : "") + "\(whole)" + (decimals > 0 ? "." + fraction : "")
    }

    private static func pow10(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<max(0, exponent) { result *= 10 }
        return result
    }
}
