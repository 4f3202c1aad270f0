// `gesturepad bench …`: latency figures (not tests). bench/peers.py runs this beside onnxruntime
// and LiteRT in the same session and prints ratios.
import ArgumentParser
import Capture
import Foundation
import NeuralNet

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks.",
        subcommands: [
            EmbedBench.self, LayersBench.self, CaptureBench.self, TrainBench.self, HeadBench.self, PipelineBench.self,
        ])

    struct CaptureBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "capture",
            abstract: "Per-frame convert + crop + resize + normalise time of a synthetic frame in each pixel format.")

        @Option(name: .long, help: "Frame width.") var width: Int = 640
        @Option(name: .long, help: "Frame height.") var height: Int = 480
        @Option(name: .long, help: "Timed frames per format.") var runs: Int = 300
        @Flag(name: .long, help: "Print one JSON object instead of text.") var json = false

        func run() throws {
            let report = try CaptureBenchmark.run(width: width, height: height, runs: runs)
            if json {
                try printJSON(report, compact: true)
                return
            }
            print(
                "\(width)×\(height) → \(report.outputSize)×\(report.outputSize)×3, \(runs) frames, target CPU \(BuildInfo.targetCPU)"
            )
            for entry in report.entries {
                print(
                    "  \(entry.format): median \(formatted(entry.medianMilliseconds, decimals: 3)) ms, p10 \(formatted(entry.p10Milliseconds, decimals: 3)) ms"
                )
            }
        }
    }

    struct LayersBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "layers",
            abstract:
                "Compare candidate embedding layers: how well each separates the same photo moved up/down/left/right "
                + "(vs brightness and small jitter), its size and latency.")

        @Option(
            name: .long, help: "Model: an installed name (see `gesturepad model list`) or a TF.js Layers directory.")
        var model: String

        @Option(name: .long, help: "Photo to move around (the subject stands in for a hand).")
        var image: String

        @Option(name: .long, parsing: .upToNextOption, help: "Layers to compare.")
        var layers: [String]

        @Option(name: .long, help: "Shift as a fraction of the shorter image side.")
        var shift: Double = 0.12

        func run() throws {
            let (loaded, metadata) = try loadModel(model)
            let photo = try RGBImage.read(image)
            let (size, normalization) = inputSettings(metadata)
            let preprocessor = Preprocessor(
                outputSize: size, normalization: PixelNormalization(channels: normalization.affine))
            let side = Double(min(photo.width, photo.height))
            let step = Int(side * shift)
            let jitter = max(1, Int(side * 0.03))
            let directions = [("up", 0, -step), ("down", 0, step), ("left", -step, 0), ("right", step, 0)]
            let variations = [
                (0, 0, Float(1)), (jitter, 0, 0.85), (-jitter, 0, 1.15), (0, jitter, 1), (0, -jitter, 0.85),
                (jitter, jitter, 1.15),
            ]
            let inputs: [[Tensor]] = directions.map { _, dx, dy in
                variations.map { jx, jy, brightness in
                    Tensor(
                        shape: [size, size, 3],
                        scalars: preprocessor.run(photo.shifted(dx: dx + jx, dy: dy + jy).brightened(by: brightness)))
                }
            }
            print("model \(model), \(image), shift ±\(step) px, \(variations.count) variations per direction")
            for layer in layers {
                let embedder = try Embedder(model: loaded, outputLayer: layer, inputShape: [size, size, 3])
                let groups = try inputs.map { group in try group.map { try embedder.embed($0).scalars } }
                let report = EmbedBenchmark.run(
                    embedder, modelName: model, runs: 20, warmup: 3, targetCPU: BuildInfo.targetCPU)
                let separability = Separability(groups: groups)
                print(
                    "\(layer) \(embedder.outputShape) dims \(embedder.outputCount): separability \(formatted(separability.ratio, decimals: 2)) "
                        + "(between \(formatted(separability.between, decimals: 3)), within \(formatted(separability.within, decimals: 3))), "
                        + "embed median \(formatted(report.medianMilliseconds, decimals: 2)) ms")
            }
        }
    }

    struct EmbedBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "embed", abstract: "Embedder latency: median/p10/p90, GFLOP/s and a per-step breakdown.")

        @Option(
            name: .long, help: "Model: an installed name (see `gesturepad model list`) or a TF.js Layers directory.")
        var model: String?

        @Option(
            name: .long,
            help:
                "Instead of --model: a MobileNet v1 with seeded random weights and this width multiplier (e.g. 0.25, 1.0)."
        )
        var randomMobilenet: Double?

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Layer to cut at (default: the model's embedding layer, as the daemon cuts it; without a gesturepad.json "
                    + "conv_pw_13_relu if present, else the model output)."))
        var layer: String?

        @Option(name: .long, help: "Threads for the kernels and OpenBLAS.")
        var threads: Int = 1

        @Option(name: .long, help: "Timed runs.")
        var runs: Int = 100

        @Option(name: .long, help: "Untimed warm-up runs.")
        var warmup: Int = 10

        @Option(name: .long, help: "Rows of the per-step table to print (slowest first).")
        var steps: Int = 12

        @Flag(
            name: .long,
            help: "Sweep 64 MB before every timed run: weights and activations start in memory, not in the caches.")
        var cold = false

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Sleep this many milliseconds before every timed run (both passes: whole calls, then per step), as "
                    + "the live loop idles between frames (33 at 30 fps)."))
        var idleMs: Double = 0

        @Option(
            name: .long,
            help:
                "GEMM backend: openblas, swift (AVX-512 tile) or swift-avx2 (default: swift in AVX-512 builds, swift-avx2 in AVX2 builds, else openblas)."
        )
        var gemm: String?

        @Option(
            name: .long,
            help:
                "Block fusion: auto (bands sized for the cache), off (every layer its own step), rows=N (bands of N output rows) or kib=N (bands within N KiB)."
        )
        var fusion: String = "auto"

        @Option(
            name: .long,
            help:
                "Input tensor .npy (float32 [1,H,W,3] or [H,W,3], already normalised) to time on (default: seeded random values in [-1, 1]). Zero skipping makes the time depend on the input: time a real photo."
        )
        var input: String?

        @Option(
            name: .long,
            help:
                "Instead of --input: time on the first frame of a .y4m recording, an image file or a camera, preprocessed as the live loop does."
        )
        var source: String?

        @Option(
            name: .long,
            help:
                "Zero skipping: on (pointwise convolutions of ReLU outputs skip the zero activations; same results) or off (dense, to measure the difference)."
        )
        var zeroSkip: String = "on"

        @Flag(name: .long, help: "Print one JSON object instead of text.")
        var json = false

        func validate() throws {
            guard input == nil || source == nil else {
                throw ValidationError("give at most one of --input and --source")
            }
            guard source == nil || model != nil else {
                throw ValidationError("--source needs --model (it is preprocessed as that model's metadata says)")
            }
            guard ["on", "off"].contains(zeroSkip) else {
                throw ValidationError("--zero-skip must be on or off, got \(zeroSkip)")
            }
            guard BlockFusion(argument: fusion) != nil else {
                throw ValidationError("--fusion must be auto, off, rows=N or kib=N with N ≥ 1, got \(fusion)")
            }
            guard (model == nil) != (randomMobilenet == nil) else {
                throw ValidationError("give exactly one of --model DIR or --random-mobilenet ALPHA")
            }
            guard runs >= 1, warmup >= 0, threads >= 1 else {
                throw ValidationError("--runs, --threads ≥ 1, --warmup ≥ 0")
            }
            guard idleMs >= 0 && idleMs <= 10_000 else { throw ValidationError("--idle-ms must be in 0...10000") }
            if let gemm, GEMMBackend(rawValue: gemm) == nil {
                throw ValidationError(
                    "--gemm must be one of: \(GEMMBackend.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() throws {
            let name: String
            let loaded: Model
            var cut = layer
            var inputShape: [Int]?
            var metadata: ModelMetadata?
            if let model {
                name = model
                (loaded, metadata) = try loadModel(model)
                cut = cut ?? metadata?.embeddingLayer
                // At the size the daemon feeds it (the model's own input shape when it declares none).
                inputShape = metadata.map { [$0.inputSize, $0.inputSize, 3] }
            } else {
                let alpha = randomMobilenet!
                name = "random MobileNet v1 \(alpha)"
                loaded = MobileNetV1.features(alpha: alpha, weight: MobileNetV1.randomWeights(seed: 1))
            }
            let backend = gemm.flatMap(GEMMBackend.init(rawValue:)) ?? GEMM.defaultBackend
            let embedder = try Embedder(
                model: loaded, outputLayer: cut, inputShape: inputShape, threads: threads, gemmBackend: backend,
                blockFusion: BlockFusion(argument: fusion)!, skipZeros: zeroSkip == "on")
            var image: [Float]?
            var imageDescription: String?
            if let input {
                let tensor = try NPY.read(input)
                let shape = tensor.imageShape
                guard shape == embedder.inputShape else {
                    throw CommandFailure(
                        "\(input): shape \(tensor.shape), expected [1, \(embedder.inputShape.map(String.init).joined(separator: ", "))] (the model's input)"
                    )
                }
                image = tensor.scalars
                imageDescription = input
            } else if let source {
                let (size, normalization) = inputSettings(metadata)
                guard [size, size, 3] == embedder.inputShape else {
                    throw CommandFailure("--source needs --model at its own input size")
                }
                let (count, description) = try forEachPreprocessedFrame(
                    source: source, size: size, normalization: normalization, mirror: false, frames: 1
                ) { frame in image = Array(UnsafeBufferPointer(start: frame, count: size * size * 3)) }
                guard count == 1 else { throw CommandFailure("\(source) delivered no frames") }
                imageDescription = "first frame of \(description)"
            }
            let report = EmbedBenchmark.run(
                embedder, modelName: name, runs: runs, warmup: warmup, cold: cold, idleMilliseconds: idleMs,
                targetCPU: BuildInfo.targetCPU, input: image, inputDescription: imageDescription)
            if json {
                try printJSON(report, compact: true)
            } else {
                print(report.render(stepsToShow: steps))
            }
        }
    }
}
