// Real photos through the whole user path — decode (stb), centre-crop + resize (our Preprocessor),
// normalise per model metadata, real MobileNet — must name the right ImageNet class, as
// `gesturepad classify` does. Photos: scikit-image's samples, fetched by `make models` into
// GESTUREPAD_TEST_FILES. Also checks our resize against Pillow's on the same photo.
import Foundation
import NeuralNet
import TestSupport
import Testing

@testable import Capture

@Suite(
    "Real photos",
    .enabled(
        if: (TestFiles.present(["chelsea.png"]) && TestFiles.modelInstalled("mobilenet_v1_1.0_224")
            && TestFiles.modelInstalled("mobilenet_v2_1.0_224")) || TestFiles.required,
        "photos/models not fetched: run `make models`"))
struct PhotoClassificationTests {
    // ImageNet-1k indices: 281 tabby cat, 285 Egyptian cat, 967 espresso.
    @Test(
        "chelsea is a cat and coffee is espresso, on both models",
        arguments: [
            "mobilenet_v1_1.0_224", "mobilenet_v2_1.0_224",
        ], [("chelsea", Set([281, 285])), ("coffee", Set([967]))])
    func classify(modelName: String, photo: (String, Set<Int>)) throws {
        let (model, metadata) = try ModelStore.userDefault().load(modelName)
        let image = try RGBImage.read("\(TestFiles.directory)/\(photo.0).png")
        let preprocessor = Preprocessor(
            outputSize: 224, normalization: PixelNormalization(channels: metadata.normalization.affine))
        let input = Tensor(shape: [224, 224, 3], scalars: preprocessor.run(image))
        let probabilities = try Embedder(model: model, outputLayer: metadata.classifierLayer!).embed(input).scalars
        let best = topK(probabilities, 1)[0]
        #expect(
            photo.1.contains(best.index),
            "\(modelName) \(photo.0): top-1 \(best.index) \(metadata.classNames[best.index])")
    }

    @Test("our resize of the photos matches Pillow's BILINEAR within 1 grey level", arguments: ["chelsea", "coffee"])
    func matchesPillow(photo: String) throws {
        let image = try RGBImage.read("\(TestFiles.directory)/\(photo).png")
        let identity = PixelNormalization(channels: Array(repeating: (1, 0), count: 3))
        let ours = Preprocessor(outputSize: 224, normalization: identity).run(image)
        let goldenPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../NeuralNetTests/Golden/\(photo)_224_u8.npy").standardized.path
        let pillow = try NPY.read(goldenPath).scalars
        let worst = zip(ours, pillow).map { abs($0 - $1) }.max() ?? .infinity
        // Pillow rounds to 8 bits after each of its two passes; we keep floats.
        #expect(worst <= 1.0, "\(photo): max |ours − Pillow| = \(worst) grey levels")
    }
}
