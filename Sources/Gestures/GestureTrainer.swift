// GestureTrainer: stored samples → embeddings (cached per embedder in the sample store) → a new
// head (NeuralNet.DenseHead, Adam) → saved in the head store → handed to whoever predicts. Runs on
// a background queue with progress events and cancellation; capture and prediction go on meanwhile
// (the trainer has its own feature extractor, so the live embedder is never locked by training).
// The caller swaps the finished head in (Recognizer.swapHead) — one pointer exchange; a cancelled
// or failed run leaves the current head untouched. Accuracy is measured honestly (Evaluation.swift):
// k-fold and the held-out check split by recording take, never frame by frame, and the data set's
// weak spots (no idle class, a thin label, a single take) come back as warnings.
import Capture
import Dispatch
import Foundation
import NeuralNet
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A trained `DenseHead` as the recognizer's `ProbabilityHead`, planned for inference: the weights are
/// fixed, so the big first layer [D, U] — the bytes a prediction streams — is packed once for one-row
/// products (`DenseRowWeights`: by default int16 rows, only those of non-zero features read) instead of the
/// OpenBLAS path the trainer needs; the small second layer and the softmax are plain loops. Nothing is
/// allocated per call. One thread at a time per instance.
public final class DenseHeadPredictor: ProbabilityHead, @unchecked Sendable {
    public let head: DenseHead
    private let hiddenWeights: DenseRowWeights
    private let hiddenBias: [Float]
    /// [U, K] row-major.
    private let outputKernel: [Float]
    /// [K] zeros when the head has no output bias.
    private let outputBias: [Float]
    /// [U] activations of one sample.
    private let hidden: UnsafeMutablePointer<Float>

    /// Plans `head` for inference; `precision` stores the first layer's weights (default: this build's).
    public init(_ head: DenseHead, precision: DenseRowPrecision = DenseRowWeights.defaultPrecision) {
        self.head = head
        let architecture = head.architecture
        hiddenWeights = head.hiddenKernel.withUnsafeBufferPointer { kernel in
            DenseRowWeights(
                inputs: architecture.inputCount, units: architecture.hiddenUnits, kernel: kernel.baseAddress!,
                precision: precision)
        }
        hiddenBias = head.hiddenBias
        outputKernel = head.outputKernel
        outputBias = head.outputBias ?? [Float](repeating: 0, count: architecture.classes)
        hidden = .allocate(capacity: architecture.hiddenUnits)
    }

    deinit { hidden.deallocate() }

    /// How the first layer is stored and multiplied, for reports ("int16, rows of non-zero inputs").
    public var firstLayerSummary: String { hiddenWeights.summary }

    public var featureCount: Int { head.architecture.inputCount }
    public var classCount: Int { head.architecture.classes }

    /// features [D] → relu(features · W1 + b1) [U] → · W2 + b2 [K] → softmax.
    public func predict(features: UnsafePointer<Float>, into probabilities: UnsafeMutablePointer<Float>) {
        let units = head.architecture.hiddenUnits
        let classes = classCount
        hiddenBias.withUnsafeBufferPointer { bias in
            hiddenWeights.multiply(x: features, bias: bias.baseAddress, relu: true, y: hidden)
        }
        outputKernel.withUnsafeBufferPointer { kernel in
            var largest = -Float.infinity
            for output in 0..<classes {
                var sum: Float = outputBias[output]
                for unit in 0..<units { sum += hidden[unit] * kernel[unit * classes + output] }
                probabilities[output] = sum
                largest = max(largest, sum)
            }
            var total: Float = 0
            for output in 0..<classes {
                probabilities[output] = expf(probabilities[output] - largest)
                total += probabilities[output]
            }
            for output in 0..<classes { probabilities[output] /= total }
        }
    }
}

/// What to train.
public struct TrainingRequest: Sendable, Equatable {
    /// Labels to train; those without samples are left out (reported in the result).
    public var labels: LabelSet
    public var options: TrainingOptions
    /// Also measure k-fold accuracy (folds grouped by take) before saving (nil: skip; costs k extra trainings).
    public var crossValidationFolds: Int?
    /// Also hold out one of this many take-grouped folds, train on the rest and test on it, with the held-out loss
    /// per epoch (nil: skip; costs one extra training on (k−1)/k of the samples).
    public var heldOutFolds: Int?

    public init(
        labels: LabelSet = .standard, options: TrainingOptions = TrainingOptions(), crossValidationFolds: Int? = nil,
        heldOutFolds: Int? = nil
    ) {
        self.labels = labels
        self.options = options
        self.crossValidationFolds = crossValidationFolds
        self.heldOutFolds = heldOutFolds
    }
}

/// Progress of a training run.
public enum TrainingEvent: Sendable {
    /// Embeddings computed so far (cached ones count as done).
    case embedding(done: Int, total: Int)
    /// One epoch finished.
    case epoch(EpochReport)
    /// Cross-validation fold finished.
    case fold(index: Int, of: Int, accuracy: Double)
    /// One epoch of the held-out check finished: loss on its training part and on the held-out takes.
    case heldOutEpoch(epoch: Int, epochs: Int, trainingLoss: Float, heldOutLoss: Float)
}

/// The held-out check of a training run: a head trained without one take-grouped fold, tested on it.
public struct HeldOutReport: Codable, Sendable, Equatable {
    /// Held-out predictions (rows: true label).
    public var matrix: ConfusionMatrix
    /// Fraction of held-out samples predicted right.
    public var accuracy: Double
    /// Per label: tested, right, recall, precision, most confused with.
    public var labelFigures: [LabelFigures]
    /// Samples the check head trained on.
    public var trainingSamples: Int
    /// Samples held out, and the takes (or time blocks of a take) they came from.
    public var heldOutSamples: Int
    public var heldOutTakes: Int
    /// Per epoch of the check run: mean loss on its training part (as training reports it) and on the held-out part
    /// (after the epoch).
    public var trainingLosses: [Float]
    public var heldOutLosses: [Float]

    /// A report of these figures.
    public init(
        matrix: ConfusionMatrix, accuracy: Double, labelFigures: [LabelFigures], trainingSamples: Int,
        heldOutSamples: Int, heldOutTakes: Int, trainingLosses: [Float], heldOutLosses: [Float]
    ) {
        self.matrix = matrix
        self.accuracy = accuracy
        self.labelFigures = labelFigures
        self.trainingSamples = trainingSamples
        self.heldOutSamples = heldOutSamples
        self.heldOutTakes = heldOutTakes
        self.trainingLosses = trainingLosses
        self.heldOutLosses = heldOutLosses
    }

    /// "held-out accuracy 87.5% (40 samples from 6 takes kept out of training)".
    public var rendered: String {
        String(format: "held-out accuracy %.1f%% ", accuracy * 100)
            + "(\(heldOutSamples) samples from \(heldOutTakes) take\(heldOutTakes == 1 ? "" : "s") kept out of training)"
    }
}

/// A finished training run.
public struct TrainedHead: Sendable {
    /// Ready to install in a recognizer.
    public let active: ActiveHead
    public let metadata: HeadMetadata
    /// How it was trained (also in `metadata.training`, which is optional there because imported heads have none).
    public let record: HeadTrainingRecord
    public let summary: TrainingSummary
    /// Labels of the request that had no samples and were left out.
    public let skippedLabels: [String]
    /// Embeddings computed in this run (the rest came from the cache).
    public let embeddingsComputed: Int
    /// The held-out check, when asked for and the samples allowed one (see `heldOutSkippedReason`).
    public let heldOut: HeldOutReport?
    /// Why the held-out check asked for did not run (too few samples), if it did not.
    public let heldOutSkippedReason: String?
    /// What is weak about the samples (no idle class, few samples, one take).
    public let warnings: [DatasetWarning]
}

/// The samples a run uses, in store order.
struct SelectedSamples {
    var ids: [Int64]
    /// [N] index into `used`.
    var labelIndices: [Int]
    /// [N] recording take.
    var takes: [Int64]
    var used: LabelSet
    var skipped: [String]

    var samplesPerLabel: [String: Int] {
        var counts: [String: Int] = [:]
        for index in labelIndices { counts[used.names[index], default: 0] += 1 }
        return counts
    }

    var takesPerLabel: [String: Int] {
        var takes: [String: Set<Int64>] = [:]
        for (index, take) in zip(labelIndices, self.takes) { takes[used.names[index], default: []].insert(take) }
        return takes.mapValues(\.count)
    }

    var warnings: [DatasetWarning] {
        Evaluation.warnings(labels: used.names, samplesPerLabel: samplesPerLabel, takesPerLabel: takesPerLabel)
    }
}

/// Trains heads from the sample store, synchronously (`train`) or on a background queue (`start`).
public final class GestureTrainer: @unchecked Sendable {
    public let samples: SampleStore
    public let heads: HeadStore
    /// The trainer's own extractor (not the live one).
    public let extractor: FeatureExtractor
    /// Orientation of the features: samples recorded with the other mirror setting are flipped to match.
    public let mirror: Bool
    private let queue = DispatchQueue(label: "gesturepad.trainer", qos: .utility)
    private let running = Mutex<Bool>(false)
    private let cancelRequested = Atomic<Bool>(false)

    public init(samples: SampleStore, heads: HeadStore, extractor: FeatureExtractor, mirror: Bool) {
        self.samples = samples
        self.heads = heads
        self.extractor = extractor
        self.mirror = mirror
    }

    /// The sample store's embedding-cache key for this trainer's features.
    public var cacheKey: String { extractor.identity.cacheKey + (mirror ? "/mirrored" : "/plain") }

    /// Whether a background run is in progress.
    public var isRunning: Bool { running.withLock { $0 } }

    /// Asks a running training to stop at the next batch (its result is discarded).
    public func cancel() { cancelRequested.store(true, ordering: .relaxed) }

    /// Starts training on the background queue; `completion` gets the result (also when cancelled: `.trainingCancelled`).
    /// Throws `.trainingInProgress` when a run is already going.
    public func start(
        _ request: TrainingRequest, onEvent: @escaping @Sendable (TrainingEvent) -> Void = { _ in },
        completion: @escaping @Sendable (Result<TrainedHead, GesturesError>) -> Void
    ) throws(GesturesError) {
        let started = running.withLock { isRunning -> Bool in
            if isRunning { return false }
            isRunning = true
            return true
        }
        guard started else { throw .trainingInProgress }
        cancelRequested.store(false, ordering: .relaxed)
        queue.async { [self] in
            let result = Result { () throws(GesturesError) in try train(request, onEvent: onEvent) }
            running.withLock { $0 = false }
            completion(result)
        }
    }

    /// Trains now on the calling thread: embeddings, optional k-fold, final training, save. Returns the new head.
    public func train(_ request: TrainingRequest, onEvent: (TrainingEvent) -> Void = { _ in }) throws(GesturesError)
        -> TrainedHead
    {
        let start = ContinuousClock.now
        let selected = try selectSamples(request.labels)
        let (ids, labelIndices, used, skipped) = (
            selected.ids, selected.labelIndices, selected.used, selected.skipped
        )
        let (features, computedCount) = try embeddings(ids: ids, onEvent: onEvent)
        let shouldContinue = { [self] in !self.cancelRequested.load(ordering: .relaxed) }
        let shape = extractor.identity.featureShape
        let dimension = extractor.featureCount

        var crossValidated: Double?
        if let folds = request.crossValidationFolds {
            let k = max(2, min(folds, labelIndices.count))
            let (matrix, foldAccuracies) = try Evaluation.crossValidate(
                labels: labelIndices, labelNames: used.names,
                folds: Evaluation.groupedFolds(
                    labels: labelIndices, groups: selected.takes, k: k, seed: request.options.seed)
            ) { (train: [Int], test: [Int]) throws(GesturesError) -> [Int] in
                let result = try Self.fit(
                    shape: shape, classes: used.count, features: features, dimension: dimension,
                    labels: labelIndices, rows: train, options: request.options,
                    shouldContinue: shouldContinue, progress: { _ in })
                return try Self.predictLabels(result, features: features, dimension: dimension, rows: test)
            }
            for (index, accuracy) in foldAccuracies.enumerated() {
                onEvent(.fold(index: index + 1, of: foldAccuracies.count, accuracy: accuracy))
            }
            crossValidated = matrix.accuracy
        }

        var heldOut: HeldOutReport?
        var heldOutSkippedReason: String?
        if let folds = request.heldOutFolds {
            switch try heldOutCheck(
                selected, features: features, folds: folds, options: request.options, onEvent: onEvent)
            {
            case .success(let report): heldOut = report
            case .failure(let reason): heldOutSkippedReason = reason.reason
            }
        }

        let head: DenseHead
        let summary: TrainingSummary
        do {
            (head, summary) = try DenseHead.trained(
                inputShape: shape, classes: used.count, features: features,
                labels: labelIndices, options: request.options,
                shouldContinue: shouldContinue, progress: { onEvent(.epoch($0)) })
        } catch { throw .model(error) }
        if summary.cancelled || !shouldContinue() { throw .trainingCancelled }

        var perLabel: [String: Int] = [:]
        for index in labelIndices { perLabel[used.names[index], default: 0] += 1 }
        let elapsed = ContinuousClock.now - start
        let record = HeadTrainingRecord(
            learningRate: Float(request.options.learningRate),
            batchSizeFraction: Float(request.options.batchSizeFraction),
            epochs: request.options.epochs, hiddenUnits: request.options.hiddenUnits, seed: request.options.seed,
            samplesPerLabel: perLabel, finalLoss: summary.finalLoss ?? .nan,
            trainingAccuracy: summary.finalAccuracy ?? 0,
            crossValidatedAccuracy: crossValidated, heldOutAccuracy: heldOut?.accuracy,
            milliseconds: Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15)
        var metadata = HeadMetadata(labels: used, embedder: extractor.identity, mirror: mirror, training: record)
        metadata.version = try heads.save(head.model(), metadata: metadata)
        let active = ActiveHead(labels: used, version: metadata.version, predictor: DenseHeadPredictor(head))
        return TrainedHead(
            active: active, metadata: metadata, record: record, summary: summary, skippedLabels: skipped,
            embeddingsComputed: computedCount, heldOut: heldOut, heldOutSkippedReason: heldOutSkippedReason,
            warnings: selected.warnings)
    }

    /// Why a held-out check could not run.
    struct HeldOutSkipped: Error {
        var reason: String
    }

    /// Trains a head on all but one take-grouped fold (of `folds`) and tests it on that fold, reporting the training
    /// and held-out loss after every epoch. `.failure` (not thrown) when the samples are too few to hold any out.
    func heldOutCheck(
        _ selected: SelectedSamples, features: [Float], folds: Int, options: TrainingOptions,
        onEvent: (TrainingEvent) -> Void
    ) throws(GesturesError) -> Result<HeldOutReport, HeldOutSkipped> {
        let labels = selected.labelIndices
        let minimum = max(2, folds)
        guard labels.count >= minimum * 2 else {
            return .failure(HeldOutSkipped(reason: "too few samples for a held-out check (\(labels.count))"))
        }
        let split = Evaluation.groupedFolds(labels: labels, groups: selected.takes, k: minimum, seed: options.seed)
        let test = split[0]
        let train = split.dropFirst().flatMap { $0 }.sorted()
        guard !test.isEmpty, Set(train.map { labels[$0] }).count >= 2 else {
            return .failure(HeldOutSkipped(reason: "too few samples or takes for a held-out check"))
        }
        let dimension = extractor.featureCount
        let classes = selected.used.count
        let trainFeatures = Self.rows(train, of: features, dimension: dimension)
        let testFeatures = Self.rows(test, of: features, dimension: dimension)
        let testLabels = test.map { labels[$0] }
        let shouldContinue = { [self] in !self.cancelRequested.load(ordering: .relaxed) }
        var trainingLosses: [Float] = []
        var heldOutLosses: [Float] = []
        let head: DenseHead
        do {
            head = try DenseHead(
                architecture: HeadArchitecture(
                    inputShape: extractor.identity.featureShape, hiddenUnits: options.hiddenUnits, classes: classes),
                seed: options.seed)
            let summary = try head.train(
                features: trainFeatures, labels: train.map { labels[$0] }, options: options,
                shouldContinue: shouldContinue
            ) { report in
                // `predict` has its own buffers: safe between the epochs of `train`.
                let probabilities = (try? head.predict(testFeatures)) ?? []
                let heldOutLoss =
                    probabilities.count == testLabels.count * classes
                    ? Evaluation.meanCrossEntropy(probabilities: probabilities, labels: testLabels, classes: classes)
                    : .nan
                trainingLosses.append(report.loss)
                heldOutLosses.append(heldOutLoss)
                onEvent(
                    .heldOutEpoch(
                        epoch: report.epoch, epochs: report.epochs, trainingLoss: report.loss, heldOutLoss: heldOutLoss)
                )
            }
            if summary.cancelled { throw GesturesError.trainingCancelled }
        } catch let error as GesturesError {
            throw error
        } catch let error as NeuralNetError {
            throw .model(error)
        } catch {
            throw .trainingCancelled
        }
        let predicted = try Self.predictLabels(head, features: features, dimension: dimension, rows: test)
        var matrix = ConfusionMatrix(labels: selected.used.names)
        for (row, sample) in test.enumerated() { matrix.add(trueLabel: labels[sample], predicted: predicted[row]) }
        // Takes split into time blocks count once per block held out.
        let heldOutTakes = Set(test.map { "\(labels[$0])/\(selected.takes[$0])" }).count
        return .success(
            HeldOutReport(
                matrix: matrix, accuracy: matrix.accuracy, labelFigures: matrix.labelFigures,
                trainingSamples: train.count, heldOutSamples: test.count, heldOutTakes: heldOutTakes,
                trainingLosses: trainingLosses, heldOutLosses: heldOutLosses))
    }

    /// [rows.count, D] copy of `rows` of the [N, D] features.
    static func rows(_ rows: [Int], of features: [Float], dimension: Int) -> [Float] {
        var subset = [Float](repeating: 0, count: rows.count * dimension)
        for (position, row) in rows.enumerated() {
            subset.replaceSubrange(
                position * dimension..<(position + 1) * dimension,
                with: features[row * dimension..<(row + 1) * dimension])
        }
        return subset
    }

    /// Loads the current stored head for this trainer's embedder (nil when none is stored).
    public func loadCurrentHead() throws(GesturesError) -> ActiveHead? {
        guard try heads.currentVersion() != nil else { return nil }
        let (model, metadata) = try heads.load()
        try metadata.checkFits(extractor.identity)
        let head: DenseHead
        do { head = try DenseHead(model: model) } catch { throw .model(error) }
        guard head.architecture.classes == metadata.labels.count else {
            throw .headDoesNotFit(
                head: "version \(metadata.version)",
                reason:
                    "it has \(head.architecture.classes) outputs but head.json lists \(metadata.labels.count) labels")
        }
        return ActiveHead(labels: metadata.labels, version: metadata.version, predictor: DenseHeadPredictor(head))
    }

    // MARK: Steps

    /// Sample ids, label indices and takes of the labels in `labels` that have samples.
    func selectSamples(_ labels: LabelSet) throws(GesturesError) -> SelectedSamples {
        let all = try samples.samples()
        let present = Set(all.map(\.label))
        let usedNames = labels.names.filter { present.contains($0) }
        let skipped = labels.names.filter { !present.contains($0) }
        guard usedNames.count >= 2 else {
            throw .notEnoughSamples(counts: try samples.counts(), needed: "samples for at least two of \(labels)")
        }
        let used = try LabelSet(usedNames)
        let chosen = all.filter { usedNames.contains($0.label) }
        return SelectedSamples(
            ids: chosen.map(\.id),
            labelIndices: try chosen.map { info throws(GesturesError) in try used.index(of: info.label) },
            takes: chosen.map(\.take), used: used, skipped: skipped)
    }

    /// [N, D] embeddings of `ids`, from the cache where present; missing ones computed and cached. The cached
    /// vectors go straight into the matrix (no second copy of them all), so the memory this needs is the matrix
    /// plus at most 16 fresh vectors waiting to be stored.
    func embeddings(ids: [Int64], onEvent: (TrainingEvent) -> Void) throws(GesturesError) -> (
        features: [Float], computed: Int
    ) {
        let dimension = extractor.featureCount
        var matrix = [Float](repeating: 0, count: ids.count * dimension)
        let filled = try samples.fillCachedEmbeddings(modelID: cacheKey, ids: ids, dimension: dimension, into: &matrix)
        let infos = Dictionary(uniqueKeysWithValues: try samples.samples().map { ($0.id, $0) })
        var computed: [Int64: [Float]] = [:]
        var computedCount = 0
        var done = filled.lazy.filter { $0 }.count
        onEvent(.embedding(done: done, total: ids.count))
        for (row, id) in ids.enumerated() where !filled[row] {
            if cancelRequested.load(ordering: .relaxed) { throw .trainingCancelled }
            var image = try samples.frame(id: id)
            guard image.width == extractor.side, image.height == extractor.side else {
                throw .sampleSizeMismatch(expected: extractor.side * extractor.side * 3, found: image.pixels.count)
            }
            if let info = infos[id], info.mirror != mirror { image = image.mirroredHorizontally() }
            let embedding = try extractor.embed(sample: image.pixels)
            matrix.replaceSubrange(row * dimension..<(row + 1) * dimension, with: embedding)
            computed[id] = embedding
            computedCount += 1
            done += 1
            if computed.count % 16 == 0 {
                _ = try samples.storeEmbeddings(modelID: cacheKey, computed)
                computed.removeAll()
                onEvent(.embedding(done: done, total: ids.count))
            }
        }
        if !computed.isEmpty { _ = try samples.storeEmbeddings(modelID: cacheKey, computed) }
        onEvent(.embedding(done: ids.count, total: ids.count))
        return (matrix, computedCount)
    }

    /// Trains a fresh head on `rows` of the [N, D] features.
    static func fit(
        shape: [Int], classes: Int, features: [Float], dimension: Int, labels: [Int], rows: [Int],
        options: TrainingOptions, shouldContinue: () -> Bool,
        progress: (EpochReport) -> Void
    ) throws(GesturesError) -> DenseHead {
        let subset = Self.rows(rows, of: features, dimension: dimension)
        let subsetLabels = rows.map { labels[$0] }
        // A fold may lack a label entirely when samples are very few; the head still has every class.
        guard Set(subsetLabels).count >= 2 else {
            throw .notEnoughSamples(counts: [:], needed: "two labels in every fold")
        }
        do {
            let (head, summary) = try DenseHead.trained(
                inputShape: shape, classes: classes, features: subset,
                labels: subsetLabels, options: options,
                shouldContinue: shouldContinue, progress: progress)
            if summary.cancelled { throw GesturesError.trainingCancelled }
            return head
        } catch let error as GesturesError {
            throw error
        } catch let error as NeuralNetError {
            throw .model(error)
        } catch {
            throw .trainingCancelled
        }
    }

    /// Argmax labels of `rows` of the [N, D] features.
    static func predictLabels(_ head: DenseHead, features: [Float], dimension: Int, rows: [Int]) throws(GesturesError)
        -> [Int]
    {
        let subset = Self.rows(rows, of: features, dimension: dimension)
        let probabilities: [Float]
        do { probabilities = try head.predict(subset) } catch { throw .model(error) }
        let classes = head.architecture.classes
        return rows.indices.map { row in
            (0..<classes).max { probabilities[row * classes + $0] < probabilities[row * classes + $1] }!
        }
    }
}

extension RGBImage {
    /// The image flipped left–right.
    public func mirroredHorizontally() -> RGBImage {
        var flipped = pixels
        for y in 0..<height {
            for x in 0..<width {
                for channel in 0..<3 {
                    flipped[(y * width + x) * 3 + channel] = pixels[(y * width + width - 1 - x) * 3 + channel]
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: flipped)
    }
}

/// What `gesturepad eval` reports about the stored samples.
public struct EvaluationReport: Codable, Sendable {
    public var labels: [String]
    public var folds: Int
    public var samplesPerLabel: [String: Int]
    public var matrix: ConfusionMatrix
    public var accuracy: Double
    /// Accuracy per label (recall), by label name.
    public var perLabelAccuracy: [String: Double]
    public var foldAccuracies: [Double]
    /// How the folds were made (grouped by take; which labels had to be cut into time blocks).
    public var split: String
    /// Recording takes per label.
    public var takesPerLabel: [String: Int]
    /// Per label: tested, right, recall, precision, most confused with.
    public var labelFigures: [LabelFigures]
    /// What is weak about the samples.
    public var warnings: [DatasetWarning]
    /// Samples whose nearest neighbours carry another label, with their sample ids.
    public var suspects: [Suspect]
    public var milliseconds: Double

    public struct Suspect: Codable, Sendable, Equatable {
        public var sampleID: Int64
        public var label: String
        public var neighbourLabels: [String]
        public var nearestDistance: Float
    }

    /// Readable text: the matrix, fold accuracies and suspects.
    public func rendered() -> String {
        var lines = [
            "\(folds)-fold cross-validation over \(samplesPerLabel.values.reduce(0, +)) samples "
                + "(\(labels.map { "\($0) \(samplesPerLabel[$0] ?? 0) in \(takesPerLabel[$0] ?? 0) take(s)" }.joined(separator: ", ")))",
            split, matrix.rendered(), "per label (held out):",
        ]
        lines += labelFigures.map { "  " + $0.rendered }
        lines.append(
            "fold accuracies: " + foldAccuracies.map { String(format: "%.1f%%", $0 * 100) }.joined(separator: " "))
        lines += warnings.map { "warning: \($0)" }
        if suspects.isEmpty {
            lines.append("no sample's nearest neighbours disagree with its label")
        } else {
            lines.append("samples whose nearest neighbours carry another label (check or relabel them):")
            for suspect in suspects {
                lines.append(
                    "  #\(suspect.sampleID) \(suspect.label): neighbours \(suspect.neighbourLabels.joined(separator: ", "))"
                )
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension GestureTrainer {
    /// k-fold accuracy of heads trained with `request.options` on the stored samples, folds grouped by recording take
    /// (`Evaluation.groupedFolds`), per-label figures, data set warnings, plus neighbour checks.
    public func evaluate(
        _ request: TrainingRequest, folds: Int, neighbours: Int = 3,
        onEvent: (TrainingEvent) -> Void = { _ in }
    ) throws(GesturesError) -> EvaluationReport {
        let start = ContinuousClock.now
        let selected = try selectSamples(request.labels)
        let (ids, labelIndices, used) = (selected.ids, selected.labelIndices, selected.used)
        guard labelIndices.count >= folds, folds >= 2 else {
            throw .notEnoughSamples(
                counts: try samples.counts(), needed: "at least \(max(folds, 2)) samples for \(folds)-fold evaluation")
        }
        let features = try embeddings(ids: ids, onEvent: onEvent).features
        let dimension = extractor.featureCount
        let shape = extractor.identity.featureShape
        var foldNumber = 0
        let takesPerLabel = selected.takesPerLabel
        let cut = used.names.filter { (takesPerLabel[$0] ?? 0) < folds }
        let split =
            "split: folds keep each recording take whole (\(Set(selected.takes).count) takes)"
            + (cut.isEmpty
                ? ""
                : "; \(cut.joined(separator: ", ")) had fewer takes than folds and \(cut.count == 1 ? "was" : "were") "
                    + "cut into contiguous time blocks")
        let (matrix, foldAccuracies) = try Evaluation.crossValidate(
            labels: labelIndices, labelNames: used.names,
            folds: Evaluation.groupedFolds(
                labels: labelIndices, groups: selected.takes, k: folds, seed: request.options.seed)
        ) { (train: [Int], test: [Int]) throws(GesturesError) -> [Int] in
            let head = try Self.fit(
                shape: shape, classes: used.count, features: features, dimension: dimension,
                labels: labelIndices, rows: train, options: request.options,
                shouldContinue: { true }, progress: { _ in })
            let predicted = try Self.predictLabels(head, features: features, dimension: dimension, rows: test)
            foldNumber += 1
            let correct = zip(predicted, test).filter { $0 == labelIndices[$1] }.count
            onEvent(.fold(index: foldNumber, of: folds, accuracy: Double(correct) / Double(test.count)))
            return predicted
        }
        let suspects = Evaluation.neighbourDisagreements(
            features: features, dimension: dimension, labels: labelIndices,
            labelNames: used.names, neighbours: neighbours
        ).map {
            EvaluationReport.Suspect(
                sampleID: ids[$0.sample], label: $0.label, neighbourLabels: $0.neighbourLabels,
                nearestDistance: $0.nearestDistance)
        }
        var perLabelCount: [String: Int] = [:]
        for index in labelIndices { perLabelCount[used.names[index], default: 0] += 1 }
        var perLabelAccuracy: [String: Double] = [:]
        for (index, value) in matrix.perLabelAccuracy.enumerated() {
            if let value { perLabelAccuracy[used.names[index]] = value }
        }
        let elapsed = ContinuousClock.now - start
        return EvaluationReport(
            labels: used.names, folds: folds, samplesPerLabel: perLabelCount, matrix: matrix,
            accuracy: matrix.accuracy, perLabelAccuracy: perLabelAccuracy, foldAccuracies: foldAccuracies,
            split: split, takesPerLabel: takesPerLabel, labelFigures: matrix.labelFigures, warnings: selected.warnings,
            suspects: suspects,
            milliseconds: Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15)
    }
}
