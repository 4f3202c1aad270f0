// DepthwiseConv2D (depth_multiplier 1): each channel convolved with its own KH×KW filter, NHWC.
// - `reference`: loops straight from the definition.
// - `simd`: channel-last vectorisation (as ggml's conv_2d_dw NHWC and XNNPACK dwconv): for each
//   output pixel, taps outside the image are skipped, and channels go 16 at a time, then 8, 4 and a
//   scalar tail, with bias and clamp fused into the store. Weights [KH, KW, C, 1] are read as
//   [KH·KW, C] so every tap is a contiguous channel vector. For 3×3 windows with few channels, pixels
//   whose window lies inside the image take a row sweep that keeps the 9 tap vectors and the bias of a
//   channel block in registers across the whole output row; only border pixels take the per-pixel path.
//   With many channels (`takesWideRows`) every pixel is channel-inner instead (`wideRow3x3`): interior
//   pixels in 2×2 quads (rows in pairs) or pairs, border taps reading a shared zero vector (as XNNPACK's
//   indirection buffer does). Buffers are 64-byte aligned (`allocateAligned`): a vector across two lines loads twice.
// Legend: H W C input, KH KW kernel, OH OW output, S stride.

/// Depthwise 2-D convolution kernels (reference and SIMD twins).
public enum DepthwiseConv2D {
    /// Plain definition: input [H, W, C], kernel [KH, KW, C], bias [C] or nil → output [OH, OW, C].
    public static func reference(
        input: UnsafePointer<Float>, geometry g: ConvGeometry, kernel: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, clamp: (low: Float, high: Float), output: UnsafeMutablePointer<Float>
    ) {
        let channels = g.inputChannels
        for outY in 0..<g.outputHeight {
            for outX in 0..<g.outputWidth {
                for channel in 0..<channels {
                    var sum: Float = bias?[channel] ?? 0
                    for kernelY in 0..<g.kernelHeight {
                        for kernelX in 0..<g.kernelWidth {
                            let inY = outY * g.strideHeight - g.padding.top + kernelY
                            let inX = outX * g.strideWidth - g.padding.left + kernelX
                            guard inY >= 0, inY < g.inputHeight, inX >= 0, inX < g.inputWidth else { continue }
                            sum +=
                                input[(inY * g.inputWidth + inX) * channels + channel]
                                * kernel[(kernelY * g.kernelWidth + kernelX) * channels + channel]
                        }
                    }
                    output[(outY * g.outputWidth + outX) * channels + channel] = min(max(sum, clamp.low), clamp.high)
                }
            }
        }
    }

    /// SIMD twin of `reference` (same arguments); rows are split over `threads`.
    public static func simd(
        input: UnsafePointer<Float>, geometry g: ConvGeometry, kernel: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, clamp: (low: Float, high: Float), output: UnsafeMutablePointer<Float>,
        threads: Int = 1
    ) {
        let channels = g.inputChannels
        let low = clamp.low
        let high = clamp.high
        let is3x3 = g.kernelHeight == 3 && g.kernelWidth == 3
        // Output columns [interiorStart, interiorEnd) have their whole window inside the image.
        let interior = g.interiorColumns
        let interiorStart = interior.lowerBound
        let interiorEnd = interior.upperBound
        if takesWideRows(g) {
            parallelFor((g.outputHeight + 1) / 2, threads: threads) { pair in
                let outY = 2 * pair
                let firstY = outY * g.strideHeight - g.padding.top
                if outY + 1 < g.outputHeight && firstY >= 0 && firstY + g.strideHeight + 3 <= g.inputHeight
                    && interior.count >= 2
                {
                    wideRowPair3x3(
                        input: input, geometry: g, kernel: kernel, bias: bias, low: low, high: high, output: output,
                        outY: outY, interior: interior)
                } else {
                    for y in outY..<min(outY + 2, g.outputHeight) {
                        wideRow3x3(
                            input: input, geometry: g, kernel: kernel, bias: bias, low: low, high: high,
                            output: output, outY: y, interior: interior)
                    }
                }
            }
            return
        }
        parallelFor(g.outputHeight, threads: threads) { outY in
            let firstY = outY * g.strideHeight - g.padding.top
            guard is3x3, firstY >= 0, firstY + 3 <= g.inputHeight, interiorEnd > interiorStart else {
                for outX in 0..<g.outputWidth {
                    pixel(
                        input: input, geometry: g, kernel: kernel, bias: bias, low: low, high: high, output: output,
                        outY: outY, outX: outX)
                }
                return
            }
            for outX in 0..<interiorStart {
                pixel(
                    input: input, geometry: g, kernel: kernel, bias: bias, low: low, high: high, output: output,
                    outY: outY, outX: outX)
            }
            for outX in interiorEnd..<g.outputWidth {
                pixel(
                    input: input, geometry: g, kernel: kernel, bias: bias, low: low, high: high, output: output,
                    outY: outY, outX: outX)
            }
            var channel = 0
            while channel + 16 <= channels {
                sweep3x3(
                    SIMD16<Float>.self, input: input, geometry: g, kernel: kernel, bias: bias, low: low, high: high,
                    output: output, outY: outY, columns: interiorStart..<interiorEnd, channel: channel)
                channel += 16
            }
            if channel + 8 <= channels {
                sweep3x3(
                    SIMD8<Float>.self, input: input, geometry: g, kernel: kernel, bias: bias, low: low, high: high,
                    output: output, outY: outY, columns: interiorStart..<interiorEnd, channel: channel)
                channel += 8
            }
            if channel + 4 <= channels {
                sweep3x3(
                    SIMD4<Float>.self, input: input, geometry: g, kernel: kernel, bias: bias, low: low, high: high,
                    output: output, outY: outY, columns: interiorStart..<interiorEnd, channel: channel)
                channel += 4
            }
            while channel < channels {
                sweep3x3(
                    SIMD1.self, input: input, geometry: g, kernel: kernel, bias: bias, low: low, high: high,
                    output: output, outY: outY, columns: interiorStart..<interiorEnd, channel: channel)
                channel += 1
            }
        }
    }

    /// One output row, channels [channel, channel + V.scalarCount), columns whose 3×3 window is inside
    /// the image: tap vectors and bias loaded once, then 9 FMAs per pixel.
    @inline(__always)
    static func sweep3x3<V: SIMD>(
        _: V.Type, input: UnsafePointer<Float>, geometry g: ConvGeometry, kernel: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, low: Float, high: Float, output: UnsafeMutablePointer<Float>,
        outY: Int, columns: Range<Int>, channel: Int
    ) where V.Scalar == Float {
        let channels = g.inputChannels
        func load(_ pointer: UnsafePointer<Float>) -> V { UnsafeRawPointer(pointer).loadUnaligned(as: V.self) }
        let tap = kernel + channel
        let w0 = load(tap)
        let w1 = load(tap + channels)
        let w2 = load(tap + 2 * channels)
        let w3 = load(tap + 3 * channels)
        let w4 = load(tap + 4 * channels)
        let w5 = load(tap + 5 * channels)
        let w6 = load(tap + 6 * channels)
        let w7 = load(tap + 7 * channels)
        let w8 = load(tap + 8 * channels)
        let initial = bias.map { load($0 + channel) } ?? V()
        let rowStride = g.inputWidth * channels
        let columnStride = g.strideWidth * channels
        let firstY = outY * g.strideHeight - g.padding.top
        var row0 =
            input + (firstY * g.inputWidth + columns.lowerBound * g.strideWidth - g.padding.left) * channels + channel
        var out = output + (outY * g.outputWidth + columns.lowerBound) * channels + channel
        for _ in columns {
            let row1 = row0 + rowStride
            let row2 = row1 + rowStride
            var sum = initial
            sum.addProduct(load(row0), w0)
            sum.addProduct(load(row0 + channels), w1)
            sum.addProduct(load(row0 + 2 * channels), w2)
            sum.addProduct(load(row1), w3)
            sum.addProduct(load(row1 + channels), w4)
            sum.addProduct(load(row1 + 2 * channels), w5)
            sum.addProduct(load(row2), w6)
            sum.addProduct(load(row2 + channels), w7)
            sum.addProduct(load(row2 + 2 * channels), w8)
            sum = Lanes.clamp(sum, low, high)
            UnsafeMutableRawPointer(out).storeBytes(of: sum, as: V.self)
            row0 += columnStride
            out += channels
        }
    }

    /// Whether a 3×3 layer takes the channel-inner path (`wideRow3x3`): C a multiple of 8 and at least 64 (either
    /// stride). Row sweeps keep a channel block's taps in registers across a row, but the
    /// pixels of one block lie C · 4 B apart, so with many channels one sweep's loads crowd a few L1 sets
    /// (C = 512: two sets; 1024: one) and stall; channel-inner loops read every pixel contiguously. Measured
    /// per 8-channel pixel (Zen 3, standalone; row sweep → channel-inner): [14,14,512] 30.7 → 15.7 cycles,
    /// [7,7,1024] 53.4 → 36.9, [28,28,256] 18.5 → 12.8, [14,14,128] 16.6 → 11.2, [56,56,128] 15.4 → 12.0,
    /// [28,28,64] 14.8 → 13.3, [14,14,256]/2 24.9 → 17.8, [14,14,128]/2 16.3 → 14.9; fewer channels lose
    /// ([112,112,8] 11.3 → 19.1, [56,56,32] 12.1 → 13.6). With 64-byte-aligned buffers and rows in pairs
    /// (`wideRowPair3x3`) stride 2 wins from 64 channels: [112,112,64]/2 15.3 → 14.6 cycles, [112,112,96]/2
    /// 15.5 → 14.2, [28,28,64]/2 (v1 0.25's conv_dw_6; it lost before) 15.3 → 14.7, while [56,56,32]/2 still
    /// loses (12.6 → 16.4). Rows go to threads in pairs: 7 rows on 3 threads wait for 4, not 3 (the daemon runs
    /// 1 thread; at 2, 7 rows are 2 + 2 pairs either way).
    static func takesWideRows(_ g: ConvGeometry) -> Bool {
        let channels = g.inputChannels
        return g.kernelHeight == 3 && g.kernelWidth == 3 && channels % 8 == 0 && channels <= zeroVectorCount
            && channels >= 64
    }
    /// Zeros standing in for input pixels outside the image (taps read them instead of branching); the wide
    /// path takes C ≤ this. Allocated once per process, never written.
    static let zeroVectorCount = 16384
    nonisolated(unsafe) static let zeroVector: UnsafePointer<Float> = {
        let zeros = allocateAligned(floats: zeroVectorCount)
        zeros.initialize(repeating: 0, count: zeroVectorCount)
        return UnsafePointer(zeros)
    }()

    /// One output row of a 3×3 depthwise convolution with many channels (C a multiple of 8), channel-inner:
    /// pixels whose window lies inside the image go two at a time (the 9 tap vectors of a channel block shared by
    /// both, stride 1 also sharing their 6 common inputs); every other pixel reads `zeroVector` for the taps
    /// outside the image. Tap t = 3·ky + kx reads input[(y + ky)·W + x + kx] · kernel[t · C + c], the reference's
    /// order, so the sums equal `pixel`'s except that an outside tap adds 0 · w (= ±0, no change).
    @inline(never)
    static func wideRow3x3(
        input: UnsafePointer<Float>, geometry g: ConvGeometry, kernel: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, low: Float, high: Float, output: UnsafeMutablePointer<Float>, outY: Int,
        interior: Range<Int>, columns: Range<Int>? = nil
    ) {
        let channels = g.inputChannels
        let firstY = outY * g.strideHeight - g.padding.top
        let rowsInside = firstY >= 0 && firstY + 3 <= g.inputHeight
        let pairColumns = rowsInside ? interior : interior.lowerBound..<interior.lowerBound
        let zeros = zeroVector  // once per row, not per tap
        let columns = columns ?? 0..<g.outputWidth
        var outX = columns.lowerBound
        while outX < columns.upperBound {
            if pairColumns.contains(outX) && outX + 1 < min(pairColumns.upperBound, columns.upperBound) {
                let first = input + (firstY * g.inputWidth + outX * g.strideWidth - g.padding.left) * channels
                let out = output + (outY * g.outputWidth + outX) * channels
                if g.strideWidth == 1 {
                    widePair3x3(
                        strideOne: true, first: first, rowFloats: g.inputWidth * channels, columnFloats: channels,
                        channels: channels, kernel: kernel, bias: bias, low: low, high: high, output: out)
                } else {
                    widePair3x3(
                        strideOne: false, first: first, rowFloats: g.inputWidth * channels,
                        columnFloats: g.strideWidth * channels, channels: channels, kernel: kernel, bias: bias,
                        low: low, high: high, output: out)
                }
                outX += 2
                continue
            }
            // One pixel: each tap's input pixel, or the zero vector where the tap falls outside the image.
            let firstX = outX * g.strideWidth - g.padding.left
            @inline(__always) func tap(_ ky: Int, _ kx: Int) -> UnsafePointer<Float> {
                let y = firstY + ky
                let x = firstX + kx
                let inside = y >= 0 && y < g.inputHeight && x >= 0 && x < g.inputWidth
                return inside ? input + (y * g.inputWidth + x) * channels : zeros
            }
            let taps = (
                tap(0, 0), tap(0, 1), tap(0, 2), tap(1, 0), tap(1, 1), tap(1, 2), tap(2, 0), tap(2, 1), tap(2, 2)
            )
            widePixel3x3(
                taps: taps, channels: channels, kernel: kernel, bias: bias, low: low, high: high,
                output: output + (outY * g.outputWidth + outX) * channels)
            outX += 1
        }
    }

    /// Two output rows (outY, outY + 1) whose windows both lie inside the image vertically: interior pixels in
    /// 2×2 quads (`wideQuad3x3`), border columns and an odd interior column through `wideRow3x3`. A quad loads a
    /// channel block's 9 tap vectors once for four pixels and keeps four FMA chains in flight; per 8-channel
    /// pixel (Zen 3, standalone, aligned buffers; pairs → quads) [56,56,144] 11.2 → 8.7 cycles, [28,28,192]
    /// 11.3 → 9.3, [14,14,384] 12.0 → 10.5, [14,14,576] 14.4 → 11.8, [28,28,128] 11.2 → 9.2.
    @inline(never)
    static func wideRowPair3x3(
        input: UnsafePointer<Float>, geometry g: ConvGeometry, kernel: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, low: Float, high: Float, output: UnsafeMutablePointer<Float>, outY: Int,
        interior: Range<Int>
    ) {
        let channels = g.inputChannels
        let firstY = outY * g.strideHeight - g.padding.top
        let quadEnd = interior.lowerBound + (interior.count / 2) * 2
        for y in outY...(outY + 1) {
            wideRow3x3(
                input: input, geometry: g, kernel: kernel, bias: bias, low: low, high: high, output: output,
                outY: y, interior: interior, columns: 0..<interior.lowerBound)
            wideRow3x3(
                input: input, geometry: g, kernel: kernel, bias: bias, low: low, high: high, output: output,
                outY: y, interior: interior, columns: quadEnd..<g.outputWidth)
        }
        var outX = interior.lowerBound
        while outX < quadEnd {
            let first = input + (firstY * g.inputWidth + outX * g.strideWidth - g.padding.left) * channels
            let out = output + (outY * g.outputWidth + outX) * channels
            if g.strideWidth == 1 {
                wideQuad3x3(
                    strideOne: true, first: first, rowFloats: g.inputWidth * channels,
                    downFloats: g.strideHeight * g.inputWidth * channels, columnFloats: channels,
                    channels: channels, kernel: kernel, bias: bias, low: low, high: high, output: out,
                    outputRowFloats: g.outputWidth * channels)
            } else {
                wideQuad3x3(
                    strideOne: false, first: first, rowFloats: g.inputWidth * channels,
                    downFloats: g.strideHeight * g.inputWidth * channels, columnFloats: g.strideWidth * channels,
                    channels: channels, kernel: kernel, bias: bias, low: low, high: high, output: out,
                    outputRowFloats: g.outputWidth * channels)
            }
            outX += 2
        }
    }

    /// All channels of a 2×2 block of output pixels whose windows lie inside the image: `first` is the top-left
    /// pixel's top-left input; the right pixels start `columnFloats` (stride · C) later, the bottom ones
    /// `downFloats` (stride · W · C) lower; output rows are `outputRowFloats` apart. Each pixel's taps run in the
    /// reference's order from the bias, so a quad's sums equal `widePair3x3`'s and `pixel`'s.
    @inline(__always)
    static func wideQuad3x3(
        strideOne: Bool, first: UnsafePointer<Float>, rowFloats: Int, downFloats: Int, columnFloats: Int,
        channels: Int, kernel: UnsafePointer<Float>, bias: UnsafePointer<Float>?, low: Float, high: Float,
        output: UnsafeMutablePointer<Float>, outputRowFloats: Int
    ) {
        @inline(__always) func load(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> {
            UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
        }
        // Stride 1: `top + step` is literally `top + channels`, so LLVM loads the right pixels' shared inputs once.
        let step = strideOne ? channels : columnFloats
        var channel = 0
        while channel < channels {
            let w = kernel + channel
            let initial = bias.map { load($0 + channel) } ?? SIMD8()
            var a = initial
            var b = initial
            var c = initial
            var d = initial
            for ky in 0..<3 {
                let k0 = load(w + (3 * ky) * channels)
                let k1 = load(w + (3 * ky + 1) * channels)
                let k2 = load(w + (3 * ky + 2) * channels)
                let top = first + ky * rowFloats + channel
                let bottom = top + downFloats
                a.addProduct(load(top), k0)
                a.addProduct(load(top + channels), k1)
                a.addProduct(load(top + 2 * channels), k2)
                b.addProduct(load(top + step), k0)
                b.addProduct(load(top + step + channels), k1)
                b.addProduct(load(top + step + 2 * channels), k2)
                c.addProduct(load(bottom), k0)
                c.addProduct(load(bottom + channels), k1)
                c.addProduct(load(bottom + 2 * channels), k2)
                d.addProduct(load(bottom + step), k0)
                d.addProduct(load(bottom + step + channels), k1)
                d.addProduct(load(bottom + step + 2 * channels), k2)
            }
            let out = output + channel
            UnsafeMutableRawPointer(out).storeBytes(of: Lanes.clamp(a, low, high), as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(out + channels).storeBytes(of: Lanes.clamp(b, low, high), as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(out + outputRowFloats).storeBytes(
                of: Lanes.clamp(c, low, high), as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(out + outputRowFloats + channels).storeBytes(
                of: Lanes.clamp(d, low, high), as: SIMD8<Float>.self)
            channel += 8
        }
    }

    /// All channels of one output pixel from its 9 tap pointers (input pixels or `zeroVector`), 8 at a time.
    @inline(__always)
    static func widePixel3x3(
        taps: (
            UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>,
            UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>,
            UnsafePointer<Float>
        ),
        channels: Int, kernel: UnsafePointer<Float>, bias: UnsafePointer<Float>?, low: Float, high: Float,
        output: UnsafeMutablePointer<Float>
    ) {
        @inline(__always) func load(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> {
            UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
        }
        var channel = 0
        while channel < channels {
            let w = kernel + channel
            var sum = bias.map { load($0 + channel) } ?? SIMD8()
            sum.addProduct(load(taps.0 + channel), load(w))
            sum.addProduct(load(taps.1 + channel), load(w + channels))
            sum.addProduct(load(taps.2 + channel), load(w + 2 * channels))
            sum.addProduct(load(taps.3 + channel), load(w + 3 * channels))
            sum.addProduct(load(taps.4 + channel), load(w + 4 * channels))
            sum.addProduct(load(taps.5 + channel), load(w + 5 * channels))
            sum.addProduct(load(taps.6 + channel), load(w + 6 * channels))
            sum.addProduct(load(taps.7 + channel), load(w + 7 * channels))
            sum.addProduct(load(taps.8 + channel), load(w + 8 * channels))
            UnsafeMutableRawPointer(output + channel).storeBytes(of: Lanes.clamp(sum, low, high), as: SIMD8<Float>.self)
            channel += 8
        }
    }

    /// All channels of two neighbouring output pixels whose windows lie inside the image: `first` is the left
    /// pixel's top-left input, the right one's starts `columnFloats` (stride · C) later; with `strideOne` the 6
    /// inputs the windows share are loaded once.
    @inline(__always)
    static func widePair3x3(
        strideOne: Bool, first: UnsafePointer<Float>, rowFloats: Int, columnFloats: Int, channels: Int,
        kernel: UnsafePointer<Float>, bias: UnsafePointer<Float>?, low: Float, high: Float,
        output: UnsafeMutablePointer<Float>
    ) {
        @inline(__always) func load(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> {
            UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
        }
        let step = columnFloats
        var channel = 0
        while channel < channels {
            let w = kernel + channel
            let initial = bias.map { load($0 + channel) } ?? SIMD8()
            var left = initial
            var right = initial
            for ky in 0..<3 {
                let row = first + ky * rowFloats + channel
                let k0 = load(w + (3 * ky) * channels)
                let k1 = load(w + (3 * ky + 1) * channels)
                let k2 = load(w + (3 * ky + 2) * channels)
                let x0 = load(row)
                let x1 = load(row + channels)
                let x2 = load(row + 2 * channels)
                left.addProduct(x0, k0)
                left.addProduct(x1, k1)
                left.addProduct(x2, k2)
                if strideOne {
                    right.addProduct(x1, k0)
                    right.addProduct(x2, k1)
                    right.addProduct(load(row + 3 * channels), k2)
                } else {
                    right.addProduct(load(row + step), k0)
                    right.addProduct(load(row + step + channels), k1)
                    right.addProduct(load(row + step + 2 * channels), k2)
                }
            }
            UnsafeMutableRawPointer(output + channel).storeBytes(
                of: Lanes.clamp(left, low, high), as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(output + channels + channel).storeBytes(
                of: Lanes.clamp(right, low, high), as: SIMD8<Float>.self)
            channel += 8
        }
    }

    /// All channels of one output pixel, skipping taps outside the image (any kernel size).
    @inline(__always)
    static func pixel(
        input: UnsafePointer<Float>, geometry g: ConvGeometry, kernel: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, low: Float, high: Float, output: UnsafeMutablePointer<Float>, outY: Int, outX: Int
    ) {
        let channels = g.inputChannels
        var channel = 0
        while channel + 16 <= channels {
            pixelBlock(
                SIMD16<Float>.self, input: input, geometry: g, kernel: kernel, bias: bias, low: low, high: high,
                output: output, outY: outY, outX: outX, channel: channel)
            channel += 16
        }
        if channel + 8 <= channels {
            pixelBlock(
                SIMD8<Float>.self, input: input, geometry: g, kernel: kernel, bias: bias, low: low, high: high,
                output: output, outY: outY, outX: outX, channel: channel)
            channel += 8
        }
        if channel + 4 <= channels {
            pixelBlock(
                SIMD4<Float>.self, input: input, geometry: g, kernel: kernel, bias: bias, low: low, high: high,
                output: output, outY: outY, outX: outX, channel: channel)
            channel += 4
        }
        while channel < channels {
            pixelBlock(
                SIMD1.self, input: input, geometry: g, kernel: kernel, bias: bias, low: low, high: high,
                output: output, outY: outY, outX: outX, channel: channel)
            channel += 1
        }
    }

    /// Channels [channel, channel + V.scalarCount) of one output pixel; taps outside the image skipped.
    @inline(__always)
    static func pixelBlock<V: Swift.SIMD>(
        _: V.Type, input: UnsafePointer<Float>, geometry g: ConvGeometry, kernel: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, low: Float, high: Float, output: UnsafeMutablePointer<Float>,
        outY: Int, outX: Int, channel: Int
    ) where V.Scalar == Float {
        let channels = g.inputChannels
        func load(_ pointer: UnsafePointer<Float>) -> V { UnsafeRawPointer(pointer).loadUnaligned(as: V.self) }
        let firstY = outY * g.strideHeight - g.padding.top
        let firstX = outX * g.strideWidth - g.padding.left
        // Kernel rows/columns that land inside the image.
        let kernelYStart = max(0, -firstY)
        let kernelYEnd = max(kernelYStart, min(g.kernelHeight, g.inputHeight - firstY))
        let kernelXStart = max(0, -firstX)
        let kernelXEnd = max(kernelXStart, min(g.kernelWidth, g.inputWidth - firstX))
        var sum = bias.map { load($0 + channel) } ?? V()
        for kernelY in kernelYStart..<kernelYEnd {
            let row = input + ((firstY + kernelY) * g.inputWidth + firstX) * channels + channel
            let weights = kernel + kernelY * g.kernelWidth * channels + channel
            for kernelX in kernelXStart..<kernelXEnd {
                sum.addProduct(load(row + kernelX * channels), load(weights + kernelX * channels))
            }
        }
        sum = Lanes.clamp(sum, low, high)
        UnsafeMutableRawPointer(output + (outY * g.outputWidth + outX) * channels + channel).storeBytes(
            of: sum, as: V.self)
    }
}
