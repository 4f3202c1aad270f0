// EditedSettings: the training settings a user changed in the game window (Tab and +/- on the training
// screen: [head] learning_rate, batch_fraction, epochs, hidden_units), kept in a small TOML file in the
// data directory, `<data>/edited-settings.toml`, so they survive a restart.
//
// Why not write them into config.toml: the config is the user's file, with their comments and order;
// a program rewriting it would lose both. Why not keep them in the window only: "one config that every
// command obeys" — `gesturepad train` must train with the values the window shows. So the loader layers
// this file between the config file and the flags: config.toml < edited-settings.toml < command-line
// flags, for every command (ConfigLoader.load), and `--print-settings` names the file when it applies.
// Deleting the file goes back to the config's values. Only the four keys above are read from it; any
// other key there is ignored with a warning naming file:line (the window never writes one).
// Writes are atomic (SystemSupport's AtomicFile: temporary file, fsync, rename).
import Foundation
import Gestures
import NeuralNet
import Paths
import SystemSupport

/// The window's edits of the training settings, kept between runs.
public enum EditedSettings {
    /// The dotted keys this file may set, in the order they are written.
    public static let keys = ["head.learning_rate", "head.batch_fraction", "head.epochs", "head.hidden_units"]
    /// Largest file read (64 KiB; the window writes about 600 bytes).
    public static let maximumFileBytes = 64 * 1024

    /// The file's text for `options`: a header saying what it is, then the four `[head]` keys.
    public static func render(_ options: TrainingOptions) -> String {
        var config = GesturepadConfig()
        config.head = options
        let lines = keys.compactMap { SettingsSchema.key($0) }.map { key in
            "\(key.name) = \(GesturepadConfig.toml(config.render(key)))"
        }
        return """
            # Training settings changed in the game window (gesturepad play: Tab, then + or -).
            # Every command reads them after config.toml and before its flags, so `gesturepad train` uses them too.
            # Written by the window; delete this file to go back to config.toml's [head] values.
            [head]

            """ + lines.joined(separator: "\n") + "\n"
    }

    /// Writes `options`' four keys to `path` atomically.
    public static func write(_ options: TrainingOptions, to path: String) throws(AtomicFileError) {
        try AtomicFile.write(Array(render(options).utf8), to: path)
    }

    /// The file at `path` as overrides that go below the command line's (each named `path:line` in messages), plus
    /// what was wrong with it; nil when there is no file.
    static func overrides(at path: String) -> (overrides: [ConfigOverride], diagnostics: [ConfigDiagnostic])? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let text: String
        do throws(NeuralNetError) {
            let bytes = try FileIO.read(path, maximumBytes: maximumFileBytes)
            guard let decoded = String(validating: bytes, as: UTF8.self) else {
                return ([], [unreadable(path, "it is not UTF-8 text")])
            }
            text = decoded
        } catch {
            let reason: String =
                switch error {
                case .fileUnreadable(_, let why): why
                case .sizeTooLarge: "it is larger than \(maximumFileBytes) bytes"
                default: error.description
                }
            return ([], [unreadable(path, reason)])
        }
        let document = TOMLDocument.parse(text)
        var diagnostics = document.errors.map { error in
            ConfigDiagnostic(
                file: path, position: error.position, severity: .warning,
                message: "\(error.message); the file is ignored", hint: "delete it to use config.toml's values")
        }
        guard diagnostics.isEmpty else { return ([], diagnostics) }
        var overrides: [ConfigOverride] = []
        for entry in document.root.entries {
            guard case .table(let table) = entry.value.kind else {
                diagnostics.append(ignored(path, entry.key, at: entry.keyPosition))
                continue
            }
            for inner in table.entries {
                let dotted = "\(entry.key).\(inner.key)"
                guard keys.contains(dotted) else {
                    diagnostics.append(ignored(path, dotted, at: inner.keyPosition))
                    continue
                }
                overrides.append(ConfigOverride(dotted, inner.value.kind, flag: "\(path):\(inner.keyPosition.line)"))
            }
        }
        return (overrides, diagnostics)
    }

    private static func unreadable(_ path: String, _ reason: String) -> ConfigDiagnostic {
        ConfigDiagnostic(
            file: path, position: nil, severity: .warning,
            message: "cannot read the window's edited settings: \(reason); config.toml's [head] values apply",
            hint: "delete the file")
    }

    private static func ignored(_ path: String, _ key: String, at position: TOMLPosition) -> ConfigDiagnostic {
        ConfigDiagnostic(
            file: path, position: position, severity: .warning,
            message: "\(key) is ignored here: this file keeps only \(keys.joined(separator: ", "))",
            hint: "set it in config.toml instead")
    }
}
