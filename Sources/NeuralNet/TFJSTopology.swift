// Keras model topology ⇄ `Model`: the `modelTopology` part of a TF.js Layers model.json.
// Parser: Keras 2 ("Model", list-style inbound_nodes [[["name", 0, 0, {}]]]), Keras 3 ("Functional",
// dict-style nodes {"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": [...]}}]})
// and Sequential configs; every unsupported value is an error naming the layer and field.
// Sizes are bounded here (SizeLimits): kernel sides, strides and paddings ≤ maximumSpatialSize, filters
// and units ≤ maximumChannels, input dimensions ≤ maximumTensorElements; epsilon, rates and ReLU caps
// finite and in range. Shape inference then checks them against the actual input sizes.
// Writer: a Keras-2-style functional "Model" config, the most widely loadable form.

struct TopologyParser {
    /// model.json path, for error messages.
    let path: String

    func parse(_ topology: JSONValue) throws(NeuralNetError) -> Model {
        let root = topology["model_config"] ?? topology
        guard let className = root["class_name"]?.stringValue else {
            throw .invalidModelJSON(
                path: path, reason: "modelTopology has no class_name (is this a TF.js graph model?)")
        }
        let config = root["config"] ?? .null
        // Layer configs are kept for the writer only from Keras 2 topologies: Keras 3 configs (dtype
        // policies as objects, …) do not belong in the Keras-2-style "Model" config the writer emits.
        let keepConfigs = !(topology["keras_version"]?.stringValue ?? root["keras_version"]?.stringValue ?? "")
            .hasPrefix("3")
        switch className {
        case "Model", "Functional": return try parseFunctional(config, keepConfigs: keepConfigs)
        case "Sequential": return try parseSequential(config, keepConfigs: keepConfigs)
        default:
            throw .invalidModelJSON(
                path: path, reason: "model class \(className); expected Model, Functional or Sequential")
        }
    }

    // MARK: Model kinds

    private func parseFunctional(_ config: JSONValue, keepConfigs: Bool) throws(NeuralNetError) -> Model {
        guard let layerList = config["layers"]?.arrayValue else {
            throw .invalidField(path: path, field: "modelTopology.config.layers", expected: "an array of layers")
        }
        var layers: [Layer] = []
        for (index, entry) in layerList.enumerated() {
            let name = try layerName(entry, index: index)
            let kind = try parseKind(entry, name: name, index: index)
            let inbound = try inboundNames(entry["inbound_nodes"], layer: name)
            let keras2Nodes = entry["inbound_nodes"]?.arrayValue?.allSatisfy { $0.arrayValue != nil } ?? true
            layers.append(
                Layer(
                    name: name, kind: kind, inbound: inbound,
                    sourceConfig: keepConfigs && keras2Nodes ? entry["config"] : nil))
        }
        let inputs = try endpointNames(config["input_layers"], field: "input_layers")
        let outputs = try endpointNames(config["output_layers"], field: "output_layers")
        let model = Model(
            name: config["name"]?.stringValue ?? "model", layers: try topologicallySorted(layers),
            inputNames: inputs, outputNames: outputs)
        for name in inputs + outputs where model.index(of: name) == nil {
            throw .invalidGraph(reason: "input/output layer \(name) is not among the layers")
        }
        return model
    }

    private func parseSequential(_ config: JSONValue, keepConfigs: Bool) throws(NeuralNetError) -> Model {
        guard let layerList = config.arrayValue ?? config["layers"]?.arrayValue, !layerList.isEmpty else {
            throw .invalidField(
                path: path, field: "modelTopology.config.layers", expected: "a non-empty array of layers")
        }
        var layers: [Layer] = []
        for (index, entry) in layerList.enumerated() {
            let name = try layerName(entry, index: index)
            let kind = try parseKind(entry, name: name, index: index)
            let source = keepConfigs ? entry["config"] : nil
            if index == 0, case .input = kind {
                layers.append(Layer(name: name, kind: kind, inbound: [], sourceConfig: source))
                continue
            }
            if index == 0 {
                // Keras builds an implicit input layer "<first>_input" from batch_input_shape.
                guard let shape = batchShape(entry["config"] ?? .null) else {
                    throw .invalidField(
                        path: path, field: "layers[0].config.batch_input_shape",
                        expected: "the input shape of a Sequential model")
                }
                layers.append(Layer(name: "\(name)_input", kind: .input(shape: shape), inbound: []))
            }
            layers.append(Layer(name: name, kind: kind, inbound: [layers[layers.count - 1].name], sourceConfig: source))
        }
        return Model(
            name: config["name"]?.stringValue ?? "sequential", layers: layers,
            inputNames: [layers[0].name], outputNames: [layers[layers.count - 1].name])
    }

    // MARK: Graph plumbing

    private func layerName(_ entry: JSONValue, index: Int) throws(NeuralNetError) -> String {
        guard let name = entry["config"]?["name"]?.stringValue ?? entry["name"]?.stringValue, !name.isEmpty else {
            throw .invalidField(path: path, field: "layers[\(index)].config.name", expected: "a layer name")
        }
        return name
    }

    /// Inbound layer names of a layer's first (only) call.
    private func inboundNames(_ nodes: JSONValue?, layer: String) throws(NeuralNetError) -> [String] {
        guard let nodes = nodes?.arrayValue, let node = nodes.first else { return [] }
        guard nodes.count == 1 else {
            throw .unsupportedConfig(
                layer: layer, field: "inbound_nodes", value: "\(nodes.count) calls",
                expected: "a layer called once (shared layers are not supported)")
        }
        var history: [(String, Int, Int)] = []
        if let list = node.arrayValue {
            // Keras 2: [["name", nodeIndex, tensorIndex, {kwargs}], ...]
            for reference in list {
                guard let parts = reference.arrayValue, parts.count >= 3, let name = parts[0].stringValue,
                    let nodeIndex = parts[1].intValue, let tensorIndex = parts[2].intValue
                else {
                    throw .invalidField(
                        path: path, field: "layer \(layer).inbound_nodes",
                        expected: "[\"name\", node, tensor, {}] entries")
                }
                history.append((name, nodeIndex, tensorIndex))
            }
        } else {
            // Keras 3: {"args": [...tensors or lists of tensors...], "kwargs": {...}}
            collectHistory(node["args"] ?? .null, into: &history)
        }
        for (name, nodeIndex, tensorIndex) in history where nodeIndex != 0 || tensorIndex != 0 {
            throw .unsupportedConfig(
                layer: layer, field: "inbound_nodes", value: "\(name)[\(nodeIndex)][\(tensorIndex)]",
                expected: "node 0, tensor 0 (single-output layers called once)")
        }
        return history.map(\.0)
    }

    private func collectHistory(_ value: JSONValue, into history: inout [(String, Int, Int)]) {
        if let keras = value["config"]?["keras_history"]?.arrayValue, keras.count >= 3, let name = keras[0].stringValue
        {
            history.append((name, keras[1].intValue ?? 0, keras[2].intValue ?? 0))
        } else if let list = value.arrayValue {
            for item in list { collectHistory(item, into: &history) }
        }
    }

    /// `input_layers` / `output_layers`: [["name", 0, 0], …] or a single ["name", 0, 0].
    private func endpointNames(_ value: JSONValue?, field: String) throws(NeuralNetError) -> [String] {
        guard let list = value?.arrayValue, !list.isEmpty else {
            throw .invalidField(path: path, field: "modelTopology.config.\(field)", expected: "[[\"name\", 0, 0], …]")
        }
        if let single = list[0].stringValue { return [single] }
        var names: [String] = []
        for item in list {
            guard let name = item.arrayValue?.first?.stringValue else {
                throw .invalidField(
                    path: path, field: "modelTopology.config.\(field)", expected: "[[\"name\", 0, 0], …]")
            }
            names.append(name)
        }
        return names
    }

    /// Kahn's algorithm, stable in file order; rejects unknown inbound names, duplicates and cycles.
    private func topologicallySorted(_ layers: [Layer]) throws(NeuralNetError) -> [Layer] {
        var names = Set<String>()
        for layer in layers where !names.insert(layer.name).inserted {
            throw .invalidGraph(reason: "two layers are named \(layer.name)")
        }
        for layer in layers {
            for input in layer.inbound where !names.contains(input) {
                throw .invalidGraph(reason: "layer \(layer.name) takes input from \(input), which does not exist")
            }
        }
        var placed = Set<String>()
        var sorted: [Layer] = []
        var pending = layers
        while !pending.isEmpty {
            guard let next = pending.firstIndex(where: { $0.inbound.allSatisfy(placed.contains) }) else {
                throw .invalidGraph(reason: "the layers \(pending.map(\.name).prefix(5)) form a cycle")
            }
            placed.insert(pending[next].name)
            sorted.append(pending.remove(at: next))
        }
        return sorted
    }

    // MARK: Layer configs

    fileprivate func parseKind(_ entry: JSONValue, name: String, index: Int) throws(NeuralNetError) -> LayerKind {
        guard let className = entry["class_name"]?.stringValue else {
            throw .invalidField(path: path, field: "layers[\(index)].class_name", expected: "a Keras class name")
        }
        let config = entry["config"] ?? .null
        let field = FieldReader(layer: name, config: config)
        switch className {
        case "InputLayer":
            guard let shape = batchShape(config) else {
                throw .invalidField(
                    path: path, field: "layer \(name).config.batch_input_shape", expected: "[null, H, W, C]")
            }
            try checkInputShape(shape, layer: name, config: config)
            return .input(shape: shape)
        case "Conv2D":
            try field.requireChannelsLast()
            try field.requireOnes("dilation_rate")
            if let groups = config["groups"], groups.intValue != 1 {
                throw .unsupportedConfig(layer: name, field: "groups", value: "\(groups)", expected: "1")
            }
            return .conv2D(
                Conv2DConfig(
                    filters: try field.positiveInt("filters", maximum: SizeLimits.maximumChannels),
                    kernelSize: try field.pair("kernel_size"),
                    strides: try field.pair("strides", default: (1, 1)), padding: try field.padding(),
                    useBias: try field.bool("use_bias", default: true), activation: try field.activation()))
        case "DepthwiseConv2D":
            try field.requireChannelsLast()
            try field.requireOnes("dilation_rate")
            if let multiplier = config["depth_multiplier"], multiplier.intValue != 1 {
                throw .unsupportedConfig(layer: name, field: "depth_multiplier", value: "\(multiplier)", expected: "1")
            }
            return .depthwiseConv2D(
                DepthwiseConv2DConfig(
                    kernelSize: try field.pair("kernel_size"), strides: try field.pair("strides", default: (1, 1)),
                    padding: try field.padding(), useBias: try field.bool("use_bias", default: true),
                    activation: try field.activation()))
        case "BatchNormalization":
            if let axis = config["axis"] {
                let value = axis.intValue ?? axis.arrayValue?.first?.intValue
                guard value == -1 || value == 3, (axis.arrayValue?.count ?? 1) == 1 else {
                    throw .unsupportedConfig(
                        layer: name, field: "axis", value: "\(axis)", expected: "-1 or 3 (channels last)")
                }
            }
            let epsilon = try field.number(
                "epsilon", default: 0.001, in: Double(Float.leastNormalMagnitude)...1,
                expected: "a finite number in (0, 1] (Keras' default is 0.001)")
            return .batchNormalization(
                epsilon: Float(epsilon),
                center: try field.bool("center", default: true),
                scale: try field.bool("scale", default: true))
        case "Activation":
            return .activation(try field.activation())
        case "ReLU":
            for key in ["negative_slope", "threshold"] {
                if let value = config[key]?.doubleValue, value != 0 {
                    throw .unsupportedConfig(layer: name, field: key, value: "\(value)", expected: "0")
                }
            }
            var maxValue: Float?
            if let raw = config["max_value"], !raw.isNull {
                maxValue = Float(
                    try field.number(
                        "max_value", default: 0, in: 0...Double(Float.greatestFiniteMagnitude),
                        expected: "null or a finite number ≥ 0 (6 for ReLU6)"))
            }
            return .relu(maxValue: maxValue)
        case "ZeroPadding2D":
            try field.requireChannelsLast()
            return .zeroPadding2D(try field.padding2D())
        case "Add":
            return .add
        case "GlobalAveragePooling2D":
            try field.requireChannelsLast()
            if config["keepdims"]?.boolValue == true {
                throw .unsupportedConfig(layer: name, field: "keepdims", value: "true", expected: "false")
            }
            return .globalAveragePooling2D
        case "Flatten":
            try field.requireChannelsLast()
            return .flatten
        case "Reshape":
            guard let list = config["target_shape"]?.arrayValue, !list.isEmpty,
                case let target = list.compactMap(\.intValue), target.count == list.count,
                target.allSatisfy({ $0 == -1 || (1...SizeLimits.maximumTensorElements).contains($0) }),
                target.filter({ $0 == -1 }).count <= 1
            else {
                throw .invalidField(
                    path: path, field: "layer \(name).config.target_shape",
                    expected: "a list of sizes 1…\(SizeLimits.maximumTensorElements), at most one -1, "
                        + "found \(config["target_shape"].map { "\($0)" } ?? "nothing")")
            }
            return .reshape(targetShape: target)
        case "Dropout":
            let rate = try field.number("rate", default: 0, in: 0...1, expected: "a number in [0, 1]")
            return .dropout(rate: Float(rate))
        case "Dense":
            return .dense(
                units: try field.positiveInt("units", maximum: SizeLimits.maximumChannels),
                useBias: try field.bool("use_bias", default: true),
                activation: try field.activation())
        case "Softmax":
            if let axis = config["axis"], axis.intValue != -1, axis.arrayValue?.first?.intValue != -1 {
                throw .unsupportedConfig(layer: name, field: "axis", value: "\(axis)", expected: "-1")
            }
            return .softmax
        default:
            throw .unknownLayerClass(path: path, layer: name, className: className)
        }
    }

    /// Input dimensions are null (any size) or integers 1…`SizeLimits.maximumTensorElements`.
    private func checkInputShape(_ shape: [Int?], layer: String, config: JSONValue) throws(NeuralNetError) {
        let written = (config["batch_input_shape"] ?? config["batch_shape"])?.arrayValue?.dropFirst() ?? []
        for (dimension, value) in zip(shape, written) where !value.isNull {
            guard let dimension, (1...SizeLimits.maximumTensorElements).contains(dimension) else {
                throw .unsupportedConfig(
                    layer: layer, field: "batch_input_shape", value: "\(JSONValue.array([.null] + written))",
                    expected: "null or a size 1…\(SizeLimits.maximumTensorElements) per dimension")
            }
        }
    }

    /// `batch_input_shape` (Keras 2) or `batch_shape` (Keras 3) without the batch axis.
    private func batchShape(_ config: JSONValue) -> [Int?]? {
        guard let list = (config["batch_input_shape"] ?? config["batch_shape"])?.arrayValue, list.count >= 2 else {
            return nil
        }
        return list.dropFirst().map { $0.intValue }
    }
}

/// Typed access to one layer's config with errors that name the layer and field.
private struct FieldReader {
    let layer: String
    let config: JSONValue

    func positiveInt(_ key: String, maximum: Int) throws(NeuralNetError) -> Int {
        guard let value = config[key]?.intValue, (1...maximum).contains(value) else {
            throw .unsupportedConfig(
                layer: layer, field: key, value: "\(config[key].map { "\($0)" } ?? "missing")",
                expected: "an integer 1…\(maximum)")
        }
        return value
    }

    /// A finite number in `range`, `fallback` when absent or null.
    func number(_ key: String, default fallback: Double, in range: ClosedRange<Double>, expected: String)
        throws(NeuralNetError) -> Double
    {
        guard let value = config[key], !value.isNull else { return fallback }
        guard let number = value.doubleValue, number.isFinite, range.contains(number) else {
            throw .unsupportedConfig(layer: layer, field: key, value: "\(value)", expected: expected)
        }
        return number
    }

    func bool(_ key: String, default fallback: Bool) throws(NeuralNetError) -> Bool {
        guard let value = config[key], !value.isNull else { return fallback }
        guard let flag = value.boolValue else {
            throw .unsupportedConfig(layer: layer, field: key, value: "\(value)", expected: "true or false")
        }
        return flag
    }

    /// An int or a two-element list, e.g. kernel_size 3 or [3, 3].
    func pair(_ key: String, default fallback: (Int, Int)? = nil) throws(NeuralNetError) -> (Int, Int) {
        guard let value = config[key], !value.isNull else {
            if let fallback { return fallback }
            throw .unsupportedConfig(layer: layer, field: key, value: "missing", expected: "an int or [int, int]")
        }
        let allowed = 1...SizeLimits.maximumSpatialSize
        if let single = value.intValue, allowed.contains(single) { return (single, single) }
        if let list = value.arrayValue?.compactMap(\.intValue), list.count == 2, list.allSatisfy(allowed.contains) {
            return (list[0], list[1])
        }
        throw .unsupportedConfig(
            layer: layer, field: key, value: "\(value)",
            expected: "an int or [int, int], each 1…\(SizeLimits.maximumSpatialSize)")
    }

    func padding() throws(NeuralNetError) -> Padding {
        let text = config["padding"]?.stringValue ?? "valid"
        guard let mode = Padding(rawValue: text) else {
            throw .unsupportedConfig(layer: layer, field: "padding", value: text, expected: "\"same\" or \"valid\"")
        }
        return mode
    }

    func activation() throws(NeuralNetError) -> Activation {
        guard let value = config["activation"], !value.isNull else { return .linear }
        // Keras 3 may serialise {"module": "keras.activations", "class_name": "function", "config": "relu"}.
        let name = value.stringValue ?? value["config"]?.stringValue ?? "\(value)"
        guard let activation = Activation(rawValue: name) else {
            throw .unsupportedConfig(
                layer: layer, field: "activation", value: name,
                expected: Activation.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return activation
    }

    func requireChannelsLast() throws(NeuralNetError) {
        if let format = config["data_format"]?.stringValue, format != "channels_last" {
            throw .unsupportedConfig(layer: layer, field: "data_format", value: format, expected: "channels_last")
        }
    }

    func requireOnes(_ key: String) throws(NeuralNetError) {
        guard let value = config[key], !value.isNull else { return }
        let values = value.arrayValue?.map(\.intValue) ?? [value.intValue]
        guard values.allSatisfy({ $0 == 1 }) else {
            throw .unsupportedConfig(layer: layer, field: key, value: "\(value)", expected: "1 (no dilation)")
        }
    }

    /// ZeroPadding2D `padding`: p, [h, w] or [[top, bottom], [left, right]].
    func padding2D() throws(NeuralNetError) -> Padding2D {
        let value = config["padding"] ?? .number(1)
        let allowed = 0...SizeLimits.maximumSpatialSize
        if let all = value.intValue, allowed.contains(all) {
            return Padding2D(top: all, bottom: all, left: all, right: all)
        }
        if let list = value.arrayValue, list.count == 2 {
            if let h = list[0].intValue, let w = list[1].intValue, allowed.contains(h), allowed.contains(w) {
                return Padding2D(top: h, bottom: h, left: w, right: w)
            }
            if let rows = list[0].arrayValue?.compactMap(\.intValue),
                let columns = list[1].arrayValue?.compactMap(\.intValue),
                rows.count == 2, columns.count == 2, (rows + columns).allSatisfy(allowed.contains)
            {
                return Padding2D(top: rows[0], bottom: rows[1], left: columns[0], right: columns[1])
            }
        }
        throw .unsupportedConfig(
            layer: layer, field: "padding", value: "\(value)",
            expected: "p, [h, w] or [[top, bottom], [left, right]], each 0…\(SizeLimits.maximumSpatialSize) "
                + "(and at most the input size)")
    }
}

/// Builds the Keras-2-style functional topology TF.js and Keras load.
enum TopologyWriter {
    static func topology(of model: Model) -> JSONValue {
        let layers: [JSONValue] = model.layers.map { layer in
            var config: [String: JSONValue]
            if let source = keptConfig(of: layer) {
                config = source  // as read: numbers keep their text, unknown fields stay
            } else {
                config = layerConfig(layer.kind)
                // Keras' InputLayer rejects `trainable` ("Unrecognized keyword arguments"); other layers take it.
                if case .input = layer.kind {
                } else {
                    config["trainable"] = true
                    config["dtype"] = "float32"
                }
            }
            config["name"] = .string(layer.name)
            let inbound: [JSONValue] = layer.inbound.map { .array([.string($0), 0, 0, .object([:])]) }
            return [
                "class_name": .string(layer.kind.className), "name": .string(layer.name),
                "config": .object(config), "inbound_nodes": layer.inbound.isEmpty ? [] : [.array(inbound)],
            ]
        }
        let endpoints = { (names: [String]) -> JSONValue in .array(names.map { [.string($0), 0, 0] }) }
        return [
            "class_name": "Model", "keras_version": "2.15.0", "backend": "tensorflow",
            "config": [
                "name": .string(model.name), "layers": .array(layers),
                "input_layers": endpoints(model.inputNames), "output_layers": endpoints(model.outputNames),
            ],
        ]
    }

    /// The layer's source config when it still parses to the layer's kind (a layer changed since
    /// reading gets a fresh config).
    private static func keptConfig(of layer: Layer) -> [String: JSONValue]? {
        guard let source = layer.sourceConfig?.objectValue else { return nil }
        let entry: JSONValue = ["class_name": .string(layer.kind.className), "config": .object(source)]
        guard let kind = try? TopologyParser(path: "").parseKind(entry, name: layer.name, index: 0), kind == layer.kind
        else {
            return nil
        }
        var config = source
        if case .input = layer.kind {
        } else {
            // A Sequential model's first layer carries the input shape; the written model has an InputLayer for it.
            config["batch_input_shape"] = nil
            config["batch_shape"] = nil
        }
        return config
    }

    private static func pair(_ value: (Int, Int)) -> JSONValue { [.number(Double(value.0)), .number(Double(value.1))] }

    private static func layerConfig(_ kind: LayerKind) -> [String: JSONValue] {
        switch kind {
        case .input(let shape):
            return [
                "batch_input_shape": .array([.null] + shape.map { $0.map { .number(Double($0)) } ?? .null }),
                "dtype": "float32", "sparse": false,
            ]
        case .conv2D(let c):
            return [
                "filters": .number(Double(c.filters)), "kernel_size": pair(c.kernelSize), "strides": pair(c.strides),
                "padding": .string(c.padding.rawValue), "data_format": "channels_last", "dilation_rate": [1, 1],
                "activation": .string(c.activation.rawValue), "use_bias": .bool(c.useBias),
            ]
        case .depthwiseConv2D(let c):
            return [
                "kernel_size": pair(c.kernelSize), "strides": pair(c.strides), "padding": .string(c.padding.rawValue),
                "data_format": "channels_last", "dilation_rate": [1, 1], "depth_multiplier": 1,
                "activation": .string(c.activation.rawValue), "use_bias": .bool(c.useBias),
            ]
        case .batchNormalization(let epsilon, let center, let scale):
            return [
                "axis": -1, "momentum": 0.99, "epsilon": .number(JSONNumber(float: epsilon)), "center": .bool(center),
                "scale": .bool(scale),
            ]
        case .activation(let activation):
            return ["activation": .string(activation.rawValue)]
        case .relu(let maxValue):
            return [
                "max_value": maxValue.map { .number(JSONNumber(float: $0)) } ?? .null, "negative_slope": 0,
                "threshold": 0,
            ]
        case .zeroPadding2D(let p):
            return ["padding": [pair((p.top, p.bottom)), pair((p.left, p.right))], "data_format": "channels_last"]
        case .add, .flatten, .softmax:
            return [:]
        case .globalAveragePooling2D:
            return ["data_format": "channels_last"]
        case .reshape(let target):
            return ["target_shape": .array(target.map { .number(Double($0)) })]
        case .dropout(let rate):
            return ["rate": .number(JSONNumber(float: rate))]
        case .dense(let units, let useBias, let activation):
            return [
                "units": .number(Double(units)), "use_bias": .bool(useBias), "activation": .string(activation.rawValue),
            ]
        }
    }
}
