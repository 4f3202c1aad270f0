// BarChart: horizontal bars for per-class confidences (0…1), one row per class:
//   label (right-aligned) · track with the filled bar · percentage
// One bar may be highlighted (the current decision): drawn in the highlight colour with an outlined
// track. Values are clamped to 0…1; non-finite values draw an empty bar and "-".

/// Renders labelled horizontal confidence bars.
public enum BarChart {
    /// One row: a class label and its value in 0…1.
    public struct Bar: Equatable, Sendable {
        public var label: String
        public var value: Float

        /// A bar labelled `label` filled to `value` (0…1, clamped when drawn).
        public init(label: String, value: Float) {
            self.label = label
            self.value = value
        }
    }

    /// Where a chart's rows lie, in output pixels.
    public struct Layout: Equatable, Sendable {
        /// The whole picture.
        public var size: Size
        /// The right-aligned label column.
        public var labelArea: Rect
        /// The track (full 0…1 extent) of each row, top to bottom.
        public var tracks: [Rect]
        /// Left edge of the percentage texts.
        public var percentX: Int

        /// The filled part of `tracks[index]` for `value` (clamped to 0…1; non-finite is empty).
        public func bar(index: Int, value: Float) -> Rect {
            let track = tracks[index]
            let fraction = value.isFinite ? Double(min(max(value, 0), 1)) : 0
            return Rect(
                x: track.x, y: track.y, width: Int((fraction * Double(track.width)).rounded()), height: track.height)
        }
    }

    /// Text colour.
    public static let textColor = RGB.black
    /// The unfilled part of a track.
    public static let trackColor = RGB(234, 234, 234)
    /// Bars that are not highlighted.
    public static let barColor = RGB.blue
    /// The highlighted bar.
    public static let highlightColor = RGB.orange

    /// The layout `render` uses for `bars` on a canvas `width` pixels wide.
    public static func layout(bars: [Bar], width: Int, textScale: Int = 1) -> Layout {
        let scale = max(1, textScale)
        let padding = 3 * scale
        let gap = 4 * scale
        let rowHeight = (PixelFont.capHeight + 4) * scale
        let rowSpacing = 3 * scale
        let labelWidth = bars.map { PixelFont.measure(text: $0.label, scale: scale).width }.max() ?? 0
        let percentWidth = PixelFont.measure(text: "100%", scale: scale).width
        let trackX = padding + labelWidth + gap
        let trackWidth = max(0, width - padding - percentWidth - gap - trackX)
        let tracks = bars.indices.map {
            Rect(x: trackX, y: padding + $0 * (rowHeight + rowSpacing), width: trackWidth, height: rowHeight)
        }
        let height = bars.isEmpty ? 2 * padding : padding * 2 + bars.count * rowHeight + (bars.count - 1) * rowSpacing
        return Layout(
            size: Size(width: max(0, width), height: height),
            labelArea: Rect(x: padding, y: padding, width: labelWidth, height: height - 2 * padding),
            tracks: tracks, percentX: trackX + trackWidth + gap)
    }

    /// Draws one row per bar on a canvas `width` pixels wide (height follows from the row count);
    /// `highlighted` is the index of the bar to emphasise, if any.
    public static func render(bars: [Bar], width: Int, highlighted: Int? = nil, textScale: Int = 1) -> Canvas {
        let scale = max(1, textScale)
        let layout = layout(bars: bars, width: width, textScale: scale)
        var canvas = Canvas(width: layout.size.width, height: layout.size.height, background: .white)
        for (index, bar) in bars.enumerated() {
            let track = layout.tracks[index]
            let isHighlighted = index == highlighted
            canvas.fill(rect: track, color: trackColor)
            canvas.fill(
                rect: layout.bar(index: index, value: bar.value), color: isHighlighted ? highlightColor : barColor)
            if isHighlighted { canvas.strokeRect(track, color: textColor, thickness: scale) }
            // Text vertically centred on the track by cap height (labels rarely need descender room).
            let textY = track.y + (track.height - PixelFont.capHeight * scale) / 2
            let labelWidth = PixelFont.measure(text: bar.label, scale: scale).width
            canvas.draw(
                text: bar.label, at: Point(x: layout.labelArea.maxX - labelWidth, y: textY), color: textColor,
                scale: scale)
            let percent =
                bar.value.isFinite ? NumberText.fixed(Double(min(max(bar.value, 0), 1)) * 100, decimals: 0) + "%" : "-"
            canvas.draw(text: percent, at: Point(x: layout.percentX, y: textY), color: textColor, scale: scale)
        }
        return canvas
    }
}
