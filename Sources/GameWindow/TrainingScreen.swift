// TrainingScreen: the TF.js webcam demo's screen, done properly, at 640×360 — the live camera
// (the 224×224 sample frame, mirrored as recorded) with a REC frame while recording, a tapped key's
// countdown big over it and the take's progress bar; one tile
// per label with its key, its stored sample count and the newest thumbnails; the live confidence
// bars and the decision filter's state; the training knobs, a progress bar, the held-out accuracy with
// per-label figures and warnings after a run, and the training and held-out loss curves (Raster's
// LinePlot recoloured to the dark theme). A one-line guide runs along the bottom.
import Capture
import Foundation
import Gestures
import Raster

/// Where the training screen puts things, in logical pixels.
public enum TrainingLayout {
    /// The header strip.
    public static let header = Rect(x: 0, y: 0, width: LogicalScreen.width, height: 16)
    /// The camera view (the sample frame at 1:1).
    public static let camera = Rect(x: 8, y: 22, width: 224, height: 224)
    /// Confidence bars and filter state, under the camera.
    public static let confidence = Rect(x: 8, y: 252, width: 224, height: 86)
    /// The label tiles' row.
    static let tilesTop = 22
    static let tileWidth = 74
    static let tileHeight = 122
    static let tileGap = 5
    static let tilesLeft = 240
    /// The most tiles the row holds (digits 1–9 record them).
    public static let maximumTiles = 9
    /// The tile of the label at `index` of `count` labels (five or fewer keep the full width; more share the row).
    public static func tile(index: Int, count: Int = 5) -> Rect {
        let width = count <= 5 ? tileWidth : (5 * (tileWidth + tileGap)) / min(count, maximumTiles) - tileGap
        return Rect(x: tilesLeft + index * (width + tileGap), y: tilesTop, width: width, height: tileHeight)
    }
    /// Thumbnails a tile of `count` labels shows: four (two per row) when it is wide enough, else two.
    public static func thumbnailSlots(count: Int = 5) -> Int { tile(index: 0, count: count).width >= 62 ? 4 : 2 }
    /// Thumbnail `slot` (newest first, at half size, two per row or one when narrow) of the tile at `index`.
    public static func thumbnail(tileIndex index: Int, slot: Int, count: Int = 5) -> Rect {
        let tile = tile(index: index, count: count)
        let perRow = thumbnailSlots(count: count) / 2
        return Rect(
            x: tile.x + (tile.width - perRow * 32 + 4) / 2 + (slot % perRow) * 32,
            y: tile.y + 60 + (slot / perRow) * 30,
            width: 28, height: 28)
    }
    /// The training knobs and status.
    public static let trainingPanel = Rect(x: 240, y: 150, width: 186, height: 188)
    /// The loss plot.
    public static let lossPlot = Rect(x: 432, y: 150, width: 200, height: 188)
    /// The guide line at the bottom.
    public static let footerY = 346
}

/// Draws the training screen.
struct TrainingScreen {
    /// Where the count of each label was drawn (label, the text, its origin and scale): the tests read
    /// counts back from here and check the pixels there.
    private(set) var countTexts: [(label: String, text: String, origin: Point, scale: Int)] = []
    /// The sample browser's drawing (it caches the preview frame).
    var browserScreen = BrowserScreen()

    mutating func draw(_ model: ScreenModel, into canvas: inout Canvas) {
        canvas.fillArea(canvas.bounds, color: Palette.background)
        drawHeader(model, into: &canvas)
        countTexts.removeAll(keepingCapacity: true)
        if let browser = model.app.browser {
            browserScreen.draw(browser, model: model, into: &canvas)
            return
        }
        drawCamera(model, into: &canvas)
        drawConfidence(model, into: &canvas)
        for (index, label) in model.app.labels.names.enumerated() where index < TrainingLayout.maximumTiles {
            drawTile(label: label, index: index, model: model, into: &canvas)
        }
        drawTrainingPanel(model, into: &canvas)
        drawLossPlot(model, into: &canvas)
        let guide =
            model.app.labels.names.allSatisfy { !Self.keyName(for: $0).isEmpty }
            ? "TAP ARROWS/WASD (I: IDLE) FOR A TIMED TAKE, OR HOLD TO RECORD.  V: ALL SAMPLES.  T: TRAIN."
            : "TAP A TILE'S KEY (1-9) FOR A TIMED TAKE, OR HOLD TO RECORD.  V: ALL SAMPLES.  T: TRAIN."
        canvas.draw(text: guide, centeredIn: LogicalScreen.bounds, y: TrainingLayout.footerY, color: Palette.dimText)
    }

    private func drawHeader(_ model: ScreenModel, into canvas: inout Canvas) {
        let header = TrainingLayout.header
        canvas.fill(rect: header, color: Palette.header)
        canvas.draw(text: "GESTUREPAD", at: Point(x: 8, y: 4), color: Palette.accent)
        canvas.draw(text: "TEACH YOUR GESTURES", at: Point(x: 80, y: 4), color: Palette.text)
        canvas.draw(
            text: "ENTER: PLAY   H: HELP   ESC: QUIT", rightAlignedAt: header.maxX - 8, y: 4, color: Palette.text)
    }

    private func drawCamera(_ model: ScreenModel, into canvas: inout Canvas) {
        let rect = TrainingLayout.camera
        if let image = model.cameraImage, model.camera.isRunning {
            canvas.drawImage(image, in: rect)
        } else {
            canvas.panel(rect)
            let lines = CameraText.lines(for: model.camera, compact: false)
            var y = rect.y + (rect.height - lines.count * 13) / 2
            for (index, line) in lines.enumerated() {
                canvas.draw(
                    text: line, centeredIn: rect, y: y,
                    color: index == 0 ? CameraText.titleColor(for: model.camera) : Palette.text,
                    scale: index == 0 ? 2 : 1)
                y += index == 0 ? 24 : 12
            }
        }
        if let label = model.app.recordingLabel {
            canvas.strokeRect(rect.insetBy(-2), color: Palette.alert, thickness: 2)
            let badge = Rect(x: rect.x, y: rect.y, width: rect.width, height: 14)
            canvas.blend(rect: badge, color: Palette.background, alpha: 0.6)
            if (model.frameNumber / 20) % 2 == 0 {
                canvas.fillCircle(
                    centerX: Double(rect.x) + 8, centerY: Double(rect.y) + 7, radius: 4, color: Palette.alert)
            }
            let text =
                model.camera.isRunning ? "REC \(label.uppercased())  +\(model.recordedInSession)" : "REC: NO CAMERA"
            canvas.draw(text: text, at: Point(x: rect.x + 16, y: rect.y + 3), color: Palette.alert)
        } else {
            canvas.strokeRect(rect.insetBy(-1), color: model.app.take == nil ? Palette.panelBorder : Palette.accent)
        }
        if let take = model.app.take { Self.drawTake(take, in: rect, into: &canvas) }
    }

    /// A take over the camera view: the countdown big in the middle ("UP IN" over "3"), then a progress bar along
    /// the bottom with the seconds left.
    static func drawTake(_ take: RecordingTake, in rect: Rect, into canvas: inout Canvas) {
        switch take.phase {
        case .countdown(let secondsLeft):
            canvas.blend(rect: rect, color: Palette.background, alpha: 0.75)
            let title = "\(take.label.uppercased()) IN"
            let titleScale = PixelFont.measure(text: title, scale: 3).width <= rect.width - 8 ? 3 : 2
            canvas.draw(text: title, centeredIn: rect, y: rect.y + 34, color: Palette.text, scale: titleScale)
            canvas.draw(text: "\(secondsLeft)", centeredIn: rect, y: rect.y + 78, color: Palette.accent, scale: 8)
            canvas.draw(text: "GET INTO POSE", centeredIn: rect, y: rect.maxY - 46, color: Palette.text)
            canvas.draw(text: "ESC OR A RECORD KEY: STOP", centeredIn: rect, y: rect.maxY - 30, color: Palette.dimText)
        case .recording(let fraction, let secondsLeft):
            let bar = Rect(x: rect.x, y: rect.maxY - 10, width: rect.width, height: 10)
            canvas.blend(rect: bar, color: Palette.background, alpha: 0.6)
            let track = Rect(x: bar.x + 3, y: bar.y + 3, width: bar.width - 6, height: 4)
            canvas.fill(rect: track, color: Palette.track)
            canvas.fill(
                rect: Rect(x: track.x, y: track.y, width: Int(Double(track.width) * fraction), height: track.height),
                color: Palette.alert)
            canvas.draw(
                text: "\(ScreenText.fixed(secondsLeft, decimals: 1)) S LEFT", rightAlignedAt: rect.maxX - 4,
                y: rect.y + 3, color: Palette.text)
        }
    }

    private func drawConfidence(_ model: ScreenModel, into canvas: inout Canvas) {
        let rect = TrainingLayout.confidence
        let reading = model.reading
        canvas.draw(text: "CONFIDENCE", at: Point(x: rect.x, y: rect.y), color: Palette.dimText)
        if let version = model.headVersion {
            let timing = reading.frameMilliseconds > 0 ? "  \(Int(reading.frameMilliseconds.rounded())) MS/FRAME" : ""
            canvas.draw(text: "HEAD v\(version)\(timing)", rightAlignedAt: rect.maxX, y: rect.y, color: Palette.dimText)
        }
        let barsTop = rect.y + 14
        if reading.labels.isEmpty {
            let message: String =
                if let reason = model.gesturesUnavailableReason {
                    "Gestures are off: \(reason)"
                } else if model.headVersion == nil {
                    "No trained head yet. Record some samples of each gesture, then press T to train."
                } else if !model.camera.isRunning {
                    "No camera frames: nothing to recognise."
                } else {
                    "Waiting for the first frame..."
                }
            var y = barsTop + 4
            for line in TextWrap.lines(message, columns: 37, maximumLines: 5) {
                canvas.draw(text: line, at: Point(x: rect.x, y: y), color: Palette.text)
                y += 12
            }
            return
        }
        ConfidenceBars.draw(
            labels: reading.labels, probabilities: reading.probabilities, held: reading.heldLabel,
            in: Rect(x: rect.x, y: barsTop, width: rect.width, height: reading.labels.count * 12), rowHeight: 12,
            showPercent: true, into: &canvas)
        let filterY = barsTop + reading.labels.count * 12 + 2
        canvas.draw(
            text: FilterText.describe(reading.filterState), at: Point(x: rect.x, y: filterY),
            color: reading.heldLabel == nil ? Palette.text : Palette.good)
    }

    private mutating func drawTile(label: String, index: Int, model: ScreenModel, into canvas: inout Canvas) {
        let labelCount = model.app.labels.count
        let tile = TrainingLayout.tile(index: index, count: labelCount)
        let isRecording = model.app.recordingLabel == label
        let isCountingDown = model.app.take?.label == label && !isRecording
        let isSelected = model.app.selectedLabel == label
        canvas.panel(tile)
        // Title strip: arrow, name, key.
        let strip = Rect(x: tile.x, y: tile.y, width: tile.width, height: 14)
        canvas.fill(rect: strip, color: isRecording ? Palette.alert : Palette.header)
        var titleX = tile.x + 4
        if let arrow = ArrowDirection(label: label) {
            canvas.arrow(pointing: arrow, centerX: tile.x + 8, centerY: tile.y + 7, size: 8, color: Palette.accent)
            titleX = tile.x + 15
        }
        let keyName = Self.keyName(for: label, index: index)
        let titleColumns = max(
            1, (tile.maxX - 4 - titleX - keyName.count * PixelFont.cellWidth) / PixelFont.cellWidth - 1)
        canvas.draw(
            text: String(label.uppercased().prefix(titleColumns)), at: Point(x: titleX, y: tile.y + 3),
            color: Palette.text)
        canvas.draw(text: keyName, rightAlignedAt: tile.maxX - 4, y: tile.y + 3, color: Palette.accent)
        // The count, large.
        let count = model.samples[label]?.count ?? 0
        let countText = "\(count)"
        let countScale = countText.count > 3 ? 2 : 3
        let countWidth = PixelFont.measure(text: countText, scale: countScale).width
        let origin = Point(x: tile.x + (tile.width - countWidth) / 2, y: tile.y + 20)
        canvas.draw(text: countText, at: origin, color: count == 0 ? Palette.dimText : Palette.text, scale: countScale)
        countTexts.append((label, countText, origin, countScale))
        canvas.draw(
            text: count == 1 ? "SAMPLE" : tile.width >= 50 ? "SAMPLES" : "SMPL", centeredIn: tile, y: tile.y + 48,
            color: Palette.dimText)
        // Up to four newest thumbnails at half size (56 → 28: every other pixel, crisp).
        let thumbnails = model.samples[label]?.thumbnails ?? []
        for slot in 0..<TrainingLayout.thumbnailSlots(count: labelCount) {
            let rect = TrainingLayout.thumbnail(tileIndex: index, slot: slot, count: labelCount)
            if slot < thumbnails.count {
                canvas.drawImage(thumbnails[slot], in: rect)
            } else {
                canvas.strokeRect(rect, color: Palette.track)
            }
        }
        if isRecording {
            canvas.strokeRect(tile, color: Palette.alert, thickness: 2)
        } else if isCountingDown {
            canvas.strokeRect(tile, color: Palette.accent, thickness: 2)
        } else if isSelected {
            canvas.strokeRect(tile, color: Palette.accent)
        }
    }

    /// The letter key that records `label`, as the tile shows it ("" for labels without one).
    static func keyName(for label: String) -> String {
        switch label {
        case "up": "W"
        case "down": "S"
        case "left": "A"
        case "right": "D"
        case LabelSet.idle: "I"
        default: ""
        }
    }

    /// The key the tile at `index` shows: its letter, else its digit (every label records with digit index+1).
    static func keyName(for label: String, index: Int) -> String {
        let letter = keyName(for: label)
        return letter.isEmpty ? (index < TrainingLayout.maximumTiles ? "\(index + 1)" : "") : letter
    }

    private func drawTrainingPanel(_ model: ScreenModel, into canvas: inout Canvas) {
        let panel = TrainingLayout.trainingPanel
        canvas.panel(panel)
        let x = panel.x + 6
        var y = panel.y + 5
        canvas.draw(text: "TRAINING", at: Point(x: x, y: y), color: Palette.accent)
        canvas.draw(text: "TAB  +/-", rightAlignedAt: panel.maxX - 6, y: y, color: Palette.dimText)
        y += 15
        let options = model.app.trainingOptions
        for field in HyperparameterField.allCases {
            let selected = field == model.app.selectedField
            if selected {
                canvas.fill(
                    rect: Rect(x: panel.x + 2, y: y - 2, width: panel.width - 4, height: 12), color: Palette.header)
                canvas.draw(text: ">", at: Point(x: x - 2, y: y), color: Palette.accent)
            }
            canvas.draw(text: field.title, at: Point(x: x + 6, y: y), color: selected ? Palette.text : Palette.dimText)
            canvas.draw(
                text: field.text(in: options), rightAlignedAt: panel.maxX - 6, y: y,
                color: selected ? Palette.accent : Palette.text)
            y += 13
        }
        y += 6
        // The train "button".
        let running = model.training.isRunning
        let button = Rect(x: x, y: y, width: panel.width - 12, height: 16)
        canvas.fill(rect: button, color: running ? Palette.track : Palette.header)
        canvas.strokeRect(button, color: running ? Palette.panelBorder : Palette.accent)
        canvas.draw(
            text: running ? "C: CANCEL TRAINING" : "T: TRAIN NEW HEAD", centeredIn: button, y: button.y + 4,
            color: running ? Palette.text : Palette.accent)
        y += 22
        // Progress and result.
        let progressBar = Rect(x: x, y: y, width: panel.width - 12, height: 6)
        var fraction = 0.0
        var lines: [(String, RGB)] = []
        switch model.training {
        case .idle:
            if let version = model.headVersion {
                lines = [
                    ("Head v\(version) in use.", Palette.good), ("T trains a new one from", Palette.dimText),
                    ("all samples; play goes on.", Palette.dimText),
                ]
            } else {
                lines = [
                    ("No head trained yet.", Palette.text), ("Record two labels or more,", Palette.dimText),
                    ("then press T.", Palette.dimText),
                ]
            }
        case .embedding(let done, let total):
            fraction = total > 0 ? Double(done) / Double(total) * 0.1 : 0
            lines = [("Embedding samples \(done)/\(total)", Palette.accent)]
        case .checking(let epoch, let epochs):
            // The check run and the final run each take about half of the bar after the embeddings.
            fraction = 0.1 + 0.45 * Double(epoch) / Double(max(1, epochs))
            lines = [
                ("Held-out check \(epoch)/\(epochs)", Palette.accent),
                ("Training without 1/5 of", Palette.dimText), ("the takes, testing on them.", Palette.dimText),
            ]
        case .training(let epoch, let epochs, let losses, _):
            fraction = 0.55 + 0.45 * Double(epoch) / Double(max(1, epochs))
            lines = [
                ("Final head: epoch \(epoch)/\(epochs)", Palette.accent),
                ("Loss \(ScreenText.fixed(Double(losses.last ?? 0), decimals: 4))", Palette.text),
            ]
            lines += Self.heldOutLines(model.heldOut, columns: 30).prefix(2)
        case .finished(let version, _, _, let milliseconds):
            fraction = 1
            lines = [
                ("Head v\(version) in use (\(ScreenText.fixed(milliseconds / 1000, decimals: 1)) s).", Palette.good)
            ]
            lines += Self.heldOutLines(model.heldOut, columns: 30)
        case .failed(let reason, _):
            lines = TextWrap.lines(reason, columns: 28, maximumLines: 4).map { ($0, Palette.alert) }
        }
        canvas.fill(rect: progressBar, color: Palette.track)
        canvas.fill(
            rect: Rect(x: progressBar.x, y: progressBar.y, width: Int(Double(progressBar.width) * fraction), height: 6),
            color: model.training == .idle ? Palette.track : Palette.accent)
        y += 12
        for (line, color) in lines.prefix(6) {
            canvas.draw(text: line, at: Point(x: x, y: y), color: color)
            y += 11
        }
    }

    /// The held-out check in words for the training panel: the accuracy on held-out takes (never the training
    /// accuracy, which only says the head remembers its samples), per-label figures, then the warnings.
    static func heldOutLines(_ check: HeldOutCheck, columns: Int) -> [(String, RGB)] {
        var lines: [(String, RGB)] = []
        if let report = check.report {
            lines.append(
                (
                    "Held-out acc. \(ScreenText.percent(Float(report.accuracy))) of \(report.heldOutSamples)",
                    report.accuracy >= 0.9 ? Palette.good : Palette.accent
                ))
            let perLabel = report.labelFigures.filter { $0.tested > 0 }.map { figure in
                "\(figure.label.uppercased()) \(ScreenText.percent(Float(figure.recall ?? 0)))"
            }
            // Whole items per line ("UP 90%"), two spaces apart.
            var packed: [String] = []
            for item in perLabel {
                if let last = packed.last, last.count + 2 + item.count <= columns {
                    packed[packed.count - 1] = last + "  " + item
                } else {
                    packed.append(item)
                }
            }
            lines += packed.prefix(2).map { ($0, Palette.text) }
        } else if let reason = check.skippedReason {
            lines += TextWrap.lines("No held-out figure: \(reason).", columns: columns, maximumLines: 2).map {
                ($0, Palette.dimText)
            }
        }
        lines += check.warnings.map { ("! " + $0.short, Palette.alert) }
        return lines
    }

    /// The curves the loss plot shows: the held-out check's training and held-out loss side by side when the run
    /// has a check (a held-out loss climbing while the training loss falls is overfitting), else the training loss.
    /// Values are log10 of the loss (floored at 1e-4): a held-out loss of 0.05 against a training loss of 0.001 is
    /// the overfitting the plot should show, and on a linear axis both sit on the floor.
    static func lossSeries(_ model: ScreenModel) -> [LinePlot.Series] {
        func logarithmic(_ losses: [Float]) -> [Float] { losses.map { $0.isFinite ? log10(max($0, 1e-4)) : 0 } }
        let check = model.heldOut
        if !check.heldOutLosses.isEmpty {
            return [
                LinePlot.Series(name: "TRAIN", values: logarithmic(check.trainingLosses), color: Palette.accent),
                LinePlot.Series(name: "HELD-OUT", values: logarithmic(check.heldOutLosses), color: Palette.alert),
            ]
        }
        let losses = model.training.losses
        return losses.isEmpty
            ? [] : [LinePlot.Series(name: "TRAIN", values: logarithmic(losses), color: Palette.accent)]
    }

    private func drawLossPlot(_ model: ScreenModel, into canvas: inout Canvas) {
        let rect = TrainingLayout.lossPlot
        let series = Self.lossSeries(model)
        guard !series.isEmpty else {
            canvas.panel(rect)
            canvas.draw(text: "LOSS", at: Point(x: rect.x + 6, y: rect.y + 5), color: Palette.accent)
            var y = rect.y + rect.height / 2 - 12
            for line in ["The loss curve", "appears here", "while training."] {
                canvas.draw(text: line, centeredIn: rect, y: y, color: Palette.dimText)
                y += 12
            }
            return
        }
        let plot = LinePlot.render(
            series: series,
            size: Size(width: rect.width - 2, height: rect.height - 2),
            title: "LOG10 LOSS PER EPOCH", xLabel: "", yLabel: "", textScale: 1, lineThickness: 1)
        // Raster charts are dark on white; map their few exact colours onto the dark theme.
        let themed = plot.recolored([
            .white: Palette.panel, LinePlot.gridColor: Palette.track, LinePlot.axisColor: Palette.dimText,
            LinePlot.textColor: Palette.text,
        ])
        canvas.panel(rect)
        canvas.blit(themed, at: Point(x: rect.x + 1, y: rect.y + 1))
    }
}
