// DenseHead: the trainable classifier on top of the embedder, as TF.js' webcam-transfer-learning demo
// builds it — Flatten [H,W,C] → Dense(U, relu, varianceScaling, bias) → Dense(K, softmax,
// varianceScaling, no bias) — trained like `model.fit(xs, ys, {batchSize: floor(N·fraction), epochs,
// shuffle: true})` with Adam (Adam.swift) on categorical cross-entropy (DenseTraining.swift).
// Differences from TF.js, all deliberate: the batch size is max(1, floor(N·fraction)) (never 0),
// bad input (no samples, one class, wrong sizes, NaN) is a typed error, and the loss is not clipped.
// Layout (llm.c style): one flat parameter buffer θ = [W1 (D×U) | b1 (U) | W2 (U×K) | b2 (K, only
// with `outputBias`)], one gradient buffer of the same layout, so Adam is one loop. gesturepad trains
// heads without b2, as the demo; heads made in TF.js with a bias on the last layer are imported with it. Legend: N samples, B batch rows, D = H·W·C input
// features, U hidden units, K classes.
import Foundation

/// The shape of a dense head: Flatten(`inputShape`) → Dense(`hiddenUnits`, relu) → Dense(`classes`, softmax).
public struct HeadArchitecture: Sendable, Equatable, Hashable, Codable {
    /// Shape of one input feature map without the batch axis, e.g. [7, 7, 256] (MobileNet v1 0.25's cut).
    public var inputShape: [Int]
    /// Units of the hidden Dense layer (TF.js demo default 100).
    public var hiddenUnits: Int
    /// Number of classes of the softmax output.
    public var classes: Int
    /// Whether the output Dense layer has a bias b2 [K] (the TF.js demo's has none; other TF.js heads may).
    public var outputBias: Bool

    /// An architecture; call `validate()` (the head's initialisers do) to check the ranges.
    public init(inputShape: [Int], hiddenUnits: Int, classes: Int, outputBias: Bool = false) {
        self.inputShape = inputShape
        self.hiddenUnits = hiddenUnits
        self.classes = classes
        self.outputBias = outputBias
    }

    private enum CodingKeys: String, CodingKey { case inputShape, hiddenUnits, classes, outputBias }

    /// Decodes; `outputBias` absent (written before it existed) means false.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        inputShape = try container.decode([Int].self, forKey: .inputShape)
        hiddenUnits = try container.decode(Int.self, forKey: .hiddenUnits)
        classes = try container.decode(Int.self, forKey: .classes)
        outputBias = try container.decodeIfPresent(Bool.self, forKey: .outputBias) ?? false
    }

    /// Scalars in one input sample (D = product of `inputShape`).
    public var inputCount: Int { inputShape.reduce(1, *) }

    /// Trainable scalars: D·U + U + U·K (+ K with `outputBias`).
    public var parameterCount: Int {
        inputCount * hiddenUnits + hiddenUnits + hiddenUnits * classes + (outputBias ? classes : 0)
    }

    /// Throws `invalidHeadArchitecture` naming the first field outside its range.
    public func validate() throws(NeuralNetError) {
        guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 >= 1 }), inputShape.reduce(1, *) <= 1 << 24 else {
            throw .invalidHeadArchitecture(
                field: "inputShape", value: "\(inputShape)",
                allowed: "one or more sizes ≥ 1 with at most 16777216 scalars in all")
        }
        guard (1...TrainingOptions.hiddenUnitsRange.upperBound).contains(hiddenUnits) else {
            throw .invalidHeadArchitecture(
                field: "hiddenUnits", value: "\(hiddenUnits)",
                allowed: "\(TrainingOptions.hiddenUnitsRange)")
        }
        guard (2...1000).contains(classes) else {
            throw .invalidHeadArchitecture(field: "classes", value: "\(classes)", allowed: "2...1000")
        }
    }
}

/// How training's first-layer kernels read the features: whole rows, or only the non-zero values
/// (SparseFirstLayer.swift). Both give the same weights; they differ in time.
public enum FirstLayerFeatures: String, Sendable, CaseIterable {
    /// Compressed when at most 35 % of the features are non-zero (post-ReLU features are 70–85 % zeros).
    case auto
    /// Always whole rows.
    case dense
    /// Always compressed.
    case sparse

    /// The density at or below which this choice compresses (nil: never).
    var maximumDensity: Double? {
        switch self {
        case .auto: FusedHeadTrainer.sparseDensityLimit
        case .dense: nil
        case .sparse: 1
        }
    }
}

/// The knobs of head training, with the TF.js demo's defaults.
public struct TrainingOptions: Sendable, Equatable, Hashable, Codable {
    /// Adam step size (default 0.0001).
    public var learningRate: Double
    /// Batch size as a fraction of the sample count: batch = max(1, floor(N × fraction)) (default 0.4).
    public var batchSizeFraction: Double
    /// Passes over the samples (default 20).
    public var epochs: Int
    /// Hidden units of a new head (default 100); `DenseHead.train` requires its head's value.
    public var hiddenUnits: Int
    /// Seeds weight initialisation (`DenseHead.trained`) and the per-epoch shuffles.
    public var seed: UInt64

    /// Allowed `learningRate` values (exclusive of 0).
    public static let learningRateRange: ClosedRange<Double> = 1e-7...1
    /// Allowed `batchSizeFraction` values (exclusive of 0).
    public static let batchSizeFractionRange: ClosedRange<Double> = 1e-6...1
    /// Allowed `epochs` values.
    public static let epochsRange: ClosedRange<Int> = 1...10_000
    /// Allowed `hiddenUnits` values.
    public static let hiddenUnitsRange: ClosedRange<Int> = 1...4096

    /// Options with the TF.js demo's defaults unless given.
    public init(
        learningRate: Double = 0.0001, batchSizeFraction: Double = 0.4, epochs: Int = 20,
        hiddenUnits: Int = 100, seed: UInt64 = 0
    ) {
        self.learningRate = learningRate
        self.batchSizeFraction = batchSizeFraction
        self.epochs = epochs
        self.hiddenUnits = hiddenUnits
        self.seed = seed
    }

    /// Throws `invalidTrainingOption` naming the first field outside its range.
    public func validate() throws(NeuralNetError) {
        guard Self.learningRateRange.contains(learningRate) else {
            throw .invalidTrainingOption(
                field: "learningRate", value: "\(learningRate)", allowed: "\(Self.learningRateRange)")
        }
        guard Self.batchSizeFractionRange.contains(batchSizeFraction) else {
            throw .invalidTrainingOption(
                field: "batchSizeFraction", value: "\(batchSizeFraction)",
                allowed: "\(Self.batchSizeFractionRange)")
        }
        guard Self.epochsRange.contains(epochs) else {
            throw .invalidTrainingOption(field: "epochs", value: "\(epochs)", allowed: "\(Self.epochsRange)")
        }
        guard Self.hiddenUnitsRange.contains(hiddenUnits) else {
            throw .invalidTrainingOption(
                field: "hiddenUnits", value: "\(hiddenUnits)", allowed: "\(Self.hiddenUnitsRange)")
        }
    }

    /// Mini-batch size for `samples` samples: max(1, floor(samples × batchSizeFraction)), at most `samples`.
    public func batchSize(samples: Int) -> Int {
        max(1, min(samples, Int((Double(samples) * batchSizeFraction).rounded(.down))))
    }
}

/// What one finished epoch achieved (Keras `onEpochEnd` logs).
public struct EpochReport: Sendable, Equatable {
    /// 1-based epoch number.
    public var epoch: Int
    /// Epochs asked for.
    public var epochs: Int
    /// Mean per-sample loss over the epoch's batches, each taken before its update (Keras/TF.js `loss` log).
    public var loss: Float
    /// Fraction of the epoch's samples whose argmax was their label, before each batch's update (Keras `acc`).
    public var accuracy: Float
}

/// The outcome of a training run.
public struct TrainingSummary: Sendable, Equatable {
    /// Epochs run to the end.
    public var epochsCompleted: Int
    /// Epochs asked for.
    public var epochs: Int
    /// Mini-batch size used.
    public var batchSize: Int
    /// The last completed epoch's loss (nil if none completed).
    public var finalLoss: Float?
    /// The last completed epoch's training accuracy (nil if none completed).
    public var finalAccuracy: Float?
    /// True when `shouldContinue` returned false; the head then holds the weights of the last finished batch.
    public var cancelled: Bool
    /// Wall time of the run.
    public var milliseconds: Double
}

/// The trainable head: Flatten → Dense(U, relu) → Dense(K, softmax, no bias unless `outputBias`), TF.js demo style.
///
/// Not thread-safe: `predict` and `train` use buffers planned at creation. Give each thread its own
/// head (`copy()`), or hand a head to another thread as a `Model` (`model()` / `init(model:)`, both
/// Sendable values). `predict` on one sample allocates nothing.
public final class DenseHead {
    /// Input shape, hidden units and classes.
    public let architecture: HeadArchitecture
    /// θ [P] = [W1 (D×U) | b1 (U) | W2 (U×K) | b2 (K, with outputBias)], P = `architecture.parameterCount`.
    let parameters: UnsafeMutablePointer<Float>
    /// Hidden activations [predictCapacity, U] for `predict`; grown (reallocated) only for bigger batches.
    private var predictHidden: UnsafeMutablePointer<Float>
    private var predictCapacity: Int

    var inputCount: Int { architecture.inputCount }
    var hiddenUnits: Int { architecture.hiddenUnits }
    var classes: Int { architecture.classes }
    var hiddenKernelPointer: UnsafeMutablePointer<Float> { parameters }
    var hiddenBiasPointer: UnsafeMutablePointer<Float> { parameters + inputCount * hiddenUnits }
    var outputKernelPointer: UnsafeMutablePointer<Float> { hiddenBiasPointer + hiddenUnits }
    /// b2 [K] when the architecture has an output bias, else nil.
    var outputBiasPointer: UnsafeMutablePointer<Float>? {
        architecture.outputBias ? outputKernelPointer + hiddenUnits * classes : nil
    }

    private init(validated architecture: HeadArchitecture) {
        self.architecture = architecture
        // + slack: the first-layer kernels read whole windows of W1's last row (FusedFirstLayer.swift).
        parameters = .allocate(capacity: architecture.parameterCount + FirstLayerKernel.slack)
        parameters.initialize(repeating: 0, count: architecture.parameterCount + FirstLayerKernel.slack)
        predictCapacity = 1
        predictHidden = .allocate(capacity: architecture.hiddenUnits)
    }

    deinit {
        parameters.deallocate()
        predictHidden.deallocate()
    }

    /// A freshly initialised head, as TF.js layers initialises it: kernels `varianceScaling` (fanIn,
    /// truncated normal) from `seed`, biases zeros.
    public convenience init(architecture: HeadArchitecture, seed: UInt64) throws(NeuralNetError) {
        try architecture.validate()
        self.init(validated: architecture)
        var generator = SplitMix64(seed: seed)
        let (d, u, k) = (architecture.inputCount, architecture.hiddenUnits, architecture.classes)
        WeightInitializer.fillVarianceScalingNormal(hiddenKernelPointer, fanIn: d, count: d * u, generator: &generator)
        WeightInitializer.fillVarianceScalingNormal(outputKernelPointer, fanIn: u, count: u * k, generator: &generator)
    }

    /// A head with the given weights: hiddenKernel [D, U], hiddenBias [U], outputKernel [U, K] (Keras layouts),
    /// outputBias [K] exactly when `architecture.outputBias`.
    public convenience init(
        architecture: HeadArchitecture, hiddenKernel: [Float], hiddenBias: [Float],
        outputKernel: [Float], outputBias: [Float]? = nil
    ) throws(NeuralNetError) {
        try architecture.validate()
        let (d, u, k) = (architecture.inputCount, architecture.hiddenUnits, architecture.classes)
        guard (outputBias != nil) == architecture.outputBias else {
            throw .notADenseHead(
                layer: HeadLayerNames.output,
                reason: architecture.outputBias
                    ? "the architecture has an output bias but none was given"
                    : "an output bias was given for an architecture without one")
        }
        for (name, values, shape) in [
            ("hidden kernel", hiddenKernel, [d, u]), ("hidden bias", hiddenBias, [u]),
            ("output kernel", outputKernel, [u, k]), ("output bias", outputBias ?? [], [outputBias == nil ? 0 : k]),
        ] {
            guard values.count == shape.reduce(1, *) else {
                throw .weightShapeMismatch(
                    layer: HeadLayerNames.hidden, weight: name, expected: shape, found: [values.count])
            }
            if let index = values.firstIndex(where: { !$0.isFinite }) {
                throw .nonFiniteWeight(layer: HeadLayerNames.hidden, weight: name, index: index, value: values[index])
            }
        }
        self.init(validated: architecture)
        hiddenKernelPointer.update(from: hiddenKernel, count: d * u)
        hiddenBiasPointer.update(from: hiddenBias, count: u)
        outputKernelPointer.update(from: outputKernel, count: u * k)
        if let outputBias, let pointer = outputBiasPointer { pointer.update(from: outputBias, count: k) }
    }

    /// An independent head with the same weights (for another thread, or to keep before retraining).
    public func copy() -> DenseHead {
        let twin = DenseHead(validated: architecture)
        twin.parameters.update(from: parameters, count: architecture.parameterCount)
        return twin
    }

    /// Hidden Dense kernel W1 [D, U] (a copy).
    public var hiddenKernel: [Float] {
        Array(UnsafeBufferPointer(start: hiddenKernelPointer, count: inputCount * hiddenUnits))
    }
    /// Hidden Dense bias b1 [U] (a copy).
    public var hiddenBias: [Float] { Array(UnsafeBufferPointer(start: hiddenBiasPointer, count: hiddenUnits)) }
    /// Output Dense kernel W2 [U, K] (a copy).
    public var outputKernel: [Float] {
        Array(UnsafeBufferPointer(start: outputKernelPointer, count: hiddenUnits * classes))
    }
    /// Output Dense bias b2 [K] (a copy), nil when the architecture has none.
    public var outputBias: [Float]? { outputBiasPointer.map { Array(UnsafeBufferPointer(start: $0, count: classes)) } }

    // MARK: Inference

    /// Class probabilities [B, K] of features [B, D], B = features.count / D. Allocates nothing when
    /// B is at most the largest batch seen before (1 initially).
    public func predict(
        _ features: UnsafeBufferPointer<Float>,
        into probabilities: UnsafeMutableBufferPointer<Float>
    ) throws(NeuralNetError) {
        let (d, u, k) = (inputCount, hiddenUnits, classes)
        let rows = features.count / d
        guard rows >= 1, features.count == rows * d, let input = features.baseAddress else {
            throw .featureCountMismatch(samples: max(1, rows), featuresPerSample: d, found: features.count)
        }
        guard probabilities.count == rows * k, let output = probabilities.baseAddress else {
            throw .shapeMismatch(
                layer: HeadLayerNames.output, expected: "an output buffer of \(rows)×\(k) probabilities",
                found: [probabilities.count])
        }
        if rows > predictCapacity {
            predictHidden.deallocate()
            predictHidden = .allocate(capacity: rows * u)
            predictCapacity = rows
        }
        // hidden [B,U] = relu(x [B,D] · W1 + b1); logits [B,K] = hidden · W2 (+ b2); softmax in place.
        // OpenBLAS: the weights may change between calls (training), so nothing is packed; no allocation.
        DenseKernel.forward(
            x: input, w: hiddenKernelPointer, b: hiddenBiasPointer, y: predictHidden, rows: rows,
            inputs: d, units: u, relu: true, backend: .openBLAS)
        DenseKernel.forward(
            x: predictHidden, w: outputKernelPointer, b: outputBiasPointer, y: output, rows: rows,
            inputs: u, units: k, relu: false, backend: .openBLAS)
        ActivationKernel.reference(.softmax, output, rows: rows, channels: k)
    }

    /// Class probabilities [B, K] of features [B, D] (allocates the result).
    public func predict(_ features: [Float]) throws(NeuralNetError) -> [Float] {
        var probabilities = [Float](repeating: 0, count: max(1, features.count / inputCount) * classes)
        try features.withUnsafeBufferPointer { input throws(NeuralNetError) in
            try probabilities.withUnsafeMutableBufferPointer { output throws(NeuralNetError) in
                try predict(input, into: output)
            }
        }
        return probabilities
    }

    // MARK: Training

    /// A new head (initialised from `options.seed` with `options.hiddenUnits`) trained on the samples.
    public static func trained(
        inputShape: [Int], classes: Int, features: [Float], labels: [Int],
        options: TrainingOptions = TrainingOptions(), firstLayer: FirstLayerFeatures = .auto,
        shouldContinue: () -> Bool = { true },
        progress: (EpochReport) -> Void = { _ in }
    ) throws(NeuralNetError)
        -> (head: DenseHead, summary: TrainingSummary)
    {
        try options.validate()
        let architecture = HeadArchitecture(inputShape: inputShape, hiddenUnits: options.hiddenUnits, classes: classes)
        let head = try DenseHead(architecture: architecture, seed: options.seed)
        let summary = try head.train(
            features: features, labels: labels, options: options, firstLayer: firstLayer,
            shouldContinue: shouldContinue, progress: progress)
        return (head, summary)
    }

    /// Trains this head in place from its current weights, like TF.js `model.fit` with shuffle: every
    /// epoch visits the samples in a fresh seeded order in mini-batches of `options.batchSize(samples:)`,
    /// taking one Adam step (fresh moments per call) per batch.
    ///
    /// - Parameters:
    ///   - features: N samples × D scalars, row-major.
    ///   - labels: N class indices in 0..<classes, at least two distinct.
    ///   - firstLayer: dense or compressed features for the first layer's kernels (same results; `.auto` compresses
    ///     when at most 35 % of the features are non-zero).
    ///   - shouldContinue: asked before every batch; false stops and returns a summary marked cancelled
    ///     (the weights are those after the last finished batch; train a `copy()` to keep the old ones).
    ///   - progress: called after every epoch.
    /// - Throws: a typed error for bad options or samples (nothing is changed then), or
    ///   `trainingDiverged` when the loss or a weight turns NaN/Inf (the weights are then unusable).
    @discardableResult
    public func train(
        features: [Float], labels: [Int], options: TrainingOptions = TrainingOptions(),
        firstLayer: FirstLayerFeatures = .auto, shouldContinue: () -> Bool = { true },
        progress: (EpochReport) -> Void = { _ in }
    ) throws(NeuralNetError) -> TrainingSummary {
        let start = ContinuousClock.now
        try options.validate()
        guard options.hiddenUnits == hiddenUnits else {
            throw .invalidTrainingOption(
                field: "hiddenUnits", value: "\(options.hiddenUnits)",
                allowed: "\(hiddenUnits), this head's hidden units (train a new head to change them)")
        }
        try validateSamples(features: features, labels: labels)
        let (d, count) = (inputCount, labels.count)
        let batchSize = options.batchSize(samples: count)
        let adam = Adam(parameterCount: architecture.parameterCount, learningRate: Float(options.learningRate))
        var generator = SplitMix64(seed: options.seed ^ 0x5348_5546_464C_4531)  // distinct from the init stream
        var order = Array(0..<count)
        /// The next epoch's order, shuffled early (same generator calls in the same order) when the last batch
        /// of an epoch prepares the first batch of the next.
        var nextOrder: [Int]?
        var summary = TrainingSummary(
            epochsCompleted: 0, epochs: options.epochs, batchSize: batchSize, finalLoss: nil,
            finalAccuracy: nil, cancelled: false, milliseconds: 0)
        var diverged: (epoch: Int, batch: Int, loss: Float)?
        features.withUnsafeBufferPointer { source in
            let base = source.baseAddress!
            // One fused sweep over W1 per step (FusedFirstLayer.swift): its gradient, Adam and the next batch's
            // forward; on compressed features when most are zero, as post-ReLU features are (SparseFirstLayer.swift).
            let trainer = FusedHeadTrainer(
                head: self, adam: adam, capacity: batchSize, features: base, samples: count,
                sparse: FusedHeadTrainer.sparseFeatures(
                    base, samples: count, inputs: d, maximumDensity: firstLayer.maximumDensity))
            epochs: for epoch in 1...options.epochs {
                if let prepared = nextOrder {
                    order = prepared
                    nextOrder = nil
                } else {
                    Self.shuffle(&order, using: &generator)
                }
                var lossSum: Double = 0
                var correct = 0
                var batch = 0
                for batchStart in stride(from: 0, to: count, by: batchSize) {
                    guard shouldContinue() else {
                        summary.cancelled = true
                        break epochs
                    }
                    let rows = min(batchSize, count - batchStart)
                    for row in 0..<rows {
                        let sample = order[batchStart + row]
                        trainer.batchSamples[row] = Int32(sample)
                        trainer.labels[row] = Int32(labels[sample])
                    }
                    // The batch after this one: the rest of this epoch, else the first of the next epoch.
                    var nextCount = 0
                    if batchStart + batchSize < count {
                        nextCount = min(batchSize, count - batchStart - batchSize)
                        for row in 0..<nextCount {
                            trainer.nextSamples[row] = Int32(order[batchStart + batchSize + row])
                        }
                    } else if epoch < options.epochs {
                        var upcoming = order
                        Self.shuffle(&upcoming, using: &generator)
                        nextOrder = upcoming
                        nextCount = min(batchSize, count)
                        for row in 0..<nextCount { trainer.nextSamples[row] = Int32(upcoming[row]) }
                    }
                    let result = trainer.step(rows: rows, nextCount: nextCount)
                    guard result.finite else {
                        diverged = (epoch, batch + 1, result.loss)
                        break epochs
                    }
                    lossSum += Double(result.loss) * Double(rows)
                    correct += result.correct
                    batch += 1
                }
                let report = EpochReport(
                    epoch: epoch, epochs: options.epochs, loss: Float(lossSum / Double(count)),
                    accuracy: Float(correct) / Float(count))
                summary.epochsCompleted = epoch
                summary.finalLoss = report.loss
                summary.finalAccuracy = report.accuracy
                progress(report)
            }
        }
        if let diverged { throw .trainingDiverged(epoch: diverged.epoch, batch: diverged.batch, loss: diverged.loss) }
        summary.milliseconds = Double((ContinuousClock.now - start) / .microseconds(1)) / 1000
        return summary
    }

    /// Fisher–Yates with SplitMix64 (index = next() mod (i+1); the modulo bias is below 2⁻⁵⁰ for
    /// realistic N): the same seed gives the same orders on every platform and Swift version.
    static func shuffle(_ order: inout [Int], using generator: inout SplitMix64) {
        guard order.count > 1 else { return }
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            let j = Int(generator.next() % UInt64(i + 1))
            order.swapAt(i, j)
        }
    }

    /// Checks the samples before anything changes; the errors name the first offending sample.
    func validateSamples(features: [Float], labels: [Int]) throws(NeuralNetError) {
        guard !labels.isEmpty else { throw .noTrainingSamples }
        guard features.count == labels.count * inputCount else {
            throw .featureCountMismatch(samples: labels.count, featuresPerSample: inputCount, found: features.count)
        }
        var seen = Set<Int>()
        for (sample, label) in labels.enumerated() {
            guard (0..<classes).contains(label) else {
                throw .labelOutOfRange(sample: sample, label: label, classes: classes)
            }
            seen.insert(label)
        }
        guard seen.count >= 2 else { throw .tooFewClasses(found: seen.count, required: 2) }
        if let index = features.firstIndex(where: { !$0.isFinite }) {
            throw .nonFiniteFeature(sample: index / inputCount, index: index % inputCount, value: features[index])
        }
    }

    /// Forward and backward through the head and loss for workspace.x [rows, D] and workspace.labels:
    /// fills workspace.gradients [P] (and workspace.inputGradient [rows, D] when planned) and returns
    /// the mean loss and the number of rows whose argmax is their label.
    func forwardBackward(_ w: TrainingWorkspace, rows: Int, path: KernelPath = .fast) -> (loss: Float, correct: Int) {
        let (d, u, k) = (inputCount, hiddenUnits, classes)
        func forward(
            _ x: UnsafePointer<Float>, _ weights: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
            _ y: UnsafeMutablePointer<Float>, _ rows: Int, _ inputs: Int, _ units: Int, _ relu: Bool
        ) {
            if let backend = path.backend {
                DenseKernel.forward(
                    x: x, w: weights, b: bias, y: y, rows: rows, inputs: inputs, units: units, relu: relu,
                    backend: backend)
            } else {
                DenseKernel.forwardReference(
                    x: x, w: weights, b: bias, y: y, rows: rows, inputs: inputs, units: units,
                    relu: relu)
            }
        }
        func backward(
            _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ weights: UnsafePointer<Float>,
            _ dx: UnsafeMutablePointer<Float>?, _ dw: UnsafeMutablePointer<Float>?,
            _ db: UnsafeMutablePointer<Float>?, _ rows: Int, _ inputs: Int, _ units: Int
        ) {
            if let backend = path.backend {
                DenseKernel.backward(
                    dy: dy, x: x, w: weights, dx: dx, dw: dw, db: db, rows: rows, inputs: inputs,
                    units: units, backend: backend)
            } else {
                DenseKernel.backwardReference(
                    dy: dy, x: x, w: weights, dx: dx, dw: dw, db: db, rows: rows,
                    inputs: inputs, units: units)
            }
        }
        let gradW1 = w.gradients
        let gradB1 = w.gradients + d * u
        let gradW2 = gradB1 + u
        let gradB2: UnsafeMutablePointer<Float>? = architecture.outputBias ? gradW2 + u * k : nil
        // hidden [B,U] = relu(x [B,D] · W1 [D,U] + b1 [U])
        forward(w.x, hiddenKernelPointer, hiddenBiasPointer, w.hidden, rows, d, u, true)
        // logits [B,K] = hidden [B,U] · W2 [U,K] (+ b2 [K])
        forward(w.hidden, outputKernelPointer, outputBiasPointer, w.logits, rows, u, k, false)
        // probabilities [B,K] = softmax(logits); loss = mean −log p[label]; dlogits = (p − y) / B
        let result = SoftmaxCrossEntropy.forwardReference(
            logits: w.logits, labels: w.labels,
            probabilities: w.probabilities, rows: rows, classes: k)
        SoftmaxCrossEntropy.backwardReference(
            probabilities: w.probabilities, labels: w.labels, dlogits: w.dlogits,
            rows: rows, classes: k)
        // dW2 [U,K] = hiddenᵀ · dlogits; db2 [K] = Σ_B dlogits; dhidden [B,U] = dlogits · W2ᵀ
        backward(w.dlogits, w.hidden, outputKernelPointer, w.dhidden, gradW2, gradB2, rows, u, k)
        // through relu: dpre [B,U] = dhidden where hidden > 0
        ReLUKernel.backward(y: w.hidden, dy: w.dhidden, dx: w.dhidden, count: rows * u)
        // dW1 [D,U] = xᵀ · dpre; db1 [U] = Σ_B dpre; dx [B,D] = dpre · W1ᵀ (only for gradient checks)
        backward(w.dhidden, w.x, hiddenKernelPointer, w.inputGradient, gradW1, gradB1, rows, d, u)
        return result
    }
}

/// Which twin of each kernel a computation uses: the plain loops, or a fast GEMM backend.
enum KernelPath: Sendable, CaseIterable {
    case reference, openBLAS, packedSwift, packedSwiftAVX2

    /// The fast path of `forwardBackward` (gradient checks, golden tests; training itself runs the fused first-layer
    /// pass of FusedFirstLayer.swift, which needs no GEMM backend): OpenBLAS, except in AVX-512 builds when OpenBLAS runs an older kernel than
    /// AVX-512 (then the packed AVX-512 kernel). Training re-packs the weights every step (and transposes X for dW),
    /// which costs more than the packed kernels save on these tall-K shapes when OpenBLAS has a kernel of the same
    /// width. `bench train` (200 samples, 20 epochs, 1 thread), AVX-512 build on an AMD EPYC where OpenBLAS 0.3.21
    /// picks its Cooperlake kernel: [7,7,256] packed 0.84–0.89 s, OpenBLAS 0.76–0.77 s; [7,7,1024] packed 4.4–4.7 s,
    /// OpenBLAS 3.45 s. AVX2 build, [7,7,1024]: OpenBLAS (Haswell) 2.1–2.9 s, packed AVX2 4.4–4.7 s. On a Xeon
    /// where OpenBLAS picked its SSE3 "Prescott" kernel, the packed AVX-512 kernel trained 2× faster.
    static let fast: KernelPath = {
        switch GEMM.defaultBackend {
        case .openBLAS, .packedSwiftAVX2: return .openBLAS
        case .packedSwift: return GEMM.openBLASRunsAVX512 ? .openBLAS : .packedSwift
        }
    }()

    /// The GEMM backend of a fast path; nil for the reference.
    var backend: GEMMBackend? {
        switch self {
        case .reference: return nil
        case .openBLAS: return .openBLAS
        case .packedSwift: return .packedSwift
        case .packedSwiftAVX2: return .packedSwiftAVX2
        }
    }
}

/// Every buffer one training step touches, allocated once per training run for `rows` batch rows.
final class TrainingWorkspace {
    let rows: Int
    /// x [B, D]: the batch's features, gathered in shuffled order.
    let x: UnsafeMutablePointer<Float>
    /// labels [B].
    let labels: UnsafeMutablePointer<Int32>
    /// hidden [B, U] (post-relu), logits [B, K], probabilities [B, K], dlogits [B, K], dhidden [B, U].
    let hidden, logits, probabilities, dlogits, dhidden: UnsafeMutablePointer<Float>
    /// ∂loss/∂θ [P], same layout as the head's parameters.
    let gradients: UnsafeMutablePointer<Float>
    /// ∂loss/∂x [B, D] when planned (gradient checks), else nil.
    let inputGradient: UnsafeMutablePointer<Float>?

    init(architecture: HeadArchitecture, rows: Int, inputGradient: Bool) {
        let (d, u, k) = (architecture.inputCount, architecture.hiddenUnits, architecture.classes)
        self.rows = rows
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: count)
            pointer.initialize(repeating: 0, count: count)
            return pointer
        }
        x = buffer(rows * d)
        labels = .allocate(capacity: rows)
        labels.initialize(repeating: 0, count: rows)
        hidden = buffer(rows * u)
        logits = buffer(rows * k)
        probabilities = buffer(rows * k)
        dlogits = buffer(rows * k)
        dhidden = buffer(rows * u)
        gradients = buffer(architecture.parameterCount)
        self.inputGradient = inputGradient ? buffer(rows * d) : nil
    }

    deinit {
        for pointer in [x, hidden, logits, probabilities, dlogits, dhidden, gradients] { pointer.deallocate() }
        labels.deallocate()
        inputGradient?.deallocate()
    }
}
