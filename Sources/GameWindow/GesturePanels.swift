// GesturePanels: pieces both screens show — confidence bars in the window's dark theme, the filter
// state, the camera's status as short lines, the training status line, and word wrapping for the
// 6-pixel-wide built-in font. Texts here are what the user reads when something is missing, so each
// says what to do ("run gesturepad devices", "record, then T").
import Gestures
import Raster

/// Horizontal confidence bars, one row per class, in the window's theme.
enum ConfidenceBars {
    /// Draws one row per label in `rect` (`rowHeight` each): label, track with the bar, and (when
    /// `showPercent`) the percentage. The held label's bar is drawn in the "good" colour.
    static func draw(
        labels: [String], probabilities: [Float], held: String?, in rect: Rect, rowHeight: Int,
        showPercent: Bool = false,
        into canvas: inout Canvas
    ) {
        let labelWidth = (labels.map(\.count).max() ?? 0) * PixelFont.cellWidth + 4
        let percentWidth = showPercent ? PixelFont.measure(text: "100%").width + 6 : 0
        let trackX = rect.x + labelWidth
        let trackWidth = max(0, rect.width - labelWidth - percentWidth)
        for (index, label) in labels.enumerated() {
            let y = rect.y + index * rowHeight
            let value = index < probabilities.count ? probabilities[index] : 0
            let isHeld = label == held
            canvas.draw(text: label, at: Point(x: rect.x, y: y), color: isHeld ? Palette.good : Palette.text)
            let track = Rect(x: trackX, y: y + 1, width: trackWidth, height: max(3, rowHeight - 4))
            canvas.fill(rect: track, color: Palette.track)
            let fraction = value.isFinite ? Double(min(max(value, 0), 1)) : 0
            canvas.fill(
                rect: Rect(
                    x: track.x, y: track.y, width: Int((fraction * Double(track.width)).rounded()), height: track.height
                ),
                color: isHeld ? Palette.good : Palette.bar)
            if showPercent {
                canvas.draw(
                    text: ScreenText.percent(value), rightAlignedAt: rect.maxX, y: y,
                    color: isHeld ? Palette.good : Palette.dimText)
            }
        }
    }
}

/// The decision filter's state in words.
enum FilterText {
    /// `FILTER: HOLDING LEFT`, `FILTER: ARMING UP`, `FILTER: IDLE`, `FILTER: WAIT` (refractory).
    static func describe(_ state: FilterState) -> String {
        switch state {
        case .idle: "FILTER: IDLE"
        case .arming(let label, _): "FILTER: ARMING \(label.uppercased())"
        case .holding(let label, _): "FILTER: HOLDING \(label.uppercased())"
        case .refractory: "FILTER: WAIT"
        }
    }
}

/// The camera's status as lines for a preview box (`compact`: 18 columns, else 36).
enum CameraText {
    /// The colour of the first (title) line: a pause is not a failure.
    static func titleColor(for status: CameraStatus) -> RGB {
        if case .paused = status { return Palette.accent }
        return Palette.alert
    }

    static func lines(for status: CameraStatus, compact: Bool) -> [String] {
        let columns = compact ? 18 : 36
        switch status {
        case .off:
            return ["NO CAMERA"] + TextWrap.lines("Camera off (--no-camera). The keyboard plays.", columns: columns)
        case .starting(let source):
            return ["OPENING CAMERA"] + TextWrap.lines(source, columns: columns)
        case .running:
            return ["WAITING FOR", "FRAMES"]
        case .failed(_, let reason):
            let findCameras = reason.contains("gesturepad devices") ? "" : " Run `gesturepad devices` to list cameras,"
            let advice =
                compact
                ? "Keyboard play. Run: gesturepad devices"
                : "\(reason)\(findCameras) Or pass --source clip.y4m. The keyboard plays meanwhile."
            return ["NO CAMERA"] + TextWrap.lines(advice, columns: columns, maximumLines: compact ? 5 : 9)
        case .paused(_, let cause, let reason):
            return ["PAUSED"]
                + TextWrap.lines(pausedAdvice(cause: cause, reason: reason, compact: compact), columns: columns)
        }
    }

    /// What a pause means and how to end it, in the window's words (the window has no `gesturepad resume` of its
    /// own: a lens-cover pause is the one a user makes there).
    static func pausedAdvice(cause: PauseCause, reason: String, compact: Bool) -> String {
        switch cause {
        case .lensCover:
            compact
                ? "Lens covered: keys up. Cover again to resume."
                : "Paused: lens covered - every key is up. Cover the lens again to resume."
        case .hotkey:
            compact ? "Pause hotkey: press it again." : "Paused by the pause hotkey - press it again to resume."
        case .request:
            compact ? "Paused by request." : "Paused by request (\(reason)). `gesturepad resume` resumes."
        }
    }
}

/// Status lines about gestures and training.
enum GestureText {
    /// Why there is no reading to show, as short lines for the play screen's corner.
    static func unavailableReason(_ model: ScreenModel) -> [String] {
        if let reason = model.gesturesUnavailableReason {
            return ["GESTURES OFF"] + TextWrap.lines(reason, columns: 24, maximumLines: 5)
        }
        if case .paused(_, let cause, _) = model.camera {
            return ["PAUSED:", cause == .lensCover ? "lens covered;" : "keys up;", "keyboard only"]
        }
        if !model.camera.isRunning { return ["NO CAMERA:", "keyboard only"] }
        if model.headVersion == nil { return ["NO GESTURES YET:", "ESC, record samples,", "then press T"] }
        return ["WAITING..."]
    }

    /// `HEAD v3`, `TRAINING 7/20`, `EMBEDDING 12/40`, `TRAINING FAILED`, `NO HEAD YET`.
    static func trainingLine(_ model: ScreenModel) -> String {
        switch model.training {
        case .embedding(let done, let total): "EMBEDDING \(done)/\(total)"
        case .checking(let epoch, let epochs): "CHECKING \(epoch)/\(epochs)"
        case .training(let epoch, let epochs, _, _): "TRAINING \(epoch)/\(epochs)"
        case .failed: "TRAINING FAILED"
        case .finished(let version, _, _, _): "HEAD v\(version) IN USE"
        case .idle: model.headVersion.map { "HEAD v\($0) IN USE" } ?? "NO HEAD YET"
        }
    }

    /// The colour of `trainingLine`.
    static func trainingColor(_ model: ScreenModel) -> RGB {
        switch model.training {
        case .embedding, .checking, .training: Palette.accent
        case .failed: Palette.alert
        case .finished: Palette.good
        case .idle: model.headVersion == nil ? Palette.dimText : Palette.good
        }
    }
}

/// Greedy word wrapping for the monospaced built-in font.
enum TextWrap {
    /// `text` broken at spaces into lines of at most `columns` characters (longer words are cut);
    /// at most `maximumLines` lines, the last ending in "..." when text was dropped.
    static func lines(_ text: String, columns: Int, maximumLines: Int = .max) -> [String] {
        guard columns > 0 else { return [] }
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            var word = String(word)
            while word.count > columns {
                if !current.isEmpty {
                    lines.append(current)
                    current = ""
                }
                lines.append(String(word.prefix(columns)))
                word = String(word.dropFirst(columns))
            }
            if current.isEmpty {
                current = word
            } else if current.count + 1 + word.count <= columns {
                current += " " + word
            } else {
                lines.append(current)
                current = word
            }
        }
        if !current.isEmpty { lines.append(current) }
        if lines.count > maximumLines {
            lines = Array(lines.prefix(maximumLines))
            let last = lines[maximumLines - 1]
            lines[maximumLines - 1] = String(last.prefix(max(0, columns - 3))) + "..."
        }
        return lines
    }
}
