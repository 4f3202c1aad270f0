// The one place where the config file and the command line meet. `SettingsOptions` (--config,
// --print-settings) loads config.toml the way the daemon does (--config, else $XDG_CONFIG_HOME/gesturepad/
// config.toml, else ~/.config/…, else the built-in defaults) and applies a command's flags on top as
// `ConfigOverride`s, checked by the same schema as the file: a flag not given means "use the config value".
// `GestureOptions` (model, layer, mirror, labels, data directory) and the head and filter option groups
// only translate their flags into overrides. Every command's `--print-settings` prints the merged result.
import ArgumentParser
import Daemon
import Foundation
import Gestures
import Paths
import Settings

/// `--config FILE` and `--print-settings`: loads the config and merges command-line overrides.
struct SettingsOptions: ParsableArguments {
    @OptionGroup var file: ConfigFileOption

    @Flag(name: .long, help: "Print the settings this command would use (config file + flags) as TOML, and exit.")
    var printSettings = false

    /// The loader every command uses (key names checked against the kernel's table, as the daemon does).
    static func loader() -> ConfigLoader { ConfigLoader(keyNames: EvdevKeyNames()) }

    /// The config file with `overrides` on top, every diagnostic included.
    func load(_ overrides: [ConfigOverride]) -> ConfigLoadResult {
        Self.loader().load(explicitPath: file.config, overrides: overrides)
    }

    /// The config file with `overrides` on top. Warnings go to standard error; errors throw (naming file:line or
    /// the flag). With --print-settings, prints the result and exits before the command does anything.
    func resolve(_ overrides: [ConfigOverride]) throws -> GesturepadConfig { try resolveResult(overrides).config }

    /// `resolve`, keeping where the config came from (the daemon compares it on reload).
    func resolveResult(_ overrides: [ConfigOverride]) throws -> ConfigLoadResult {
        let result = load(overrides)
        for warning in result.warnings {
            FileHandle.standardError.write(Data("gesturepad: \(warning)\n".utf8))
        }
        let config = try result.validConfig()
        if printSettings {
            var flags: [String] = []
            for flag in overrides.map(\.flag) where !flags.contains(flag) { flags.append(flag) }
            let edited = result.editedSettingsPath.map { " and \($0)" } ?? ""
            print(
                "# Settings from \(result.source)\(edited)"
                    + (flags.isEmpty ? "" : " with \(flags.joined(separator: " "))"))
            print(config.renderTOML(), terminator: "")
            throw ExitCode.success
        }
        return result
    }
}

/// Options shared by the commands that work on the user's gestures (play, samples, train, eval, head, daemon).
struct GestureOptions: ParsableArguments {
    @OptionGroup var settings: SettingsOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Embedding model (an installed name, see `gesturepad model list`; default: [model] name, else the "
                + "current head's model, else mobilenet_v1_0.25_224)."))
    var model: String?

    @Option(name: .long, help: "Cut layer (default: [model] layer, else the model's embedding layer).")
    var layer: String?

    @Flag(
        name: .long, inversion: .prefixedNo,
        help: "Mirror frames like a selfie view (must match how samples were recorded; default: [camera] mirror).")
    var mirror: Bool?

    @Option(name: .long, help: "Comma-separated labels, in output order, idle last (default: [labels]).")
    var labels: String?

    @Option(name: .customLong("data-dir"), help: "Data directory (default: [daemon] data_directory).")
    var dataDirectory: String?

    /// These flags as config overrides.
    var overrides: [ConfigOverride] {
        var overrides: [ConfigOverride] = []
        if let model { overrides.append(ConfigOverride("model.name", .string(model), flag: "--model")) }
        if let layer { overrides.append(ConfigOverride("model.layer", .string(layer), flag: "--layer")) }
        if let mirror {
            overrides.append(
                ConfigOverride("camera.mirror", .boolean(mirror), flag: mirror ? "--mirror" : "--no-mirror"))
        }
        if let labels { overrides += Self.labelOverrides(labels) }
        if let dataDirectory {
            overrides.append(
                ConfigOverride("daemon.data_directory", .string(absolutePath(dataDirectory)), flag: "--data-dir"))
        }
        return overrides
    }

    /// `--labels a,b,idle` as `labels.order = ["a", "b"]` and `labels.idle = true`.
    static func labelOverrides(_ text: String) -> [ConfigOverride] {
        let names = text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        let order = names.filter { $0 != LabelSet.idle }
        let position = TOMLPosition(line: 0, column: 0)
        return [
            ConfigOverride(
                "labels.order", .array(order.map { TOMLValue(.string($0), at: position) }), flag: "--labels"),
            ConfigOverride("labels.idle", .boolean(names.contains(LabelSet.idle)), flag: "--labels"),
        ]
    }

    /// The config with these flags and `extra` (the command's own) on top.
    func resolve(_ extra: [ConfigOverride] = []) throws -> GesturepadConfig {
        try settings.resolve(overrides + extra)
    }

    /// `resolve`, keeping where the config came from.
    func resolveResult(_ extra: [ConfigOverride] = []) throws -> ConfigLoadResult {
        try settings.resolveResult(overrides + extra)
    }
}

/// Head hyperparameters as options (default: the config's [head]).
struct HeadHyperparameters: ParsableArguments {
    @Option(name: .long, help: "Adam learning rate (default: [head] learning_rate).") var learningRate: Double?
    @Option(name: .long, help: "Batch size as a fraction of the samples (never rounds below 1; default: [head]).")
    var batchFraction: Double?
    @Option(name: .long, help: "Epochs (default: [head] epochs).") var epochs: Int?
    @Option(name: .long, help: "Hidden units of the first dense layer (default: [head] hidden_units).") var units: Int?
    @Option(name: .long, help: "Seed for initial weights and shuffling (default: [head] seed).") var seed: UInt64?

    /// These flags as config overrides.
    var overrides: [ConfigOverride] {
        var overrides: [ConfigOverride] = []
        if let learningRate {
            overrides.append(ConfigOverride("head.learning_rate", .float(learningRate), flag: "--learning-rate"))
        }
        if let batchFraction {
            overrides.append(ConfigOverride("head.batch_fraction", .float(batchFraction), flag: "--batch-fraction"))
        }
        if let epochs { overrides.append(ConfigOverride("head.epochs", .integer(Int64(epochs)), flag: "--epochs")) }
        if let units { overrides.append(ConfigOverride("head.hidden_units", .integer(Int64(units)), flag: "--units")) }
        if let seed {
            overrides.append(ConfigOverride("head.seed", .integer(Int64(clamping: seed)), flag: "--seed"))
        }
        return overrides
    }
}

/// Decision-filter settings as options (default: the config's [filter]).
struct FilterOptions: ParsableArguments {
    @Option(name: .long, help: "Probability a class must exceed to start a press.") var enter: Double?
    @Option(name: .long, help: "Probability below which a held key is released.") var exit: Double?
    @Option(name: .long, help: "Milliseconds above the enter threshold before the key goes down.") var dwell: Int?
    @Option(name: .long, help: "Milliseconds after a release before another press.") var refractory: Int?
    @Option(name: .long, help: "Smoothing time constant in ms (0 = off).") var smoothing: Int?

    /// These flags as config overrides.
    var overrides: [ConfigOverride] {
        var overrides: [ConfigOverride] = []
        if let enter { overrides.append(ConfigOverride("filter.enter", .float(enter), flag: "--enter")) }
        if let exit { overrides.append(ConfigOverride("filter.exit", .float(exit), flag: "--exit")) }
        if let dwell { overrides.append(ConfigOverride("filter.dwell_ms", .integer(Int64(dwell)), flag: "--dwell")) }
        if let refractory {
            overrides.append(
                ConfigOverride("filter.refractory_ms", .integer(Int64(refractory)), flag: "--refractory"))
        }
        if let smoothing {
            overrides.append(ConfigOverride("filter.smoothing_ms", .integer(Int64(smoothing)), flag: "--smoothing"))
        }
        return overrides
    }
}

/// `path` made absolute against the working directory (the config requires absolute paths).
func absolutePath(_ path: String) -> String {
    path.hasPrefix("/") || path.hasPrefix("~/") ? path : URL(fileURLWithPath: path).standardizedFileURL.path
}

extension GesturepadConfig {
    /// The workspace (model, cut, mirror, labels, data directory) opened.
    func openWorkspace() throws -> GestureWorkspace { try GestureWorkspace(workspaceConfiguration()) }

    /// The head store under the data directory.
    func headStore() -> HeadStore { HeadStore(root: DataDirectory(dataDirectory()).headsDirectory) }

    /// The sample store alone (no model needed).
    func openSamples() throws -> SampleStore { try SampleStore(path: DataDirectory(dataDirectory()).samplesDatabase) }
}

/// Prints an Encodable as JSON with sorted keys (for `--json`): pretty, or with `compact` one line (the bench reports
/// that bench/peers.py reads).
func printJSON<Value: Encodable>(_ value: Value, compact: Bool = false) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = compact ? [.sortedKeys] : [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
