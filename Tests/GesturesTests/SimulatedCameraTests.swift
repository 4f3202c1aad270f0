// The simulated camera and the sample framer: deterministic jitter, and on real photos through the
// real embedder, frames of one photo embed closer to each other than to other photos — the premise
// of the head-training tests. Also measures the near-duplicate distances the recorder relies on.
import Capture
import Foundation
import Gestures
import NeuralNet
import TestSupport
import Testing

@Suite struct SimulatedCameraTests {
    static let card = TestPattern.image(width: 96, height: 64)

    @Test func sameSeedSameFramesOtherSeedOtherFrames() {
        var first = SimulatedCamera(width: 40, height: 30, seed: 7)
        var second = SimulatedCamera(width: 40, height: 30, seed: 7)
        var third = SimulatedCamera(width: 40, height: 30, seed: 8)
        let a = first.frame(of: Self.card)
        let b = second.frame(of: Self.card)
        let c = third.frame(of: Self.card)
        #expect(a == b)
        #expect(a != c)
        #expect(a.width == 40 && a.height == 30)
    }

    @Test func noJitterReproducesTheCentredPhoto() {
        // A 4:3 frame of a 4:3 photo with no jitter is the photo resampled (a constant image stays constant).
        let flat = RGBImage(
            width: 80, height: 60,
            pixels: [UInt8](repeating: 0, count: 80 * 60 * 3).enumerated().map {
                [200, 100, 50][$0.offset % 3]
            })
        var camera = SimulatedCamera(width: 40, height: 30, jitter: .none, seed: 1)
        let frame = camera.frame(of: flat)
        #expect(frame.pixels.enumerated().allSatisfy { $0.element == [200, 100, 50][$0.offset % 3] })
    }

    @Test func framerMatchesThePreprocessorRoundedAndMirrors() {
        let framer = SampleFramer(side: 32, mirror: false)
        let mirrored = SampleFramer(side: 32, mirror: true)
        let identity = PixelNormalization(channels: Array(repeating: (1, 0), count: 3))
        let reference = Preprocessor(outputSize: 32, normalization: identity).reference(Self.card)
        let sample = framer.run(Self.card)
        let flipped = mirrored.run(Self.card)
        let worst = zip(sample, reference).map { abs(Float($0) - $1) }.max()!
        #expect(worst <= 0.5 + 1e-3, "rounded sample vs float reference: \(worst)")
        for y in 0..<32 {
            for x in 0..<32 {
                for channel in 0..<3 {
                    #expect(flipped[(y * 32 + x) * 3 + channel] == sample[(y * 32 + 31 - x) * 3 + channel])
                }
            }
        }
    }
}

@Suite(
    "Real photos under camera jitter",
    .enabled(
        if: TestFiles.available || TestFiles.required,
        "photos/models not fetched: run `make models`"))
struct JitteredPhotoEmbeddingTests {
    @Test func framesOfOnePhotoAreCloserThanFramesOfAnother() throws {
        let extractor = try TestFiles.extractor()
        var embeddings: [String: [[Float]]] = [:]
        for label in ["up", "left"] {
            embeddings[label] = try jitteredSamples(of: TestFiles.photo(label), count: 6, seed: 3).map {
                try extractor.embed(sample: $0)
            }
        }
        var within: [Float] = []
        var across: [Float] = []
        for label in ["up", "left"] {
            let own = embeddings[label]!
            let other = embeddings[label == "up" ? "left" : "up"]!
            for i in own.indices {
                for j in own.indices where j > i { within.append(SampleRecorder.relativeDistance(own[i], own[j])) }
                for j in other.indices { across.append(SampleRecorder.relativeDistance(own[i], other[j])) }
            }
        }
        // Noise only (same window, same exposure): what a still hand in front of a camera gives.
        let still = try jitteredSamples(
            of: TestFiles.photo("up"), count: 4, seed: 9,
            jitter: CameraJitter(shift: 0, zoom: 1...1, brightness: 1...1, noise: 4)
        )
        .map { try extractor.embed(sample: $0) }
        let stillDistances = (1..<still.count).map { SampleRecorder.relativeDistance(still[$0], still[0]) }
        print(
            "relative distance: still (noise σ=4) \(stillDistances.max()!), jitter within photo max \(within.max()!) "
                + "median \(within.sorted()[within.count / 2]), across photos min \(across.min()!)")
        #expect(within.max()! < across.min()!)
        // The recorder's default near-duplicate threshold sits between a still scene and a moved one.
        #expect(stillDistances.max()! < RecordingSettings().duplicateDistance)
        #expect(within.sorted()[within.count / 2] > RecordingSettings().duplicateDistance)
    }
}
