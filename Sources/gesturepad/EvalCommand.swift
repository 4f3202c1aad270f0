// `gesturepad eval`: k-fold accuracy, confusion matrix (text and PNG) and suspicious samples of the
// stored samples; or, with --replay/--truth, a recording through the exact live pipeline; or, with
// --keys/--truth, the key events of a live run (e.g. read from evdev) scored by the same rules.
import ArgumentParser
import Capture
import Foundation
import Gestures
import NeuralNet
import Settings

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Evaluate the stored samples (k-fold) or a recording against its intended directions (--replay, --truth).")
    @OptionGroup var gestures: GestureOptions
    @OptionGroup var hyperparameters: HeadHyperparameters
    @OptionGroup var filter: FilterOptions
    @Option(name: .long, help: "Folds for cross-validation.") var folds: Int = 5
    @Option(name: .long, help: "Write the confusion matrix as a PNG picture here.") var png: String?
    @Option(name: .long, help: "A .y4m recording to replay through the current head and the decision filter.")
    var replay: String?
    @Option(name: .long, help: "With --replay or --keys: the timeline of intended labels (lines `SECONDS LABEL`).")
    var truth: String?
    @Option(
        name: .long,
        help:
            "Key events of a live run to score against --truth (lines `SECONDS down|up LABEL`, seconds from the clip start)."
    )
    var keys: String?
    @Option(name: .long, help: "With --keys: the clip length in seconds (default: the last event).") var duration:
        Double?
    @Flag(name: .long, help: "JSON output.") var json = false

    func validate() throws {
        guard replay == nil || keys == nil else { throw ValidationError("give --replay or --keys, not both") }
        guard (replay == nil && keys == nil) == (truth == nil) else {
            throw ValidationError("--truth goes with --replay or --keys")
        }
        guard duration == nil || (keys != nil && duration! > 0) else {
            throw ValidationError("--duration is a positive length, with --keys")
        }
        guard folds >= 2 else { throw ValidationError("--folds must be at least 2") }
    }

    func run() throws {
        let settings = try gestures.resolve(hyperparameters.overrides + filter.overrides)
        if let keys, let truth {
            // No model or head needed: the events were decided elsewhere (the daemon), only scored here.
            let labels = settings.labels
            let timeline = try TruthTimeline(
                parsing: try TextFile.read(truth), labels: labels, file: truth)
            let events = try KeyEventLog.parse(
                try TextFile.read(keys), labels: labels, file: keys)
            var scorer = ReplayScorer(truth: timeline)
            scorer.addEvents(events)
            let report = scorer.report(clipEndNanoseconds: duration.map { UInt64(($0 * 1e9).rounded()) })
            if json { return try printJSON(report) }
            print("key events of \(keys) (\(events.count)) against \(truth):")
            print(report.description)
            return
        }
        let workspace = try settings.openWorkspace()
        if let replay, let truth {
            let recognizer = try workspace.makeRecognizer()
            guard let head = recognizer.currentHead else { throw GesturesError.noHead(store: workspace.heads.root) }
            let text = try TextFile.read(truth)
            let timeline = try TruthTimeline(parsing: text, labels: head.labels, file: truth)
            let clip = try Y4MFileSource(path: replay)
            defer { clip.close() }
            let run = try ReplayEvaluation.run(
                source: clip, framesPerSecond: clip.header.frameRate.value, recognizer: recognizer,
                settings: settings.filter, truth: timeline)
            if json { return try printJSON(run) }
            print("replay of \(replay) (\(run.frames) frames) with head v\(run.headVersion):")
            print(run.report.description)
            print(
                String(
                    format: "per-frame pipeline time p50 %.2f ms, p95 %.2f ms, max %.2f ms (",
                    run.latencyP50Milliseconds,
                    run.latencyP95Milliseconds, run.latencyMaxMilliseconds)
                    + run.stageMeansMilliseconds.sorted { $0.key < $1.key }.map {
                        String(format: "%@ %.2f", $0.key, $0.value)
                    }
                    .joined(separator: ", ") + " ms mean)")
            return
        }
        let request = TrainingRequest(labels: settings.labels, options: settings.head)
        let report = try workspace.trainer.evaluate(request, folds: folds) { event in
            if !json, case .fold(let index, let count, let accuracy) = event {
                print(String(format: "fold %d/%d: %.1f%%", index, count, accuracy * 100))
            }
        }
        if let png { try EvaluationPicture.writeConfusionPNG(report, to: png) }
        if json { return try printJSON(report) }
        print(report.rendered())
        if let png { print("confusion matrix picture: \(png)") }
    }
}
