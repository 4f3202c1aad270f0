// Helpers shared by the Raster tests: pixel sets of a canvas, diffs between two canvases, and an
// independent reading of a glyph's bit rows (not through PixelFont's drawing code).
@testable import Raster

/// Positions whose colour differs between two canvases of the same size.
func changedPixels(_ before: Canvas, _ after: Canvas) -> Set<Point> {
    precondition(before.width == after.width && before.height == after.height)
    var changed = Set<Point>()
    for y in 0..<before.height {
        for x in 0..<before.width where before.pixel(x: x, y: y) != after.pixel(x: x, y: y) {
            changed.insert(Point(x: x, y: y))
        }
    }
    return changed
}

/// Positions inside `area` (whole canvas when nil) holding exactly `color`.
func pixels(of color: RGB, in canvas: Canvas, area: Rect? = nil) -> [Point] {
    let region = (area ?? canvas.bounds).intersection(canvas.bounds)
    var found: [Point] = []
    for y in region.y..<region.maxY {
        for x in region.x..<region.maxX where canvas.pixel(x: x, y: y) == color {
            found.append(Point(x: x, y: y))
        }
    }
    return found
}

/// The ink pixels of one glyph at `origin` and `scale`, read straight from its bit rows
/// (bit 4 = leftmost column).
func expectedInk(rows: [UInt8], origin: Point, scale: Int) -> Set<Point> {
    var ink = Set<Point>()
    for (row, bits) in rows.enumerated() {
        for column in 0..<5 where (bits >> (4 - column)) & 1 == 1 {
            for dy in 0..<scale {
                for dx in 0..<scale {
                    ink.insert(Point(x: origin.x + column * scale + dx, y: origin.y + row * scale + dy))
                }
            }
        }
    }
    return ink
}

/// The smallest rectangle holding every point (empty for no points).
func boundingBox(_ points: some Collection<Point>) -> Rect {
    guard let first = points.first else { return Rect(x: 0, y: 0, width: 0, height: 0) }
    var left = first.x
    var right = first.x
    var top = first.y
    var bottom = first.y
    for point in points {
        left = min(left, point.x)
        right = max(right, point.x)
        top = min(top, point.y)
        bottom = max(bottom, point.y)
    }
    return Rect(x: left, y: top, width: right - left + 1, height: bottom - top + 1)
}

/// Every printable ASCII character, 32…126.
let printableASCII: [Character] = (32...126).map { Character(Unicode.Scalar(UInt8($0))) }
