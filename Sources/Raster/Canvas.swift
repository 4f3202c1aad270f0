// Canvas: an RGB8 pixel buffer with clipped drawing (fill, stroke, lines, alpha blend, blit,
// nearest-neighbour upscale). Invariant: pixels.count == width · height · 3, rows top to bottom,
// each pixel R, G, B. Every drawing call clips to the canvas: off-canvas parts are dropped, never
// trapped on. Lines are Bresenham's integer algorithm. No I/O: PNG encoding lives in Capture
// (`RGBImage(width:height:pixels:)` takes `pixels` as is).

/// An 8-bit RGB colour.
public struct RGB: Equatable, Hashable, Sendable {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    /// A colour from its three 8-bit channels.
    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    public static let black = RGB(0, 0, 0)
    public static let white = RGB(255, 255, 255)
    public static let gray = RGB(128, 128, 128)
    public static let lightGray = RGB(214, 214, 214)
    public static let darkGray = RGB(64, 64, 64)
    public static let red = RGB(214, 39, 40)
    public static let green = RGB(44, 160, 44)
    public static let blue = RGB(31, 119, 180)
    public static let orange = RGB(255, 127, 14)
    public static let purple = RGB(148, 103, 189)
    public static let yellow = RGB(255, 221, 0)
    /// The dark end of the report shade ramp (rate 1.0 in the confusion matrix).
    public static let navy = RGB(8, 48, 107)

    /// Linear mix: `fraction` 0 gives `self`, 1 gives `other`; fractions outside 0…1 are clamped.
    public func mixed(with other: RGB, fraction: Float) -> RGB {
        let t = fraction.isNaN ? 0 : min(max(fraction, 0), 1)
        func channel(_ a: UInt8, _ b: UInt8) -> UInt8 {
            UInt8((Float(a) + (Float(b) - Float(a)) * t).rounded())
        }
        return RGB(channel(red, other.red), channel(green, other.green), channel(blue, other.blue))
    }

    /// Perceived brightness 0…255 (Rec. 601 luma weights); used to pick readable text on a shade.
    public var luma: Float { 0.299 * Float(red) + 0.587 * Float(green) + 0.114 * Float(blue) }
}

/// An integer pixel position; y grows downwards.
public struct Point: Equatable, Hashable, Sendable {
    public var x: Int
    public var y: Int

    /// A position `x` pixels right of and `y` pixels below the origin.
    public init(x: Int, y: Int) {
        self.x = x
        self.y = y
    }
}

/// An integer width and height in pixels.
public struct Size: Equatable, Hashable, Sendable {
    public var width: Int
    public var height: Int

    /// A size of `width` × `height` pixels.
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }
}

/// An axis-aligned rectangle of pixels: columns x ..< x+width, rows y ..< y+height.
public struct Rect: Equatable, Hashable, Sendable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    /// A rectangle with its top-left pixel at (x, y); negative sizes are treated as empty.
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// The rectangle's width and height.
    public var size: Size { Size(width: width, height: height) }
    /// True when the rectangle holds no pixel.
    public var isEmpty: Bool { width <= 0 || height <= 0 }
    /// One past the rightmost column.
    public var maxX: Int { x + width }
    /// One past the bottom row.
    public var maxY: Int { y + height }

    /// The pixels both rectangles share (empty when they do not overlap).
    public func intersection(_ other: Rect) -> Rect {
        let left = max(x, other.x)
        let top = max(y, other.y)
        let right = min(maxX, other.maxX)
        let bottom = min(maxY, other.maxY)
        return Rect(x: left, y: top, width: max(0, right - left), height: max(0, bottom - top))
    }

    /// True when the pixel at `point` lies inside.
    public func contains(_ point: Point) -> Bool {
        point.x >= x && point.x < maxX && point.y >= y && point.y < maxY
    }

    /// The rectangle shrunk by `amount` pixels on every side (grown when negative).
    public func insetBy(_ amount: Int) -> Rect {
        Rect(x: x + amount, y: y + amount, width: width - 2 * amount, height: height - 2 * amount)
    }
}

/// An RGB8 image to draw on; drawing outside its bounds is clipped, never an error.
public struct Canvas: Equatable, Sendable {
    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    /// Row-major RGB8: pixel (x, y) is bytes [3·(y·width + x) ..< +3]; width · height · 3 bytes.
    public var pixels: [UInt8]

    /// A canvas of `width` × `height` pixels (either may be 0) filled with `background`.
    public init(width: Int, height: Int, background: RGB = .white) {
        precondition(width >= 0 && height >= 0, "a canvas needs non-negative sizes, got \(width)×\(height)")
        self.width = width
        self.height = height
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for index in stride(from: 0, to: pixels.count, by: 3) {
            pixels[index] = background.red
            pixels[index + 1] = background.green
            pixels[index + 2] = background.blue
        }
        self.pixels = pixels
    }

    /// A canvas around existing RGB8 bytes (count must be width · height · 3).
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(
            width >= 0 && height >= 0 && pixels.count == width * height * 3,
            "a \(width)×\(height) canvas needs \(max(0, width * height * 3)) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The whole canvas as a rectangle.
    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    /// The colour at (x, y), or nil outside the canvas.
    public func pixel(x: Int, y: Int) -> RGB? {
        guard x >= 0, x < width, y >= 0, y < height else { return nil }
        let index = (y * width + x) * 3
        return RGB(pixels[index], pixels[index + 1], pixels[index + 2])
    }

    /// Sets the pixel at (x, y); does nothing outside the canvas.
    public mutating func setPixel(x: Int, y: Int, color: RGB) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        let index = (y * width + x) * 3
        pixels[index] = color.red
        pixels[index + 1] = color.green
        pixels[index + 2] = color.blue
    }

    /// Fills the part of `rect` that lies on the canvas.
    public mutating func fill(rect: Rect, color: RGB) {
        let clipped = rect.intersection(bounds)
        guard !clipped.isEmpty else { return }
        for y in clipped.y..<clipped.maxY {
            var index = (y * width + clipped.x) * 3
            for _ in 0..<clipped.width {
                pixels[index] = color.red
                pixels[index + 1] = color.green
                pixels[index + 2] = color.blue
                index += 3
            }
        }
    }

    /// Fills the whole canvas.
    public mutating func fill(color: RGB) {
        fill(rect: bounds, color: color)
    }

    /// Draws the outline of `rect`, `thickness` pixels wide, inside the rectangle.
    public mutating func strokeRect(_ rect: Rect, color: RGB, thickness: Int = 1) {
        guard !rect.isEmpty, thickness > 0 else { return }
        let band = min(thickness, (min(rect.width, rect.height) + 1) / 2)
        fill(rect: Rect(x: rect.x, y: rect.y, width: rect.width, height: band), color: color)
        fill(rect: Rect(x: rect.x, y: rect.maxY - band, width: rect.width, height: band), color: color)
        fill(rect: Rect(x: rect.x, y: rect.y, width: band, height: rect.height), color: color)
        fill(rect: Rect(x: rect.maxX - band, y: rect.y, width: band, height: rect.height), color: color)
    }

    /// Draws a straight line including both endpoints (Bresenham). A thickness above 1 stamps a
    /// `thickness`-wide square centred on each point (extra pixel to the right/below when even).
    public mutating func line(from start: Point, to end: Point, color: RGB, thickness: Int = 1) {
        guard thickness > 0 else { return }
        let offset = (thickness - 1) / 2
        // Lines far off the canvas would still be walked point by point: skip those wholly outside.
        let reach = Rect(
            x: min(start.x, end.x) - offset, y: min(start.y, end.y) - offset,
            width: abs(end.x - start.x) + thickness, height: abs(end.y - start.y) + thickness)
        guard !reach.intersection(bounds).isEmpty else { return }
        let deltaX = abs(end.x - start.x)
        let stepX = start.x < end.x ? 1 : -1
        let deltaY = -abs(end.y - start.y)
        let stepY = start.y < end.y ? 1 : -1
        var error = deltaX + deltaY
        var x = start.x
        var y = start.y
        while true {
            if thickness == 1 {
                setPixel(x: x, y: y, color: color)
            } else {
                fill(rect: Rect(x: x - offset, y: y - offset, width: thickness, height: thickness), color: color)
            }
            if x == end.x && y == end.y { break }
            let doubled = 2 * error
            if doubled >= deltaY {
                error += deltaY
                x += stepX
            }
            if doubled <= deltaX {
                error += deltaX
                y += stepY
            }
        }
    }

    /// Paints `color` over `rect` at opacity `alpha` (0 leaves pixels, 1 replaces them).
    public mutating func blend(rect: Rect, color: RGB, alpha: Float) {
        let clipped = rect.intersection(bounds)
        guard !clipped.isEmpty, alpha > 0 else { return }
        let opacity = min(alpha, 1)
        for y in clipped.y..<clipped.maxY {
            for x in clipped.x..<clipped.maxX {
                let index = (y * width + x) * 3
                let under = RGB(pixels[index], pixels[index + 1], pixels[index + 2])
                let over = under.mixed(with: color, fraction: opacity)
                pixels[index] = over.red
                pixels[index + 1] = over.green
                pixels[index + 2] = over.blue
            }
        }
    }

    /// Copies `other` with its top-left pixel at `origin`; parts falling off this canvas are dropped.
    public mutating func blit(_ other: Canvas, at origin: Point) {
        let target = Rect(x: origin.x, y: origin.y, width: other.width, height: other.height).intersection(bounds)
        guard !target.isEmpty else { return }
        let rowBytes = target.width * 3
        for y in target.y..<target.maxY {
            let source = ((y - origin.y) * other.width + (target.x - origin.x)) * 3
            let destination = (y * width + target.x) * 3
            pixels.replaceSubrange(destination..<destination + rowBytes, with: other.pixels[source..<source + rowBytes])
        }
    }

    /// This canvas enlarged `factor` times by repeating pixels (crisp, no smoothing); factor ≤ 1 copies.
    public func scaledNearest(by factor: Int) -> Canvas {
        guard factor > 1 else { return self }
        var result = Canvas(width: width * factor, height: height * factor, background: .black)
        let sourceRowBytes = width * 3
        let targetRowBytes = result.width * 3
        for y in 0..<height {
            // Widen one source row, then copy it into `factor` target rows.
            let firstRow = y * factor * targetRowBytes
            for x in 0..<width {
                let source = y * sourceRowBytes + x * 3
                for repeatIndex in 0..<factor {
                    let target = firstRow + (x * factor + repeatIndex) * 3
                    result.pixels[target] = pixels[source]
                    result.pixels[target + 1] = pixels[source + 1]
                    result.pixels[target + 2] = pixels[source + 2]
                }
            }
            for repeatIndex in 1..<factor {
                let target = firstRow + repeatIndex * targetRowBytes
                result.pixels.replaceSubrange(
                    target..<target + targetRowBytes,
                    with: result.pixels[firstRow..<firstRow + targetRowBytes])
            }
        }
        return result
    }

    /// The pixels as RGBA8 (4 bytes per pixel, same order), every alpha set to `alpha`; for
    /// texture uploads that want 32-bit pixels.
    public func rgbaPixels(alpha: UInt8 = 255) -> [UInt8] {
        var result = [UInt8](repeating: alpha, count: width * height * 4)
        for pixel in 0..<(width * height) {
            result[pixel * 4] = pixels[pixel * 3]
            result[pixel * 4 + 1] = pixels[pixel * 3 + 1]
            result[pixel * 4 + 2] = pixels[pixel * 3 + 2]
        }
        return result
    }
}
