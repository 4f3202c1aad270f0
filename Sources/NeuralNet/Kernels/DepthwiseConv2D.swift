// DepthwiseConv2D (depth_multiplier 1): each channel convolved with its own KH×KW filter, NHWC.
// - `reference`: loops straight from the definition.
// - `simd`: channel-last vectorisation (as ggml's conv_2d_dw NHWC and XNNPACK dwconv): for each
//   output pixel, taps outside the image are skipped, and channels go 16 at a time, then 8, 4 and a
//   scalar tail, with bias and clamp fused into the store. Weights [KH, KW, C, 1] are read as
//   [KH·KW, C] so every tap is a contiguous channel vector. For 3×3 windows, pixels whose window
//   lies inside the image take a row sweep that keeps the 9 tap vectors and the bias of a channel
//   block in registers across the whole output row; only border pixels take the per-pixel path.
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
