// Conv2D: a full 2-D convolution over an NHWC image (batch 1), in two twins.
// - `reference`: seven nested loops straight from the definition; the ground truth in tests.
// - `im2colGEMM`: unfold input patches into rows (im2col) and multiply by the HWIO kernel seen as a
//   [KH·KW·C, F] matrix with GEMM; a 1×1/stride-1 window skips the unfold (pointwise = GEMM).
// - `directBlocked` (Conv2DBlocked.swift): for few input channels (the RGB stem, C = 3), where im2col
//   rows are short and the GEMM tile mostly empty: every tap broadcasts one input scalar against a
//   contiguous vector of F filter weights (HWIO keeps filters innermost), eight output pixels at a time.
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

    /// Whether `directBlocked` beats im2col + GEMM for this window: few input channels, not pointwise.
    public static func prefersDirect(_ geometry: ConvGeometry) -> Bool {
        !geometry.isPointwise && geometry.inputChannels <= 4
    }

    /// Scratch floats `im2colGEMM` needs for `geometry` (0 for a pointwise window).
    public static func scratchCount(_ geometry: ConvGeometry) -> Int {
        geometry.isPointwise ? 0 : geometry.outputPixels * geometry.patchLength
    }

    /// Fast twin: im2col (skipped for pointwise) + sgemm [P, KH·KW·C] × [KH·KW·C, F] + fused bias/clamp.
    /// `scratch` holds `scratchCount(geometry)` floats (nil for pointwise); with `skipZeros` (pointwise only, the
    /// input a ReLU output) it holds `ZeroSkipGEMM.scratchCount(rows: P, k: C)` floats for the non-zero lists.
    public static func im2colGEMM(
        input: UnsafePointer<Float>, geometry g: ConvGeometry, kernel: GEMMWeights,
        bias: UnsafePointer<Float>?, clamp: (low: Float, high: Float),
        output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>?, skipZeros: Bool = false,
        threads: Int = 1
    ) {
        let patches: UnsafePointer<Float>
        if g.isPointwise {
            patches = input  // [P, C] already
        } else {
            guard let scratch else {
                preconditionFailure("im2colGEMM needs scratch for a \(g.kernelHeight)×\(g.kernelWidth) kernel")
            }
            im2col(input: input, geometry: g, patches: scratch, threads: threads)
            patches = UnsafePointer(scratch)  // [P, KH·KW·C]
        }
        GEMM.multiply(
            rows: g.outputPixels, a: patches, weights: kernel, bias: bias, clamp: clamp, c: output, threads: threads,
            zeroSkipScratch: g.isPointwise && skipZeros ? scratch : nil)
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
