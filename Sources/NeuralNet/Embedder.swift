// Embedder: the planned fast path. At load it cuts the model at a named layer, folds every
// BatchNormalization into the convolution before it, fuses ZeroPadding2D into the next valid
// convolution and ReLU/ReLU6 into the write of the layer before, copies weights into their kernel
// layouts, and assigns every intermediate tensor (and im2col scratch) an offset in ONE arena by
// lifetime, so `embed` allocates nothing. Flatten/Reshape/Dropout are free aliases.
// Not reentrant: calls are serialised by a lock. The reference path (ReferencePath.swift) is its test oracle.
// Built -Ounchecked in release: the kernels index with unchecked arithmetic and rely on the plan's sizes
// having been checked — shapes by ShapeInference, scratch and the arena here (SizeLimits).
import SystemSupport
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Immutable Float storage owned by a planned step (bias, depthwise kernel, BN scale/shift).
final class WeightBuffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(_ scalars: [Float]) {
        count = scalars.count
        pointer = allocateAligned(floats: count)
        pointer.initialize(from: scalars, count: count)
    }

    deinit { deallocateAligned(pointer) }
}

/// One planned step: what it computes and which arena values it reads and writes.
struct PlannedStep {
    enum Operation {
        case convolution(
            ConvGeometry, GEMMWeights, bias: WeightBuffer?, clamp: (low: Float, high: Float), scratch: Int?)
        case directConvolution(
            ConvGeometry, kernel: WeightBuffer, filters: Int, bias: WeightBuffer?,
            clamp: (low: Float, high: Float))
        case depthwise(ConvGeometry, kernel: WeightBuffer, bias: WeightBuffer?, clamp: (low: Float, high: Float))
        case zeroPad(height: Int, width: Int, channels: Int, Padding2D)
        case add(count: Int, clamp: (low: Float, high: Float))
        case scaleShift(
            rows: Int, channels: Int, scale: WeightBuffer, shift: WeightBuffer, clamp: (low: Float, high: Float))
        case globalAveragePool(pixels: Int, channels: Int)
        case dense(rows: Int, GEMMWeights, bias: WeightBuffer?, clamp: (low: Float, high: Float))
        /// Copy input to output, then apply the activation in place.
        case activation(Activation, rows: Int, channels: Int)
        /// An inverted-residual (expand → depthwise → project [+ add]) or depthwise → pointwise block computed
        /// band by band (InvertedResidual.swift); the scratch values hold its expanded and depthwise rows.
        case fusedBlock(InvertedResidualBlock, expandedScratch: Int?, depthwiseScratch: Int)
    }

    var operation: Operation
    /// Value ids read, in argument order.
    var inputs: [Int]
    /// Value id written.
    var output: Int
    /// The model layers this step computes (a conv plus its folded BN and fused activation, …).
    var layerNames: [String]
    /// Multiply-accumulates per run.
    var multiplyAccumulates: Int
    /// Threads this step is split over (1 below ThreadSplit's thresholds; set by the Embedder).
    var threads = 1

    /// Threads worth splitting this step over when `requested` are allowed (ThreadSplit's thresholds: compute
    /// steps by multiply-accumulates, add and pad by output floats; the rare BN, activation and pooling steps
    /// of a cut model stay on one thread).
    func splitThreads(requested: Int) -> Int {
        switch operation {
        case .convolution, .directConvolution, .depthwise, .dense:
            return ThreadSplit.threads(multiplyAccumulates: multiplyAccumulates, requested: requested)
        case .zeroPad(let height, let width, let channels, let padding):
            let elements = (height + padding.top + padding.bottom) * (width + padding.left + padding.right) * channels
            return ThreadSplit.threads(elements: elements, requested: requested)
        case .add(let count, _):
            return ThreadSplit.threads(elements: count, requested: requested)
        case .scaleShift, .globalAveragePool, .activation:
            return 1
        case .fusedBlock:
            // Fused blocks are planned only for one thread (their band scratch is per embedder, not per thread).
            return 1
        }
    }
}

/// Public description of a planned step, for `model inspect` and the per-layer benchmark.
public struct EmbedderStepInfo: Sendable {
    public var layerNames: [String]
    public var kind: String
    public var outputShape: [Int]
    public var multiplyAccumulates: Int
    /// Threads the step is split over (≤ the embedder's `threads`).
    public var threads: Int
}

/// A model cut at one layer, planned for repeated single-image inference with no per-call allocation.
public final class Embedder: @unchecked Sendable {
    /// The cut model (reference path input for tests).
    public let model: Model
    /// Name of the layer whose activation `embed` returns.
    public let outputLayer: String
    /// [H, W, C] expected by `embed`.
    public let inputShape: [Int]
    /// Shape of the returned activation (batch axis excluded).
    public let outputShape: [Int]
    /// Threads for GEMM (OpenBLAS, process-wide) and the split kernels; each step uses them only above
    /// ThreadSplit's thresholds (`steps[i].threads`).
    public let threads: Int
    /// Who multiplies the GEMM-shaped layers.
    public let gemmBackend: GEMMBackend
    /// Whether pointwise convolutions of ReLU outputs skip zero activations (ZeroSkipGEMM).
    public let skipsZeros: Bool
    /// Planned steps, in execution order.
    public let steps: [EmbedderStepInfo]
    /// Arena size in floats (all activations and scratch).
    public let arenaCount: Int
    /// Total multiply-accumulates per image.
    public var multiplyAccumulates: Int { planned.reduce(0) { $0 + $1.multiplyAccumulates } }

    private let planned: [PlannedStep]
    private let arena: UnsafeMutablePointer<Float>
    /// Arena offset of each value (the input value is the caller's buffer).
    private let offsets: [Int]
    private let inputValue: Int
    private let outputValue: Int
    private let lock = NSLock()

    /// Loads a TF.js Layers model directory and plans it (see `init(model:outputLayer:inputShape:threads:)`).
    public convenience init(directory: String, outputLayer: String? = nil, inputShape: [Int]? = nil, threads: Int = 1)
        throws(NeuralNetError)
    {
        try self.init(
            model: TFJSLayersFormat.read(directory), outputLayer: outputLayer, inputShape: inputShape,
            threads: threads)
    }

    /// Plans `model` cut at `outputLayer` (default: `conv_pw_13_relu` when present, else the model's output).
    /// - Parameter inputShape: [H, W, C]; required when the model's input size is not fixed.
    /// - Parameter gemmBackend: who multiplies pointwise/im2col/dense weights (default: `GEMM.defaultBackend`).
    /// - Parameter blockFusion: whether expand → depthwise → project blocks (and depthwise → pointwise pairs)
    ///   run as one banded step; applies at 1 thread (more threads keep the unfused, row-parallel steps).
    /// - Parameter skipZeros: whether pointwise convolutions of ReLU outputs skip the zeros (ZeroSkipGEMM; the
    ///   same results as the dense kernel, faster on real images); off only to measure the difference.
    public init(
        model full: Model, outputLayer: String? = nil, inputShape: [Int]? = nil, threads: Int = 1,
        gemmBackend: GEMMBackend = GEMM.defaultBackend, blockFusion: BlockFusion = .automatic, skipZeros: Bool = true
    ) throws(NeuralNetError) {
        let layerName =
            outputLayer ?? (full.index(of: "conv_pw_13_relu") != nil ? "conv_pw_13_relu" : full.outputNames[0])
        let model = try full.cut(at: layerName)
        guard model.inputNames.count == 1 else {
            throw .invalidGraph(
                reason: "an embedder needs exactly one input, layer \(layerName) depends on \(model.inputNames)")
        }
        let shapes = try model.inferShapes(inputShape: inputShape)
        _ = DepthwiseConv2D.zeroVector  // allocated once here, not in the first `embed` (which allocates nothing)
        var plan = Planner(
            model: model, shapes: shapes, outputLayer: layerName, gemmBackend: gemmBackend, skipZeros: skipZeros)
        try plan.build()
        if threads <= 1 { plan.fuseBlocks(blockFusion) }
        let (offsets, arenaCount) = plan.assignOffsets()
        // Value sizes are checked output shapes (ShapeInference) and scratch is checked in the plan, so the
        // sum cannot overflow; the arena as a whole is bounded here.
        guard arenaCount <= SizeLimits.maximumArenaBytes / 4 else {
            throw .limitExceeded(
                layer: layerName,
                what: "the activations of the model cut at this layer "
                    + "(\(arenaCount * 4) bytes)", limit: "\(SizeLimits.maximumArenaBytes) bytes")
        }

        self.model = model
        self.outputLayer = layerName
        self.inputShape = shapes[model.inputNames[0]]!.outputShape
        self.outputShape = shapes[layerName]!.outputShape
        self.threads = max(1, threads)
        self.gemmBackend = gemmBackend
        self.skipsZeros = skipZeros
        let threadCount = max(1, threads)
        self.planned = plan.steps.map { step in
            var split = step
            split.threads = step.splitThreads(requested: threadCount)
            return split
        }
        self.offsets = offsets
        self.arenaCount = arenaCount
        self.inputValue = plan.inputValue
        self.outputValue = plan.valueOf[layerName]!
        self.arena = allocateAligned(floats: arenaCount)
        arena.initialize(repeating: 0, count: max(arenaCount, 1))
        self.steps = planned.map { step in
            EmbedderStepInfo(
                layerNames: step.layerNames, kind: Self.kindName(step.operation),
                outputShape: shapes[step.layerNames.last!]!.outputShape,
                multiplyAccumulates: step.multiplyAccumulates, threads: step.threads)
        }
        GEMM.setThreadCount(self.threads)
    }

    deinit { deallocateAligned(arena) }

    /// Number of scalars `embed` reads (H·W·C).
    public var inputCount: Int { inputShape.reduce(1, *) }
    /// Number of scalars `embed` writes.
    public var outputCount: Int { outputShape.reduce(1, *) }

    /// Runs the planned model on one image: input [H, W, C] (NHWC, batch 1) → output activation.
    /// Allocates nothing. `stepNanoseconds`, when given, receives each step's duration.
    public func embed(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        stepNanoseconds: UnsafeMutablePointer<UInt64>? = nil
    ) {
        lock.lock()
        defer { lock.unlock() }
        for (index, step) in planned.enumerated() {
            let start = stepNanoseconds == nil ? 0 : SystemFrameClock.nanoseconds()
            run(step, input: input)
            if let stepNanoseconds { stepNanoseconds[index] = SystemFrameClock.nanoseconds() - start }
        }
        output.update(from: pointer(outputValue, input: input), count: outputCount)
    }

    /// Convenience: embeds a tensor of shape [H, W, C] or [1, H, W, C] (allocates the result).
    public func embed(_ input: Tensor) throws(NeuralNetError) -> Tensor {
        guard input.shape == inputShape || input.shape == [1] + inputShape else {
            throw .shapeMismatch(
                layer: model.inputNames[0], expected: "\(inputShape) or [1] + \(inputShape)", found: input.shape)
        }
        var result = Tensor(shape: outputShape)
        input.scalars.withUnsafeBufferPointer { source in
            result.scalars.withUnsafeMutableBufferPointer { destination in
                embed(source.baseAddress!, into: destination.baseAddress!)
            }
        }
        return result
    }

    @inline(__always)
    private func pointer(_ value: Int, input: UnsafePointer<Float>) -> UnsafeMutablePointer<Float> {
        value == inputValue ? UnsafeMutablePointer(mutating: input) : arena + offsets[value]
    }

    private func run(_ step: PlannedStep, input: UnsafePointer<Float>) {
        let source = UnsafePointer(pointer(step.inputs[0], input: input))
        let destination = pointer(step.output, input: input)
        switch step.operation {
        case .convolution(let geometry, let weights, let bias, let clamp, let scratch):
            // A pointwise step has scratch only for its non-zero lists (planned when it skips zeros).
            Conv2D.im2colGEMM(
                input: source, geometry: geometry, kernel: weights, bias: bias?.pointer, clamp: clamp,
                output: destination, scratch: scratch.map { arena + offsets[$0] },
                skipZeros: geometry.isPointwise && scratch != nil, threads: step.threads)
        case .directConvolution(let geometry, let kernel, let filters, let bias, let clamp):
            Conv2D.directBlocked(
                input: source, geometry: geometry, kernel: kernel.pointer, filters: filters,
                bias: bias?.pointer, clamp: clamp, output: destination, threads: step.threads)
        case .depthwise(let geometry, let kernel, let bias, let clamp):
            DepthwiseConv2D.simd(
                input: source, geometry: geometry, kernel: kernel.pointer, bias: bias?.pointer,
                clamp: clamp, output: destination, threads: step.threads)
        case .zeroPad(let height, let width, let channels, let padding):
            ZeroPad.fast(
                input: source, height: height, width: width, channels: channels, padding: padding,
                output: destination, threads: step.threads)
        case .add(let count, let clamp):
            AddTensors.simd(
                source, pointer(step.inputs[1], input: input), count: count, clamp: clamp, output: destination,
                threads: step.threads)
            for extra in step.inputs.dropFirst(2) {
                AddTensors.simd(
                    destination, pointer(extra, input: input), count: count, clamp: clamp, output: destination,
                    threads: step.threads)
            }
        case .scaleShift(let rows, let channels, let scale, let shift, let clamp):
            for row in 0..<rows {
                for c in 0..<channels {
                    let value = source[row * channels + c] * scale.pointer[c] + shift.pointer[c]
                    destination[row * channels + c] = Lanes.clamp(value, clamp.low, clamp.high)
                }
            }
        case .globalAveragePool(let pixels, let channels):
            GlobalAveragePool.simd(input: source, pixels: pixels, channels: channels, output: destination)
        case .dense(let rows, let weights, let bias, let clamp):
            GEMM.multiply(
                rows: rows, a: source, weights: weights, bias: bias?.pointer, clamp: clamp, c: destination,
                threads: step.threads)
        case .activation(let activation, let rows, let channels):
            destination.update(from: source, count: rows * channels)
            ActivationKernel.fast(activation, destination, rows: rows, channels: channels)
        case .fusedBlock(let block, let expandedScratch, let depthwiseScratch):
            let depthwiseRows = arena + offsets[depthwiseScratch]
            block.run(
                input: source, output: destination,
                expanded: expandedScratch.map { arena + offsets[$0] } ?? depthwiseRows, depthwiseRows: depthwiseRows)
        }
    }

    private static func kindName(_ operation: PlannedStep.Operation) -> String {
        switch operation {
        case .convolution(let g, let weights, _, _, let scratch):
            let gemm = " (\(weights.backend.rawValue)\(g.isPointwise && scratch != nil ? ", zero skip" : ""))"
            return (g.isPointwise ? "pointwise" : "conv\(g.kernelHeight)x\(g.kernelWidth)/\(g.strideHeight)") + gemm
        case .directConvolution(let g, _, _, _, _):
            return "conv\(g.kernelHeight)x\(g.kernelWidth)/\(g.strideHeight) direct"
        case .depthwise(let g, _, _, _): return "depthwise\(g.kernelHeight)x\(g.kernelWidth)/\(g.strideHeight)"
        case .zeroPad: return "pad"
        case .add: return "add"
        case .scaleShift: return "batchnorm"
        case .globalAveragePool: return "avgpool"
        case .dense: return "dense"
        case .activation(let a, _, _): return a.rawValue
        case .fusedBlock(let block, _, _): return block.kindName
        }
    }
}

/// Turns a cut model into planned steps with folded BN and fused activations, then lays out the arena.
private struct Planner {
    let model: Model
    let shapes: [String: LayerShapeInfo]
    let outputLayer: String
    let gemmBackend: GEMMBackend
    /// Whether pointwise convolutions of ReLU outputs skip their zeros (ZeroSkipGEMM).
    let skipZeros: Bool
    var steps: [PlannedStep] = []
    /// Layer name → value id holding its output.
    var valueOf: [String: Int] = [:]
    /// Value sizes in floats.
    var valueSizes: [Int] = []
    var inputValue = -1
    private var consumers: [String: [String]] = [:]
    private var absorbed = Set<String>()
    /// ZeroPadding2D layers deferred into their consuming convolution: name → (source layer, padding).
    private var deferredPadding: [String: (source: String, padding: Padding2D)] = [:]

    init(
        model: Model, shapes: [String: LayerShapeInfo], outputLayer: String, gemmBackend: GEMMBackend,
        skipZeros: Bool
    ) {
        self.model = model
        self.gemmBackend = gemmBackend
        self.skipZeros = skipZeros
        self.shapes = shapes
        self.outputLayer = outputLayer
        for layer in model.layers { for input in layer.inbound { consumers[input, default: []].append(layer.name) } }
    }

    private func shape(_ name: String) -> [Int] { shapes[name]!.outputShape }

    private mutating func newValue(_ count: Int) -> Int {
        valueSizes.append(count)
        return valueSizes.count - 1
    }

    /// The single consumer of `name` when `name` is not the output and feeds exactly one layer.
    private func soleConsumer(_ name: String) -> Layer? {
        guard name != outputLayer, let list = consumers[name], list.count == 1 else { return nil }
        return model.layer(named: list[0])
    }

    mutating func build() throws(NeuralNetError) {
        for layer in model.layers where !absorbed.contains(layer.name) {
            try plan(layer)
        }
    }

    private mutating func plan(_ layer: Layer) throws(NeuralNetError) {
        let noClamp: (low: Float, high: Float) = (-.infinity, .infinity)
        switch layer.kind {
        case .input:
            inputValue = newValue(shape(layer.name).reduce(1, *))
            valueOf[layer.name] = inputValue
        case .flatten, .reshape, .dropout:
            valueOf[layer.name] = valueOf[layer.inbound[0]]!
        case .zeroPadding2D(let padding):
            if let next = soleConsumer(layer.name), Self.acceptsFusedPadding(next.kind) {
                deferredPadding[layer.name] = (layer.inbound[0], padding)
                return
            }
            let input = shape(layer.inbound[0])
            emit(
                .zeroPad(height: input[0], width: input[1], channels: input[2], padding), layer: layer,
                inputs: layer.inbound)
        case .conv2D(let config):
            try planConvolution(
                layer, kernelSize: config.kernelSize, strides: config.strides, mode: config.padding,
                activation: config.activation, depthwise: false)
        case .depthwiseConv2D(let config):
            try planConvolution(
                layer, kernelSize: config.kernelSize, strides: config.strides, mode: config.padding,
                activation: config.activation, depthwise: true)
        case .batchNormalization(let epsilon, _, _):
            let affine = batchNormAffine(layer, epsilon: epsilon)
            let channels = shape(layer.name).last!
            var names = [layer.name]
            let clamp = absorbActivation(after: layer.name, names: &names) ?? noClamp
            emit(
                .scaleShift(
                    rows: shape(layer.name).reduce(1, *) / channels, channels: channels,
                    scale: WeightBuffer(affine.scale), shift: WeightBuffer(affine.shift), clamp: clamp),
                names: names, inputs: layer.inbound)
        case .activation(let activation):
            let channels = shape(layer.name).last ?? 1
            emit(
                .activation(activation, rows: shape(layer.name).reduce(1, *) / channels, channels: channels),
                layer: layer, inputs: layer.inbound)
        case .relu(let maxValue):
            let channels = shape(layer.name).last ?? 1
            let rows = shape(layer.name).reduce(1, *) / channels
            let ones = WeightBuffer([Float](repeating: 1, count: channels))
            let zeros = WeightBuffer([Float](repeating: 0, count: channels))
            emit(
                .scaleShift(
                    rows: rows, channels: channels, scale: ones, shift: zeros, clamp: (0, maxValue ?? .infinity)),
                layer: layer, inputs: layer.inbound)
        case .softmax:
            let channels = shape(layer.name).last ?? 1
            emit(
                .activation(.softmax, rows: shape(layer.name).reduce(1, *) / channels, channels: channels),
                layer: layer, inputs: layer.inbound)
        case .add:
            var names = [layer.name]
            let clamp = absorbActivation(after: layer.name, names: &names) ?? noClamp
            emit(.add(count: shape(layer.name).reduce(1, *), clamp: clamp), names: names, inputs: layer.inbound)
        case .globalAveragePooling2D:
            let input = shape(layer.inbound[0])
            emit(
                .globalAveragePool(pixels: input[0] * input[1], channels: input[2]), layer: layer, inputs: layer.inbound
            )
        case .dense(let units, _, let activation):
            let features = shape(layer.inbound[0]).last!
            let rows = shape(layer.inbound[0]).reduce(1, *) / features
            let weights = GEMMWeights(k: features, n: units, layer.weights["kernel"]!.scalars, backend: gemmBackend)
            let bias = layer.weights["bias"].map { WeightBuffer($0.scalars) }
            var names = [layer.name]
            var clamp = activation.clampBounds
            if activation == .linear, let fused = absorbActivation(after: layer.name, names: &names) { clamp = fused }
            emit(
                .dense(rows: rows, weights, bias: bias, clamp: clamp ?? noClamp), names: names, inputs: layer.inbound,
                multiplyAccumulates: shapes[layer.name]!.multiplyAccumulates)
            if clamp == nil {
                emit(.activation(activation, rows: rows, channels: units), names: [layer.name], inputs: [layer.name])
            }
        }
    }

    private static func acceptsFusedPadding(_ kind: LayerKind) -> Bool {
        switch kind {
        case .conv2D(let config): return config.padding == .valid
        case .depthwiseConv2D(let config): return config.padding == .valid
        default: return false
        }
    }

    /// Conv or depthwise, with a deferred ZeroPadding2D before it, then folded BN and fused clamp after it.
    private mutating func planConvolution(
        _ layer: Layer, kernelSize: (Int, Int), strides: (Int, Int), mode: Padding,
        activation: Activation, depthwise: Bool
    ) throws(NeuralNetError) {
        var source = layer.inbound[0]
        var extra = Padding2D.zero
        if let deferred = deferredPadding[source] {
            source = deferred.source
            extra = deferred.padding
        }
        let input = shape(source)
        guard
            let geometry = ConvGeometry(
                height: input[0], width: input[1], channels: input[2], kernel: kernelSize,
                strides: strides, mode: mode, extra: extra)
        else {
            throw .shapeMismatch(layer: layer.name, expected: "an input at least as large as the kernel", found: input)
        }
        let channelsOut = shape(layer.name)[2]
        let kernelName = depthwise ? "depthwise_kernel" : "kernel"
        var kernel = layer.weights[kernelName]!.scalars  // HWIO [KH, KW, C, F] or [KH, KW, C, 1]
        var bias = layer.weights["bias"]?.scalars
        var names = [layer.name]
        var clamp = activation.clampBounds

        // Fold a following BatchNormalization: w' = w·scale[f], b' = (b − mean)·scale + beta = b·scale + shift.
        if activation == .linear, let next = soleConsumer(layer.name),
            case .batchNormalization(let epsilon, _, _) = next.kind
        {
            let affine = batchNormAffine(next, epsilon: epsilon)
            for index in 0..<kernel.count { kernel[index] *= affine.scale[index % channelsOut] }
            let oldBias = bias ?? [Float](repeating: 0, count: channelsOut)
            bias = (0..<channelsOut).map { oldBias[$0] * affine.scale[$0] + affine.shift[$0] }
            names.append(next.name)
            absorbed.insert(next.name)
        }
        if activation == .linear, let fused = absorbActivation(after: names.last!, names: &names) { clamp = fused }

        let operation: PlannedStep.Operation
        if depthwise {
            operation = .depthwise(
                geometry, kernel: WeightBuffer(kernel), bias: bias.map(WeightBuffer.init),
                clamp: clamp ?? (-.infinity, .infinity))
        } else if Conv2D.prefersDirect(geometry) {
            operation = .directConvolution(
                geometry, kernel: WeightBuffer(kernel), filters: channelsOut,
                bias: bias.map(WeightBuffer.init), clamp: clamp ?? (-.infinity, .infinity))
        } else {
            let g = geometry
            guard
                CheckedSize.product(
                    [g.outputHeight, g.outputWidth, g.kernelHeight, g.kernelWidth, g.inputChannels],
                    limit: SizeLimits.maximumArenaBytes / 4) != nil
            else {
                throw .limitExceeded(
                    layer: layer.name,
                    what: "its im2col scratch (\(g.outputHeight)·\(g.outputWidth) pixels × "
                        + "\(g.kernelHeight)·\(g.kernelWidth)·\(g.inputChannels) floats)",
                    limit: "\(SizeLimits.maximumArenaBytes) bytes")
            }
            let backend = GEMM.planBackend(k: geometry.patchLength, n: channelsOut, preferred: gemmBackend)
            let weights = GEMMWeights(k: geometry.patchLength, n: channelsOut, kernel, backend: backend)
            // A pointwise convolution of ReLU outputs skips their zeros; its scratch holds the non-zero lists.
            let skipsZeros = skipZeros && geometry.isPointwise && ZeroSkipGEMM.accepts(weights) && isNonNegative(source)
            let scratchCount =
                skipsZeros
                ? ZeroSkipGEMM.scratchCount(rows: geometry.outputPixels, k: geometry.inputChannels)
                : Conv2D.scratchCount(geometry)
            let scratch = scratchCount > 0 ? newValue(scratchCount) : nil
            operation = .convolution(
                geometry, weights, bias: bias.map(WeightBuffer.init), clamp: clamp ?? (-.infinity, .infinity),
                scratch: scratch)
        }
        emit(operation, names: names, inputs: [source], multiplyAccumulates: shapes[layer.name]!.multiplyAccumulates)
        if clamp == nil {  // softmax / sigmoid / tanh conv activation: a separate in-place pass
            emit(
                .activation(activation, rows: geometry.outputPixels, channels: channelsOut), names: [names.last!],
                inputs: [names.last!])
        }
    }

    /// Whether the value `name` resolves to is written by a step that clamps at ≥ 0 (a ReLU / ReLU6 output).
    private func isNonNegative(_ name: String) -> Bool {
        guard let value = valueOf[name], let producer = steps.last(where: { $0.output == value }) else { return false }
        switch producer.operation {
        case .convolution(_, _, _, let clamp, _), .directConvolution(_, _, _, _, let clamp),
            .depthwise(_, _, _, let clamp), .dense(_, _, _, let clamp), .add(_, let clamp),
            .scaleShift(_, _, _, _, let clamp):
            return clamp.low >= 0
        default:
            return false
        }
    }

    /// If the sole consumer of `name` is a clamp activation (ReLU, ReLU6, Activation relu/relu6/linear),
    /// absorbs it and returns its bounds.
    private mutating func absorbActivation(after name: String, names: inout [String]) -> (low: Float, high: Float)? {
        guard let next = soleConsumer(name) else { return nil }
        let bounds: (low: Float, high: Float)?
        switch next.kind {
        case .relu(let maxValue): bounds = (0, maxValue ?? .infinity)
        case .activation(let activation): bounds = activation.clampBounds
        default: bounds = nil
        }
        guard let bounds else { return nil }
        names.append(next.name)
        absorbed.insert(next.name)
        return bounds
    }

    private func batchNormAffine(_ layer: Layer, epsilon: Float) -> (scale: [Float], shift: [Float]) {
        BatchNorm.affine(
            gamma: layer.weights["gamma"]?.scalars, beta: layer.weights["beta"]?.scalars,
            mean: layer.weights["moving_mean"]!.scalars, variance: layer.weights["moving_variance"]!.scalars,
            epsilon: epsilon)
    }

    private mutating func emit(_ operation: PlannedStep.Operation, layer: Layer, inputs: [String]) {
        emit(operation, names: [layer.name], inputs: inputs)
    }

    /// Appends a step writing a new value that every name in `names` resolves to.
    private mutating func emit(
        _ operation: PlannedStep.Operation, names: [String], inputs: [String],
        multiplyAccumulates: Int = 0
    ) {
        let output = newValue(shape(names.last!).reduce(1, *))
        steps.append(
            PlannedStep(
                operation: operation, inputs: inputs.map { valueOf[$0]! }, output: output,
                layerNames: names, multiplyAccumulates: multiplyAccumulates))
        for name in names { valueOf[name] = output }
    }

    /// Replaces each run of planned steps [pointwise expand →] depthwise → pointwise project [→ residual Add of
    /// the block input] by one banded `.fusedBlock` step, recognised from the steps themselves (kinds,
    /// geometries and which values they read), not from layer names. A run is fused only when every value
    /// inside it has exactly one reader (the next step of the run) and is not the embedder's output, so a cut
    /// inside a block, or any other shape, keeps the unfused steps.
    mutating func fuseBlocks(_ fusion: BlockFusion) {
        guard fusion != .off else { return }
        var readers: [Int: Int] = [:]
        for step in steps { for value in step.inputs { readers[value, default: 0] += 1 } }
        let output = valueOf[outputLayer]
        /// A value only the next step reads and that nobody else sees.
        func isInternal(_ value: Int) -> Bool { readers[value] == 1 && value != output && value != inputValue }
        func pointwise(_ step: PlannedStep) -> FusedPointwise? {
            guard case .convolution(let geometry, let weights, let bias, let clamp, _) = step.operation,
                geometry.isPointwise, step.inputs.count == 1
            else { return nil }
            return FusedPointwise(weights: weights, bias: bias, clamp: clamp)
        }
        var fused: [PlannedStep] = []
        var index = 0
        while index < steps.count {
            let step = steps[index]
            guard case .depthwise(let geometry, let kernel, let bias, let clamp) = step.operation,
                index + 1 < steps.count, let project = pointwise(steps[index + 1]),
                steps[index + 1].inputs == [step.output], isInternal(step.output)
            else {
                fused.append(step)
                index += 1
                continue
            }
            // The expand: the previous step, still unfused, writing only this depthwise's input.
            var expand: FusedPointwise?
            if let previous = fused.last, previous.output == step.inputs[0], isInternal(previous.output),
                let candidate = pointwise(previous)
            {
                expand = candidate
            }
            let blockInput = expand == nil ? step.inputs[0] : fused.last!.inputs[0]
            var last = index + 1
            var residualClamp: (low: Float, high: Float)?
            if index + 2 < steps.count, case .add(_, let addClamp) = steps[index + 2].operation,
                steps[index + 2].inputs.count == 2, isInternal(steps[index + 1].output),
                Set(steps[index + 2].inputs) == [blockInput, steps[index + 1].output],
                blockInput != steps[index + 1].output
            {
                residualClamp = addClamp
                last = index + 2
            }
            let depthwise = FusedDepthwise(geometry: geometry, kernel: kernel, bias: bias, clamp: clamp)
            var block = InvertedResidualBlock(
                expand: expand, depthwise: depthwise, project: project, residualClamp: residualClamp, fusion: fusion,
                skipZeros: skipZeros)
            if block == nil && residualClamp != nil {  // shapes that do not take the add: fuse without it
                residualClamp = nil
                last = index + 1
                block = InvertedResidualBlock(
                    expand: expand, depthwise: depthwise, project: project, residualClamp: nil, fusion: fusion,
                    skipZeros: skipZeros)
            }
            guard let block else {
                fused.append(step)
                index += 1
                continue
            }
            var members = Array(steps[index...last])
            if expand != nil { members.insert(fused.removeLast(), at: 0) }
            let expandedScratch = block.expandedScratchCount > 0 ? newValue(block.expandedScratchCount) : nil
            let depthwiseScratch = newValue(block.depthwiseScratchCount)
            fused.append(
                PlannedStep(
                    operation: .fusedBlock(
                        block, expandedScratch: expandedScratch, depthwiseScratch: depthwiseScratch),
                    inputs: [blockInput], output: steps[last].output, layerNames: members.flatMap(\.layerNames),
                    multiplyAccumulates: members.reduce(0) { $0 + $1.multiplyAccumulates }))
            index = last + 1
        }
        steps = fused
    }

    /// Lifetime-based placement: each value gets the lowest 64-byte-aligned offset not overlapping any
    /// value alive at the same time. Returns offsets per value and the arena size in floats.
    func assignOffsets() -> ([Int], Int) {
        let count = valueSizes.count
        var first = [Int](repeating: Int.max, count: count)
        var last = [Int](repeating: -1, count: count)
        for (index, step) in steps.enumerated() {
            for value in step.inputs + [step.output] {
                first[value] = min(first[value], index)
                last[value] = max(last[value], index)
            }
            var scratchValues: [Int] = []
            if case .convolution(_, _, _, _, let scratch?) = step.operation { scratchValues = [scratch] }
            if case .fusedBlock(_, let expandedScratch, let depthwiseScratch) = step.operation {
                scratchValues = [depthwiseScratch] + (expandedScratch.map { [$0] } ?? [])
            }
            for scratch in scratchValues {
                first[scratch] = index
                last[scratch] = index
            }
        }
        if let output = valueOf[outputLayer] { last[output] = steps.count }
        var offsets = [Int](repeating: 0, count: count)
        var placed: [Int] = []
        var arenaCount = 0
        let order = (0..<count).filter { $0 != inputValue && last[$0] >= 0 }.sorted { valueSizes[$0] > valueSizes[$1] }
        for value in order {
            let overlapping = placed.filter { first[$0] <= last[value] && first[value] <= last[$0] }
                .map { (offsets[$0], offsets[$0] + valueSizes[$0]) }.sorted { $0.0 < $1.0 }
            var candidate = 0
            for (start, end) in overlapping {
                if candidate + valueSizes[value] <= start { break }
                candidate = max(candidate, (end + 15) / 16 * 16)
            }
            offsets[value] = candidate
            placed.append(value)
            arenaCount = max(arenaCount, candidate + valueSizes[value])
        }
        return (offsets, arenaCount)
    }
}
