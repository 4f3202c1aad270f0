// Honest accuracy: folds grouped by recording take, the leak they close (near-duplicate neighbouring
// frames make a random split look perfect), per-label figures on a hand-computed matrix, the data set
// warnings, takes in the sample store (one add call = one take; old stores grouped by time blocks in
// the migration), and the trainer's held-out check with its per-epoch held-out loss.
import Foundation
import GRDB
import NeuralNet
import TestSupport
import Testing

@testable import Gestures

/// Video-like features: `takes` takes of `framesPerTake` frames; each take sits at its own random point and its
/// frames differ from their neighbours by a tiny drift (near-duplicates). Labels are drawn per take at random, so
/// nothing about a take's position tells its label: only memorising a take's other frames can.
private func videoLikeSamples(takes: Int, framesPerTake: Int, dimension: Int, labels: Int, seed: UInt64) -> (
    features: [Float], labels: [Int], groups: [Int64]
) {
    var random = SplitMix64(seed: seed)
    var features: [Float] = []
    var labelOfSample: [Int] = []
    var groups: [Int64] = []
    for take in 0..<takes {
        var point = (0..<dimension).map { _ in random.nextFloat(in: -1...1) }
        let label = take % labels  // balanced, unrelated to the position
        for _ in 0..<framesPerTake {
            for index in point.indices { point[index] += random.nextFloat(in: -0.01...0.01) }
            features += point
            labelOfSample.append(label)
            groups.append(Int64(take + 1))
        }
    }
    return (features, labelOfSample, groups)
}

@Suite struct HonestAccuracyTests {
    @Test(arguments: [2, 3, 5])
    func groupedFoldsKeepTakesWholeAndSpreadLabels(k: Int) {
        // Label 0: six takes of 4; label 1: ten takes of 2.
        let labels = Array(repeating: 0, count: 24) + Array(repeating: 1, count: 20)
        let firstTakes: [Int64] = (0..<24).map { Int64($0 / 4) }
        let secondTakes: [Int64] = (0..<20).map { Int64(100 + $0 / 2) }
        let groups = firstTakes + secondTakes
        let folds = Evaluation.groupedFolds(labels: labels, groups: groups, k: k, seed: 3)
        #expect(folds.count == k)
        #expect(folds.flatMap { $0 }.sorted() == Array(labels.indices), "every sample in exactly one fold")
        for take in Set(groups) {
            let holding = folds.indices.filter { fold in folds[fold].contains { groups[$0] == take } }
            #expect(holding.count == 1, "take \(take) is in folds \(holding)")
        }
        for label in 0...1 {
            #expect(folds.allSatisfy { fold in fold.contains { labels[$0] == label } }, "label \(label) in every fold")
        }
        #expect(Evaluation.groupedFolds(labels: labels, groups: groups, k: k, seed: 3) == folds, "deterministic")
    }

    @Test func aSingleTakeIsCutIntoContiguousTimeBlocks() {
        let labels = Array(repeating: 0, count: 10) + Array(repeating: 1, count: 10)
        let groups = Array(repeating: Int64(1), count: 10) + Array(repeating: Int64(2), count: 10)
        let folds = Evaluation.groupedFolds(labels: labels, groups: groups, k: 5, seed: 1)
        for fold in folds {
            for label in 0...1 {
                let members = fold.filter { labels[$0] == label }
                #expect(members.count == 2, "two of each label per fold: \(fold)")
                #expect(members.last! - members.first! == 1, "a block is two neighbouring frames: \(members)")
            }
        }
    }

    /// The leak, shown with a 1-nearest-neighbour "model": a random split finds each test frame's twin in training.
    @Test func nearestNeighbourShowsTheLeakOfARandomSplit() {
        let data = videoLikeSamples(takes: 20, framesPerTake: 10, dimension: 8, labels: 2, seed: 42)
        let names = ["left", "right"]
        func nearestNeighbour(train: [Int], test: [Int]) -> [Int] {
            test.map { sample in
                let nearest = train.min { first, second in
                    distance(data.features, sample, first, dimension: 8)
                        < distance(data.features, sample, second, dimension: 8)
                }!
                return data.labels[nearest]
            }
        }
        let random = Evaluation.crossValidate(labels: data.labels, labelNames: names, k: 5, seed: 9) {
            nearestNeighbour(train: $0, test: $1)
        }
        let grouped = Evaluation.crossValidate(
            labels: data.labels, labelNames: names,
            folds: Evaluation.groupedFolds(labels: data.labels, groups: data.groups, k: 5, seed: 9)
        ) { nearestNeighbour(train: $0, test: $1) }
        #expect(random.matrix.accuracy > 0.95, "random split: \(random.matrix.accuracy)")
        #expect(grouped.matrix.accuracy < 0.75, "grouped split: \(grouped.matrix.accuracy)")
        #expect(grouped.matrix.total == 200 && random.matrix.total == 200)
    }

    /// The same leak with the real head trainer (DenseHead, Adam): memorising takes passes a random split only.
    @Test func theDenseHeadScoresLowerOnTheGroupedSplit() throws {
        let dimension = 16
        let data = videoLikeSamples(takes: 24, framesPerTake: 8, dimension: dimension, labels: 2, seed: 7)
        let options = TrainingOptions(learningRate: 0.01, batchSizeFraction: 0.2, epochs: 60, hiddenUnits: 64, seed: 3)
        func trainAndPredict(train: [Int], test: [Int]) throws -> [Int] {
            let head = try GestureTrainer.fit(
                shape: [dimension], classes: 2, features: data.features, dimension: dimension, labels: data.labels,
                rows: train, options: options, shouldContinue: { true }, progress: { _ in })
            return try GestureTrainer.predictLabels(head, features: data.features, dimension: dimension, rows: test)
        }
        let random = try Evaluation.crossValidate(labels: data.labels, labelNames: ["a", "b"], k: 4, seed: 5) {
            try trainAndPredict(train: $0, test: $1)
        }
        let grouped = try Evaluation.crossValidate(
            labels: data.labels, labelNames: ["a", "b"],
            folds: Evaluation.groupedFolds(labels: data.labels, groups: data.groups, k: 4, seed: 5)
        ) { try trainAndPredict(train: $0, test: $1) }
        print("dense head: random split \(random.matrix.accuracy), grouped split \(grouped.matrix.accuracy)")
        #expect(random.matrix.accuracy > 0.9, "the random split rewards memorising takes: \(random.matrix.accuracy)")
        #expect(grouped.matrix.accuracy < random.matrix.accuracy - 0.25, "grouped \(grouped.matrix.accuracy)")
    }

    @Test func perLabelFiguresOfAHandComputedMatrix() {
        // true up: 8 up, 2 left; true left: 1 up, 4 left, 1 idle; true idle: 5 idle; nothing is predicted "down".
        var matrix = ConfusionMatrix(labels: ["up", "left", "idle", "down"])
        for (truth, predicted, count) in [(0, 0, 8), (0, 1, 2), (1, 0, 1), (1, 1, 4), (1, 2, 1), (2, 2, 5)] {
            for _ in 0..<count { matrix.add(trueLabel: truth, predicted: predicted) }
        }
        let figures = matrix.labelFigures
        #expect(figures[0].tested == 10 && figures[0].correct == 8 && figures[0].recall == 0.8)
        #expect(figures[0].precision == 8.0 / 9, "8 of the 9 predicted up were up")
        #expect(figures[0].mostConfusedWith == "left" && figures[0].mostConfusedCount == 2)
        #expect(figures[1].tested == 6 && figures[1].correct == 4 && figures[1].precision == 4.0 / 6)
        #expect(figures[1].mostConfusedWith == "up" && figures[1].mostConfusedCount == 1, "ties go to the first label")
        #expect(figures[2].recall == 1 && figures[2].precision == 5.0 / 6 && figures[2].mostConfusedWith == nil)
        #expect(figures[3].tested == 0 && figures[3].recall == nil && figures[3].precision == nil)
        #expect(figures[0].rendered == "up: 8/10 right (80.0%), precision 88.9%, 2 taken for left")
        #expect(abs(matrix.accuracy - 17.0 / 21) < 1e-12)
    }

    @Test func warningsNameTheMissingIdleClassAndThinLabels() {
        let warnings = Evaluation.warnings(
            labels: ["up", "down", "left"], samplesPerLabel: ["up": 40, "down": 9, "left": 30],
            takesPerLabel: ["up": 3, "down": 1, "left": 1])
        #expect(
            warnings == [
                .noIdleClass, .fewSamples(label: "down", count: 9, minimum: 10), .singleTake(label: "left"),
            ])
        #expect(warnings[0].description.contains("no idle class"))
        #expect(warnings[1].description == "down has only 9 samples (fewer than 10): record more")
        #expect(
            Evaluation.warnings(
                labels: ["up", "idle"], samplesPerLabel: ["up": 10, "idle": 12], takesPerLabel: ["up": 2, "idle": 2]
            ).isEmpty)
    }

    @Test func meanCrossEntropyOfKnownProbabilities() {
        let loss = Evaluation.meanCrossEntropy(probabilities: [0.5, 0.5, 0.9, 0.1], labels: [0, 1], classes: 2)
        #expect(abs(Double(loss) - (-log(0.5) - log(0.1)) / 2) < 1e-6)
    }

    // MARK: Takes in the store

    @Test func oneAddCallIsOneTakeAndRecordingsAskForTheirOwn() throws {
        let store = try SampleStore.inMemory()
        try store.add(contentsOf: [sample("up"), sample("up", shade: 1)])
        try store.add(contentsOf: [sample("down"), sample("down", shade: 1)])
        let recorded = try store.newTake()
        var live = sample("left")
        live.take = recorded
        try store.add(live)
        try store.add(live)
        let takes = try store.samples().map(\.take)
        #expect(takes[0] == takes[1] && takes[2] == takes[3] && takes[4] == takes[5])
        #expect(Set(takes).count == 3, "three takes: \(takes)")
    }

    @Test func theMigrationGroupsOldSamplesByTimeBlocks() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("samples.sqlite")
        let queue = try DatabaseQueue(path: path)
        try SampleStore.migrator.migrate(queue, upTo: "v1")
        // up at 0.0 0.5 0.9 | up at 3.0 (a gap) | down at 3.2 (another label) | up at 3.4 (label changed back).
        for (label, seconds) in [("up", 0.0), ("up", 0.5), ("up", 0.9), ("up", 3.0), ("down", 3.2), ("up", 3.4)] {
            try queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO samples (label, captured_at, source, mirror, normalization, side,
                                             thumbnail_side, thumbnail, frame) VALUES (?, ?, 'cam', 0, 'n', 16, 1, ?, ?)
                        """, arguments: [label, 1_700_000_000 + seconds, Data([1, 2, 3]), Data(count: 16 * 16 * 3)])
            }
        }
        try queue.close()
        let store = try SampleStore(path: path)
        #expect(try store.samples().map(\.take) == [1, 1, 1, 2, 3, 4])
        try store.add(sample("idle"))
        #expect(try store.samples().last?.take == 5, "new takes continue after the migrated ones")
    }

    // MARK: The trainer

    @Test func trainingReportsHeldOutFiguresLossesAndWarnings() throws {
        let (trainer, _, _) = try makeTinyTrainer(labels: ["up", "down"], perLabel: 8)
        var heldOutEpochs: [(Float, Float)] = []
        let trained = try trainer.train(
            TrainingRequest(
                labels: try LabelSet(["up", "down"]), options: TrainingOptions(epochs: 5, seed: 1), heldOutFolds: 4)
        ) { event in
            if case .heldOutEpoch(_, _, let trainingLoss, let heldOutLoss) = event {
                heldOutEpochs.append((trainingLoss, heldOutLoss))
            }
        }
        let heldOut = try #require(trained.heldOut)
        #expect(heldOut.heldOutSamples == 4 && heldOut.trainingSamples == 12, "one of 4 folds of 16 samples")
        #expect(heldOut.matrix.total == 4 && heldOut.labelFigures.map(\.tested) == [2, 2])
        #expect(heldOut.trainingLosses.count == 5 && heldOut.heldOutLosses.count == 5 && heldOutEpochs.count == 5)
        let finite = heldOut.heldOutLosses.allSatisfy { $0.isFinite }
        #expect(finite)
        #expect(trained.record.heldOutAccuracy == heldOut.accuracy)
        #expect(
            trained.warnings == [
                .noIdleClass, .fewSamples(label: "up", count: 8, minimum: 10),
                .fewSamples(label: "down", count: 8, minimum: 10),
            ])
    }

    @Test func evaluationUsesTheGroupedSplitAndRendersPerLabelFigures() throws {
        let (trainer, _, _) = try makeTinyTrainer(labels: ["up", "idle"], perLabel: 12)
        let report = try trainer.evaluate(
            TrainingRequest(labels: try LabelSet(["up", "idle"]), options: TrainingOptions(epochs: 5, seed: 1)),
            folds: 3)
        let text = report.rendered()
        print(text)
        #expect(report.takesPerLabel == ["up": 1, "idle": 1])
        #expect(text.contains("split: folds keep each recording take whole (2 takes)"))
        #expect(text.contains("cut into contiguous time blocks"))
        #expect(text.contains("  up: ") && text.contains("  idle: "))
        #expect(report.warnings == [.singleTake(label: "up"), .singleTake(label: "idle")])
        #expect(text.contains("warning: up was recorded in one take"))
    }
}

private func distance(_ features: [Float], _ first: Int, _ second: Int, dimension: Int) -> Float {
    var sum: Float = 0
    for index in 0..<dimension {
        let difference = features[first * dimension + index] - features[second * dimension + index]
        sum += difference * difference
    }
    return sum
}
