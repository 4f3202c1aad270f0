// Conv2DBlocked: the register-blocked direct twin of `Conv2D.reference` for few input channels (the RGB
// stem: 3×3/2 over C = 3). Filters sit in SIMD lanes (HWIO keeps F innermost, so one tap's weights are
// one contiguous vector) and eight output pixels share each weight load: eight independent FMA chains
// per tap, enough to hide the FMA latency that bound the four-pixel kernel it replaced (≈ 50 % of peak).
// Rows partly outside the image (top/bottom padding) stay in the blocked path with their kernel rows
// trimmed; every block clamps as it stores (a second pass over the row cost 0.04 ms of v2's 0.35 ms stem); only
// columns whose window leaves the image take the per-pixel path, which is vectorised over filters too. AVX-512 builds use 16-lane blocks; AVX2 builds 8-lane ones (8 × 16 lanes would
// need 16 ymm accumulators, every register); there sixteen filters go as two 8-lane halves over six pixels
// (twelve accumulators, two weight loads and six broadcasts per twelve FMAs). With F = 8 (the v1 0.25 stem) AVX-512 builds, which have 32
// vector registers, take sixteen pixels of eight lanes per block. A row's interior tail is one overlapping
// block rather than lone pixels (a lone pixel is one FMA chain).
// Legend: H W C input, KH KW kernel, F filters (output channels), OH OW output.

extension Conv2D {
    /// Output pixels per register block of `directBlocked`.
    static let blockPixels = 8
    /// Output pixels per block of sixteen filters as two eight-lane halves (builds without AVX-512).
    static let pairBlockPixels = 6

    /// Register-blocked direct twin of `reference` (same arguments); rows are split over `threads`.
    public static func directBlocked(
        input: UnsafePointer<Float>, geometry g: ConvGeometry, kernel: UnsafePointer<Float>, filters: Int,
        bias: UnsafePointer<Float>?, clamp: (low: Float, high: Float), output: UnsafeMutablePointer<Float>,
        threads: Int = 1
    ) {
        let low = clamp.low
        let high = clamp.high
        // Output columns [interiorStart, interiorEnd) have their whole window inside the image horizontally.
        let interior = g.interiorColumns
        let interiorStart = interior.lowerBound
        let interiorEnd = interior.upperBound
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
            #else
                while filter + 16 <= filters {
                    row.sweepPair(filter: filter)
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
    /// columns eight at a time. The interior tail (fewer than eight columns) is one more block that overlaps
    /// the previous one — it stores the same clamped sums again, so recomputing a column is harmless — because a lone
    /// pixel is one FMA chain, about eight times a blocked pixel's cost: the 7 tail columns of the 112-wide
    /// v1 stem row cost as much as 56 blocked ones.
    @inline(__always)
    func sweep<V: SIMD>(_: V.Type, filter: Int) where V.Scalar == Float {
        for outX in 0..<interior.lowerBound { pixel(V.self, outX: outX, filter: filter) }
        var outX = interior.lowerBound
        #if GESTUREPAD_CPU_SKYLAKE_AVX512
            // 32 vector registers: eight-lane blocks (F = 8, the v1 0.25 stem) take sixteen pixels at once.
            if V.self == SIMD8<Float>.self {
                while outX + 2 * Conv2D.blockPixels <= interior.upperBound {
                    wideBlock(outX: outX, filter: filter)
                    outX += 2 * Conv2D.blockPixels
                }
            }
        #endif
        while outX + Conv2D.blockPixels <= interior.upperBound {
            block(V.self, outX: outX, filter: filter)
            outX += Conv2D.blockPixels
        }
        if outX < interior.upperBound && interior.count >= Conv2D.blockPixels {
            block(V.self, outX: interior.upperBound - Conv2D.blockPixels, filter: filter)
            outX = interior.upperBound
        }
        while outX < geometry.outputWidth {
            pixel(V.self, outX: outX, filter: filter)
            outX += 1
        }
    }

    /// Filters [filter, filter + 16) of the whole row as two eight-lane halves (builds without AVX-512): border
    /// columns one pixel and half at a time, interior columns `pairBlockPixels` at a time, the tail as one
    /// overlapping block (see `sweep`).
    @inline(__always)
    func sweepPair(filter: Int) {
        let pixels = Conv2D.pairBlockPixels
        for outX in 0..<interior.lowerBound {
            pixel(SIMD8<Float>.self, outX: outX, filter: filter)
            pixel(SIMD8<Float>.self, outX: outX, filter: filter + 8)
        }
        var outX = interior.lowerBound
        while outX + pixels <= interior.upperBound {
            pairBlock(outX: outX, filter: filter)
            outX += pixels
        }
        if outX < interior.upperBound && interior.count >= pixels {
            pairBlock(outX: interior.upperBound - pixels, filter: filter)
            outX = interior.upperBound
        }
        while outX < geometry.outputWidth {
            pixel(SIMD8<Float>.self, outX: outX, filter: filter)
            pixel(SIMD8<Float>.self, outX: outX, filter: filter + 8)
            outX += 1
        }
    }

    /// Six output pixels (outX…outX+5, window inside horizontally), filters [filter, filter + 16) as two
    /// eight-lane halves: twelve accumulators, and per tap two weight loads and six broadcasts feed twelve FMAs
    /// (the eight-pixel block needs nine loads for eight FMAs, and its eight chains only just cover the FMA
    /// latency). Each pixel's sum runs over the taps in the same order as in `block`.
    @inline(__always)
    func pairBlock(outX: Int, filter: Int) {
        let g = geometry
        let channels = g.inputChannels
        let step = g.strideWidth * channels
        let initialLow = bias.map { Lanes.load8($0 + filter) } ?? SIMD8()
        let initialHigh =
            bias.map { Lanes.load8($0 + filter + 8) } ?? SIMD8()
        var low0 = initialLow
        var low1 = initialLow
        var low2 = initialLow
        var low3 = initialLow
        var low4 = initialLow
        var low5 = initialLow
        var high0 = initialHigh
        var high1 = initialHigh
        var high2 = initialHigh
        var high3 = initialHigh
        var high4 = initialHigh
        var high5 = initialHigh
        let firstY = outY * g.strideHeight - g.padding.top
        let firstX = outX * g.strideWidth - g.padding.left
        let taps = g.kernelWidth * channels
        for kernelY in kernelRows {
            let row = input + ((firstY + kernelY) * g.inputWidth + firstX) * channels
            var weights = kernel + kernelY * taps * filters + filter
            for tap in 0..<taps {
                let wLow = Lanes.load8(weights)
                let wHigh = Lanes.load8(weights + 8)
                let x0 = SIMD8<Float>(repeating: row[tap])
                low0.addProduct(x0, wLow)
                high0.addProduct(x0, wHigh)
                let x1 = SIMD8<Float>(repeating: row[tap + step])
                low1.addProduct(x1, wLow)
                high1.addProduct(x1, wHigh)
                let x2 = SIMD8<Float>(repeating: row[tap + 2 * step])
                low2.addProduct(x2, wLow)
                high2.addProduct(x2, wHigh)
                let x3 = SIMD8<Float>(repeating: row[tap + 3 * step])
                low3.addProduct(x3, wLow)
                high3.addProduct(x3, wHigh)
                let x4 = SIMD8<Float>(repeating: row[tap + 4 * step])
                low4.addProduct(x4, wLow)
                high4.addProduct(x4, wHigh)
                let x5 = SIMD8<Float>(repeating: row[tap + 5 * step])
                low5.addProduct(x5, wLow)
                high5.addProduct(x5, wHigh)
                weights += filters
            }
        }
        let out = output + (outY * g.outputWidth + outX) * filters + filter
        @inline(__always) func store(_ pixel: Int, _ lowSum: SIMD8<Float>, _ highSum: SIMD8<Float>) {
            Lanes.store8(Lanes.clamp(lowSum, low, high), out + pixel * filters)
            Lanes.store8(Lanes.clamp(highSum, low, high), out + pixel * filters + 8)
        }
        store(0, low0, high0)
        store(1, low1, high1)
        store(2, low2, high2)
        store(3, low3, high3)
        store(4, low4, high4)
        store(5, low5, high5)
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
        UnsafeMutableRawPointer(out).storeBytes(of: Lanes.clamp(sum0, low, high), as: V.self)
        UnsafeMutableRawPointer(out + filters).storeBytes(of: Lanes.clamp(sum1, low, high), as: V.self)
        UnsafeMutableRawPointer(out + 2 * filters).storeBytes(of: Lanes.clamp(sum2, low, high), as: V.self)
        UnsafeMutableRawPointer(out + 3 * filters).storeBytes(of: Lanes.clamp(sum3, low, high), as: V.self)
        UnsafeMutableRawPointer(out + 4 * filters).storeBytes(of: Lanes.clamp(sum4, low, high), as: V.self)
        UnsafeMutableRawPointer(out + 5 * filters).storeBytes(of: Lanes.clamp(sum5, low, high), as: V.self)
        UnsafeMutableRawPointer(out + 6 * filters).storeBytes(of: Lanes.clamp(sum6, low, high), as: V.self)
        UnsafeMutableRawPointer(out + 7 * filters).storeBytes(of: Lanes.clamp(sum7, low, high), as: V.self)
    }

    /// Sixteen output pixels (outX…outX+15, window inside horizontally), filters [filter, filter + 8): the
    /// eight-lane block twice over, sixteen independent FMA chains per weight load.
    @inline(__always)
    func wideBlock(outX: Int, filter: Int) {
        let g = geometry
        let channels = g.inputChannels
        let step = g.strideWidth * channels
        let initial = bias.map { Lanes.load8($0 + filter) } ?? SIMD8()
        var sum0 = initial
        var sum1 = initial
        var sum2 = initial
        var sum3 = initial
        var sum4 = initial
        var sum5 = initial
        var sum6 = initial
        var sum7 = initial
        var sum8 = initial
        var sum9 = initial
        var sum10 = initial
        var sum11 = initial
        var sum12 = initial
        var sum13 = initial
        var sum14 = initial
        var sum15 = initial
        let firstY = outY * g.strideHeight - g.padding.top
        let firstX = outX * g.strideWidth - g.padding.left
        let taps = g.kernelWidth * channels
        for kernelY in kernelRows {
            let row = input + ((firstY + kernelY) * g.inputWidth + firstX) * channels
            var weights = kernel + kernelY * taps * filters + filter
            for tap in 0..<taps {
                let w = Lanes.load8(weights)
                sum0.addProduct(SIMD8(repeating: row[tap + 0 * step]), w)
                sum1.addProduct(SIMD8(repeating: row[tap + 1 * step]), w)
                sum2.addProduct(SIMD8(repeating: row[tap + 2 * step]), w)
                sum3.addProduct(SIMD8(repeating: row[tap + 3 * step]), w)
                sum4.addProduct(SIMD8(repeating: row[tap + 4 * step]), w)
                sum5.addProduct(SIMD8(repeating: row[tap + 5 * step]), w)
                sum6.addProduct(SIMD8(repeating: row[tap + 6 * step]), w)
                sum7.addProduct(SIMD8(repeating: row[tap + 7 * step]), w)
                sum8.addProduct(SIMD8(repeating: row[tap + 8 * step]), w)
                sum9.addProduct(SIMD8(repeating: row[tap + 9 * step]), w)
                sum10.addProduct(SIMD8(repeating: row[tap + 10 * step]), w)
                sum11.addProduct(SIMD8(repeating: row[tap + 11 * step]), w)
                sum12.addProduct(SIMD8(repeating: row[tap + 12 * step]), w)
                sum13.addProduct(SIMD8(repeating: row[tap + 13 * step]), w)
                sum14.addProduct(SIMD8(repeating: row[tap + 14 * step]), w)
                sum15.addProduct(SIMD8(repeating: row[tap + 15 * step]), w)
                weights += filters
            }
        }
        let out = output + (outY * g.outputWidth + outX) * filters + filter
        Lanes.store8(Lanes.clamp(sum0, low, high), out + 0 * filters)
        Lanes.store8(Lanes.clamp(sum1, low, high), out + 1 * filters)
        Lanes.store8(Lanes.clamp(sum2, low, high), out + 2 * filters)
        Lanes.store8(Lanes.clamp(sum3, low, high), out + 3 * filters)
        Lanes.store8(Lanes.clamp(sum4, low, high), out + 4 * filters)
        Lanes.store8(Lanes.clamp(sum5, low, high), out + 5 * filters)
        Lanes.store8(Lanes.clamp(sum6, low, high), out + 6 * filters)
        Lanes.store8(Lanes.clamp(sum7, low, high), out + 7 * filters)
        Lanes.store8(Lanes.clamp(sum8, low, high), out + 8 * filters)
        Lanes.store8(Lanes.clamp(sum9, low, high), out + 9 * filters)
        Lanes.store8(Lanes.clamp(sum10, low, high), out + 10 * filters)
        Lanes.store8(Lanes.clamp(sum11, low, high), out + 11 * filters)
        Lanes.store8(Lanes.clamp(sum12, low, high), out + 12 * filters)
        Lanes.store8(Lanes.clamp(sum13, low, high), out + 13 * filters)
        Lanes.store8(Lanes.clamp(sum14, low, high), out + 14 * filters)
        Lanes.store8(Lanes.clamp(sum15, low, high), out + 15 * filters)
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
            // One chain per kernel row, summed at the end: the rows' chains run side by side.
            var rowSum = V()
            for kernelX in kernelXStart..<kernelXEnd {
                let source = input + ((firstY + kernelY) * g.inputWidth + firstX + kernelX) * channels
                let weights = kernel + (kernelY * g.kernelWidth + kernelX) * channels * filters + filter
                for channel in 0..<channels {
                    rowSum.addProduct(
                        V(repeating: source[channel]),
                        UnsafeRawPointer(weights + channel * filters).loadUnaligned(as: V.self))
                }
            }
            sum += rowSum
        }
        UnsafeMutableRawPointer(output + (outY * g.outputWidth + outX) * filters + filter).storeBytes(
            of: Lanes.clamp(sum, low, high), as: V.self)
    }
}
