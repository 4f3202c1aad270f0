// `gesturepad embed`: one .npy image tensor in, the cut layer's activation out as .npy.
import ArgumentParser
import NeuralNet

struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the embedder on a float32 .npy image tensor [1,H,W,3] or [H,W,3] and save the activation.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Input .npy (float32, already normalised).")
    var input: String

    @Option(name: .long, help: "Output .npy path (float32, shape [1, …] of the cut layer).")
    var output: String

    func run() throws {
        let tensor = try NPY.read(input)
        let imageShape = tensor.shape.count == 4 && tensor.shape[0] == 1 ? Array(tensor.shape.dropFirst()) : tensor.shape
        let embedder = try Embedder(directory: modelOptions.model, outputLayer: modelOptions.layer,
                                    inputShape: imageShape, threads: modelOptions.threads)
        let activation = try embedder.embed(tensor)
        try NPY.write(activation.reshaped(to: [1] + activation.shape), to: output)
        print("\(embedder.outputLayer) \(activation.shape) → \(output)")
    }
}
