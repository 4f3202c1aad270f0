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
    @Option(
        name: .long,
        help: "With --replay or --keys: seconds around a truth change within which a press counts for the gesture.")
    var tolerance: Double = 0.5
    @Flag(
        name: .long, inversion: .prefixedNo,
        help: "With --replay: progress on standard error (default: when standard error is a terminal).")
    var progress: Bool?
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
        guard tolerance >= 0, tolerance <= 10 else { throw ValidationError("--tolerance must be 0 to 10 seconds") }
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
            var scorer = ReplayScorer(truth: timeline, toleranceMilliseconds: toleranceMilliseconds)
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
            var reporter = ReplayProgress(
                enabled: progress ?? (isatty(STDERR_FILENO) == 1), estimatedFrames: Self.estimatedFrames(clip))
            let run = try ReplayEvaluation.run(
                source: clip, framesPerSecond: clip.header.frameRate.value, recognizer: recognizer,
                settings: settings.filter, truth: timeline, toleranceMilliseconds: toleranceMilliseconds
            ) { reporter.update(frames: $0) }
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
        for line in Self.lookCommands(report.suspects) { print(line) }
    }

    var toleranceMilliseconds: Int { Int((tolerance * 1000).rounded()) }

    /// About how many frames `clip` holds: (file size − header line) / (frame bytes + "FRAME\n"); nil when unknown.
    static func estimatedFrames(_ clip: Y4MFileSource) -> Int? {
        guard let size = (try? FileManager.default.attributesOfItem(atPath: clip.path))?[.size] as? Int,
            clip.header.frameByteCount > 0
        else { return nil }
        return max(1, size / (clip.header.frameByteCount + 6))
    }

    /// The commands that show the suspect samples and fix them (printed under the "check or relabel" list).
    static func lookCommands(_ suspects: [EvaluationReport.Suspect]) -> [String] {
        guard let first = suspects.first else { return [] }
        var labels: [String] = []
        for suspect in suspects where !labels.contains(suspect.label) { labels.append(suspect.label) }
        return ["look at one:      gesturepad samples show --id \(first.sampleID) --png sample-\(first.sampleID).png"]
            + labels.map { "look at all \($0): gesturepad samples sheet --label \($0) --png \($0).png" }
            + [
                "then fix:         gesturepad samples relabel --id N --to LABEL, "
                    + "or gesturepad samples delete --id N [--id M …] --yes"
            ]
    }
}

/// Progress of a long replay on standard error: a line at every further 10 % of the frames, and at least every
/// 5 s (a clip of unknown length gets only the time-based lines).
struct ReplayProgress {
    let enabled: Bool
    let estimatedFrames: Int?
    let start = ContinuousClock.now
    private var lastLine = ContinuousClock.now
    private var nextTenth = 1

    init(enabled: Bool, estimatedFrames: Int?) {
        self.enabled = enabled
        self.estimatedFrames = estimatedFrames
    }

    mutating func update(frames: Int) {
        guard enabled else { return }
        let now = ContinuousClock.now
        var crossed = false
        if let total = estimatedFrames, frames * 10 >= nextTenth * total, nextTenth <= 10 {
            while frames * 10 >= nextTenth * total { nextTenth += 1 }
            crossed = true
        }
        guard crossed || now - lastLine >= .seconds(5) else { return }
        lastLine = now
        let elapsed = Double((now - start).components.seconds)
        let share =
            estimatedFrames.map { String(format: "%3.0f%% ", min(100, Double(frames) / Double($0) * 100)) } ?? ""
        let line =
            "replay: \(share)(\(frames)" + (estimatedFrames.map { "/\($0)" } ?? "") + " frames, "
            + String(format: "%.0f s elapsed)\n", elapsed)
        FileHandle.standardError.write(Data(line.utf8))
    }
}
