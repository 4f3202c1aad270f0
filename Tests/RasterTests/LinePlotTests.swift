// LinePlot: a decreasing series draws pixels whose y grows left to right, inside the plot area;
// the automatic range holds the data on nice tick steps; flat, single-point, empty and
// non-finite series and tiny canvases draw without trapping.
import Testing

@testable import Raster

@Suite("Raster: line plot")
struct LinePlotTests {
    let size = Size(width: 240, height: 160)

    @Test("a monotone decreasing series goes down from left to right", arguments: [1, 2])
    func decreasingSeries(thickness: Int) {
        let values: [Float] = [1.2, 0.9, 0.55, 0.42, 0.3, 0.28, 0.2, 0.12, 0.1, 0.04]
        let series = [LinePlot.Series(name: "loss", values: values, color: .red)]
        let canvas = LinePlot.render(
            series: series, size: size, title: "training", xLabel: "epoch", yLabel: "loss",
            lineThickness: thickness)
        let layout = LinePlot.layout(series: series, size: size, title: "training", xLabel: "epoch", yLabel: "loss")
        let ink = pixels(of: .red, in: canvas, area: layout.plotArea)
        // Mean row of the curve in each column it touches: never rises (y grows downwards).
        var rowsByColumn: [Int: [Int]] = [:]
        for point in ink { rowsByColumn[point.x, default: []].append(point.y) }
        let columns = rowsByColumn.keys.sorted()
        let meanRows = columns.map { column in
            Double(rowsByColumn[column]!.reduce(0, +)) / Double(rowsByColumn[column]!.count)
        }
        #expect(columns.count >= layout.plotArea.width - 2, "the curve spans the plot width")
        #expect(zip(meanRows, meanRows.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(meanRows.first! < meanRows.last!)
        // The endpoints land where the layout maps the first and last values.
        #expect(Set(ink).contains(layout.point(x: 1, y: Double(values[0]))))
        #expect(Set(ink).contains(layout.point(x: Double(values.count), y: Double(values.last!))))
        // The legend swatch lies outside the plot area.
        #expect(pixels(of: .red, in: canvas).count > ink.count)
    }

    @Test("the y range holds every value on whole tick steps")
    func rangeHoldsData() {
        let values: [Float] = [0.83, 0.91, 0.95, 0.97]
        let layout = LinePlot.layout(
            series: [.init(name: "accuracy", values: values, color: .blue)], size: size,
            title: "", xLabel: "", yLabel: "")
        #expect(layout.yRange.lowerBound <= 0.83 && layout.yRange.upperBound >= 0.97)
        #expect(layout.yTicks.first == layout.yRange.lowerBound)
        #expect(layout.yTicks.count >= 2)
        #expect(layout.xRange == 1...4 && layout.xTicks.contains(4))
    }

    @Test(
        "nice steps are 1, 2 or 5 times a power of ten",
        arguments: [
            (0.3, 0.5, 1), (0.07, 0.1, 1), (1.0, 1.0, 0), (13.0, 20.0, 0), (0.0021, 0.005, 3), (4.2, 5.0, 0),
        ])
    func niceSteps(raw: Double, step: Double, decimals: Int) {
        let nice = LinePlot.niceStep(above: raw)
        #expect(abs(nice.value - step) < step * 1e-9)
        #expect(nice.decimals == decimals)
    }

    @Test(
        "flat, single-point, empty and non-finite series draw",
        arguments: [
            [Float](repeating: 0.5, count: 8), [0.7], [], [.nan, .infinity], [1, .nan, 0.5, 0.2], [0, 0],
        ])
    func oddSeries(values: [Float]) {
        let series = [
            LinePlot.Series(name: "s", values: values, color: .red),
            LinePlot.Series(name: "", values: [], color: .blue),
        ]
        let canvas = LinePlot.render(series: series, size: size, title: "t", xLabel: "x", yLabel: "y")
        let layout = LinePlot.layout(series: series, size: size, title: "t", xLabel: "x", yLabel: "y")
        let ink = pixels(of: .red, in: canvas, area: layout.plotArea)
        #expect(ink.isEmpty == !values.contains { $0.isFinite })
        if values.count > 1 && Set(values).count == 1 {
            #expect(Set(ink.map(\.y)).count == 1, "a flat series is one row")
        }
    }

    @Test(
        "tiny and empty canvases draw without trapping",
        arguments: [
            Size(width: 0, height: 0), Size(width: 10, height: 10),
            Size(width: 60, height: 30), Size(width: 1, height: 400),
        ])
    func tinyCanvas(size: Size) {
        let canvas = LinePlot.render(
            series: [("loss", [3, 2, 1], RGB.red)], size: size, title: "training loss",
            xLabel: "epoch", yLabel: "loss", textScale: 2)
        #expect(canvas.width == size.width && canvas.height == size.height)
        _ = LinePlot.render(series: [LinePlot.Series](), size: size, title: "", xLabel: "", yLabel: "")
    }
}
