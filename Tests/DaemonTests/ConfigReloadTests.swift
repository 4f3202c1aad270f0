// ConfigReloadTests: what a reload applies, decided by the schema's restart flags (ConfigReloader): keys
// that apply on reload change, restart-only keys keep their running values and are named, a config with
// errors or a config file deleted since the start fails the reload and keeps the running config.
import Foundation
import Gestures
import Settings
import TestSupport
import Testing

@testable import Daemon

@Suite("Config reload")
struct ConfigReloadTests {
    /// A config directory with `text` as its config.toml, a loader for it, and a reloader started from it.
    struct Fixture {
        let root: String
        let file: String
        let loader: ConfigLoader
        let reloader: ConfigReloader

        init(_ text: String) throws {
            root = temporaryDirectory("reload")
            file = root + "/xdg/gesturepad/config.toml"
            try FileManager.default.createDirectory(
                atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let environment = ["HOME": root + "/home", "XDG_CONFIG_HOME": root + "/xdg", "XDG_DATA_HOME": root]
            let loader = ConfigLoader(environment: environment)
            self.loader = loader
            reloader = ConfigReloader(initial: loader.load(), environment: environment) { loader.load() }
        }

        func write(_ text: String) throws { try text.write(toFile: file, atomically: true, encoding: .utf8) }
    }

    @Test("reload applies filter and camera changes, names and holds back model, label and mirror changes")
    func restartOnlyKeysAreNamed() throws {
        let fixture = try Fixture("[filter]\nenter = 0.8\n")
        defer { try? FileManager.default.removeItem(atPath: fixture.root) }
        try fixture.write(
            """
            [camera]
            fps = 15
            mirror = false
            [model]
            name = "mobilenet_v2_1.0_224"
            [filter]
            enter = 0.9
            """)
        let plan = try fixture.reloader.next()
        #expect(
            plan.restartNeeded == [
                "camera.mirror changed: restart the daemon to apply",
                "model.name changed: restart the daemon to apply",
            ])
        #expect(plan.settings.filter.enterThreshold == 0.9)
        #expect(plan.settings.camera.framesPerSecond == 15)
        #expect(plan.settings.workspace.modelName == WorkspaceConfiguration.defaultModel)
        #expect(plan.settings.workspace.mirror == true)
        // Still pending on the next reload: the running config keeps the old model.
        #expect(try fixture.reloader.next().restartNeeded.count == 2)
    }

    @Test("an unchanged file reloads with nothing to restart")
    func unchanged() throws {
        let fixture = try Fixture("[labels]\norder = [\"a\", \"b\"]\n[keys]\na = \"KEY_A\"\nb = \"none\"\n")
        defer { try? FileManager.default.removeItem(atPath: fixture.root) }
        let plan = try fixture.reloader.next()
        #expect(plan.restartNeeded == [])
        #expect(plan.settings.workspace.labels.names == ["a", "b", "idle"])
    }

    @Test("a config file deleted since the start fails the reload, naming the path; the running config stays")
    func deletedFileKeepsTheRunningConfig() throws {
        let fixture = try Fixture("[filter]\nenter = 0.95\n")
        defer { try? FileManager.default.removeItem(atPath: fixture.root) }
        try FileManager.default.removeItem(atPath: fixture.file)
        #expect(throws: DaemonError.configFileRemoved(path: fixture.file)) { try fixture.reloader.next() }
        #expect(fixture.reloader.config.filter.enterThreshold == 0.95)
        #expect(DaemonError.configFileRemoved(path: fixture.file).description.contains(fixture.file))
        try fixture.write("[filter]\nenter = 0.85\n")
        #expect(try fixture.reloader.next().settings.filter.enterThreshold == 0.85)
    }

    @Test("a config with errors fails the reload with file:line; the running config stays")
    func errorsKeepTheRunningConfig() throws {
        let fixture = try Fixture("[filter]\nenter = 0.95\n")
        defer { try? FileManager.default.removeItem(atPath: fixture.root) }
        try fixture.write("[filter]\nenter = 2\n")
        do {
            _ = try fixture.reloader.next()
            Issue.record("reload with errors succeeded")
        } catch {
            #expect(error.description.contains("config.toml:2:9: error: filter.enter = 2.0 is out of range"))
        }
        #expect(fixture.reloader.config.filter.enterThreshold == 0.95)
    }
}
