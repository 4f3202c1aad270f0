// `gesturepad config check|show|path`: wiring only. Finding, reading and checking the file is
// `ConfigLoader` in Settings; this prints its diagnostics compiler-style (`file:line:col: error: …`,
// one per line on stdout so editors can jump to them) and picks exit codes: 1 on errors, else 0.
import ArgumentParser
import Daemon
import Foundation
import Settings

/// `--config FILE`, for every command that reads the config.
struct ConfigFileOption: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Config file to read instead of $XDG_CONFIG_HOME/gesturepad/config.toml.", valueName: "file"))
    var config: String?
}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check, show or locate the configuration file.",
        discussion: """
            The config is read from --config FILE, else $XDG_CONFIG_HOME/gesturepad/config.toml, else \
            ~/.config/gesturepad/config.toml, else the built-in defaults. Config/gesturepad.toml in the \
            source tree is the commented default file to start from.
            """,
        subcommands: [Check.self, Show.self, Path.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a config file and list every problem as file:line:column: error: message.",
            discussion: "Exit status: 0 when there are no errors (warnings allowed), 1 when there are errors.")

        @Argument(help: ArgumentHelp("The file to check (default: the one gesturepad would read).", valueName: "file"))
        var file: String?

        @OptionGroup var options: ConfigFileOption

        func run() throws {
            let result = ConfigLoader(keyNames: EvdevKeyNames()).load(explicitPath: file ?? options.config)
            for diagnostic in result.diagnostics { print(diagnostic) }
            let errors = result.errors.count
            let warnings = result.warnings.count
            print("\(result.source): \(Self.count(errors, "error")), \(Self.count(warnings, "warning"))")
            if errors > 0 { throw ExitCode.failure }
        }

        static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the configuration in effect (file values over defaults) as TOML or JSON.")

        @Flag(name: .long, help: "Print JSON instead of TOML.")
        var json = false

        @Flag(name: .long, help: "Precede each key with its one-line doc, kind and whether a change needs a restart.")
        var doc = false

        @OptionGroup var options: ConfigFileOption

        func run() throws {
            let result = ConfigLoader(keyNames: EvdevKeyNames()).load(explicitPath: options.config)
            guard !result.hasErrors else {
                for diagnostic in result.diagnostics { printError(diagnostic) }
                printError("\(result.source) has errors; fix them first (`gesturepad config check`).")
                throw ExitCode.failure
            }
            if json {
                print(result.config.renderJSON(), terminator: "")
            } else {
                print("# Effective configuration from \(result.source)")
                print(result.config.renderTOML(documented: doc), terminator: "")
            }
        }
    }

    struct Path: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the config file gesturepad reads (or would read, if it does not exist yet).",
            discussion:
                "Handy as `$EDITOR \"$(gesturepad config path)\"`. A note on stderr says when the file is missing.")

        @OptionGroup var options: ConfigFileOption

        func run() throws {
            let loader = ConfigLoader(keyNames: EvdevKeyNames())
            switch loader.resolve(explicitPath: options.config) {
            case .commandLine(let path), .discovered(let path):
                print(path)
            case .builtInDefaults(let searched):
                print(searched[0])
                printError(
                    "note: \(searched[0]) does not exist; the built-in defaults are in use "
                        + "(copy Config/gesturepad.toml there to change them)")
            }
        }
    }
}

/// Writes `message` and a newline to standard error.
private func printError(_ message: CustomStringConvertible) {
    FileHandle.standardError.write(Data((message.description + "\n").utf8))
}
