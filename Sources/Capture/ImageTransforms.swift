// Small deterministic image transforms used to synthesise "the subject moved" samples (embedding
// layer probes, tests): translation with edge clamping, and brightness scaling.

extension RGBImage {
    /// The image moved by (dx, dy) pixels (positive: right/down); uncovered pixels repeat the edge.
    public func shifted(dx: Int, dy: Int) -> RGBImage {
        var result = [UInt8](repeating: 0, count: pixels.count)
        for y in 0..<height {
            let sourceY = Swift.min(Swift.max(y - dy, 0), height - 1)
            for x in 0..<width {
                let sourceX = Swift.min(Swift.max(x - dx, 0), width - 1)
                for channel in 0..<3 {
                    result[(y * width + x) * 3 + channel] = pixels[(sourceY * width + sourceX) * 3 + channel]
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: result)
    }

    /// Every channel multiplied by `factor`, saturating at 255.
    public func brightened(by factor: Float) -> RGBImage {
        RGBImage(
            width: width, height: height,
            pixels: pixels.map { UInt8(Swift.min(Swift.max((Float($0) * factor).rounded(), 0), 255)) })
    }
}
