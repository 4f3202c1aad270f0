// Evaluation of stored samples: stratified k-fold cross-validation (each fold keeps every label's
// share), the confusion matrix (rows = true label, columns = predicted), and samples whose nearest
// neighbours in embedding space carry another label (likely mislabelled or ambiguous recordings).
// Training itself is passed in, so these cores test without a network; `gesturepad eval` wires the
// real head trainer in. Teachable Machine shows per-class accuracy on a 15 % holdout; k-fold uses
// every sample for testing once, which matters with the few dozen samples users record.
// Legend: N samples, D floats per embedding, K folds, L labels.
import Foundation
import NeuralNet

/// Counts of (true label, predicted label) pairs.
public struct ConfusionMatrix: Codable, Equatable, Sendable {
    /// Label names; row and column order.
    public let labels: [String]
    /// counts[true][predicted] — [L, L].
    public private(set) var counts: [[Int]]

    public init(labels: [String]) {
        self.labels = labels
        counts = Array(repeating: Array(repeating: 0, count: labels.count), count: labels.count)
    }

    /// Adds one prediction.
    public mutating func add(trueLabel: Int, predicted: Int) { counts[trueLabel][predicted] += 1 }

    /// Number of samples counted.
    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }
    /// Fraction on the diagonal (0 when empty).
    public var accuracy: Double {
        total == 0 ? 0 : Double(labels.indices.reduce(0) { $0 + counts[$1][$1] }) / Double(total)
    }
    /// Per true label: the fraction predicted correctly (recall); nil for labels without samples.
    public var perLabelAccuracy: [Double?] {
        labels.indices.map { row in
            let rowTotal = counts[row].reduce(0, +)
            return rowTotal == 0 ? nil : Double(counts[row][row]) / Double(rowTotal)
        }
    }

    /// A fixed-width text table with per-label accuracy, for terminals.
    public func rendered() -> String {
        let width = max(7, (labels.map(\.count).max() ?? 0) + 1)
        func pad(_ text: String) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        var lines = [pad("true\\pred") + labels.map(pad).joined() + pad("acc")]
        for (row, label) in labels.enumerated() {
            let accuracy = perLabelAccuracy[row].map { String(format: "%.1f%%", $0 * 100) } ?? "–"
            lines.append(pad(label) + counts[row].map { pad(String($0)) }.joined() + pad(accuracy))
        }
        lines.append(String(format: "overall accuracy %.2f%% (%d samples)", accuracy * 100, total))
        return lines.joined(separator: "\n")
    }
}

/// A sample whose nearest neighbours mostly carry another label.
public struct NeighbourDisagreement: Codable, Equatable, Sendable {
    /// Index into the evaluated samples (callers map it to a sample id).
    public var sample: Int
    public var label: String
    /// Labels of the nearest neighbours, nearest first.
    public var neighbourLabels: [String]
    /// Relative distance to the nearest neighbour.
    public var nearestDistance: Float
}

/// Cross-validation and neighbour checks over embeddings.
public enum Evaluation {
    /// Splits sample indices into `k` folds so every label is spread evenly; seeded shuffle within each label.
    /// Labels with fewer than `k` samples appear in fewer folds.
    public static func stratifiedFolds(labels: [Int], k: Int, seed: UInt64) -> [[Int]] {
        precondition(k >= 2, "k-fold needs k ≥ 2")
        var random = SplitMix64(seed: seed)
        var folds = Array(repeating: [Int](), count: k)
        var next = 0
        for label in Set(labels).sorted() {
            var members = labels.indices.filter { labels[$0] == label }
            for index in stride(from: members.count - 1, to: 0, by: -1) {
                members.swapAt(index, Int(random.next() % UInt64(index + 1)))
            }
            for member in members {
                folds[next % k].append(member)
                next += 1
            }
        }
        return folds.map { $0.sorted() }
    }

    /// k-fold cross-validation: for each fold, `trainAndPredict(trainIndices, testIndices)` returns the
    /// predicted label of each test index (in order). Returns the pooled confusion matrix and per-fold accuracies.
    public static func crossValidate<E: Error>(
        labels: [Int], labelNames: [String], k: Int, seed: UInt64,
        trainAndPredict: (_ train: [Int], _ test: [Int]) throws(E) -> [Int]
    ) throws(E) -> (matrix: ConfusionMatrix, foldAccuracies: [Double]) {
        var matrix = ConfusionMatrix(labels: labelNames)
        var foldAccuracies: [Double] = []
        let folds = stratifiedFolds(labels: labels, k: k, seed: seed)
        for (foldIndex, test) in folds.enumerated() where !test.isEmpty {
            let train = folds.enumerated().filter { $0.offset != foldIndex }.flatMap(\.element).sorted()
            let predicted = try trainAndPredict(train, test)
            precondition(predicted.count == test.count, "one prediction per test sample expected")
            var correct = 0
            for (index, sample) in test.enumerated() {
                matrix.add(trueLabel: labels[sample], predicted: predicted[index])
                if predicted[index] == labels[sample] { correct += 1 }
            }
            foldAccuracies.append(Double(correct) / Double(test.count))
        }
        return (matrix, foldAccuracies)
    }

    /// Samples whose `neighbours` nearest others (relative L2 distance, [N, D] row-major embeddings)
    /// mostly — more than half — carry another label.
    public static func neighbourDisagreements(
        features: [Float], dimension: Int, labels: [Int], labelNames: [String],
        neighbours: Int = 3
    ) -> [NeighbourDisagreement] {
        let count = labels.count
        precondition(features.count == count * dimension, "features must be [N, D]")
        guard count > neighbours else { return [] }
        var norms = [Float](repeating: 0, count: count)
        for sample in 0..<count {
            var sum: Float = 0
            for index in 0..<dimension {
                sum += features[sample * dimension + index] * features[sample * dimension + index]
            }
            norms[sample] = max(sum.squareRoot(), .leastNormalMagnitude)
        }
        var result: [NeighbourDisagreement] = []
        features.withUnsafeBufferPointer { rows in
            for sample in 0..<count {
                var distances: [(Float, Int)] = []
                distances.reserveCapacity(count - 1)
                for other in 0..<count where other != sample {
                    var sum: Float = 0
                    for index in 0..<dimension {
                        let difference = rows[sample * dimension + index] - rows[other * dimension + index]
                        sum += difference * difference
                    }
                    distances.append((sum.squareRoot() / norms[sample], other))
                }
                let nearest = distances.sorted { $0.0 < $1.0 }.prefix(neighbours)
                let disagreeing = nearest.filter { labels[$0.1] != labels[sample] }.count
                if disagreeing * 2 > nearest.count {
                    result.append(
                        NeighbourDisagreement(
                            sample: sample, label: labelNames[labels[sample]],
                            neighbourLabels: nearest.map { labelNames[labels[$0.1]] },
                            nearestDistance: nearest.first?.0 ?? 0))
                }
            }
        }
        return result
    }
}
