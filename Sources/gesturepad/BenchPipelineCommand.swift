// `gesturepad bench pipeline`: what the live path costs on this machine. A Y4M clip, looped and paced at
// --fps, runs through the daemon's own pipeline (GestureDaemon → GestureSession: recognizer, decision filter,
// key output in dry run) for --seconds after a one-second warm-up; the report is the session's own rolling
// statistics (per-stage p50/p95 over the last 300 frames), the process CPU (getrusage user + system over wall
// time, % of one core) and the ISA / GEMM / head paths that ran. Without a trained head in the data directory a
// seeded stand-in head of the same shape runs, so the head and filter stages are still measured (the report
// says which). Wiring only: options → config → GestureDaemon → report.
import ArgumentParser
import Capture
import Daemon
import Foundation
import Gestures
import NeuralNet
import Settings
import SystemSupport

/// One stage's latency percentiles.
struct PipelineStageReport: Codable {
    var stage: String
    var p50Milliseconds: Double
    var p95Milliseconds: Double
}

/// `bench pipeline --json`.
struct PipelineBenchReport: Codable {
    var source: String
    var model: String
    var layer: String
    var featureCount: Int
    var framesPerSecondAsked: Int
    var seconds: Double
    var framesCaptured: Int
    var framesProcessed: Int
    var framesDropped: Int
    var framesPerSecond: Double
    /// Stages in pipeline order (capture, preprocess, normalize, embed, head, filter, total, frame_to_key); a stage
    /// without samples (no key press: no frame_to_key) is left out.
    var stages: [PipelineStageReport]
    /// Process CPU time over wall time during the timed seconds, in % of one core.
    var cpuPercentOfOneCore: Double
    var userSeconds: Double
    var systemSeconds: Double
    var targetCPU: String
    var gemmBackend: String
    /// How the head's first layer runs (`DenseRowWeights.summary`), or "no head".
    var headPath: String
    /// "stored head vN" or "seeded stand-in (no trained head in the data directory)".
    var head: String
    /// The 1-minute load average when the run ended (other work on the machine skews the figures).
    var loadAverage: Double
}

extension Bench {
    struct PipelineBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pipeline",
            abstract:
                "Replay a Y4M clip through the live pipeline (dry run) at a given rate: per-stage p50/p95, CPU % and "
                + "the code paths that ran.")

        @OptionGroup var gestures: GestureOptions

        @Option(name: .long, help: "A Y4M recording to replay (looped).") var source: String
        @Option(name: .long, help: "Frames per second to pace the replay at (1…1000).") var fps: Int = 30
        @Option(name: .long, help: "Timed seconds after a one-second warm-up.") var seconds: Double = 10
        @Flag(name: .long, help: "Print one JSON object instead of text.") var json = false

        func validate() throws {
            guard (1...1000).contains(fps) else { throw ValidationError("--fps must be 1…1000, got \(fps)") }
            guard seconds > 0 && seconds <= 3600 else {
                throw ValidationError("--seconds must be > 0 and ≤ 3600, got \(seconds)")
            }
        }

        func run() throws {
            let path = absolutePath(source)
            let config = try gestures.resolve([
                ConfigOverride("camera.device", .string(path), flag: "--source"),
                ConfigOverride("daemon.dry_run", .boolean(true), flag: "bench pipeline"),
            ])
            let settings = try DaemonSettings(config: config)
            let workspace = try GestureWorkspace(settings.workspace)
            let rate = fps
            let daemon = try GestureDaemon(
                settings: settings, workspace: workspace,
                keySink: DryRunKeySink(keys: settings.allKeys, report: { _ in }),
                dryRun: true, dryRunReason: "bench pipeline",
                openSource: { settings throws(CaptureError) in
                    try Y4MFileSource(path: settings.source, pacing: .realTime, loops: true, framesPerSecond: rate)
                })
            let recognizer = daemon.session.recognizer
            let headDescription: String
            if let stored = recognizer.currentHead {
                headDescription = "stored head v\(stored.version)"
            } else {
                let labels = settings.workspace.labels
                let head = try DenseHead(
                    architecture: HeadArchitecture(
                        inputShape: [recognizer.extractor.featureCount], hiddenUnits: settings.training.hiddenUnits,
                        classes: labels.count),
                    seed: 1)
                try recognizer.swapHead(ActiveHead(labels: labels, version: 0, predictor: DenseHeadPredictor(head)))
                headDescription = "seeded stand-in (no trained head in the data directory)"
            }
            let headPath = (recognizer.currentHead?.predictor as? DenseHeadPredictor)?.firstLayerSummary ?? "no head"
            daemon.start()
            Thread.sleep(forTimeInterval: 1)
            let before = ProcessUsage.now()
            Thread.sleep(forTimeInterval: seconds)
            let after = ProcessUsage.now()
            let snapshot = daemon.session.snapshot()
            try daemon.stop()
            let statistics = snapshot.statistics
            let stages = PipelineStage.allCases.compactMap { stage -> PipelineStageReport? in
                guard let values = statistics.latencyMilliseconds[stage.rawValue], values.count == 2 else { return nil }
                return PipelineStageReport(
                    stage: stage.rawValue, p50Milliseconds: values[0], p95Milliseconds: values[1])
            }
            let wall = after.wallSeconds - before.wallSeconds
            var load = [0.0, 0, 0]
            _ = getloadavg(&load, 3)
            let report = PipelineBenchReport(
                source: path, model: settings.workspace.modelName, layer: recognizer.extractor.identity.layer,
                featureCount: recognizer.extractor.featureCount, framesPerSecondAsked: fps, seconds: wall,
                framesCaptured: statistics.framesCaptured, framesProcessed: statistics.framesProcessed,
                framesDropped: statistics.framesDropped, framesPerSecond: statistics.framesPerSecond, stages: stages,
                cpuPercentOfOneCore: 100 * (after.cpuSeconds - before.cpuSeconds) / wall,
                userSeconds: after.userSeconds - before.userSeconds,
                systemSeconds: after.systemSeconds - before.systemSeconds, targetCPU: BuildInfo.targetCPU,
                gemmBackend: GEMM.defaultBackend.rawValue, headPath: headPath, head: headDescription,
                loadAverage: load[0])
            if json {
                try printJSON(report, compact: true)
                return
            }
            print(
                "pipeline \(report.model) (\(report.layer), \(report.featureCount) features) on \(report.source), "
                    + "\(fps) fps asked, \(formatted(wall, decimals: 1)) s timed")
            print(
                "  frames: \(report.framesProcessed) processed of \(report.framesCaptured) captured "
                    + "(\(report.framesDropped) dropped), \(formatted(report.framesPerSecond, decimals: 1)) fps")
            print("  stage          p50 ms    p95 ms   (last ≤ 300 frames)")
            for stage in stages {
                let name = stage.stage.padding(toLength: 13, withPad: " ", startingAt: 0)
                print(
                    "  \(name) \(formatted(stage.p50Milliseconds, decimals: 3).leftPadded(8)) "
                        + "\(formatted(stage.p95Milliseconds, decimals: 3).leftPadded(9))")
            }
            if !stages.contains(where: { $0.stage == PipelineStage.frameToKey.rawValue }) {
                print(
                    "  (no key went down while timed: frame_to_key needs a press — a trained head and a gesture clip)")
            }
            print(
                "  CPU: \(formatted(report.cpuPercentOfOneCore, decimals: 1)) % of one core "
                    + "(user \(formatted(report.userSeconds, decimals: 2)) s, system \(formatted(report.systemSeconds, decimals: 2)) s)"
            )
            print(
                "  paths: target CPU \(report.targetCPU), GEMM \(report.gemmBackend), head first layer "
                    + "\(report.headPath); head: \(report.head)")
            print("  load average (1 min) \(formatted(report.loadAverage, decimals: 2))")
        }
    }
}

/// Process CPU time (getrusage, all threads) and monotonic wall time at one moment.
private struct ProcessUsage {
    var userSeconds: Double
    var systemSeconds: Double
    var wallSeconds: Double
    var cpuSeconds: Double { userSeconds + systemSeconds }

    static func now() -> ProcessUsage {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return ProcessUsage(
            userSeconds: seconds(usage.ru_utime), systemSeconds: seconds(usage.ru_stime),
            wallSeconds: Double(SystemFrameClock.nanoseconds()) / 1e9)
    }
}

extension String {
    /// Right-aligned in `width` characters.
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
