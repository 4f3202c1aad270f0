// TestPattern: a deterministic synthetic frame (gradients plus a checkerboard, so every resampling
// tap matters) in any pixel format — for benchmarks and tests where no camera exists. RGB → YUV is
// full-range BT.601 (the inverse of YUV.rgb), chroma averaged over each 2×1 (YUYV) or 2×2 (4:2:0) block.

/// Synthetic frames in every pixel format.
public enum TestPattern {
    /// The RGB test card of `width × height`.
    public static func image(width: Int, height: Int) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let base = (y * width + x) * 3
                pixels[base] = UInt8((x * 255) / max(width - 1, 1))
                pixels[base + 1] = UInt8((y * 255) / max(height - 1, 1))
                pixels[base + 2] = ((x / 3 + y / 5) % 2 == 0) ? 230 : 20
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// The bytes of `card` in `format` (tightly packed rows; MJPEG gives an empty array).
    public static func bytes(of card: RGBImage, as format: PixelFormat) -> [UInt8] {
        let width = card.width
        let height = card.height
        func yuv(_ x: Int, _ y: Int) -> (Float, Float, Float) {
            let base = (y * width + x) * 3
            let r = Float(card.pixels[base])
            let g = Float(card.pixels[base + 1])
            let b = Float(card.pixels[base + 2])
            return (
                0.299 * r + 0.587 * g + 0.114 * b, 128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
                128 + 0.5 * r - 0.418688 * g - 0.081312 * b
            )
        }
        func byte(_ value: Float) -> UInt8 { UInt8(Swift.min(Swift.max(value.rounded(), 0), 255)) }
        switch format {
        case .rgb24:
            return card.pixels
        case .yuyv:
            var bytes: [UInt8] = []
            bytes.reserveCapacity(((width + 1) / 2) * 4 * height)
            for y in 0..<height {
                for pair in stride(from: 0, to: width, by: 2) {
                    let first = yuv(pair, y)
                    let second = yuv(Swift.min(pair + 1, width - 1), y)
                    bytes += [
                        byte(first.0), byte((first.1 + second.1) / 2), byte(second.0), byte((first.2 + second.2) / 2),
                    ]
                }
            }
            return bytes
        case .yuv444:
            let all = (0..<height).flatMap { y in (0..<width).map { x in yuv(x, y) } }
            return all.map { byte($0.0) } + all.map { byte($0.1) } + all.map { byte($0.2) }
        case .yuv420:
            var luma: [UInt8] = []
            var u: [UInt8] = []
            var v: [UInt8] = []
            for y in 0..<height { for x in 0..<width { luma.append(byte(yuv(x, y).0)) } }
            for y in stride(from: 0, to: height, by: 2) {
                for x in stride(from: 0, to: width, by: 2) {
                    let right = Swift.min(x + 1, width - 1)
                    let below = Swift.min(y + 1, height - 1)
                    let samples = [yuv(x, y), yuv(right, y), yuv(x, below), yuv(right, below)]
                    u.append(byte(samples.reduce(0) { $0 + $1.1 } / 4))
                    v.append(byte(samples.reduce(0) { $0 + $1.2 } / 4))
                }
            }
            return luma + u + v
        case .mjpeg:
            return []
        }
    }

    /// Bytes per row of a tightly packed frame (planar formats: the Y row).
    public static func bytesPerLine(width: Int, format: PixelFormat) -> Int {
        switch format {
        case .rgb24: return width * 3
        case .yuyv: return ((width + 1) / 2) * 4
        case .yuv420, .yuv444, .mjpeg: return width
        }
    }
}
