// HeadStore and the trainer's moving parts without a real MobileNet: versions, the atomic current
// pointer, rollback, pruning, refusing a head for other features, and the recognizer's head swap.
import Foundation
import Gestures
import NeuralNet
import TestSupport
import Testing

@Suite struct HeadStoreTests {
    static let identity = EmbedderIdentity(
        modelName: "tiny", weightsSHA256: "abc123", layer: "conv_pw_13_relu",
        normalization: "x/127.5-1", featureShape: [2, 2, 3])
    static let record = HeadTrainingRecord(
        learningRate: 0.0001, batchSizeFraction: 0.4, epochs: 20, hiddenUnits: 5, seed: 1,
        samplesPerLabel: ["up": 3, "down": 3], finalLoss: 0.5, trainingAccuracy: 1,
        milliseconds: 12)

    static func head(seed: UInt64) throws -> DenseHead {
        try DenseHead(architecture: HeadArchitecture(inputShape: [2, 2, 3], hiddenUnits: 5, classes: 2), seed: seed)
    }

    static func metadata() throws -> HeadMetadata {
        HeadMetadata(labels: try LabelSet(["up", "down"]), embedder: identity, mirror: true, training: record)
    }

    @Test func savesVersionsMovesCurrentAndRollsBack() throws {
        let store = HeadStore(root: temporaryDirectory("heads"))
        #expect(try store.currentVersion() == nil)
        #expect(throws: GesturesError.noHead(store: store.root)) { try store.load() }
        let first = try Self.head(seed: 1)
        let second = try Self.head(seed: 2)
        #expect(try store.save(first.model(), metadata: Self.metadata()) == 1)
        #expect(try store.save(second.model(), metadata: Self.metadata()) == 2)
        #expect(try store.currentVersion() == 2)
        let (model, metadata) = try store.load()
        #expect(metadata.version == 2 && metadata.labels.names == ["up", "down"] && metadata.embedder == Self.identity)
        let input: [Float] = (0..<12).map { Float($0) / 12 }
        #expect(
            try DenseHead(model: model).predict(input) == second.predict(input), "the saved weights come back exactly")
        #expect(try store.rollback() == 1)
        #expect(try store.currentVersion() == 1)
        #expect(try DenseHead(model: store.load().model).predict(input) == first.predict(input))
        #expect(throws: GesturesError.self) { try store.rollback() }
        // The head directory is a TF.js Layers model: model.json + shard + head.json.
        let files = try FileManager.default.contentsOfDirectory(atPath: store.directory(of: 1)).sorted()
        #expect(
            files.contains("model.json") && files.contains("head.json") && files.contains { $0.hasSuffix(".bin") },
            "\(files)")
    }

    @Test func prunesOldVersionsButKeepsCurrentAndPredecessor() throws {
        let store = HeadStore(root: temporaryDirectory("prune"), keep: 3)
        let model = try Self.head(seed: 1).model()
        for _ in 1...3 { try store.save(model, metadata: Self.metadata()) }
        try store.makeCurrent(1)
        for _ in 4...5 { _ = try store.save(model, metadata: Self.metadata()) }
        // Saving makes the new version current; versions beyond 3 go, oldest first.
        #expect(store.versions() == [3, 4, 5])
        #expect(try store.currentVersion() == 5)
    }

    @Test func aDamagedCurrentPointerIsNamed() throws {
        let store = HeadStore(root: temporaryDirectory("damaged"))
        try store.save(Self.head(seed: 1).model(), metadata: Self.metadata())
        try "garbage".write(toFile: store.root + "/current", atomically: true, encoding: .utf8)
        #expect(throws: GesturesError.self) { try store.currentVersion() }
        // A pointer to a version that no longer exists counts as no head.
        try "7\n".write(toFile: store.root + "/current", atomically: true, encoding: .utf8)
        #expect(try store.currentVersion() == nil)
    }

    @Test func aHeadForOtherFeaturesIsRefused() throws {
        var other = Self.identity
        other.layer = "conv_pw_12_relu"
        #expect(throws: GesturesError.self) { try Self.metadata().checkFits(other) }
        try Self.metadata().checkFits(Self.identity)
    }
}

@Suite struct DenseHeadPredictorTests {
    /// The bar for the inference plan: within 1e-4 of the float32 trainer head for float32 and the default
    /// int16 rows (float16 storage: 3e-4, see DenseRow.swift); the real shapes ([7,7,256], [7,7,1024]) with ReLU6-like features, half of them 0.
    @Test(
        "the inference plan (packed first layer) matches DenseHead.predict within 1e-4",
        arguments: [(48, 5, 2), (7 * 7 * 16, 100, 5), (33, 17, 3), (7 * 7 * 256, 100, 4), (7 * 7 * 1024, 100, 4)])
    func matchesTheTrainerHead(inputs: Int, units: Int, classes: Int) throws {
        let head = try DenseHead(
            architecture: HeadArchitecture(inputShape: [inputs], hiddenUnits: units, classes: classes), seed: 9)
        for precision in DenseRowPrecision.allCases {
            let predictor = DenseHeadPredictor(head, precision: precision)
            var random = SplitMix64(seed: 4)
            for _ in 0..<3 {
                let features = (0..<inputs).map { _ in
                    random.nextFloat(in: 0...1) < 0.5 ? 0 : random.nextFloat(in: 0...6)
                }
                let expected = try head.predict(features)
                var actual = [Float](repeating: 0, count: classes)
                features.withUnsafeBufferPointer { input in
                    actual.withUnsafeMutableBufferPointer {
                        predictor.predict(features: input.baseAddress!, into: $0.baseAddress!)
                    }
                }
                let worst = zip(actual, expected).map { abs($0 - $1) }.max()!
                #expect(
                    worst <= (precision == .float16 ? 3e-4 : 1e-4),
                    "\(precision): max |Δ| \(worst): \(actual) vs \(expected)")
                #expect(abs(actual.reduce(0, +) - 1) < 1e-5)
            }
        }
    }
}
