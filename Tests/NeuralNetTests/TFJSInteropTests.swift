// TF.js interop beyond the reader/writer basics: JSON numbers written back as read, error texts that
// name weight files as the manifest does, checked sizes, α inferred from filter counts, the default
// embedding-layer rule on synthetic v1/v2 models (incl. a custom MobileNetV2-like model with a
// 2-class softmax head), unchanged installs of TF.js models, and the head + embedder bundle.
import Foundation
import Testing

@testable import Importers
@testable import NeuralNet

/// MobileNet v1 (Keras 2.1 `same` padding, as the TF.js demo's) with the keras-applications classifier:
/// GAP → Reshape [1,1,C] → Dropout(0.001) → Conv 1×1 (`classes`) → Activation softmax → Reshape [classes].
func mobileNetV1Classifier(alpha: Double, classes: Int = 10, inputSize: Int = 224, seed: UInt64 = 1) -> Model {
    let weight = MobileNetV1.randomWeights(seed: seed)
    var model = MobileNetV1.features(alpha: alpha, inputSize: inputSize, style: .samePadding, weight: weight)
    let channels = Int(1024 * alpha)
    model.layers += [
        Layer(name: "global_average_pooling2d_1", kind: .globalAveragePooling2D, inbound: ["conv_pw_13_relu"]),
        Layer(
            name: "reshape_1", kind: .reshape(targetShape: [1, 1, channels]), inbound: ["global_average_pooling2d_1"]),
        Layer(name: "dropout", kind: .dropout(rate: 0.001), inbound: ["reshape_1"]),
        Layer(
            name: "conv_preds", kind: .conv2D(Conv2DConfig(filters: classes, kernelSize: (1, 1), padding: .same)),
            inbound: ["dropout"],
            weights: [
                "kernel": Tensor(
                    shape: [1, 1, channels, classes],
                    scalars: weight("conv_preds", "kernel", [1, 1, channels, classes])),
                "bias": Tensor(shape: [classes], scalars: weight("conv_preds", "bias", [classes])),
            ]),
        Layer(name: "act_softmax", kind: .activation(.softmax), inbound: ["conv_preds"]),
        Layer(name: "reshape_2", kind: .reshape(targetShape: [classes]), inbound: ["act_softmax"]),
    ]
    model.outputNames = ["reshape_2"]
    return model
}

/// A custom MobileNetV2-like classifier as people build in Keras and convert: MobileNetV2 features
/// (include_top=False) → GAP → Dense(16, relu) → Dense(2, softmax).
func customMobileNetV2(alpha: Double = 0.35, seed: UInt64 = 4) -> Model {
    let weight = MobileNetV1.randomWeights(seed: seed)
    var model = MobileNetV2.features(alpha: alpha, inputSize: 224, weight: weight)
    let channels = MobileNetV2.lastFilters(alpha: alpha)
    model.layers += [
        Layer(name: "global_average_pooling2d", kind: .globalAveragePooling2D, inbound: ["out_relu"]),
        Layer(
            name: "dense", kind: .dense(units: 16, useBias: true, activation: .relu),
            inbound: ["global_average_pooling2d"],
            weights: [
                "kernel": Tensor(shape: [channels, 16], scalars: weight("dense", "kernel", [channels, 16])),
                "bias": Tensor(shape: [16], scalars: weight("dense", "bias", [16])),
            ]),
        Layer(
            name: "dense_1", kind: .dense(units: 2, useBias: true, activation: .softmax), inbound: ["dense"],
            weights: [
                "kernel": Tensor(shape: [16, 2], scalars: weight("dense_1", "kernel", [16, 2])),
                "bias": Tensor(shape: [2], scalars: weight("dense_1", "bias", [2])),
            ]),
    ]
    model.outputNames = ["dense_1"]
    return model
}

@Suite("TF.js interop: numbers, names, α, embedding rule, unchanged installs, bundles")
struct TFJSInteropTests {
    // MARK: Numbers

    @Test("numbers read from model.json are written back as written (0.001 stays 0.001)")
    func numbersRoundTrip() throws {
        let directory = temporaryPath("numbers")
        try TFJSLayersFormat.write(smallModel(), to: directory)
        // Give the BN layer the converter's config: epsilon 0.001, momentum 0.99 and fields gesturepad ignores.
        try editModelJSON(directory) { json in
            var layers = layersOf(json)
            let index = layers.firstIndex { ($0["class_name"] as? String) == "BatchNormalization" }!
            var config = layers[index]["config"] as! [String: Any]
            config["gamma_initializer"] = ["class_name": "Ones", "config": [String: Any]()]
            layers[index]["config"] = config
            setLayers(&json, layers)
        }
        let text = try String(contentsOfFile: directory + "/model.json", encoding: .utf8)
        #expect(
            text.contains("\"epsilon\":0.001") && !text.contains("0.0010000000474974513"),
            "generated: Float epsilon as 0.001")

        let model = try TFJSLayersFormat.read(directory)
        let again = temporaryPath("numbers-again")
        try TFJSLayersFormat.write(model, to: again)
        let written = try String(contentsOfFile: again + "/model.json", encoding: .utf8)
        #expect(
            written.contains("\"epsilon\":0.001,") && written.contains("\"momentum\":0.99"), "\(written.prefix(600))")
        #expect(!written.contains("0.0010000000474974513") && !written.contains("0.9900000"))
        #expect(written.contains("gamma_initializer"), "the converter's config is kept")
        #expect(try TFJSLayersFormat.read(again) == model)
    }

    @Test(
        "JSONValue keeps every decimal digit it read",
        arguments: [
            ("0.001", "0.001"), ("0.99", "0.99"), ("0.0010000000474974513", "0.0010000000474974513"), ("224", "224"),
            ("1e-05", "0.00001"), ("-2.5", "-2.5"),
        ])
    func jsonNumberText(input: String, output: String) throws {
        let value = try JSONDecoder().decode(JSONValue.self, from: Data("[\(input)]".utf8))
        #expect(String(decoding: try JSONEncoder().encode(value), as: UTF8.self) == "[\(output)]")
        #expect(value.arrayValue?.first?.doubleValue == Double(input))
    }

    @Test("a layer whose kind changed after reading gets a fresh config, not its stale source config")
    func staleSourceConfig() throws {
        let directory = temporaryPath("stale")
        try TFJSLayersFormat.write(smallModel(), to: directory)
        var model = try TFJSLayersFormat.read(directory)
        let index = model.index(of: "dw_bn")!
        model.layers[index].kind = .batchNormalization(epsilon: 0.25, center: true, scale: true)
        let again = temporaryPath("stale-again")
        try TFJSLayersFormat.write(model, to: again)
        #expect(
            try TFJSLayersFormat.read(again).layer(named: "dw_bn")!.kind
                == .batchNormalization(epsilon: 0.25, center: true, scale: true))
    }

    // MARK: Error names and sizes

    /// The small model with one manifest group per layer named like the TF.js converter's ("groupN-shard1of1.bin",
    /// or without ".bin" as older manifests do).
    func writeGrouped(suffix: String) throws -> String {
        let directory = temporaryPath("grouped")
        try TFJSLayersFormat.write(smallModel(), to: directory)
        let blob = try FileIO.read(directory + "/group1-shard1of1.bin")
        try FileManager.default.removeItem(atPath: directory + "/group1-shard1of1.bin")
        var groups: [[String: Any]] = []
        var offset = 0
        try editModelJSON(directory) { json in
            var byLayer: [(String, [[String: Any]])] = []
            for entry in manifestOf(json) {
                let layer = (entry["name"] as! String).split(separator: "/")[0]
                if byLayer.last?.0 == String(layer) {
                    byLayer[byLayer.count - 1].1.append(entry)
                } else {
                    byLayer.append((String(layer), [entry]))
                }
            }
            for (index, (_, entries)) in byLayer.enumerated() {
                let name = "group\(index + 1)-shard1of1\(suffix)"
                let bytes = entries.reduce(0) { $0 + 4 * ($1["shape"] as! [Int]).reduce(1, *) }
                try! Data(blob[offset..<offset + bytes]).write(to: URL(fileURLWithPath: directory + "/" + name))
                offset += bytes
                groups.append(["paths": [name], "weights": entries])
            }
            json["weightsManifest"] = groups
        }
        return directory
    }

    @Test("a short weight file is named as the manifest names it, never by a group number", arguments: [".bin", ""])
    func shardNamedAsManifest(suffix: String) throws {
        let directory = try writeGrouped(suffix: suffix)
        #expect(try TFJSLayersFormat.read(directory) == smallModel(), "one group per layer reads the same model")
        // Groups: conv, dw, dw_bn, logits; the 4th (logits: kernel 6×5 + bias 5 = 140 B) was once "weight group 3".
        let path = directory + "/group4-shard1of1" + suffix
        let data = FileManager.default.contents(atPath: path)!
        try data.prefix(data.count - 8).write(to: URL(fileURLWithPath: path))
        #expect {
            try TFJSLayersFormat.read(directory)
        } throws: { error in
            guard let error = error as? NeuralNetError, case .shardMismatch(_, let shards, 140, 132) = error else {
                return false
            }
            return shards == ["group4-shard1of1" + suffix] && error.description.contains("group4-shard1of1" + suffix)
                && !error.description.contains("group 3") && !error.description.contains("weight group")
        }
    }

    @Test("sizes that overflow are an error naming the file and weight, not a crash")
    func overflowingShape() throws {
        let (_, directory) = (0, temporaryPath("overflow"))
        try TFJSLayersFormat.write(smallModel(), to: directory)
        try editModelJSON(directory) { json in
            var weights = manifestOf(json)
            weights[0]["shape"] = [1 << 40, 1 << 40]
            setManifest(&json, weights)
        }
        #expect {
            try TFJSLayersFormat.read(directory)
        } throws: { error in
            guard case NeuralNetError.invalidField(let path, let field, let expected) = error else { return false }
            return path.hasSuffix("model.json") && field.contains("conv/kernel")
                && expected.contains("at most \(SizeLimits.maximumTensorElements) elements")
        }
    }

    // MARK: α and the embedding rule

    @Test("α of MobileNet v1 comes from the first conv's filters (32·α)", arguments: [0.25, 0.5, 0.75, 1.0])
    func alphaV1(alpha: Double) {
        let model = mobileNetV1Classifier(alpha: alpha, inputSize: 224)
        let (architecture, inferred) = ArchitectureInference.infer(model)
        #expect(architecture == "mobilenet_v1" && inferred == alpha)
        // Renamed layers change nothing: the inference reads structure, not names.
        var renamed = model
        for index in renamed.layers.indices { renamed.layers[index].name = "layer\(index)" }
        for index in renamed.layers.indices.dropFirst() { renamed.layers[index].inbound = ["layer\(index - 1)"] }
        #expect(ArchitectureInference.infer(renamed).widthMultiplier == alpha)
    }

    @Test("α of MobileNet v2 comes from the last block's 320·α projection", arguments: [0.35, 0.5, 0.75, 1.0, 1.4])
    func alphaV2(alpha: Double) {
        let model = MobileNetV2.features(
            alpha: alpha, inputSize: 224, weight: { _, _, shape in [Float](repeating: 0, count: shape.reduce(1, *)) })
        let (architecture, inferred) = ArchitectureInference.infer(model)
        #expect(architecture == "mobilenet_v2" && inferred == alpha)
    }

    @Test("the default embedding layer follows the stated rule, never the classifier")
    func embeddingRule() throws {
        #expect(
            try EmbeddingLayerChoice.defaultLayer(in: mobileNetV1Classifier(alpha: 0.25), inputSize: 224)
                == "conv_pw_13_relu")
        let v2 = MobileNetV2.classifier(
            alpha: 1.0, inputSize: 224, weight: { _, _, shape in [Float](repeating: 0.01, count: shape.reduce(1, *)) })
        #expect(try EmbeddingLayerChoice.defaultLayer(in: v2, inputSize: 224) == "block_15_add")
        #expect(try EmbeddingLayerChoice.defaultLayer(in: customMobileNetV2(), inputSize: 224) == "block_15_add")
        // Maps never reach 7×7 (9×9 input, stride 2): the input of the global pooling, not the softmax.
        #expect(try EmbeddingLayerChoice.defaultLayer(in: smallModel(), inputSize: 9) == "dw_relu")
    }

    @Test("a custom MobileNetV2 with a 2-class softmax imports with block_15_add, α 0.35 and the rule recorded")
    func importCustomV2() throws {
        let directory = temporaryPath("custom-v2")
        try TFJSLayersFormat.write(customMobileNetV2(), to: directory)
        let (model, metadata) = try ModelImporter.importModel(
            from: directory, name: "leafnet", classNames: ["healthy", "sick"])
        #expect(model.outputNames == ["dense_1"])
        #expect(metadata.embeddingLayer == "block_15_add" && metadata.embeddingLayerReason == EmbeddingLayerChoice.rule)
        #expect(metadata.architecture == "mobilenet_v2" && metadata.widthMultiplier == 0.35)
        #expect(metadata.classifierLayer == "dense_1" && metadata.inputSize == 224)
        let chosen = try ModelImporter.importModel(from: directory, embeddingLayer: "out_relu").metadata
        #expect(chosen.embeddingLayer == "out_relu" && chosen.embeddingLayerReason.contains("--embedding-layer"))
        #expect(throws: NeuralNetError.self) {
            try ModelImporter.importModel(from: directory, embeddingLayer: "nonexistent")
        }
    }

    // MARK: Unchanged installs

    @Test("a TF.js Layers model is installed byte for byte, with the sha256 of every file recorded")
    func unchangedInstall() throws {
        let directory = try writeGrouped(suffix: ".bin")
        // Converter-style text the writer would never produce: spacing and key order stay as they were.
        let original = try String(contentsOfFile: directory + "/model.json", encoding: .utf8)
        let reformatted = original.replacingOccurrences(of: ",\"", with: ", \"")
        try reformatted.write(toFile: directory + "/model.json", atomically: true, encoding: .utf8)
        let store = ModelStore(root: temporaryPath("store"))
        let (_, metadata) = try ModelImporter.install(
            from: directory, into: store, name: "tiny", classNames: ["a", "b", "c", "d", "e"],
            origin: "a test")
        let installed = store.directory(of: "tiny")
        let files = try TFJSLayersFormat.files(of: directory)
        #expect(files.count == 5)
        for file in files {
            #expect(
                FileManager.default.contents(atPath: installed + "/" + file.name)
                    == FileManager.default.contents(atPath: file.path),
                "\(file.name)")
            #expect(metadata.source.files?[file.name] == (try ModelStore.sha256(ofFile: file.path)))
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: installed).sorted()
        #expect(names == (files.map(\.name) + [ModelMetadata.fileName]).sorted())
        #expect(try store.load("tiny").model == smallModel())
        #expect(try store.load("tiny").metadata.source.origin == "a test")
        #expect(ModelImporter.isCurrent("tiny", in: store, source: directory))
    }

    @Test("weight paths that leave the model directory are refused")
    func escapingPaths() throws {
        let directory = temporaryPath("escape")
        try TFJSLayersFormat.write(smallModel(), to: directory)
        try editModelJSON(directory) { json in
            var groups = json["weightsManifest"] as! [[String: Any]]
            groups[0]["paths"] = ["../elsewhere.bin"]
            json["weightsManifest"] = groups
        }
        #expect(throws: NeuralNetError.self) { try TFJSLayersFormat.files(of: directory) }
    }

    // MARK: Heads with an output bias, bundles

    @Test("a head with a bias on its output layer predicts with it and round-trips through model.json")
    func outputBias() throws {
        let architecture = HeadArchitecture(inputShape: [2, 2, 3], hiddenUnits: 5, classes: 3, outputBias: true)
        let hiddenKernel = randomScalars(12 * 5, seed: 1)
        let hiddenBias = randomScalars(5, seed: 2)
        let outputKernel = randomScalars(15, seed: 3)
        let bias: [Float] = [0.5, -1, 2]
        let head = try DenseHead(
            architecture: architecture, hiddenKernel: hiddenKernel, hiddenBias: hiddenBias,
            outputKernel: outputKernel, outputBias: bias)
        let features = randomScalars(2 * 12, seed: 4)
        var expected: [Float] = []
        for row in 0..<2 {
            let hidden = (0..<5).map { unit in
                max(
                    0,
                    hiddenBias[unit]
                        + (0..<12).reduce(Float(0)) { $0 + features[row * 12 + $1] * hiddenKernel[$1 * 5 + unit] })
            }
            let logits = (0..<3).map { k in
                bias[k] + (0..<5).reduce(Float(0)) { $0 + hidden[$1] * outputKernel[$1 * 3 + k] }
            }
            let top = logits.max()!
            let exps = logits.map { expf($0 - top) }
            expected += exps.map { $0 / exps.reduce(0, +) }
        }
        expectClose(try head.predict(features), expected, tolerance: 1e-5, "head with output bias")
        let directory = temporaryPath("biased-head")
        try head.save(to: directory)
        let loaded = try DenseHead.load(from: directory)
        #expect(loaded.architecture == architecture && loaded.outputBias == bias)
        // Training moves the bias too (its gradient is Σ dlogits).
        let trained = loaded.copy()
        try trained.train(
            features: features, labels: [0, 2], options: TrainingOptions(learningRate: 0.05, epochs: 5, hiddenUnits: 5))
        #expect(trained.outputBias != bias)
    }

    @Test("embedder + head as one bundle: written, read back and run, equals embed then predict")
    func bundleRoundTrip() throws {
        let embedder = mobileNetV1Classifier(alpha: 0.25, inputSize: 224)
        let head = try DenseHead(
            architecture: HeadArchitecture(inputShape: [7, 7, 256], hiddenUnits: 10, classes: 4), seed: 5)
        let bundle = try head.bundle(embedder: embedder, cutLayer: "conv_pw_13_relu")
        #expect(bundle.outputNames == [HeadLayerNames.output] && bundle.layer(named: "act_softmax") == nil)
        let directory = temporaryPath("bundle")
        try TFJSLayersFormat.write(bundle, to: directory)
        let read = try TFJSLayersFormat.read(directory)
        #expect(read == bundle)

        let frame = Tensor(shape: [224, 224, 3], uniformIn: -1...1, seed: 6)
        let probabilities = try Embedder(model: read, outputLayer: HeadLayerNames.output).embed(frame).scalars
        let features = try Embedder(model: embedder, outputLayer: "conv_pw_13_relu").embed(frame).scalars
        expectClose(probabilities, try head.predict(features), tolerance: 1e-5, "bundle vs embed + head")

        // A cut whose output is not the head's input ([14, 14, 128] vs [7, 7, 256]) is refused.
        #expect(throws: NeuralNetError.self) { try head.bundle(embedder: embedder, cutLayer: "conv_pw_11_relu") }
    }
}
