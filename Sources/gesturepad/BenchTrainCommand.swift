// `gesturepad bench train`: head training time on synthetic separable features (HeadBenchmark).
// Wiring only: parse options, run, print text or JSON.
import ArgumentParser
import Foundation
import NeuralNet

extension Bench {
    struct TrainBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train",
            abstract: "Head training time (Flatten → Dense relu → Dense softmax, Adam) on synthetic separable features."
        )

        @Option(name: .long, help: "Samples per class.") var samplesPerClass: Int = 50
        @Option(name: .long, help: "Classes.") var classes: Int = 4
        @Option(name: .long, help: "Feature shape H,W,C (MobileNet v1 0.25's cut: 7,7,256; v1 1.0: 7,7,1024).")
        var featureShape: String = "7,7,256"
        @Option(name: .long, help: "Epochs.") var epochs: Int = 20
        @Option(name: .long, help: "Hidden units.") var hiddenUnits: Int = 100
        @Option(name: .long, help: "Batch size as a fraction of the samples.") var batchSizeFraction: Double = 0.4
        @Option(name: .long, help: "Learning rate.") var learningRate: Double = 0.0001
        @Option(
            name: .long,
            help: "Non-zero fraction of the features (real post-ReLU cuts: 0.16–0.32; 1: every feature non-zero).")
        var density: Double = 0.25
        @Option(
            name: .long,
            help: "First-layer kernels: auto (compressed features when at most 35 % are non-zero), dense, sparse.")
        var firstLayer: String = "auto"
        @Option(name: .long, help: "Timed runs (after one warm-up).") var runs: Int = 3
        @Option(name: .long, help: "OpenBLAS threads.") var threads: Int = 1
        @Flag(name: .long, help: "Print one JSON object instead of text.") var json = false

        func validate() throws {
            _ = try parseFeatureShape(featureShape)
            guard samplesPerClass >= 1, classes >= 2, runs >= 1, threads >= 1 else {
                throw ValidationError("--samples-per-class, --runs, --threads ≥ 1 and --classes ≥ 2")
            }
            guard density > 0 && density <= 1 else { throw ValidationError("--density must be in (0, 1]") }
            guard FirstLayerFeatures(rawValue: firstLayer) != nil else {
                throw ValidationError("--first-layer must be auto, dense or sparse")
            }
        }

        func run() throws {
            let options = TrainingOptions(
                learningRate: learningRate, batchSizeFraction: batchSizeFraction, epochs: epochs,
                hiddenUnits: hiddenUnits, seed: 1)
            let report = try HeadBenchmark.run(
                classes: classes, samplesPerClass: samplesPerClass, featureShape: try parseFeatureShape(featureShape),
                options: options, density: density, firstLayer: FirstLayerFeatures(rawValue: firstLayer) ?? .auto,
                runs: runs, threads: threads, targetCPU: BuildInfo.targetCPU)
            if json {
                try printJSON(report, compact: true)
                return
            }
            print(
                "head \(report.featureShape) → \(report.hiddenUnits) → \(report.classes), \(report.classes)×\(report.samplesPerClass) "
                    + "samples, \(report.epochs) epochs, batch \(report.batchSize), \(report.threads) thread(s), "
                    + "target CPU \(report.targetCPU), feature density \(report.density), first layer \(report.firstLayer)"
            )
            print(
                "  train: median \(formatted(report.medianMilliseconds, decimals: 1)) ms, "
                    + "min \(formatted(report.minimumMilliseconds, decimals: 1)) ms over \(report.runMilliseconds.count) runs; "
                    + "final loss \(formatted(Double(report.finalLoss), decimals: 4)), "
                    + "accuracy \(formatted(Double(report.finalAccuracy) * 100, decimals: 1)) %")
        }
    }
}

extension Bench {
    struct HeadBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "head",
            abstract:
                "Head predict time (one frame's features → probabilities) along every first-layer path, warm and "
                + "after the caches were flushed, with each path's largest probability difference from float32.")

        @Option(name: .long, help: "Feature shape H,W,C (MobileNet v1 0.25's cut: 7,7,256; v1 1.0: 7,7,1024).")
        var featureShape: String = "7,7,256"
        @Option(name: .long, help: "Hidden units.") var hiddenUnits: Int = 100
        @Option(name: .long, help: "Classes.") var classes: Int = 4
        @Option(name: .long, help: "Non-zero fraction of the features (real post-ReLU cuts: 0.16–0.32).")
        var density: Double = 0.25
        @Option(name: .long, help: "Timed runs per path (warm and cold each).") var runs: Int = 50
        @Flag(name: .long, help: "Print one JSON object instead of text.") var json = false

        func validate() throws {
            _ = try parseFeatureShape(featureShape)
            guard runs >= 1, classes >= 2, hiddenUnits >= 1 else {
                throw ValidationError("--runs, --hidden-units ≥ 1 and --classes ≥ 2")
            }
            guard density > 0 && density <= 1 else { throw ValidationError("--density must be in (0, 1]") }
        }

        func run() throws {
            let shape = try parseFeatureShape(featureShape)
            let report = try HeadBenchmark.predict(
                featureShape: shape, hiddenUnits: hiddenUnits, classes: classes, density: density, runs: runs,
                targetCPU: BuildInfo.targetCPU)
            if json {
                try printJSON(report, compact: true)
                return
            }
            print(
                "head predict \(shape) → \(hiddenUnits) → \(classes), feature density \(density), \(runs) runs per path, "
                    + "target CPU \(report.targetCPU)"
            )
            for timing in report.timings {
                print(
                    "  \(timing.path): warm \(formatted(timing.warmMedianMilliseconds, decimals: 3)) ms, "
                        + "cold \(formatted(timing.coldMedianMilliseconds, decimals: 3)) ms, "
                        + "\(formatted(Double(timing.weightBytes) / 1e6, decimals: 1)) MB, "
                        + "max |Δp| \(timing.maximumProbabilityDifference)")
            }
        }
    }
}

/// `--feature-shape` "H,W,C" as sizes (each ≥ 1); a usage error otherwise.
private func parseFeatureShape(_ text: String) throws -> [Int] {
    let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) >= 1 }) else {
        throw ValidationError("--feature-shape must be sizes ≥ 1 separated by commas, e.g. 7,7,256")
    }
    return parts.map { $0! }
}
