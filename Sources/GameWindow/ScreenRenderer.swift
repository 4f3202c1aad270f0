// ScreenRenderer: one ScreenModel → one 640×360 Canvas. Picks the screen, then draws the overlays
// (key help, the toast message) on top. Owns the frame buffer and the screens' caches, so a frame
// allocates little; the SDL shell uploads `canvas` as is, tests read its pixels.
import Raster

/// Draws whole frames at the logical resolution.
public struct ScreenRenderer {
    /// The last frame drawn.
    public private(set) var canvas = Canvas(
        width: LogicalScreen.width, height: LogicalScreen.height, background: Palette.background)
    private var play = PlayScreen()
    private var training = TrainingScreen()

    /// A renderer with a black frame.
    public init() {}

    /// Where the training screen drew each label's sample count (label, text, origin, scale) in the last frame.
    public var countTexts: [(label: String, text: String, origin: Point, scale: Int)] { training.countTexts }

    /// Draws `model` into `canvas` and returns it.
    @discardableResult
    public mutating func render(_ model: ScreenModel) -> Canvas {
        switch model.app.screen {
        case .play: play.draw(model, into: &canvas)
        case .training: training.draw(model, into: &canvas)
        }
        if let toast = model.toast { Self.drawToast(toast, into: &canvas) }
        if model.app.isHelpVisible { Self.drawHelp(recordKeys: model.app.recordKeys, into: &canvas) }
        return canvas
    }

    /// A message box near the bottom of the screen.
    static func drawToast(_ text: String, into canvas: inout Canvas) {
        let lines = TextWrap.lines(text, columns: 70, maximumLines: 3)
        let width = (lines.map(\.count).max() ?? 0) * PixelFont.cellWidth + 20
        let height = lines.count * 12 + 10
        // Over the bottom guide line, clear of the panels' contents.
        let box = Rect(
            x: (LogicalScreen.width - width) / 2, y: LogicalScreen.height - 4 - height, width: width, height: height)
        canvas.fill(rect: box, color: Palette.header)
        canvas.strokeRect(box, color: Palette.accent)
        var y = box.y + 6
        for line in lines {
            canvas.draw(text: line, centeredIn: box, y: y, color: Palette.text)
            y += 12
        }
    }

    /// Every key binding, in two columns, over a darkened screen.
    static func drawHelp(recordKeys: RecordKeySettings, into canvas: inout Canvas) {
        func seconds(_ value: Double) -> String {
            value == value.rounded() ? "\(Int(value))" : ScreenText.fixed(value, decimals: 1)
        }
        canvas.shade(LogicalScreen.bounds, color: Palette.background, alpha: 0.85)
        let box = Rect(x: 40, y: 24, width: 560, height: 312)
        canvas.fillArea(box, color: Palette.panel)
        canvas.strokeRect(box, color: Palette.accent)
        canvas.draw(text: "KEYS", centeredIn: box, y: box.y + 8, color: Palette.accent, scale: 2)
        let training: [(String, String)] = [
            (
                "TAP ARROW/WASD",
                "\(seconds(recordKeys.countdownSeconds)) s countdown, \(seconds(recordKeys.takeSeconds)) s take"
            ),
            ("HOLD ARROW/WASD", "record while held"),
            ("I or SPACE", "idle (no gesture), same"),
            ("1-9", "the tile's label, same"),
            ("BACKSPACE", "delete the last sample"),
            ("V or CLICK TILE", "see, delete, relabel all"),
            ("T / C", "train a new head / cancel"),
            ("TAB / SHIFT+TAB", "choose a setting"),
            ("+ / -", "change it"),
            ("ENTER or P", "play"),
            ("ESC", "stop a take; else quit"),
        ]
        let play: [(String, String)] = [
            ("ARROWS / WASD", "steer (beats gestures)"),
            ("GESTURES", "steer through the filter"),
            ("SPACE or P", "pause / continue"),
            ("ENTER", "new game after game over"),
            ("R", "restart the game"),
            ("T", "retrain; the head swaps"),
            ("", "in when ready"),
            ("ESC or TAB", "back to training"),
        ]
        drawKeyColumn(title: "TRAINING SCREEN", rows: training, x: box.x + 16, y: box.y + 36, into: &canvas)
        drawKeyColumn(title: "PLAY SCREEN", rows: play, x: box.x + 292, y: box.y + 36, into: &canvas)
        let steps = [
            "1  Tap a gesture's key (WASD, arrows), pose in the countdown; or hold it to record.",
            "2  Record idle too (I): your resting pose, so nothing is pressed by accident.",
            "3  Press T to train. The loss falls, the confidence bars come alive.",
            "4  Press Enter and steer Pac-Man with your hands; the keyboard always works.",
        ]
        var stepY = box.y + 206
        canvas.draw(text: "HOW TO", at: Point(x: box.x + 16, y: stepY), color: Palette.text)
        canvas.fill(
            rect: Rect(x: box.x + 16, y: stepY + 11, width: box.width - 32, height: 1), color: Palette.panelBorder)
        stepY += 18
        for step in steps {
            canvas.draw(text: step, at: Point(x: box.x + 16, y: stepY), color: Palette.text)
            canvas.draw(text: String(step.prefix(1)), at: Point(x: box.x + 16, y: stepY), color: Palette.accent)
            stepY += 13
        }
        canvas.draw(
            text: "F1 / H / ESC: close this help.   Samples and heads are saved as you go.", centeredIn: box,
            y: box.maxY - 16, color: Palette.dimText)
    }

    private static func drawKeyColumn(
        title: String, rows: [(String, String)], x: Int, y: Int, into canvas: inout Canvas
    ) {
        canvas.draw(text: title, at: Point(x: x, y: y), color: Palette.text)
        canvas.fill(rect: Rect(x: x, y: y + 11, width: 252, height: 1), color: Palette.panelBorder)
        var rowY = y + 18
        for (key, action) in rows {
            canvas.draw(text: key, at: Point(x: x, y: rowY), color: Palette.accent)
            canvas.draw(text: action, at: Point(x: x + 108, y: rowY), color: Palette.text)
            rowY += 13
        }
    }
}
