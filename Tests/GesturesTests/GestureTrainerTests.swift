// GestureTrainer with a small random MobileNet (α 0.25 at 32×32, features [1, 1, 256]) so the
// moving parts test fast: background training with progress, refusing a second run, cancellation
// leaving the current head alone, the embedding cache, mirror handling, and the recognizer swapping
// heads while it recognises frames on another thread.
import Capture
import Foundation
import Gestures
import NeuralNet
import Synchronization
import TestSupport
import Testing

/// A sample store with `perLabel` coloured noise frames per label of `labels`, and a trainer on a random tiny MobileNet.
func makeTinyTrainer(labels: [String], perLabel: Int, mirror: Bool = false) throws -> (
    GestureTrainer, SampleStore, HeadStore
) {
    let model = MobileNetV1.features(alpha: 0.25, inputSize: 32, weight: MobileNetV1.randomWeights(seed: 5))
    let embedder = try Embedder(model: model, inputShape: [32, 32, 3])
    let identity = EmbedderIdentity(
        modelName: "tiny-v1-0.25", weightsSHA256: "random5", layer: embedder.outputLayer,
        normalization: InputNormalization.symmetric.rawValue, featureShape: embedder.outputShape)
    let extractor = try FeatureExtractor(embedder: embedder, identity: identity, normalization: .symmetric)
    let directory = temporaryDirectory("trainer")
    let store = try SampleStore(path: directory + "/samples.sqlite")
    var random = SplitMix64(seed: 11)
    for (index, label) in labels.enumerated() {
        // Each label is a distinct base colour plus noise: easy to separate even with random weights.
        let base: [Float] = [Float(index * 60 % 256), Float(255 - index * 50), Float(index * 97 % 256)]
        _ = try store.add(
            contentsOf: (0..<perLabel).map { _ in
                let frame = (0..<32 * 32 * 3).map {
                    UInt8(min(max(base[$0 % 3] + random.nextFloat(in: -20...20), 0), 255))
                }
                return NewSample(
                    label: label, frame: frame, side: 32, source: "test", mirror: false, normalization: "x/127.5-1")
            })
    }
    let heads = HeadStore(root: directory + "/heads")
    return (GestureTrainer(samples: store, heads: heads, extractor: extractor, mirror: mirror), store, heads)
}

@Suite struct GestureTrainerTests {
    @Test func backgroundTrainingReportsProgressAndSavesTheHead() async throws {
        let (trainer, _, heads) = try makeTinyTrainer(labels: ["up", "down", "idle"], perLabel: 6)
        let epochs = Mutex<[Int]>([])
        let result: Result<TrainedHead, GesturesError> = await withCheckedContinuation { continuation in
            do {
                try trainer.start(TrainingRequest(labels: .standard, options: TrainingOptions(epochs: 5, seed: 3))) {
                    event in
                    if case .epoch(let report) = event { epochs.withLock { $0.append(report.epoch) } }
                } completion: {
                    continuation.resume(returning: $0)
                }
            } catch { continuation.resume(returning: .failure(error as! GesturesError)) }
        }
        let trained = try result.get()
        #expect(epochs.withLock { $0 } == [1, 2, 3, 4, 5])
        #expect(
            trained.metadata.labels.names == ["up", "down", "idle"], "labels without samples are left out, order kept")
        #expect(trained.skippedLabels == ["left", "right"])
        #expect(trained.embeddingsComputed == 18)
        #expect(try heads.currentVersion() == trained.metadata.version)
        #expect(!trainer.isRunning)
        // A second run reuses the cached embeddings.
        let again = try trainer.train(TrainingRequest(labels: .standard, options: TrainingOptions(epochs: 1)))
        #expect(again.embeddingsComputed == 0 && again.metadata.version == trained.metadata.version + 1)
        // And the stored head loads back for the same embedder.
        #expect(try trainer.loadCurrentHead()?.version == again.metadata.version)
    }

    @Test func aSecondRunIsRefusedAndCancelLeavesTheCurrentHead() async throws {
        let (trainer, _, heads) = try makeTinyTrainer(labels: ["left", "right"], perLabel: 8)
        let first = try trainer.train(TrainingRequest(options: TrainingOptions(epochs: 1)))
        let gate = DispatchSemaphore(value: 0)
        let result: Result<TrainedHead, GesturesError> = await withCheckedContinuation { continuation in
            do {
                try trainer.start(TrainingRequest(options: TrainingOptions(epochs: 10_000))) { event in
                    if case .epoch(let report) = event, report.epoch == 2 { gate.signal() }
                } completion: {
                    continuation.resume(returning: $0)
                }
                gate.wait()
                #expect(throws: GesturesError.trainingInProgress) {
                    try trainer.start(TrainingRequest()) { _ in }
                }
                trainer.cancel()
            } catch { continuation.resume(returning: .failure(error as! GesturesError)) }
        }
        #expect(throws: GesturesError.trainingCancelled) { try result.get() }
        #expect(try heads.currentVersion() == first.metadata.version, "a cancelled run saves nothing")
    }

    @Test func tooFewLabelsIsAClearError() throws {
        let (trainer, _, _) = try makeTinyTrainer(labels: ["up"], perLabel: 3)
        #expect {
            try trainer.train(TrainingRequest())
        } throws: { error in
            guard case GesturesError.notEnoughSamples = error else { return false }
            return "\(error)".contains("up 3")
        }
    }

    @Test func mirroredTrainerFlipsUnmirroredSamplesAndCachesSeparately() throws {
        let (plain, store, _) = try makeTinyTrainer(labels: ["left", "right"], perLabel: 3, mirror: false)
        let mirrored = GestureTrainer(samples: store, heads: plain.heads, extractor: plain.extractor, mirror: true)
        #expect(plain.cacheKey != mirrored.cacheKey)
        _ = try plain.train(TrainingRequest(options: TrainingOptions(epochs: 1)))
        let flipped = try mirrored.train(TrainingRequest(options: TrainingOptions(epochs: 1)))
        #expect(flipped.embeddingsComputed == 6, "the mirrored features are not the plain ones")
        let id = try store.samples()[0].id
        let frame = try store.frame(id: id)
        let plainEmbedding = try store.cachedEmbeddings(modelID: plain.cacheKey)[id]!
        let mirroredEmbedding = try store.cachedEmbeddings(modelID: mirrored.cacheKey)[id]!
        #expect(try plain.extractor.embed(sample: frame.pixels) == plainEmbedding)
        #expect(try plain.extractor.embed(sample: frame.mirroredHorizontally().pixels) == mirroredEmbedding)
    }

    @Test func recognizerSwapsHeadsWhileRecognising() throws {
        let (trainer, _, _) = try makeTinyTrainer(labels: ["up", "down"], perLabel: 4)
        let first = try trainer.train(TrainingRequest(options: TrainingOptions(epochs: 1)))
        let second = try trainer.train(TrainingRequest(options: TrainingOptions(epochs: 2)))
        let recognizer = Recognizer(extractor: try trainer.extractor.duplicate(), mirror: false)
        let card = TestPattern.image(width: 48, height: 40)
        let frameBytes = card.pixels
        let versions = Mutex<Set<Int>>([])
        let stop = Atomic<Bool>(false)
        let worker = Thread {
            frameBytes.withUnsafeBytes { bytes in
                let frame = FrameView(
                    width: 48, height: 40, format: .rgb24, bytesPerLine: 144, bytes: bytes, sequence: 0,
                    timestampNanoseconds: 0)
                while !stop.load(ordering: .relaxed) {
                    if let recognition = try? recognizer.recognize(frame: frame) {
                        versions.withLock { _ = $0.insert(recognition.headVersion) }
                        if recognition.labels != nil { #expect(recognition.probabilities.count == 2) }
                    }
                }
            }
        }
        worker.start()
        for round in 0..<40 {
            try recognizer.swapHead(round % 2 == 0 ? first.active : second.active)
            Thread.sleep(forTimeInterval: 0.002)
        }
        try recognizer.swapHead(nil)
        Thread.sleep(forTimeInterval: 0.01)
        stop.store(true, ordering: .relaxed)
        while !worker.isFinished { Thread.sleep(forTimeInterval: 0.001) }
        #expect(versions.withLock { $0 }.isSuperset(of: [first.metadata.version, second.metadata.version]))
        // A head for other features is refused.
        let otherHead = ActiveHead(
            labels: try LabelSet(["a", "b"]), version: 99,
            predictor: DenseHeadPredictor(
                try DenseHead(architecture: HeadArchitecture(inputShape: [3], hiddenUnits: 2, classes: 2), seed: 1)))
        #expect(throws: GesturesError.self) { try recognizer.swapHead(otherHead) }
    }
}
