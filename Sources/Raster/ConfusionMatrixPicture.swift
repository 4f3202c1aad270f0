// ConfusionMatrixPicture: the `gesturepad eval` confusion matrix as an image. Rows are the true
// label, columns the predicted one; each cell is shaded by its row-normalised rate (white 0 →
// navy 1) and shows the count and that rate as a percentage. The picture's size depends only on the
// labels, the title and the widest count (cells fit "100.0%", so up to six digits change nothing). Layout is computed in font pixels
// (one unit = one PixelFont pixel) and the finished picture is upscaled by an integer `scale`, so
// text, lines and cells stay crisp. Picture, top to bottom:
//   title line with overall accuracy · "predicted" caption · column labels · grid
// and left to right: vertical "true" caption · row labels (right-aligned) · grid.

/// Renders a confusion matrix (rows = true label, columns = predicted label) as a `Canvas`.
public enum ConfusionMatrixPicture {
    /// Colour of titles, axis labels and dark text.
    public static let labelColor = RGB.black
    /// Colour of the "true" / "predicted" axis captions.
    public static let captionColor = RGB.darkGray
    /// Cell background at rate 0; rate 1 is `RGB.navy`, rates between are a linear mix.
    public static let emptyCellColor = RGB.white
    /// Grid lines between cells.
    public static let gridColor = RGB.gray

    /// Where each part of the picture lies, in output pixels (already multiplied by `scale`).
    public struct Layout: Equatable, Sendable {
        /// The whole picture.
        public var size: Size
        /// The title line.
        public var titleArea: Rect
        /// The column of row labels (true labels), left of the grid.
        public var rowLabelArea: Rect
        /// The line of column labels (predicted labels), above the grid.
        public var columnLabelArea: Rect
        /// All cells together.
        public var grid: Rect
        /// One cell, grid lines included on its top and left edge.
        public var cellSize: Size

        /// The rectangle of the cell in `row` (true label) and `column` (predicted label).
        public func cell(row: Int, column: Int) -> Rect {
            Rect(
                x: grid.x + column * cellSize.width, y: grid.y + row * cellSize.height,
                width: cellSize.width, height: cellSize.height)
        }

        func scaled(by factor: Int) -> Layout {
            func grow(_ rect: Rect) -> Rect {
                Rect(x: rect.x * factor, y: rect.y * factor, width: rect.width * factor, height: rect.height * factor)
            }
            return Layout(
                size: Size(width: size.width * factor, height: size.height * factor),
                titleArea: grow(titleArea), rowLabelArea: grow(rowLabelArea),
                columnLabelArea: grow(columnLabelArea), grid: grow(grid),
                cellSize: Size(width: cellSize.width * factor, height: cellSize.height * factor))
        }
    }

    // Spacing in font pixels.
    private static let padding = 6
    private static let gap = 4
    private static let cellPadding = 4

    /// The count at `row`, `column`; missing entries (ragged or short `counts`) and negative
    /// counts read as 0.
    private static func count(_ counts: [[Int]], _ row: Int, _ column: Int) -> Int {
        guard row < counts.count, column < counts[row].count else { return 0 }
        return max(0, counts[row][column])
    }

    /// The title line: the caller's title and the overall accuracy (diagonal over total). Its
    /// width never exceeds the one at 100% accuracy, so the picture size does not depend on the counts.
    static func titleText(labels: [String], counts: [[Int]], title: String) -> String {
        var correct = 0
        var total = 0
        for row in labels.indices {
            for column in labels.indices {
                let value = count(counts, row, column)
                total += value
                if row == column { correct += value }
            }
        }
        return titleText(title: title, accuracy: total == 0 ? nil : Double(correct) / Double(total))
    }

    private static func titleText(title: String, accuracy: Double?) -> String {
        let accuracyText = "accuracy " + (accuracy.map { NumberText.percent($0) } ?? "-")
        return title.isEmpty ? accuracyText : "\(title)   \(accuracyText)"
    }

    /// The layout `render` uses for these inputs, in output pixels at `scale`.
    public static func layout(labels: [String], counts: [[Int]], title: String, scale: Int = 2) -> Layout {
        unitLayout(labels: labels, counts: counts, title: title).scaled(by: max(1, scale))
    }

    private static func unitLayout(labels: [String], counts: [[Int]], title: String) -> Layout {
        let labelCount = labels.count
        let lineHeight = PixelFont.glyphHeight
        let widestLabel = labels.map { PixelFont.measure(text: $0).width }.max() ?? 0
        var largestCount = 0
        for row in 0..<labelCount {
            for column in 0..<labelCount { largestCount = max(largestCount, count(counts, row, column)) }
        }
        // A cell holds two centred lines: the count and "100.0%".
        let contentWidth = max(
            PixelFont.measure(text: "100.0%").width, PixelFont.measure(text: String(largestCount)).width)
        let cellWidth = max(contentWidth, widestLabel) + 2 * cellPadding + 1
        let cellHeight = 2 * lineHeight + 2 + 2 * cellPadding + 1
        let captionWidth = PixelFont.glyphWidth  // "true" is drawn one letter per line

        let titleWidth = PixelFont.measure(text: titleText(title: title, accuracy: 1)).width
        let titleArea = Rect(x: padding, y: padding, width: titleWidth, height: lineHeight)
        let gridX = padding + captionWidth + gap + widestLabel + gap
        let gridY = titleArea.maxY + gap + 2 + (lineHeight + gap) * 2
        // +1: the closing grid line on the right and bottom edges.
        let grid = Rect(x: gridX, y: gridY, width: labelCount * cellWidth + 1, height: labelCount * cellHeight + 1)
        let rowLabelArea = Rect(x: padding + captionWidth + gap, y: gridY, width: widestLabel, height: grid.height)
        let columnLabelArea = Rect(x: gridX, y: gridY - gap - lineHeight, width: grid.width, height: lineHeight)
        let trueCaptionHeight = PixelFont.measure(text: "t\nr\nu\ne").height
        let width = max(grid.maxX, titleArea.maxX) + padding
        let height = max(grid.maxY, gridY + trueCaptionHeight) + padding
        return Layout(
            size: Size(width: width, height: height), titleArea: titleArea, rowLabelArea: rowLabelArea,
            columnLabelArea: columnLabelArea, grid: grid, cellSize: Size(width: cellWidth, height: cellHeight))
    }

    /// Draws the matrix. `counts[row][column]` is how often true label `row` was predicted as
    /// `column`; entries beyond `labels.count` are ignored, missing ones read as 0. The picture is
    /// laid out in font pixels and upscaled `scale` times (2 reads well in a report).
    public static func render(labels: [String], counts: [[Int]], title: String, scale: Int = 2) -> Canvas {
        let layout = unitLayout(labels: labels, counts: counts, title: title)
        var canvas = Canvas(width: layout.size.width, height: layout.size.height, background: .white)
        canvas.draw(
            text: titleText(labels: labels, counts: counts, title: title),
            at: Point(x: layout.titleArea.x, y: layout.titleArea.y), color: labelColor)

        // Axis captions: "predicted" centred over the column labels, "true" stacked beside the rows.
        let predictedWidth = PixelFont.measure(text: "predicted").width
        canvas.draw(
            text: "predicted",
            at: Point(
                x: layout.grid.x + (layout.grid.width - predictedWidth) / 2,
                y: layout.columnLabelArea.y - PixelFont.cellHeight - 2),
            color: captionColor)
        let trueHeight = PixelFont.measure(text: "t\nr\nu\ne").height
        canvas.draw(
            text: "t\nr\nu\ne",
            at: Point(x: padding, y: layout.grid.y + max(0, (layout.grid.height - trueHeight) / 2)),
            color: captionColor)

        let cellSize = layout.cellSize
        for (index, label) in labels.enumerated() {
            let labelWidth = PixelFont.measure(text: label).width
            // Column label centred over its column; row label right-aligned, centred on its row.
            let column = layout.cell(row: 0, column: index)
            canvas.draw(
                text: label,
                at: Point(x: column.x + (cellSize.width + 1 - labelWidth) / 2, y: layout.columnLabelArea.y),
                color: labelColor)
            let row = layout.cell(row: index, column: 0)
            canvas.draw(
                text: label,
                at: Point(
                    x: layout.rowLabelArea.maxX - labelWidth,
                    y: row.y + (cellSize.height + 1 - PixelFont.capHeight) / 2),
                color: labelColor)
        }

        for row in labels.indices {
            let rowTotal = labels.indices.reduce(0) { $0 + count(counts, row, $1) }
            for column in labels.indices {
                let value = count(counts, row, column)
                let rate = rowTotal == 0 ? 0 : Double(value) / Double(rowTotal)
                let cell = layout.cell(row: row, column: column)
                let shade = emptyCellColor.mixed(with: .navy, fraction: Float(rate))
                canvas.fill(rect: cell, color: shade)
                // Grid lines: each cell owns its top and left edge; the grid's outer stroke closes the rest.
                canvas.fill(rect: Rect(x: cell.x, y: cell.y, width: cell.width, height: 1), color: gridColor)
                canvas.fill(rect: Rect(x: cell.x, y: cell.y, width: 1, height: cell.height), color: gridColor)
                let textColor = shade.luma < 128 ? RGB.white : labelColor
                let lines = [String(value), rowTotal == 0 ? "-" : NumberText.percent(rate)]
                // Digits and "%" have no descenders: the block is one full line plus one cap height.
                let blockHeight = PixelFont.glyphHeight + 2 + PixelFont.capHeight
                var y = cell.y + 1 + (cellSize.height - 1 - blockHeight) / 2
                for line in lines {
                    let lineWidth = PixelFont.measure(text: line).width
                    canvas.draw(
                        text: line, at: Point(x: cell.x + 1 + (cellSize.width - 1 - lineWidth) / 2, y: y),
                        color: textColor)
                    y += PixelFont.glyphHeight + 2
                }
            }
        }
        if !labels.isEmpty { canvas.strokeRect(layout.grid, color: gridColor) }
        return canvas.scaledNearest(by: scale)
    }
}
