// Crafted config files (issue 15, item 5): arrays 15,000 deep, inline tables 7,000 deep, a 10,000-part
// dotted key and a 70,000-character line (Regression/, made by tools/make-regression-corpus.py) used to
// overflow the parser's stack or take seconds and gigabytes. Through the real loader — what `config check`,
// the daemon's start and its SIGHUP reload read — each is now an error at file:line, quickly; SIGHUP
// keeps the running config because `validConfig()` throws for them.
import Foundation
import TestSupport
import Testing

@testable import Settings

struct ConfigRegressionCase: Decodable, Sendable, CustomTestStringConvertible {
    var file: String
    var expect: [String]
    var testDescription: String { file }

    /// The corpus lives with the daemon's tests (tools/make-regression-corpus.py; DaemonProcessTests SIGHUPs one).
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("DaemonTests/Regression").path
    static let all: [ConfigRegressionCase] = {
        guard let data = FileManager.default.contents(atPath: directory + "/cases.json"),
            let cases = try? JSONDecoder().decode([ConfigRegressionCase].self, from: data)
        else { return [] }
        return cases
    }()
}

@Suite("Config regression corpus")
struct ConfigRegressionTests {
    @Test func corpusIsPresent() {
        #expect(
            ConfigRegressionCase.all.count >= 4, "Regression/cases.json missing: run tools/make-regression-corpus.py")
    }

    @Test(arguments: ConfigRegressionCase.all)
    func refusedAtFileAndLine(_ regression: ConfigRegressionCase) throws {
        let path = ConfigRegressionCase.directory + "/" + regression.file
        let result = ConfigLoader(environment: ["HOME": "/nonexistent"]).load(explicitPath: path)
        let text = result.diagnostics.map(\.description).joined(separator: "\n")
        for phrase in regression.expect {
            #expect(text.contains(phrase), "\(regression.file): \"\(phrase)\" missing from: \(text)")
        }
        #expect(throws: (any Error).self) { _ = try result.validConfig() }
    }

    @Test func nestingUpToTheLimitIsRead() {
        let depth = TOMLDocument.maximumNestingDepth
        let document = TOMLDocument.parse(
            "a = " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n")
        #expect(document.errors.isEmpty)
        let deeper = TOMLDocument.parse(
            "a = " + String(repeating: "[", count: depth + 1) + String(repeating: "]", count: depth + 1) + "\n")
        #expect(
            deeper.errors.map(\.description) == [
                "1:\(5 + depth): arrays and inline tables nest deeper than 64 levels; "
                    + "gesturepad's settings nest at most two levels"
            ])
    }

    @Test func aLongLineIsSkippedAndTheRestIsRead() {
        let text = "a = 1\nb = \"" + String(repeating: "x", count: TOMLDocument.maximumLineLength) + "\"\nc = 3\n"
        let document = TOMLDocument.parse(text)
        #expect(document.errors.map(\.position.line) == [2])
        #expect(document.root.keys == ["a", "c"])
    }

    @Test func aConfigThatIsADeviceOrFIFOIsRefusedUnread() throws {
        let root = temporaryDirectory("config")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fifo = root + "/config.toml"
        #expect(mkfifo(fifo, 0o600) == 0)
        for path in [fifo, "/dev/zero"] {
            let result = ConfigLoader(environment: ["HOME": root]).load(explicitPath: path)
            #expect(
                result.errors.first?.message.hasPrefix("cannot read the config file: it is a") == true,
                "\(result.diagnostics)")
        }
    }

    @Test func configCheckBinaryReportsTheDeepArray() throws {
        let root = temporaryDirectory("config")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = ConfigRegressionCase.directory + "/deep-array.toml"
        let run = try ConfigCommandTests.gesturepad(["config", "check", "--config", path], root: root)
        #expect(run.status == 1)
        #expect(run.standardOutput.contains("\(path):3:"), "\(run.standardOutput)\(run.standardError)")
        #expect(run.standardOutput.contains("deeper than 64 levels"))
    }
}
