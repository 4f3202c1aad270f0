// `gesturepad bench pipeline` through the built binary on a tiny clip: the report's shape (every stage with
// p50 ≤ p95, frames counted, CPU %, the paths that ran, the stand-in head named), never its speed — speed is
// measured by running the command, not asserted. The replay needs the default model (`make models`).
import Foundation
import TestSupport
import Testing

@Suite("gesturepad bench pipeline")
struct BenchPipelineCLITests {
    @Test func badRatesAreRefusedBeforeAnythingLoads() throws {
        let run = try CLI.run(["bench", "pipeline", "--source", "clip.y4m", "--fps", "0"])
        #expect(run.status != 0)
        #expect(run.error.contains("--fps must be 1…1000, got 0"), "\(run.error)")
    }

    @Test(
        "a tiny clip replayed for a second reports every stage, the CPU and the paths",
        .enabled(
            if: TestFiles.modelInstalled() || TestFiles.required, "the default model is not installed: make models"))
    func reportShape() throws {
        try withTemporaryDirectory("bench-pipeline") { directory in
            let clip = directory + "/clip.y4m"
            try writeFlatClip(clip, colour: (120, 90, 60), seconds: 1)
            let arguments = [
                "bench", "pipeline", "--source", clip, "--fps", "10", "--seconds", "1", "--data-dir", directory,
            ]
            let run = try CLI.run(arguments + ["--json"])
            #expect(run.status == 0, "\(run.error)")
            let report = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any] ?? [:]
            #expect((report["framesProcessed"] as? Int ?? 0) > 0, "\(run.output)")
            #expect((report["framesCaptured"] as? Int ?? 0) >= (report["framesProcessed"] as? Int ?? 0))
            #expect((report["cpuPercentOfOneCore"] as? Double ?? 0) > 0)
            #expect((report["seconds"] as? Double ?? 0) >= 0.9)
            #expect((report["head"] as? String)?.hasPrefix("seeded stand-in") == true, "\(run.output)")
            #expect((report["headPath"] as? String)?.contains("rows of non-zero inputs") == true, "\(run.output)")
            #expect(
                !(report["targetCPU"] as? String ?? "").isEmpty && !(report["gemmBackend"] as? String ?? "").isEmpty)
            let stages = report["stages"] as? [[String: Any]] ?? []
            let names = stages.compactMap { $0["stage"] as? String }
            #expect(
                Array(names.prefix(7)) == ["capture", "preprocess", "normalize", "embed", "head", "filter", "total"],
                "\(names)")
            for stage in stages {
                let (p50, p95) = (stage["p50Milliseconds"] as? Double ?? -1, stage["p95Milliseconds"] as? Double ?? -1)
                #expect(p50 >= 0 && p50 <= p95, "\(stage)")
            }
            let text = try CLI.run(arguments)
            #expect(text.status == 0, "\(text.error)")
            for line in ["stage          p50 ms    p95 ms", "  embed ", "CPU: ", "% of one core", "paths: target CPU"] {
                #expect(text.output.contains(line), "\(line) missing in:\n\(text.output)")
            }
        }
    }
}
