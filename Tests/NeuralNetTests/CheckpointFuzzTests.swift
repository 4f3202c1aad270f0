// Bounded random mutation of the PyTorch checkpoint readers (issue 15): the restricted pickle reader
// (legacy checkpoints through PyTorchCheckpoint.readLegacy, protocol-2 and -4 data.pkl through the
// unpickler) and the zip reader (zip checkpoints through PyTorchCheckpoint.readStateDict: ZIPFoundation's
// directory parsing, our member selection, size limits and the CRC-32 check). Seeded from small
// checkpoints written by the test pickle writer (PyTorchImporterTests) and the Regression/ .pth files.
// Every case must end in a result or a NeuralNetError; a crash kills the run and debug builds trap on an
// unchecked overflow. Off unless GESTUREPAD_FUZZ_CASES is set (`make fuzz`); prints counts like FuzzTests.
import Foundation
import Testing

@testable import Importers
@testable import NeuralNet

extension Fuzz {
    /// Values binary formats get wrong: zero, one, sign and width boundaries, as 1-, 2-, 4- or 8-byte
    /// little-endian integers.
    static let interestingIntegers: [UInt64] = [
        0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
        0x1_0000_0000, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_FFFF,
    ]

    /// One mutation of binary `bytes`: an interesting integer written over 1–8 bytes, random bits flipped,
    /// a span deleted, duplicated or filled with a random byte, or the file cut short. (The text mutations of
    /// `mutate` also apply: the pickles hold decimal digits in their storage keys.)
    static func mutateBinary(_ bytes: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var result = bytes
        guard !result.isEmpty else { return result }
        let offset = Int.random(in: 0..<result.count, using: &random)
        switch Int.random(in: 0..<10, using: &random) {
        case 0..<3:
            let width = [1, 2, 4, 8].randomElement(using: &random)!
            let value = interestingIntegers.randomElement(using: &random)!
            for index in 0..<min(width, result.count - offset) {
                result[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))
            }
        case 3, 4:
            result[offset] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
        case 5:
            result.removeSubrange(offset..<min(result.count, offset + Int.random(in: 1...16, using: &random)))
        case 6:
            let span = Array(result[offset..<min(result.count, offset + Int.random(in: 1...64, using: &random))])
            result.insert(contentsOf: span, at: offset)
        case 7:
            let end = min(result.count, offset + Int.random(in: 1...32, using: &random))
            result.replaceSubrange(
                offset..<end,
                with: [UInt8](repeating: UInt8.random(in: 0...255, using: &random), count: end - offset))
        case 8:
            result = mutate(result, &random)
        default:
            result.removeLast(Int.random(in: 0..<result.count, using: &random))
        }
        return result
    }

    /// A small torchvision-like state_dict: a conv kernel, a BatchNorm (running_var shares running_mean's
    /// storage, as torch writes it), its int64 `num_batches_tracked` and a classifier.
    static func smallStateDict() -> [TorchTensor] {
        func scalars(_ count: Int, _ scale: Float) -> [Float] { (0..<count).map { Float($0 % 7) * scale - 0.5 } }
        return [
            TorchTensor(name: "features.0.0.weight", shape: [4, 3, 3, 3], scalars: scalars(108, 0.1)),
            TorchTensor(name: "features.0.1.weight", shape: [4], scalars: scalars(4, 0.2)),
            TorchTensor(name: "features.0.1.running_mean", shape: [4], scalars: scalars(4, 0.01)),
            TorchTensor(name: "features.0.1.running_var", shape: [4], scalars: scalars(4, 0.3).map { $0 + 2 }),
            TorchTensor(name: "features.0.1.num_batches_tracked", shape: [], scalars: [0], isInteger: true),
            TorchTensor(name: "classifier.1.weight", shape: [2, 4], scalars: scalars(8, 0.05)),
        ]
    }
}

@Suite("Fuzz: PyTorch pickle and zip", .enabled(if: Fuzz.cases > 0, "set GESTUREPAD_FUZZ_CASES (make fuzz)"))
struct CheckpointFuzzTests {
    @Test func pickle() throws {
        let tensors = Fuzz.smallStateDict()
        let plan = StoragePlan(tensors)
        let keys = plan.storages.indices.map(String.init)
        // (bytes, whether it is a whole legacy checkpoint or a lone data.pkl)
        let corpus: [([UInt8], Bool)] = [
            (legacyCheckpoint(tensors), true),
            (stateDictPickle(tensors, plan: plan, keys: keys, legacy: false, protocol4: false), false),
            (stateDictPickle(tensors, plan: plan, keys: keys, legacy: false, protocol4: true), false),
        ]
        let unchanged = try PyTorchCheckpoint.readLegacy(corpus[0].0, path: "seed.pth")
        try #require(unchanged.count == tensors.count)  // the seed itself loads: mutations start from valid input
        var random = SplitMix64(seed: Fuzz.seed)
        var report = Fuzz.Report(parser: "pickle")
        for _ in 0..<Fuzz.cases {
            var (bytes, isLegacy) = corpus.randomElement(using: &random)!
            for _ in 0..<Int.random(in: 1...3, using: &random) { bytes = Fuzz.mutateBinary(bytes, &random) }
            report.run { () throws(NeuralNetError) in
                if isLegacy {
                    let entries = try PyTorchCheckpoint.readLegacy(bytes, path: "fuzz.pth")
                    for entry in entries where entry.dataType == .float32 {
                        #expect(entry.scalars.count == entry.shape.reduce(1, *))
                    }
                } else {
                    var unpickler = RestrictedUnpickler(bytes: bytes[...], path: "fuzz.pkl")
                    _ = try unpickler.load()
                }
            }
        }
        print(report)
        #expect(report.slowestSeconds < 10, "a case took \(report.slowestSeconds) s")
    }

    @Test func zip() throws {
        let directory = temporaryPath("fuzz-zip")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent) }
        var corpus: [[UInt8]] = []
        for protocol4 in [false, true] {
            let seed = directory + "/seed-\(protocol4).pt"
            try writeZipCheckpoint(Fuzz.smallStateDict(), to: seed, protocol4: protocol4)
            corpus.append(try FileIO.read(seed))
        }
        // Python's zipfile layout too (the Regression/ corpus), valid and with a bad CRC-32.
        for name in ["valid-checkpoint.pth", "pth-storage-crc-mismatch.pth"] {
            if let data = FileManager.default.contents(atPath: RegressionCase.directory + "/" + name) {
                corpus.append([UInt8](data))
            }
        }
        try #require(corpus.count == 4, "Regression/*.pth missing: run tools/make-regression-corpus.py")
        let unchanged = try PyTorchCheckpoint.readStateDict(path: directory + "/seed-false.pt")
        try #require(unchanged.count == Fuzz.smallStateDict().count)
        let path = directory + "/fuzz.pt"
        var random = SplitMix64(seed: Fuzz.seed)
        var report = Fuzz.Report(parser: "zip")
        var crcRefusals = 0
        for _ in 0..<Fuzz.cases {
            var bytes = corpus.randomElement(using: &random)!
            for _ in 0..<Int.random(in: 1...2, using: &random) { bytes = Fuzz.mutateBinary(bytes, &random) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let refusal = report.run { () throws(NeuralNetError) in
                let entries = try PyTorchCheckpoint.readStateDict(path: path)
                for entry in entries where entry.dataType == .float32 {
                    #expect(entry.scalars.count == entry.shape.reduce(1, *))
                }
            }
            if refusal?.description.contains("CRC-32") == true { crcRefusals += 1 }
        }
        print("\(report) (\(crcRefusals) of the refusals by CRC-32)")
        #expect(crcRefusals > 0, "no mutation reached the CRC-32 check")
        #expect(report.slowestSeconds < 10, "a case took \(report.slowestSeconds) s")
    }
}
