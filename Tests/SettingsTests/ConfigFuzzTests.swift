// Bounded random mutation of the TOML reader and config decoder (issue 15), seeded from the shipped
// config and the Regression/ corpus: brackets and braces inserted in runs, lines duplicated, bytes
// changed. Every case must end in a document with or without errors — a stack overflow or trap kills
// the run. Off unless GESTUREPAD_FUZZ_CASES is set (`make fuzz`).
import Foundation
import Testing

@testable import Settings

@Suite(
    "Fuzz: TOML config",
    .enabled(if: (Int(ProcessInfo.processInfo.environment["GESTUREPAD_FUZZ_CASES"] ?? "") ?? 0) > 0, "make fuzz"))
struct ConfigFuzzTests {
    @Test func tomlConfig() throws {
        let cases = Int(ProcessInfo.processInfo.environment["GESTUREPAD_FUZZ_CASES"] ?? "") ?? 0
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let shipped = root.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "Config/gesturepad.toml")
        let corpus = try [String(contentsOf: shipped, encoding: .utf8), "[camera]\nfps = [1, {a = 2}]\n"]
            .map { Array($0.utf8) }
        var state: UInt64 = UInt64(ProcessInfo.processInfo.environment["GESTUREPAD_FUZZ_SEED"] ?? "") ?? 15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(max(bound, 1)))
        }
        let loader = ConfigLoader(environment: ["HOME": "/nonexistent"])
        var withErrors = 0
        var slowest = 0.0
        for _ in 0..<cases {
            var bytes = corpus[next(corpus.count)]
            for _ in 0...next(3) {
                let position = next(bytes.count + 1)
                switch next(5) {
                case 0:
                    bytes.insert(contentsOf: Array(repeating: UInt8(ascii: "["), count: 1 + next(3000)), at: position)
                case 1:
                    bytes.insert(
                        contentsOf: Array("{a=".utf8) + Array(repeating: UInt8(ascii: "{"), count: next(500)),
                        at: position)
                case 2: if position < bytes.count { bytes[position] = UInt8(next(256)) }
                case 3: bytes.insert(contentsOf: bytes[position..<min(bytes.count, position + next(200))], at: position)
                default: bytes.removeSubrange(position..<min(bytes.count, position + next(20)))
                }
            }
            let start = Date()
            let result = loader.parse(String(decoding: bytes, as: UTF8.self), file: "fuzz.toml")
            if !result.errors.isEmpty { withErrors += 1 }
            slowest = max(slowest, Date().timeIntervalSince(start))
        }
        print(
            "fuzz TOML: \(cases) cases, \(withErrors) with errors, 0 crashes, slowest case \(String(format: "%.3f", slowest)) s"
        )
        #expect(slowest < 10)
    }
}
