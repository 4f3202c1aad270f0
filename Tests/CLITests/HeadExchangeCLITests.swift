// `gesturepad head import|predict|export` and `embed --layer <classifier>` as the browser harness
// runs them: the real binary, the TF.js demo's installed mobilenet_v1_0.25_224, a head written the
// way TF.js `model.save` writes one, a temp data directory. Needs `make models`; skipped otherwise.
import Foundation
import NeuralNet
import TestSupport
import Testing

enum DemoModelCLI {
    static let name = "mobilenet_v1_0.25_224"
}

@Suite(
    "gesturepad head import/predict/export (TF.js)", .serialized,
    .enabled(
        if: TestFiles.modelInstalled(DemoModelCLI.name) || TestFiles.required,
        "mobilenet_v1_0.25_224 not installed: run `make models`"))
struct HeadExchangeCLITests {
    /// Writes a TF.js-saved head [7,7,256] → Dense(8, relu) → Dense(4, softmax, no bias) and returns its weights.
    func writeTFJSHead(to directory: String) throws -> (kernel1: [Float], bias1: [Float], kernel2: [Float]) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var generator = SplitMix64(seed: 7)
        let kernel1 = (0..<(12_544 * 8)).map { _ in generator.nextFloat(in: -0.02...0.02) }
        let bias1 = (0..<8).map { _ in generator.nextFloat(in: -0.1...0.1) }
        let kernel2 = (0..<32).map { _ in generator.nextFloat(in: -1...1) }
        let json = """
            {"modelTopology":{"class_name":"Sequential","config":{"name":"sequential_1","layers":[\
            {"class_name":"Flatten","config":{"name":"flatten_Flatten1","trainable":true,"batch_input_shape":[null,7,7,256],"dtype":"float32"}},\
            {"class_name":"Dense","config":{"units":8,"activation":"relu","use_bias":true,"name":"dense_Dense1","trainable":true}},\
            {"class_name":"Dense","config":{"units":4,"activation":"softmax","use_bias":false,"name":"dense_Dense2","trainable":true}}]},\
            "keras_version":"tfjs-layers 2.3.0","backend":"tensor_flow.js"},"format":"layers-model",\
            "generatedBy":"TensorFlow.js tfjs-layers v2.3.0","convertedBy":null,"weightsManifest":[{"paths":["./model.weights.bin"],\
            "weights":[{"name":"dense_Dense1/kernel","shape":[12544,8],"dtype":"float32"},\
            {"name":"dense_Dense1/bias","shape":[8],"dtype":"float32"},{"name":"dense_Dense2/kernel","shape":[8,4],"dtype":"float32"}]}]}
            """
        try Data(json.utf8).write(to: URL(fileURLWithPath: directory + "/model.json"))
        try (kernel1 + bias1 + kernel2).withUnsafeBytes { Data($0) }.write(
            to: URL(fileURLWithPath: directory + "/model.weights.bin"))
        return (kernel1, bias1, kernel2)
    }

    @Test func importPredictExport() throws {
        let root = temporaryDirectory("head-cli")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = ["--data-dir", root + "/data"]
        let weights = try writeTFJSHead(to: root + "/tfjs")

        let imported = try CLI.run(
            ["head", "import", root + "/tfjs", "--labels", "up,down,left,right", "--model", DemoModelCLI.name] + data)
        #expect(imported.status == 0, "\(imported.error)")
        #expect(imported.output.contains("imported head v1 (up,down,left,right)"), "\(imported.output)")

        // A frame → embed (the cut and the ImageNet probabilities) → head predict.
        var generator = SplitMix64(seed: 3)
        let frame = Tensor(
            shape: [1, 224, 224, 3], scalars: (0..<(224 * 224 * 3)).map { _ in generator.nextFloat(in: -1...1) })
        try NPY.write(frame, to: root + "/frame.npy")
        let embedded = try CLI.run([
            "embed", "--model", DemoModelCLI.name, "--input", root + "/frame.npy", "--output", root + "/f.npy",
        ])
        #expect(embedded.status == 0, "\(embedded.error)")
        let features = try NPY.read(root + "/f.npy")
        #expect(features.shape == [1, 7, 7, 256])
        let imagenet = try CLI.run([
            "embed", "--model", DemoModelCLI.name, "--layer", "reshape_2", "--input", root + "/frame.npy",
            "--output", root + "/imagenet.npy",
        ])
        #expect(imagenet.status == 0, "\(imagenet.error)")
        let classes = try NPY.read(root + "/imagenet.npy")
        #expect(classes.shape == [1, 1000] && abs(classes.scalars.reduce(0, +) - 1) < 1e-3)

        let predicted = try CLI.run(
            ["head", "predict", "--input", root + "/f.npy", "--output", root + "/p.npy"] + data)
        #expect(predicted.status == 0, "\(predicted.error)")
        let probabilities = try NPY.read(root + "/p.npy")
        #expect(probabilities.shape == [1, 4])
        let hidden = (0..<8).map { unit in
            max(
                0,
                weights.bias1[unit]
                    + (0..<12_544).reduce(Float(0)) { $0 + features.scalars[$1] * weights.kernel1[$1 * 8 + unit] })
        }
        let logits = (0..<4).map { k in (0..<8).reduce(Float(0)) { $0 + hidden[$1] * weights.kernel2[$1 * 4 + k] } }
        let exps = logits.map { expf($0 - logits.max()!) }
        let expected = exps.map { $0 / exps.reduce(0, +) }
        #expect(
            zip(probabilities.scalars, expected).allSatisfy { abs($0 - $1) < 1e-5 },
            "\(probabilities.scalars) vs \(expected)")

        // The bundle, read back with our TF.js reader and run on the same frame, gives the same probabilities.
        let exported = try CLI.run(["head", "export", "--bundle", root + "/bundle"] + data)
        #expect(exported.status == 0, "\(exported.error)")
        let bundle = try TFJSLayersFormat.read(root + "/bundle")
        let fromBundle = try Embedder(model: bundle, outputLayer: "head_output").embed(frame).scalars
        let worst = zip(fromBundle, probabilities.scalars).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 1e-5, "bundle vs embed + head predict: max |Δ| \(worst)")
        let labels =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/bundle/labels.json")))
            as! [String: Any]
        #expect(labels["labels"] as? [String] == ["up", "down", "left", "right"] && labels["bundle"] as? Bool == true)
        #expect(try CLI.run(["head", "export", root + "/alone"] + data).status == 0)
        #expect(FileManager.default.fileExists(atPath: root + "/alone/labels.json"))

        // Misuse: both or neither of DIR / --bundle; features of the wrong shape.
        let neither = try CLI.run(["head", "export"] + data)
        #expect(neither.status != 0 && neither.error.contains("exactly one of DIR or --bundle"), "\(neither.error)")
        try NPY.write(Tensor(shape: [1, 5], repeating: 0), to: root + "/wrong.npy")
        let wrong = try CLI.run(
            ["head", "predict", "--input", root + "/wrong.npy", "--output", root + "/x.npy"] + data)
        #expect(wrong.status != 0 && wrong.error.contains("[7, 7, 256]"), "\(wrong.error)")
    }

    @Test func importRefusesAnotherEmbeddersShape() throws {
        guard ModelStore.userDefault().contains("mobilenet_v1_1.0_224") else { return }
        let root = temporaryDirectory("head-cli")
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try writeTFJSHead(to: root + "/tfjs")
        let refused = try CLI.run([
            "head", "import", root + "/tfjs", "--labels", "up,down,left,right", "--model", "mobilenet_v1_1.0_224",
            "--data-dir", root + "/data",
        ])
        #expect(refused.status != 0)
        #expect(refused.error.contains("[7, 7, 256]") && refused.error.contains("[7, 7, 1024]"), "\(refused.error)")
        #expect(try CLI.run(["head", "list", "--data-dir", root + "/data"]).output.contains("no heads yet"))
    }
}
