// The layer graph gesturepad understands: a Keras/TF.js Layers model reduced to the operators a
// MobileNet (v1, v2) and a dense head need. Names, class names and weight names follow Keras, so a
// model read from model.json and written back is the same model (see TFJSLayersFormat.swift).
// Invariants: layers are stored in topological order; every inbound name refers to an earlier layer.

/// Spatial padding mode of a convolution (Keras `padding`).
public enum Padding: String, Sendable, Equatable, CaseIterable {
    /// Output size ceil(in / stride); TF pads the extra row/column at the bottom/right.
    case same
    /// No padding: output size floor((in - kernel) / stride) + 1.
    case valid
}

/// Element-wise activation (Keras `activation` names).
public enum Activation: String, Sendable, Equatable, CaseIterable {
    case linear, relu, relu6, softmax, sigmoid, tanh

    /// The bounds a clamp-style activation applies, or nil when it is not a clamp.
    var clampBounds: (low: Float, high: Float)? {
        switch self {
        case .linear: return (-.infinity, .infinity)
        case .relu: return (0, .infinity)
        case .relu6: return (0, 6)
        case .softmax, .sigmoid, .tanh: return nil
        }
    }
}

/// Configuration of a Conv2D layer (Keras `Conv2D`, kernel layout HWIO = [KH, KW, Cin, Cout]).
public struct Conv2DConfig: Sendable, Equatable {
    public var filters: Int
    public var kernelSize: (height: Int, width: Int)
    public var strides: (height: Int, width: Int)
    public var padding: Padding
    public var useBias: Bool
    public var activation: Activation

    public init(
        filters: Int, kernelSize: (Int, Int), strides: (Int, Int) = (1, 1), padding: Padding = .valid,
        useBias: Bool = true, activation: Activation = .linear
    ) {
        self.filters = filters
        self.kernelSize = kernelSize
        self.strides = strides
        self.padding = padding
        self.useBias = useBias
        self.activation = activation
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.filters == rhs.filters && lhs.kernelSize == rhs.kernelSize && lhs.strides == rhs.strides
            && lhs.padding == rhs.padding && lhs.useBias == rhs.useBias && lhs.activation == rhs.activation
    }
}

/// Configuration of a DepthwiseConv2D layer (depth_multiplier 1; kernel [KH, KW, C, 1]).
public struct DepthwiseConv2DConfig: Sendable, Equatable {
    public var kernelSize: (height: Int, width: Int)
    public var strides: (height: Int, width: Int)
    public var padding: Padding
    public var useBias: Bool
    public var activation: Activation

    public init(
        kernelSize: (Int, Int) = (3, 3), strides: (Int, Int) = (1, 1), padding: Padding = .same,
        useBias: Bool = false, activation: Activation = .linear
    ) {
        self.kernelSize = kernelSize
        self.strides = strides
        self.padding = padding
        self.useBias = useBias
        self.activation = activation
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.kernelSize == rhs.kernelSize && lhs.strides == rhs.strides && lhs.padding == rhs.padding
            && lhs.useBias == rhs.useBias && lhs.activation == rhs.activation
    }
}

/// Explicit zero padding in pixels on each side of the H and W axes.
public struct Padding2D: Sendable, Equatable {
    public var top: Int, bottom: Int, left: Int, right: Int

    public init(top: Int, bottom: Int, left: Int, right: Int) {
        self.top = top
        self.bottom = bottom
        self.left = left
        self.right = right
    }

    /// No padding.
    public static let zero = Padding2D(top: 0, bottom: 0, left: 0, right: 0)
}

/// What a layer computes; associated values are its configuration.
public enum LayerKind: Sendable, Equatable {
    /// The model input; `shape` excludes the batch axis (nil = any size).
    case input(shape: [Int?])
    case conv2D(Conv2DConfig)
    case depthwiseConv2D(DepthwiseConv2DConfig)
    /// Batch normalisation over the last axis with the given epsilon; `center`/`scale` say
    /// whether beta/gamma weights exist.
    case batchNormalization(epsilon: Float, center: Bool, scale: Bool)
    case activation(Activation)
    /// Keras `ReLU` layer: max(x, 0), capped at `maxValue` when given.
    case relu(maxValue: Float?)
    case zeroPadding2D(Padding2D)
    case add
    case globalAveragePooling2D
    case flatten
    /// Reshape to `targetShape` (batch axis excluded).
    case reshape(targetShape: [Int])
    /// Identity at inference.
    case dropout(rate: Float)
    case dense(units: Int, useBias: Bool, activation: Activation)
    /// Keras `Softmax` layer over the last axis.
    case softmax

    /// The Keras class name written to model.json.
    public var className: String {
        switch self {
        case .input: return "InputLayer"
        case .conv2D: return "Conv2D"
        case .depthwiseConv2D: return "DepthwiseConv2D"
        case .batchNormalization: return "BatchNormalization"
        case .activation: return "Activation"
        case .relu: return "ReLU"
        case .zeroPadding2D: return "ZeroPadding2D"
        case .add: return "Add"
        case .globalAveragePooling2D: return "GlobalAveragePooling2D"
        case .flatten: return "Flatten"
        case .reshape: return "Reshape"
        case .dropout: return "Dropout"
        case .dense: return "Dense"
        case .softmax: return "Softmax"
        }
    }

    /// Weight names this layer owns, in Keras order (the order model.json lists them).
    public var weightNames: [String] {
        switch self {
        case .conv2D(let config): return config.useBias ? ["kernel", "bias"] : ["kernel"]
        case .depthwiseConv2D(let config): return config.useBias ? ["depthwise_kernel", "bias"] : ["depthwise_kernel"]
        case .dense(_, let useBias, _): return useBias ? ["kernel", "bias"] : ["kernel"]
        case .batchNormalization(_, let center, let scale):
            return (scale ? ["gamma"] : []) + (center ? ["beta"] : []) + ["moving_mean", "moving_variance"]
        default: return []
        }
    }
}

/// One layer: a name, what it computes, where its inputs come from and its weights.
public struct Layer: Sendable, Equatable {
    public var name: String
    public var kind: LayerKind
    /// Names of the layers feeding this one, in argument order (empty for inputs).
    public var inbound: [String]
    /// Weights by Keras name ("kernel", "bias", "gamma", …), in `kind.weightNames` order.
    public var weights: [String: Tensor]
    /// The layer's `config` object as read from a Keras-2-style model.json (numbers keep their decimal
    /// text, initialisers and other fields gesturepad ignores are kept). The writer writes it back while
    /// it still describes `kind`, so a model read and written again keeps the converter's configs. Not
    /// part of equality: two layers computing the same thing are equal however their config was written.
    public var sourceConfig: JSONValue?

    public init(
        name: String, kind: LayerKind, inbound: [String], weights: [String: Tensor] = [:],
        sourceConfig: JSONValue? = nil
    ) {
        self.name = name
        self.kind = kind
        self.inbound = inbound
        self.weights = weights
        self.sourceConfig = sourceConfig
    }

    public static func == (lhs: Layer, rhs: Layer) -> Bool {
        lhs.name == rhs.name && lhs.kind == rhs.kind && lhs.inbound == rhs.inbound && lhs.weights == rhs.weights
    }
}

/// A directed acyclic graph of layers with named inputs and outputs (Keras functional model).
public struct Model: Sendable, Equatable {
    public var name: String
    /// Layers in topological order.
    public var layers: [Layer]
    public var inputNames: [String]
    public var outputNames: [String]

    public init(name: String, layers: [Layer], inputNames: [String], outputNames: [String]) {
        self.name = name
        self.layers = layers
        self.inputNames = inputNames
        self.outputNames = outputNames
    }

    /// The layer called `name`, if any.
    public func layer(named name: String) -> Layer? { layers.first { $0.name == name } }

    /// Index of the layer called `name`, if any.
    public func index(of name: String) -> Int? { layers.firstIndex { $0.name == name } }

    /// The model truncated so that `layerName` is its single output; layers not needed for it are dropped.
    public func cut(at layerName: String) throws(NeuralNetError) -> Model {
        guard index(of: layerName) != nil else {
            throw .layerNotFound(layer: layerName, available: layers.map(\.name))
        }
        var needed: Set<String> = [layerName]
        for layer in layers.reversed() where needed.contains(layer.name) { needed.formUnion(layer.inbound) }
        return Model(
            name: name, layers: layers.filter { needed.contains($0.name) },
            inputNames: inputNames.filter { needed.contains($0) }, outputNames: [layerName])
    }

    /// Total number of weight scalars.
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.weights.values.reduce(0) { $0 + $1.count } } }
}

extension LayerKind: CustomStringConvertible {
    /// The class name, with units/activation/bias for Dense ("Dense (3 units, softmax, no bias)"), for messages.
    public var description: String {
        if case .dense(let units, let useBias, let activation) = self {
            return "Dense (\(units) units, \(activation.rawValue), \(useBias ? "bias" : "no bias"))"
        }
        return className
    }
}
