// Evaluation of stored samples: k-fold cross-validation, the confusion matrix (rows = true label,
// columns = predicted) with per-label figures, warnings about the data set, and samples whose nearest
// neighbours in embedding space carry another label (likely mislabelled or ambiguous recordings).
// Training itself is passed in, so these cores test without a network; `gesturepad eval` and the
// trainer wire the real head trainer in.
// Honest folds: samples are video frames, and neighbouring frames are near-duplicates — a random split
// puts one in training and its twin in the test and measures memory, not generalisation. `groupedFolds`
// keeps each recording take (one `record` run, one `samples add` call) in one fold; a label with fewer
// takes than folds is cut into contiguous time blocks, so only block edges touch. (scikit-learn's
// StratifiedGroupKFold is the same idea.) `stratifiedFolds` — the random split — stays for comparison.
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

/// One label's held-out figures, read off a confusion matrix.
public struct LabelFigures: Codable, Equatable, Sendable {
    public var label: String
    /// Held-out samples of this label.
    public var tested: Int
    /// Of those, predicted as this label.
    public var correct: Int
    /// correct / tested (nil when none were tested).
    public var recall: Double?
    /// Of the samples predicted as this label, the fraction that were it (nil when none were predicted).
    public var precision: Double?
    /// The other label this one was most often mistaken for, with the count (nil when never mistaken).
    public var mostConfusedWith: String?
    public var mostConfusedCount: Int

    /// "up: 18/20 right (90.0%), precision 94.7%, 2 taken for left".
    public var rendered: String {
        var text = "\(label): \(correct)/\(tested) right"
        if let recall { text += String(format: " (%.1f%%)", recall * 100) }
        if let precision { text += String(format: ", precision %.1f%%", precision * 100) }
        if let mostConfusedWith { text += ", \(mostConfusedCount) taken for \(mostConfusedWith)" }
        return text
    }
}

extension ConfusionMatrix {
    /// Per label: tested, correct, recall, precision and the label it was most often taken for.
    public var labelFigures: [LabelFigures] {
        labels.indices.map { row in
            let tested = counts[row].reduce(0, +)
            let predictedAs = labels.indices.reduce(0) { $0 + counts[$1][row] }
            let confusion = labels.indices.filter { $0 != row && counts[row][$0] > 0 }
                .max { (counts[row][$0], -$0) < (counts[row][$1], -$1) }
            return LabelFigures(
                label: labels[row], tested: tested, correct: counts[row][row],
                recall: tested == 0 ? nil : Double(counts[row][row]) / Double(tested),
                precision: predictedAs == 0 ? nil : Double(counts[row][row]) / Double(predictedAs),
                mostConfusedWith: confusion.map { labels[$0] },
                mostConfusedCount: confusion.map { counts[row][$0] } ?? 0)
        }
    }
}

/// Something about the samples that makes a head or its accuracy figure less trustworthy.
public enum DatasetWarning: Codable, Equatable, Sendable, CustomStringConvertible {
    /// No `idle` class: the head must call every frame a gesture, so a person doing nothing presses keys.
    case noIdleClass
    /// A label with fewer samples than `minimum`.
    case fewSamples(label: String, count: Int, minimum: Int)
    /// A label recorded in one take only: its held-out figure compares time blocks of that one take.
    case singleTake(label: String)

    /// The fewest samples per label before `fewSamples` is raised.
    public static let minimumSamples = 10

    public var description: String {
        switch self {
        case .noIdleClass:
            "no idle class: every frame becomes a gesture, even a person doing nothing; record some idle samples"
        case .fewSamples(let label, let count, let minimum):
            "\(label) has only \(count) sample\(count == 1 ? "" : "s") (fewer than \(minimum)): record more"
        case .singleTake(let label):
            "\(label) was recorded in one take: its held-out figure is optimistic; record it again another time"
        }
    }

    /// A short form for the window's small panel.
    public var short: String {
        switch self {
        case .noIdleClass: "NO IDLE CLASS"
        case .fewSamples(let label, let count, _): "\(label.uppercased()): ONLY \(count)"
        case .singleTake(let label): "\(label.uppercased()): ONE TAKE"
        }
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

    /// Splits sample indices into `k` folds keeping each group (recording take) whole, and every label spread
    /// over the folds: per label, its takes — cut into about `k` contiguous time blocks of near-equal size when the
    /// label has fewer takes than `k` — go, largest first in a seeded order, to the fold
    /// holding the fewest samples of that label. Indices must be in time order within a take (store order).
    /// - Parameters:
    ///   - labels: [N] label index of each sample.
    ///   - groups: [N] take of each sample; samples of one take and label stay together (apart from block cuts).
    public static func groupedFolds(labels: [Int], groups: [Int64], k: Int, seed: UInt64) -> [[Int]] {
        precondition(k >= 2, "k-fold needs k ≥ 2")
        precondition(groups.count == labels.count, "one group per sample")
        var random = SplitMix64(seed: seed)
        var folds = Array(repeating: [Int](), count: k)
        for label in Set(labels).sorted() {
            // The label's takes in order of first appearance, each its members in index (time) order.
            var order: [Int64] = []
            var members: [Int64: [Int]] = [:]
            for index in labels.indices where labels[index] == label {
                if members[groups[index]] == nil { order.append(groups[index]) }
                members[groups[index], default: []].append(index)
            }
            var pieces = order.map { members[$0]! }
            // Too few takes for k folds: cut each take into contiguous time blocks of near-equal size, about k in all
            // (a take gets blocks in proportion to its size, at least one, at most one per sample).
            if pieces.count < k {
                let total = pieces.reduce(0) { $0 + $1.count }
                pieces = pieces.flatMap { piece -> [[Int]] in
                    let share = (Double(k) * Double(piece.count) / Double(total)).rounded(.up)
                    let blocks = min(piece.count, max(1, Int(share)))
                    return (0..<blocks).map { block in
                        Array(piece[block * piece.count / blocks..<(block + 1) * piece.count / blocks])
                    }
                }
            }
            for index in stride(from: pieces.count - 1, to: 0, by: -1) {
                pieces.swapAt(index, Int(random.next() % UInt64(index + 1)))
            }
            // Stable by size, largest first: the big pieces place first, small ones even out the counts.
            let placing = pieces.enumerated().sorted {
                $0.element.count != $1.element.count ? $0.element.count > $1.element.count : $0.offset < $1.offset
            }
            var labelCounts = [Int](repeating: 0, count: k)
            for (_, piece) in placing {
                let fold = (0..<k).min {
                    (labelCounts[$0], folds[$0].count, $0) < (labelCounts[$1], folds[$1].count, $1)
                }!
                folds[fold] += piece
                labelCounts[fold] += piece.count
            }
        }
        return folds.map { $0.sorted() }
    }

    /// k-fold cross-validation over the random stratified split (`stratifiedFolds`); see the `folds:` overload.
    public static func crossValidate<E: Error>(
        labels: [Int], labelNames: [String], k: Int, seed: UInt64,
        trainAndPredict: (_ train: [Int], _ test: [Int]) throws(E) -> [Int]
    ) throws(E) -> (matrix: ConfusionMatrix, foldAccuracies: [Double]) {
        try crossValidate(
            labels: labels, labelNames: labelNames, folds: stratifiedFolds(labels: labels, k: k, seed: seed),
            trainAndPredict: trainAndPredict)
    }

    /// k-fold cross-validation over given `folds`: for each non-empty fold, `trainAndPredict(trainIndices,
    /// testIndices)` returns the predicted label of each test index (in order). Returns the pooled confusion matrix
    /// and per-fold accuracies.
    public static func crossValidate<E: Error>(
        labels: [Int], labelNames: [String], folds: [[Int]],
        trainAndPredict: (_ train: [Int], _ test: [Int]) throws(E) -> [Int]
    ) throws(E) -> (matrix: ConfusionMatrix, foldAccuracies: [Double]) {
        var matrix = ConfusionMatrix(labels: labelNames)
        var foldAccuracies: [Double] = []
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

    /// The warnings a training set deserves: no idle class among `labels`, a label with fewer than
    /// `DatasetWarning.minimumSamples` samples, a label recorded in a single take. In label order.
    public static func warnings(labels: [String], samplesPerLabel: [String: Int], takesPerLabel: [String: Int])
        -> [DatasetWarning]
    {
        var warnings: [DatasetWarning] = labels.contains(LabelSet.idle) ? [] : [.noIdleClass]
        for label in labels {
            let count = samplesPerLabel[label] ?? 0
            if count < DatasetWarning.minimumSamples {
                warnings.append(.fewSamples(label: label, count: count, minimum: DatasetWarning.minimumSamples))
            } else if takesPerLabel[label] ?? 0 == 1 {
                warnings.append(.singleTake(label: label))
            }
        }
        return warnings
    }

    /// Mean cross-entropy −log p(true label) of [N, K] `probabilities` (clamped at 1e-7, as Keras does).
    public static func meanCrossEntropy(probabilities: [Float], labels: [Int], classes: Int) -> Float {
        precondition(probabilities.count == labels.count * classes, "probabilities must be [N, K]")
        guard !labels.isEmpty else { return 0 }
        var sum: Double = 0
        for (row, label) in labels.enumerated() {
            sum -= log(Double(max(probabilities[row * classes + label], 1e-7)))
        }
        return Float(sum / Double(labels.count))
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
