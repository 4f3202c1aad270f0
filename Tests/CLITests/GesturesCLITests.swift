// The gesture commands as a user runs them: the real `gesturepad` binary (built beside the test
// runner) against a temp data directory — add samples from photos, list them as JSON, train, evaluate
// with a PNG confusion matrix, list and roll back heads, and the errors a user sees. Needs the real
// MobileNet v1 and photos (`make models`); skipped with that reason otherwise.
import Capture
import Foundation
import TestSupport
import Testing

enum CLI {
    /// Whether the models and photos these suites need are fetched and installed.
    static var modelsAvailable: Bool { TestFiles.modelInstalled() && TestFiles.present(["astronaut.png"]) }

    /// An empty config home: every command reads $XDG_CONFIG_HOME/gesturepad/config.toml, and a developer's own
    /// config must not change what these tests see.
    static let configHome = temporaryDirectory("cli-config")

    /// Runs gesturepad with `arguments` (the caller's environment, an empty config home); returns exit status,
    /// stdout and stderr.
    @discardableResult
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_CONFIG_HOME"] = configHome
        let run = try GesturepadBinary.run(arguments, environment: environment)
        return (run.status, run.standardOutput, run.standardError)
    }
}

@Suite(
    "gesturepad samples/train/eval/head", .serialized,
    .enabled(if: CLI.modelsAvailable || TestFiles.required, "models/photos not fetched: run `make models`"))
struct GesturesCLITests {
    @Test func aUserSession() throws {
        let data = temporaryDirectory("cli")
        defer { try? FileManager.default.removeItem(atPath: data) }
        let common = ["--data-dir", data, "--labels", "up,down,idle"]
        // Training before any sample: a clear message and a non-zero exit, not a crash.
        let empty = try CLI.run(["train"] + common)
        #expect(empty.status != 0)
        #expect(empty.error.contains("not enough samples"), "\(empty.error)")

        for (label, photo) in [("up", "astronaut.png"), ("down", "coffee.png"), ("idle", "chelsea.png")] {
            let added = try CLI.run(
                ["samples", "add", label, TestFiles.path(photo), TestFiles.path(photo)] + common)
            #expect(added.status == 0, "\(added.error)")
            #expect(added.output.contains("added 2 sample(s) of \(label)"))
        }
        let listing = try CLI.run(["samples", "list", "--json"] + common)
        let counts = try JSONSerialization.jsonObject(with: Data(listing.output.utf8)) as! [String: Any]
        #expect(counts["counts"] as? [String: Int] == ["up": 2, "down": 2, "idle": 2])

        let trained = try CLI.run(["train", "--epochs", "5", "--json"] + common)
        #expect(trained.status == 0, "\(trained.error)")
        let metadata = try JSONSerialization.jsonObject(with: Data(trained.output.utf8)) as! [String: Any]
        #expect(metadata["version"] as? Int == 1)
        #expect((metadata["labels"] as? [String: Any])?["names"] as? [String] == ["up", "down", "idle"])

        let png = data + "/matrix.png"
        let evaluation = try CLI.run(["eval", "--folds", "2", "--epochs", "5", "--png", png] + common)
        #expect(evaluation.status == 0, "\(evaluation.error)")
        #expect(evaluation.output.contains("overall accuracy"))
        let picture = try RGBImage.read(png)
        #expect(picture.width > 100 && picture.height > 100)

        #expect(try CLI.run(["train", "--epochs", "2"] + common).status == 0)
        let heads = try CLI.run(["head", "list"] + common)
        #expect(heads.output.contains("* v2") && heads.output.contains("  v1"), "\(heads.output)")
        #expect(try CLI.run(["head", "rollback"] + common).output.contains("v1"))

        // Deleting and relabelling.
        #expect(try CLI.run(["samples", "delete", "--label", "idle", "--last"] + common).output.contains("deleted 1"))
        #expect(
            try CLI.run(["samples", "relabel", "--label", "down", "--to", "up"] + common).output.contains(
                "relabelled 2"))
        let after = try CLI.run(["samples", "list", "--json"] + common)
        let afterCounts = try JSONSerialization.jsonObject(with: Data(after.output.utf8)) as! [String: Any]
        #expect(afterCounts["counts"] as? [String: Int] == ["up": 4, "idle": 1])
        // A bad label name is refused with the rule.
        let bad = try CLI.run(["samples", "add", "Up!", TestFiles.directory + "/coffee.png"] + common)
        #expect(bad.status != 0 && bad.error.contains("invalid label name"), "\(bad.error)")
    }
}
