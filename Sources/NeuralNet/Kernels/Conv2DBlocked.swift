// Conv2DBlocked: the register-blocked direct twin of `Conv2D.reference` for few input channels (the RGB
// stem: 3×3/2 over C = 3). Filters sit in SIMD lanes (HWIO keeps F innermost, so one tap's weights are
// one contiguous vector) and eight output pixels share each weight load: eight independent FMA chains
// per tap, enough to hide the FMA latency that bound the four-pixel kernel it replaced (≈ 50 % of peak).
// Rows partly outside the image (top/bottom padding) stay in the blocked path with their kernel rows
// trimmed; blocks store raw sums and the row's interior is clamped in place in one pass; only columns whose window leaves the image take the per-pixel path, which is vectorised
// over filters too. AVX-512 builds use 16-lane blocks; AVX2 builds 8-lane ones (8 × 16 lanes would
// need 16 ymm accumulators, every register).
// Legend: H W C input, KH KW kernel, F filters (output channels), OH OW output.

extension Conv2D {
    /// Output pixels per register block of `directBlocked`.
    static let blockPixels = 8

    /// Register-blocked direct twin of `reference` (same arguments); rows are split over `threads`.
    public static func directBlocked(
        input: UnsafePointer<Float>, geometry g: ConvGeometry, kernel: UnsafePointer<Float>, filters: Int,
        bias: UnsafePointer<Float>?, clamp: (low: Float, high: Float), output: UnsafeMutablePointer<Float>,
        threads: Int = 1
    ) {
        let low = clamp.low
        let high = clamp.high
        // Output columns [interiorStart, interiorEnd) have their whole window inside the image horizontally.
        let interiorStart = min(g.outputWidth, (g.padding.left + g.strideWidth - 1) / g.strideWidth)
        let interiorEnd = max(
            interiorStart,
            min(g.outputWidth, (g.inputWidth - g.kernelWidth + g.padding.left) / g.strideWidth + 1))
        parallelFor(g.outputHeight, threads: threads) { outY in
            let firstY = outY * g.strideHeight - g.padding.top
            let kernelRows = max(0, -firstY)..<max(max(0, -firstY), min(g.kernelHeight, g.inputHeight - firstY))
            let row = BlockedRow(
                input: input, geometry: g, kernel: kernel, filters: filters, bias: bias, low: low, high: high,
                output: output, outY: outY, kernelRows: kernelRows, interior: interiorStart..<interiorEnd)
            var filter = 0
            #if GESTUREPAD_CPU_SKYLAKE_AVX512
                while filter + 16 <= filters {
                    row.sweep(SIMD16<Float>.self, filter: filter)
                    filter += 16
                }
            #endif
            while filter + 8 <= filters {
                row.sweep(SIMD8<Float>.self, filter: filter)
                filter += 8
            }
            if filter + 4 <= filters {
                row.sweep(SIMD4<Float>.self, filter: filter)
                filter += 4
            }
            while filter < filters {
                row.sweep(SIMD1.self, filter: filter)
                filter += 1
            }
            // The blocks store raw sums: clamp the row's interior once, in place (border pixels clamp themselves).
            Lanes.clamp(
                output + (outY * g.outputWidth + interiorStart) * filters,
                count: (interiorEnd - interiorStart) * filters, low, high)
        }
    }
}

/// One output row of `Conv2D.directBlocked`: the arguments it shares across filter blocks.
private struct BlockedRow {
    let input: UnsafePointer<Float>
    let geometry: ConvGeometry
    let kernel: UnsafePointer<Float>
    let filters: Int
    let bias: UnsafePointer<Float>?
    let low: Float
    let high: Float
    let output: UnsafeMutablePointer<Float>
    let outY: Int
    /// Kernel rows that land inside the image for this output row.
    let kernelRows: Range<Int>
    /// Output columns whose window is inside the image horizontally.
    let interior: Range<Int>

    /// Filters [filter, filter + V.scalarCount) of the whole row: border columns one at a time, interior
    /// columns eight at a time, the interior tail one at a time.
    @inline(__always)
    func sweep<V: SIMD>(_: V.Type, filter: Int) where V.Scalar == Float {
        for outX in 0..<interior.lowerBound { pixel(V.self, outX: outX, filter: filter) }
        var outX = interior.lowerBound
        while outX + Conv2D.blockPixels <= interior.upperBound {
            block(V.self, outX: outX, filter: filter)
            outX += Conv2D.blockPixels
        }
        while outX < geometry.outputWidth {
            pixel(V.self, outX: outX, filter: filter)
            outX += 1
        }
    }

    /// Eight output pixels (outX…outX+7, window inside horizontally), filters [filter, filter + V.scalarCount).
    @inline(__always)
    func block<V: SIMD>(_: V.Type, outX: Int, filter: Int) where V.Scalar == Float {
        let g = geometry
        let channels = g.inputChannels
        let step = g.strideWidth * channels
        let initial = bias.map { UnsafeRawPointer($0 + filter).loadUnaligned(as: V.self) } ?? V()
        var sum0 = initial
        var sum1 = initial
        var sum2 = initial
        var sum3 = initial
        var sum4 = initial
        var sum5 = initial
        var sum6 = initial
        var sum7 = initial
        let firstY = outY * g.strideHeight - g.padding.top
        let firstX = outX * g.strideWidth - g.padding.left
        let taps = g.kernelWidth * channels
        for kernelY in kernelRows {
            let row = input + ((firstY + kernelY) * g.inputWidth + firstX) * channels
            var weights = kernel + kernelY * taps * filters + filter
            for tap in 0..<taps {  // kernelX and channel flattened: both contiguous
                let w = UnsafeRawPointer(weights).loadUnaligned(as: V.self)
                sum0.addProduct(V(repeating: row[tap]), w)
                sum1.addProduct(V(repeating: row[tap + step]), w)
                sum2.addProduct(V(repeating: row[tap + 2 * step]), w)
                sum3.addProduct(V(repeating: row[tap + 3 * step]), w)
                sum4.addProduct(V(repeating: row[tap + 4 * step]), w)
                sum5.addProduct(V(repeating: row[tap + 5 * step]), w)
                sum6.addProduct(V(repeating: row[tap + 6 * step]), w)
                sum7.addProduct(V(repeating: row[tap + 7 * step]), w)
                weights += filters
            }
        }
        let out = output + (outY * g.outputWidth + outX) * filters + filter
        UnsafeMutableRawPointer(out).storeBytes(of: sum0, as: V.self)
        UnsafeMutableRawPointer(out + filters).storeBytes(of: sum1, as: V.self)
        UnsafeMutableRawPointer(out + 2 * filters).storeBytes(of: sum2, as: V.self)
        UnsafeMutableRawPointer(out + 3 * filters).storeBytes(of: sum3, as: V.self)
        UnsafeMutableRawPointer(out + 4 * filters).storeBytes(of: sum4, as: V.self)
        UnsafeMutableRawPointer(out + 5 * filters).storeBytes(of: sum5, as: V.self)
        UnsafeMutableRawPointer(out + 6 * filters).storeBytes(of: sum6, as: V.self)
        UnsafeMutableRawPointer(out + 7 * filters).storeBytes(of: sum7, as: V.self)
    }

    /// One output pixel, filters [filter, filter + V.scalarCount); taps outside the image skipped.
    @inline(__always)
    func pixel<V: SIMD>(_: V.Type, outX: Int, filter: Int) where V.Scalar == Float {
        let g = geometry
        let channels = g.inputChannels
        let firstY = outY * g.strideHeight - g.padding.top
        let firstX = outX * g.strideWidth - g.padding.left
        let kernelXStart = max(0, -firstX)
        let kernelXEnd = max(kernelXStart, min(g.kernelWidth, g.inputWidth - firstX))
        var sum = bias.map { UnsafeRawPointer($0 + filter).loadUnaligned(as: V.self) } ?? V()
        for kernelY in kernelRows {
            for kernelX in kernelXStart..<kernelXEnd {
                let source = input + ((firstY + kernelY) * g.inputWidth + firstX + kernelX) * channels
                let weights = kernel + (kernelY * g.kernelWidth + kernelX) * channels * filters + filter
                for channel in 0..<channels {
                    sum.addProduct(
                        V(repeating: source[channel]),
                        UnsafeRawPointer(weights + channel * filters).loadUnaligned(as: V.self))
                }
            }
        }
        UnsafeMutableRawPointer(output + (outY * g.outputWidth + outX) * filters + filter).storeBytes(
            of: Lanes.clamp(sum, low, high), as: V.self)
    }
}
