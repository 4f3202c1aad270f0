// Image decoding (stb) and preprocessing: the separable fast twin against the 2-D reference on
// odd and even frame sizes with and without mirroring; resampling weights; identity at scale 1.
// Tolerance 1e-4 absolute on inputs in [−1, 1]: the same weights summed in a different order.
import Foundation
import Testing

@testable import Capture

/// The deterministic test card (gradients plus a checkerboard, so every resize tap matters).
func testCard(width: Int, height: Int) -> RGBImage { TestPattern.image(width: width, height: height) }

let symmetric = PixelNormalization(channels: Array(repeating: (Float(1) / 127.5, -1), count: 3))

@Suite("Capture: images and preprocessing")
struct PreprocessorTests {
    @Test("PNG encode → decode is lossless")
    func pngRoundTrip() throws {
        let image = testCard(width: 37, height: 21)
        let png = image.pngData()
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(try RGBImage.decode(png) == image)
    }

    @Test("garbage and missing files are clear errors")
    func decodeErrors() {
        #expect { try RGBImage.decode(Array("not an image".utf8), path: "x.png") } throws: { error in
            guard case CaptureError.undecodableImage(let path, _) = error else { return false }
            return path == "x.png"
        }
        #expect(throws: CaptureError.fileUnreadable(path: "/nonexistent.png", reason: "no such file")) {
            try RGBImage.read("/nonexistent.png")
        }
        #expect(throws: CaptureError.self) { try RGBImage.decode([]) }
    }

    @Test(
        "resampling weights are non-negative and sum to 1",
        arguments: [(641, 224), (224, 224), (100, 224), (1280, 224)])
    func weights(_ sizes: (Int, Int)) {
        let filter = ResampleFilter(inputSize: sizes.0, outputSize: sizes.1)
        for output in 0..<sizes.1 {
            let row = filter.weights[output * filter.taps..<output * filter.taps + filter.counts[output]]
            #expect(abs(row.reduce(0, +) - 1) < 1e-5)
            #expect(row.allSatisfy { $0 >= 0 })
            #expect(filter.starts[output] >= 0 && filter.starts[output] + filter.counts[output] <= sizes.0)
        }
    }

    @Test("a 224×224 frame passes through unchanged but for normalisation")
    func identity() {
        let image = testCard(width: 224, height: 224)
        let output = Preprocessor(normalization: symmetric).run(image)
        let expected = image.pixels.map { Float($0) / 127.5 - 1 }
        #expect(zip(output, expected).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test(
        "fast twin equals the 2-D reference", arguments: [(641, 479), (320, 240), (1280, 720), (480, 640), (225, 224)],
        [false, true])
    func fastEqualsReference(_ size: (Int, Int), mirror: Bool) {
        let image = testCard(width: size.0, height: size.1)
        let preprocessor = Preprocessor(mirror: mirror, normalization: symmetric)
        let expected = preprocessor.reference(image)
        let actual = preprocessor.run(image)
        let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-4, "\(size) mirror=\(mirror): worst |Δ| \(worst)")
        // And again with a second frame of the same size (planned filters reused).
        #expect(preprocessor.run(image) == actual)
    }

    @Test("mirroring swaps left and right")
    func mirror() {
        let image = testCard(width: 300, height: 200)
        let plain = Preprocessor(outputSize: 50, normalization: symmetric).run(image)
        let mirrored = Preprocessor(outputSize: 50, mirror: true, normalization: symmetric).run(image)
        for y in 0..<50 {
            for x in 0..<50 {
                for c in 0..<3 { #expect(mirrored[(y * 50 + x) * 3 + c] == plain[(y * 50 + 49 - x) * 3 + c]) }
            }
        }
    }
}
