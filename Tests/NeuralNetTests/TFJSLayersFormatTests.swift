// TF.js Layers reader and writer: a small generated model (conv → depthwise → BN → ReLU6 → pool →
// dense) written as model.json + two shards with a weight crossing the shard boundary, read back
// identical, run against the reference path; then every malformed-file case gives its typed error.
import Foundation
import Testing

@testable import NeuralNet

/// conv(3×3/2, 6) → depthwise(3×3) → BN → ReLU6 → global pool → dense(5, softmax); input 9×9×3.
func smallModel(seed: UInt64 = 1) -> Model {
    let random = MobileNetV1.randomWeights(seed: seed)
    func weights(_ layer: String, _ shapes: [String: [Int]]) -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (name, shape) in shapes { result[name] = Tensor(shape: shape, scalars: random(layer, name, shape)) }
        return result
    }
    let layers = [
        Layer(name: "image", kind: .input(shape: [9, 9, 3]), inbound: []),
        Layer(
            name: "conv", kind: .conv2D(Conv2DConfig(filters: 6, kernelSize: (3, 3), strides: (2, 2), padding: .same)),
            inbound: ["image"], weights: weights("conv", ["kernel": [3, 3, 3, 6], "bias": [6]])),
        Layer(
            name: "dw", kind: .depthwiseConv2D(DepthwiseConv2DConfig(padding: .same, useBias: false)),
            inbound: ["conv"],
            weights: weights("dw", ["depthwise_kernel": [3, 3, 6, 1]])),
        Layer(
            name: "dw_bn", kind: .batchNormalization(epsilon: 0.001, center: true, scale: true), inbound: ["dw"],
            weights: weights("dw_bn", ["gamma": [6], "beta": [6], "moving_mean": [6], "moving_variance": [6]])),
        Layer(name: "dw_relu", kind: .relu(maxValue: 6), inbound: ["dw_bn"]),
        Layer(name: "pool", kind: .globalAveragePooling2D, inbound: ["dw_relu"]),
        Layer(
            name: "logits", kind: .dense(units: 5, useBias: true, activation: .softmax), inbound: ["pool"],
            weights: weights("logits", ["kernel": [6, 5], "bias": [5]])),
    ]
    return Model(name: "small", layers: layers, inputNames: ["image"], outputNames: ["logits"])
}

/// A fresh temporary directory path (not created).
func temporaryPath(_ name: String) -> String {
    NSTemporaryDirectory() + "gesturepad-tests-\(getpid())-\(UInt32.random(in: 0...UInt32.max))/\(name)"
}

/// Loads model.json as a mutable Foundation tree, lets `edit` change it, writes it back.
func editModelJSON(_ directory: String, _ edit: (inout [String: Any]) -> Void) throws {
    let path = directory + "/model.json"
    var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    edit(&json)
    try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
}

func layersOf(_ json: [String: Any]) -> [[String: Any]] {
    ((json["modelTopology"] as! [String: Any])["config"] as! [String: Any])["layers"] as! [[String: Any]]
}

func setLayers(_ json: inout [String: Any], _ layers: [[String: Any]]) {
    var topology = json["modelTopology"] as! [String: Any]
    var config = topology["config"] as! [String: Any]
    config["layers"] = layers
    topology["config"] = config
    json["modelTopology"] = topology
}

func manifestOf(_ json: [String: Any]) -> [[String: Any]] {
    (json["weightsManifest"] as! [[String: Any]])[0]["weights"] as! [[String: Any]]
}

func setManifest(_ json: inout [String: Any], _ weights: [[String: Any]]) {
    var groups = json["weightsManifest"] as! [[String: Any]]
    groups[0]["weights"] = weights
    json["weightsManifest"] = groups
}

@Suite("TF.js Layers format")
struct TFJSLayersFormatTests {
    /// Writes the small model (238 floats = 952 B) in 400-byte shards: 3 shards, and the conv kernel
    /// (162 floats = 648 B from offset 0) crosses the first boundary.
    func writeSmall() throws -> (Model, String) {
        let model = smallModel()
        let directory = temporaryPath("small")
        try TFJSLayersFormat.write(model, to: directory, shardBytes: 400)
        return (model, directory)
    }

    @Test("written and read back is identical; two shards, a weight crossing the boundary")
    func roundTrip() throws {
        let (model, directory) = try writeSmall()
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        let shards = files.filter { $0.hasSuffix(".bin") }
        #expect(shards.count >= 2, "\(files)")
        // The conv kernel is 648 bytes and starts at offset 0: it spans shard 1 (400 B) and shard 2.
        #expect(model.layer(named: "conv")!.weights["kernel"]!.count * 4 > 400)
        let read = try TFJSLayersFormat.read(directory)
        #expect(read == model)
        // And once more: writing what we read gives byte-identical files.
        let again = temporaryPath("again")
        try TFJSLayersFormat.write(read, to: again, shardBytes: 400)
        for file in files {
            #expect(
                FileManager.default.contents(atPath: "\(directory)/\(file)")
                    == FileManager.default.contents(atPath: "\(again)/\(file)"), "\(file)")
        }
    }

    @Test("written layer configs carry only keys Keras accepts (InputLayer has no `trainable`)")
    func kerasLoadableConfigs() throws {
        let (_, directory) = try writeSmall()
        var layers: [[String: Any]] = []
        try editModelJSON(directory) { json in layers = layersOf(json) }
        let input = layers.first { ($0["class_name"] as? String) == "InputLayer" }!["config"] as! [String: Any]
        #expect(Set(input.keys) == ["batch_input_shape", "dtype", "sparse", "name"])
        let conv = layers.first { ($0["class_name"] as? String) == "Conv2D" }!["config"] as! [String: Any]
        #expect(conv["trainable"] as? Bool == true && conv["dtype"] as? String == "float32")
    }

    @Test("a loaded model runs: embedder equals the reference path on it")
    func loadedModelRuns() throws {
        let (model, directory) = try writeSmall()
        let loaded = try TFJSLayersFormat.read(directory)
        let input = Tensor(shape: [9, 9, 3], uniformIn: -1...1, seed: 3)
        let expected = try model.referenceForward(input)["logits"]!
        let actual = try Embedder(model: loaded).embed(input)
        expectClose(actual.scalars, expected.scalars, tolerance: 1e-5, "small model")
        #expect(abs(actual.scalars.reduce(0, +) - 1) < 1e-5)
    }

    @Test("a full MobileNet v1 α=0.25 round-trips through the default 4 MiB shards")
    func mobileNetRoundTrip() throws {
        let model = MobileNetV1.features(alpha: 0.25, weight: MobileNetV1.randomWeights(seed: 2))
        let directory = temporaryPath("mobilenet")
        try TFJSLayersFormat.write(model, to: directory)
        #expect(try TFJSLayersFormat.read(directory) == model)
        // Overwriting an existing model directory replaces it whole.
        let other = MobileNetV1.features(alpha: 0.25, weight: MobileNetV1.randomWeights(seed: 3))
        try TFJSLayersFormat.write(other, to: directory)
        #expect(try TFJSLayersFormat.read(directory) == other)
    }

    @Test("missing shard names the file")
    func missingShard() throws {
        let (_, directory) = try writeSmall()
        try FileManager.default.removeItem(atPath: directory + "/group1-shard3of3.bin")
        #expect(
            throws: NeuralNetError.fileUnreadable(path: directory + "/group1-shard3of3.bin", reason: "no such file")
        ) {
            try TFJSLayersFormat.read(directory)
        }
    }

    @Test("truncated shard is a size mismatch, not a crash")
    func truncatedShard() throws {
        let (_, directory) = try writeSmall()
        let path = directory + "/group1-shard3of3.bin"
        let data = FileManager.default.contents(atPath: path)!
        try data.prefix(data.count - 3).write(to: URL(fileURLWithPath: path))
        #expect {
            try TFJSLayersFormat.read(directory)
        } throws: { error in
            guard case NeuralNetError.shardMismatch(_, let shards, let expected, let actual) = error else {
                return false
            }
            return shards == ["group1-shard1of3.bin", "group1-shard2of3.bin", "group1-shard3of3.bin"]
                && expected == actual + 3
        }
    }

    @Test("manifest lists a weight no layer has: error when strict, ignored when not")
    func unusedWeight() throws {
        let (model, directory) = try writeSmall()
        try editModelJSON(directory) { json in
            setManifest(&json, manifestOf(json) + [["name": "ghost/kernel", "shape": [1], "dtype": "float32"]])
            var groups = json["weightsManifest"] as! [[String: Any]]
            groups[0]["paths"] = (groups[0]["paths"] as! [String]) + ["extra.bin"]
            json["weightsManifest"] = groups
        }
        try Data([0, 0, 128, 63]).write(to: URL(fileURLWithPath: directory + "/extra.bin"))
        #expect(throws: NeuralNetError.unusedWeight(path: directory + "/model.json", weight: "ghost/kernel")) {
            try TFJSLayersFormat.read(directory)
        }
        #expect(try TFJSLayersFormat.read(directory, strict: false) == model)
    }

    @Test("a layer's weight missing from the manifest")
    func missingWeight() throws {
        let (_, directory) = try writeSmall()
        try editModelJSON(directory) { json in
            // Drop the last entry (logits/bias, 5 floats) and the matching 20 bytes.
            setManifest(&json, Array(manifestOf(json).dropLast()))
        }
        let path = directory + "/group1-shard3of3.bin"
        let data = FileManager.default.contents(atPath: path)!
        try data.prefix(data.count - 20).write(to: URL(fileURLWithPath: path))
        #expect(throws: NeuralNetError.missingWeight(layer: "logits", weight: "bias")) {
            try TFJSLayersFormat.read(directory)
        }
    }

    @Test("weight shape disagreeing with the layer config")
    func shapeMismatch() throws {
        let (_, directory) = try writeSmall()
        try editModelJSON(directory) { json in
            var weights = manifestOf(json)
            let index = weights.firstIndex { ($0["name"] as! String) == "logits/kernel" }!
            weights[index]["shape"] = [5, 6]
            setManifest(&json, weights)
        }
        #expect(
            throws: NeuralNetError.weightShapeMismatch(
                layer: "logits", weight: "kernel", expected: [6, 5], found: [5, 6])
        ) {
            try TFJSLayersFormat.read(directory)
        }
    }

    @Test(
        "unknown layer class and unsupported config values name the layer",
        arguments: [
            ("class", "LSTM"), ("dilation_rate", "[2,2]"), ("padding", "\"causal\""),
            ("data_format", "\"channels_first\""),
        ])
    func unsupportedLayers(_ change: (String, String)) throws {
        let (_, directory) = try writeSmall()
        try editModelJSON(directory) { json in
            var layers = layersOf(json)
            if change.0 == "class" {
                layers[1]["class_name"] = change.1
            } else {
                var config = layers[1]["config"] as! [String: Any]
                config[change.0] = try! JSONSerialization.jsonObject(
                    with: Data(change.1.utf8), options: .fragmentsAllowed)
                layers[1]["config"] = config
            }
            setLayers(&json, layers)
        }
        #expect {
            try TFJSLayersFormat.read(directory)
        } throws: { error in
            switch error as? NeuralNetError {
            case .unknownLayerClass(_, let layer, let className)?: return layer == "conv" && className == "LSTM"
            case .unsupportedConfig(let layer, let field, _, _)?: return layer == "conv" && field == change.0
            default: return false
            }
        }
    }

    @Test("NaN in a weight is reported with layer, weight and index")
    func nonFinite() throws {
        let (_, directory) = try writeSmall()
        let path = directory + "/group1-shard1of3.bin"
        var data = FileManager.default.contents(atPath: path)!
        let nan = Float.nan.bitPattern
        data.replaceSubrange(8..<12, with: withUnsafeBytes(of: nan.littleEndian) { Data($0) })
        try data.write(to: URL(fileURLWithPath: path))
        #expect {
            try TFJSLayersFormat.read(directory)
        } throws: { error in
            guard case NeuralNetError.nonFiniteWeight(let layer, let weight, let index, _) = error else { return false }
            return layer == "conv" && weight == "kernel" && index == 2
        }
    }

    @Test("non-float32 and quantised weights are refused", arguments: ["int32", "quantized"])
    func weightTypes(kind: String) throws {
        let (_, directory) = try writeSmall()
        try editModelJSON(directory) { json in
            var weights = manifestOf(json)
            if kind == "quantized" {
                weights[0]["quantization"] = ["dtype": "uint8", "scale": 0.1, "min": -1]
            } else {
                weights[0]["dtype"] = kind
            }
            setManifest(&json, weights)
        }
        #expect {
            try TFJSLayersFormat.read(directory)
        } throws: { error in
            guard case NeuralNetError.unsupportedWeightType(_, let weight, let dtype) = error else { return false }
            return weight == "conv/kernel" && dtype.contains(kind == "quantized" ? "uint8" : "int32")
        }
    }

    @Test("not JSON, a graph model, a missing file")
    func notAModel() throws {
        let (_, directory) = try writeSmall()
        try editModelJSON(directory) { json in json["format"] = "graph-model" }
        #expect { try TFJSLayersFormat.read(directory) } throws: { error in
            guard case NeuralNetError.invalidModelJSON(_, let reason) = error else { return false }
            return reason.contains("graph-model")
        }
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: directory + "/model.json"))
        #expect { try TFJSLayersFormat.read(directory) } throws: { error in
            if case NeuralNetError.invalidModelJSON = error { return true } else { return false }
        }
        #expect(throws: NeuralNetError.fileUnreadable(path: "/nonexistent/model.json", reason: "no such file")) {
            try TFJSLayersFormat.read("/nonexistent")
        }
    }

    @Test("stored weight names with scopes and :0 suffixes resolve to layer/weight")
    func weightNames() {
        #expect(TFJSLayersFormat.splitWeightName("conv1/kernel")! == ("conv1", "kernel"))
        #expect(
            TFJSLayersFormat.splitWeightName("mobilenet_1.00_224/conv_dw_1_bn/moving_mean:0")! == (
                "conv_dw_1_bn", "moving_mean"
            ))
        #expect(TFJSLayersFormat.splitWeightName("kernel") == nil)
    }
}

@Suite("NPY")
struct NPYTests {
    @Test("round trip keeps shape and scalars", arguments: [[5], [2, 3], [1, 224, 224, 3], [0]])
    func roundTrip(shape: [Int]) throws {
        let tensor = Tensor(shape: shape, uniformIn: -1...1, seed: 1)
        let bytes = NPY.encode(tensor)
        #expect((bytes.count - tensor.count * 4) % 64 == 0, "header aligned to 64 bytes")
        #expect(try NPY.decode(bytes) == tensor)
    }

    @Test("reads a numpy-written header (version 1.0, spaces as numpy writes them)")
    func numpyHeader() throws {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }"
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0]
        let padded = header + String(repeating: " ", count: 128 - 10 - header.count - 1) + "\n"
        bytes += [UInt8(padded.utf8.count), 0] + Array(padded.utf8)
        for value: Float in [1.5, -2] { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        #expect(try NPY.decode(bytes) == Tensor(shape: [2, 1], scalars: [1.5, -2]))
    }

    @Test(
        "float64, Fortran order, truncation and garbage are clear errors",
        arguments: ["'descr': '<f8'", "'fortran_order': True", "truncated", "garbage"])
    func errors(kind: String) {
        var bytes = NPY.encode(Tensor(shape: [2, 2], repeating: 1))
        switch kind {
        case "truncated": bytes.removeLast(2)
        case "garbage": bytes = Array("hello world, not numpy".utf8)
        default:
            let text = String(decoding: bytes, as: UTF8.self)
            let original = kind.contains("descr") ? "'descr': '<f4'" : "'fortran_order': False"
            bytes = Array(text.replacingOccurrences(of: original, with: kind).utf8)
        }
        #expect(throws: NeuralNetError.self) { try NPY.decode(bytes, path: "x.npy") }
    }
}
