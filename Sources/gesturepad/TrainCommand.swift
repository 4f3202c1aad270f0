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
        let unconfigured = try workspace.samples.counts().filter { !settings.labels.names.contains($0.key) }
        if !unconfigured.isEmpty {
            print(
                "not trained (not a configured label): "
                    + unconfigured.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                    + " — add them to the config's [labels] order (or --labels) to train them, or relabel them")
        }
    }
}

struct Head: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stored head versions; export to and import from TF.js.",
        subcommands: [List.self, Use.self, Rollback.self, Export.self, Import.self, Predict.self],
        defaultSubcommand: List.self)

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
                print("\(head.version == current ? "*" : " ") " + Self.describe(head))
            }
        }

        /// `v2  up,down,idle  6 samples (up 2, down 2, idle 2)  training accuracy 100.0%, 5-fold 83.3%  embedder  when`.
        static func describe(_ head: HeadMetadata) -> String {
            var parts = ["v\(head.version)", "\(head.labels)"]
            if let training = head.training {
                let counts = head.labels.names.map { "\($0) \(training.samplesPerLabel[$0] ?? 0)" }
                parts.append(
                    "\(training.samplesPerLabel.values.reduce(0, +)) samples (\(counts.joined(separator: ", ")))")
                parts.append(
                    String(format: "training accuracy %.1f%%", training.trainingAccuracy * 100)
                        + (training.crossValidatedAccuracy.map { String(format: ", k-fold %.1f%%", $0 * 100) } ?? ""))
                parts.append(head.embedder.cacheKey)
                parts.append("trained \(training.trainedAt)")
            } else if let imported = head.imported {
                parts.append(head.embedder.cacheKey)
                parts.append("imported \(imported.importedAt) from \(imported.path)")
            } else {
                parts.append(head.embedder.cacheKey)
            }
            return parts.joined(separator: "  ")
        }
    }

    struct Use: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Make a stored head version current (see `gesturepad head list`); a running daemon picks it up on "
                + "`gesturepad reload`.")
        @Argument(help: "The version, e.g. v3 or 3.") var version: String
        @OptionGroup var gestures: GestureOptions

        func validate() throws {
            guard Self.number(version) != nil else { throw ValidationError("give a head version like v3 or 3") }
        }

        static func number(_ text: String) -> Int? {
            Int(text.hasPrefix("v") ? String(text.dropFirst()) : text).flatMap { $0 >= 1 ? $0 : nil }
        }

        func run() throws {
            let store = try gestures.resolve().headStore()
            let previous = try store.currentVersion()
            let chosen = Self.number(version)!
            try store.makeCurrent(chosen)
            print("current head: " + (previous.map { "v\($0) → " } ?? "") + "v\(chosen)")
        }
    }

    struct Rollback: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the version before the current one current again.")
        @OptionGroup var gestures: GestureOptions
        func run() throws {
            let store = try gestures.resolve().headStore()
            let previous = try store.currentVersion()
            let now = try store.rollback()
            print("current head is now v\(now)" + (previous.map { " (was v\($0))" } ?? ""))
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
            let workspace = settings.workspaceConfiguration()
            let extractor = try FeatureExtractor.load(modelName: workspace.modelName, layer: workspace.layer)
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
