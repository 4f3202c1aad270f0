// DenseHead ⇄ Model: a head becomes the 4-layer Keras model Input → Flatten → Dense(relu, bias) →
// Dense(softmax, no bias — or with one for heads imported with it) that TFJSLayersFormat writes as a TF.js Layers model (functional "Model"
// config; `tf.loadLayersModel` and tensorflowjs' Keras loader read it). Reading accepts that shape
// whether saved as Functional or Sequential (TF.js demo `model.save`), with any layer names, and
// rejects anything else with a typed error naming the offending layer.
import Foundation

/// Layer names gesturepad gives a head's layers when it writes one.
public enum HeadLayerNames {
    public static let input = "head_input"
    public static let flatten = "head_flatten"
    public static let hidden = "head_hidden"
    public static let output = "head_output"
}

extension DenseHead {
    /// The head as a Keras-style model (weights copied): Input(inputShape) → Flatten → Dense(U, relu) →
    /// Dense(K, softmax, bias only with `architecture.outputBias`), kernels in Keras [in, out] layout.
    public func model(name: String = "gesturepad_head") -> Model {
        let (d, u, k) = (inputCount, hiddenUnits, classes)
        let layers = [
            Layer(name: HeadLayerNames.input, kind: .input(shape: architecture.inputShape.map { $0 }), inbound: []),
            Layer(name: HeadLayerNames.flatten, kind: .flatten, inbound: [HeadLayerNames.input]),
            Layer(
                name: HeadLayerNames.hidden, kind: .dense(units: u, useBias: true, activation: .relu),
                inbound: [HeadLayerNames.flatten],
                weights: [
                    "kernel": Tensor(shape: [d, u], scalars: hiddenKernel),
                    "bias": Tensor(shape: [u], scalars: hiddenBias),
                ]),
            Layer(
                name: HeadLayerNames.output,
                kind: .dense(units: k, useBias: architecture.outputBias, activation: .softmax),
                inbound: [HeadLayerNames.hidden],
                weights: outputBias.map {
                    ["kernel": Tensor(shape: [u, k], scalars: outputKernel), "bias": Tensor(shape: [k], scalars: $0)]
                }
                    ?? ["kernel": Tensor(shape: [u, k], scalars: outputKernel)]),
        ]
        return Model(
            name: name, layers: layers, inputNames: [HeadLayerNames.input], outputNames: [HeadLayerNames.output])
    }

    /// A head from a model of exactly Input → Flatten → Dense(relu, bias) → Dense(softmax, with or without
    /// bias) with a fixed input shape; throws `notADenseHead` or `weightShapeMismatch` naming the layer otherwise.
    public convenience init(model: Model) throws(NeuralNetError) {
        let layers = model.layers
        let expected = ["Input", "Flatten", "Dense (relu, bias)", "Dense (softmax)"]
        guard layers.count == expected.count else {
            throw .notADenseHead(
                layer: layers.last?.name ?? model.name,
                reason:
                    "the model has \(layers.count) layers (\(layers.map(\.kind.className).joined(separator: " → "))), "
                    + "expected \(expected.count)")
        }
        for (index, layer) in layers.enumerated().dropFirst() where layer.inbound != [layers[index - 1].name] {
            throw .notADenseHead(
                layer: layer.name, reason: "its input is \(layer.inbound), expected [\(layers[index - 1].name)]")
        }
        guard model.outputNames == [layers[3].name] else {
            throw .notADenseHead(
                layer: layers[3].name, reason: "the model's outputs are \(model.outputNames), expected this layer")
        }
        guard case .input(let shape) = layers[0].kind else {
            throw .notADenseHead(
                layer: layers[0].name, reason: "is \(layers[0].kind.className), expected \(expected[0])")
        }
        let inputShape = shape.compactMap { $0 }
        guard inputShape.count == shape.count, !inputShape.isEmpty else {
            throw .notADenseHead(
                layer: layers[0].name, reason: "input shape \(shape.map { $0.map(String.init) ?? "null" }) is not fixed"
            )
        }
        guard case .flatten = layers[1].kind else {
            throw .notADenseHead(
                layer: layers[1].name, reason: "is \(layers[1].kind.className), expected \(expected[1])")
        }
        guard case .dense(let units, true, .relu) = layers[2].kind else {
            throw .notADenseHead(layer: layers[2].name, reason: "is \(layers[2].kind), expected \(expected[2])")
        }
        guard case .dense(let classes, let outputBias, .softmax) = layers[3].kind else {
            throw .notADenseHead(layer: layers[3].name, reason: "is \(layers[3].kind), expected \(expected[3])")
        }
        let architecture = HeadArchitecture(
            inputShape: inputShape, hiddenUnits: units, classes: classes, outputBias: outputBias)
        do {
            try architecture.validate()
        } catch {
            throw .notADenseHead(layer: layers[3].name, reason: error.description)
        }
        let d = architecture.inputCount
        func weight(_ layer: Layer, _ name: String, _ shape: [Int]) throws(NeuralNetError) -> [Float] {
            guard let tensor = layer.weights[name] else { throw .missingWeight(layer: layer.name, weight: name) }
            guard tensor.shape == shape else {
                throw .weightShapeMismatch(layer: layer.name, weight: name, expected: shape, found: tensor.shape)
            }
            if let index = tensor.scalars.firstIndex(where: { !$0.isFinite }) {
                throw .nonFiniteWeight(layer: layer.name, weight: name, index: index, value: tensor.scalars[index])
            }
            return tensor.scalars
        }
        try self.init(
            architecture: architecture,
            hiddenKernel: weight(layers[2], "kernel", [d, units]),
            hiddenBias: weight(layers[2], "bias", [units]),
            outputKernel: weight(layers[3], "kernel", [units, classes]),
            outputBias: outputBias ? weight(layers[3], "bias", [classes]) : nil)
    }

    /// Saves the head as a TF.js Layers model (model.json + one shard) into `directory`, atomically.
    public func save(to directory: String, metadata: JSONValue? = nil) throws(NeuralNetError) {
        try TFJSLayersFormat.write(model(), to: directory, metadata: metadata)
    }

    /// Loads a head saved by `save` or by TF.js (`model.save` of the demo's Sequential head).
    public static func load(from location: String) throws(NeuralNetError) -> DenseHead {
        try DenseHead(model: TFJSLayersFormat.read(location))
    }
}

extension DenseHead {
    /// One model for a browser: `embedder` cut at `cutLayer`, then this head's Flatten → Dense(relu) →
    /// Dense(softmax) reading the cut layer (its Input layer dropped). The output is `HeadLayerNames.output`.
    /// - Parameter inputShape: [H, W, C] when the embedder's input size is not fixed.
    /// - Throws: `shapeMismatch` when the cut layer's output is not the head's input shape, `invalidGraph`
    ///   when the embedder already has a layer with one of the head's names.
    public func bundle(
        embedder: Model, cutLayer: String, inputShape: [Int]? = nil,
        name: String = "gesturepad_bundle"
    ) throws(NeuralNetError) -> Model {
        let cut = try embedder.cut(at: cutLayer)
        let shapes = try cut.inferShapes(inputShape: inputShape)
        let cutShape = shapes[cutLayer]?.outputShape ?? []
        guard cutShape == architecture.inputShape else {
            throw .shapeMismatch(
                layer: cutLayer, expected: "the head's input \(architecture.inputShape)", found: cutShape)
        }
        var layers = cut.layers
        for var layer in model().layers.dropFirst() {
            guard cut.index(of: layer.name) == nil else {
                throw .invalidGraph(
                    reason: "the embedder already has a layer named \(layer.name), a name the head uses")
            }
            if layer.inbound == [HeadLayerNames.input] { layer.inbound = [cutLayer] }
            layers.append(layer)
        }
        if let shape = inputShape, let input = cut.inputNames.first,
            let index = layers.firstIndex(where: { $0.name == input })
        {
            // A fixed size, as tf.loadLayersModel needs for Flatten.
            layers[index].kind = .input(shape: shape.map { $0 })
        }
        return Model(name: name, layers: layers, inputNames: cut.inputNames, outputNames: [HeadLayerNames.output])
    }
}
