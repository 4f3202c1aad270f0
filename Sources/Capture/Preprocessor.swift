// Preprocessor: an RGB frame → a model input [S, S, 3] Float: centre-crop to a square, resize to
// S×S with an antialiased bilinear (triangle) filter whose support widens with the downscale
// factor — Pillow's `Image.resize(BILINEAR)` weights, so our inputs match the golden files' — an
// optional horizontal mirror, and a per-channel affine normalisation (x·scale + offset).
// Two twins: `reference` computes each output pixel from its 2-D taps; `run` is the separable frame
// path of FramePreprocessing.swift, with filters planned once per input size and no allocation per frame.
// Legend: W H = input size, side = min(W, H) crop, S = output side.

/// Per-channel affine map from 0…255 pixel values to model inputs.
public struct PixelNormalization: Sendable, Equatable {
    /// (scale, offset) for R, G, B: input = pixel · scale + offset.
    public var channels: [(scale: Float, offset: Float)]

    public init(channels: [(scale: Float, offset: Float)]) {
        precondition(channels.count == 3, "three channels (R, G, B) expected")
        self.channels = channels
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        zip(lhs.channels, rhs.channels).allSatisfy { $0.scale == $1.scale && $0.offset == $1.offset }
    }
}

/// One-dimensional resampling weights: for each output index, a run of input taps.
struct ResampleFilter: Equatable {
    let inputSize: Int, outputSize: Int
    /// First input index of each output's taps.
    let starts: [Int]
    /// Number of taps of each output.
    let counts: [Int]
    /// Tap weights, `taps` per output (zero-padded), each output's weights sum to 1.
    let weights: [Float]
    let taps: Int

    /// Pillow's bilinear resampling (`ImagingResample`, triangle filter, support 1 · max(scale, 1)).
    init(inputSize: Int, outputSize: Int) {
        self.inputSize = inputSize
        self.outputSize = outputSize
        let scale = Double(inputSize) / Double(outputSize)
        let filterScale = max(scale, 1)
        let support = filterScale
        let taps = Int(support.rounded(.up)) * 2 + 1
        var starts = [Int](repeating: 0, count: outputSize)
        var counts = starts
        var weights = [Float](repeating: 0, count: outputSize * taps)
        for output in 0..<outputSize {
            let center = (Double(output) + 0.5) * scale
            let first = max(0, Int(center - support + 0.5))
            let end = min(inputSize, Int(center + support + 0.5))
            var raw: [Double] = []
            for input in first..<max(first, end) {
                let distance = abs((Double(input) - center + 0.5) / filterScale)
                raw.append(distance < 1 ? 1 - distance : 0)
            }
            let total = raw.reduce(0, +)
            starts[output] = first
            counts[output] = min(raw.count, taps)
            for (index, weight) in raw.prefix(taps).enumerated() {
                weights[output * taps + index] = Float(total > 0 ? weight / total : 0)
            }
        }
        self.starts = starts
        self.counts = counts
        self.weights = weights
        self.taps = taps
    }
}

/// Planned state of the frame path (FramePreprocessing.swift, FrameResampling.swift) for one crop side and format:
/// the vertical filter, one horizontal band filter per plane, and the one-row buffers.
final class FramePlan {
    let filter: ResampleFilter
    let side: Int
    let format: PixelFormat
    /// Floats in one vertical-pass row (the crop's bytes of all planes side by side).
    let rowFloats: Int
    /// Horizontal filters of the three planes (R G B, or Y U V), mirror folded in.
    let bands: [BandFilter]
    /// [2, rowFloats + 16] two vertical-pass rows (the horizontal pass runs on row pairs), with slack.
    let rows: UnsafeMutablePointer<Float>
    /// Floats from one row buffer to the next in `rows`.
    var rowStride: Int { rowFloats + 16 }
    /// [taps] the byte rows of one output row's vertical taps.
    let rowPointers: UnsafeMutablePointer<UnsafePointer<UInt8>>

    init(filter: ResampleFilter, side: Int, format: PixelFormat, rowFloats: Int, mirror: Bool) {
        self.filter = filter
        self.side = side
        self.format = format
        self.rowFloats = rowFloats
        let chromaCount = format == .yuv420 ? (side + 1) / 2 : side
        // Where plane element e sits in the row buffer: (shift of x, stride, offset) per plane.
        let layout: [(shift: Int, stride: Int, offset: Int)]
        switch format {
        case .rgb24: layout = [(0, 3, 0), (0, 3, 1), (0, 3, 2)]
        case .yuyv: layout = [(0, 2, 0), (1, 4, 1), (1, 4, 3)]
        case .yuv420: layout = [(0, 1, 0), (1, 1, side), (1, 1, side + chromaCount)]
        case .yuv444, .mjpeg: layout = [(0, 1, 0), (0, 1, side), (0, 1, 2 * side)]
        }
        bands = layout.map {
            BandFilter(filter: filter, mirror: mirror, shift: $0.shift, stride: $0.stride, offset: $0.offset)
        }
        rows = .allocate(capacity: 2 * (rowFloats + 16))
        rows.initialize(repeating: 0, count: 2 * (rowFloats + 16))
        rowPointers = .allocate(capacity: max(filter.taps, 1))
    }

    deinit {
        rows.deallocate()
        rowPointers.deallocate()
    }
}

/// Turns frames into normalised model inputs of side `outputSize`.
public final class Preprocessor {
    public let outputSize: Int
    public let mirror: Bool
    public let normalization: PixelNormalization

    /// The frame path's plan (FramePreprocessing.swift) for the last frame size seen.
    private var framePlanCache: FramePlan?

    public init(outputSize: Int = 224, mirror: Bool = false, normalization: PixelNormalization) {
        precondition(outputSize > 0, "output size must be positive")
        self.outputSize = outputSize
        self.mirror = mirror
        self.normalization = normalization
    }

    /// The centred square crop of a width × height frame: (x, y, side).
    public static func centreCrop(width: Int, height: Int) -> (x: Int, y: Int, side: Int) {
        let side = min(width, height)
        return ((width - side) / 2, (height - side) / 2, side)
    }

    /// Plain definition: each output pixel is Σ wy·wx·pixel over its 2-D taps, then normalised → [S, S, 3].
    public func reference(_ image: RGBImage) -> [Float] {
        reference(rgb: image.pixels.map(Float.init), width: image.width, height: image.height)
    }

    /// The 2-D reference on an RGB image given as floats [H, W, 3] in 0…255.
    /// `evenCropX` moves the crop left by one pixel if needed so chroma pairs stay whole (4:2:x frames).
    func reference(rgb: [Float], width: Int, height: Int, evenCropX: Bool = false) -> [Float] {
        var crop = Self.centreCrop(width: width, height: height)
        if evenCropX { crop.x &= ~1 }
        let filter = ResampleFilter(inputSize: crop.side, outputSize: outputSize)
        var output = [Float](repeating: 0, count: outputSize * outputSize * 3)
        for outY in 0..<outputSize {
            for outX in 0..<outputSize {
                let sourceX = mirror ? outputSize - 1 - outX : outX
                for channel in 0..<3 {
                    var sum: Float = 0
                    for tapY in 0..<filter.counts[outY] {
                        let y = crop.y + filter.starts[outY] + tapY
                        var row: Float = 0
                        for tapX in 0..<filter.counts[sourceX] {
                            let x = crop.x + filter.starts[sourceX] + tapX
                            row += filter.weights[sourceX * filter.taps + tapX] * rgb[(y * width + x) * 3 + channel]
                        }
                        sum += filter.weights[outY * filter.taps + tapY] * row
                    }
                    let affine = normalization.channels[channel]
                    output[(outY * outputSize + outX) * 3 + channel] = sum * affine.scale + affine.offset
                }
            }
        }
        return output
    }

    /// Filters and buffers of the frame path for crop side `side` and `format`, planned once per size and format.
    func framePlan(side: Int, format: PixelFormat, rowFloats: Int) -> FramePlan {
        if let plan = framePlanCache, plan.side == side, plan.format == format, plan.rowFloats == rowFloats {
            return plan
        }
        let plan = FramePlan(
            filter: ResampleFilter(inputSize: side, outputSize: outputSize), side: side, format: format,
            rowFloats: rowFloats, mirror: mirror)
        framePlanCache = plan
        return plan
    }

    /// Convenience: the fast path (FramePreprocessing.swift, as an RGB24 frame) on an `RGBImage`,
    /// returning a new [S, S, 3] buffer.
    public func run(_ image: RGBImage) -> [Float] {
        var output = [Float](repeating: 0, count: outputSize * outputSize * 3)
        image.pixels.withUnsafeBytes { bytes in
            output.withUnsafeMutableBufferPointer { destination in
                let frame = FrameView(
                    width: image.width, height: image.height, format: .rgb24, bytesPerLine: image.width * 3,
                    bytes: bytes, sequence: 0, timestampNanoseconds: 0)
                // An RGBImage always holds width·height·3 bytes, so the frame path cannot reject it.
                try? run(frame: frame, into: destination.baseAddress!)
            }
        }
        return output
    }
}
