// LinePlot: per-epoch curves (loss, accuracy) with axes, numbered ticks, an automatic "nice" range
// and a legend; for `gesturepad eval` reports and, blitted into a panel, the game's training
// screen. Value i of a series is epoch i+1. Picture, top to bottom:
//   title · y-axis label (left) and legend (right) · plot area with ticks · x tick numbers · x label
// Non-finite values (a diverged loss) are skipped and break the curve; a point with no finite
// neighbour is drawn as a dot. Series are drawn on a panel the size of the plot area and blitted,
// so curves never spill over the axes.

/// Renders line charts of `Float` series against epoch number.
public enum LinePlot {
    /// One curve: its legend name, one value per epoch, and its colour.
    public struct Series: Sendable {
        public var name: String
        public var values: [Float]
        public var color: RGB

        /// A curve named `name` (empty: left out of the legend) with one value per epoch.
        public init(name: String, values: [Float], color: RGB) {
            self.name = name
            self.values = values
            self.color = color
        }
    }

    /// Where the parts of a plot lie, in output pixels, and the value ranges the axes show.
    public struct Layout: Equatable, Sendable {
        /// The whole picture.
        public var size: Size
        /// The region curves are drawn in; the axes run just outside its left and bottom edges.
        public var plotArea: Rect
        /// The epoch range along x (first epoch is 1).
        public var xRange: ClosedRange<Double>
        /// The value range along y, widened to whole tick steps.
        public var yRange: ClosedRange<Double>
        /// Epoch numbers that get a tick.
        public var xTicks: [Double]
        /// Values that get a tick and a grid line.
        public var yTicks: [Double]
        /// Digits after the point in y tick labels.
        public var yDecimals: Int

        /// The pixel for epoch `x` and value `y` (may lie outside `plotArea` for values out of range).
        public func point(x: Double, y: Double) -> Point {
            let xSpan = xRange.upperBound - xRange.lowerBound
            let ySpan = yRange.upperBound - yRange.lowerBound
            let column = (x - xRange.lowerBound) / xSpan * Double(max(0, plotArea.width - 1))
            let row = (y - yRange.lowerBound) / ySpan * Double(max(0, plotArea.height - 1))
            return Point(x: plotArea.x + Int(column.rounded()), y: plotArea.maxY - 1 - Int(row.rounded()))
        }
    }

    /// Axis and tick colour.
    public static let axisColor = RGB.darkGray
    /// Horizontal grid lines at the y ticks.
    public static let gridColor = RGB(232, 232, 232)
    /// Title, labels and tick numbers.
    public static let textColor = RGB.black

    private static let paddingUnits = 4
    private static let tickLengthUnits = 3

    /// The layout `render` uses for these inputs.
    public static func layout(
        series: [Series], size: Size, title: String, xLabel: String, yLabel: String,
        textScale: Int = 1
    ) -> Layout {
        let scale = max(1, textScale)
        let padding = paddingUnits * scale
        let tickLength = tickLengthUnits * scale
        let lineHeight = PixelFont.cellHeight * scale

        var top = padding
        if !title.isEmpty { top += lineHeight }
        let hasLegendRow = !yLabel.isEmpty || series.contains { !$0.name.isEmpty }
        if hasLegendRow { top += lineHeight }
        top += PixelFont.capHeight * scale / 2  // room for the top tick number, centred on its tick
        var bottom = size.height - padding - tickLength - lineHeight
        if !xLabel.isEmpty { bottom -= lineHeight }

        // y range from all finite values; flat or missing data gets a span to spread ticks over.
        let finite = series.flatMap { $0.values }.filter { $0.isFinite }.map(Double.init)
        var low = finite.min() ?? 0
        var high = finite.max() ?? 1
        if high - low < 1e-12 {
            let pad = max(abs(high) * 0.1, 0.5)
            low -= pad
            high += pad
        }
        let plotHeight = max(1, bottom - top)
        let wantedYTicks = min(6, max(2, plotHeight / (lineHeight * 2)))
        let yStep = niceStep(above: (high - low) / Double(wantedYTicks))
        let yLow = (low / yStep.value).rounded(.down) * yStep.value
        let yHigh = (high / yStep.value).rounded(.up) * yStep.value
        var yTicks: [Double] = []
        var tick = yLow
        while tick <= yHigh + yStep.value * 1e-6 && yTicks.count < 50 {
            yTicks.append(abs(tick) < yStep.value * 1e-9 ? 0 : tick)
            tick += yStep.value
        }
        let tickTextWidth =
            yTicks.map { PixelFont.measure(text: NumberText.fixed($0, decimals: yStep.decimals), scale: scale).width }
            .max() ?? 0
        let left = padding + tickTextWidth + scale + tickLength + 1
        let right = size.width - padding - PixelFont.cellWidth * scale  // room for the last x tick number
        let plotArea = Rect(x: left, y: top, width: max(0, right - left), height: max(0, bottom - top))

        // x: epochs 1…longest series; a single epoch still gets a span of one.
        let epochs = series.map { $0.values.count }.max() ?? 0
        let xRange = 1.0...Double(max(2, epochs))
        let widestXText = PixelFont.measure(text: String(max(2, epochs)), scale: scale).width
        let wantedXTicks = max(1, plotArea.width / (widestXText + 3 * PixelFont.cellWidth * scale))
        let xStep = max(1, niceStep(above: (xRange.upperBound - 1) / Double(wantedXTicks)).value.rounded(.up))
        var xTicks: [Double] = xStep > 1 ? [1] : []
        var epoch = xStep
        while epoch <= xRange.upperBound + 1e-9 && xTicks.count < 100 {
            xTicks.append(epoch)
            epoch += xStep
        }
        // The first tick (epoch 1) crowds the second when the step is small: drop it then.
        if xTicks.count > 1 && xStep > 1
            && (xTicks[1] - xTicks[0]) / (xRange.upperBound - 1) * Double(plotArea.width)
                < Double(widestXText + 2 * PixelFont.cellWidth * scale)
        {
            xTicks.removeFirst()
        }
        return Layout(
            size: size, plotArea: plotArea, xRange: xRange, yRange: yLow...max(yHigh, yLow + yStep.value),
            xTicks: xTicks, yTicks: yTicks, yDecimals: yStep.decimals)
    }

    /// The smallest 1, 2 or 5 × 10ᵏ at or above `raw`, with the decimals its multiples need.
    static func niceStep(above raw: Double) -> (value: Double, decimals: Int) {
        guard raw.isFinite, raw > 0 else { return (1, 0) }
        var magnitude = 1.0
        var decimals = 0
        while magnitude * 10 <= raw { magnitude *= 10 }
        while magnitude > raw && decimals < 12 {
            magnitude /= 10
            decimals += 1
        }
        // Now magnitude ≤ raw < 10·magnitude.
        for multiple in [1.0, 2.0, 5.0] where multiple * magnitude >= raw * (1 - 1e-9) {
            return (multiple * magnitude, decimals)
        }
        return (10 * magnitude, max(0, decimals - 1))
    }

    /// Draws `series` on a `size` canvas: axes, y grid and tick numbers, epoch ticks, legend,
    /// title and axis labels; text at `textScale`, curves `lineThickness` pixels wide.
    public static func render(
        series: [Series], size: Size, title: String, xLabel: String, yLabel: String,
        textScale: Int = 1, lineThickness: Int = 1
    ) -> Canvas {
        let scale = max(1, textScale)
        var canvas = Canvas(width: max(0, size.width), height: max(0, size.height), background: .white)
        let layout = layout(
            series: series, size: canvas.bounds.size, title: title, xLabel: xLabel, yLabel: yLabel,
            textScale: scale)
        let padding = paddingUnits * scale
        let tickLength = tickLengthUnits * scale
        let lineHeight = PixelFont.cellHeight * scale
        let plot = layout.plotArea

        var y = padding
        if !title.isEmpty {
            let titleWidth = PixelFont.measure(text: title, scale: scale).width
            canvas.draw(
                text: title, at: Point(x: max(padding, (canvas.width - titleWidth) / 2), y: y), color: textColor,
                scale: scale)
            y += lineHeight
        }
        if !yLabel.isEmpty || series.contains(where: { !$0.name.isEmpty }) {
            canvas.draw(text: yLabel, at: Point(x: padding, y: y), color: textColor, scale: scale)
            drawLegend(series: series, rightEdge: canvas.width - padding, y: y, scale: scale, on: &canvas)
        }
        guard !plot.isEmpty else { return canvas }

        // The plot panel: grid lines, then curves, clipped to the panel and blitted.
        var panel = Canvas(width: plot.width, height: plot.height, background: .white)
        for value in layout.yTicks {
            let row = layout.point(x: layout.xRange.lowerBound, y: value).y - plot.y
            panel.fill(rect: Rect(x: 0, y: row, width: panel.width, height: 1), color: gridColor)
        }
        for curve in series {
            drawCurve(curve, layout: layout, thickness: max(1, lineThickness), on: &panel)
        }
        canvas.blit(panel, at: Point(x: plot.x, y: plot.y))

        // Axes just outside the panel, ticks pointing outwards, numbers beyond the ticks.
        canvas.fill(rect: Rect(x: plot.x - 1, y: plot.y, width: 1, height: plot.height + 1), color: axisColor)
        canvas.fill(rect: Rect(x: plot.x - 1, y: plot.maxY, width: plot.width + 1, height: 1), color: axisColor)
        for value in layout.yTicks {
            let row = layout.point(x: layout.xRange.lowerBound, y: value).y
            canvas.fill(rect: Rect(x: plot.x - 1 - tickLength, y: row, width: tickLength, height: 1), color: axisColor)
            let text = NumberText.fixed(value, decimals: layout.yDecimals)
            let width = PixelFont.measure(text: text, scale: scale).width
            canvas.draw(
                text: text,
                at: Point(x: plot.x - 1 - tickLength - scale - width, y: row - PixelFont.capHeight * scale / 2),
                color: textColor, scale: scale)
        }
        for epoch in layout.xTicks {
            let column = layout.point(x: epoch, y: layout.yRange.lowerBound).x
            canvas.fill(rect: Rect(x: column, y: plot.maxY + 1, width: 1, height: tickLength), color: axisColor)
            let text = NumberText.fixed(epoch, decimals: 0)
            let width = PixelFont.measure(text: text, scale: scale).width
            canvas.draw(
                text: text, at: Point(x: column - width / 2, y: plot.maxY + 1 + tickLength + scale), color: textColor,
                scale: scale)
        }
        if !xLabel.isEmpty {
            let width = PixelFont.measure(text: xLabel, scale: scale).width
            canvas.draw(
                text: xLabel,
                at: Point(x: plot.x + (plot.width - width) / 2, y: plot.maxY + 1 + tickLength + scale + lineHeight),
                color: textColor, scale: scale)
        }
        return canvas
    }

    /// `render` for `(name, values, color)` tuples.
    public static func render(
        series: [(name: String, values: [Float], color: RGB)], size: Size, title: String,
        xLabel: String, yLabel: String, textScale: Int = 1, lineThickness: Int = 1
    ) -> Canvas {
        render(
            series: series.map { Series(name: $0.name, values: $0.values, color: $0.color) }, size: size, title: title,
            xLabel: xLabel, yLabel: yLabel, textScale: textScale, lineThickness: lineThickness)
    }

    /// One curve on the plot panel (panel coordinates = layout coordinates minus the plot origin).
    private static func drawCurve(_ curve: Series, layout: Layout, thickness: Int, on panel: inout Canvas) {
        let origin = Point(x: layout.plotArea.x, y: layout.plotArea.y)
        func pixel(_ index: Int) -> Point? {
            let value = curve.values[index]
            guard value.isFinite else { return nil }
            let point = layout.point(x: Double(index + 1), y: Double(value))
            return Point(x: point.x - origin.x, y: point.y - origin.y)
        }
        for index in curve.values.indices {
            guard let here = pixel(index) else { continue }
            let next = index + 1 < curve.values.count ? pixel(index + 1) : nil
            if let next {
                panel.line(from: here, to: next, color: curve.color, thickness: thickness)
            } else if index == 0 || pixel(index - 1) == nil {
                // An isolated point: a dot two pixels wider than the line.
                let side = thickness + 2
                panel.fill(
                    rect: Rect(x: here.x - side / 2, y: here.y - side / 2, width: side, height: side),
                    color: curve.color)
            }
        }
    }

    /// Legend entries right-aligned ending at `rightEdge`: a short swatch of the curve colour, then its name.
    private static func drawLegend(series: [Series], rightEdge: Int, y: Int, scale: Int, on canvas: inout Canvas) {
        let swatchWidth = 2 * PixelFont.cellWidth * scale
        let named = series.filter { !$0.name.isEmpty }
        let entryWidths = named.map { swatchWidth + scale * 3 + PixelFont.measure(text: $0.name, scale: scale).width }
        let total = entryWidths.reduce(0, +) + max(0, named.count - 1) * PixelFont.cellWidth * 2 * scale
        var x = rightEdge - total
        for (entry, width) in zip(named, entryWidths) {
            canvas.fill(rect: Rect(x: x, y: y + 3 * scale, width: swatchWidth, height: 2 * scale), color: entry.color)
            canvas.draw(
                text: entry.name, at: Point(x: x + swatchWidth + 3 * scale, y: y), color: textColor, scale: scale)
            x += width + PixelFont.cellWidth * 2 * scale
        }
    }
}
