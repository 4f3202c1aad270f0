// ConfigCommandTests: runs the built `gesturepad` binary (as swift-argument-parser's example tests do)
// for `config check|show|path` and every command's `--print-settings`, and checks output and exit codes: 1 with errors,
// 0 with warnings only; one config.toml gives play, train, eval, samples and the daemon the same settings.
// The binary is the one `swift build --build-tests` puts next to the test bundle (TestSupport's GesturepadBinary).
import Foundation
import Gestures
import NeuralNet
import Paths
import TestSupport
import Testing

@testable import Settings

@Suite("gesturepad config (binary)")
struct ConfigCommandTests {
    typealias Run = GesturepadRun

    /// Runs `gesturepad arguments…` with a controlled environment (HOME and XDG dirs in `root`).
    static func gesturepad(_ arguments: [String], root: String) throws -> Run {
        try GesturepadBinary.run(
            arguments,
            environment: ["HOME": root + "/home", "XDG_CONFIG_HOME": root + "/xdg", "PATH": "/usr/bin:/bin"])
    }

    @Test("check on the shipped file: no problems, exit 0")
    func checkShippedFile() throws {
        let root = temporaryDirectory("config")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let run = try Self.gesturepad(["config", "check", shippedConfigPath], root: root)
        #expect(run.status == 0)
        #expect(run.standardOutput == "\(shippedConfigPath): 0 errors, 0 warnings\n")
    }

    @Test("check with errors: one file:line:column line per problem, a summary, exit 1")
    func checkWithErrors() throws {
        let root = temporaryDirectory("config")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let file = root + "/bad.toml"
        try writeFile("[filter]\ndwel_ms = 100\nexit = 0.9\n[keys]\nleft = \"KEY_UP\"\n", to: file)
        let run = try Self.gesturepad(["config", "check", file], root: root)
        #expect(run.status == 1)
        #expect(
            run.standardOutput.components(separatedBy: "\n") == [
                "\(file):2:1: error: unknown key 'dwel_ms' in [filter]; did you mean 'dwell_ms'?",
                "\(file):3:8: error: filter.exit (0.9) must be below filter.enter (0.8, the default); "
                    + "a held key is released below exit, so exit < enter (e.g. 0.2 lower)",
                "\(file):5:8: warning: keys.left presses KEY_UP, the same as keys.up; "
                    + "give each label its own key unless both should do the same",
                "\(file): 2 errors, 1 warning",
                "",
            ])
    }

    @Test("check with warnings only exits 0")
    func checkWithWarningsOnly() throws {
        let root = temporaryDirectory("config")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let file = root + "/warn.toml"
        try writeFile("[keys]\nleft = \"KEY_UP\"\n", to: file)
        let run = try Self.gesturepad(["config", "check", file], root: root)
        #expect(run.status == 0)
        #expect(run.standardOutput.hasSuffix("\(file): 0 errors, 1 warning\n"))
    }

    @Test("check without FILE reads $XDG_CONFIG_HOME/gesturepad/config.toml; a missing --config is an error")
    func checkDiscoveredAndMissing() throws {
        let root = temporaryDirectory("config")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let discovered = root + "/xdg/gesturepad/config.toml"
        try writeFile("[camera]\nfps = 0\n", to: discovered)
        let run = try Self.gesturepad(["config", "check"], root: root)
        #expect(run.status == 1)
        #expect(run.standardOutput.hasPrefix("\(discovered):2:7: error: camera.fps = 0 is out of range"))

        let missing = try Self.gesturepad(["config", "check", "--config", root + "/missing.toml"], root: root)
        #expect(missing.status == 1)
        #expect(missing.standardOutput.hasPrefix("\(root)/missing.toml: error: cannot read the config file"))
    }

    @Test("show prints the effective config as TOML or JSON; it refuses a file with errors")
    func show() throws {
        let root = temporaryDirectory("config")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let file = root + "/c.toml"
        try writeFile("[camera]\nfps = 15\n", to: file)
        let toml = try Self.gesturepad(["config", "show", "--config", file], root: root)
        #expect(toml.status == 0)
        #expect(
            toml.standardOutput.contains("\n[camera]\ndevice = \"/dev/video0\"\nwidth = 640\nheight = 480\nfps = 15\n"))
        var expected = GesturepadConfig()
        expected.camera.framesPerSecond = 15
        let shown = ConfigLoader(environment: [:]).parse(toml.standardOutput, file: "shown.toml")
        #expect(shown.diagnostics == [])
        #expect(shown.config == expected)

        let json = try Self.gesturepad(["config", "show", "--json", "--config", file], root: root)
        #expect(json.status == 0)
        #expect(json.standardOutput == expected.renderJSON())

        try writeFile("[camera]\nfps = -1\n", to: file)
        let bad = try Self.gesturepad(["config", "show", "--config", file], root: root)
        #expect(bad.status == 1)
        #expect(bad.standardOutput == "")
        #expect(bad.standardError.contains("\(file):2:7: error: camera.fps = -1 is out of range"))
    }

    @Test("path prints the file in use, or where it would be with a note on stderr")
    func path() throws {
        let root = temporaryDirectory("config")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let xdgFile = root + "/xdg/gesturepad/config.toml"
        let none = try Self.gesturepad(["config", "path"], root: root)
        #expect(none.status == 0)
        #expect(none.standardOutput == xdgFile + "\n")
        #expect(none.standardError.contains("does not exist"))

        let homeFile = root + "/home/.config/gesturepad/config.toml"
        try writeFile("", to: homeFile)
        let home = try Self.gesturepad(["config", "path"], root: root)
        #expect(home.standardOutput == homeFile + "\n")
        #expect(home.standardError == "")

        let explicit = try Self.gesturepad(["config", "path", "--config", "/etc/x.toml"], root: root)
        #expect(explicit.standardOutput == "/etc/x.toml\n")
    }

    /// The settings a command resolves, from its `--print-settings` (the first line says where they came from).
    static func printedSettings(_ arguments: [String], root: String) throws -> (run: Run, body: String) {
        let run = try gesturepad(arguments + ["--print-settings"], root: root)
        let body = run.standardOutput.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        return (run, body.count == 2 ? String(body[1]) : "")
    }

    @Test("a key set once in config.toml changes play, train, eval, samples and the daemon alike")
    func oneConfigForEveryCommand() throws {
        let root = temporaryDirectory("config")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try writeFile(
            """
            [camera]
            mirror = false
            [labels]
            order = ["fire", "jump"]
            [keys]
            fire = "KEY_SPACE"
            jump = "KEY_UP"
            [filter]
            enter = 0.9
            [head]
            epochs = 7
            """, to: root + "/xdg/gesturepad/config.toml")
        var expected = GesturepadConfig()
        expected.mirror = false
        expected.labels = try LabelSet(["fire", "jump", "idle"])
        expected.keys = ["fire": .chord(KeyNameChord(["KEY_SPACE"])), "jump": .chord(KeyNameChord(["KEY_UP"]))]
        expected.filter.enterThreshold = 0.9
        expected.head.epochs = 7

        let commands: [[String]] = [
            ["play"], ["train"], ["eval"], ["samples", "list"], ["daemon"], ["head", "list"],
        ]
        var bodies: [String] = []
        for command in commands {
            let (run, body) = try Self.printedSettings(command, root: root)
            #expect(run.status == 0, "\(command): \(run.standardError)")
            #expect(run.standardOutput.hasPrefix("# Settings from \(root)/xdg/gesturepad/config.toml\n"), "\(command)")
            let parsed = ConfigLoader(environment: [:]).parse(body, file: "printed.toml")
            #expect(parsed.diagnostics == [], "\(command)")
            #expect(parsed.config == expected, "\(command)")
            bodies.append(body)
        }
        #expect(Set(bodies).count == 1, "every command resolves the same settings")
        #expect(bodies[0].contains("\nmirror = false\n"))

        // A flag overrides the file for that run only; a flag not given keeps the config's value.
        let flagged = try Self.printedSettings(["play", "--mirror", "--model", "mobilenet_v2_1.0_224"], root: root)
        #expect(
            flagged.run.standardOutput.hasPrefix(
                "# Settings from \(root)/xdg/gesturepad/config.toml with --model --mirror\n"))
        var overridden = expected
        overridden.mirror = true
        overridden.modelName = "mobilenet_v2_1.0_224"
        #expect(ConfigLoader(environment: [:]).parse(flagged.body, file: "printed.toml").config == overridden)
        let trained = try Self.printedSettings(["train", "--epochs", "3", "--seed", "5"], root: root)
        #expect(trained.body.contains("\nepochs = 3\n") && trained.body.contains("\nseed = 5\n"))
        #expect(trained.body.contains("\nenter = 0.9\n"))
    }

    @Test("settings edited in the window (edited-settings.toml) apply to train after config.toml, before its flags")
    func editedSettingsLayer() throws {
        let root = temporaryDirectory("config")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try writeFile("[head]\nepochs = 7\nlearning_rate = 0.01\n", to: root + "/xdg/gesturepad/config.toml")
        var options = TrainingOptions()
        options.epochs = 50
        options.hiddenUnits = 25
        options.learningRate = 0.003
        options.batchSizeFraction = 0.2
        let file = DataDirectory(data).editedSettings
        try EditedSettings.write(options, to: file)

        let trained = try Self.printedSettings(["train", "--data-dir", data], root: root)
        #expect(trained.run.status == 0, "\(trained.run.standardError)")
        #expect(
            trained.run.standardOutput.hasPrefix(
                "# Settings from \(root)/xdg/gesturepad/config.toml and \(file) with --data-dir\n"))
        let config = ConfigLoader(environment: [:]).parse(trained.body, file: "printed.toml").config
        #expect(config.head.epochs == 50 && config.head.hiddenUnits == 25)
        #expect(config.head.learningRate == 0.003 && config.head.batchSizeFraction == 0.2)
        let flagged = try Self.printedSettings(["train", "--data-dir", data, "--epochs", "3"], root: root)
        #expect(flagged.body.contains("\nepochs = 3\n") && flagged.body.contains("\nhidden_units = 25\n"))

        // Only the four keys are read from it; anything else is a warning naming file:line, and the rest applies.
        try writeFile("[head]\nepochs = 40\n[filter]\nenter = 0.5\n", to: file)
        let mixed = try Self.printedSettings(["train", "--data-dir", data], root: root)
        #expect(mixed.run.status == 0)
        #expect(mixed.body.contains("\nepochs = 40\n") && !mixed.body.contains("\nenter = 0.5\n"))
        #expect(
            mixed.run.standardError.contains("\(file):4:1: warning: filter.enter is ignored here"),
            "\(mixed.run.standardError)")
    }

    @Test("a flag outside its key's range is refused like a bad file value, naming the flag")
    func badFlag() throws {
        let root = temporaryDirectory("config")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let run = try Self.gesturepad(["train", "--epochs", "0", "--print-settings"], root: root)
        #expect(run.status == 1)
        #expect(run.standardOutput == "")
        #expect(run.standardError.contains("--epochs: error: head.epochs = 0 is out of range; allowed: 1...10000"))
        let eval = try Self.gesturepad(["eval", "--enter", "0.5", "--print-settings"], root: root)
        #expect(eval.status == 1)
        #expect(eval.standardError.contains("filter.exit (0.6, the default) must be below filter.enter (0.5)"))
    }
}
