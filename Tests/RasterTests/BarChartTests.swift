// BarChart: bar length follows the value, only the highlighted bar takes the highlight colour,
// values outside 0…1 are clamped and non-finite ones draw empty.
import Testing

@testable import Raster

@Suite("Raster: bar chart")
struct BarChartTests {
    let bars = [
        BarChart.Bar(label: "up", value: 0.5), .init(label: "down", value: 0.25),
        .init(label: "left", value: 1.7), .init(label: "right", value: .nan), .init(label: "idle", value: -1),
    ]

    @Test("each bar fills its value's share of the track", arguments: [1, 2])
    func barLengths(scale: Int) {
        let canvas = BarChart.render(bars: bars, width: 200, highlighted: nil, textScale: scale)
        let layout = BarChart.layout(bars: bars, width: 200, textScale: scale)
        #expect(canvas.height == layout.size.height && canvas.width == 200)
        let expectedFractions: [Double] = [0.5, 0.25, 1, 0, 0]
        for (index, fraction) in expectedFractions.enumerated() {
            let track = layout.tracks[index]
            let filled = pixels(of: BarChart.barColor, in: canvas, area: track).count
            #expect(filled == Int((fraction * Double(track.width)).rounded()) * track.height, "bar \(index)")
        }
    }

    @Test("only the highlighted bar has the highlight colour")
    func highlight() {
        let canvas = BarChart.render(bars: bars, width: 200, highlighted: 1)
        let layout = BarChart.layout(bars: bars, width: 200)
        for index in bars.indices {
            let highlighted = !pixels(of: BarChart.highlightColor, in: canvas, area: layout.tracks[index]).isEmpty
            #expect(highlighted == (index == 1))
        }
    }

    @Test("no bars, or a canvas too narrow for the track, still draws")
    func degenerate() {
        #expect(BarChart.render(bars: [], width: 50).height > 0)
        #expect(BarChart.render(bars: bars, width: 10, highlighted: 7).width == 10)
    }
}
