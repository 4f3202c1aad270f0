// Frame preprocessing: camera/recording frames (YUYV, RGB24, planar YUV 4:2:0 / 4:4:4) → model
// input [S, S, 3] Float, with the same crop, Pillow-weighted resampling, mirror and normalisation
// as `Preprocessor.run(_: RGBImage)`.
// - reference: convert every pixel to RGB (BT.601 full range, clamped to 0…255), then the 2-D
//   reference resample.
// - fast (`run(frame:into:)`): one output row at a time over the frame's bytes. Resampling is linear,
//   so it runs on the raw channels — a vertical pass over the crop's byte rows (channel-agnostic,
//   16 bytes per SIMD step), then a horizontal pass per plane as 16-lane band blocks that reads Y, U,
//   V (chroma at x/2 for 4:2:x, as the reference upsamples it, folded into the chroma filter) and
//   fuses YUV→RGB, the clamp and the normalisation into the write (kernels: FrameResampling.swift).
//   The only difference to the reference: the 0…255 clamp comes after resampling instead of before,
//   which matters only for out-of-gamut YUV. Buffers are planned per frame size and format; nothing
//   is allocated per frame.
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

    /// Fast twin of `reference(frame:)`: writes S·S·3 floats to `output`, one output row at a time (vertical pass
    /// over the crop's byte rows, then the band filters of FrameResampling.swift with colour conversion, clamp and
    /// normalisation fused). Allocates only when the frame size or format changes.
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
        let plan = framePlan(side: crop.side, format: frame.format, rowFloats: rowFloats)
        let bytes = frame.bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let filter = plan.filter
        let rowPointers = plan.rowPointers
        let subsampled = frame.format == .yuv420
        let lumaCount = frame.width * frame.height
        let chromaWidth = subsampled ? (frame.width + 1) / 2 : frame.width
        let chromaHeight = subsampled ? (frame.height + 1) / 2 : frame.height
        let chromaCount = subsampled ? (crop.side + 1) / 2 : crop.side
        filter.weights.withUnsafeBufferPointer { weightsBuffer in
            let weights = weightsBuffer.baseAddress!
            /// The vertical pass of output row `outY` over one plane: `count` bytes from `firstByte` of its rows.
            func vertical(
                outY: Int, plane: UnsafePointer<UInt8>, stride: Int, firstByte: Int, count: Int, halfRows: Bool,
                into destination: UnsafeMutablePointer<Float>
            ) {
                let taps = filter.counts[outY]
                for tap in 0..<taps {
                    let y = crop.y + filter.starts[outY] + tap
                    rowPointers[tap] = plane + (halfRows ? y / 2 : y) * stride + firstByte
                }
                verticalRow(
                    rows: rowPointers, weights: weights + outY * filter.taps, taps: taps, count: count,
                    into: destination)
            }
            /// The vertical pass of output row `outY`, all planes, into `row`.
            func verticalPlanes(outY: Int, into row: UnsafeMutablePointer<Float>) {
                switch frame.format {
                case .rgb24:
                    vertical(
                        outY: outY, plane: bytes, stride: frame.bytesPerLine, firstByte: crop.x * 3,
                        count: crop.side * 3, halfRows: false, into: row)
                case .yuyv:
                    vertical(
                        outY: outY, plane: bytes, stride: frame.bytesPerLine, firstByte: crop.x * 2,
                        count: min(crop.side * 2 + 2, (frame.width - crop.x) * 2), halfRows: false, into: row)
                case .yuv420, .yuv444:
                    // Planar: Y row, then U and V rows (chroma rows at y/2 for 4:2:0) side by side in the row buffer.
                    let chromaFirst = subsampled ? crop.x / 2 : crop.x
                    vertical(
                        outY: outY, plane: bytes, stride: frame.width, firstByte: crop.x, count: crop.side,
                        halfRows: false, into: row)
                    vertical(
                        outY: outY, plane: bytes + lumaCount, stride: chromaWidth, firstByte: chromaFirst,
                        count: chromaCount, halfRows: subsampled, into: row + crop.side)
                    vertical(
                        outY: outY, plane: bytes + lumaCount + chromaWidth * chromaHeight, stride: chromaWidth,
                        firstByte: chromaFirst, count: chromaCount, halfRows: subsampled,
                        into: row + crop.side + chromaCount)
                case .mjpeg:
                    break
                }
            }
            // Rows in pairs (the last one paired with itself when S is odd).
            let (first, second) = (plan.rows, plan.rows + plan.rowStride)
            for outY in stride(from: 0, to: outputSize, by: 2) {
                verticalPlanes(outY: outY, into: first)
                let paired = outY + 1 < outputSize
                if paired { verticalPlanes(outY: outY + 1, into: second) }
                horizontal(
                    plan: plan, first: first, second: paired ? second : first,
                    into: output + outY * outputSize * 3, writesSecond: paired, isYUV: frame.format != .rgb24)
            }
        }
    }

    /// The horizontal pass of a row pair: the three planes' band sums → (YUV→RGB) → clamp 0…255 → x·scale + offset,
    /// written as S interleaved R G B floats per row from `destination` (the second row only when `writesSecond`).
    private func horizontal(
        plan: FramePlan, first: UnsafeMutablePointer<Float>, second: UnsafeMutablePointer<Float>,
        into destination: UnsafeMutablePointer<Float>, writesSecond: Bool, isYUV: Bool
    ) {
        let (red, green, blue) = (normalization.channels[0], normalization.channels[1], normalization.channels[2])
        let (band0, band1, band2) = (plan.bands[0], plan.bands[1], plan.bands[2])
        let zero = SIMD16<Float>()
        let top = SIMD16<Float>(repeating: 255)
        for block in 0..<band0.blocks {
            let (a0, b0) = band0.sums(block: block, first: first, second: second)
            let (a1, b1) = band1.sums(block: block, first: first, second: second)
            let (a2, b2) = band2.sums(block: block, first: first, second: second)
            /// Converts, clamps, normalises and writes one row's 16 outputs (row `index` of the pair).
            func write(_ index: Int, _ c0: SIMD16<Float>, _ c1: SIMD16<Float>, _ c2: SIMD16<Float>) {
                var (r, g, b) = (c0, c1, c2)
                if isYUV {
                    let u = c1 - 128
                    let v = c2 - 128
                    r = c0.addingProduct(1.402, v)
                    g = c0.addingProduct(-0.344136, u).addingProduct(-0.714136, v)
                    b = c0.addingProduct(1.772, u)
                }
                r = pointwiseMin(pointwiseMax(r, zero), top) * red.scale + red.offset
                g = pointwiseMin(pointwiseMax(g, zero), top) * green.scale + green.offset
                b = pointwiseMin(pointwiseMax(b, zero), top) * blue.scale + blue.offset
                let out = destination + index * outputSize * 3 + block * 48
                let lanes = min(BandFilter.lanes, outputSize - block * BandFilter.lanes)
                if lanes == BandFilter.lanes {
                    for lane in 0..<16 {
                        out[lane * 3] = r[lane]
                        out[lane * 3 + 1] = g[lane]
                        out[lane * 3 + 2] = b[lane]
                    }
                } else {
                    for lane in 0..<lanes {
                        out[lane * 3] = r[lane]
                        out[lane * 3 + 1] = g[lane]
                        out[lane * 3 + 2] = b[lane]
                    }
                }
            }
            write(0, a0, a1, a2)
            if writesSecond { write(1, b0, b1, b2) }
        }
    }
}
