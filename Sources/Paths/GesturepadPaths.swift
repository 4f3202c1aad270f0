// GesturepadPaths: every file and directory gesturepad reads or writes outside a path the user names,
// resolved from the environment once (XDG Base Directory Specification 0.8: data, config, cache and
// runtime homes). Every command, the daemon and the window build their paths here; nothing else reads
// XDG_* or HOME. Invariants: every path is absolute; a relative or empty XDG_* value is ignored, as the
// spec requires; an unset or empty HOME falls back to the passwd entry (NSHomeDirectory()).
import Foundation

/// Where gesturepad keeps its data, config, cache and control socket, resolved from one environment.
///
/// Layout (defaults in brackets):
/// - data: `$XDG_DATA_HOME/gesturepad` [`~/.local/share/gesturepad`] — `models/`, and unless the config
///   moves it (`[daemon] data_directory`), `samples.sqlite`, `heads/` and `edited-settings.toml` (see `DataDirectory`)
/// - config: `$XDG_CONFIG_HOME/gesturepad/config.toml`, then `~/.config/gesturepad/config.toml`
/// - cache: `$XDG_CACHE_HOME/gesturepad` [`~/.cache/gesturepad`] — downloaded model files (`files/`)
/// - runtime: `$XDG_RUNTIME_DIR/gesturepad` — `control.sock`, `control.lock` (no default: the spec gives none)
public struct GesturepadPaths: Sendable, Equatable {
    /// The directory name under each XDG home.
    public static let applicationDirectoryName = "gesturepad"
    /// The config file's path under a config home.
    public static let configFileRelativePath = "gesturepad/config.toml"
    /// The control socket's file name in the runtime directory.
    public static let controlSocketFileName = "control.sock"

    /// The user's home directory: `$HOME`, or the passwd entry when HOME is unset or empty.
    public let home: String
    /// `$XDG_DATA_HOME` when absolute, else `~/.local/share`.
    public let dataHome: String
    /// `$XDG_CONFIG_HOME` when absolute, else nil (the spec's default `~/.config` is always searched after it).
    public let configHome: String?
    /// `$XDG_CACHE_HOME` when absolute, else `~/.cache`.
    public let cacheHome: String
    /// `$XDG_RUNTIME_DIR` when set and not empty, else nil.
    public let runtimeHome: String?

    /// Resolves every home from `environment` (default: the process's).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        func absolute(_ name: String) -> String? { environment[name].flatMap { $0.hasPrefix("/") ? $0 : nil } }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        self.home = home
        dataHome = absolute("XDG_DATA_HOME") ?? Self.join(home, ".local/share")
        configHome = absolute("XDG_CONFIG_HOME")
        cacheHome = absolute("XDG_CACHE_HOME") ?? Self.join(home, ".cache")
        runtimeHome = environment["XDG_RUNTIME_DIR"].flatMap { $0.isEmpty ? nil : $0 }
    }

    // MARK: Data

    /// gesturepad's default data directory: `$XDG_DATA_HOME/gesturepad` (`~/.local/share/gesturepad`).
    public var dataDirectory: DataDirectory { DataDirectory(Self.join(dataHome, Self.applicationDirectoryName)) }

    /// The data directory the config names (`[daemon] data_directory`, "~/" expanded), else the default.
    public func dataDirectory(configured: String?) -> DataDirectory {
        guard let configured else { return dataDirectory }
        return DataDirectory(expandingHome(configured))
    }

    /// Installed models: `$XDG_DATA_HOME/gesturepad/models`, one sub-directory per model. Always under the
    /// default data directory (a configured data directory moves samples and heads, not models).
    public var modelsDirectory: String { Self.join(dataDirectory.path, "models") }

    // MARK: Config

    /// Where a config file is looked for, in order: `$XDG_CONFIG_HOME/gesturepad/config.toml` (when set and
    /// absolute), then `~/.config/gesturepad/config.toml`.
    public var configFileCandidates: [String] {
        var paths: [String] = []
        if let configHome { paths.append(Self.join(configHome, Self.configFileRelativePath)) }
        let fallback = Self.join(Self.join(home, ".config"), Self.configFileRelativePath)
        if !paths.contains(fallback) { paths.append(fallback) }
        return paths
    }

    // MARK: Cache

    /// gesturepad's cache: `$XDG_CACHE_HOME/gesturepad` (`~/.cache/gesturepad`).
    public var cacheDirectory: String { Self.join(cacheHome, Self.applicationDirectoryName) }

    /// Model files downloaded by `tools/fetch-models.py`: `<cache>/files`.
    public var downloadedFilesDirectory: String { Self.join(cacheDirectory, "files") }

    // MARK: Runtime

    /// `$XDG_RUNTIME_DIR/gesturepad`, nil when XDG_RUNTIME_DIR is unset or empty.
    public var runtimeDirectory: String? {
        runtimeHome.map { Self.join($0, Self.applicationDirectoryName) }
    }

    /// `$XDG_RUNTIME_DIR/gesturepad/control.sock`, nil when XDG_RUNTIME_DIR is unset or empty.
    public var controlSocket: String? { runtimeDirectory.map { Self.join($0, Self.controlSocketFileName) } }

    /// `controlSocket`, or `/run/user/<userID>/gesturepad/control.sock` (where systemd-logind puts
    /// XDG_RUNTIME_DIR) when the variable is unset: the daemon's default when started outside a login session.
    public func controlSocket(userID: UInt32) -> String {
        controlSocket
            ?? Self.join(Self.join("/run/user/\(userID)", Self.applicationDirectoryName), Self.controlSocketFileName)
    }

    // MARK: Helpers

    /// `path` with a leading "~/" (or a lone "~") replaced by the home directory; other paths unchanged.
    public func expandingHome(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        return home + path.dropFirst()
    }

    static func join(_ directory: String, _ component: String) -> String {
        (directory as NSString).appendingPathComponent(component)
    }
}

/// A gesturepad data directory and the files in it: `samples.sqlite`, `heads/` and `edited-settings.toml`.
public struct DataDirectory: Sendable, Equatable, CustomStringConvertible {
    /// The directory.
    public let path: String

    /// The data directory at `path`.
    public init(_ path: String) { self.path = path }

    /// The sample store (SQLite): `<data>/samples.sqlite`.
    public var samplesDatabase: String { GesturepadPaths.join(path, "samples.sqlite") }
    /// The head store, one `vNNNN/` per trained head: `<data>/heads`.
    public var headsDirectory: String { GesturepadPaths.join(path, "heads") }
    /// The training settings changed in the game window, layered between config.toml and the flags by every
    /// command (Settings' EditedSettings): `<data>/edited-settings.toml`.
    public var editedSettings: String { GesturepadPaths.join(path, "edited-settings.toml") }

    public var description: String { path }
}
