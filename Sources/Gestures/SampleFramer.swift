// SampleFramer: a camera/recording frame or a photo → the 224×224 RGB uint8 "sample frame" that the
// sample store keeps and the embedder sees. Training and live recognition both go through this one
// quantised image (crop → Pillow-weighted resample → mirror → round to 0…255), so a stored sample
// and a live frame of the same scene give the same embedding; normalisation happens afterwards
// (`FeatureExtractor`). The frame path allocates nothing per frame.
// Legend: S = side (224).
import Capture

/// Turns frames into S×S×3 uint8 RGB sample frames (mirrored when configured).
public final class SampleFramer {
    /// Output side S.
    public let side: Int
    /// Whether frames are mirrored horizontally (a selfie view: the user's left is on screen left).
    public let mirror: Bool
    private let preprocessor: Preprocessor
    /// [S, S, 3] resampled floats in 0…255, before rounding.
    private let scratch: UnsafeMutablePointer<Float>

    /// Bytes in one sample frame (S·S·3).
    public var byteCount: Int { side * side * 3 }

    public init(side: Int = 224, mirror: Bool) {
        self.side = side
        self.mirror = mirror
        preprocessor = Preprocessor(
            outputSize: side, mirror: mirror,
            normalization: PixelNormalization(channels: Array(repeating: (1, 0), count: 3)))
        scratch = .allocate(capacity: side * side * 3)
    }

    deinit { scratch.deallocate() }

    /// Writes the sample frame of `frame` ([S, S, 3] uint8) to `output`.
    public func run(frame: FrameView, into output: UnsafeMutablePointer<UInt8>) throws(CaptureError) {
        try preprocessor.run(frame: frame, into: scratch)
        Self.quantize(scratch, count: byteCount, into: output)
    }

    /// The sample frame of a photo (allocates the result).
    public func run(_ image: RGBImage) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: byteCount)
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

    /// Rounds 0…255 floats to bytes (values are already clamped by the preprocessor; clamped again for safety).
    @inline(__always)
    static func quantize(_ source: UnsafePointer<Float>, count: Int, into output: UnsafeMutablePointer<UInt8>) {
        for index in 0..<count {
            output[index] = UInt8(min(max(source[index] + 0.5, 0), 255))
        }
    }
}
