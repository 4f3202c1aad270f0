// Frame preprocessing: camera/recording frames (YUYV, RGB24, planar YUV 4:2:0 / 4:4:4) → model
// input [S, S, 3] Float, with the same crop, Pillow-weighted resampling, mirror and normalisation
// as `Preprocessor.run(_: RGBImage)`.
// - reference: convert every pixel to RGB (BT.601 full range, clamped to 0…255), then the 2-D
//   reference resample.
// - fast (`run(frame:into:)`): one pass over the frame's bytes. Resampling is linear, so it runs on
//   the raw channels — a vertical pass over whole byte rows first (channel-agnostic, vectorises),
//   then a horizontal pass on S rows that reads Y, U, V (chroma at x/2 for 4:2:x, as the reference
//   upsamples it) and fuses YUV→RGB, the clamp and the normalisation into the write. The only
//   difference to the reference: the 0…255 clamp comes after resampling instead of before, which
//   matters only for out-of-gamut YUV. Buffers are planned per frame size; nothing is allocated
//   per frame.
// Legend: W H frame size, side = crop side, S output side.

/// BT.601 full-range ("JFIF") YUV → RGB, the convention of Y4M `C420jpeg` and of UVC webcams' YUYV
/// as libv4lconvert treats it.
enum YUV {
    @inline(__always)
    static func rgb(y: Float, u: Float, v: Float) -> (Float, Float, Float) {
        let u = u - 128
        let v = v - 128
        return (y + 1.402 * v, y - 0.344136 * u - 0.714136 * v, y + 1.772 * u)
    }
}

extension Preprocessor {
    /// Plain definition for frames: per-pixel RGB conversion (clamped), then the 2-D reference resample.
    public func reference(frame: FrameView) throws(CaptureError) -> [Float] {
        let rgb = try Self.referenceRGB(frame)
        return reference(rgb: rgb, width: frame.width, height: frame.height, evenCropX: frame.format != .rgb24)
    }

    /// Every pixel of `frame` as clamped RGB floats [H, W, 3].
    static func referenceRGB(_ frame: FrameView) throws(CaptureError) -> [Float] {
        try Self.validate(frame)
        let width = frame.width
        let height = frame.height
        let bytes = frame.bytes
        var rgb = [Float](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                var pixel: (Float, Float, Float)
                switch frame.format {
                case .rgb24:
                    let base = y * frame.bytesPerLine + x * 3
                    pixel = (Float(bytes[base]), Float(bytes[base + 1]), Float(bytes[base + 2]))
                case .yuyv:
                    let base = y * frame.bytesPerLine + (x / 2) * 4
                    pixel = YUV.rgb(
                        y: Float(bytes[base + (x % 2) * 2]), u: Float(bytes[base + 1]), v: Float(bytes[base + 3]))
                case .yuv420, .yuv444:
                    let (uOffset, vOffset, chromaWidth, chromaY, chromaX) = planes(frame, y: y, x: x)
                    pixel = YUV.rgb(
                        y: Float(bytes[y * width + x]), u: Float(bytes[uOffset + chromaY * chromaWidth + chromaX]),
                        v: Float(bytes[vOffset + chromaY * chromaWidth + chromaX]))
                case .mjpeg:
                    throw .unsupportedFrameFormat(
                        format: frame.format.rawValue, reason: "decode MJPEG frames to RGB first")
                }
                rgb[(y * width + x) * 3] = min(max(pixel.0, 0), 255)
                rgb[(y * width + x) * 3 + 1] = min(max(pixel.1, 0), 255)
                rgb[(y * width + x) * 3 + 2] = min(max(pixel.2, 0), 255)
            }
        }
        return rgb
    }

    /// Plane offsets and the chroma sample of pixel (x, y) for planar formats.
    @inline(__always)
    static func planes(_ frame: FrameView, y: Int, x: Int) -> (
        u: Int, v: Int, chromaWidth: Int, chromaY: Int, chromaX: Int
    ) {
        let lumaCount = frame.width * frame.height
        if frame.format == .yuv444 { return (lumaCount, 2 * lumaCount, frame.width, y, x) }
        let chromaWidth = (frame.width + 1) / 2
        let chromaHeight = (frame.height + 1) / 2
        return (lumaCount, lumaCount + chromaWidth * chromaHeight, chromaWidth, y / 2, x / 2)
    }

    /// Checks that `frame` holds the bytes its format and size need.
    static func validate(_ frame: FrameView) throws(CaptureError) {
        guard frame.width > 0, frame.height > 0 else {
            throw .unsupportedFrameFormat(
                format: frame.format.rawValue, reason: "empty frame \(frame.width)×\(frame.height)")
        }
        let needed: Int
        switch frame.format {
        case .rgb24: needed = (frame.height - 1) * frame.bytesPerLine + frame.width * 3
        case .yuyv: needed = (frame.height - 1) * frame.bytesPerLine + ((frame.width + 1) / 2) * 4
        case .yuv420, .yuv444: needed = frame.format.frameByteCount(width: frame.width, height: frame.height)!
        case .mjpeg: return
        }
        guard frame.bytes.count >= needed,
            frame.format == .yuv420 || frame.format == .yuv444
                || frame.bytesPerLine >= (frame.format == .rgb24 ? frame.width * 3 : ((frame.width + 1) / 2) * 4)
        else {
            throw .unsupportedFrameFormat(
                format: frame.format.rawValue,
                reason: "\(frame.width)×\(frame.height) needs \(needed) bytes, frame has \(frame.bytes.count)")
        }
    }

    /// Fast twin of `reference(frame:)`: writes S·S·3 floats to `output`. Allocates only when the frame size changes.
    public func run(frame: FrameView, into output: UnsafeMutablePointer<Float>) throws(CaptureError) {
        try Self.validate(frame)
        if frame.format == .mjpeg {
            throw .unsupportedFrameFormat(format: frame.format.rawValue, reason: "decode MJPEG frames to RGB first")
        }
        var crop = Self.centreCrop(width: frame.width, height: frame.height)
        if frame.format != .rgb24 { crop.x &= ~1 }  // keep chroma pairs aligned (4:2:x)
        let rowFloats: Int
        switch frame.format {
        case .rgb24, .yuv444: rowFloats = crop.side * 3  // R G B, or Y | U | V rows
        case .yuyv: rowFloats = crop.side * 2 + 4  // Y U Y V … (+ one pair of slack)
        case .yuv420, .mjpeg: rowFloats = crop.side + 2 * ((crop.side + 1) / 2)  // Y | U | V rows
        }
        let plan = framePlan(side: crop.side, rowFloats: rowFloats)
        let size = outputSize
        let taps = plan.filter.taps
        let bytes = frame.bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let filter = plan.filter
        plan.columns.withUnsafeMutableBufferPointer { columnsBuffer in
            filter.weights.withUnsafeBufferPointer { weightsBuffer in
                let columns = columnsBuffer.baseAddress!
                let weights = weightsBuffer.baseAddress!
                // Vertical pass: for each output row, Σ w·(byte rows of the crop) → [S, rowFloats].
                func verticalPass(
                    plane: UnsafePointer<UInt8>, stride: Int, firstByte: Int, count: Int,
                    rowOf: (Int) -> Int, into destination: UnsafeMutablePointer<Float>, destinationStride: Int
                ) {
                    for outY in 0..<size {
                        let row = destination + outY * destinationStride
                        for index in 0..<count { row[index] = 0 }
                        for tap in 0..<filter.counts[outY] {
                            let weight = weights[outY * taps + tap]
                            let source = plane + rowOf(crop.y + filter.starts[outY] + tap) * stride + firstByte
                            for index in 0..<count { row[index] += weight * Float(source[index]) }
                        }
                    }
                }
                let rowFloats = plan.rowFloats
                switch frame.format {
                case .rgb24, .yuyv:
                    let firstByte = frame.format == .rgb24 ? crop.x * 3 : crop.x * 2
                    let count =
                        frame.format == .rgb24 ? crop.side * 3 : min(crop.side * 2 + 2, (frame.width - crop.x) * 2)
                    verticalPass(
                        plane: bytes, stride: frame.bytesPerLine, firstByte: firstByte, count: count,
                        rowOf: { $0 }, into: columns, destinationStride: rowFloats)
                case .yuv420, .yuv444:
                    // Planar: Y row, then U and V rows (chroma rows at y/2 for 4:2:0) side by side in one buffer row.
                    let lumaCount = frame.width * frame.height
                    let subsampled = frame.format == .yuv420
                    let chromaWidth = subsampled ? (frame.width + 1) / 2 : frame.width
                    let chromaHeight = subsampled ? (frame.height + 1) / 2 : frame.height
                    let chromaFirst = subsampled ? crop.x / 2 : crop.x
                    let chromaCount = subsampled ? (crop.side + 1) / 2 : crop.side
                    verticalPass(
                        plane: bytes, stride: frame.width, firstByte: crop.x, count: crop.side, rowOf: { $0 },
                        into: columns, destinationStride: rowFloats)
                    verticalPass(
                        plane: bytes + lumaCount, stride: chromaWidth, firstByte: chromaFirst, count: chromaCount,
                        rowOf: { subsampled ? $0 / 2 : $0 }, into: columns + crop.side, destinationStride: rowFloats)
                    verticalPass(
                        plane: bytes + lumaCount + chromaWidth * chromaHeight, stride: chromaWidth,
                        firstByte: chromaFirst, count: chromaCount, rowOf: { subsampled ? $0 / 2 : $0 },
                        into: columns + crop.side + chromaCount, destinationStride: rowFloats)
                case .mjpeg:
                    break
                }
                // Horizontal pass with colour conversion, clamp and normalisation fused.
                let (r, g, b) = (normalization.channels[0], normalization.channels[1], normalization.channels[2])
                let chromaCount = frame.format == .yuv420 ? (crop.side + 1) / 2 : crop.side
                for outY in 0..<size {
                    let row = columns + outY * rowFloats
                    let destination = output + outY * size * 3
                    for outX in 0..<size {
                        let sourceX = mirror ? size - 1 - outX : outX
                        let start = filter.starts[sourceX]
                        let count = filter.counts[sourceX]
                        let tap = weights + sourceX * taps
                        var c0: Float = 0
                        var c1: Float = 0
                        var c2: Float = 0
                        switch frame.format {
                        case .rgb24:
                            for index in 0..<count {
                                let pixel = row + (start + index) * 3
                                c0 += tap[index] * pixel[0]
                                c1 += tap[index] * pixel[1]
                                c2 += tap[index] * pixel[2]
                            }
                        case .yuyv:
                            for index in 0..<count {
                                let x = start + index
                                c0 += tap[index] * row[x * 2]
                                c1 += tap[index] * row[(x / 2) * 4 + 1]
                                c2 += tap[index] * row[(x / 2) * 4 + 3]
                            }
                        default:
                            let chromaShift = frame.format == .yuv420 ? 1 : 0
                            for index in 0..<count {
                                let x = start + index
                                c0 += tap[index] * row[x]
                                c1 += tap[index] * row[crop.side + (x >> chromaShift)]
                                c2 += tap[index] * row[crop.side + chromaCount + (x >> chromaShift)]
                            }
                        }
                        var red = c0
                        var green = c1
                        var blue = c2
                        if frame.format != .rgb24 { (red, green, blue) = YUV.rgb(y: c0, u: c1, v: c2) }
                        red = red < 0 ? 0 : (red > 255 ? 255 : red)
                        green = green < 0 ? 0 : (green > 255 ? 255 : green)
                        blue = blue < 0 ? 0 : (blue > 255 ? 255 : blue)
                        destination[outX * 3] = red * r.scale + r.offset
                        destination[outX * 3 + 1] = green * g.scale + g.offset
                        destination[outX * 3 + 2] = blue * b.scale + b.offset
                    }
                }
            }
        }
    }
}
