// Options shared by the commands that work on the user's gestures (samples, train, eval, head).
import ArgumentParser
import Foundation
import Gestures

struct GestureOptions: ParsableArguments {
    @Option(name: .long, help: "Embedding model (an installed name, see `gesturepad model list`).")
    var model: String = WorkspaceConfiguration.defaultModel

    @Option(name: .long, help: "Cut layer (default: the model's embedding layer).")
    var layer: String?

    @Flag(
        name: .long, inversion: .prefixedNo,
        help: "Mirror frames like a selfie view (must match how samples were recorded).")
    var mirror = true

    @Option(name: .long, help: "Comma-separated labels, in output order (default: \(LabelSet.standard)).")
    var labels: String?

    @Option(name: .customLong("data-dir"), help: "Data directory (default: $XDG_DATA_HOME/gesturepad).")
    var dataDirectory: String?

    func labelSet() throws -> LabelSet { try givenLabelSet() ?? LabelSet.standard }

    /// The labels given with --labels, nil when the option was not given.
    func givenLabelSet() throws -> LabelSet? {
        try labels.map { text in
            try LabelSet(text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
        }
    }

    /// The head store under the data directory.
    func headStore() -> HeadStore {
        HeadStore(
            root: ((dataDirectory ?? WorkspaceConfiguration.defaultDataDirectory()) as NSString).appendingPathComponent(
                "heads"))
    }

    func configuration() throws -> WorkspaceConfiguration {
        WorkspaceConfiguration(
            modelName: model, layer: layer, mirror: mirror, labels: try labelSet(),
            dataDirectory: dataDirectory ?? WorkspaceConfiguration.defaultDataDirectory())
    }

    func openWorkspace() throws -> GestureWorkspace { try GestureWorkspace(try configuration()) }

    /// The sample store alone (no model needed).
    func openSamples() throws -> SampleStore {
        let directory = dataDirectory ?? WorkspaceConfiguration.defaultDataDirectory()
        return try SampleStore(path: (directory as NSString).appendingPathComponent("samples.sqlite"))
    }
}

/// Prints an Encodable as pretty JSON with sorted keys (for `--json`).
func printJSON<Value: Encodable>(_ value: Value) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
