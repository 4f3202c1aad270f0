// Reference vs fast twins for every kernel on seeded random data, over channel counts straddling
// the SIMD widths, strides 1/2, both paddings and odd/even sizes. Tolerances are relative to
// 1 + |reference|: 1e-5 for sums of ≤ a few hundred products in float32 (different summation order
// in sgemm and SIMD lanes), exact (0) for data movement (pad, pool order aside).
import Testing

@testable import NeuralNet

struct ConvCase: CustomTestStringConvertible, Sendable {
    var channels: Int, stride: Int, padding: Padding, size: Int
    var testDescription: String { "C=\(channels) s=\(stride) \(padding) \(size)x\(size)" }
}

let convCases: [ConvCase] = simdStraddlingChannels.flatMap { channels in
    [1, 2].flatMap { stride in
        Padding.allCases.flatMap { padding in
            [7, 10].map { ConvCase(channels: channels, stride: stride, padding: padding, size: $0) }
        }
    }
}

@Suite("Kernels: reference vs fast")
struct KernelTests {
    @Test("the reference conv matches a hand-computed 3×3 example")
    func referenceConvByHand() {
        // 3×3 single-channel input 1…9, kernel all ones, `same` padding: each output sums its 3×3 neighbourhood.
        let input: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        let kernel = [Float](repeating: 1, count: 9)
        let g = ConvGeometry(height: 3, width: 3, channels: 1, kernel: (3, 3), strides: (1, 1), mode: .same)!
        var output = [Float](repeating: 0, count: 9)
        Conv2D.reference(
            input: input, geometry: g, kernel: kernel, filters: 1, bias: nil, clamp: (-.infinity, .infinity),
            output: &output)
        #expect(output == [12, 21, 16, 27, 45, 33, 24, 39, 28])
    }

    @Test("TF `same` padding at stride 2 pads bottom/right only on even input")
    func samePaddingGeometry() {
        let even = ConvGeometry(height: 224, width: 224, channels: 3, kernel: (3, 3), strides: (2, 2), mode: .same)!
        #expect(even.outputHeight == 112 && even.padding == Padding2D(top: 0, bottom: 1, left: 0, right: 1))
        let odd = ConvGeometry(height: 7, width: 7, channels: 3, kernel: (3, 3), strides: (2, 2), mode: .same)!
        #expect(odd.outputHeight == 4 && odd.padding == Padding2D(top: 1, bottom: 1, left: 1, right: 1))
        #expect(ConvGeometry(height: 2, width: 2, channels: 1, kernel: (3, 3), strides: (1, 1), mode: .valid) == nil)
    }

    @Test("Conv2D: im2col + sgemm equals the reference", arguments: convCases)
    func conv(_ c: ConvCase) {
        let filters = c.channels % 5 + 3
        let g = ConvGeometry(
            height: c.size, width: c.size + 1, channels: c.channels, kernel: (3, 3),
            strides: (c.stride, c.stride), mode: c.padding)!
        let input = randomScalars(g.inputCount, seed: 1)
        let kernel = randomScalars(9 * c.channels * filters, seed: 2)
        let bias = randomScalars(filters, seed: 3)
        var expected = [Float](repeating: 0, count: g.outputPixels * filters)
        Conv2D.reference(
            input: input, geometry: g, kernel: kernel, filters: filters, bias: bias, clamp: (0, 6), output: &expected)
        var actual = [Float](repeating: .nan, count: expected.count)
        var scratch = [Float](repeating: .nan, count: Conv2D.scratchCount(g))
        let weights = GEMMWeights(k: g.patchLength, n: filters, kernel)
        Conv2D.im2colGEMM(
            input: input, geometry: g, kernel: weights, bias: bias, clamp: (0, 6), output: &actual,
            scratch: &scratch)
        expectClose(actual, expected, tolerance: 1e-5, "conv \(c.testDescription)")
        for threads in [1, 2] {
            var direct = [Float](repeating: .nan, count: expected.count)
            Conv2D.directBlocked(
                input: input, geometry: g, kernel: kernel, filters: filters, bias: bias, clamp: (0, 6),
                output: &direct, threads: threads)
            expectClose(direct, expected, tolerance: 1e-5, "direct conv \(c.testDescription) threads=\(threads)")
        }
    }

    @Test(
        "Direct conv over filter counts straddling 16/8 lanes (RGB stem shape)",
        arguments: [1, 7, 8, 9, 16, 17, 32, 33])
    func directStem(filters: Int) {
        let g = ConvGeometry(height: 12, width: 12, channels: 3, kernel: (3, 3), strides: (2, 2), mode: .same)!
        let input = randomScalars(g.inputCount, seed: 31)
        let kernel = randomScalars(27 * filters, seed: 32)
        var expected = [Float](repeating: 0, count: g.outputPixels * filters)
        var actual = expected
        Conv2D.reference(
            input: input, geometry: g, kernel: kernel, filters: filters, bias: nil, clamp: (0, 6), output: &expected)
        Conv2D.directBlocked(
            input: input, geometry: g, kernel: kernel, filters: filters, bias: nil, clamp: (0, 6), output: &actual)
        expectClose(actual, expected, tolerance: 1e-5, "direct stem F=\(filters)")
    }

    @Test("Pointwise 1×1 conv is a plain GEMM and equals the reference", arguments: simdStraddlingChannels)
    func pointwise(channels: Int) {
        let filters = 2 * channels + 1
        let g = ConvGeometry(height: 5, width: 6, channels: channels, kernel: (1, 1), strides: (1, 1), mode: .same)!
        #expect(g.isPointwise && Conv2D.scratchCount(g) == 0)
        let input = randomScalars(g.inputCount, seed: 4)
        let kernel = randomScalars(channels * filters, seed: 5)
        var expected = [Float](repeating: 0, count: g.outputPixels * filters)
        Conv2D.reference(
            input: input, geometry: g, kernel: kernel, filters: filters, bias: nil, clamp: (-.infinity, .infinity),
            output: &expected)
        var actual = [Float](repeating: .nan, count: expected.count)
        var unused: [Float] = [0]
        Conv2D.im2colGEMM(
            input: input, geometry: g, kernel: GEMMWeights(k: channels, n: filters, kernel), bias: nil,
            clamp: (-.infinity, .infinity), output: &actual, scratch: &unused)
        expectClose(actual, expected, tolerance: 1e-5, "pointwise C=\(channels)")
    }

    @Test("DepthwiseConv2D 3×3: SIMD equals the reference", arguments: convCases)
    func depthwise(_ c: ConvCase) {
        let g = ConvGeometry(
            height: c.size, width: c.size + 1, channels: c.channels, kernel: (3, 3),
            strides: (c.stride, c.stride), mode: c.padding)!
        let input = randomScalars(g.inputCount, seed: 6)
        let kernel = randomScalars(9 * c.channels, seed: 7)
        let bias = randomScalars(c.channels, seed: 8)
        var expected = [Float](repeating: 0, count: g.outputPixels * c.channels)
        DepthwiseConv2D.reference(
            input: input, geometry: g, kernel: kernel, bias: bias, clamp: (0, 6), output: &expected)
        for threads in [1, 2] {
            var actual = [Float](repeating: .nan, count: expected.count)
            DepthwiseConv2D.simd(
                input: input, geometry: g, kernel: kernel, bias: bias, clamp: (0, 6), output: &actual,
                threads: threads)
            expectClose(actual, expected, tolerance: 1e-6, "depthwise \(c.testDescription) threads=\(threads)")
        }
    }

    /// Wide-channel 3×3 cases (the channel-inner path): C around its threshold (64), images from 1×2 (every tap
    /// of some pixel outside) to 10×11 — odd and even heights, so rows go in pairs (2×2 quads) and alone —
    /// `same`, `valid` and lopsided explicit padding (2 on one side: whole tap rows outside the image).
    static let wideCases: [(channels: Int, stride: Int, height: Int, padding: Padding2D?)] =
        [56, 64, 72, 128, 136, 512].flatMap { channels in
            [1, 2].flatMap { stride in
                [
                    (1, nil), (2, nil), (3, nil), (4, nil), (7, nil), (10, nil),
                    (6, Padding2D(top: 2, bottom: 0, left: 0, right: 2)),
                    (5, Padding2D(top: 0, bottom: 1, left: 0, right: 1)),
                ].map { (channels, stride, $0.0, $0.1) }
            }
        }

    @Test(
        "DepthwiseConv2D 3×3 with many channels (channel-inner, zero-vector taps): SIMD equals the reference",
        arguments: wideCases)
    func depthwiseWide(_ c: (channels: Int, stride: Int, height: Int, padding: Padding2D?)) {
        let g = ConvGeometry(
            height: c.height, width: c.height + 1, channels: c.channels, kernel: (3, 3),
            strides: (c.stride, c.stride), mode: c.padding == nil ? .same : .valid, extra: c.padding ?? .zero)!
        #expect(DepthwiseConv2D.takesWideRows(g) == (c.channels % 8 == 0 && c.channels >= 64))
        let input = randomScalars(g.inputCount, seed: 17)
        let kernel = randomScalars(9 * c.channels, seed: 18)
        let bias = randomScalars(c.channels, seed: 19)
        let what = "C=\(c.channels) s\(c.stride) \(g.inputHeight)×\(g.inputWidth) pad \(g.padding)"
        for (bias, clamp) in [(Optional(bias), (Float(0), Float(6))), (nil, (-Float.infinity, Float.infinity))] {
            var expected = [Float](repeating: 0, count: g.outputPixels * c.channels)
            DepthwiseConv2D.reference(
                input: input, geometry: g, kernel: kernel, bias: bias, clamp: clamp, output: &expected)
            for threads in [1, 2] {
                var actual = [Float](repeating: .nan, count: expected.count)
                DepthwiseConv2D.simd(
                    input: input, geometry: g, kernel: kernel, bias: bias, clamp: clamp, output: &actual,
                    threads: threads)
                expectClose(actual, expected, tolerance: 1e-6, "\(what) bias \(bias != nil) threads=\(threads)")
            }
        }
    }

    @Test("DepthwiseConv2D with explicit (fused ZeroPadding2D) padding and no bias", arguments: [1, 8, 17, 33])
    func depthwiseExplicitPadding(channels: Int) {
        let g = ConvGeometry(
            height: 8, width: 8, channels: channels, kernel: (3, 3), strides: (2, 2), mode: .valid,
            extra: Padding2D(top: 0, bottom: 1, left: 0, right: 1))!
        #expect(g.outputHeight == 4)
        let input = randomScalars(g.inputCount, seed: 9)
        let kernel = randomScalars(9 * channels, seed: 10)
        var expected = [Float](repeating: 0, count: g.outputPixels * channels)
        DepthwiseConv2D.reference(
            input: input, geometry: g, kernel: kernel, bias: nil, clamp: (-.infinity, .infinity),
            output: &expected)
        var actual = [Float](repeating: .nan, count: expected.count)
        DepthwiseConv2D.simd(
            input: input, geometry: g, kernel: kernel, bias: nil, clamp: (-.infinity, .infinity),
            output: &actual)
        expectClose(actual, expected, tolerance: 1e-6, "depthwise padded C=\(channels)")
    }

    @Test(
        "DepthwiseConv2D on a 2-wide image with right padding (window wider than the image): no read past the row",
        arguments: [1, 8, 17])
    func depthwiseNarrowPadded(channels: Int) {
        // Stride 2, padding right 1: output column 0's window is input columns 0...2, and column 2 is padding.
        // (A truncating division once counted it as an interior column and read the next row's first pixel.)
        let g = ConvGeometry(
            height: 6, width: 2, channels: channels, kernel: (3, 3), strides: (2, 2), mode: .valid,
            extra: Padding2D(top: 0, bottom: 1, left: 0, right: 1))!
        #expect(g.outputWidth == 1 && g.outputHeight == 3)
        let input = randomScalars(g.inputCount, seed: 14)
        let kernel = randomScalars(9 * channels, seed: 15)
        let bias = randomScalars(channels, seed: 16)
        var expected = [Float](repeating: 0, count: g.outputPixels * channels)
        DepthwiseConv2D.reference(
            input: input, geometry: g, kernel: kernel, bias: bias, clamp: (-.infinity, .infinity), output: &expected)
        var actual = [Float](repeating: .nan, count: expected.count)
        DepthwiseConv2D.simd(
            input: input, geometry: g, kernel: kernel, bias: bias, clamp: (-.infinity, .infinity), output: &actual)
        expectClose(actual, expected, tolerance: 1e-6, "depthwise 2-wide C=\(channels)")
    }

    @Test(
        "GEMM: both backends equal the triple loop (M, K, N straddling the 12×32 tile and SIMD widths)",
        arguments: GEMMBackend.allCases, [1, 5, 13, 49, 196])
    func gemm(backend: GEMMBackend, m: Int) {
        for k in [1, 3, 8, 16, 17, 64, 600] {
            for n in [1, 7, 15, 16, 17, 33, 64] {
                let a = randomScalars(m * k, seed: 11)
                let b = randomScalars(k * n, seed: 12)
                let bias = randomScalars(n, seed: 13)
                for (withBias, clamp) in [(true, (Float(0), Float(6))), (false, (-Float.infinity, Float.infinity))] {
                    var expected = [Float](repeating: 0, count: m * n)
                    GEMM.reference(
                        rows: m, a: a, b: b, k: k, n: n, bias: withBias ? bias : nil, clamp: clamp, c: &expected)
                    // One guard element past the end must stay untouched.
                    var actual = [Float](repeating: .nan, count: m * n + 1)
                    actual[m * n] = 12345
                    GEMM.multiply(
                        rows: m, a: a, weights: GEMMWeights(k: k, n: n, b, backend: backend),
                        bias: withBias ? bias : nil, clamp: clamp, c: &actual)
                    #expect(actual[m * n] == 12345, "\(backend) wrote past C")
                    // K up to 600 (crosses the 512 K-block): float32 sums differ in order, 1e-5·√K relative.
                    expectClose(
                        Array(actual.prefix(m * n)), expected, tolerance: 1e-5 * Float(k).squareRoot(),
                        "\(backend) gemm \(m)x\(k)x\(n) bias=\(withBias)")
                }
            }
        }
    }

    @Test(
        "GEMM: every row tail M = 1…25 of both packed tiles (12×32 AVX-512, 6×16 AVX2), K across both K blocks",
        arguments: GEMMBackend.allCases, Array(1...25))
    func gemmRowTails(backend: GEMMBackend, m: Int) {
        // K 8 and 16 take the unrolled whole-tile kernels, 300 crosses the AVX2 kernel's 256 K block, 600 also the
        // AVX-512 kernel's 512 one; N covers full and partial 8- and 16-lane vectors and a partial last panel of
        // either width.
        for k in [1, 7, 8, 16, 300, 600] {
            for n in [1, 8, 9, 16, 24, 31, 32, 40, 48] {
                let a = randomScalars(m * k, seed: 21)
                let b = randomScalars(k * n, seed: 22)
                let bias = randomScalars(n, seed: 23)
                // Sums have a standard deviation near √K / 3: a clamp at ±√K / 2 cuts some and keeps most.
                let bound = Float(k).squareRoot() / 2
                let clamp = (low: -bound, high: bound)
                var expected = [Float](repeating: 0, count: m * n)
                GEMM.reference(rows: m, a: a, b: b, k: k, n: n, bias: bias, clamp: clamp, c: &expected)
                var actual = [Float](repeating: .nan, count: m * n + 1)
                actual[m * n] = 12345
                GEMM.multiply(
                    rows: m, a: a, weights: GEMMWeights(k: k, n: n, b, backend: backend), bias: bias,
                    clamp: clamp, c: &actual)
                #expect(actual[m * n] == 12345, "\(backend) wrote past C at \(m)x\(k)x\(n)")
                expectClose(
                    Array(actual.prefix(m * n)), expected, tolerance: 1e-5 * Float(k).squareRoot(),
                    "\(backend) gemm \(m)x\(k)x\(n)")
            }
        }
    }

    @Test(
        "packed GEMM: whole-tile and 1½-panel kernels equal one row at a time bit for bit",
        arguments: [GEMMBackend.packedSwift, .packedSwiftAVX2])
    func packedWholeTilesMatchMicroKernels(backend: GEMMBackend) {
        // A row computed alone takes the 1-row micro-kernel; in a batch of M rows it takes the whole-tile or
        // 1½-panel kernels (N = NR + W: 24 on AVX2, 48 on AVX-512) where they apply, and shorter tiles' micro-kernels
        // elsewhere. Every FMA chain runs in the same order, so the batch must equal the rows one by one exactly.
        for m in [4, 5, 6, 7, 11, 12, 13, 23, 25] {
            for k in [8, 16, 24, 300] {
                for n in [16, 24, 40, 48, 64] {
                    let a = randomScalars(m * k, seed: 31)
                    let b = randomScalars(k * n, seed: 32)
                    let bias = randomScalars(n, seed: 33)
                    let weights = GEMMWeights(k: k, n: n, b, backend: backend)
                    for (withBias, clamp) in [
                        (true, (Float(-1), Float(1))), (false, (-Float.infinity, Float.infinity)),
                    ] {
                        var batch = [Float](repeating: .nan, count: m * n + 1)
                        batch[m * n] = 12345  // a guard past C
                        GEMM.multiply(
                            rows: m, a: a, weights: weights, bias: withBias ? bias : nil, clamp: clamp, c: &batch)
                        #expect(batch.removeLast() == 12345, "\(backend) \(m)x\(k)x\(n) wrote past C")
                        var alone = [Float](repeating: .nan, count: m * n)
                        for row in 0..<m {
                            var one = [Float](repeating: .nan, count: n)
                            GEMM.multiply(
                                rows: 1, a: Array(a[(row * k)..<((row + 1) * k)]), weights: weights,
                                bias: withBias ? bias : nil, clamp: clamp, c: &one)
                            alone.replaceSubrange((row * n)..<((row + 1) * n), with: one)
                        }
                        #expect(batch == alone, "\(backend) \(m)x\(k)x\(n) bias=\(withBias)")
                    }
                }
            }
        }
    }

    @Test(
        "packed GEMM honours lda and ldc (A and C rows wider than K and N)",
        arguments: [1, 6, 7, 13], [(20, 19), (16, 24), (20, 48)])
    func packedGEMMStrides(m: Int, shape: (k: Int, n: Int)) {
        // N 24 and 48: one panel and a half of the AVX2 and AVX-512 tiles (narrowTiles); K 16 unrolled.
        let k = shape.k
        let n = shape.n
        let lda = k + 3
        let ldc = n + 5
        let a = randomScalars(m * lda, seed: 24)
        let b = randomScalars(k * n, seed: 25)
        var dense = [Float](repeating: 0, count: m * k)
        for row in 0..<m { for p in 0..<k { dense[row * k + p] = a[row * lda + p] } }
        var expected = [Float](repeating: 0, count: m * n)
        GEMM.reference(rows: m, a: dense, b: b, k: k, n: n, bias: nil, clamp: (0, 6), c: &expected)
        var wide512 = [Float](repeating: -7, count: m * ldc)
        var wideAVX2 = [Float](repeating: -7, count: m * ldc)
        b.withUnsafeBufferPointer { b in
            packedGEMM(
                m: m, a: a, lda: lda, weights: PackedWeights(k: k, n: n, rowMajor: b.baseAddress!), bias: nil,
                clampLow: 0, clampHigh: 6, c: &wide512, ldc: ldc)
            packedGEMMAVX2(
                m: m, a: a, lda: lda, weights: PackedWeightsAVX2(k: k, n: n, rowMajor: b.baseAddress!), bias: nil,
                clampLow: 0, clampHigh: 6, c: &wideAVX2, ldc: ldc)
        }
        for (name, wide) in [("AVX-512", wide512), ("AVX2", wideAVX2)] {
            var inside = [Float]()
            for row in 0..<m {
                inside += wide[(row * ldc)..<(row * ldc + n)]
                #expect(wide[(row * ldc + n)..<((row + 1) * ldc)].allSatisfy { $0 == -7 }, "\(name) wrote past n")
            }
            expectClose(inside, expected, tolerance: 1e-5, "\(name) strided gemm \(m)x\(k)x\(n)")
        }
    }

    @Test("ZeroPadding2D: row copies equal the reference", arguments: simdStraddlingChannels)
    func zeroPad(channels: Int) {
        let padding = Padding2D(top: 1, bottom: 2, left: 0, right: 3)
        let input = randomScalars(4 * 5 * channels, seed: 14)
        let outCount = (4 + 3) * (5 + 3) * channels
        var expected = [Float](repeating: .nan, count: outCount)
        var actual = expected
        ZeroPad.reference(input: input, height: 4, width: 5, channels: channels, padding: padding, output: &expected)
        ZeroPad.fast(input: input, height: 4, width: 5, channels: channels, padding: padding, output: &actual)
        #expect(actual == expected)
    }

    @Test("Add and GlobalAveragePooling2D: SIMD equals the reference", arguments: simdStraddlingChannels)
    func addAndPool(channels: Int) {
        let count = 7 * 7 * channels
        let a = randomScalars(count, seed: 15)
        let b = randomScalars(count, seed: 16)
        var expected = [Float](repeating: 0, count: count)
        var actual = expected
        AddTensors.reference(a, b, count: count, clamp: (0, .infinity), output: &expected)
        AddTensors.simd(a, b, count: count, clamp: (0, .infinity), output: &actual)
        #expect(actual == expected)

        var pooledExpected = [Float](repeating: 0, count: channels)
        var pooledActual = pooledExpected
        GlobalAveragePool.reference(input: a, pixels: 49, channels: channels, output: &pooledExpected)
        GlobalAveragePool.simd(input: a, pixels: 49, channels: channels, output: &pooledActual)
        expectClose(pooledActual, pooledExpected, tolerance: 1e-6, "avgpool C=\(channels)")
    }

    @Test("Activations: fast equals reference; softmax rows sum to 1", arguments: Activation.allCases)
    func activations(_ activation: Activation) {
        let values = randomScalars(3 * 17, seed: 17, in: -8...8)
        var expected = values
        var actual = values
        ActivationKernel.reference(activation, &expected, rows: 3, channels: 17)
        ActivationKernel.fast(activation, &actual, rows: 3, channels: 17)
        expectClose(actual, expected, tolerance: 1e-6, "\(activation)")
        if activation == .softmax {
            for row in 0..<3 { #expect(abs(actual[row * 17..<(row + 1) * 17].reduce(0, +) - 1) < 1e-5) }
        }
        if activation == .relu6 { #expect(actual.allSatisfy { $0 >= 0 && $0 <= 6 }) }
    }

    @Test("BatchNorm folded into an affine map equals the direct formula")
    func batchNormAffine() {
        let channels = 5
        let x = randomScalars(3 * channels, seed: 18)
        let gamma = randomScalars(channels, seed: 19)
        let beta = randomScalars(channels, seed: 20)
        let mean = randomScalars(channels, seed: 21)
        let variance = randomScalars(channels, seed: 22, in: 0.001...2)
        var expected = [Float](repeating: 0, count: x.count)
        BatchNorm.reference(
            input: x, pixels: 3, channels: channels, gamma: gamma, beta: beta, mean: mean,
            variance: variance, epsilon: 1e-3, output: &expected)
        let affine = BatchNorm.affine(gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: 1e-3)
        let actual = x.indices.map { x[$0] * affine.scale[$0 % channels] + affine.shift[$0 % channels] }
        expectClose(actual, expected, tolerance: 1e-5, "batchnorm")
    }
}
