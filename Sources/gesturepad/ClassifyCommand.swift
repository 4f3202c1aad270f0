// `gesturepad classify IMAGE`: ImageNet top-5 of a photo with an installed model — the sanity check
// that real weights, preprocessing and the engine fit together.
import ArgumentParser
import Capture
import NeuralNet

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the ImageNet top-5 of an image (PNG, JPEG, …).")

    @Argument(help: "Image file.")
    var image: String

    @Option(
        name: .long, help: "Model: an installed name (see `gesturepad model list`) or an installed model's directory.")
    var model: String = "mobilenet_v1_1.0_224"

    @Option(name: .long, help: "How many classes to print.")
    var top: Int = 5

    func run() throws {
        let (loaded, found) = try loadModel(model)
        guard let metadata = found else {
            throw CommandFailure(
                "\(model) has no gesturepad.json (no class names): import it with `gesturepad model import \(model) --name NAME --class-names FILE`"
            )
        }
        guard let classifier = metadata.classifierLayer else {
            throw CommandFailure("model \(model) has no classifier layer; import it with --class-names")
        }
        let size = metadata.inputSize
        let preprocessor = Preprocessor(
            outputSize: size,
            normalization: PixelNormalization(channels: metadata.normalization.affine))
        let input = Tensor(shape: [size, size, 3], scalars: preprocessor.run(try RGBImage.read(image)))
        let probabilities = try Embedder(model: loaded, outputLayer: classifier, inputShape: [size, size, 3]).embed(
            input)
        for (index, probability) in topK(probabilities.scalars, top) {
            let name = index < metadata.classNames.count ? metadata.classNames[index] : "class \(index)"
            print("\(formattedPercent(probability))  \(index)  \(name)")
        }
    }
}

/// 0.5291 → " 52.91%".
func formattedPercent(_ value: Float) -> String {
    let hundredths = Int((Double(value) * 10_000).rounded())
    let text = "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)%"
    return String(repeating: " ", count: max(0, 7 - text.count)) + text
}
