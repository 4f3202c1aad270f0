// Twins for the register-blocked stem conv (Conv2DBlocked) against the plain reference: widths from below
// one 8-pixel block to several blocks plus a tail, odd and even sides, filter counts straddling 16/8/4
// lanes, strides 1 and 2, `same` and `valid` padding and an explicit (fused ZeroPadding2D) one, with and
// without bias, one and two threads; and the plan's per-layer GEMM choice.
import Testing

@testable import NeuralNet

/// One blocked-kernel shape: input side lengths, channels, stride, padding.
struct BlockedCase: CustomTestStringConvertible, Sendable {
    var height: Int, width: Int, channels: Int, stride: Int, padding: Padding
    var testDescription: String { "\(height)x\(width)x\(channels) s=\(stride) \(padding)" }

    func geometry(kernel: Int = 3) -> ConvGeometry {
        ConvGeometry(
            height: height, width: width, channels: channels, kernel: (kernel, kernel), strides: (stride, stride),
            mode: padding)!
    }
}

/// Widths 5 (no full block) … 37 (four stride-1 blocks and a tail), odd heights, every lane straddle. Interiors of
/// 18 and 35 columns take the sixteen-pixel block (AVX-512 builds, F = 8 … 15) and an overlapping tail block.
let blockedCases: [BlockedCase] = simdStraddlingChannels.flatMap { channels in
    [1, 2].flatMap { stride in
        Padding.allCases.flatMap { padding in
            [(5, 5), (9, 20), (11, 37), (6, 18)].map {
                BlockedCase(height: $0.0, width: $0.1, channels: channels, stride: stride, padding: padding)
            }
        }
    }
}

@Suite("Blocked stem conv and the per-layer GEMM plan")
struct BlockedKernelTests {
    @Test("Conv2D.directBlocked equals the reference (C = 3, filters straddling lanes)", arguments: blockedCases)
    func directBlocked(_ shape: BlockedCase) {
        var c = shape
        c.channels = 3
        let filters = shape.channels  // the straddling counts, used as filter counts here
        let g = c.geometry()
        let input = randomScalars(g.inputCount, seed: 41)
        let kernel = randomScalars(27 * filters, seed: 42)
        let bias = randomScalars(filters, seed: 43)
        for (withBias, clamp) in [(true, (Float(0), Float(6))), (false, (-Float.infinity, Float.infinity))] {
            var expected = [Float](repeating: 0, count: g.outputPixels * filters)
            Conv2D.reference(
                input: input, geometry: g, kernel: kernel, filters: filters, bias: withBias ? bias : nil,
                clamp: clamp, output: &expected)
            for threads in [1, 2] {
                var actual = [Float](repeating: .nan, count: expected.count)
                Conv2D.directBlocked(
                    input: input, geometry: g, kernel: kernel, filters: filters, bias: withBias ? bias : nil,
                    clamp: clamp, output: &actual, threads: threads)
                expectClose(
                    actual, expected, tolerance: 1e-5,
                    "blocked conv \(c.testDescription) F=\(filters) bias=\(withBias) threads=\(threads)")
            }
        }
    }

    @Test("Conv2D.directBlocked: the real stems (224² → 112², F = 8 and 32) and an explicit padding")
    func directBlockedStems() {
        let geometries = [
            ConvGeometry(height: 224, width: 224, channels: 3, kernel: (3, 3), strides: (2, 2), mode: .same)!,
            ConvGeometry(
                height: 224, width: 224, channels: 3, kernel: (3, 3), strides: (2, 2), mode: .valid,
                extra: Padding2D(top: 0, bottom: 1, left: 0, right: 1))!,
            ConvGeometry(height: 33, width: 29, channels: 4, kernel: (3, 3), strides: (1, 1), mode: .same)!,
            // 2 wide, padded right: the window is wider than the image, no interior column (coverage: the blocks
            // are wider than one column, so this kernel ran it per pixel even before interiorColumns).
            ConvGeometry(
                height: 6, width: 2, channels: 3, kernel: (3, 3), strides: (2, 2), mode: .valid,
                extra: Padding2D(top: 0, bottom: 1, left: 0, right: 1))!,
        ]
        for g in geometries {
            for filters in [8, 32] {
                let input = randomScalars(g.inputCount, seed: 44)
                let kernel = randomScalars(9 * g.inputChannels * filters, seed: 45)
                let bias = randomScalars(filters, seed: 46)
                var expected = [Float](repeating: 0, count: g.outputPixels * filters)
                Conv2D.reference(
                    input: input, geometry: g, kernel: kernel, filters: filters, bias: bias, clamp: (0, 6),
                    output: &expected)
                var actual = [Float](repeating: .nan, count: expected.count)
                Conv2D.directBlocked(
                    input: input, geometry: g, kernel: kernel, filters: filters, bias: bias, clamp: (0, 6),
                    output: &actual)
                expectClose(actual, expected, tolerance: 1e-5, "stem \(g) F=\(filters)")
            }
        }
    }

    @Test("the plan gives short reductions the AVX2 tile in AVX-512 builds and leaves other choices alone")
    func planBackend() {
        #expect(GEMM.planBackend(k: 8, n: 16, preferred: .packedSwift) == .packedSwiftAVX2)
        #expect(GEMM.planBackend(k: GEMM.avx2TileLimit, n: 256, preferred: .packedSwift) == .packedSwiftAVX2)
        #expect(GEMM.planBackend(k: GEMM.avx2TileLimit + 1, n: 32, preferred: .packedSwift) == .packedSwift)
        #expect(GEMM.planBackend(k: 8, n: 16, preferred: .openBLAS) == .openBLAS)
        #expect(GEMM.planBackend(k: 600, n: 16, preferred: .packedSwiftAVX2) == .packedSwiftAVX2)
    }

    @Test("an AVX-512-backend embedder plans each pointwise layer by K and names the choice in its steps")
    func plannedBackends() throws {
        let model = MobileNetV1.features(alpha: 0.25, inputSize: 64, weight: MobileNetV1.randomWeights(seed: 3))
        // Unfused, so every pointwise layer is a step of its own (fusion folds them into depthwise → pointwise steps).
        let embedder = try Embedder(model: model, gemmBackend: .packedSwift, blockFusion: .off)
        let pointwise = embedder.steps.filter { $0.kind.hasPrefix("pointwise") }
        #expect(pointwise.count == 13)
        for step in pointwise {
            let k = step.multiplyAccumulates / (step.outputShape[0] * step.outputShape[1] * step.outputShape[2])
            let expected = k <= GEMM.avx2TileLimit ? "swift-avx2" : "swift"
            // K ≥ ZeroSkipGEMM.minimumReduction reads ReLU outputs: it skips their zeros (ZeroSkipGEMM).
            let skip = k >= ZeroSkipGEMM.minimumReduction ? ", zero skip" : ""
            #expect(step.kind == "pointwise (\(expected)\(skip))", "\(step.layerNames[0]) K=\(k)")
        }
        #expect(embedder.steps.contains { $0.kind == "conv3x3/2 direct" })
    }
}
