// A config that names no model uses the current head's model and cut, so a user's head keeps working when the
// built-in default model changes; a named model wins; without a head the built-in default applies.
import Foundation
import Gestures
import NeuralNet
import Paths
import TestSupport
import Testing

@testable import Settings

@Suite struct ModelFollowsHeadTests {
    static let identity = EmbedderIdentity(
        modelName: "some_older_default", weightsSHA256: "abc123", layer: "conv_pw_12_relu",
        normalization: "x/127.5-1", featureShape: [2, 2, 3])

    /// A data directory whose current head was trained on `identity`.
    static func dataDirectoryWithHead() throws -> String {
        let directory = temporaryDirectory("follow")
        let head = try DenseHead(
            architecture: HeadArchitecture(inputShape: [2, 2, 3], hiddenUnits: 5, classes: 2), seed: 1)
        let metadata = HeadMetadata(
            labels: try LabelSet(["up", "down"]), embedder: identity, mirror: true, training: nil)
        _ = try HeadStore(root: DataDirectory(directory).headsDirectory).save(head.model(), metadata: metadata)
        return directory
    }

    static func config(dataDirectory: String, model: String? = nil, layer: String? = nil) -> GesturepadConfig {
        var config = GesturepadConfig()
        config.daemon.dataDirectory = dataDirectory
        config.modelName = model
        config.layer = layer
        return config
    }

    @Test func noModelNamedFollowsTheCurrentHead() throws {
        let workspace = Self.config(dataDirectory: try Self.dataDirectoryWithHead()).workspaceConfiguration()
        #expect(workspace.modelName == "some_older_default")
        #expect(workspace.layer == "conv_pw_12_relu")
    }

    @Test func aNamedModelOrLayerWins() throws {
        let directory = try Self.dataDirectoryWithHead()
        #expect(
            Self.config(dataDirectory: directory, model: "mobilenet_v2_1.0_224").workspaceConfiguration().modelName
                == "mobilenet_v2_1.0_224")
        let layered = Self.config(dataDirectory: directory, layer: "conv_pw_13_relu").workspaceConfiguration()
        #expect(layered.modelName == "some_older_default" && layered.layer == "conv_pw_13_relu")
    }

    @Test func withoutAHeadTheBuiltInDefault() {
        let workspace = Self.config(dataDirectory: temporaryDirectory("nohead")).workspaceConfiguration()
        #expect(workspace.modelName == WorkspaceConfiguration.defaultModel)
        #expect(workspace.layer == nil)
    }

    @Test func anEmptyNameInTheFileMeansNotNamed() throws {
        let directory = try Self.dataDirectoryWithHead()
        let file = temporaryDirectory("config") + "/config.toml"
        try "[model]\nname = \"\"\n\n[daemon]\ndata_directory = \"\(directory)\"\n".write(
            toFile: file, atomically: true, encoding: .utf8)
        let result = ConfigLoader(environment: [:]).load(explicitPath: file)
        #expect(result.config.modelName == nil)
        #expect(result.config.workspaceConfiguration(environment: [:]).modelName == "some_older_default")
    }
}
