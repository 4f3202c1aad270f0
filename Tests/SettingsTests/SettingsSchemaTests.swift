// SettingsSchemaTests: the schema table is the one description of config.toml — the shipped
// Config/gesturepad.toml documents exactly its keys (each with a comment and its default), its ranges
// agree with the libraries' own `validate`, command-line overrides go through the same checks, and its
// restart flags mark what a reload cannot apply.
import Foundation
import Gestures
import NeuralNet
import Testing

@testable import Settings

@Suite("Settings schema")
struct SettingsSchemaTests {
    @Test("Config/gesturepad.toml documents every schema key, and nothing the schema lacks, with its default")
    func shippedFileDocumentsTheSchema() throws {
        let text = try String(contentsOfFile: shippedConfigPath, encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        let document = TOMLDocument.parse(text)
        #expect(document.errors == [])
        #expect(document.root.keys == SettingsSchema.sections, "the file's sections, in order")
        let loaded = ConfigLoader(environment: [:]).parse(text, file: shippedConfigPath)
        #expect(loaded.diagnostics == [])
        for section in SettingsSchema.sections {
            guard case .table(let table) = document.root[section]?.value.kind else {
                Issue.record("[\(section)] missing from the shipped file")
                continue
            }
            let keys = SettingsSchema.keys(in: section)
            if keys.map(\.kind) == [.labelKeys] {
                // [keys]: one line per default label, documented below the header.
                #expect(lines[table.entries.first.map { $0.keyPosition.line - 2 } ?? 0].hasPrefix("#"))
            } else {
                #expect(table.keys == keys.map(\.name), "[\(section)] keys, in schema order")
            }
            for key in keys {
                #expect(
                    key.read(loaded.config) == key.defaultValue, "\(key.dottedName): the file's value is the default")
                guard key.kind != .labelKeys, let entry = table[key.name] else { continue }
                // The comment block documenting the key: below a [section.key] header, else above the key (past
                // the keys of its group: width and height share one comment). It states the default.
                var block: [String] = []
                if case .table = entry.value.kind {
                    var index = entry.keyPosition.line
                    while index < lines.count, lines[index].hasPrefix("#") {
                        block.append(lines[index])
                        index += 1
                    }
                } else {
                    var index = entry.keyPosition.line - 2
                    while index > 0, lines[index].contains("="), !lines[index].hasPrefix("#") { index -= 1 }
                    while index >= 0, lines[index].hasPrefix("#") {
                        block.append(lines[index])
                        index -= 1
                    }
                }
                #expect(!block.isEmpty, "\(key.dottedName) has no comment")
                #expect(block.contains { $0.contains("Default") }, "\(key.dottedName): the comment gives no default")
            }
        }
    }

    @Test("each key has a one-line doc, and dotted names are unique")
    func docsAndNames() {
        for key in SettingsSchema.keys {
            #expect(!key.doc.isEmpty && !key.doc.contains("\n"), "\(key.dottedName)")
        }
        let names = SettingsSchema.keys.map(\.dottedName)
        #expect(Set(names).count == names.count)
    }

    /// A value just outside `bounds` (nil when the bound is unreachable, like Int.max).
    static func outside(_ bounds: SettingBounds, integer: Bool) -> [Double] {
        let step = integer ? 1.0 : max(abs(bounds.upper), abs(bounds.lower), 1) * 1e-6
        var values: [Double] = []
        values.append(bounds.lowerInclusive ? bounds.lower - step : bounds.lower)
        if bounds.upper < 1e15 { values.append(bounds.upperInclusive ? bounds.upper + step : bounds.upper) }
        return values
    }

    @Test("the schema's ranges are the libraries' ranges: a value the schema refuses, validate refuses too")
    func rangesAgreeWithTheLibraries() throws {
        for key in SettingsSchema.keys where ["filter", "head", "recording"].contains(key.section) {
            let bounds: SettingBounds
            let integer: Bool
            switch key.kind {
            case .integer(let found): (bounds, integer) = (found, true)
            case .number(let found, _): (bounds, integer) = (found, false)
            default: continue
            }
            for value in Self.outside(bounds, integer: integer) {
                var config = GesturepadConfig()
                if key.dottedName == "filter.exit" { config.filter.enterThreshold = 1 }  // hysteresis aside
                try key.write(&config, integer ? .integer(Int(value)) : .number(value))
                let refused: Bool
                switch key.section {
                case "filter": refused = (try? config.filter.validate(for: config.labels)) == nil
                case "head": refused = (try? config.head.validate()) == nil
                default: refused = (try? config.recording.validate()) == nil
                }
                // seed has no library limit below Int.max; a negative seed cannot be stored (UInt64).
                if key.dottedName != "head.seed" {
                    #expect(refused, "\(key.dottedName) = \(value): outside \(bounds) but the library accepts it")
                }
                #expect(!bounds.contains(value))
            }
        }
    }

    @Test("command-line overrides replace file values and are checked like them, errors naming the flag")
    func overrides() {
        let loader = ConfigLoader(environment: [:])
        let text = "[camera]\nmirror = true\n[head]\nepochs = 30\n"
        let merged = loader.parse(
            text, file: "c.toml",
            overrides: [
                ConfigOverride("camera.mirror", .boolean(false), flag: "--no-mirror"),
                ConfigOverride("filter.dwell_ms", .integer(50), flag: "--dwell"),
            ])
        #expect(merged.diagnostics == [])
        #expect(merged.config.mirror == false)
        #expect(merged.config.filter.dwellMilliseconds == 50)
        #expect(merged.config.head.epochs == 30, "keys without a flag keep the file's value")

        let bad = loader.parse(
            text, file: "c.toml", overrides: [ConfigOverride("head.epochs", .integer(0), flag: "--epochs")])
        #expect(
            bad.diagnostics.map(\.description) == [
                "--epochs: error: head.epochs = 0 is out of range; allowed: 1...10000"
            ])
        #expect(bad.config.head.epochs == 30 || bad.config.head.epochs == TrainingOptions().epochs)
    }

    @Test("labels from the command line: [keys] and per-label thresholds written for other labels only warn")
    func labelOverrides() throws {
        let text = "[keys]\nleft = \"KEY_A\"\n[filter.enter_by_label]\nleft = 0.9\n"
        let position = TOMLPosition(line: 0, column: 0)
        let result = ConfigLoader(environment: [:]).parse(
            text, file: "c.toml",
            overrides: [
                ConfigOverride(
                    "labels.order",
                    .array([TOMLValue(.string("fire"), at: position), TOMLValue(.string("jump"), at: position)]),
                    flag: "--labels"),
                ConfigOverride("labels.idle", .boolean(true), flag: "--labels"),
            ])
        #expect(result.errors == [])
        #expect(result.config.labels == (try LabelSet(["fire", "jump", "idle"])))
        #expect(result.config.keys == ["fire": .unbound, "jump": .unbound])
        #expect(result.config.filter.enterThresholdByLabel == [:])
        #expect(result.warnings.count == 4)
    }

    @Test("restart flags: model, labels, keys, mirror, the camera share and the daemon's own settings need a restart")
    func restartFlags() {
        let restart = Set(SettingsSchema.keys.filter { $0.application == .restart }.map(\.dottedName))
        #expect(
            restart == [
                "camera.mirror", "camera.share", "camera.share_device", "model.name", "model.layer", "model.threads",
                "labels.order",
                "labels.idle", "keys",
                "daemon.socket_path", "daemon.pause_hotkey", "daemon.dry_run", "daemon.log_level",
                "daemon.data_directory",
            ])
        var changed = GesturepadConfig()
        changed.modelName = "other"
        changed.filter.dwellMilliseconds = 10
        #expect(
            SettingsSchema.changedKeys(from: GesturepadConfig(), to: changed).map(\.dottedName) == [
                "model.name", "filter.dwell_ms",
            ])
    }

    @Test("config show --doc: every key is preceded by its doc line and still reads back unchanged")
    func documentedRendering() {
        let rendered = GesturepadConfig().renderTOML(documented: true)
        for key in SettingsSchema.keys { #expect(rendered.contains("# \(key.doc) ("), "\(key.dottedName)") }
        let result = ConfigLoader(environment: [:]).parse(rendered, file: "doc.toml")
        #expect(result.diagnostics == [])
        #expect(result.config == GesturepadConfig())
    }
}
