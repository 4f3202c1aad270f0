// Where the tests find the real photos and models that `make models` fetches and installs: the photo
// cache (GESTUREPAD_TEST_FILES, else $XDG_CACHE_HOME/gesturepad/files) and the installed models (the
// app's own ModelStore.userDefault(), which follows XDG_DATA_HOME). GESTUREPAD_REQUIRE_MODELS=1 (set by
// `make test`) turns a missing file into a failure instead of a skipped suite.
import Capture
import Foundation
import NeuralNet

/// The real photos and models the real-model suites run on.
public enum TestFiles {
    /// The folder `tools/fetch-models.py` fills: photos, wheels, the TF.js demo model.
    public static let directory =
        ProcessInfo.processInfo.environment["GESTUREPAD_TEST_FILES"]
        ?? ((ProcessInfo.processInfo.environment["XDG_CACHE_HOME"] ?? NSHomeDirectory() + "/.cache")
            + "/gesturepad/files")
    /// Set by `make test`: absent models fail the real-model suites rather than skip them.
    public static let required = ProcessInfo.processInfo.environment["GESTUREPAD_REQUIRE_MODELS"] == "1"
    /// The embedder the gesture suites use.
    public static let modelName = "mobilenet_v1_1.0_224"
    /// The five photos that stand in for five gestures (distinct scenes, as distinct hand poses are).
    public static let photos = [
        "up": "astronaut.png", "down": "coffee.png", "left": "chelsea.png", "right": "rocket.jpg",
        "idle": "motorcycle_left.png",
    ]

    /// The path of `name` in the photo cache.
    public static func path(_ name: String) -> String { directory + "/" + name }

    /// Whether every file in `names` is in the photo cache.
    public static func present(_ names: [String]) -> Bool {
        names.allSatisfy { FileManager.default.fileExists(atPath: path($0)) }
    }

    /// Whether the model `name` is installed where the app looks for it.
    public static func modelInstalled(_ name: String = modelName) -> Bool {
        ModelStore.userDefault().contains(name)
    }

    /// The five gesture photos are fetched and the default model is installed.
    public static var available: Bool { present(Array(photos.values)) && modelInstalled() }

    /// The photo standing in for gesture `label` (one of `photos`' keys).
    public static func photo(_ label: String) throws -> RGBImage {
        guard let name = photos[label] else { throw TestSupportError("no test photo for label \"\(label)\"") }
        return try RGBImage.read(path(name))
    }
}

/// A mistake in how a test uses the support code (an unknown photo label, a missing binary).
public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
