// Heads in and out of gesturepad as TF.js Layers models: a head written here exactly as TF.js'
// `model.save` writes one (Sequential, Flatten with batch_input_shape, dense_Dense1/2, one
// model.weights.bin) is imported, checked against the embedder and labels, stored and predicts as
// computed by hand; export of the head alone and of the embedder + head bundle, read back with our
// TF.js reader and run on a frame, equals embedding then predicting. Synthetic models only.
import Foundation
import Gestures
import Importers
import NeuralNet
import TestSupport
import Testing

/// Seeded values in [-1, 1).
private func seeded(_ count: Int, seed: UInt64) -> [Float] {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(state >> 40) / Float(1 << 24) * 2 - 1
    }
}

/// A head as TF.js `model.save` writes it: Sequential [Flatten(batch_input_shape) → Dense(relu) →
/// Dense(softmax, useBias)], weights in one `model.weights.bin` named "./model.weights.bin".
struct TFJSSavedHead {
    var inputShape: [Int]
    var units: Int
    var classes: Int
    var outputBias: Bool
    var seed: UInt64 = 1

    var inputCount: Int { inputShape.reduce(1, *) }
    var hiddenKernel: [Float] { seeded(inputCount * units, seed: seed) }
    var hiddenBias: [Float] { seeded(units, seed: seed + 1) }
    var outputKernel: [Float] { seeded(units * classes, seed: seed + 2).map { $0 * 3 } }
    var bias: [Float] { seeded(classes, seed: seed + 3) }

    func write(to directory: String, labels: [String]? = nil) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let shape = "[null," + inputShape.map(String.init).joined(separator: ",") + "]"
        let initializer =
            #"{"class_name":"VarianceScaling","config":{"scale":1,"mode":"fan_in","distribution":"normal","seed":null}}"#
        let json = """
            {"modelTopology":{"class_name":"Sequential","config":{"name":"sequential_1","layers":[\
            {"class_name":"Flatten","config":{"name":"flatten_Flatten1","trainable":true,"batch_input_shape":\(shape),"dtype":"float32"}},\
            {"class_name":"Dense","config":{"units":\(units),"activation":"relu","use_bias":true,"kernel_initializer":\(initializer),\
            "bias_initializer":{"class_name":"Zeros","config":{}},"kernel_regularizer":null,"bias_regularizer":null,\
            "activity_regularizer":null,"kernel_constraint":null,"bias_constraint":null,"name":"dense_Dense1","trainable":true}},\
            {"class_name":"Dense","config":{"units":\(classes),"activation":"softmax","use_bias":\(outputBias),\
            "kernel_initializer":\(initializer),"bias_initializer":{"class_name":"Zeros","config":{}},"kernel_regularizer":null,\
            "bias_regularizer":null,"activity_regularizer":null,"kernel_constraint":null,"bias_constraint":null,\
            "name":"dense_Dense2","trainable":true}}]},"keras_version":"tfjs-layers 2.3.0","backend":"tensor_flow.js"},\
            "format":"layers-model","generatedBy":"TensorFlow.js tfjs-layers v2.3.0","convertedBy":null,\
            "weightsManifest":[{"paths":["./model.weights.bin"],"weights":[\
            {"name":"dense_Dense1/kernel","shape":[\(inputCount),\(units)],"dtype":"float32"},\
            {"name":"dense_Dense1/bias","shape":[\(units)],"dtype":"float32"},\
            {"name":"dense_Dense2/kernel","shape":[\(units),\(classes)],"dtype":"float32"}\
            \(outputBias ? #",{"name":"dense_Dense2/bias","shape":[\#(classes)],"dtype":"float32"}"# : "")]}]}
            """
        try Data(json.utf8).write(to: URL(fileURLWithPath: directory + "/model.json"))
        let weights = hiddenKernel + hiddenBias + outputKernel + (outputBias ? bias : [])
        try weights.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: directory + "/model.weights.bin"))
        if let labels {
            try JSONEncoder().encode(labels).write(to: URL(fileURLWithPath: directory + "/labels.json"))
        }
    }

    /// Probabilities computed by plain loops from the written weights.
    func probabilities(_ features: [Float]) -> [Float] {
        let (kernel1, bias1, kernel2) = (hiddenKernel, hiddenBias, outputKernel)
        var result: [Float] = []
        for row in 0..<(features.count / inputCount) {
            let hidden = (0..<units).map { unit in
                max(
                    0,
                    bias1[unit]
                        + (0..<inputCount).reduce(Float(0)) {
                            $0 + features[row * inputCount + $1] * kernel1[$1 * units + unit]
                        })
            }
            let logits = (0..<classes).map { k in
                (outputBias ? bias[k] : 0)
                    + (0..<units).reduce(Float(0)) { $0 + hidden[$1] * kernel2[$1 * classes + k] }
            }
            let top = logits.max()!
            let exps = logits.map { expf($0 - top) }
            result += exps.map { $0 / exps.reduce(0, +) }
        }
        return result
    }
}

/// A small MobileNet v1 α 0.25 at 32×32 (cut conv_pw_13_relu gives [1, 1, 256]) installed in a temp store.
struct TinyEmbedder {
    let models = ModelStore(root: temporaryDirectory("models"))
    let model = MobileNetV1.features(alpha: 0.25, inputSize: 32, weight: MobileNetV1.randomWeights(seed: 3))
    let metadata = ModelMetadata(
        name: "tiny_v1", architecture: "mobilenet_v1", widthMultiplier: 0.25, inputSize: 32, normalization: .symmetric,
        embeddingLayer: "conv_pw_13_relu", embeddingLayerReason: "test", classifierLayer: nil, classNames: [],
        source: .init(file: "generated", sha256: String(repeating: "ab", count: 32), format: "test"))

    init() throws { try models.install(model, metadata: metadata) }

    var identity: EmbedderIdentity {
        EmbedderIdentity(
            modelName: metadata.name, weightsSHA256: metadata.source.sha256, layer: "conv_pw_13_relu",
            normalization: metadata.normalization.rawValue, featureShape: [1, 1, 256])
    }
}

@Suite("Head import/export as TF.js Layers models")
struct HeadExchangeTests {
    @Test(
        "a head saved by TF.js imports, records labels and embedder, and predicts as written", arguments: [false, true])
    func importTFJSHead(outputBias: Bool) throws {
        let tiny = try TinyEmbedder()
        let saved = TFJSSavedHead(inputShape: [1, 1, 256], units: 12, classes: 4, outputBias: outputBias)
        let directory = temporaryDirectory("tfjs-head")
        try saved.write(to: directory, labels: ["up", "down", "left", "right"])
        let heads = HeadStore(root: temporaryDirectory("heads"))

        let metadata = try HeadExchange.importHead(
            from: directory, labels: nil, embedder: tiny.identity, mirror: true, into: heads)
        let current = try heads.currentVersion()
        #expect(metadata.version == 1 && current == 1)
        #expect(metadata.labels.names == ["up", "down", "left", "right"] && metadata.embedder == tiny.identity)
        #expect(metadata.training == nil && metadata.imported?.generatedBy == "TensorFlow.js tfjs-layers v2.3.0")
        #expect(Set(metadata.imported?.files.keys.map { $0 } ?? []) == ["model.json", "model.weights.bin"])

        let (stored, storedMetadata) = try heads.load()
        #expect(storedMetadata == metadata)
        let head = try DenseHead(model: stored)
        #expect(head.architecture.outputBias == outputBias)
        let features = seeded(3 * 256, seed: 9).map { max(0, $0) * 6 }
        let probabilities = try HeadExchange.predict(head, features: Tensor(shape: [3, 1, 1, 256], scalars: features))
        #expect(probabilities.shape == [3, 4])
        let expected = saved.probabilities(features)
        let worst = zip(probabilities.scalars, expected).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-5, "max |Δ| \(worst)")

        // Explicit labels win over labels.json; a second import is the next version.
        let again = try HeadExchange.importHead(
            from: directory + "/model.json", labels: try LabelSet(["a", "b", "c", "d"]),
            embedder: tiny.identity, mirror: false, into: heads)
        #expect(again.version == 2 && again.labels.names == ["a", "b", "c", "d"] && !again.mirror)
    }

    @Test("mismatched input shape, label count or missing labels are refused with a clear error")
    func importRefusals() throws {
        let tiny = try TinyEmbedder()
        let heads = HeadStore(root: temporaryDirectory("heads"))
        let wide = temporaryDirectory("wide")
        try TFJSSavedHead(inputShape: [7, 7, 256], units: 4, classes: 4, outputBias: false).write(
            to: wide, labels: ["a", "b", "c", "d"])
        #expect {
            try HeadExchange.importHead(from: wide, labels: nil, embedder: tiny.identity, mirror: true, into: heads)
        } throws: { error in
            guard case GesturesError.headExchange(_, let reason) = error else { return false }
            return reason.contains("[7, 7, 256]") && reason.contains("[1, 1, 256]")
                && reason.contains("conv_pw_13_relu")
        }
        let three = temporaryDirectory("three")
        try TFJSSavedHead(inputShape: [1, 1, 256], units: 4, classes: 3, outputBias: false).write(to: three)
        #expect {
            try HeadExchange.importHead(
                from: three, labels: try LabelSet(["a", "b"]), embedder: tiny.identity, mirror: true, into: heads)
        } throws: { error in
            guard case GesturesError.headExchange(_, let reason) = error else { return false }
            return reason.contains("3 outputs") && reason.contains("2 labels")
        }
        #expect {
            try HeadExchange.importHead(from: three, labels: nil, embedder: tiny.identity, mirror: true, into: heads)
        } throws: { error in
            guard case GesturesError.headExchange(_, let reason) = error else { return false }
            return reason.contains("labels.json") && reason.contains("--labels")
        }
        #expect(heads.versions().isEmpty, "nothing stored by a refused import")
    }

    @Test("export: the head alone as stored, and the bundle that equals embed + predict on a frame")
    func exports() throws {
        let tiny = try TinyEmbedder()
        let heads = HeadStore(root: temporaryDirectory("heads"))
        let saved = TFJSSavedHead(inputShape: [1, 1, 256], units: 12, classes: 3, outputBias: false, seed: 5)
        let source = temporaryDirectory("source")
        try saved.write(to: source)
        let metadata = try HeadExchange.importHead(
            from: source, labels: try LabelSet(["up", "down", "idle"]),
            embedder: tiny.identity, mirror: true, into: heads)

        let alone = temporaryDirectory("alone")
        try HeadExchange.exportHead(from: heads, to: alone)
        for file in try TFJSLayersFormat.files(of: heads.directory(of: metadata.version)) {
            #expect(
                FileManager.default.contents(atPath: alone + "/" + file.name)
                    == FileManager.default.contents(atPath: file.path))
        }
        let aloneLabels = try JSONDecoder().decode(
            HeadLabelsFile.self, from: Data(contentsOf: URL(fileURLWithPath: alone + "/labels.json")))
        #expect(
            aloneLabels.labels == ["up", "down", "idle"] && !aloneLabels.bundle
                && aloneLabels.inputShape == [1, 1, 256])

        let bundleDirectory = temporaryDirectory("bundle")
        try HeadExchange.exportBundle(from: heads, models: tiny.models, to: bundleDirectory)
        let labels = try JSONDecoder().decode(
            HeadLabelsFile.self,
            from: Data(contentsOf: URL(fileURLWithPath: bundleDirectory + "/labels.json")))
        #expect(
            labels.labels == ["up", "down", "idle"] && labels.bundle && labels.mirror
                && labels.inputShape == [32, 32, 3])
        #expect(
            labels.normalization.name == "x/127.5-1" && labels.normalization.scale == [1 / 127.5, 1 / 127.5, 1 / 127.5])
        #expect(
            labels.normalization.offset == [-1, -1, -1] && labels.embedder == tiny.identity
                && labels.outputLayer == "head_output")

        let bundle = try TFJSLayersFormat.read(bundleDirectory)
        let frame = Tensor(shape: [32, 32, 3], scalars: seeded(32 * 32 * 3, seed: 11))
        let fromBundle = try Embedder(model: bundle, outputLayer: labels.outputLayer).embed(frame).scalars
        let features = try Embedder(model: tiny.model, outputLayer: "conv_pw_13_relu").embed(frame)
        let (stored, _) = try heads.load()
        let expected = try HeadExchange.predict(try DenseHead(model: stored), features: features).scalars
        let worst = zip(fromBundle, expected).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-5, "bundle vs embed + predict: max |Δ| \(worst)")

        // A bundle needs the embedder the head was trained on: another installed version is refused.
        var other = tiny.metadata
        other.source.sha256 = String(repeating: "cd", count: 32)
        try tiny.models.install(tiny.model, metadata: other)
        #expect(throws: GesturesError.self) {
            try HeadExchange.exportBundle(from: heads, models: tiny.models, to: bundleDirectory)
        }
    }

    @Test("predict checks the feature shape against the head's input")
    func predictShapes() throws {
        let head = try DenseHead(
            architecture: HeadArchitecture(inputShape: [2, 2, 3], hiddenUnits: 4, classes: 2), seed: 1)
        #expect(try HeadExchange.predict(head, features: Tensor(shape: [5, 12], repeating: 0.5)).shape == [5, 2])
        #expect(try HeadExchange.predict(head, features: Tensor(shape: [2, 2, 3], repeating: 0.5)).shape == [1, 2])
        #expect {
            try HeadExchange.predict(head, features: Tensor(shape: [5, 3, 2, 2], repeating: 0.5), path: "x.npy")
        } throws: { error in
            guard case GesturesError.headExchange(let path, let reason) = error else { return false }
            return path == "x.npy" && reason.contains("[5, 3, 2, 2]") && reason.contains("[2, 2, 3]")
        }
    }
}
