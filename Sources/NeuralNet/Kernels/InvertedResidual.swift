// InvertedResidual: a MobileNet v2 inverted-residual block — expand 1×1 (+BN+ReLU6) → depthwise (+BN+ReLU6)
// → project 1×1 (+BN) (+ the residual Add) — computed one band of output rows at a time, so the expanded
// tensor never exists whole: the band's expanded rows (the rows its depthwise windows need, halo included)
// and its depthwise rows live in two small scratch buffers that stay in L2, instead of 1–5 MB tensors
// written to and read back from L3/memory. Without the expand it is MobileNet v1's depthwise → pointwise
// pair (and v2's first block): the depthwise then reads its rows straight from the input.
// Each band: move the halo rows the previous band already expanded to the front of the expanded buffer
// (stride 1: 2 rows, stride 2: 1 row) and expand only the new input rows behind them (GEMM on a row range:
// rows of an NHWC image are contiguous), run the depthwise on the buffer with a band geometry (padding only
// at the image's real top/bottom edges), project the depthwise rows into the output rows (GEMM), then add
// the residual rows. A projection of ReLU outputs skips their zeros (ZeroSkipGEMM; its lists sit behind the
// depthwise rows in the same scratch). Every step calls the existing kernels (GEMM.multiply,
// DepthwiseConv2D.simd, AddTensors.simd) through their usual signatures, so each output scalar is computed by
// the same arithmetic in the same order as the unfused steps — the fused result equals the unfused one.
// Band height: as many output rows as keep the expanded band + depthwise band within `defaultCacheBudget`
// bytes (a quarter of Zen 4's / Skylake-X's 1 MiB L2 per core — leaves room for the packed weights, the
// input and output rows streaming through, and the GEMM's own working set), then evened out over the bands.
// The projection's non-zero lists (about half a depthwise band more) are not counted: counting them would cut v1's
// 14×14×512 blocks into 3 bands instead of 2, and every band streams the projection's weights again.
// Legend: H W Cin block input, Ce expanded channels, OH OW Cout output, S depthwise stride, KH kernel height.
#if canImport(Glibc)
    import Glibc
#endif

/// How the embedder fuses inverted-residual (expand → depthwise → project) and depthwise → pointwise steps.
public enum BlockFusion: Sendable, Equatable {
    /// Every layer its own step (the unfused path).
    case off
    /// Fused, with bands as tall as fit this many bytes of expanded + depthwise rows.
    case cacheBudget(bytes: Int)
    /// Fused, every band (but the last) this many output rows tall (tests: band boundaries at chosen rows).
    case bandRows(Int)

    /// The default: fused with `InvertedResidualBlock.defaultCacheBudget`.
    public static let automatic = BlockFusion.cacheBudget(bytes: InvertedResidualBlock.defaultCacheBudget)

    /// Parses a command-line value: `auto`, `off`, `rows=N` or `kib=N` (N ≥ 1); nil otherwise.
    public init?(argument: String) {
        switch argument {
        case "auto": self = .automatic
        case "off": self = .off
        default:
            let parts = argument.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let number = Int(parts[1]), (1...(1 << 20)).contains(number) else { return nil }
            switch parts[0] {
            case "rows": self = .bandRows(number)
            case "kib": self = .cacheBudget(bytes: number * 1024)
            default: return nil
            }
        }
    }
}

/// A 1×1 convolution inside a fused block: packed weights, bias and clamp.
struct FusedPointwise {
    let weights: GEMMWeights
    let bias: WeightBuffer?
    let clamp: (low: Float, high: Float)
}

/// The depthwise convolution inside a fused block, over the whole (expanded) image.
struct FusedDepthwise {
    let geometry: ConvGeometry
    let kernel: WeightBuffer
    let bias: WeightBuffer?
    let clamp: (low: Float, high: Float)
}

/// One planned inverted-residual (or depthwise → pointwise) block and its bands; immutable after planning.
final class InvertedResidualBlock: @unchecked Sendable {
    /// One band of output rows and the expanded rows it needs.
    struct Band {
        /// First image row (of the depthwise input) held in the expanded buffer / read by the depthwise.
        let firstInputRow: Int
        /// Rows the previous band left at the end of the buffer that this band keeps (moved to the front).
        let keptRows: Int
        /// Where the kept rows start in the buffer before the move.
        let keptFrom: Int
        /// Image rows expanded by this band: [firstInputRow + keptRows, + newRows).
        let newRows: Int
        /// Output rows [firstOutputRow, firstOutputRow + outputRows).
        let firstOutputRow: Int
        let outputRows: Int
        /// The depthwise geometry of this band: its input rows, padded only at the image's real edges.
        let geometry: ConvGeometry
    }

    /// Expanded + depthwise band bytes the automatic band height aims at (256 KiB, a quarter of a 1 MiB L2).
    static let defaultCacheBudget = 256 * 1024

    let expand: FusedPointwise?
    let depthwise: FusedDepthwise
    let project: FusedPointwise
    /// The residual Add's clamp when the block adds its input to the projection.
    let residualClamp: (low: Float, high: Float)?
    let bands: [Band]
    /// Floats of the expanded-rows buffer (0 without an expand).
    let expandedScratchCount: Int
    /// Floats of the depthwise-rows buffer: a band's depthwise rows, then the projection's non-zero lists.
    let depthwiseScratchCount: Int
    /// Floats of the projection's non-zero lists at the end of the depthwise buffer (ZeroSkipGEMM); 0 when the
    /// projection runs dense (its weights not accepted, or the depthwise output not clamped at 0 below).
    let zeroSkipCount: Int
    /// Output rows of a full band (the planned band height).
    let bandHeight: Int

    /// Plans the bands; nil when the shapes do not chain (the caller keeps the unfused steps). `skipZeros`: the
    /// projection skips zero activations when the depthwise output is a ReLU output (ZeroSkipGEMM).
    init?(
        expand: FusedPointwise?, depthwise: FusedDepthwise, project: FusedPointwise,
        residualClamp: (low: Float, high: Float)?, fusion: BlockFusion, skipZeros: Bool = true
    ) {
        let g = depthwise.geometry
        let channels = g.inputChannels
        if let expand, expand.weights.n != channels { return nil }
        guard project.weights.k == channels else { return nil }
        if residualClamp != nil {
            // The residual is the block input: same shape as the output.
            let inputChannels = expand?.weights.k ?? channels
            guard g.inputHeight == g.outputHeight, g.inputWidth == g.outputWidth,
                inputChannels == project.weights.n
            else { return nil }
        }
        let expandedRowFloats = g.inputWidth * channels
        let depthwiseRowFloats = g.outputWidth * channels
        let height: Int
        switch fusion {
        case .off: return nil
        case .bandRows(let rows): height = max(1, min(rows, g.outputHeight))
        case .cacheBudget(let bytes):
            let halo = expand == nil ? 0 : max(0, g.kernelHeight - g.strideHeight) * expandedRowFloats * 4
            let perRow = ((expand == nil ? 0 : g.strideHeight * expandedRowFloats) + depthwiseRowFloats) * 4
            let fitting = max(1, min(g.outputHeight, (bytes - halo) / max(perRow, 1)))
            let bandCount = (g.outputHeight + fitting - 1) / fitting
            height = (g.outputHeight + bandCount - 1) / bandCount
        }
        var bands: [Band] = []
        var heldFirst = 0
        var heldEnd = 0  // image rows [heldFirst, heldEnd) are in the buffer
        var maximumRows = 0
        var outputRow = 0
        while outputRow < g.outputHeight {
            let outputEnd = min(outputRow + height, g.outputHeight)
            let windowFirst = outputRow * g.strideHeight - g.padding.top
            let windowEnd = (outputEnd - 1) * g.strideHeight - g.padding.top + g.kernelHeight
            let first = max(0, windowFirst)
            let end = min(g.inputHeight, windowEnd)
            guard end > first,
                let geometry = ConvGeometry(
                    height: end - first, width: g.inputWidth, channels: channels,
                    kernel: (g.kernelHeight, g.kernelWidth), strides: (g.strideHeight, g.strideWidth), mode: .valid,
                    extra: Padding2D(
                        top: first - windowFirst, bottom: windowEnd - end, left: g.padding.left,
                        right: g.padding.right)),
                geometry.outputHeight == outputEnd - outputRow, geometry.outputWidth == g.outputWidth
            else { return nil }
            let kept = expand == nil ? 0 : max(0, heldEnd - max(first, heldFirst))
            let keptFrom = expand == nil ? 0 : max(first, heldFirst) - heldFirst
            guard first >= heldFirst || kept == 0 else { return nil }
            bands.append(
                Band(
                    firstInputRow: first, keptRows: kept, keptFrom: keptFrom, newRows: end - first - kept,
                    firstOutputRow: outputRow, outputRows: outputEnd - outputRow, geometry: geometry))
            maximumRows = max(maximumRows, end - first)
            heldFirst = first
            heldEnd = end
            outputRow = outputEnd
        }
        self.expand = expand
        self.depthwise = depthwise
        self.project = project
        self.residualClamp = residualClamp
        self.bands = bands
        self.bandHeight = height
        expandedScratchCount = expand == nil ? 0 : maximumRows * expandedRowFloats
        // The projection reads ReLU outputs when the depthwise clamps at ≥ 0: then it skips their zeros.
        let skipsZeros = skipZeros && depthwise.clamp.low >= 0 && ZeroSkipGEMM.accepts(project.weights)
        zeroSkipCount = skipsZeros ? ZeroSkipGEMM.scratchCount(rows: height * g.outputWidth, k: channels) : 0
        depthwiseScratchCount = height * depthwiseRowFloats + zeroSkipCount
    }

    /// Runs the block: input [H, W, Cin] → output [OH, OW, Cout]. `expanded` holds `expandedScratchCount`
    /// floats (unused without an expand), `depthwiseRows` holds `depthwiseScratchCount`. Allocates nothing.
    func run(
        input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        expanded: UnsafeMutablePointer<Float>, depthwiseRows: UnsafeMutablePointer<Float>
    ) {
        let g = depthwise.geometry
        let channels = g.inputChannels
        let inputRowFloats = g.inputWidth * (expand?.weights.k ?? channels)
        let expandedRowFloats = g.inputWidth * channels
        let outputRowFloats = g.outputWidth * project.weights.n
        let zeroSkipLists = zeroSkipCount > 0 ? depthwiseRows + bandHeight * g.outputWidth * channels : nil
        for band in bands {
            let depthwiseInput: UnsafePointer<Float>
            if let expand {
                if band.keptRows > 0 && band.keptFrom > 0 {
                    memmove(
                        expanded, expanded + band.keptFrom * expandedRowFloats,
                        band.keptRows * expandedRowFloats * MemoryLayout<Float>.stride)
                }
                if band.newRows > 0 {
                    GEMM.multiply(
                        rows: band.newRows * g.inputWidth,
                        a: input + (band.firstInputRow + band.keptRows) * inputRowFloats, weights: expand.weights,
                        bias: expand.bias?.pointer, clamp: expand.clamp,
                        c: expanded + band.keptRows * expandedRowFloats)
                }
                depthwiseInput = UnsafePointer(expanded)
            } else {
                depthwiseInput = input + band.firstInputRow * inputRowFloats
            }
            DepthwiseConv2D.simd(
                input: depthwiseInput, geometry: band.geometry, kernel: depthwise.kernel.pointer,
                bias: depthwise.bias?.pointer, clamp: depthwise.clamp, output: depthwiseRows, threads: 1)
            let outputRows = output + band.firstOutputRow * outputRowFloats
            GEMM.multiply(
                rows: band.outputRows * g.outputWidth, a: depthwiseRows, weights: project.weights,
                bias: project.bias?.pointer, clamp: project.clamp, c: outputRows, zeroSkipScratch: zeroSkipLists)
            if let residualClamp {
                AddTensors.simd(
                    input + band.firstOutputRow * outputRowFloats, outputRows, count: band.outputRows * outputRowFloats,
                    clamp: residualClamp, output: outputRows)
            }
        }
    }

    /// Short description for `model inspect --plan` and `bench embed`: e.g. "fused pw→dw3x3/2→pw (14 bands of 4 rows)".
    var kindName: String {
        let g = depthwise.geometry
        return (expand == nil ? "fused " : "fused pw→") + "dw\(g.kernelHeight)x\(g.kernelWidth)/\(g.strideHeight)→pw"
            + (residualClamp == nil ? "" : "+add")
            + " (\(bands.count) band\(bands.count == 1 ? "" : "s") of \(bandHeight)\(zeroSkipCount > 0 ? ", zero skip" : ""))"
    }
}
