// Conv2D: a full 2-D convolution over an NHWC image (batch 1), in two twins.
// - `reference`: seven nested loops straight from the definition; the ground truth in tests.
// - `im2colGEMM`: unfold input patches into rows (im2col) and multiply by the HWIO kernel seen as a
//   [KH·KW·C, F] matrix with GEMM; a 1×1/stride-1 window skips the unfold (pointwise = GEMM).
// - `directSIMD`: for few input channels (the RGB stem, C = 3), where im2col rows are short and the
//   GEMM tile mostly empty: per output pixel, every tap broadcasts one input scalar against a
//   contiguous vector of F filter weights (HWIO keeps filters innermost), 16/8/4 filters at a time.
// All fuse bias and a clamp activation (linear, relu, relu6) into the write.
// Legend: H W C input, KH KW kernel, F filters (output channels), OH OW output, P = OH·OW pixels.

/// Full 2-D convolution kernels (reference and fast twins).
public enum Conv2D {
    /// Plain definition: input [H, W, C], kernel [KH, KW, C, F], bias [F] or nil → output [OH, OW, F].
    public static func reference(
        input: UnsafePointer<Float>, geometry g: ConvGeometry, kernel: UnsafePointer<Float>, filters: Int,
        bias: UnsafePointer<Float>?, clamp: (low: Float, high: Float), output: UnsafeMutablePointer<Float>
    ) {
        for outY in 0..<g.outputHeight {
            for outX in 0..<g.outputWidth {
                for filter in 0..<filters {
                    var sum: Float = bias?[filter] ?? 0
                    for kernelY in 0..<g.kernelHeight {
                        let inY = outY * g.strideHeight - g.padding.top + kernelY
                        if inY < 0 || inY >= g.inputHeight { continue }
                        for kernelX in 0..<g.kernelWidth {
                            let inX = outX * g.strideWidth - g.padding.left + kernelX
                            if inX < 0 || inX >= g.inputWidth { continue }
                            for channel in 0..<g.inputChannels {
                                let x = input[(inY * g.inputWidth + inX) * g.inputChannels + channel]
                                let w = kernel[
                                    ((kernelY * g.kernelWidth + kernelX) * g.inputChannels + channel) * filters + filter
                                ]
                                sum += x * w
                            }
                        }
                    }
                    output[(outY * g.outputWidth + outX) * filters + filter] = min(max(sum, clamp.low), clamp.high)
                }
            }
        }
    }

    /// Direct twin for small C: input [H, W, C], kernel [KH, KW, C, F], bias [F] → output [OH, OW, F].
    /// Interior pixels go four at a time (four independent accumulators share each weight load, so the
    /// FMA chain is not latency-bound); border pixels skip taps outside the image, one at a time.
    public static func directSIMD(
        input: UnsafePointer<Float>, geometry g: ConvGeometry, kernel: UnsafePointer<Float>, filters: Int,
        bias: UnsafePointer<Float>?, clamp: (low: Float, high: Float), output: UnsafeMutablePointer<Float>,
        threads: Int = 1
    ) {
        let low = clamp.low
        let high = clamp.high
        // Output columns [interiorStart, interiorEnd) have their whole window inside the image.
        let interiorStart = min(g.outputWidth, (g.padding.left + g.strideWidth - 1) / g.strideWidth)
        let interiorEnd = max(
            interiorStart,
            min(g.outputWidth, (g.inputWidth - g.kernelWidth + g.padding.left) / g.strideWidth + 1))
        parallelFor(g.outputHeight, threads: threads) { outY in
            let firstY = outY * g.strideHeight - g.padding.top
            let rowInside = firstY >= 0 && firstY + g.kernelHeight <= g.inputHeight
            var outX = 0
            while outX < g.outputWidth {
                if rowInside && outX >= interiorStart && outX + 4 <= interiorEnd {
                    var filter = 0
                    while filter + 16 <= filters {
                        directQuad(
                            SIMD16<Float>.self, input: input, geometry: g, kernel: kernel, filters: filters,
                            bias: bias, low: low, high: high, output: output, outY: outY, outX: outX, filter: filter)
                        filter += 16
                    }
                    while filter + 8 <= filters {
                        directQuad(
                            SIMD8<Float>.self, input: input, geometry: g, kernel: kernel, filters: filters,
                            bias: bias, low: low, high: high, output: output, outY: outY, outX: outX, filter: filter)
                        filter += 8
                    }
                    while filter < filters {
                        directQuad(
                            SIMD1.self, input: input, geometry: g, kernel: kernel, filters: filters,
                            bias: bias, low: low, high: high, output: output, outY: outY, outX: outX, filter: filter)
                        filter += 1
                    }
                    outX += 4
                } else {
                    directPixel(
                        input: input, geometry: g, kernel: kernel, filters: filters, bias: bias, low: low,
                        high: high, output: output, outY: outY, outX: outX)
                    outX += 1
                }
            }
        }
    }

    /// Four interior output pixels (outX…outX+3), filters [filter, filter + V.scalarCount).
    @inline(__always)
    static func directQuad<V: Swift.SIMD>(
        _: V.Type, input: UnsafePointer<Float>, geometry g: ConvGeometry, kernel: UnsafePointer<Float>, filters: Int,
        bias: UnsafePointer<Float>?, low: Float, high: Float, output: UnsafeMutablePointer<Float>,
        outY: Int, outX: Int, filter: Int
    ) where V.Scalar == Float {
        let channels = g.inputChannels
        let pixelStep = g.strideWidth * channels
        let initial = bias.map { UnsafeRawPointer($0 + filter).loadUnaligned(as: V.self) } ?? V()
        var sum0 = initial
        var sum1 = initial
        var sum2 = initial
        var sum3 = initial
        let firstY = outY * g.strideHeight - g.padding.top
        let firstX = outX * g.strideWidth - g.padding.left
        for kernelY in 0..<g.kernelHeight {
            let row = input + ((firstY + kernelY) * g.inputWidth + firstX) * channels
            var weights = kernel + kernelY * g.kernelWidth * channels * filters + filter
            for tap in 0..<(g.kernelWidth * channels) {  // kernelX and channel flattened: both contiguous
                let w = UnsafeRawPointer(weights).loadUnaligned(as: V.self)
                sum0.addProduct(V(repeating: row[tap]), w)
                sum1.addProduct(V(repeating: row[tap + pixelStep]), w)
                sum2.addProduct(V(repeating: row[tap + 2 * pixelStep]), w)
                sum3.addProduct(V(repeating: row[tap + 3 * pixelStep]), w)
                weights += filters
            }
        }
        let out = output + (outY * g.outputWidth + outX) * filters + filter
        sum0 = Lanes.clamp(sum0, low, high)
        sum1 = Lanes.clamp(sum1, low, high)
        sum2 = Lanes.clamp(sum2, low, high)
        sum3 = Lanes.clamp(sum3, low, high)
        UnsafeMutableRawPointer(out).storeBytes(of: sum0, as: V.self)
        UnsafeMutableRawPointer(out + filters).storeBytes(of: sum1, as: V.self)
        UnsafeMutableRawPointer(out + 2 * filters).storeBytes(of: sum2, as: V.self)
        UnsafeMutableRawPointer(out + 3 * filters).storeBytes(of: sum3, as: V.self)
    }

    /// One output pixel, all filters, taps outside the image skipped (scalar; border pixels only).
    static func directPixel(
        input: UnsafePointer<Float>, geometry g: ConvGeometry, kernel: UnsafePointer<Float>, filters: Int,
        bias: UnsafePointer<Float>?, low: Float, high: Float, output: UnsafeMutablePointer<Float>, outY: Int, outX: Int
    ) {
        let channels = g.inputChannels
        let firstY = outY * g.strideHeight - g.padding.top
        let firstX = outX * g.strideWidth - g.padding.left
        let kernelYStart = max(0, -firstY)
        let kernelYEnd = max(kernelYStart, min(g.kernelHeight, g.inputHeight - firstY))
        let kernelXStart = max(0, -firstX)
        let kernelXEnd = max(kernelXStart, min(g.kernelWidth, g.inputWidth - firstX))
        let out = output + (outY * g.outputWidth + outX) * filters
        for filter in 0..<filters { out[filter] = bias?[filter] ?? 0 }
        for kernelY in kernelYStart..<kernelYEnd {
            for kernelX in kernelXStart..<kernelXEnd {
                let pixel = input + ((firstY + kernelY) * g.inputWidth + firstX + kernelX) * channels
                let weights = kernel + ((kernelY * g.kernelWidth + kernelX) * channels) * filters
                for channel in 0..<channels {
                    let x = pixel[channel]
                    for filter in 0..<filters { out[filter] += x * weights[channel * filters + filter] }
                }
            }
        }
        for filter in 0..<filters { out[filter] = Lanes.clamp(out[filter], low, high) }
    }

    /// Whether `directSIMD` beats im2col + GEMM for this window: few input channels, not pointwise.
    public static func prefersDirect(_ geometry: ConvGeometry) -> Bool {
        !geometry.isPointwise && geometry.inputChannels <= 4
    }

    /// Scratch floats `im2colGEMM` needs for `geometry` (0 for a pointwise window).
    public static func scratchCount(_ geometry: ConvGeometry) -> Int {
        geometry.isPointwise ? 0 : geometry.outputPixels * geometry.patchLength
    }

    /// Fast twin: im2col (skipped for pointwise) + sgemm [P, KH·KW·C] × [KH·KW·C, F] + fused bias/clamp.
    /// `scratch` holds `scratchCount(geometry)` floats; `gemm` multiplies (see `GEMM`).
    public static func im2colGEMM(
        input: UnsafePointer<Float>, geometry g: ConvGeometry, kernel: GEMMWeights,
        bias: UnsafePointer<Float>?, clamp: (low: Float, high: Float),
        output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, threads: Int = 1
    ) {
        let patches: UnsafePointer<Float>
        if g.isPointwise {
            patches = input  // [P, C] already
        } else {
            im2col(input: input, geometry: g, patches: scratch, threads: threads)
            patches = UnsafePointer(scratch)  // [P, KH·KW·C]
        }
        GEMM.multiply(
            rows: g.outputPixels, a: patches, weights: kernel, bias: bias, clamp: clamp, c: output, threads: threads)
    }

    /// Unfolds input [H, W, C] into patches [OH·OW, KH·KW·C], zero where the window leaves the image.
    public static func im2col(
        input: UnsafePointer<Float>, geometry g: ConvGeometry,
        patches: UnsafeMutablePointer<Float>, threads: Int = 1
    ) {
        let channels = g.inputChannels
        parallelFor(g.outputHeight, threads: threads) { outY in
            for outX in 0..<g.outputWidth {
                var row = patches + (outY * g.outputWidth + outX) * g.patchLength
                for kernelY in 0..<g.kernelHeight {
                    let inY = outY * g.strideHeight - g.padding.top + kernelY
                    let rowInside = inY >= 0 && inY < g.inputHeight
                    let baseX = outX * g.strideWidth - g.padding.left
                    if rowInside && baseX >= 0 && baseX + g.kernelWidth <= g.inputWidth {
                        // Whole kernel row inside: one contiguous copy of KW·C floats.
                        row.update(
                            from: input + (inY * g.inputWidth + baseX) * channels, count: g.kernelWidth * channels)
                        row += g.kernelWidth * channels
                        continue
                    }
                    for kernelX in 0..<g.kernelWidth {
                        let inX = baseX + kernelX
                        if rowInside && inX >= 0 && inX < g.inputWidth {
                            row.update(from: input + (inY * g.inputWidth + inX) * channels, count: channels)
                        } else {
                            row.update(repeating: 0, count: channels)
                        }
                        row += channels
                    }
                }
            }
        }
    }
}
