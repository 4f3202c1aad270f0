// ConfusionMatrixPicture: cell shades follow row-normalised rates (a diagonal matrix has the
// darkest diagonal), the picture size depends on the labels and not on the counts, label text
// lands in the label areas, and odd inputs (no labels, ragged counts, empty rows) draw.
import Testing

@testable import Raster

@Suite("Raster: confusion matrix picture")
struct ConfusionMatrixPictureTests {
    let labels = ["up", "down", "left", "right"]

    /// The cell's background: a pixel just inside its top-left corner (text sits in the middle).
    func shade(_ canvas: Canvas, _ layout: ConfusionMatrixPicture.Layout, row: Int, column: Int) -> RGB {
        let cell = layout.cell(row: row, column: column)
        return canvas.pixel(x: cell.x + cell.width / 8 + 2, y: cell.y + cell.height / 8 + 2)!
    }

    @Test("a diagonal matrix has the darkest diagonal", arguments: [1, 2])
    func diagonalDarkest(scale: Int) {
        let counts = [[50, 0, 0, 0], [0, 30, 0, 0], [0, 0, 20, 0], [0, 0, 0, 7]]
        let canvas = ConfusionMatrixPicture.render(labels: labels, counts: counts, title: "eval", scale: scale)
        let layout = ConfusionMatrixPicture.layout(labels: labels, counts: counts, title: "eval", scale: scale)
        #expect(canvas.width == layout.size.width && canvas.height == layout.size.height)
        for row in 0..<4 {
            for column in 0..<4 where row != column {
                #expect(
                    shade(canvas, layout, row: row, column: row).luma
                        < shade(canvas, layout, row: row, column: column).luma)
            }
            #expect(shade(canvas, layout, row: row, column: row) == .navy)
        }
    }

    @Test("cell shades are ordered like the row-normalised rates")
    func shadeOrdering() {
        let counts = [[8, 2, 0, 0], [1, 6, 3, 0], [0, 5, 5, 0], [1, 1, 1, 1]]
        let canvas = ConfusionMatrixPicture.render(labels: labels, counts: counts, title: "", scale: 1)
        let layout = ConfusionMatrixPicture.layout(labels: labels, counts: counts, title: "", scale: 1)
        var cells: [(rate: Double, luma: Float)] = []
        for row in 0..<4 {
            let total = Double(counts[row].reduce(0, +))
            for column in 0..<4 {
                cells.append(
                    (Double(counts[row][column]) / total, shade(canvas, layout, row: row, column: column).luma))
            }
        }
        for a in cells {
            for b in cells where a.rate > b.rate + 1e-9 {
                #expect(a.luma < b.luma, "rate \(a.rate) should be darker than rate \(b.rate)")
            }
            for b in cells where abs(a.rate - b.rate) < 1e-9 {
                #expect(a.luma == b.luma)
            }
        }
    }

    @Test("the size depends on the labels and title, not on the counts")
    func stableSize() {
        let variants: [[[Int]]] = [
            [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]],
            [[5, 0, 0, 0], [0, 5, 0, 0], [0, 0, 5, 0], [0, 0, 0, 5]],
            [[99_999, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [0, 0, 0, 123_456]],
            [],
        ]
        let sizes = variants.map { counts -> Size in
            let canvas = ConfusionMatrixPicture.render(labels: labels, counts: counts, title: "k-fold", scale: 2)
            return Size(width: canvas.width, height: canvas.height)
        }
        #expect(Set(sizes).count == 1, "\(sizes)")
        let more = ConfusionMatrixPicture.render(labels: labels + ["idle"], counts: [], title: "k-fold", scale: 2)
        #expect(more.width > sizes[0].width && more.height > sizes[0].height)
    }

    @Test("every row and column label is drawn in the label colour in its area")
    func labelsDrawn() {
        let counts = [[3, 1, 0, 0], [0, 4, 0, 0], [0, 0, 2, 2], [1, 0, 0, 3]]
        let canvas = ConfusionMatrixPicture.render(labels: labels, counts: counts, title: "eval", scale: 2)
        let layout = ConfusionMatrixPicture.layout(labels: labels, counts: counts, title: "eval", scale: 2)
        for index in labels.indices {
            let row = layout.cell(row: index, column: 0)
            let rowBand = Rect(x: layout.rowLabelArea.x, y: row.y, width: layout.rowLabelArea.width, height: row.height)
            #expect(
                !pixels(of: ConfusionMatrixPicture.labelColor, in: canvas, area: rowBand).isEmpty,
                "row label \(labels[index])")
            let column = layout.cell(row: 0, column: index)
            let columnBand = Rect(
                x: column.x, y: layout.columnLabelArea.y, width: column.width, height: layout.columnLabelArea.height)
            #expect(
                !pixels(of: ConfusionMatrixPicture.labelColor, in: canvas, area: columnBand).isEmpty,
                "column label \(labels[index])")
        }
        #expect(!pixels(of: ConfusionMatrixPicture.labelColor, in: canvas, area: layout.titleArea).isEmpty)
        // "right" (5 letters) is the widest label: the row label column is exactly its width.
        #expect(layout.rowLabelArea.width == PixelFont.measure(text: "right", scale: 2).width)
    }

    @Test("the title line carries the overall accuracy")
    func accuracyInTitle() {
        let text = ConfusionMatrixPicture.titleText(labels: ["a", "b"], counts: [[3, 1], [0, 4]], title: "eval")
        #expect(text == "eval   accuracy 87.5%")
        #expect(ConfusionMatrixPicture.titleText(labels: ["a"], counts: [[0]], title: "") == "accuracy -")
    }

    @Test(
        "odd inputs draw without trapping",
        arguments: [
            ([], [[Int]]()), (["a"], [[Int]]()), (["a", "b"], [[1]]), (["a", "b"], [[1, 2, 3], [4]]),
            (["only"], [[0]]), (["a", "b"], [[-4, 2], [0, 0]]),
        ])
    func oddInputs(labels: [String], counts: [[Int]]) {
        let canvas = ConfusionMatrixPicture.render(labels: labels, counts: counts, title: "odd", scale: 1)
        #expect(canvas.width > 0 && canvas.height > 0)
    }
}
