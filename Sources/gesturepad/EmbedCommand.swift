// `gesturepad embed`: an .npy image tensor, or frames from a source (recording, image, camera),
// through the embedder; the cut layer's activations are saved as .npy.
import ArgumentParser
import Capture
import Foundation
import NeuralNet

struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Run the embedder on a float32 .npy tensor [1,H,W,3] / [H,W,3], or on frames from --source, and save the activations."
    )

    @Option(name: .long, help: "Model: an installed name (see `gesturepad model list`) or a TF.js Layers directory.")
    var model: String

    @Option(name: .long, help: "Layer whose activation is the embedding (default: the model's embedding layer).")
    var layer: String?

    @Option(name: .long, help: "Threads for the kernels and OpenBLAS.")
    var threads: Int = 1

    @Option(name: .long, help: "Input .npy (float32, already normalised).")
    var input: String?

    @Option(
        name: .long,
        help: "Frames instead of --input: a .y4m recording, an image file, or a camera (/dev/video0, by-id name).")
    var source: String?

    @Option(name: .long, help: "With --source: how many frames to embed.")
    var frames: Int = 1

    @Flag(name: .long, help: "With --source: mirror frames horizontally (as a selfie view).")
    var mirror = false

    @Option(name: .long, help: "Output .npy path (float32, shape [N, …] of the cut layer).")
    var output: String

    func validate() throws {
        guard (input == nil) != (source == nil) else {
            throw ValidationError("give exactly one of --input X.npy or --source S")
        }
        guard threads >= 1, frames >= 1 else { throw ValidationError("--threads and --frames must be at least 1") }
    }

    func run() throws {
        let (loaded, metadata) = try loadModel(model)
        let cut = layer ?? metadata?.embeddingLayer
        if let input {
            let tensor = try NPY.read(input)
            let imageShape = tensor.imageShape
            let embedder = try Embedder(model: loaded, outputLayer: cut, inputShape: imageShape, threads: threads)
            let activation = try embedder.embed(tensor)
            try NPY.write(activation.reshaped(to: [1] + activation.shape), to: output)
            print("\(embedder.outputLayer) \(activation.shape) → \(output)")
            return
        }
        let (size, normalization) = inputSettings(metadata)
        let embedder = try Embedder(model: loaded, outputLayer: cut, inputShape: [size, size, 3], threads: threads)
        var embedding = [Float](repeating: 0, count: embedder.outputCount)
        var all: [Float] = []
        let (count, description) = try forEachPreprocessedFrame(
            source: source!, size: size, normalization: normalization, mirror: mirror, frames: frames
        ) { image in
            embedding.withUnsafeMutableBufferPointer { embedder.embed(image, into: $0.baseAddress!) }
            all += embedding
        }
        guard count > 0 else { throw CommandFailure("\(source!) delivered no frames") }
        try NPY.write(Tensor(shape: [count] + embedder.outputShape, scalars: all), to: output)
        print(
            "\(count) frame(s) from \(description) → \(embedder.outputLayer) \(embedder.outputShape) → \(output)"
        )
    }
}

/// Opens `source` (a .y4m recording, an image file or a camera), preprocesses up to `frames` frames to the model's
/// input [size, size, 3] as the live loop does, and hands each to `body` (the pointer is valid during the call).
/// Returns how many frames were delivered (fewer at the end of a finite source) and the source's description.
func forEachPreprocessedFrame(
    source: String, size: Int, normalization: InputNormalization, mirror: Bool, frames: Int,
    _ body: (UnsafePointer<Float>) throws -> Void
) throws -> (count: Int, description: String) {
    let preprocessor = Preprocessor(
        outputSize: size, mirror: mirror, normalization: PixelNormalization(channels: normalization.affine))
    let frameSource = try FrameSources.open(source)
    defer { frameSource.close() }
    var image = [Float](repeating: 0, count: size * size * 3)
    var count = 0
    while count < frames {
        var failure: CaptureError?
        let delivered: Void? = try frameSource.withNextFrame(timeoutMilliseconds: 2000) { frame in
            image.withUnsafeMutableBufferPointer { buffer in
                do throws(CaptureError) { try preprocessor.run(frame: frame, into: buffer.baseAddress!) } catch {
                    failure = error
                }
            }
        }
        if let failure { throw failure }
        guard delivered != nil else { break }  // end of a finite source
        try image.withUnsafeBufferPointer { try body($0.baseAddress!) }
        count += 1
    }
    return (count, frameSource.sourceDescription)
}

/// An installed model by name, or a TF.js Layers directory or model.json path, with its directory's
/// gesturepad.json when there is one (one that is there but unreadable is an error, not a silent fall-back to
/// `inputSettings`' defaults). An argument that looks like a path (a "/" or a ".json" ending) and does not exist
/// is reported as a missing path, not as an unknown installed name.
func loadModel(_ nameOrDirectory: String) throws -> (Model, ModelMetadata?) {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: nameOrDirectory, isDirectory: &isDirectory) {
        let model = try TFJSLayersFormat.read(nameOrDirectory)
        let directory =
            isDirectory.boolValue ? nameOrDirectory : (nameOrDirectory as NSString).deletingLastPathComponent
        let metadataPath = (directory as NSString).appendingPathComponent(ModelMetadata.fileName)
        guard FileManager.default.fileExists(atPath: metadataPath) else { return (model, nil) }
        return (model, try ModelMetadata.read(directory: directory))
    }
    if nameOrDirectory.contains("/") || nameOrDirectory.hasSuffix(".json") {
        throw CommandFailure(
            "\(nameOrDirectory): no such file or directory (a model is an installed name, see `gesturepad model list`, "
                + "or a TF.js Layers directory)")
    }
    let (model, metadata) = try ModelStore.userDefault().load(nameOrDirectory)
    return (model, metadata)
}

/// The input side and normalisation a model expects: its gesturepad.json's, and for a bare TF.js directory
/// without one MobileNet v1's (224, x/127.5 − 1), the convention of the TF.js demo's models.
func inputSettings(_ metadata: ModelMetadata?) -> (size: Int, normalization: InputNormalization) {
    (metadata?.inputSize ?? 224, metadata?.normalization ?? .symmetric)
}
