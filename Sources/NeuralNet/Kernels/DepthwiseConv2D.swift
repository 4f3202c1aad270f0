// DepthwiseConv2D (depth_multiplier 1): each channel convolved with its own KH×KW filter, NHWC.
// - `reference`: loops straight from the definition.
// - `simd`: channel-last vectorisation (as ggml's conv_2d_dw NHWC and XNNPACK dwconv): for each
//   output pixel, taps outside the image are skipped, and channels go 16 at a time, then 8, 4 and a
//   scalar tail, with bias and clamp fused into the store. Weights [KH, KW, C, 1] are read as
//   [KH·KW, C] so every tap is a contiguous channel vector.
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
                            sum += input[(inY * g.inputWidth + inX) * channels + channel]
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
        parallelFor(g.outputHeight, threads: threads) { outY in
            let firstY = outY * g.strideHeight - g.padding.top
            // Kernel rows that land inside the image: [kernelYStart, kernelYEnd).
            let kernelYStart = max(0, -firstY), kernelYEnd = min(g.kernelHeight, g.inputHeight - firstY)
            for outX in 0..<g.outputWidth {
                let firstX = outX * g.strideWidth - g.padding.left
                let kernelXStart = max(0, -firstX), kernelXEnd = min(g.kernelWidth, g.inputWidth - firstX)
                let out = output + (outY * g.outputWidth + outX) * channels
                var channel = 0
                // 16 channels at a time.
                while channel + 16 <= channels {
                    var sum = bias.map { SIMD.load16($0 + channel) } ?? SIMD16<Float>()
                    for kernelY in kernelYStart..<max(kernelYStart, kernelYEnd) {
                        let row = input + ((firstY + kernelY) * g.inputWidth + firstX) * channels + channel
                        let weights = kernel + kernelY * g.kernelWidth * channels + channel
                        for kernelX in kernelXStart..<max(kernelXStart, kernelXEnd) {
                            sum.addProduct(SIMD.load16(row + kernelX * channels), SIMD.load16(weights + kernelX * channels))
                        }
                    }
                    sum = SIMD.clamp(sum, clamp.low, clamp.high)
                    SIMD.store16(sum, out + channel)
                    channel += 16
                }
                // 8 and 4 channel tails.
                if channel + 8 <= channels {
                    var sum = bias.map { SIMD.load8($0 + channel) } ?? SIMD8<Float>()
                    for kernelY in kernelYStart..<max(kernelYStart, kernelYEnd) {
                        let row = input + ((firstY + kernelY) * g.inputWidth + firstX) * channels + channel
                        let weights = kernel + kernelY * g.kernelWidth * channels + channel
                        for kernelX in kernelXStart..<max(kernelXStart, kernelXEnd) {
                            sum.addProduct(SIMD.load8(row + kernelX * channels), SIMD.load8(weights + kernelX * channels))
                        }
                    }
                    sum = SIMD.clamp(sum, clamp.low, clamp.high)
                    SIMD.store8(sum, out + channel)
                    channel += 8
                }
                if channel + 4 <= channels {
                    var sum = bias.map { SIMD.load4($0 + channel) } ?? SIMD4<Float>()
                    for kernelY in kernelYStart..<max(kernelYStart, kernelYEnd) {
                        let row = input + ((firstY + kernelY) * g.inputWidth + firstX) * channels + channel
                        let weights = kernel + kernelY * g.kernelWidth * channels + channel
                        for kernelX in kernelXStart..<max(kernelXStart, kernelXEnd) {
                            sum.addProduct(SIMD.load4(row + kernelX * channels), SIMD.load4(weights + kernelX * channels))
                        }
                    }
                    sum = SIMD.clamp(sum, clamp.low, clamp.high)
                    SIMD.store4(sum, out + channel)
                    channel += 4
                }
                // Scalar tail (C mod 4).
                while channel < channels {
                    var sum: Float = bias?[channel] ?? 0
                    for kernelY in kernelYStart..<max(kernelYStart, kernelYEnd) {
                        for kernelX in kernelXStart..<max(kernelXStart, kernelXEnd) {
                            sum += input[((firstY + kernelY) * g.inputWidth + firstX + kernelX) * channels + channel]
                                * kernel[(kernelY * g.kernelWidth + kernelX) * channels + channel]
                        }
                    }
                    out[channel] = SIMD.clamp(sum, clamp.low, clamp.high)
                    channel += 1
                }
            }
        }
    }
}
