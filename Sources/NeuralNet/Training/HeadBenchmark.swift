// Head training benchmark (`gesturepad bench train`): trains a fresh head on synthetic, separable,
// ReLU-like features of an embedder's cut shape and times whole `DenseHead.trained` runs. The issue's
// bar: 4 classes × 50 samples of [7,7,256], 20 epochs, ≤ 1 s on one core.
import Foundation

/// Timing of head training on synthetic data; Codable for `--json`.
public struct HeadBenchmarkReport: Codable, Sendable {
    public var featureShape: [Int]
    public var classes: Int
    public var samplesPerClass: Int
    public var epochs: Int
    public var hiddenUnits: Int
    public var batchSize: Int
    public var threads: Int
    public var targetCPU: String
    public var blas: String
    /// Wall time of each timed run (whole `trained` call: initialisation, validation, all epochs).
    public var runMilliseconds: [Double]
    public var medianMilliseconds: Double
    public var minimumMilliseconds: Double
    public var finalLoss: Float
    public var finalAccuracy: Float
}

/// Runs head-training benchmarks.
public enum HeadBenchmark {
    /// `perClass` samples per class of shape `shape`: non-negative noise U(0, 1) plus 1 on the
    /// features of the class's own contiguous block (1/classes of the features), so a linear
    /// classifier separates them — a stand-in for post-ReLU MobileNet features.
    public static func separableFeatures(classes: Int, perClass: Int, shape: [Int], seed: UInt64)
        -> (features: [Float], labels: [Int])
    {
        let d = shape.reduce(1, *)
        var generator = SplitMix64(seed: seed)
        var features = [Float](repeating: 0, count: classes * perClass * d)
        var labels: [Int] = []
        for sample in 0..<(classes * perClass) {
            let label = sample % classes
            for index in 0..<d {
                features[sample * d + index] = generator.nextFloat(in: 0...1) + (index * classes / d == label ? 1 : 0)
            }
            labels.append(label)
        }
        return (features, labels)
    }

    /// Trains `runs` fresh heads (after one untimed warm-up) and reports their wall times.
    public static func run(
        classes: Int, samplesPerClass: Int, featureShape: [Int], options: TrainingOptions,
        runs: Int, threads: Int, targetCPU: String
    ) throws(NeuralNetError) -> HeadBenchmarkReport {
        GEMM.setThreadCount(threads)
        let (features, labels) = separableFeatures(
            classes: classes, perClass: samplesPerClass, shape: featureShape,
            seed: options.seed &+ 1)
        var times: [Double] = []
        var last: TrainingSummary?
        for run in 0...max(1, runs) {
            let (_, summary) = try DenseHead.trained(
                inputShape: featureShape, classes: classes, features: features,
                labels: labels, options: options)
            if run > 0 { times.append(summary.milliseconds) }
            last = summary
        }
        let sorted = times.sorted()
        return HeadBenchmarkReport(
            featureShape: featureShape, classes: classes, samplesPerClass: samplesPerClass, epochs: options.epochs,
            hiddenUnits: options.hiddenUnits, batchSize: last?.batchSize ?? 0, threads: threads, targetCPU: targetCPU,
            blas: GEMM.backendDescription, runMilliseconds: times, medianMilliseconds: sorted[sorted.count / 2],
            minimumMilliseconds: sorted[0], finalLoss: last?.finalLoss ?? .nan,
            finalAccuracy: last?.finalAccuracy ?? .nan)
    }
}
