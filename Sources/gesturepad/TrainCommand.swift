// `gesturepad train`: a new head from the stored samples, saved as the next head version; and
// `gesturepad head list|rollback` for the stored versions.
import ArgumentParser
import Foundation
import Gestures
import NeuralNet

/// Head hyperparameters as options (defaults as the TF.js demo).
struct HeadHyperparameters: ParsableArguments {
    @Option(name: .long, help: "Adam learning rate.") var learningRate: Double = TrainingOptions().learningRate
    @Option(name: .long, help: "Batch size as a fraction of the samples (never rounds below 1).")
    var batchFraction: Double = TrainingOptions().batchSizeFraction
    @Option(name: .long, help: "Epochs.") var epochs: Int = TrainingOptions().epochs
    @Option(name: .long, help: "Hidden units of the first dense layer.") var units: Int = TrainingOptions().hiddenUnits
    @Option(name: .long, help: "Seed for initial weights and shuffling.") var seed: UInt64 = 1

    var options: TrainingOptions {
        TrainingOptions(learningRate: learningRate, batchSizeFraction: batchFraction, epochs: epochs, hiddenUnits: units, seed: seed)
    }
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Train a head on the stored samples and make it the current one.")
    @OptionGroup var gestures: GestureOptions
    @OptionGroup var hyperparameters: HeadHyperparameters
    @Option(name: .long, help: "Also measure k-fold accuracy before saving (e.g. 5).") var folds: Int?
    @Flag(name: .long, help: "JSON output (the saved head's metadata).") var json = false

    func run() throws {
        let workspace = try gestures.openWorkspace()
        let request = TrainingRequest(labels: try gestures.labelSet(), options: hyperparameters.options, crossValidationFolds: folds)
        let trained = try workspace.trainer.train(request) { event in
            guard !json else { return }
            switch event {
            case .embedding(let done, let total) where done == total: print("embeddings: \(total) ready")
            case .embedding: break
            case .epoch(let report):
                print(String(format: "epoch %2d/%d  loss %.5f  accuracy %.1f%%", report.epoch, report.epochs, report.loss,
                             report.accuracy * 100))
            case .fold(let index, let count, let accuracy): print(String(format: "fold %d/%d: %.1f%%", index, count, accuracy * 100))
            }
        }
        if json { return try printJSON(trained.metadata) }
        let record = trained.metadata.training
        print("head v\(trained.metadata.version): \(trained.metadata.labels) on \(trained.metadata.embedder), "
              + String(format: "loss %.5f, training accuracy %.1f%%", record.finalLoss, record.trainingAccuracy * 100)
              + (record.crossValidatedAccuracy.map { String(format: ", %d-fold accuracy %.1f%%", folds ?? 0, $0 * 100) } ?? "")
              + String(format: ", %.0f ms (%d embeddings computed)", record.milliseconds, trained.embeddingsComputed))
        if !trained.skippedLabels.isEmpty { print("left out (no samples): \(trained.skippedLabels.joined(separator: ", "))") }
        print("saved in \(workspace.heads.directory(of: trained.metadata.version))")
    }
}

struct Head: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stored head versions.", subcommands: [List.self, Rollback.self],
                                                    defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List head versions (* = current).")
        @OptionGroup var gestures: GestureOptions
        @Flag(name: .long, help: "JSON output.") var json = false
        func run() throws {
            let directory = gestures.dataDirectory ?? WorkspaceConfiguration.defaultDataDirectory()
            let store = HeadStore(root: (directory as NSString).appendingPathComponent("heads"))
            let current = try store.currentVersion()
            let heads = try store.versions().map { try store.load($0).metadata }
            if json { return try printJSON(heads) }
            if heads.isEmpty { print("no heads yet in \(store.root): run `gesturepad train`") }
            for head in heads {
                print("\(head.version == current ? "*" : " ") v\(head.version)  \(head.labels)  \(head.embedder.cacheKey)  "
                      + "\(head.training.trainedAt)" + (head.training.crossValidatedAccuracy.map { String(format: "  k-fold %.1f%%", $0 * 100) } ?? ""))
            }
        }
    }

    struct Rollback: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make the version before the current one current again.")
        @OptionGroup var gestures: GestureOptions
        func run() throws {
            let directory = gestures.dataDirectory ?? WorkspaceConfiguration.defaultDataDirectory()
            let store = HeadStore(root: (directory as NSString).appendingPathComponent("heads"))
            print("current head is now v\(try store.rollback())")
        }
    }
}
