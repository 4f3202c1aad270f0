// Bounded random mutation of the parsers that read untrusted files (issue 15): model.json (topology and
// weights manifest) and .npy headers, seeded from the Regression/ corpus. Each case goes through the real
// entry point (TFJSLayersFormat.read + Embedder + one embed; NPY.decode) and must end in a result or a
// NeuralNetError — a crash kills the run, and debug builds trap on any unchecked overflow. Off unless
// GESTUREPAD_FUZZ_CASES is set (`make fuzz`); prints cases, accepted, refused and the slowest case.
import Foundation
import Testing

@testable import NeuralNet

enum Fuzz {
    static let cases = Int(ProcessInfo.processInfo.environment["GESTUREPAD_FUZZ_CASES"] ?? "") ?? 0
    static let seed = UInt64(ProcessInfo.processInfo.environment["GESTUREPAD_FUZZ_SEED"] ?? "") ?? 15

    /// Numbers at and around the limits and the wrap points the campaign used.
    static let interestingNumbers = [
        "0", "-1", "1", "2", "3", "7", "65535", "65536", "65537", "2147483647", "2147483648", "4294967072",
        "4294967296", "1099511627776", "288230376151711771", "2305843009213693979", "4611686018427388768",
        "9223372036854775807", "-9223372036854775808", "1e308", "4.6e18", "1.5", "-0.0", "null", "[]", "{}", "\"x\"",
    ]

    /// One mutation of `text`: a number replaced by an interesting one, a byte changed, a span deleted or
    /// duplicated, or the text cut short.
    static func mutate(_ text: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var bytes = text
        guard !bytes.isEmpty else { return bytes }
        switch Int.random(in: 0..<10, using: &random) {
        case 0..<5:
            let digitRuns = numberRuns(bytes)
            guard let run = digitRuns.randomElement(using: &random) else { fallthrough }
            bytes.replaceSubrange(run, with: Array(interestingNumbers.randomElement(using: &random)!.utf8))
        case 5, 6:
            bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
        case 7:
            let start = Int.random(in: 0..<bytes.count, using: &random)
            bytes.removeSubrange(start..<min(bytes.count, start + Int.random(in: 1...16, using: &random)))
        case 8:
            let start = Int.random(in: 0..<bytes.count, using: &random)
            let span = Array(bytes[start..<min(bytes.count, start + Int.random(in: 1...64, using: &random))])
            bytes.insert(contentsOf: span, at: start)
        default:
            bytes.removeLast(Int.random(in: 0..<bytes.count, using: &random))
        }
        return bytes
    }

    /// Ranges of `-?[0-9.e+]+` runs.
    static func numberRuns(_ bytes: [UInt8]) -> [Range<Int>] {
        var runs: [Range<Int>] = []
        var index = 0
        func isNumberByte(_ byte: UInt8) -> Bool { (48...57).contains(byte) || byte == 45 || byte == 46 }
        while index < bytes.count {
            if isNumberByte(bytes[index]) {
                let start = index
                while index < bytes.count, isNumberByte(bytes[index]) || bytes[index] == 101 || bytes[index] == 43 {
                    index += 1
                }
                runs.append(start..<index)
            } else {
                index += 1
            }
        }
        return runs
    }

    struct Report: CustomStringConvertible {
        var parser: String
        var cases = 0, accepted = 0, refused = 0
        var slowestSeconds = 0.0

        /// One case: accepted when `body` returns, refused when it throws (a refusal must say what), timed; returns
        /// the refusal.
        @discardableResult
        mutating func run(_ body: () throws(NeuralNetError) -> Void) -> NeuralNetError? {
            let start = Date()
            defer {
                cases += 1
                slowestSeconds = max(slowestSeconds, Date().timeIntervalSince(start))
            }
            do throws(NeuralNetError) {
                try body()
                accepted += 1
                return nil
            } catch {
                #expect(!error.description.isEmpty)
                refused += 1
                return error
            }
        }

        var description: String {
            "fuzz \(parser): \(cases) cases, \(accepted) accepted, \(refused) refused with an error, 0 crashes, "
                + "slowest case \(String(format: "%.3f", slowestSeconds)) s"
        }
    }
}

@Suite("Fuzz: model.json and .npy", .enabled(if: Fuzz.cases > 0, "set GESTUREPAD_FUZZ_CASES (make fuzz)"))
struct FuzzTests {
    @Test func modelJSON() throws {
        // (model.json, its shard) of every model and head case.
        let corpus: [([UInt8], Data)] = RegressionCase.all.filter { $0.entry != "npy" }.compactMap { regression in
            let path = RegressionCase.directory + "/" + regression.file
            guard let json = FileManager.default.contents(atPath: path + "/model.json"),
                let shard = FileManager.default.contents(atPath: path + "/group1-shard1of1.bin")
            else { return nil }
            return ([UInt8](json), shard)
        }
        try #require(!corpus.isEmpty)
        let directory = temporaryPath("fuzz-model")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent) }
        var random = SplitMix64(seed: Fuzz.seed)
        var report = Fuzz.Report(parser: "model.json")
        var input = [Float](repeating: 0.5, count: 8 * 8 * 3)
        for _ in 0..<Fuzz.cases {
            // Half the cases start from a valid model or head, so mutations reach past the first refusal.
            let valid = corpus.prefix(2)  // cases.json lists valid-model and valid-head first
            var (text, shard) =
                (Bool.random(using: &random)
                ? valid.randomElement(using: &random) : corpus.randomElement(using: &random))!
            for _ in 0..<Int.random(in: 1...2, using: &random) { text = Fuzz.mutate(text, &random) }
            try Data(text).write(to: URL(fileURLWithPath: directory + "/model.json"))
            try shard.write(to: URL(fileURLWithPath: directory + "/group1-shard1of1.bin"))
            report.run { () throws(NeuralNetError) in
                let model = try TFJSLayersFormat.read(directory)
                let embedder = try Embedder(model: model, outputLayer: model.outputNames[0])
                if embedder.inputCount > input.count { input = [Float](repeating: 0.5, count: embedder.inputCount) }
                var output = [Float](repeating: 0, count: embedder.outputCount)
                input.withUnsafeBufferPointer { source in
                    output.withUnsafeMutableBufferPointer { embedder.embed(source.baseAddress!, into: $0.baseAddress!) }
                }
            }
        }
        print(report)
        #expect(report.slowestSeconds < 10, "a case took \(report.slowestSeconds) s")
    }

    @Test func npyHeader() throws {
        let corpus: [[UInt8]] =
            [
                NPY.encode(Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])),
                NPY.encode(Tensor(shape: [1, 4, 4, 3])),
            ]
            + ["npy-shape-wraps-to-zero.npy", "npy-issue-shape.npy"].compactMap {
                FileManager.default.contents(atPath: RegressionCase.directory + "/" + $0).map { [UInt8]($0) }
            }
        var random = SplitMix64(seed: Fuzz.seed)
        var report = Fuzz.Report(parser: ".npy")
        for _ in 0..<Fuzz.cases {
            var bytes = corpus.randomElement(using: &random)!
            for _ in 0..<Int.random(in: 1...3, using: &random) { bytes = Fuzz.mutate(bytes, &random) }
            report.run { () throws(NeuralNetError) in
                let tensor = try NPY.decode(bytes, path: "fuzz.npy")
                #expect(tensor.scalars.count == tensor.shape.reduce(1, *))
            }
        }
        print(report)
    }
}
