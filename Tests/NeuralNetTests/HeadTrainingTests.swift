// DenseHead training and inference behaviour: a separable toy set reaches 100 % training accuracy,
// seeds make runs reproducible, cancellation stops between batches, batch-size fractions never round
// to 0, every bad input is a typed error naming what is wrong (and leaves the head untouched), and
// predicting one sample allocates nothing.
import CHeapStats
import Foundation
import Testing

@testable import NeuralNet

/// `perClass` samples of each of `classes` classes with `shape` features: class c lights up its own
/// block of features (+1) over uniform noise in ±0.5, so the classes are linearly separable.
func separableSamples(classes: Int, perClass: Int, shape: [Int], seed: UInt64) -> (features: [Float], labels: [Int]) {
    let d = shape.reduce(1, *)
    var generator = SplitMix64(seed: seed)
    var features: [Float] = []
    var labels: [Int] = []
    features.reserveCapacity(classes * perClass * d)
    for sample in 0..<(classes * perClass) {
        let label = sample % classes
        for index in 0..<d {
            let block = index * classes / d
            features.append(generator.nextFloat(in: -0.5...0.5) + (block == label ? 1 : 0))
        }
        labels.append(label)
    }
    return (features, labels)
}

@Suite("Head training")
struct HeadTrainingTests {
    let toyShape = [2, 2, 8]
    let toyOptions = TrainingOptions(learningRate: 0.01, batchSizeFraction: 0.4, epochs: 30, hiddenUnits: 16, seed: 3)

    @Test("a separable toy set reaches 100 % training accuracy; loss falls; one report per epoch")
    func separableReachesFullAccuracy() throws {
        let (features, labels) = separableSamples(classes: 4, perClass: 10, shape: toyShape, seed: 1)
        var reports: [EpochReport] = []
        let (head, summary) = try DenseHead.trained(
            inputShape: toyShape, classes: 4, features: features, labels: labels,
            options: toyOptions, progress: { reports.append($0) })
        #expect(reports.map(\.epoch) == Array(1...30) && reports.allSatisfy { $0.epochs == 30 })
        #expect(summary.epochsCompleted == 30 && !summary.cancelled && summary.batchSize == 16)
        #expect(summary.finalAccuracy == 1, "accuracy \(summary.finalAccuracy ?? -1)")
        #expect(reports.last!.loss < reports.first!.loss / 4, "loss \(reports.first!.loss) → \(reports.last!.loss)")
        // And the trained head classifies every sample by itself.
        let probabilities = try head.predict(features)
        for (sample, label) in labels.enumerated() {
            let row = probabilities[(sample * 4)..<(sample * 4 + 4)]
            #expect(row.firstIndex(of: row.max()!)! - sample * 4 == label, "sample \(sample)")
            #expect(abs(row.reduce(0, +) - 1) < 1e-5)
        }
    }

    @Test("same seed → same weights and reports; another seed → different weights")
    func seededRunsAreReproducible() throws {
        let (features, labels) = separableSamples(classes: 3, perClass: 5, shape: toyShape, seed: 2)
        var options = toyOptions
        options.epochs = 3
        let first = try DenseHead.trained(
            inputShape: toyShape, classes: 3, features: features, labels: labels, options: options)
        let second = try DenseHead.trained(
            inputShape: toyShape, classes: 3, features: features, labels: labels, options: options)
        options.seed = 4
        let third = try DenseHead.trained(
            inputShape: toyShape, classes: 3, features: features, labels: labels, options: options)
        #expect(
            first.head.hiddenKernel == second.head.hiddenKernel && first.head.outputKernel == second.head.outputKernel)
        #expect(first.summary.finalLoss == second.summary.finalLoss)
        #expect(first.head.hiddenKernel != third.head.hiddenKernel)
    }

    @Test(
        "cancellation is checked before every batch and returns a summary marked cancelled",
        arguments: [0, 1, 3, 7, 9])
    func cancellation(batchesAllowed: Int) throws {
        // 12 samples, fraction 0.25 → batch 3 → 4 batches per epoch; allowing 7 batches completes epoch 1.
        let (features, labels) = separableSamples(classes: 3, perClass: 4, shape: toyShape, seed: 5)
        var options = toyOptions
        options.batchSizeFraction = 0.25
        let head = try DenseHead(
            architecture: HeadArchitecture(inputShape: toyShape, hiddenUnits: 16, classes: 3), seed: 1)
        let before = head.hiddenKernel
        var asked = 0
        var reports = 0
        let summary = try head.train(
            features: features, labels: labels, options: options,
            shouldContinue: {
                asked += 1
                return asked <= batchesAllowed
            },
            progress: { _ in reports += 1 })
        #expect(summary.cancelled && summary.batchSize == 3)
        #expect(summary.epochsCompleted == batchesAllowed / 4 && reports == summary.epochsCompleted)
        #expect(asked == batchesAllowed + 1, "stopped at the first false")
        #expect((head.hiddenKernel == before) == (batchesAllowed == 0), "weights change only if a batch ran")
        #expect((summary.finalLoss == nil) == (summary.epochsCompleted == 0))
    }

    @Test(
        "batch size = max(1, floor(N × fraction)), at most N",
        arguments: [
            (1, 0.01, 1), (1, 0.4, 1), (2, 0.01, 1), (10, 0.4, 4), (200, 0.4, 80), (5, 1.0, 5), (3, 0.5, 1),
            (7, 0.999, 6),
        ])
    func batchSize(samples: Int, fraction: Double, expected: Int) {
        #expect(TrainingOptions(batchSizeFraction: fraction).batchSize(samples: samples) == expected)
    }

    @Test("two samples with fraction 0.01 train in batches of 1 (TF.js would ask for batch 0)")
    func tinyFractionTrains() throws {
        let (features, labels) = separableSamples(classes: 2, perClass: 1, shape: toyShape, seed: 6)
        var options = toyOptions
        options.batchSizeFraction = 0.01
        options.epochs = 2
        var batches = 0
        let (_, summary) = try DenseHead.trained(
            inputShape: toyShape, classes: 2, features: features, labels: labels,
            options: options,
            shouldContinue: {
                batches += 1
                return true
            })
        #expect(summary.batchSize == 1 && summary.epochsCompleted == 2 && batches == 4)
    }

    enum BadInput: String, CaseIterable, CustomTestStringConvertible {
        case noSamples, oneClass, labelNegative, labelTooLarge, featureCountMismatch, nanFeature, infiniteFeature
        case learningRateZero, learningRateNaN, fractionZero, fractionAboveOne, epochsZero, hiddenUnitsMismatch
        var testDescription: String { rawValue }
    }

    @Test(
        "bad samples or options give a typed error naming the problem and leave the head unchanged",
        arguments: BadInput.allCases)
    func badInput(_ bad: BadInput) throws {
        var (features, labels) = separableSamples(classes: 3, perClass: 2, shape: toyShape, seed: 7)
        var options = toyOptions
        let d = toyShape.reduce(1, *)
        switch bad {
        case .noSamples:
            features = []
            labels = []
        case .oneClass: labels = labels.map { _ in 2 }
        case .labelNegative: labels[4] = -1
        case .labelTooLarge: labels[4] = 3
        case .featureCountMismatch: features.removeLast()
        case .nanFeature: features[2 * d + 5] = .nan
        case .infiniteFeature: features[2 * d + 5] = -.infinity
        case .learningRateZero: options.learningRate = 0
        case .learningRateNaN: options.learningRate = .nan
        case .fractionZero: options.batchSizeFraction = 0
        case .fractionAboveOne: options.batchSizeFraction = 1.5
        case .epochsZero: options.epochs = 0
        case .hiddenUnitsMismatch: options.hiddenUnits = 100
        }
        let head = try DenseHead(
            architecture: HeadArchitecture(inputShape: toyShape, hiddenUnits: 16, classes: 3), seed: 2)
        let before = head.hiddenKernel
        var thrown: NeuralNetError?
        do {
            try head.train(features: features, labels: labels, options: options)
        } catch {
            thrown = error
        }
        let error = try #require(thrown, "\(bad) should throw")
        switch (bad, error) {
        case (.noSamples, .noTrainingSamples), (.oneClass, .tooFewClasses(found: 1, required: 2)),
            (.labelNegative, .labelOutOfRange(sample: 4, label: -1, classes: 3)),
            (.labelTooLarge, .labelOutOfRange(sample: 4, label: 3, classes: 3)),
            (.featureCountMismatch, .featureCountMismatch(samples: 6, featuresPerSample: 32, found: 191)),
            (.nanFeature, .nonFiniteFeature(sample: 2, index: 5, _)),
            (.infiniteFeature, .nonFiniteFeature(sample: 2, index: 5, _)),
            (.learningRateZero, .invalidTrainingOption(field: "learningRate", _, _)),
            (.learningRateNaN, .invalidTrainingOption(field: "learningRate", _, _)),
            (.fractionZero, .invalidTrainingOption(field: "batchSizeFraction", _, _)),
            (.fractionAboveOne, .invalidTrainingOption(field: "batchSizeFraction", _, _)),
            (.epochsZero, .invalidTrainingOption(field: "epochs", _, _)),
            (.hiddenUnitsMismatch, .invalidTrainingOption(field: "hiddenUnits", value: "100", _)):
            break
        default:
            Issue.record("\(bad): unexpected error \(error)")
        }
        #expect(error.description.hasSuffix("."), "a complete sentence: \(error.description)")
        #expect(head.hiddenKernel == before, "the head must be unchanged")
    }

    @Test(
        "an invalid architecture is a typed error naming the field",
        arguments: [
            ([0, 2], 4, 2, "inputShape"), ([], 4, 2, "inputShape"), ([3], 0, 2, "hiddenUnits"),
            ([3], 4, 1, "classes"),
        ])
    func invalidArchitecture(shape: [Int], hidden: Int, classes: Int, field: String) {
        #expect {
            _ = try DenseHead(
                architecture: HeadArchitecture(inputShape: shape, hiddenUnits: hidden, classes: classes), seed: 0)
        } throws: { error in
            guard case .invalidHeadArchitecture(let name, _, _) = error as? NeuralNetError else { return false }
            return name == field
        }
    }

    @Test("a loss that overflows is reported as divergence, not returned as NaN weights")
    func divergence() throws {
        // Finite but huge weights (1e30) and features (1e10): the hidden sums overflow to +Inf, the
        // softmax of Inf logits is NaN. (Huge gradients alone do not diverge: Adam's step is bounded.)
        let (features, labels) = separableSamples(classes: 2, perClass: 3, shape: toyShape, seed: 8)
        let d = toyShape.reduce(1, *)
        let head = try DenseHead(
            architecture: HeadArchitecture(inputShape: toyShape, hiddenUnits: 16, classes: 2),
            hiddenKernel: [Float](repeating: 1e30, count: d * 16),
            hiddenBias: [Float](repeating: 0, count: 16),
            outputKernel: randomScalars(16 * 2, seed: 1))
        #expect {
            try head.train(features: features.map { abs($0) * 1e10 }, labels: labels, options: toyOptions)
        } throws: { error in
            guard case .trainingDiverged(epoch: 1, batch: 1, let loss) = error as? NeuralNetError else { return false }
            return !loss.isFinite
        }
    }

    @Test("copy() is independent; predict of a batch equals predicting each row")
    func copyAndBatchPredict() throws {
        let (features, labels) = separableSamples(classes: 3, perClass: 3, shape: toyShape, seed: 9)
        let head = try DenseHead(
            architecture: HeadArchitecture(inputShape: toyShape, hiddenUnits: 16, classes: 3), seed: 4)
        let twin = head.copy()
        try twin.train(features: features, labels: labels, options: toyOptions)
        #expect(twin.hiddenKernel != head.hiddenKernel)
        let batch = try head.predict(features)
        let d = toyShape.reduce(1, *)
        for sample in 0..<labels.count {
            let single = try head.predict(Array(features[(sample * d)..<((sample + 1) * d)]))
            expectClose(single, Array(batch[(sample * 3)..<(sample * 3 + 3)]), tolerance: 1e-6, "sample \(sample)")
        }
        #expect(throws: NeuralNetError.self) { _ = try head.predict([Float](repeating: 0, count: d + 1)) }
    }

    /// glibc's counters are process-wide: `make test` runs this alone (--filter noAllocationPerCall).
    @Test(
        "predict of one sample allocates nothing (glibc heap counters)",
        .enabled(
            if: ProcessInfo.processInfo.environment["GESTUREPAD_ISOLATED_TESTS"] == "1",
            "needs a process of its own: make test runs it with --filter noAllocationPerCall"))
    func noAllocationPerCall() throws {
        let head = try DenseHead(
            architecture: HeadArchitecture(inputShape: [7, 7, 256], hiddenUnits: 100, classes: 4), seed: 1)
        let input = randomScalars(head.architecture.inputCount, seed: 3)
        var output = [Float](repeating: 0, count: 4)
        var deltas: [Int] = []
        try input.withUnsafeBufferPointer { source throws(NeuralNetError) in
            try output.withUnsafeMutableBufferPointer { destination throws(NeuralNetError) in
                for _ in 0..<10 {
                    try head.predict(source, into: destination)  // warm
                    let before = gp_heap_bytes_in_use()
                    for _ in 0..<20 { try head.predict(source, into: destination) }
                    deltas.append(Int(gp_heap_bytes_in_use()) - Int(before))
                    if deltas.last == 0 { break }
                }
            }
        }
        #expect(deltas.contains(0), "heap grew by \(deltas) bytes over 20 calls")
    }
}
