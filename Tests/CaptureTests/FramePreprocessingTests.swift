// Frame preprocessing from camera/recording formats: the one-pass fast twin against the reference
// (per-pixel BT.601 conversion, then 2-D resample) on odd and even sizes, every format, mirrored
// or not; RGB24 frames must equal the RGBImage path exactly. Test frames are made from an in-gamut
// RGB test card, so the only allowed difference is where the clamp falls (after vs before
// resampling). Chroma averaged across the card's sharp edges makes a few out-of-gamut pixels, so
// the tolerance is 0.05 in x/127.5−1 units (≈ 3 grey levels), typically 1e-5.
import Foundation
import Testing

@testable import Capture

func frameBytes(_ card: RGBImage, _ format: PixelFormat) -> [UInt8] { TestPattern.bytes(of: card, as: format) }

func withFrame<R>(_ bytes: [UInt8], width: Int, height: Int, format: PixelFormat, _ body: (FrameView) throws -> R)
    rethrows -> R
{
    let bytesPerLine = TestPattern.bytesPerLine(width: width, format: format)
    return try bytes.withUnsafeBytes { raw in
        try body(
            FrameView(
                width: width, height: height, format: format, bytesPerLine: bytesPerLine, bytes: raw,
                sequence: 0, timestampNanoseconds: 0))
    }
}

@Suite("Capture: frame preprocessing")
struct FramePreprocessingTests {
    @Test(
        "fast one-pass path equals the reference", arguments: [(641, 479), (320, 240), (1280, 720), (7, 5)],
        [PixelFormat.yuyv, .rgb24, .yuv420, .yuv444])
    func fastEqualsReference(_ size: (Int, Int), format: PixelFormat) throws {
        let card = testCard(width: size.0, height: size.1)
        let bytes = frameBytes(card, format)
        for mirror in [false, true] {
            let preprocessor = Preprocessor(
                outputSize: size.0 < 224 ? 4 : 224, mirror: mirror, normalization: symmetric)
            let (expected, actual) = try withFrame(bytes, width: size.0, height: size.1, format: format) { frame in
                var actual = [Float](repeating: .nan, count: preprocessor.outputSize * preprocessor.outputSize * 3)
                try preprocessor.run(frame: frame, into: &actual)
                return (try preprocessor.reference(frame: frame), actual)
            }
            let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 0.05, "\(format) \(size) mirror=\(mirror): worst |Δ| \(worst)")
        }
    }

    @Test("an RGB24 frame gives what the RGBImage path gives", arguments: [(641, 479), (300, 451)])
    func rgbFrameMatchesImage(_ size: (Int, Int)) throws {
        let card = testCard(width: size.0, height: size.1)
        let preprocessor = Preprocessor(normalization: symmetric)
        let fromImage = preprocessor.run(card)
        let fromFrame = try withFrame(card.pixels, width: size.0, height: size.1, format: .rgb24) { frame in
            var output = [Float](repeating: .nan, count: 224 * 224 * 3)
            try preprocessor.run(frame: frame, into: &output)
            return output
        }
        let worst = zip(fromFrame, fromImage).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-4)
    }

    @Test("short buffers and MJPEG are refused with a reason")
    func errors() {
        let preprocessor = Preprocessor(normalization: symmetric)
        var output = [Float](repeating: 0, count: 224 * 224 * 3)
        #expect(throws: CaptureError.self) {
            try withFrame([UInt8](repeating: 0, count: 100), width: 640, height: 480, format: .yuyv) {
                try preprocessor.run(frame: $0, into: &output)
            }
        }
        #expect(throws: CaptureError.self) {
            try withFrame([0xFF, 0xD8], width: 640, height: 480, format: .mjpeg) {
                try preprocessor.run(frame: $0, into: &output)
            }
        }
    }
}
