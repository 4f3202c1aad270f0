// GesturepadPathsTests: every path gesturepad builds from the environment — XDG variables set, unset,
// empty or relative, HOME set or not — resolved the way the XDG Base Directory Specification says.
import Foundation
import Paths
import Testing

@Suite("GesturepadPaths")
struct GesturepadPathsTests {
    /// One environment and the paths it must give.
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let environment: [String: String]
        let data: String
        let models: String
        let configFiles: [String]
        let cache: String
        let controlSocket: String?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "HOME only", environment: ["HOME": "/home/u"],
            data: "/home/u/.local/share/gesturepad", models: "/home/u/.local/share/gesturepad/models",
            configFiles: ["/home/u/.config/gesturepad/config.toml"], cache: "/home/u/.cache/gesturepad",
            controlSocket: nil),
        Case(
            name: "every XDG variable set",
            environment: [
                "HOME": "/home/u", "XDG_DATA_HOME": "/data", "XDG_CONFIG_HOME": "/config", "XDG_CACHE_HOME": "/cache",
                "XDG_RUNTIME_DIR": "/run/user/7",
            ],
            data: "/data/gesturepad", models: "/data/gesturepad/models",
            configFiles: ["/config/gesturepad/config.toml", "/home/u/.config/gesturepad/config.toml"],
            cache: "/cache/gesturepad", controlSocket: "/run/user/7/gesturepad/control.sock"),
        Case(
            name: "empty XDG variables count as unset",
            environment: [
                "HOME": "/home/u", "XDG_DATA_HOME": "", "XDG_CONFIG_HOME": "", "XDG_CACHE_HOME": "",
                "XDG_RUNTIME_DIR": "",
            ],
            data: "/home/u/.local/share/gesturepad", models: "/home/u/.local/share/gesturepad/models",
            configFiles: ["/home/u/.config/gesturepad/config.toml"], cache: "/home/u/.cache/gesturepad",
            controlSocket: nil),
        Case(
            name: "relative XDG homes are ignored (the spec calls them invalid)",
            environment: ["HOME": "/home/u", "XDG_DATA_HOME": "data", "XDG_CONFIG_HOME": "cfg", "XDG_CACHE_HOME": "c"],
            data: "/home/u/.local/share/gesturepad", models: "/home/u/.local/share/gesturepad/models",
            configFiles: ["/home/u/.config/gesturepad/config.toml"], cache: "/home/u/.cache/gesturepad",
            controlSocket: nil),
        Case(
            name: "XDG_CONFIG_HOME equal to ~/.config is searched once",
            environment: ["HOME": "/home/u", "XDG_CONFIG_HOME": "/home/u/.config"],
            data: "/home/u/.local/share/gesturepad", models: "/home/u/.local/share/gesturepad/models",
            configFiles: ["/home/u/.config/gesturepad/config.toml"], cache: "/home/u/.cache/gesturepad",
            controlSocket: nil),
        Case(
            name: "XDG homes without HOME",
            environment: [
                "XDG_DATA_HOME": "/d", "XDG_CONFIG_HOME": "/c", "XDG_CACHE_HOME": "/k", "XDG_RUNTIME_DIR": "/r",
            ],
            data: "/d/gesturepad", models: "/d/gesturepad/models",
            configFiles: ["/c/gesturepad/config.toml", NSHomeDirectory() + "/.config/gesturepad/config.toml"],
            cache: "/k/gesturepad", controlSocket: "/r/gesturepad/control.sock"),
    ]

    @Test("resolves data, models, config, cache and the control socket", arguments: cases)
    func resolution(_ expected: Case) {
        let paths = GesturepadPaths(environment: expected.environment)
        #expect(paths.dataDirectory.path == expected.data)
        #expect(paths.dataDirectory.samplesDatabase == expected.data + "/samples.sqlite")
        #expect(paths.dataDirectory.headsDirectory == expected.data + "/heads")
        #expect(paths.modelsDirectory == expected.models)
        #expect(paths.configFileCandidates == expected.configFiles)
        #expect(paths.cacheDirectory == expected.cache)
        #expect(paths.downloadedFilesDirectory == expected.cache + "/files")
        #expect(paths.controlSocket == expected.controlSocket)
        #expect(paths.runtimeDirectory.map { $0 + "/control.sock" } == expected.controlSocket)
    }

    @Test("HOME unset or empty falls back to the passwd home", arguments: [[:], ["HOME": ""]])
    func homeFallback(_ environment: [String: String]) {
        let paths = GesturepadPaths(environment: environment)
        #expect(paths.home == NSHomeDirectory())
        #expect(paths.dataDirectory.path == NSHomeDirectory() + "/.local/share/gesturepad")
    }

    @Test(
        "a configured data directory moves samples and heads, not models; ~/ expands to HOME",
        arguments: [
            (nil, "/data/gesturepad"), ("/srv/gp", "/srv/gp"), ("~/gp", "/home/u/gp"), ("~", "/home/u"),
            ("~user/gp", "~user/gp"),
        ] as [(String?, String)])
    func configuredDataDirectory(configured: String?, expected: String) {
        let paths = GesturepadPaths(environment: ["HOME": "/home/u", "XDG_DATA_HOME": "/data"])
        let data = paths.dataDirectory(configured: configured)
        #expect(data.path == expected)
        #expect(data.samplesDatabase == expected + "/samples.sqlite")
        #expect(paths.modelsDirectory == "/data/gesturepad/models")
    }

    @Test(
        "the daemon's socket falls back to /run/user/<uid> when XDG_RUNTIME_DIR is unset",
        arguments: [
            ([:], "/run/user/1000/gesturepad/control.sock"),
            (["XDG_RUNTIME_DIR": ""], "/run/user/1000/gesturepad/control.sock"),
            (["XDG_RUNTIME_DIR": "/tmp/rt"], "/tmp/rt/gesturepad/control.sock"),
        ] as [([String: String], String)])
    func controlSocketFallback(environment: [String: String], expected: String) {
        #expect(GesturepadPaths(environment: environment).controlSocket(userID: 1000) == expected)
    }
}
