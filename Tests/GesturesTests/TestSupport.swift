// Helpers shared by the Gestures tests: the real feature extractor (the photos and models come from
// TestSupport's TestFiles) and jittered sample frames of photos.
import Capture
import Foundation
import Gestures
import NeuralNet
import TestSupport
import Testing

extension TestFiles {
    /// The real MobileNet v1 1.0 extractor (conv_pw_13_relu), loaded once per process.
    nonisolated(unsafe) private static var sharedExtractor: FeatureExtractor?
    private static let lock = NSLock()
    static func extractor() throws -> FeatureExtractor {
        lock.lock()
        defer { lock.unlock() }
        if let sharedExtractor { return try sharedExtractor.duplicate() }
        let loaded = try FeatureExtractor.load(modelName: modelName)
        sharedExtractor = loaded
        return try loaded.duplicate()
    }
}

/// `count` jittered sample frames (224×224×3 uint8) of `photo`, deterministic for `seed`.
func jitteredSamples(
    of photo: RGBImage, count: Int, seed: UInt64, jitter: CameraJitter = CameraJitter(),
    mirror: Bool = false
) -> [[UInt8]] {
    var camera = SimulatedCamera(width: 320, height: 240, jitter: jitter, seed: seed)
    let framer = SampleFramer(side: 224, mirror: mirror)
    return (0..<count).map { _ in framer.run(camera.frame(of: photo)) }
}
