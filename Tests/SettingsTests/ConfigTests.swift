// ConfigTests: the shipped Config/gesturepad.toml loads clean and equals the built-in defaults (which
// are the libraries' defaults); each kind of problem gives its file:line:column message; all problems
// of a file come out in one pass; rendering round-trips; path resolution follows the XDG order.
import Capture
import Foundation
import Gestures
import NeuralNet
import TestSupport
import Testing

@testable import Settings

/// The repository's Config/gesturepad.toml, found from this source file's path.
let shippedConfigPath = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Config/gesturepad.toml").path

/// Diagnostics of `text` read as "test.toml", rendered as `file:line:column: severity: message; hint`.
func diagnostics(_ text: String, keyNames: (any KeyNameCatalog)? = nil) -> [String] {
    ConfigLoader(environment: [:], keyNames: keyNames).parse(text, file: "test.toml").diagnostics.map(\.description)
}

@Suite("Config")
struct ConfigTests {
    @Test("the shipped default file loads with no diagnostics and equals the built-in defaults")
    func shippedFileIsDefaults() throws {
        let result = ConfigLoader(environment: [:]).load(explicitPath: shippedConfigPath)
        #expect(result.diagnostics == [])
        #expect(result.config == GesturepadConfig())
    }

    @Test("built-in defaults are the libraries' own defaults")
    func defaultsAreTheLibraries() {
        let config = GesturepadConfig()
        #expect(config.cameraConfiguration() == V4L2CameraConfiguration())
        #expect(config.decisionFilterSettings() == DecisionFilterSettings())
        #expect(config.trainingOptions() == TrainingOptions())
        #expect(config.recordingSettings() == RecordingSettings())
        let environment = ["XDG_DATA_HOME": "/data", "XDG_RUNTIME_DIR": "/run/user/7"]
        #expect(
            config.workspaceConfiguration(environment: environment)
                == WorkspaceConfiguration(dataDirectory: "/data/gesturepad"))
        #expect(config.socketPath(environment: environment) == "/run/user/7/gesturepad/control.sock")
        #expect(config.chord(for: "up") == KeyNameChord(["KEY_UP"]))
        #expect(config.chord(for: "idle") == nil)
    }

    @Test("values from a file reach the libraries' types")
    func valuesMapOntoTypes() throws {
        let text = """
            [camera]
            device = "/dev/v4l/by-id/usb-cam-video-index0"
            width = 320
            height = 240
            fps = 15
            mirror = false
            exposure = "manual"
            exposure_time_100us = 167
            [model]
            layer = "conv_pw_11_relu"
            [labels]
            order = ["fire", "jump"]
            idle = false
            [keys]
            fire = "KEY_LEFTCTRL + KEY_C"
            jump = "none"
            [filter]
            enter = 0.9
            exit_by_label = { jump = 0.5 }
            [head]
            seed = 42
            learning_rate = 1e-3
            [recording]
            countdown_seconds = 3
            [daemon]
            socket_path = "~/gp.sock"
            pause_hotkey = "none"
            """
        let result = ConfigLoader(environment: [:]).parse(text, file: "test.toml")
        #expect(result.diagnostics == [])
        let config = result.config
        #expect(
            config.cameraConfiguration()
                == V4L2CameraConfiguration(
                    device: "/dev/v4l/by-id/usb-cam-video-index0", width: 320, height: 240, framesPerSecond: 15,
                    exposure: .manual(hundredMicroseconds: 167)))
        #expect(config.mirror == false)
        #expect(config.layer == "conv_pw_11_relu")
        #expect(config.labels == (try LabelSet(["fire", "jump"])))
        #expect(config.keys == ["fire": .chord(KeyNameChord(["KEY_LEFTCTRL", "KEY_C"])), "jump": .unbound])
        #expect(config.filter == DecisionFilterSettings(enterThreshold: 0.9, exitThresholdByLabel: ["jump": 0.5]))
        #expect(config.head == TrainingOptions(learningRate: 0.001, seed: 42))
        #expect(config.recording == RecordingSettings(countdownSeconds: 3))
        #expect(config.socketPath(environment: ["HOME": "/home/me"]) == "/home/me/gp.sock")
        #expect(config.daemon.pauseHotkey == nil)
        #expect(try result.validConfig() == config)
    }

    @Test("[camera] share and share_device reach the daemon's settings; off by default; a bad mode is named")
    func cameraShare() throws {
        let text = """
            [camera]
            share = "v4l2loopback"
            share_device = "/dev/video12"
            """
        let result = ConfigLoader(environment: [:]).parse(text, file: "test.toml")
        #expect(result.diagnostics == [])
        #expect(result.config.share == .v4l2loopback && result.config.shareDevice == "/dev/video12")
        #expect(GesturepadConfig().share == .off && GesturepadConfig().shareDevice == "/dev/video10")
        #expect(SettingsSchema.key("camera.share")?.application == .restart)
        let problems = diagnostics("[camera]\nshare = \"pipewire\"\n")
        #expect(problems.count == 1 && problems[0].hasPrefix("test.toml:2:") && problems[0].contains("v4l2loopback"))
        #expect(diagnostics("[camera]\nshare_device = \"\"\n").first?.contains("v4l2loopback device") == true)
    }

    struct ProblemCase: CustomTestStringConvertible, Sendable {
        var name: String
        var text: String
        var expected: [String]
        var testDescription: String { name }
    }

    static let problemCases: [ProblemCase] = [
        ProblemCase(
            name: "syntax error", text: "[filter]\ndwell_ms = 120 ms\n",
            expected: [
                "test.toml:2:16: error: expected the end of the line, found 'm'; put one `key = value` per line; start comments with '#'"
            ]),
        ProblemCase(
            name: "wrong type", text: "[camera]\nfps = \"30\"\n",
            expected: [
                "test.toml:2:7: error: camera.fps must be an integer, found a string; remove the quotes: fps = 30"
            ]),
        ProblemCase(
            name: "float for an integer", text: "[filter]\ndwell_ms = 120.0\n",
            expected: [
                "test.toml:2:12: error: filter.dwell_ms must be an integer, found a float; write dwell_ms = 120"
            ]),
        ProblemCase(
            name: "out of range (camera)", text: "[camera]\nfps = 0\n",
            expected: [
                "test.toml:2:7: error: camera.fps = 0 is out of range; allowed: 1...240"
            ]),
        ProblemCase(
            name: "out of range (DecisionFilterSettings.validate)", text: "[filter]\ndwell_ms = 20000\n",
            expected: [
                "test.toml:2:12: error: filter.dwell_ms = 20000 is out of range; allowed: 0...10000 ms"
            ]),
        ProblemCase(
            name: "out of range (TrainingOptions.validate)", text: "[head]\nepochs = 0\n",
            expected: [
                "test.toml:2:10: error: head.epochs = 0 is out of range; allowed: 1...10000"
            ]),
        ProblemCase(
            name: "out of range (RecordingSettings.validate)", text: "[recording]\nduplicate_distance = 1\n",
            expected: [
                "test.toml:2:22: error: recording.duplicate_distance = 1.0 is out of range; allowed: 0 ≤ value < 1"
            ]),
        ProblemCase(
            name: "unknown key with suggestion", text: "[filter]\ndwel_ms = 100\n",
            expected: [
                "test.toml:2:1: error: unknown key 'dwel_ms' in [filter]; did you mean 'dwell_ms'?"
            ]),
        ProblemCase(
            name: "unknown key without suggestion", text: "[model]\ncolour = \"red\"\n",
            expected: [
                "test.toml:2:1: error: unknown key 'colour' in [model]; keys of [model] are name, layer, threads"
            ]),
        ProblemCase(
            name: "unknown section", text: "[camra]\nfps = 30\n",
            expected: [
                "test.toml:1:2: error: unknown section [camra]; did you mean [camera]?"
            ]),
        ProblemCase(
            name: "key outside any section", text: "dwell_ms = 100\n",
            expected: [
                "test.toml:1:1: error: key 'dwell_ms' is outside any section; move it under [filter]"
            ]),
        ProblemCase(
            name: "duplicate key", text: "[filter]\ndwell_ms = 100\ndwell_ms = 150\n",
            expected: [
                "test.toml:3:1: error: duplicate key 'dwell_ms'; first defined at line 2; keep one of the two lines"
            ]),
        ProblemCase(
            name: "label without key", text: "[labels]\norder = [\"up\", \"jump\"]\n",
            expected: [
                "test.toml:2:9: error: label 'jump' has no key in [keys]; add `jump = \"KEY_…\"` (or \"none\") under [keys]"
            ]),
        ProblemCase(
            name: "key for unknown label", text: "[keys]\nupp = \"KEY_W\"\n",
            expected: [
                "test.toml:2:1: error: [keys] names 'upp', which is not a label; did you mean 'up'?"
            ]),
        ProblemCase(
            name: "key for unknown label, nothing close", text: "[keys]\njump = \"KEY_SPACE\"\n",
            expected: [
                "test.toml:2:1: error: [keys] names 'jump', which is not a label; "
                    + "labels are up, down, left, right; add it to labels.order or remove this line"
            ]),
        ProblemCase(
            name: "key for idle", text: "[keys]\nidle = \"KEY_SPACE\"\n",
            expected: [
                "test.toml:2:1: error: 'idle' presses no key; remove this line"
            ]),
        ProblemCase(
            name: "bad key syntax", text: "[keys]\nup = \"KEY_up\"\n",
            expected: [
                "test.toml:2:6: error: keys.up: 'KEY_up' is not a key name: expected KEY_ followed by A–Z, 0–9 or '_' "
                    + "(e.g. \"KEY_UP\", chords as \"KEY_LEFTCTRL+KEY_C\"); write \"none\" for no key"
            ]),
        ProblemCase(
            name: "bad chord", text: "[keys]\nup = \"KEY_A+\"\n",
            expected: [
                "test.toml:2:6: error: keys.up: an empty name is not a key name: expected KEY_ followed by A–Z, 0–9 or '_' "
                    + "(e.g. \"KEY_UP\", chords as \"KEY_LEFTCTRL+KEY_C\"); write \"none\" for no key"
            ]),
        ProblemCase(
            name: "exit ≥ enter", text: "[filter]\nenter = 0.7\nexit = 0.7\n",
            expected: [
                "test.toml:3:8: error: filter.exit (0.7) must be below filter.enter (0.7); "
                    + "a held key is released below exit, so exit < enter (e.g. 0.2 lower)"
            ]),
        ProblemCase(
            name: "enter below the default exit", text: "[filter]\nenter = 0.5\n",
            expected: [
                "test.toml:2:9: error: filter.exit (0.6, the default) must be below filter.enter (0.5); "
                    + "a held key is released below exit, so exit < enter (e.g. 0.2 lower)"
            ]),
        ProblemCase(
            name: "per-label exit ≥ enter", text: "[filter.exit_by_label]\nleft = 0.85\n",
            expected: [
                "test.toml:2:8: error: for 'left', filter.exit_by_label.left (0.85) must be below filter.enter (0.8, the default); "
                    + "exit < enter for every label"
            ]),
        ProblemCase(
            name: "per-label threshold for an unknown label", text: "[filter.enter_by_label]\nlft = 0.9\n",
            expected: [
                "test.toml:2:1: error: filter.enter_by_label.lft: 'lft' is not a label; did you mean 'left'?"
            ]),
        ProblemCase(
            name: "label listed twice", text: "[labels]\norder = [\"up\", \"down\", \"up\"]\n",
            expected: [
                "test.toml:2:24: error: label 'up' appears twice in labels.order (first at line 2)"
            ]),
        ProblemCase(
            name: "idle in the order", text: "[labels]\norder = [\"up\", \"idle\"]\n",
            expected: [
                "test.toml:2:16: error: 'idle' does not go in labels.order; set `idle = true` instead (idle is always the last class)"
            ]),
        ProblemCase(
            name: "one class only", text: "[labels]\norder = [\"up\"]\nidle = false\n",
            expected: [
                "test.toml:2:9: error: at least two classes are needed, found 1 (up); list two or more labels, or one label and `idle = true`"
            ]),
        ProblemCase(
            name: "choice with suggestion", text: "[daemon]\nlog_level = \"debg\"\n",
            expected: [
                "test.toml:2:13: error: daemon.log_level = \"debg\" is not one of \"trace\", \"debug\", \"info\", \"notice\", "
                    + "\"warning\", \"error\", \"critical\"; did you mean \"debug\"?"
            ]),
        ProblemCase(
            name: "relative path", text: "[daemon]\nsocket_path = \"run/gp.sock\"\n",
            expected: [
                "test.toml:2:15: error: daemon.socket_path = \"run/gp.sock\" must be an absolute path (or start with ~/); "
                    + "the daemon runs from /, so relative paths would not mean what they seem"
            ]),
        ProblemCase(
            name: "two labels on one key (warning)", text: "[keys]\nleft = \"KEY_UP\"\n",
            expected: [
                "test.toml:2:8: warning: keys.left presses KEY_UP, the same as keys.up; "
                    + "give each label its own key unless both should do the same"
            ]),
        ProblemCase(
            name: "label on the pause hotkey (warning)",
            text: "[daemon]\npause_hotkey = \"KEY_PAUSE\"\n[keys]\nup = \"KEY_PAUSE\"\n",
            expected: [
                "test.toml:4:6: warning: keys.up presses KEY_PAUSE, the same as daemon.pause_hotkey; "
                    + "give each label its own key unless both should do the same"
            ]),
    ]

    @Test("each kind of problem is reported at its file:line:column", arguments: problemCases)
    func problems(_ testCase: ProblemCase) {
        #expect(diagnostics(testCase.text) == testCase.expected)
    }

    @Test("all problems of a file are reported in one pass, in line order")
    func allProblemsAtOnce() {
        let text = """
            [camera]
            fps = "fast"
            widht = 640
            [filter]
            enter = 1.5
            dwell_ms = -1
            dwell_ms = 5
            [keys]
            right = "KEY_RIGHT+KEY_RIGHT"
            [head]
            hidden_units = 0
            batch_fraction = 2
            [daemon]
            dry_run = "yes"
            """
        let result = ConfigLoader(environment: [:]).parse(text, file: "test.toml")
        #expect(result.diagnostics.map(\.line) == [2, 3, 5, 6, 7, 9, 11, 12, 14])
        #expect(result.errors.count == 9)
        #expect(result.diagnostics[1].hint == "did you mean 'width'?")
        #expect(throws: SettingsError.configInvalid(file: "test.toml", diagnostics: result.errors)) {
            try result.validConfig()
        }
    }

    @Test("the effective config rendered as TOML reads back unchanged")
    func renderRoundTrip() throws {
        var config = GesturepadConfig()
        config.camera.exposure = .automatic(allowFrameRateDrop: true)
        config.labels = try LabelSet(["a", "b", "idle"])
        config.keys = ["a": .chord(KeyNameChord(["KEY_LEFTSHIFT", "KEY_A"])), "b": .unbound]
        config.filter.enterThresholdByLabel = ["a": 0.9]
        config.filter.exitThresholdByLabel = ["b": 0.3]
        config.head.learningRate = 1e-7
        config.daemon.socketPath = "/tmp/a \"quoted\" path.sock"
        config.daemon.pauseHotkey = nil
        for sample in [GesturepadConfig(), config] {
            let result = ConfigLoader(environment: [:]).parse(sample.renderTOML(), file: "rendered.toml")
            #expect(result.diagnostics == [])
            #expect(result.config == sample)
        }
    }

    @Test("JSON output uses the TOML names and parses as JSON")
    func renderJSON() throws {
        let data = Data(GesturepadConfig().renderJSON().utf8)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let filter = try #require(object["filter"] as? [String: Any])
        #expect(filter["dwell_ms"] as? Int == 120)
        #expect((filter["enter"] as? Double).map { abs($0 - 0.8) < 1e-9 } == true)
        let labels = try #require(object["labels"] as? [String: Any])
        #expect(labels["order"] as? [String] == ["up", "down", "left", "right"])
        #expect(Set(object.keys) == Set(SettingsSchema.sections))
    }

    struct FakeKeyNames: KeyNameCatalog {
        let keyNames = ["KEY_UP", "KEY_DOWN", "KEY_LEFT", "KEY_RIGHT", "KEY_PAUSE", "KEY_SPACE"]
        func contains(keyName name: String) -> Bool { keyNames.contains(name) }
    }

    @Test("with a key-name catalog, unknown names are errors with a suggestion")
    func keyNameCatalog() {
        #expect(
            diagnostics("[keys]\nup = \"KEY_SPACEE\"\n", keyNames: FakeKeyNames()) == [
                "test.toml:2:6: error: keys.up: unknown key name 'KEY_SPACEE'; did you mean 'KEY_SPACE'?"
            ])
        #expect(diagnostics("[keys]\nup = \"KEY_SPACEE\"\n") == [])
    }

    // MARK: Path resolution

    @Test("--config beats $XDG_CONFIG_HOME, which beats ~/.config, which beats the defaults")
    func pathResolution() throws {
        let root = temporaryDirectory("config")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let home = root + "/home"
        let xdg = root + "/xdg"
        let environment = ["HOME": home, "XDG_CONFIG_HOME": xdg]
        let loader = ConfigLoader(environment: environment)
        let xdgFile = xdg + "/gesturepad/config.toml"
        let homeFile = home + "/.config/gesturepad/config.toml"
        #expect(loader.candidatePaths() == [xdgFile, homeFile])

        let defaults = loader.load()
        #expect(defaults.source == .builtInDefaults(searched: [xdgFile, homeFile]))
        #expect(defaults.diagnostics.map(\.severity) == [.note])
        #expect(defaults.config == GesturepadConfig())
        #expect(!defaults.hasErrors)

        try writeFile("[camera]\nfps = 10\n", to: homeFile)
        #expect(loader.load().source == .discovered(path: homeFile))
        #expect(loader.load().config.camera.framesPerSecond == 10)

        try writeFile("[camera]\nfps = 20\n", to: xdgFile)
        #expect(loader.load().source == .discovered(path: xdgFile))
        #expect(loader.load().config.camera.framesPerSecond == 20)

        let explicit = root + "/other.toml"
        try writeFile("[camera]\nfps = 25\n", to: explicit)
        #expect(loader.load(explicitPath: explicit).source == .commandLine(path: explicit))
        #expect(loader.load(explicitPath: explicit).config.camera.framesPerSecond == 25)

        #expect(ConfigLoader(environment: ["HOME": home]).candidatePaths() == [homeFile])
    }

    @Test("a missing --config file is an error naming the file, not a silent fallback")
    func missingExplicitFile() throws {
        let root = temporaryDirectory("config")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let result = ConfigLoader(environment: ["HOME": root]).load(explicitPath: root + "/nope.toml")
        #expect(result.errors.count == 1)
        #expect(result.errors.first?.file == root + "/nope.toml")
        #expect(result.errors.first?.line == nil)
        #expect(result.errors.first?.message.hasPrefix("cannot read the config file") == true)
    }

    @Test("did-you-mean picks the nearest key and ignores far ones")
    func suggestions() {
        #expect(Spelling.editDistance("dwel_ms", "dwell_ms") == 1)
        #expect(Spelling.editDistance("kitten", "sitting") == 3)
        #expect(Spelling.editDistance("widht", "width") == 1)
        #expect(Spelling.suggestion(for: "jump", among: ["up", "down", "left", "right"]) == nil)
        #expect(Spelling.suggestion(for: "refactory_ms", among: ["dwell_ms", "refractory_ms"]) == "refractory_ms")
        #expect(Spelling.suggestion(for: "colour", among: ["name", "layer"]) == nil)
    }
}
