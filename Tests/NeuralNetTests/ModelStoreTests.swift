// Model store and import plumbing: install → list → load round trip in a temporary XDG data
// directory, format detection by content, importer-version/sha256 currency, class-name checks,
// and the small helpers (top-k, separability, uint8 .npy).
import Foundation
import Testing

@testable import Importers
@testable import NeuralNet

@Suite("Model store and import")
struct ModelStoreTests {
    func sampleMetadata(name: String, sha256: String = "00") -> ModelMetadata {
        ModelMetadata(
            name: name, architecture: "test", widthMultiplier: 1, inputSize: 9, normalization: .symmetric,
            embeddingLayer: "pool", embeddingLayerReason: "test", classifierLayer: "logits",
            classNames: ["a", "b", "c", "d", "e"], source: .init(file: "x", sha256: sha256, format: "tfjs-layers"))
    }

    @Test("XDG_DATA_HOME decides where models live, with ~/.local/share as the fallback")
    func userDefault() {
        #expect(
            ModelStore.userDefault(environment: ["XDG_DATA_HOME": "/data", "HOME": "/home/u"]).root
                == "/data/gesturepad/models")
        #expect(
            ModelStore.userDefault(environment: ["HOME": "/home/u"]).root == "/home/u/.local/share/gesturepad/models")
        #expect(
            ModelStore.userDefault(environment: ["XDG_DATA_HOME": "", "HOME": "/home/u"]).root
                == "/home/u/.local/share/gesturepad/models")
    }

    @Test("install, list and load round-trip; reinstall replaces")
    func roundTrip() throws {
        let store = ModelStore(root: temporaryPath("store"))
        #expect(store.list().isEmpty)
        #expect(throws: NeuralNetError.self) { try store.load("small") }
        try store.install(smallModel(), metadata: sampleMetadata(name: "small"))
        let listed = store.list()
        #expect(listed.map(\.name) == ["small"])
        #expect((try? listed[0].metadata.get()) == sampleMetadata(name: "small"))
        let (model, metadata) = try store.load("small")
        #expect(model == smallModel() && metadata == sampleMetadata(name: "small"))
        try store.install(smallModel(seed: 9), metadata: sampleMetadata(name: "small", sha256: "11"))
        #expect(try store.load("small").model == smallModel(seed: 9))
        #expect(try store.load("small").metadata.source.sha256 == "11")
        #expect(store.list().count == 1, "no staging or retired directories left behind")
    }

    @Test("format detection by content and extension")
    func detection() throws {
        let directory = temporaryPath("detect")
        try TFJSLayersFormat.write(smallModel(), to: directory)
        #expect(try ModelFileFormat.detect(directory) == .tfjsLayers)
        #expect(try ModelFileFormat.detect(directory + "/model.json") == .tfjsLayers)
        let pickle = directory + "/weights.bin"
        try Data([0x80, 0x02, 0x8A, 0x0A]).write(to: URL(fileURLWithPath: pickle))
        #expect(try ModelFileFormat.detect(pickle) == .pyTorchCheckpoint)
        let zip = directory + "/weights.pt"
        try Data([0x50, 0x4B, 0x03, 0x04, 0]).write(to: URL(fileURLWithPath: zip))
        #expect(try ModelFileFormat.detect(zip) == .pyTorchCheckpoint)
        let graph = directory + "/graph.pb"
        try Data([0x0A, 0x05]).write(to: URL(fileURLWithPath: graph))
        #expect(try ModelFileFormat.detect(graph) == .tfGraphDef)
        let text = directory + "/notes.txt"
        try Data("hello".utf8).write(to: URL(fileURLWithPath: text))
        #expect(throws: NeuralNetError.unknownModelFormat(path: text)) { try ModelFileFormat.detect(text) }
    }

    @Test("importing a TF.js directory checks the class names against the classifier width")
    func importTFJS() throws {
        let directory = temporaryPath("tfjs")
        try TFJSLayersFormat.write(smallModel(), to: directory)
        let (model, metadata) = try ModelImporter.importModel(
            from: directory, name: "tiny", classNames: ["a", "b", "c", "d", "e"])
        #expect(model == smallModel())
        #expect(metadata.name == "tiny" && metadata.classifierLayer == "logits" && metadata.inputSize == 9)
        #expect(metadata.source.sha256.count == 64 && metadata.importerVersion == ModelImporter.version)
        #expect(throws: NeuralNetError.self) {
            try ModelImporter.importModel(from: directory, classNames: ["only", "two"])
        }

        let store = ModelStore(root: temporaryPath("store2"))
        #expect(!ModelImporter.isCurrent("tiny", in: store, source: directory))
        try store.install(model, metadata: metadata)
        #expect(ModelImporter.isCurrent("tiny", in: store, source: directory))
        var stale = metadata
        stale.importerVersion = ModelImporter.version - 1
        try store.install(model, metadata: stale)
        #expect(!ModelImporter.isCurrent("tiny", in: store, source: directory), "an older importer's install is redone")
    }

    @Test("top-k orders by score, ties by index")
    func topKOrder() {
        #expect(topK([0.1, 0.5, 0.2, 0.5], 3).map(\.index) == [1, 3, 2])
        #expect(topK([1], 5).map(\.index) == [0])
    }

    @Test("separability: well-separated groups score higher than overlapping ones")
    func separability() {
        let tight = Separability(groups: [[[1, 0], [0.99, 0.01]], [[0, 1], [0.01, 0.99]]])
        let loose = Separability(groups: [[[1, 0], [0, 1]], [[0.9, 0.1], [0.1, 0.9]]])
        #expect(tight.ratio > 10 && loose.ratio < 1)
    }

    @Test("uint8 .npy reads as 0…255 floats")
    func npyBytes() throws {
        let header = "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }"
        let padded = header + String(repeating: " ", count: 128 - 10 - header.count - 1) + "\n"
        let bytes: [UInt8] =
            [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(padded.utf8.count), 0] + Array(padded.utf8) + [
                0, 128, 255,
            ]
        #expect(try NPY.decode(bytes) == Tensor(shape: [3], scalars: [0, 128, 255]))
    }
}
