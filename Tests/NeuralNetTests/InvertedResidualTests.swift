// Fused inverted-residual blocks (Kernels/InvertedResidual.swift): the banded block against the plain
// reference kernels chained (random weights; stride 1 and 2, `same` and explicit padding, with and without
// expand and residual, band heights that leave odd last bands), the band plan's coverage, and the fused
// embedder against the unfused one (`blockFusion: .off`) on random MobileNet v2 / v1 models — equal output,
// a cut inside a block falls back to unfused steps. Every GEMM backend is run whatever the build's default.
// Equal means bit for bit on our packed GEMM kernels (a row's sums do not depend on how many rows a call
// has); OpenBLAS picks kernels by M (its Zen/Haswell sgemm rounds a band's rows differently from the whole
// image's), so there fused and unfused agree within 2e-4 (relative; 17 blocks of random weights compound
// the rounding differences). Speed is measured by `gesturepad bench embed`, not here.
import Testing

@testable import NeuralNet

@Suite("Fused inverted-residual blocks")
struct InvertedResidualTests {
    /// One block shape: input [height, width, inputChannels], expansion (nil: no expand), stride, padding.
    struct Shape: CustomTestStringConvertible, Sendable {
        var height: Int
        var width: Int
        var inputChannels: Int
        var expanded: Int?
        var outputChannels: Int
        var stride: Int
        var mode: Padding
        var extra: Padding2D = .zero
        var residual: Bool = false
        var bandRows: Int

        var testDescription: String {
            "[\(height),\(width),\(inputChannels)]→\(expanded.map(String.init) ?? "-")→\(outputChannels) "
                + "s\(stride) \(mode)\(extra == .zero ? "" : "+pad")\(residual ? " +add" : "") bands of \(bandRows)"
        }
    }

    static let symmetric = Padding2D(top: 1, bottom: 1, left: 1, right: 1)
    static let shapes: [Shape] = [
        Shape(
            height: 13, width: 11, inputChannels: 8, expanded: 48, outputChannels: 8, stride: 1, mode: .same,
            residual: true, bandRows: 4),
        Shape(
            height: 13, width: 11, inputChannels: 8, expanded: 48, outputChannels: 8, stride: 1, mode: .same,
            residual: true, bandRows: 1),
        Shape(
            height: 9, width: 7, inputChannels: 5, expanded: 30, outputChannels: 12, stride: 1, mode: .same,
            bandRows: 2),
        Shape(
            height: 15, width: 14, inputChannels: 16, expanded: 96, outputChannels: 24, stride: 2, mode: .valid,
            extra: symmetric, bandRows: 3),
        Shape(
            height: 16, width: 16, inputChannels: 16, expanded: 96, outputChannels: 24, stride: 2, mode: .same,
            bandRows: 3),
        Shape(
            height: 17, width: 12, inputChannels: 3, expanded: 17, outputChannels: 9, stride: 2, mode: .same,
            bandRows: 1),
        Shape(
            height: 11, width: 10, inputChannels: 32, expanded: nil, outputChannels: 16, stride: 1, mode: .same,
            bandRows: 4),
        Shape(
            height: 12, width: 9, inputChannels: 24, expanded: nil, outputChannels: 24, stride: 1, mode: .same,
            residual: true, bandRows: 5),
        Shape(
            height: 21, width: 20, inputChannels: 20, expanded: nil, outputChannels: 40, stride: 2, mode: .valid,
            extra: Padding2D(top: 0, bottom: 1, left: 0, right: 1), bandRows: 4),
        Shape(
            height: 7, width: 7, inputChannels: 40, expanded: 240, outputChannels: 40, stride: 1, mode: .same,
            residual: true, bandRows: 100),
        // K ≥ 128 and N whole 16-column panels: the projection skips zeros (ZeroSkipGEMM), a short last band.
        Shape(
            height: 7, width: 9, inputChannels: 16, expanded: 288, outputChannels: 32, stride: 1, mode: .same,
            bandRows: 3),
        Shape(
            height: 8, width: 5, inputChannels: 272, expanded: nil, outputChannels: 48, stride: 1, mode: .same,
            bandRows: 3),
    ]

    /// Builds the block and its reference output (Conv2D/DepthwiseConv2D/AddTensors `reference` chained).
    static func blockAndReference(
        _ shape: Shape, fusion: BlockFusion, backend: GEMMBackend = GEMM.defaultBackend
    ) throws -> (
        block: InvertedResidualBlock, input: [Float], expected: [Float]
    ) {
        let channels = shape.expanded ?? shape.inputChannels
        let geometry = try #require(
            ConvGeometry(
                height: shape.height, width: shape.width, channels: channels, kernel: (3, 3),
                strides: (shape.stride, shape.stride), mode: shape.mode, extra: shape.extra))
        let input = randomScalars(shape.height * shape.width * shape.inputChannels, seed: 1, in: -2...2)
        let expandKernel = randomScalars(shape.inputChannels * channels, seed: 2, in: -0.5...0.5)
        let expandBias = randomScalars(channels, seed: 3)
        let depthwiseKernel = randomScalars(9 * channels, seed: 4, in: -0.5...0.5)
        let depthwiseBias = randomScalars(channels, seed: 5)
        let projectKernel = randomScalars(channels * shape.outputChannels, seed: 6, in: -0.3...0.3)
        let projectBias = randomScalars(shape.outputChannels, seed: 7)
        let relu6: (low: Float, high: Float) = (0, 6)
        let linear: (low: Float, high: Float) = (-.infinity, .infinity)

        // Reference: each layer over the whole image.
        let pixels = shape.height * shape.width
        var expanded = input
        if shape.expanded != nil {
            expanded = [Float](repeating: 0, count: pixels * channels)
            let pointwise = try #require(
                ConvGeometry(
                    height: shape.height, width: shape.width, channels: shape.inputChannels, kernel: (1, 1),
                    strides: (1, 1), mode: .valid))
            Conv2D.reference(
                input: input, geometry: pointwise, kernel: expandKernel, filters: channels, bias: expandBias,
                clamp: relu6, output: &expanded)
        }
        var depthwiseOutput = [Float](repeating: 0, count: geometry.outputPixels * channels)
        DepthwiseConv2D.reference(
            input: expanded, geometry: geometry, kernel: depthwiseKernel, bias: depthwiseBias, clamp: relu6,
            output: &depthwiseOutput)
        var expected = [Float](repeating: 0, count: geometry.outputPixels * shape.outputChannels)
        let projectGeometry = try #require(
            ConvGeometry(
                height: geometry.outputHeight, width: geometry.outputWidth, channels: channels, kernel: (1, 1),
                strides: (1, 1), mode: .valid))
        Conv2D.reference(
            input: depthwiseOutput, geometry: projectGeometry, kernel: projectKernel, filters: shape.outputChannels,
            bias: projectBias, clamp: linear, output: &expected)
        if shape.residual { for index in expected.indices { expected[index] += input[index] } }

        let block = try #require(
            InvertedResidualBlock(
                expand: shape.expanded == nil
                    ? nil
                    : FusedPointwise(
                        weights: GEMMWeights(k: shape.inputChannels, n: channels, expandKernel, backend: backend),
                        bias: WeightBuffer(expandBias), clamp: relu6),
                depthwise: FusedDepthwise(
                    geometry: geometry, kernel: WeightBuffer(depthwiseKernel), bias: WeightBuffer(depthwiseBias),
                    clamp: relu6),
                project: FusedPointwise(
                    weights: GEMMWeights(k: channels, n: shape.outputChannels, projectKernel, backend: backend),
                    bias: WeightBuffer(projectBias), clamp: linear),
                residualClamp: shape.residual ? linear : nil, fusion: fusion))
        return (block, input, expected)
    }

    static func run(_ block: InvertedResidualBlock, input: [Float], outputCount: Int) -> [Float] {
        var output = [Float](repeating: .nan, count: outputCount)
        var expanded = [Float](repeating: .nan, count: max(block.expandedScratchCount, 1))
        var depthwiseRows = [Float](repeating: .nan, count: block.depthwiseScratchCount)
        input.withUnsafeBufferPointer { source in
            block.run(
                input: source.baseAddress!, output: &output, expanded: &expanded, depthwiseRows: &depthwiseRows)
        }
        return output
    }

    /// Every GEMM backend, whatever the build's default.
    static let backends: [GEMMBackend] = [.packedSwiftAVX2, .packedSwift, .openBLAS]

    /// Fused against unfused: bit for bit on the packed kernels, within 2e-4 on OpenBLAS (see the header).
    static func expectSame(
        _ actual: [Float], _ expected: [Float], backend: GEMMBackend, _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        if backend == .openBLAS {
            expectClose(actual, expected, tolerance: 2e-4, what, sourceLocation: sourceLocation)
        } else {
            #expect(actual == expected, "\(what) on \(backend.rawValue)", sourceLocation: sourceLocation)
        }
    }

    @Test("banded block equals the reference layers chained", arguments: shapes, backends)
    func blockMatchesReference(shape: Shape, backend: GEMMBackend) throws {
        let (block, input, expected) = try Self.blockAndReference(
            shape, fusion: .bandRows(shape.bandRows), backend: backend)
        let actual = Self.run(block, input: input, outputCount: expected.count)
        expectClose(actual, expected, tolerance: 2e-5, shape.testDescription)
        #expect(expected.contains { $0 != 0 })
        // The same block in one band computes the same output scalars (band boundaries change nothing).
        let (single, _, _) = try Self.blockAndReference(shape, fusion: .bandRows(.max), backend: backend)
        #expect(single.bands.count == 1)
        Self.expectSame(
            Self.run(single, input: input, outputCount: expected.count), actual, backend: backend,
            "one band vs bands, \(shape.testDescription)")
    }

    @Test("bands cover every output row once and keep exactly the halo rows", arguments: shapes)
    func bandPlan(shape: Shape) throws {
        for rows in [1, 2, 3, 5, 8] {
            let (block, _, _) = try Self.blockAndReference(shape, fusion: .bandRows(rows))
            let g = block.depthwise.geometry
            var nextOutput = 0
            var heldEnd = 0
            for band in block.bands {
                #expect(band.firstOutputRow == nextOutput)
                nextOutput += band.outputRows
                #expect(band.geometry.outputHeight == band.outputRows && band.geometry.outputWidth == g.outputWidth)
                let rowsHeld = band.keptRows + band.newRows
                #expect(rowsHeld == band.geometry.inputHeight)
                if shape.expanded != nil {
                    // New rows start right after what the previous band had expanded: nothing expanded twice.
                    #expect(band.firstInputRow + band.keptRows == max(heldEnd, band.firstInputRow))
                    #expect(rowsHeld * g.inputWidth * g.inputChannels <= block.expandedScratchCount)
                }
                heldEnd = band.firstInputRow + rowsHeld
            }
            #expect(nextOutput == g.outputHeight)
        }
    }

    @Test("the cache budget picks band heights from the sizes")
    func cacheBudget() throws {
        // [112,112,16] → 96 expanded, stride 2: an expanded row is 112·96·4 = 43 KiB, a depthwise row 21 KiB.
        let shape = Shape(
            height: 112, width: 112, inputChannels: 16, expanded: 96, outputChannels: 24, stride: 2, mode: .valid,
            extra: Self.symmetric, bandRows: 0)
        let (block, _, _) = try Self.blockAndReference(shape, fusion: .cacheBudget(bytes: 256 * 1024))
        let bytes = (block.expandedScratchCount + block.depthwiseScratchCount) * 4
        #expect(bytes <= 256 * 1024 + 112 * 96 * 4, "\(bytes) bytes")  // at most one row over (band evening)
        #expect(block.bands.count > 1 && block.bands.count < 56)
        let (whole, _, _) = try Self.blockAndReference(shape, fusion: .cacheBudget(bytes: 64 << 20))
        #expect(whole.bands.count == 1)
    }

    static let cuts = [
        "block_1_depthwise_relu", "block_2_project_BN", "block_2_add", "block_6_project", "block_14_add",
        "block_16_project_BN", "out_relu",
    ]

    @Test(
        "fused MobileNet v2 equals the unfused steps",
        arguments: [
            (0.35, 37, BlockFusion.bandRows(1)), (0.35, 50, .bandRows(3)), (0.5, 61, .bandRows(5)),
            (1.0, 64, .automatic), (0.35, 96, .cacheBudget(bytes: 20_000)),
        ])
    func mobileNetV2(alpha: Double, size: Int, fusion: BlockFusion) throws {
        let model = MobileNetV2.features(alpha: alpha, inputSize: size, weight: MobileNetV1.randomWeights(seed: 41))
        let input = Tensor(shape: [size, size, 3], uniformIn: -2...2, seed: 42)
        for cut in Self.cuts {
            for backend in Self.backends {
                let fused = try Embedder(model: model, outputLayer: cut, gemmBackend: backend, blockFusion: fusion)
                let unfused = try Embedder(model: model, outputLayer: cut, gemmBackend: backend, blockFusion: .off)
                let actual = try fused.embed(input)
                let expected = try unfused.embed(input)
                Self.expectSame(actual.scalars, expected.scalars, backend: backend, "α \(alpha) \(size)² at \(cut)")
                #expect(expected.scalars.contains { $0 != 0 }, "\(cut) not degenerate")
                #expect(!unfused.steps.contains { $0.kind.hasPrefix("fused") })
            }
        }
        let full = try Embedder(model: model, outputLayer: "out_relu", blockFusion: fusion)
        let kinds = full.steps.map(\.kind)
        // 17 blocks: block 0 has no expand, 10 take their residual Add; nothing else left unfused but the stem
        // and the last 1×1 conv.
        #expect(kinds.filter { $0.hasPrefix("fused") }.count == 17, "\(kinds)")
        #expect(kinds.filter { $0.hasPrefix("fused dw") }.count == 1)
        #expect(kinds.filter { $0.contains("+add") }.count == 10)
        #expect(!kinds.contains("add") && !kinds.contains { $0.hasPrefix("depthwise") })
        #expect(full.steps.count == 19)
        // A cut inside block 2 keeps that block's steps: expand + depthwise unfused, block 1 fused.
        let inside = try Embedder(model: model, outputLayer: "block_2_depthwise_relu", blockFusion: fusion)
        // (a pointwise step's kind names its GEMM backend: "pointwise (swift-avx2)" …)
        let lastKinds = inside.steps.suffix(2).map(\.kind)
        #expect(lastKinds.first?.hasPrefix("pointwise") == true && lastKinds.last == "depthwise3x3/1", "\(lastKinds)")
        #expect(inside.steps.filter { $0.kind.hasPrefix("fused") }.count == 2)
    }

    @Test(
        "fused MobileNet v1 (depthwise → pointwise pairs) equals the unfused steps",
        arguments: [(MobileNetV1.PaddingStyle.explicitZeroPadding, 45), (.samePadding, 64)])
    func mobileNetV1(style: MobileNetV1.PaddingStyle, size: Int) throws {
        let model = MobileNetV1.features(
            alpha: 0.25, inputSize: size, style: style, weight: MobileNetV1.randomWeights(seed: 43))
        let input = Tensor(shape: [size, size, 3], uniformIn: -2...2, seed: 44)
        for fusion in [BlockFusion.automatic, .bandRows(2)] {
            for backend in Self.backends {
                let fused = try Embedder(model: model, gemmBackend: backend, blockFusion: fusion)
                let unfused = try Embedder(model: model, gemmBackend: backend, blockFusion: .off)
                let actual = try fused.embed(input)
                let expected = try unfused.embed(input)
                Self.expectSame(actual.scalars, expected.scalars, backend: backend, "v1 \(style) \(size)²")
                #expect(fused.steps.filter { $0.kind.hasPrefix("fused dw3x3") }.count == 13)
            }
        }
    }

    @Test("two threads keep the unfused steps")
    func threads() throws {
        let model = MobileNetV2.features(alpha: 0.35, inputSize: 32, weight: MobileNetV1.randomWeights(seed: 45))
        let embedder = try Embedder(model: model, outputLayer: "block_2_add", threads: 2)
        #expect(!embedder.steps.contains { $0.kind.hasPrefix("fused") })
    }
}
