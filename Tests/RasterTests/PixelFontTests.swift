// PixelFont: every printable ASCII glyph exists, fits the 5×9 glyph box and differs from every
// other; drawing sets exactly the glyph's bit-row pixels at scales 1–3; `measure` is the box that
// drawing touches; newlines; clipping at and beyond every edge.
import Testing

@testable import Raster

@Suite("Raster: pixel font")
struct PixelFontTests {
    @Test("every printable ASCII character has a glyph of the glyph size", arguments: printableASCII)
    func glyphExists(character: Character) {
        let rows = PixelFont.glyph(for: character)
        #expect(PixelFont.covers(character))
        #expect(rows.count == PixelFont.glyphHeight)
        #expect(rows.allSatisfy { $0 < 1 << PixelFont.glyphWidth }, "\(character): ink beyond column 4")
        #expect(rows != PixelFont.missingGlyph)
        if character != " " {
            #expect(rows.contains { $0 != 0 }, "\(character) has no ink")
        }
    }

    @Test("distinct characters have distinct bitmaps, and none looks like the missing-glyph box")
    func glyphsDistinct() {
        var seen: [[UInt8]: Character] = [:]
        for character in printableASCII {
            let rows = PixelFont.glyph(for: character)
            #expect(seen[rows] == nil, "\(character) has the same bitmap as \(seen[rows].map(String.init) ?? "")")
            seen[rows] = character
        }
        #expect(seen.count == 95)
        #expect(seen[PixelFont.missingGlyph] == nil)
    }

    @Test(
        "characters outside printable ASCII get the visible box",
        arguments: ["é", "\u{7F}", "\t", "😀", "\u{0}", "ü"] as [Character])
    func unknownIsBox(character: Character) {
        #expect(!PixelFont.covers(character))
        #expect(PixelFont.glyph(for: character) == PixelFont.missingGlyph)
        #expect(PixelFont.missingGlyph.contains { $0 != 0 })
    }

    @Test("drawing a character sets exactly its glyph's pixels", arguments: printableASCII, [1, 2, 3])
    func drawsExactGlyph(character: Character, scale: Int) {
        let before = Canvas(width: 24, height: 34, background: .white)
        var after = before
        let origin = Point(x: 3, y: 4)
        after.draw(text: String(character), at: origin, color: .red, scale: scale)
        let expected = expectedInk(rows: PixelFont.glyph(for: character), origin: origin, scale: scale)
        #expect(changedPixels(before, after) == expected)
        #expect(pixels(of: .red, in: after).count == expected.count)
    }

    @Test(
        "measure is the bounding box of what drawing touches",
        arguments: [
            ("Mg", 1), ("Mg", 2), ("Hj\nMy", 1), ("Hj\nMy", 3), ("#_|_", 2), ("E\n\ny", 1), ("E\r\ny", 2),
        ])
    func measureMatchesInk(text: String, scale: Int) {
        let origin = Point(x: 5, y: 7)
        var ink: [Point] = []
        PixelFont.forEachInkRect(text: text, at: origin, scale: scale) { rect in
            for y in rect.y..<rect.maxY { for x in rect.x..<rect.maxX { ink.append(Point(x: x, y: y)) } }
        }
        let size = PixelFont.measure(text: text, scale: scale)
        #expect(boundingBox(ink) == Rect(x: origin.x, y: origin.y, width: size.width, height: size.height))
    }

    @Test("whatever is drawn lies inside the measured box", arguments: [1, 2])
    func inkInsideMeasure(scale: Int) {
        let text = String(printableASCII.prefix(40)) + "\n" + String(printableASCII.dropFirst(40)) + "\n\né"
        let size = PixelFont.measure(text: text, scale: scale)
        let before = Canvas(width: size.width + 20, height: size.height + 20)
        var after = before
        after.draw(text: text, at: Point(x: 10, y: 10), color: .black, scale: scale)
        let box = boundingBox(changedPixels(before, after))
        #expect(box.x >= 10 && box.y >= 10 && box.maxX <= 10 + size.width && box.maxY <= 10 + size.height)
        #expect(size.width == (95 - 40) * PixelFont.cellWidth * scale - scale)
        #expect(size.height == 4 * PixelFont.cellHeight * scale - scale)
        #expect(PixelFont.measure(text: "", scale: scale) == (0, 0))
    }

    @Test("a newline starts the next line one cell height down at the same x")
    func newline() {
        let before = Canvas(width: 30, height: 40)
        var twoLines = before
        var firstOnly = before
        var secondOnly = before
        twoLines.draw(text: "A\nB", at: Point(x: 2, y: 3), color: .black, scale: 2)
        firstOnly.draw(text: "A", at: Point(x: 2, y: 3), color: .black, scale: 2)
        secondOnly.draw(text: "B", at: Point(x: 2, y: 3 + 2 * PixelFont.cellHeight), color: .black, scale: 2)
        #expect(
            changedPixels(before, twoLines) == changedPixels(before, firstOnly).union(changedPixels(before, secondOnly))
        )
    }

    @Test(
        "drawing off the edges clips: no crash, only in-bounds ink pixels change",
        arguments: [
            Point(x: -7, y: -5), Point(x: 17, y: 12), Point(x: -3, y: 14), Point(x: 20, y: -8),
            Point(x: -1_000_000, y: 3), Point(x: 5, y: 1_000_000), Point(x: 0, y: 0),
        ])
    func clipping(origin: Point) {
        let before = Canvas(width: 23, height: 17, background: .white)
        var after = before
        let text = "W8@\ng|"
        after.draw(text: text, at: origin, color: .blue, scale: 2)
        var expected = Set<Point>()
        PixelFont.forEachInkRect(text: text, at: origin, scale: 2) { rect in
            let visible = rect.intersection(before.bounds)
            for y in visible.y..<visible.maxY {
                for x in visible.x..<visible.maxX { expected.insert(Point(x: x, y: y)) }
            }
        }
        #expect(changedPixels(before, after) == expected)
    }

    @Test("zero or negative scale draws nothing and measures nothing", arguments: [0, -2])
    func degenerateScale(scale: Int) {
        let before = Canvas(width: 10, height: 10)
        var after = before
        after.draw(text: "Hi", at: Point(x: 0, y: 0), color: .black, scale: scale)
        #expect(after == before)
        #expect(PixelFont.measure(text: "Hi", scale: scale) == (0, 0))
    }
}
