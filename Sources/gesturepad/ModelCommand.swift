// `gesturepad model …`: inspect model directories.
import ArgumentParser
import NeuralNet

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Inspect models.", subcommands: [Inspect.self])

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List layers, output shapes, parameters and multiply-accumulates of a model.")

        @Argument(help: "Model directory (model.json + shards) or a model.json path.")
        var directory: String

        @Option(name: .long, help: "Input size HxWxC when the model's is not fixed (e.g. 224x224x3).")
        var inputShape: String?

        @Flag(name: .long, help: "Also show the embedder's planned steps (fused layers).")
        var plan = false

        func run() throws {
            let model = try TFJSLayersFormat.read(directory)
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

/// "224x224x3" → [224, 224, 3].
func parseShape(_ text: String) throws -> [Int] {
    let parts = text.split(separator: "x").map { Int($0) }
    guard parts.count == 3, parts.allSatisfy({ ($0 ?? 0) > 0 }) else {
        throw ValidationError("input shape \(text) should look like 224x224x3")
    }
    return parts.map { $0! }
}
