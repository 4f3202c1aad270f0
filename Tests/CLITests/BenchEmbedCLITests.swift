// `gesturepad bench embed` through the built binary on a seeded random MobileNet v1 0.25 (no files): the
// live-cadence options are validated, reported and obeyed — `--idle-ms` sleeps before every timed run
// (the wall time is at least the sleeps: a lower bound, never a speed), `--cold` is named in the report.
// `--model` takes an installed name as `embed` does, and cuts where the daemon cuts (the model's
// embedding layer) unless `--layer` says otherwise. `--input` / `--source` choose what is timed (zero skipping
// makes the time input-dependent) and the report names it, with `--zero-skip`.
import Foundation
import NeuralNet
import TestSupport
import Testing

@Suite("gesturepad bench embed")
struct BenchEmbedCLITests {
    @Test("--idle-ms outside 0…10000 is refused", arguments: ["-1", "10001"])
    func badIdleIsRefused(_ value: String) throws {
        let run = try CLI.run(["bench", "embed", "--random-mobilenet", "0.25", "--idle-ms=\(value)"])
        #expect(run.status != 0)
        #expect(run.error.contains("--idle-ms must be in 0...10000"), "\(run.error)")
    }

    @Test("--idle-ms and --cold: every timed run sleeps first, and the report says so")
    func idleAndColdRuns() throws {
        let runs = 4
        let idle = 50.0
        let start = Date()
        let run = try CLI.run([
            "bench", "embed", "--random-mobilenet", "0.25", "--runs", "\(runs)", "--warmup", "0",
            "--idle-ms", "\(idle)", "--cold", "--json",
        ])
        let elapsed = Date().timeIntervalSince(start)
        #expect(run.status == 0, "\(run.error)")
        let report = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any] ?? [:]
        #expect(report["idle_ms"] as? Double == idle, "\(run.output)")
        #expect(report["cold"] as? Bool == true, "\(run.output)")
        // Two timed passes (whole calls, then per step), each run after its sleep.
        #expect(elapsed >= 2 * Double(runs) * idle / 1000, "\(elapsed) s")
        let text = try CLI.run([
            "bench", "embed", "--random-mobilenet", "0.25", "--runs", "1", "--warmup", "0", "--idle-ms", "5",
        ])
        #expect(text.status == 0, "\(text.error)")
        #expect(text.output.contains("1 runs after 5.0 ms idle each"), "\(text.output)")
    }

    @Test(
        "--zero-skip, --input and --source are validated",
        arguments: [
            (["--zero-skip", "maybe"], "--zero-skip must be on or off"),
            (["--input", "a.npy", "--source", "b.png"], "give at most one of --input and --source"),
            (["--source", "b.png"], "--source needs --model"),
        ])
    func badInputOptionsAreRefused(arguments: [String], message: String) throws {
        let run = try CLI.run(["bench", "embed", "--random-mobilenet", "0.25"] + arguments)
        #expect(run.status != 0)
        #expect(run.error.contains(message), "\(run.error)")
    }

    @Test(
        "--input: the tensor is timed and named in the report, with zero skipping on or off; a wrong shape is refused")
    func inputTensorAndZeroSkip() throws {
        try withTemporaryDirectory("bench-embed-input") { directory in
            let path = directory + "/image.npy"
            try NPY.write(Tensor(shape: [1, 224, 224, 3], uniformIn: -1...1, seed: 3), to: path)
            for (flag, expected) in [("on", true), ("off", false)] {
                let run = try CLI.run([
                    "bench", "embed", "--random-mobilenet", "0.25", "--input", path, "--zero-skip", flag, "--runs",
                    "1", "--warmup", "0", "--json",
                ])
                #expect(run.status == 0, "\(run.error)")
                let report = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any] ?? [:]
                #expect(report["input"] as? String == path, "\(run.output)")
                #expect(report["zero_skip"] as? Bool == expected, "\(run.output)")
            }
            let seeded = try CLI.run(["bench", "embed", "--random-mobilenet", "0.25", "--runs", "1", "--warmup", "0"])
            #expect(seeded.output.contains("zero skip on; input: seeded random values in [-1, 1]"), "\(seeded.output)")
            let small = directory + "/small.npy"
            try NPY.write(Tensor(shape: [1, 8, 8, 3], repeating: 0), to: small)
            let wrong = try CLI.run(["bench", "embed", "--random-mobilenet", "0.25", "--input", small, "--runs", "1"])
            #expect(wrong.status != 0)
            #expect(wrong.error.contains("expected [1, 224, 224, 3]"), "\(wrong.error)")
        }
    }

    @Test("--model: an unknown name is refused with the installed names")
    func unknownModelName() throws {
        let run = try CLI.run(["bench", "embed", "--model", "no_such_model", "--runs", "1"])
        #expect(run.status != 0)
        #expect(run.error.contains("no model named no_such_model"), "\(run.error)")
    }

    static let v1 = "mobilenet_v1_0.25_224"
    static let v2 = "mobilenet_v2_1.0_224"
    /// `make test` installs all three models (GESTUREPAD_REQUIRE_MODELS turns a missing one into a failure).
    static func installed(_ names: String...) -> Bool {
        names.allSatisfy { TestFiles.modelInstalled($0) } || TestFiles.required
    }

    @Test(
        "--model: installed names resolve and cut at the model's embedding layer",
        .enabled(if: installed(v1, v2), "v1 0.25 and v2 are not installed: make models"),
        arguments: [(v1, "conv_pw_13_relu"), (v2, "block_15_add")])
    func installedNameCutsAtTheEmbeddingLayer(name: String, layer: String) throws {
        let run = try CLI.run(["bench", "embed", "--model", name, "--runs", "1", "--warmup", "0", "--json"])
        #expect(run.status == 0, "\(run.error)")
        let report = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any] ?? [:]
        #expect(report["layer"] as? String == layer, "\(run.output)")
        #expect(report["model"] as? String == name, "\(run.output)")
    }

    @Test(
        "--model DIR/model.json reads the directory's gesturepad.json too (v2 cuts at block_15_add, not the classifier)",
        .enabled(if: installed(v2), "v2 is not installed: make models"))
    func modelJSONPathKeepsItsMetadata() throws {
        let path = ModelStore.userDefault().directory(of: Self.v2) + "/model.json"
        let run = try CLI.run(["bench", "embed", "--model", path, "--runs", "1", "--warmup", "0", "--json"])
        #expect(run.status == 0, "\(run.error)")
        let report = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any] ?? [:]
        #expect(report["layer"] as? String == "block_15_add", "\(run.output)")
    }

    @Test("--model: a path that does not exist is a missing path, not an unknown installed name")
    func missingPath() throws {
        let run = try CLI.run(["bench", "embed", "--model", "./models/no_such_dir", "--runs", "1"])
        #expect(run.status != 0)
        #expect(run.error.contains("./models/no_such_dir: no such file or directory"), "\(run.error)")
    }

    @Test(
        "--model DIR with a corrupt gesturepad.json: an error naming the file, not v1's defaults in silence",
        .enabled(if: installed(v1), "v1 0.25 is not installed: make models"))
    func corruptMetadataIsAnError() throws {
        try withTemporaryDirectory("bench-embed-metadata") { copy in
            let original = ModelStore.userDefault().directory(of: Self.v1)
            for file in try FileManager.default.contentsOfDirectory(atPath: original) {
                try FileManager.default.copyItem(atPath: original + "/" + file, toPath: copy + "/" + file)
            }
            try Data("{\"architecture\": ".utf8).write(to: URL(fileURLWithPath: copy + "/gesturepad.json"))
            let run = try CLI.run(["bench", "embed", "--model", copy, "--runs", "1", "--warmup", "0"])
            #expect(run.status != 0)
            #expect(run.error.contains(copy + "/gesturepad.json"), "\(run.error)")
        }
    }
}
