// Helpers shared by the Gestures tests: where the real photos and models are (fetched by
// `make models`), a real feature extractor, and jittered sample frames of photos.
import Capture
import Foundation
import Gestures
import NeuralNet
import Testing

enum TestFiles {
    static let directory =
        ProcessInfo.processInfo.environment["GESTUREPAD_TEST_FILES"]
        ?? ((ProcessInfo.processInfo.environment["XDG_CACHE_HOME"] ?? NSHomeDirectory() + "/.cache")
            + "/gesturepad/files")
    static let required = ProcessInfo.processInfo.environment["GESTUREPAD_REQUIRE_MODELS"] == "1"
    /// The five photos that stand in for five gestures (distinct scenes, as distinct hand poses are).
    static let gesturePhotos = [
        "up": "astronaut.png", "down": "coffee.png", "left": "chelsea.png",
        "right": "rocket.jpg", "idle": "motorcycle_left.png",
    ]
    static let modelName = "mobilenet_v1_1.0_224"
    static var available: Bool {
        gesturePhotos.values.allSatisfy { FileManager.default.fileExists(atPath: directory + "/" + $0) }
            && ModelStore.userDefault().contains(modelName)
    }

    static func photo(for label: String) throws -> RGBImage {
        try RGBImage.read(directory + "/" + gesturePhotos[label]!)
    }

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
