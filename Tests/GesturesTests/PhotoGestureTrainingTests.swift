// The acceptance test: a head trained on recorded frames of a few distinct real photos
// (scikit-image samples under simulated camera jitter — shifts, zoom, exposure, noise) with the
// real embedder (MobileNet v1 1.0, conv_pw_13_relu) reaches ≥ 95 % k-fold accuracy; then a synthetic
// session recording replays through the exact live pipeline (framer, embedder, head, decision
// filter) and is scored against its truth timeline. The photos stand in for hand poses: no camera
// exists on these machines. Set GESTUREPAD_KEEP_REPLAY=DIR to keep the workspace, clip and truth file.
import Capture
import Foundation
import Gestures
import NeuralNet
import TestSupport
import Testing

@Suite(
    "Head training on real photos", .serialized,
    .enabled(if: TestFiles.available || TestFiles.required, "photos/models not fetched: run `make models`"))
struct PhotoGestureTrainingTests {
    static let labels = LabelSet.standard
    static let samplesPerLabel = 24

    /// A workspace in a temp (or kept) directory with jittered samples of each photo recorded into its store.
    static func makeWorkspace() throws -> (GestureWorkspace, String) {
        let keep = ProcessInfo.processInfo.environment["GESTUREPAD_KEEP_REPLAY"]
        let directory = keep ?? temporaryDirectory("train")
        try? FileManager.default.removeItem(atPath: directory + "/samples.sqlite")
        try? FileManager.default.removeItem(atPath: directory + "/heads")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let workspace = try GestureWorkspace(
            WorkspaceConfiguration(
                modelName: TestFiles.modelName, mirror: true, labels: labels,
                dataDirectory: directory))
        for (offset, label) in labels.names.enumerated() {
            let frames = jitteredSamples(
                of: try TestFiles.photo(label), count: samplesPerLabel, seed: UInt64(100 + offset),
                mirror: true)
            _ = try workspace.samples.add(
                contentsOf: frames.map {
                    NewSample(
                        label: label, frame: $0, source: "simulated:" + TestFiles.photos[label]!, mirror: true,
                        normalization: workspace.identity.normalization)
                })
        }
        return (workspace, directory)
    }

    @Test func kFoldAccuracyTrainingAndReplay() throws {
        let (workspace, directory) = try Self.makeWorkspace()
        defer {
            if ProcessInfo.processInfo.environment["GESTUREPAD_KEEP_REPLAY"] == nil {
                try? FileManager.default.removeItem(atPath: directory)
            }
        }
        let request = TrainingRequest(labels: Self.labels, options: TrainingOptions(seed: 7))

        // 1. k-fold accuracy of the demo's head and hyperparameters on real embeddings.
        let evaluation = try workspace.trainer.evaluate(request, folds: 5)
        print(evaluation.rendered())
        print(String(format: "k-fold evaluation: %.1f ms", evaluation.milliseconds))
        #expect(evaluation.accuracy >= 0.95, "5-fold accuracy \(evaluation.accuracy)")
        #expect(evaluation.matrix.total == Self.labels.count * Self.samplesPerLabel)

        // 2. Train and save the head; the embeddings now come from the cache.
        var epochs: [EpochReport] = []
        let trained = try workspace.trainer.train(request) { if case .epoch(let report) = $0 { epochs.append(report) } }
        print(
            String(
                format: "training: %.1f ms, final loss %.4f, accuracy %.3f, %d embeddings computed",
                trained.record.milliseconds, trained.record.finalLoss,
                trained.record.trainingAccuracy, trained.embeddingsComputed))
        #expect(trained.embeddingsComputed == 0, "evaluation already cached every embedding")
        #expect(epochs.count == 20 && epochs.last!.loss < epochs.first!.loss)
        #expect(try trained.metadata.version == 1 && workspace.heads.currentVersion() == 1)

        // 3. A fresh recognizer loads the saved head and recognises new jittered frames of each photo.
        let recognizer = try workspace.makeRecognizer()
        #expect(recognizer.currentHead?.version == 1)
        for label in Self.labels.names {
            var camera = SimulatedCamera(width: 320, height: 240, seed: 999)
            let image = camera.frame(of: try TestFiles.photo(label))
            let recognition = try image.pixels.withUnsafeBytes { bytes in
                try recognizer.recognize(
                    frame: FrameView(
                        width: 320, height: 240, format: .rgb24, bytesPerLine: 960, bytes: bytes,
                        sequence: 0, timestampNanoseconds: 0))
            }
            #expect(recognition.top?.label == label, "\(label): \(recognition.probabilities)")
        }

        // 4. Replay a synthetic session through the live pipeline and score it.
        let truthText = """
            # a session: idle, then each direction for 2 s with idle in between
            0 idle
            1.5 up
            3.5 idle
            5 left
            7 idle
            8.5 right
            10.5 idle
            12 down
            14 idle
            """
        let truth = try TruthTimeline(parsing: truthText, labels: Self.labels, file: "session.truth")
        let clipPath = directory + "/session.y4m"
        try truthText.write(toFile: directory + "/session.truth", atomically: true, encoding: .utf8)
        var photos: [String: RGBImage] = [:]
        for label in Self.labels.names { photos[label] = try TestFiles.photo(label) }
        try SyntheticRecording.write(
            to: clipPath, photos: photos, truth: truth, durationSeconds: 15, framesPerSecond: 15, seed: 4242)
        let clip = try Y4MFileSource(path: clipPath)
        defer { clip.close() }
        let run = try ReplayEvaluation.run(
            source: clip, framesPerSecond: 15, recognizer: recognizer,
            settings: .default, truth: truth)
        print(run.report.description)
        print(
            String(
                format: "replay pipeline per frame: p50 %.2f ms, p95 %.2f ms", run.latencyP50Milliseconds,
                run.latencyP95Milliseconds))
        #expect(run.frames == 225)
        #expect(run.report.gestures == 4)
        #expect(run.report.missedGestures == 0)
        #expect(run.report.falsePresses == 0)
        #expect((run.report.frameAccuracy ?? 0) >= 0.9)
        #expect(run.events.filter { $0.kind == .down }.map(\.label) == ["up", "left", "right", "down"])
    }
}
