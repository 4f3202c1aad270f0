// `gesturepad model …`: inspect model directories.
import ArgumentParser
import Foundation
import Importers
import NeuralNet

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Import, list and inspect models.",
        subcommands: [Import.self, List.self, Inspect.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a TF GraphDef (.pb, MobileNet v1), a PyTorch checkpoint (.pth, MobileNetV2) or a TF.js "
                + "Layers directory into $XDG_DATA_HOME/gesturepad/models/NAME.")

        @Argument(help: "The model file or TF.js Layers directory.")
        var file: String

        @Option(name: .long, help: "Name to install as (default: from the architecture, e.g. mobilenet_v1_1.0_224).")
        var name: String?

        @Option(name: .long, help: "JSON file with the list of class names of the classifier output.")
        var classNames: String?

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Input normalisation: "
                    + "\(InputNormalization.allCases.map(\.rawValue).joined(separator: ", ")) "
                    + "(default: the architecture's; x/127.5-1 for TF.js Layers models)."))
        var normalization: String?

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Default embedding layer (default: the architecture's cut, or for TF.js "
                    + "Layers models the last residual Add / activation with a map of at least 7x7 before the global pooling)."
            ))
        var embeddingLayer: String?

        @Option(
            name: .long,
            help: "Where the file came from (e.g. the PyPI wheel and its sha256), recorded in the metadata.")
        var origin: String?

        @Flag(name: .long, help: "Import even when a model of that name from the same file (sha256) is installed.")
        var force = false

        func run() throws {
            let store = ModelStore.userDefault()
            let names = try classNames.map(readClassNames) ?? []
            let chosenNormalization = try normalization.map { text in
                guard let value = InputNormalization(rawValue: text) else {
                    throw ValidationError(
                        "--normalization \(text): expected one of "
                            + InputNormalization.allCases.map(\.rawValue).joined(separator: ", "))
                }
                return value
            }
            if !force, let name, ModelImporter.isCurrent(name, in: store, source: file) {
                print("\(name) is already installed from this file by this gesturepad; --force to import again")
                return
            }
            let (model, metadata) = try ModelImporter.install(
                from: file, into: store, name: name, classNames: names, normalization: chosenNormalization,
                embeddingLayer: embeddingLayer, origin: origin)
            print(
                "installed \(metadata.name) (\(metadata.architecture) α=\(metadata.widthMultiplier), \(model.layers.count) layers, "
                    + "\(model.parameterCount) parameters, embedding \(metadata.embeddingLayer)) in \(store.directory(of: metadata.name))"
            )
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List installed models.")

        func run() throws {
            let store = ModelStore.userDefault()
            let entries = store.list()
            if entries.isEmpty {
                print("no models in \(store.root); run `make models` or `gesturepad model import FILE`")
                return
            }
            for (name, result) in entries {
                switch result {
                case .success(let m):
                    print(
                        "\(name)  \(m.architecture) α=\(m.widthMultiplier) \(m.inputSize)px  input \(m.normalization.rawValue)  "
                            + "embedding \(m.embeddingLayer)  classes \(m.classNames.count)  from \(m.source.file)")
                case .failure(let error):
                    print("\(name)  unreadable: \(error)")
                }
            }
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List layers, output shapes, parameters and multiply-accumulates of a model.")

        @Argument(help: "Model: an installed name (see `gesturepad model list`), a directory or a model.json path.")
        var model: String

        @Option(name: .long, help: "Input size HxWxC when the model's is not fixed (e.g. 224x224x3).")
        var inputShape: String?

        @Flag(name: .long, help: "Also show the embedder's planned steps (fused layers).")
        var plan = false

        func run() throws {
            let (model, _) = try loadModel(self.model)
            let shape = try inputShape.map(parseShape)
            print(try ModelSummary(model, inputShape: shape).render())
            if plan {
                let embedder = try Embedder(model: model, outputLayer: model.outputNames[0], inputShape: shape)
                print("\nplanned steps (\(embedder.steps.count)), arena \(embedder.arenaCount * 4 / 1024) KiB:")
                for step in embedder.steps {
                    print("  \(step.kind) \(step.outputShape) ← \(step.layerNames.joined(separator: " + "))")
                }
            }
        }
    }
}

/// Reads a JSON array of strings.
func readClassNames(_ path: String) throws -> [String] {
    let bytes = try FileIO.read(path)
    guard let names = try? JSONDecoder().decode([String].self, from: Data(bytes)) else {
        throw CommandFailure("\(path) should be a JSON array of class names")
    }
    return names
}

/// "224x224x3" → [224, 224, 3].
func parseShape(_ text: String) throws -> [Int] {
    let parts = text.split(separator: "x").map { Int($0) }
    guard parts.count == 3, parts.allSatisfy({ ($0 ?? 0) > 0 }) else {
        throw ValidationError("input shape \(text) should look like 224x224x3")
    }
    return parts.map { $0! }
}
