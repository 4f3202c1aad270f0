// Crafted-file regression corpus (issue 15): every crasher of the fuzz campaign as a small file in
// Regression/ (made by tools/make-regression-corpus.py, listed in Regression/cases.json) goes through the
// real entry points — TF.js read, head load, .npy read, the embedder — and must give an error naming the
// file, layer or field and what was expected: no crash, no huge allocation. Unreadable kinds of files
// (FIFO, /dev/zero behind a symlink, a sparse 1 GiB shard) are made here, as git cannot hold them.
import Foundation
import Testing

@testable import Importers
@testable import NeuralNet

/// One case of Regression/cases.json.
struct RegressionCase: Decodable, Sendable, CustomTestStringConvertible {
    /// File or directory name inside Regression/.
    var file: String
    /// Entry point: "tfjs" (TFJSLayersFormat.read + Embedder), "head" (DenseHead.load), "pth"
    /// (PyTorchCheckpoint.readStateDict, what `model import` of a .pth reads) or "npy" (NPY.read).
    var entry: String
    /// Phrases the error's description must contain; empty for the valid control cases.
    var expect: [String]

    var testDescription: String { file }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Regression"
    ).path

    static let all: [RegressionCase] = {
        guard let data = FileManager.default.contents(atPath: directory + "/cases.json"),
            let cases = try? JSONDecoder().decode([RegressionCase].self, from: data)
        else { return [] }
        return cases
    }()
}

@Suite("Crafted-file regression corpus")
struct RegressionCorpusTests {
    @Test func corpusIsPresent() {
        #expect(RegressionCase.all.count >= 20, "Regression/cases.json missing: run tools/make-regression-corpus.py")
    }

    @Test(arguments: RegressionCase.all)
    func refusedWithANamedError(_ regression: RegressionCase) throws {
        let path = RegressionCase.directory + "/" + regression.file
        let outcome: Result<Void, NeuralNetError>
        do throws(NeuralNetError) {
            switch regression.entry {
            case "tfjs":
                let model = try TFJSLayersFormat.read(path)
                _ = try Embedder(model: model, outputLayer: model.outputNames[0])
            case "head":
                _ = try DenseHead.load(from: path)
            case "pth":
                let entries = try PyTorchCheckpoint.readStateDict(path: path)
                #expect(
                    entries.map(\.name) == ["weight", "bias"] && entries[0].scalars == [0.5, -1, 2, 0.25, 3, -0.5])
            default:
                _ = try NPY.read(path)
            }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        switch outcome {
        case .success:
            #expect(regression.expect.isEmpty, "\(regression.file) was accepted")
        case .failure(let error):
            #expect(!regression.expect.isEmpty, "the valid case \(regression.file) failed: \(error)")
            for phrase in regression.expect {
                #expect(error.description.contains(phrase), "\(regression.file): \"\(phrase)\" missing from: \(error)")
            }
            #expect(!error.description.contains("NeuralNet."), "a Swift dump in: \(error)")
        }
    }

    /// A copy of the valid model in a fresh directory, for the cases git cannot hold.
    private func validModelCopy() throws -> String {
        let directory = temporaryPath("model")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in ["model.json", "group1-shard1of1.bin"] {
            try FileManager.default.copyItem(
                atPath: RegressionCase.directory + "/valid-model/" + name, toPath: directory + "/" + name)
        }
        return directory
    }

    @Test func shardSymlinkedToDevZeroIsRefusedUnread() throws {
        let directory = try validModelCopy()
        defer { try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent) }
        let shard = directory + "/group1-shard1of1.bin"
        try FileManager.default.removeItem(atPath: shard)
        try FileManager.default.createSymbolicLink(atPath: shard, withDestinationPath: "/dev/zero")
        #expect(
            throws: NeuralNetError.fileUnreadable(
                path: shard, reason: "it is a symbolic link; a model's files must be regular files in its directory")
        ) {
            _ = try TFJSLayersFormat.read(directory)
        }
        // Followed (model.json may be a link): /dev/zero is a device, refused without reading.
        #expect(throws: NeuralNetError.fileUnreadable(path: shard, reason: "it is a device, expected a regular file")) {
            _ = try FileIO.read(shard)
        }
    }

    @Test func modelJSONThatIsAFIFODoesNotHang() throws {
        let directory = try validModelCopy()
        defer { try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent) }
        try FileManager.default.removeItem(atPath: directory + "/model.json")
        #expect(mkfifo(directory + "/model.json", 0o600) == 0)
        #expect(
            throws: NeuralNetError.fileUnreadable(
                path: directory + "/model.json", reason: "it is a FIFO, expected a regular file")
        ) {
            _ = try TFJSLayersFormat.read(directory)
        }
    }

    @Test func shardWithAGigabyteTailIsRefusedFromItsSize() throws {
        let directory = try validModelCopy()
        defer { try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent) }
        let shard = directory + "/group1-shard1of1.bin"
        #expect(truncate(shard, 1 << 30) == 0)  // sparse: nothing is written, and nothing may be read
        #expect(
            throws: NeuralNetError.shardMismatch(
                path: directory + "/model.json", shards: ["group1-shard1of1.bin"],
                expectedBytes: 272, actualBytes: 1 << 30)
        ) {
            _ = try TFJSLayersFormat.read(directory)
        }
    }

    @Test func shardSymlinkLeavingTheDirectoryIsRefused() throws {
        let directory = try validModelCopy()
        defer { try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent) }
        let outside = (directory as NSString).deletingLastPathComponent + "/outside.bin"
        try FileManager.default.moveItem(atPath: directory + "/group1-shard1of1.bin", toPath: outside)
        try FileManager.default.createSymbolicLink(
            atPath: directory + "/group1-shard1of1.bin", withDestinationPath: outside)
        #expect(throws: NeuralNetError.self) { _ = try TFJSLayersFormat.read(directory) }
        #expect(throws: NeuralNetError.self) { _ = try TFJSLayersFormat.readFiles(of: directory) }
    }

    @Test func stagingLeftByAKilledWriterIsRemovedOnTheNextWrite() throws {
        let directory = temporaryPath("model")
        defer { try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent) }
        var deadProcess: pid_t = 4_000_000
        while kill(deadProcess, 0) == 0 || errno != ESRCH { deadProcess += 1 }
        let stale = "\(directory).staging-\(deadProcess)-1"
        let live = "\(directory).staging-\(getpid())-2"
        for path in [stale, live] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        try TFJSLayersFormat.write(smallModel(), to: directory)
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: live))  // a running writer's staging stays
        #expect(FileManager.default.fileExists(atPath: directory + "/model.json"))
    }

    @Test func checkedSizesRefuseOverflowAndNegatives() {
        #expect(CheckedSize.product([4, 2, 2_305_843_009_213_693_979]) == nil)  // 4 bytes · the wrapping shape
        #expect(CheckedSize.product([2, 2_305_843_009_213_693_979], limit: SizeLimits.maximumTensorElements) == nil)
        #expect(CheckedSize.product([4, 4_611_686_018_427_387_904]) == nil)
        #expect(CheckedSize.product([3, -1]) == nil)
        #expect(CheckedSize.product([224, 224, 3], limit: SizeLimits.maximumTensorElements) == 150_528)
        #expect(CheckedSize.product([65536, 65536], limit: SizeLimits.maximumTensorElements) == nil)
        #expect(CheckedSize.sum([Int.max, 1]) == nil)
        #expect(CheckedSize.sum([1, 2, 3], limit: 6) == 6)
    }

    @Test func jsonValuesInMessagesAreJSON() {
        let value: JSONValue = ["a": [1.5, 2, nil, "x\"y"], "b": true]
        #expect(value.description == #"{"a": [1.5, 2, null, "x\"y"], "b": true}"#)
    }
}
