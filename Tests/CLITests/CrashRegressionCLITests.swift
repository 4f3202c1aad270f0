// The release-crash reproductions of issue 15 through the real binary: `model inspect` on a crafted
// ZeroPadding2D and weight shape, `embed --input` on a wrapping .npy header. Each must exit non-zero with
// an error naming the layer, field or file — not die on a signal. Files: Tests/NeuralNetTests/Regression
// (tools/make-regression-corpus.py); no model download needed.
import Foundation
import Testing

@Suite("Crafted files through the binary")
struct CrashRegressionCLITests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("NeuralNetTests/Regression").path

    @Test(arguments: [
        ("zeropadding-wraps-2pow32", ["layer pad", "padding", "0…65536"]),
        ("weight-shape-wraps-to-shard-size", ["conv/kernel", "at most 2147483648 elements"]),
        ("strides-2pow32", ["layer conv", "strides"]),
    ])
    func modelInspectRefuses(_ name: String, _ phrases: [String]) throws {
        let run = try CLI.run(["model", "inspect", Self.corpus + "/" + name])
        #expect(run.status == 1, "exit \(run.status) (a signal is > 128): \(run.error)")
        for phrase in phrases { #expect(run.error.contains(phrase), "\"\(phrase)\" missing from: \(run.error)") }
    }

    @Test func embedRefusesAWrappingNPYHeader() throws {
        let output = NSTemporaryDirectory() + "gp-crash-\(UUID().uuidString).npy"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let input = Self.corpus + "/npy-issue-shape.npy"
        let run = try CLI.run(["embed", "--model", Self.corpus + "/valid-model", "--input", input, "--output", output])
        #expect(run.status == 1, "exit \(run.status): \(run.error)")
        #expect(run.error.contains(input) && run.error.contains("2147483648 elements"), "\(run.error)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test func inspectOfTheValidModelWorks() throws {
        let run = try CLI.run(["model", "inspect", Self.corpus + "/valid-model"])
        #expect(run.status == 0, "\(run.error)")
    }
}
