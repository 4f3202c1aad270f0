// FeatureExtractor: sample frames (S×S×3 uint8) → normalised model input → embedding at the cut
// layer, with the model's own normalisation (ModelMetadata). Also names the exact feature space
// (`EmbedderIdentity`): heads and cached embeddings are only valid for the identity they were made
// with. One extractor serves one thread at a time (the embedder's arena is shared); the trainer
// uses its own. Nothing is allocated per call on the `embed(sample:into:)` path.
import SystemSupport
import Foundation
import NeuralNet

/// Which features a head was trained on: model, weights, cut layer and input normalisation.
public struct EmbedderIdentity: Codable, Equatable, Sendable, CustomStringConvertible {
    /// Installed model name (e.g. `mobilenet_v1_1.0_224`).
    public var modelName: String
    /// SHA-256 of the file the model was imported from.
    public var weightsSHA256: String
    /// Layer whose activation is the embedding.
    public var layer: String
    /// Input normalisation (raw value of `InputNormalization`).
    public var normalization: String
    /// Embedding shape [H, W, C].
    public var featureShape: [Int]

    public init(modelName: String, weightsSHA256: String, layer: String, normalization: String, featureShape: [Int]) {
        self.modelName = modelName
        self.weightsSHA256 = weightsSHA256
        self.layer = layer
        self.normalization = normalization
        self.featureShape = featureShape
    }

    /// A compact string key for caches: `name@sha12/layer/normalisation`.
    public var cacheKey: String { "\(modelName)@\(weightsSHA256.prefix(12))/\(layer)/\(normalization)" }

    public var description: String { "\(modelName) cut at \(layer) \(featureShape)" }
}

/// Embeds sample frames with a planned MobileNet.
public final class FeatureExtractor: @unchecked Sendable {
    /// The features this extractor produces.
    public let identity: EmbedderIdentity
    /// The planned network.
    public let embedder: Embedder
    /// Sample frame side S.
    public let side: Int
    private let affine: [(scale: Float, offset: Float)]
    /// [S, S, 3] normalised input.
    private let input: UnsafeMutablePointer<Float>
    private let lock = NSLock()

    /// Number of floats in one embedding.
    public var featureCount: Int { embedder.outputCount }

    /// Wraps a planned embedder whose input is [S, S, 3].
    public init(embedder: Embedder, identity: EmbedderIdentity, normalization: InputNormalization) throws(GesturesError)
    {
        guard embedder.inputShape.count == 3, embedder.inputShape[2] == 3,
            embedder.inputShape[0] == embedder.inputShape[1]
        else {
            throw .embedderUnsuitable(
                model: identity.modelName, reason: "input shape \(embedder.inputShape) is not [S, S, 3]")
        }
        self.embedder = embedder
        self.identity = identity
        self.side = embedder.inputShape[0]
        self.affine = normalization.affine
        input = .allocate(capacity: embedder.inputCount)
    }

    deinit { input.deallocate() }

    /// Loads the installed model `modelName` from `store`, cut at `layer` (default: the model's recorded embedding layer).
    public static func load(
        modelName: String, layer: String? = nil, store: ModelStore = .userDefault(),
        threads: Int = 1
    ) throws(GesturesError) -> FeatureExtractor {
        let model: Model
        let metadata: ModelMetadata
        do { (model, metadata) = try store.load(modelName) } catch { throw .model(error) }
        let cut = layer ?? metadata.embeddingLayer
        let embedder: Embedder
        do {
            embedder = try Embedder(
                model: model, outputLayer: cut, inputShape: [metadata.inputSize, metadata.inputSize, 3],
                threads: threads)
        } catch { throw .model(error) }
        let identity = EmbedderIdentity(
            modelName: metadata.name, weightsSHA256: metadata.source.sha256, layer: cut,
            normalization: metadata.normalization.rawValue, featureShape: embedder.outputShape)
        return try FeatureExtractor(embedder: embedder, identity: identity, normalization: metadata.normalization)
    }

    /// A second extractor with the same model (its own arena), e.g. for a training thread.
    public func duplicate() throws(GesturesError) -> FeatureExtractor {
        let twin: Embedder
        do {
            twin = try Embedder(
                model: embedder.model, outputLayer: embedder.outputLayer, inputShape: embedder.inputShape,
                threads: embedder.threads, gemmBackend: embedder.gemmBackend)
        } catch { throw .model(error) }
        return try FeatureExtractor(
            embedder: twin, identity: identity,
            normalization: InputNormalization(rawValue: identity.normalization) ?? .symmetric)
    }

    /// Normalises `sample` ([S, S, 3] uint8) and embeds it into `output` (`featureCount` floats).
    /// `stepNanoseconds` receives (normalise, embed) durations when given.
    public func embed(
        sample: UnsafePointer<UInt8>, into output: UnsafeMutablePointer<Float>,
        stageNanoseconds: UnsafeMutablePointer<UInt64>? = nil
    ) {
        lock.lock()
        defer { lock.unlock() }
        let start = stageNanoseconds == nil ? 0 : SystemFrameClock.nanoseconds()
        let pixels = side * side
        let (r, g, b) = (affine[0], affine[1], affine[2])
        for pixel in 0..<pixels {
            input[pixel * 3] = Float(sample[pixel * 3]) * r.scale + r.offset
            input[pixel * 3 + 1] = Float(sample[pixel * 3 + 1]) * g.scale + g.offset
            input[pixel * 3 + 2] = Float(sample[pixel * 3 + 2]) * b.scale + b.offset
        }
        let normalised = stageNanoseconds == nil ? 0 : SystemFrameClock.nanoseconds()
        embedder.embed(input, into: output)
        if let stageNanoseconds {
            stageNanoseconds[0] = normalised - start
            stageNanoseconds[1] = SystemFrameClock.nanoseconds() - normalised
        }
    }

    /// Embeds one sample frame given as bytes (allocates the result).
    public func embed(sample: [UInt8]) throws(GesturesError) -> [Float] {
        guard sample.count == side * side * 3 else {
            throw .sampleSizeMismatch(expected: side * side * 3, found: sample.count)
        }
        var output = [Float](repeating: 0, count: featureCount)
        sample.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { embed(sample: source.baseAddress!, into: $0.baseAddress!) }
        }
        return output
    }
}
