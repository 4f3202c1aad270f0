// ConvGeometry: the sizes and explicit paddings of one 2-D convolution window sweep, shared by the
// conv, depthwise and im2col kernels. Keras/TF `same` pads total = max((out-1)*stride + k - in, 0),
// the smaller half at the top/left (so stride 2 on even input pads bottom/right only).
// Legend: H W C = input height, width, channels; KH KW = kernel; OH OW = output; S = stride.
// Sizes are bounded on entry (SizeLimits: sides and channels ≤ maximumTensorElements, kernel, stride and
// padding ≤ maximumSpatialSize), so the arithmetic below cannot overflow even in -Ounchecked builds.

/// Sizes of a convolution: input [H, W, C], kernel [KH, KW], strides, explicit pads and output [OH, OW].
public struct ConvGeometry: Sendable, Equatable {
    public let inputHeight: Int, inputWidth: Int, inputChannels: Int
    public let kernelHeight: Int, kernelWidth: Int
    public let strideHeight: Int, strideWidth: Int
    /// Zeros added around the input (a `same` padding resolved, plus any fused ZeroPadding2D).
    public let padding: Padding2D
    public let outputHeight: Int, outputWidth: Int

    /// Resolves `mode` for an input of `height × width × channels`; `extra` is explicit padding
    /// (a fused ZeroPadding2D) applied before the convolution. Returns nil when no output pixel fits or a
    /// size is outside `SizeLimits`.
    public init?(
        height: Int, width: Int, channels: Int, kernel: (Int, Int), strides: (Int, Int),
        mode: Padding, extra: Padding2D = .zero
    ) {
        let spatial = 1...SizeLimits.maximumSpatialSize
        let paddingRange = 0...SizeLimits.maximumSpatialSize
        let side = 1...SizeLimits.maximumTensorElements
        guard spatial.contains(kernel.0), spatial.contains(kernel.1), spatial.contains(strides.0),
            spatial.contains(strides.1), side.contains(height), side.contains(width), side.contains(channels),
            [extra.top, extra.bottom, extra.left, extra.right].allSatisfy(paddingRange.contains)
        else { return nil }
        let paddedHeight = height + extra.top + extra.bottom
        let paddedWidth = width + extra.left + extra.right
        var resolved = extra
        switch mode {
        case .valid:
            guard paddedHeight >= kernel.0, paddedWidth >= kernel.1 else { return nil }
            outputHeight = (paddedHeight - kernel.0) / strides.0 + 1
            outputWidth = (paddedWidth - kernel.1) / strides.1 + 1
        case .same:
            outputHeight = (paddedHeight + strides.0 - 1) / strides.0
            outputWidth = (paddedWidth + strides.1 - 1) / strides.1
            let totalH = max((outputHeight - 1) * strides.0 + kernel.0 - paddedHeight, 0)
            let totalW = max((outputWidth - 1) * strides.1 + kernel.1 - paddedWidth, 0)
            resolved.top += totalH / 2
            resolved.bottom += totalH - totalH / 2
            resolved.left += totalW / 2
            resolved.right += totalW - totalW / 2
        }
        guard outputHeight >= 1, outputWidth >= 1, height >= 1, width >= 1, channels >= 1 else { return nil }
        inputHeight = height
        inputWidth = width
        inputChannels = channels
        kernelHeight = kernel.0
        kernelWidth = kernel.1
        strideHeight = strides.0
        strideWidth = strides.1
        padding = resolved
    }

    /// Number of input scalars (H·W·C).
    public var inputCount: Int { inputHeight * inputWidth * inputChannels }
    /// Number of output pixels (OH·OW).
    public var outputPixels: Int { outputHeight * outputWidth }
    /// Length of one im2col row (KH·KW·C).
    public var patchLength: Int { kernelHeight * kernelWidth * inputChannels }
    /// Output columns whose whole window lies inside the image horizontally (no left or right padding read).
    /// Empty when the window is wider than the left-padded image: the span is checked before dividing, as
    /// integer division truncates toward zero (−1 / 2 == 0 would count column 0 as interior).
    public var interiorColumns: Range<Int> {
        let start = min(outputWidth, (padding.left + strideWidth - 1) / strideWidth)
        let span = inputWidth - kernelWidth + padding.left
        guard span >= 0 else { return start..<start }
        return start..<max(start, min(outputWidth, span / strideWidth + 1))
    }
    /// True for a 1×1, stride-1, unpadded window: the convolution is a plain GEMM.
    public var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1 && padding == .zero
    }
}
