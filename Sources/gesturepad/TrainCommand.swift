// `gesturepad train`: a new head from the stored samples, saved as the next head version; and
// `gesturepad head list|rollback|export|import|predict` for the stored versions and TF.js interchange.
import ArgumentParser
import Foundation
import Importers
import Gestures
import NeuralNet
import Settings

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a head on the stored samples and make it the current one.")
    @OptionGroup var gestures: GestureOptions
    @OptionGroup var hyperparameters: HeadHyperparameters
    @Option(name: .long, help: "Also measure k-fold accuracy before saving (e.g. 5).") var folds: Int?
    @Flag(name: .long, help: "JSON output (the saved head's metadata).") var json = false

    func run() throws {
        let settings = try gestures.resolve(hyperparameters.overrides)
        let workspace = try settings.openWorkspace()
        let request = TrainingRequest(labels: settings.labels, options: settings.head, crossValidationFolds: folds)
        let trained = try workspace.trainer.train(request) { event in
            guard !json else { return }
            switch event {
            case .embedding(let done, let total) where done == total: print("embeddings: \(total) ready")
            case .embedding: break
            case .epoch(let report):
                print(
                    String(
                        format: "epoch %2d/%d  loss %.5f  accuracy %.1f%%", report.epoch, report.epochs, report.loss,
                        report.accuracy * 100))
            case .fold(let index, let count, let accuracy):
                print(String(format: "fold %d/%d: %.1f%%", index, count, accuracy * 100))
            case .heldOutEpoch: break
            }
        }
        if json { return try printJSON(trained.metadata) }
        let record = trained.record
        print(
            "head v\(trained.metadata.version): \(trained.metadata.labels) on \(trained.metadata.embedder), "
                + String(format: "loss %.5f, training accuracy %.1f%%", record.finalLoss, record.trainingAccuracy * 100)
                + (record.crossValidatedAccuracy.map {
                    String(format: ", %d-fold accuracy %.1f%%", folds ?? 0, $0 * 100)
                } ?? "")
                + String(format: ", %.0f ms (%d embeddings computed)", record.milliseconds, trained.embeddingsComputed))
        if !trained.skippedLabels.isEmpty {
            print("left out (no samples): \(trained.skippedLabels.joined(separator: ", "))")
        }
        print("saved in \(workspace.heads.directory(of: trained.metadata.version))")
    }
}

struct Head: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stored head versions; export to and import from TF.js.",
        subcommands: [List.self, Rollback.self, Export.self, Import.self, Predict.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List head versions (* = current).")
        @OptionGroup var gestures: GestureOptions
        @Flag(name: .long, help: "JSON output.") var json = false
        func run() throws {
            let store = try gestures.resolve().headStore()
            let current = try store.currentVersion()
            let heads = try store.versions().map { try store.load($0).metadata }
            if json { return try printJSON(heads) }
            if heads.isEmpty { print("no heads yet in \(store.root): run `gesturepad train`") }
            for head in heads {
                let origin =
                    head.training.map { training in
                        training.trainedAt
                            + (training.crossValidatedAccuracy.map { String(format: "  k-fold %.1f%%", $0 * 100) } ?? "")
                    } ?? head.imported.map { "imported \($0.importedAt) from \($0.path)" } ?? ""
                print(
                    "\(head.version == current ? "*" : " ") v\(head.version)  \(head.labels)  \(head.embedder.cacheKey)  \(origin)"
                )
            }
        }
    }

    struct Rollback: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the version before the current one current again.")
        @OptionGroup var gestures: GestureOptions
        func run() throws {
            print("current head is now v\(try gestures.resolve().headStore().rollback())")
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Write a head as a TF.js Layers model + labels.json: with --bundle DIR the embedder and head as one "
                + "model a web page runs on camera frames (tf.loadLayersModel); with DIR the head alone.",
            usage: "gesturepad head export --bundle DIR [--version N]\ngesturepad head export DIR [--version N]")
        @Argument(help: "Directory for the head alone (model.json, weights, labels.json).") var directory: String?
        @Option(name: .long, help: "Directory for the bundle: embedder cut + head as one model, plus labels.json.")
        var bundle: String?
        @Option(name: .long, help: "Head version (default: the current one).") var version: Int?
        @OptionGroup var gestures: GestureOptions

        func validate() throws {
            guard (directory == nil) != (bundle == nil) else {
                throw ValidationError("give exactly one of DIR or --bundle DIR")
            }
        }

        func run() throws {
            let store = try gestures.resolve().headStore()
            if let bundle {
                let metadata = try HeadExchange.exportBundle(
                    from: store, version: version, models: ModelStore.userDefault(), to: bundle)
                print("bundle of head v\(metadata.version) (\(metadata.labels)) on \(metadata.embedder) → \(bundle)")
            } else if let directory {
                let metadata = try HeadExchange.exportHead(from: store, version: version, to: directory)
                print(
                    "head v\(metadata.version) (\(metadata.labels), input \(metadata.embedder.featureShape)) → \(directory)"
                )
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a head TF.js trained and saved (model.json + weights .bin from model.save) as the next, "
                + "current head version. Its input must be the --model's cut-layer output.")
        @Argument(help: "Directory holding model.json (or the model.json path).") var directory: String
        @OptionGroup var gestures: GestureOptions

        func run() throws {
            let settings = try gestures.resolve()
            let extractor = try FeatureExtractor.load(modelName: settings.modelName, layer: settings.layer)
            // Labels: --labels, else the head's labels.json (the config's labels may belong to another head).
            let metadata = try HeadExchange.importHead(
                from: directory, labels: gestures.labels == nil ? nil : settings.labels,
                embedder: extractor.identity, mirror: settings.mirror,
                into: settings.headStore())
            print(
                "imported head v\(metadata.version) (\(metadata.labels)) on \(metadata.embedder); it is now the current head"
            )
        }
    }

    struct Predict: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Run a stored head on embeddings: float32 .npy [N, h, w, c] (or [N, D]) → probabilities [N, classes].")
        @Option(name: .long, help: "Embeddings .npy (float32, as `gesturepad embed` writes).") var input: String
        @Option(name: .long, help: "Output .npy of class probabilities (float32 [N, classes]).") var output: String
        @Option(name: .long, help: "Head version (default: the current one).") var version: Int?
        @OptionGroup var gestures: GestureOptions

        func run() throws {
            let (model, metadata) = try gestures.resolve().headStore().load(version)
            let head = try DenseHead(model: model)
            let probabilities = try HeadExchange.predict(head, features: try NPY.read(input), path: input)
            try NPY.write(probabilities, to: output)
            print("head v\(metadata.version) (\(metadata.labels)): \(probabilities.shape) → \(output)")
        }
    }
}
