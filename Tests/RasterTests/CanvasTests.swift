// Canvas: lines (endpoints, pixel counts, thickness, clipping against a translated reference),
// fills and strokes clipped to the canvas, alpha blend, blit at and beyond the edges,
// nearest-neighbour upscale, RGBA export, zero-sized canvases.
import Testing

@testable import Raster

@Suite("Raster: canvas")
struct CanvasTests {
    @Test(
        "a line sets both endpoints and max(|dx|, |dy|) + 1 pixels",
        arguments: [
            (Point(x: 2, y: 5), Point(x: 12, y: 5)),  // horizontal
            (Point(x: 12, y: 5), Point(x: 2, y: 5)),  // horizontal, reversed
            (Point(x: 4, y: 1), Point(x: 4, y: 18)),  // vertical
            (Point(x: 0, y: 0), Point(x: 9, y: 9)),  // diagonal
            (Point(x: 15, y: 2), Point(x: 6, y: 11)),  // anti-diagonal
            (Point(x: 1, y: 3), Point(x: 18, y: 9)),  // shallow
            (Point(x: 3, y: 19), Point(x: 7, y: 0)),  // steep
            (Point(x: 6, y: 6), Point(x: 6, y: 6)),  // a single point
        ])
    func lineEndpointsAndCount(start: Point, end: Point) {
        let before = Canvas(width: 20, height: 20)
        var after = before
        after.line(from: start, to: end, color: .black)
        let changed = changedPixels(before, after)
        #expect(changed.contains(start) && changed.contains(end))
        #expect(changed.count == max(abs(end.x - start.x), abs(end.y - start.y)) + 1)
        if abs(end.x - start.x) == abs(end.y - start.y) {
            // A 45° line is exactly the diagonal.
            #expect(changed.allSatisfy { abs($0.x - start.x) == abs($0.y - start.y) })
        }
        // Exactly one pixel per step along the major axis: no gaps, no doubling.
        if abs(end.x - start.x) >= abs(end.y - start.y) {
            #expect(Set(changed.map(\.x)).count == changed.count)
        } else {
            #expect(Set(changed.map(\.y)).count == changed.count)
        }
    }

    @Test("a thick horizontal line covers `thickness` rows centred on it", arguments: [2, 3, 4])
    func thickLine(thickness: Int) {
        let before = Canvas(width: 20, height: 20)
        var after = before
        after.line(from: Point(x: 3, y: 10), to: Point(x: 13, y: 10), color: .black, thickness: thickness)
        let changed = changedPixels(before, after)
        let box = boundingBox(changed)
        #expect(box.height == thickness && box.width == 11 + thickness - 1)
        #expect(box.contains(Point(x: 3, y: 10)))
        #expect(changed.count == box.width * box.height)
    }

    @Test(
        "a line partly off the canvas draws exactly its visible pixels",
        arguments: [
            (Point(x: -50, y: -20), Point(x: 80, y: 40)),
            (Point(x: 25, y: -3), Point(x: -4, y: 14)),
            (Point(x: -1_000, y: 5), Point(x: 1_000, y: 5)),
            (Point(x: -30, y: -30), Point(x: -5, y: -2)),  // wholly outside
        ])
    func lineClipping(start: Point, end: Point) {
        let small = Canvas(width: 20, height: 10)
        var drawn = small
        drawn.line(from: start, to: end, color: .red, thickness: 1)
        // Reference: the same line on a canvas big enough to hold it, shifted by `margin`.
        let margin = 1_100
        var big = Canvas(width: 2_300, height: 2_200)
        big.line(
            from: Point(x: start.x + margin, y: start.y + margin), to: Point(x: end.x + margin, y: end.y + margin),
            color: .red)
        let expected = Set(
            pixels(of: .red, in: big, area: Rect(x: margin, y: margin, width: 20, height: 10))
                .map { Point(x: $0.x - margin, y: $0.y - margin) })
        #expect(changedPixels(small, drawn) == expected)
    }

    @Test(
        "fill and strokeRect change only the on-canvas part of the rectangle",
        arguments: [
            Rect(x: 2, y: 3, width: 5, height: 4), Rect(x: -3, y: -2, width: 6, height: 5),
            Rect(x: 10, y: 8, width: 20, height: 20),
            Rect(x: -10, y: -10, width: 5, height: 5), Rect(x: 4, y: 4, width: 0, height: 3),
            Rect(x: -5, y: 5, width: 30, height: 1),
        ])
    func fillAndStrokeClip(rect: Rect) {
        let before = Canvas(width: 16, height: 12)
        var filled = before
        filled.fill(rect: rect, color: .green)
        let visible = rect.intersection(before.bounds)
        #expect(changedPixels(before, filled).count == visible.width * visible.height)
        #expect(changedPixels(before, filled).allSatisfy { visible.contains($0) })

        var stroked = before
        stroked.strokeRect(rect, color: .green)
        let outline = changedPixels(before, stroked)
        #expect(outline.allSatisfy { visible.contains($0) })
        if !rect.isEmpty && before.bounds.intersection(rect) == rect && rect.width > 1 && rect.height > 1 {
            #expect(outline.count == 2 * rect.width + 2 * rect.height - 4)
        }
    }

    @Test("blend mixes by alpha: 0 keeps, 1 replaces, ½ averages")
    func blend() {
        var canvas = Canvas(width: 4, height: 1, background: .black)
        canvas.blend(rect: Rect(x: 0, y: 0, width: 1, height: 1), color: .white, alpha: 0)
        canvas.blend(rect: Rect(x: 1, y: 0, width: 1, height: 1), color: .white, alpha: 1)
        canvas.blend(rect: Rect(x: 2, y: 0, width: 1, height: 1), color: .white, alpha: 0.5)
        canvas.blend(rect: Rect(x: -5, y: -5, width: 1, height: 1), color: .white, alpha: 0.5)
        #expect(canvas.pixel(x: 0, y: 0) == .black)
        #expect(canvas.pixel(x: 1, y: 0) == .white)
        #expect(canvas.pixel(x: 2, y: 0) == RGB(128, 128, 128))
        #expect(canvas.pixel(x: 3, y: 0) == .black)
    }

    @Test(
        "blit copies the overlapping part and nothing else",
        arguments: [
            Point(x: 2, y: 1), Point(x: -3, y: -2), Point(x: 8, y: 6), Point(x: -20, y: 0), Point(x: 10, y: 10),
        ])
    func blit(origin: Point) {
        // Source: every pixel a distinct colour of its position.
        var source = Canvas(width: 5, height: 4)
        for y in 0..<4 { for x in 0..<5 { source.setPixel(x: x, y: y, color: RGB(UInt8(x * 40), UInt8(y * 60), 7)) } }
        var target = Canvas(width: 10, height: 8, background: .white)
        target.blit(source, at: origin)
        for y in 0..<8 {
            for x in 0..<10 {
                let expected = source.pixel(x: x - origin.x, y: y - origin.y) ?? .white
                #expect(target.pixel(x: x, y: y) == expected, "(\(x), \(y))")
            }
        }
    }

    @Test("scaledNearest repeats each pixel factor × factor times", arguments: [1, 2, 3])
    func scaledNearest(factor: Int) {
        var canvas = Canvas(width: 3, height: 2)
        for y in 0..<2 { for x in 0..<3 { canvas.setPixel(x: x, y: y, color: RGB(UInt8(x * 80), UInt8(y * 200), 1)) } }
        let scaled = canvas.scaledNearest(by: factor)
        #expect(scaled.width == 3 * factor && scaled.height == 2 * factor)
        for y in 0..<scaled.height {
            for x in 0..<scaled.width {
                #expect(scaled.pixel(x: x, y: y) == canvas.pixel(x: x / factor, y: y / factor))
            }
        }
    }

    @Test("RGBA export keeps the colours and sets alpha")
    func rgba() {
        var canvas = Canvas(width: 2, height: 1)
        canvas.setPixel(x: 1, y: 0, color: RGB(1, 2, 3))
        #expect(canvas.rgbaPixels(alpha: 9) == [255, 255, 255, 9, 1, 2, 3, 9])
    }

    @Test("a zero-sized canvas accepts every drawing call")
    func zeroSized() {
        var canvas = Canvas(width: 0, height: 0)
        canvas.fill(rect: Rect(x: 0, y: 0, width: 5, height: 5), color: .red)
        canvas.line(from: Point(x: -1, y: -1), to: Point(x: 3, y: 3), color: .red, thickness: 3)
        canvas.strokeRect(Rect(x: 0, y: 0, width: 2, height: 2), color: .red)
        canvas.blit(Canvas(width: 2, height: 2), at: Point(x: 0, y: 0))
        canvas.draw(text: "x", at: Point(x: 0, y: 0), color: .red, scale: 2)
        #expect(canvas.pixels.isEmpty && canvas.scaledNearest(by: 3).pixels.isEmpty)
        #expect(canvas.pixel(x: 0, y: 0) == nil)
    }
}
