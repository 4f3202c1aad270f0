// Evaluation cores: stratified folds, cross-validation bookkeeping, confusion matrix arithmetic and
// rendering, and nearest-neighbour disagreement — all with hand-made data.
import Gestures
import Testing

@Suite struct EvaluationTests {
    @Test(arguments: [2, 3, 5, 10])
    func foldsPartitionAndStratify(k: Int) {
        let labels = (0..<50).map { $0 % 5 == 0 ? 1 : 0 } + Array(repeating: 2, count: 7)  // 40 / 10 / 7
        let folds = Evaluation.stratifiedFolds(labels: labels, k: k, seed: 1)
        #expect(folds.count == k)
        #expect(folds.flatMap { $0 }.sorted() == Array(labels.indices), "every sample in exactly one fold")
        for label in 0...2 {
            let perFold = folds.map { fold in fold.filter { labels[$0] == label }.count }
            #expect(perFold.max()! - perFold.min()! <= 1, "label \(label) spread \(perFold)")
        }
        #expect(Evaluation.stratifiedFolds(labels: labels, k: k, seed: 1) == folds, "deterministic for a seed")
    }

    @Test func crossValidationPoolsEveryFold() throws {
        let labels = [0, 0, 0, 1, 1, 1, 2, 2, 2]
        // A "model" that always predicts label 0: accuracy = 1/3, every sample tested once.
        var tested: [Int] = []
        let (matrix, folds) = Evaluation.crossValidate(labels: labels, labelNames: ["a", "b", "c"], k: 3, seed: 4) {
            (train: [Int], test: [Int]) -> [Int] in
            #expect(Set(train).isDisjoint(with: test))
            tested += test
            return test.map { _ in 0 }
        }
        #expect(tested.sorted() == Array(0..<9))
        #expect(matrix.counts == [[3, 0, 0], [3, 0, 0], [3, 0, 0]])
        #expect(abs(matrix.accuracy - 1.0 / 3) < 1e-12)
        #expect(folds.count == 3)
        #expect(matrix.perLabelAccuracy == [1, 0, 0])
    }

    @Test func confusionMatrixRendersCountsAndAccuracy() {
        var matrix = ConfusionMatrix(labels: ["up", "down", "idle"])
        for _ in 0..<9 { matrix.add(trueLabel: 0, predicted: 0) }
        matrix.add(trueLabel: 0, predicted: 2)
        for _ in 0..<5 { matrix.add(trueLabel: 1, predicted: 1) }
        let text = matrix.rendered()
        #expect(text.contains("90.0%"))
        #expect(text.contains("100.0%"))
        #expect(text.contains("overall accuracy 93.33% (15 samples)"))
        #expect(matrix.perLabelAccuracy[2] == nil)
        #expect(text.split(separator: "\n").count == 5)
    }

    @Test func mislabelledSampleIsFlagged() {
        // Two tight clusters on a line; sample 7 sits in cluster A but is labelled B.
        let points: [Float] = [1.00, 1.01, 1.02, 1.03, 5.00, 5.01, 5.02, 1.015]
        let features: [Float] = points.flatMap { point -> [Float] in [point, 1] }
        let labels = [0, 0, 0, 0, 1, 1, 1, 1]
        let flagged = Evaluation.neighbourDisagreements(
            features: features, dimension: 2, labels: labels,
            labelNames: ["a", "b"], neighbours: 3)
        #expect(flagged.map(\.sample) == [7])
        #expect(flagged.first?.neighbourLabels == ["a", "a", "a"])
    }
}
