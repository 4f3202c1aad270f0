// ConfigLoader: finds the config file (`--config` > $XDG_CONFIG_HOME/gesturepad/config.toml >
// ~/.config/gesturepad/config.toml > built-in defaults), reads it, applies the training settings edited in
// the game window (EditedSettings: `<data>/edited-settings.toml`) and then command-line overrides on top,
// and returns the config with every diagnostic found in one pass. Every command loads through here, so
// `play`, `train`, `eval`, `samples` and the daemon see the same values. It never throws or prints: an
// unreadable file is an error diagnostic; callers that need a usable config call `validConfig()`.
import Foundation
import NeuralNet
import Paths

/// Where a config came from.
public enum ConfigSource: Sendable, Equatable, CustomStringConvertible {
    /// A file named on the command line (`--config` or `config check FILE`).
    case commandLine(path: String)
    /// A file found at one of the standard places.
    case discovered(path: String)
    /// No file found at `searched`; the built-in defaults apply.
    case builtInDefaults(searched: [String])

    /// The file read, nil for built-in defaults.
    public var path: String? {
        switch self {
        case .commandLine(let path), .discovered(let path): path
        case .builtInDefaults: nil
        }
    }

    /// The path, or "built-in defaults".
    public var description: String { path ?? "built-in defaults" }
}

/// A loaded config and everything found wrong (or noteworthy) about it.
public struct ConfigLoadResult: Sendable, Equatable {
    /// The config: file values where they are valid, defaults elsewhere.
    public var config: GesturepadConfig
    /// Where it came from.
    public var source: ConfigSource
    /// Every problem and note, sorted by line.
    public var diagnostics: [ConfigDiagnostic]
    /// The window's edited training settings (`EditedSettings`) layered over the file, when that file exists.
    public var editedSettingsPath: String?

    /// The error diagnostics.
    public var errors: [ConfigDiagnostic] { diagnostics.filter { $0.severity == .error } }
    /// The warning diagnostics.
    public var warnings: [ConfigDiagnostic] { diagnostics.filter { $0.severity == .warning } }
    /// Whether any diagnostic is an error.
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// The config if the file has no errors; else throws `SettingsError.configInvalid` listing them.
    public func validConfig() throws(SettingsError) -> GesturepadConfig {
        guard !hasErrors else { throw .configInvalid(file: source.description, diagnostics: errors) }
        return config
    }
}

/// Finds, reads and checks config files.
public struct ConfigLoader: Sendable {
    /// The file name under the config directories.
    public static let relativePath = GesturepadPaths.configFileRelativePath
    /// The `file` of diagnostics about the built-in defaults.
    public static let builtInName = "<built-in>"

    /// Environment consulted for XDG_CONFIG_HOME and HOME.
    public var environment: [String: String]
    /// Known key names, for checking `[keys]` beyond their syntax (nil: syntax only).
    public var keyNames: (any KeyNameCatalog)?

    /// A loader reading `environment` (default: the process's) and checking key names against `keyNames`.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        keyNames: (any KeyNameCatalog)? = nil
    ) {
        self.environment = environment
        self.keyNames = keyNames
    }

    /// The standard places, in order: `$XDG_CONFIG_HOME/gesturepad/config.toml` (when set), then
    /// `~/.config/gesturepad/config.toml`.
    public func candidatePaths() -> [String] { GesturepadPaths(environment: environment).configFileCandidates }

    /// Which file to read: `explicitPath` if given, else the first existing candidate, else the defaults.
    public func resolve(explicitPath: String? = nil) -> ConfigSource {
        if let explicitPath { return .commandLine(path: explicitPath) }
        let candidates = candidatePaths()
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) {
            return .discovered(path: found)
        }
        return .builtInDefaults(searched: candidates)
    }

    /// Largest config file read (1 MiB; the documented default config is about 10 KB).
    public static let maximumFileBytes = 1 << 20

    /// Resolves, reads and checks the config, then applies the window's edited training settings (the data
    /// directory's `edited-settings.toml`, see `EditedSettings`) and `overrides` (command-line flags) on top, in
    /// that order: config.toml < edited settings < flags.
    public func load(explicitPath: String? = nil, overrides: [ConfigOverride] = []) -> ConfigLoadResult {
        let result = loadFile(explicitPath: explicitPath, overrides: overrides)
        // The data directory comes from the file and the flags; the edited settings never move it.
        let path = DataDirectory(result.config.dataDirectory(environment: environment)).editedSettings
        guard let edited = EditedSettings.overrides(at: path) else { return result }
        var layered = loadFile(explicitPath: explicitPath, overrides: edited.overrides + overrides)
        layered.diagnostics += edited.diagnostics
        layered.editedSettingsPath = path
        return layered
    }

    private func loadFile(explicitPath: String?, overrides: [ConfigOverride]) -> ConfigLoadResult {
        let source = resolve(explicitPath: explicitPath)
        guard let path = source.path else {
            let note = ConfigDiagnostic(
                file: Self.builtInName, position: nil, severity: .note,
                message: "no config file found (looked for \(candidatePaths().joined(separator: ", "))); "
                    + "using the built-in defaults",
                hint: "copy Config/gesturepad.toml to \(candidatePaths()[0]) to change them")
            var result = parse("", file: Self.builtInName, overrides: overrides)
            result.source = source
            result.diagnostics.insert(note, at: 0)
            return result
        }
        let text: String
        do throws(NeuralNetError) {
            // A regular file of at most `maximumFileBytes` (a FIFO or /dev/zero is refused, not read forever).
            let bytes = try FileIO.read(path, maximumBytes: Self.maximumFileBytes)
            guard let decoded = String(validating: bytes, as: UTF8.self) else {
                return Self.unreadable(path, source: source, reason: "it is not UTF-8 text")
            }
            text = decoded
        } catch {
            let reason: String
            switch error {
            case .fileUnreadable(_, let why): reason = why
            case .sizeTooLarge: reason = "it is larger than \(Self.maximumFileBytes) bytes, too large for a config file"
            default: reason = error.description
            }
            return Self.unreadable(path, source: source, reason: reason)
        }
        var result = parse(text, file: path, overrides: overrides)
        result.source = source
        return result
    }

    /// Checks config `text` as if read from `file`, with `overrides` on top.
    public func parse(_ text: String, file: String, overrides: [ConfigOverride] = []) -> ConfigLoadResult {
        var decoder = ConfigDecoder(file: file, keyNames: keyNames, overrides: overrides)
        let config = decoder.decode(TOMLDocument.parse(text))
        return ConfigLoadResult(config: config, source: .commandLine(path: file), diagnostics: decoder.diagnostics)
    }

    private static func unreadable(_ path: String, source: ConfigSource, reason: String) -> ConfigLoadResult {
        let diagnostic = ConfigDiagnostic(
            file: path, position: nil, severity: .error, message: "cannot read the config file: \(reason)",
            hint: "check the path and its permissions")
        return ConfigLoadResult(config: GesturepadConfig(), source: source, diagnostics: [diagnostic])
    }
}
