// Bounded random mutation of the control protocol's request path (issue 15): the line framer
// (ControlLineDecoder — CR/LF/CRLF terminators, the length limit, oversized-line skipping) and the request
// parser (ControlRequest(line:)), seeded from valid requests of every command and a few odd shapes. Each case
// is framed twice — whole and cut into random chunks — and must give the same frames (so the framing does
// not depend on how reads split the stream), no line over the limit, and for every line a request or a
// ControlProtocolError; a trap kills the run. Off unless GESTUREPAD_FUZZ_CASES is set (`make fuzz`); prints
// cases, frames, accepted and refused counts and the slowest case. Crashers found go to
// Regression/control-protocol-cases.json, which ControlProtocolRegressionTests runs in `make test`.
import Foundation
import NIOCore
import NeuralNet
import Testing

@testable import Daemon

enum ControlFuzz {
    /// Valid requests of every command, plus shapes the parser must refuse.
    static let seeds: [String] = [
        #"{"cmd":"status"}"#, #"{"v":1,"cmd":"subscribe"}"#, #"{"cmd":"pause"}"#, #"{"cmd":"resume","v":1}"#,
        #"{"cmd":"record","label":"up","seconds":2.5}"#, #"{"cmd":"record","label":"left"}"#, #"{"cmd":"train"}"#,
        #"{"cmd":"samples"}"#, #"{"cmd":"reload"}"#, #"{"cmd":"version","extra":[1,{"a":null}]}"#,
        #"  {"cmd" : "status" }  "#, #"{"cmd":"record","label":"\u00e9t\u00e9","seconds":1e2}"#, "[]", "", "{}",
    ]

    static let tokens: [String] = [
        "\r", "\n", "\r\n", "\n\r", "\\", "\"", "{", "}", "[", "]", ",", ":", "null", "true", "1e999", "-0.0", "NaN",
        "601", "0", "-1", "9223372036854775808", "\u{FEFF}", "\u{0}", "\\u0000", "\\ud800", "\"v\":2", "\"cmd\":\"x\"",
        String(repeating: "[", count: 3000), String(repeating: "{\"a\":", count: 500),
    ]

    static func mutate(_ text: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var bytes = text
        let position = Int(random.next() % UInt64(bytes.count + 1))
        switch random.next() % 8 {
        case 0, 1:
            bytes.insert(contentsOf: Array(tokens[Int(random.next() % UInt64(tokens.count))].utf8), at: position)
        case 2:
            if position < bytes.count { bytes[position] = UInt8(truncatingIfNeeded: random.next()) }
        case 3:
            bytes.removeSubrange(position..<min(bytes.count, position + Int(random.next() % 16)))
        case 4:
            bytes.insert(
                contentsOf: bytes[position..<min(bytes.count, position + Int(random.next() % 64))], at: position)
        case 5:
            bytes += Array("\n".utf8) + Array(seeds[Int(random.next() % UInt64(seeds.count))].utf8)
        case 6:
            bytes = Array(bytes.prefix(position))
        default:
            // Now and then a long line around the limit (most cases stay short so 10,000 run quickly).
            guard random.next() % 4 == 0 else {
                bytes.insert(UInt8(ascii: "\r"), at: position)
                break
            }
            let length = ControlProtocol.maximumLineBytes - 8 + Int(random.next() % 16)
            bytes.insert(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: length), at: position)
        }
        return bytes
    }

    /// Frames `bytes` fed in the given chunk sizes (the last chunk takes the rest), then the EOF rule.
    static func frames(_ bytes: [UInt8], chunks: [Int], limit: Int = ControlProtocol.maximumLineBytes) -> [ControlFrame]
    {
        var decoder = ControlLineDecoder(maximumLineBytes: limit)
        var buffer = ByteBuffer()
        var frames: [ControlFrame] = []
        var offset = 0
        for size in chunks + [bytes.count] where offset < bytes.count {
            let end = min(bytes.count, offset + size)
            buffer.writeBytes(bytes[offset..<end])
            offset = end
            while let frame = decoder.nextFrame(&buffer) { frames.append(frame) }
        }
        if buffer.readableBytes > 0, let rest = decoder.finalLine(&buffer) { frames.append(rest) }
        return frames
    }

    /// A frame as comparable text: the line's bytes, or "tooLong".
    static func describe(_ frame: ControlFrame) -> String {
        switch frame {
        case .line(let line): "line:" + String(decoding: line.readableBytesView, as: UTF8.self)
        case .tooLong: "tooLong"
        }
    }

    struct Outcome {
        var frames = 0, accepted = 0, refused = 0, tooLong = 0
        var mismatches: [String] = []
    }

    /// Frames one case whole and chunked, parses every line.
    static func run(_ bytes: [UInt8], chunks: [Int], into outcome: inout Outcome) {
        let whole = frames(bytes, chunks: [])
        let chunked = frames(bytes, chunks: chunks)
        if whole.map(describe) != chunked.map(describe) {
            outcome.mismatches.append(
                "chunks \(chunks.prefix(8)) of \(bytes.count) bytes: \(whole.count) vs \(chunked.count)")
        }
        for frame in whole {
            outcome.frames += 1
            guard case .line(let line) = frame else {
                outcome.tooLong += 1
                continue
            }
            if line.readableBytes > ControlProtocol.maximumLineBytes { outcome.mismatches.append("line over limit") }
            do throws(ControlProtocolError) {
                _ = try ControlRequest(line: line.readableBytesView)
                outcome.accepted += 1
            } catch {
                _ = error.description
                outcome.refused += 1
            }
        }
    }
}

@Suite(
    "Fuzz: control protocol",
    .enabled(if: (Int(ProcessInfo.processInfo.environment["GESTUREPAD_FUZZ_CASES"] ?? "") ?? 0) > 0, "make fuzz"))
struct ControlProtocolFuzzTests {
    @Test func controlProtocolRequests() {
        let cases = Int(ProcessInfo.processInfo.environment["GESTUREPAD_FUZZ_CASES"] ?? "") ?? 0
        var random = SplitMix64(seed: UInt64(ProcessInfo.processInfo.environment["GESTUREPAD_FUZZ_SEED"] ?? "") ?? 15)
        var outcome = ControlFuzz.Outcome()
        var slowest = 0.0
        for _ in 0..<cases {
            var bytes = Array(ControlFuzz.seeds[Int(random.next() % UInt64(ControlFuzz.seeds.count))].utf8)
            for _ in 0...(random.next() % 4) { bytes = ControlFuzz.mutate(bytes, &random) }
            let chunks = (0..<Int(random.next() % 6)).map { _ in 1 + Int(random.next() % 40) }
            let start = Date()
            ControlFuzz.run(bytes, chunks: chunks, into: &outcome)
            slowest = max(slowest, Date().timeIntervalSince(start))
        }
        print(
            "fuzz control protocol: \(cases) cases, \(outcome.frames) lines, \(outcome.accepted) accepted, "
                + "\(outcome.refused) refused with an error, \(outcome.tooLong) over the length limit, "
                + "\(outcome.mismatches.count) framing mismatches, 0 crashes, slowest case \(String(format: "%.3f", slowest)) s"
        )
        #expect(outcome.mismatches.isEmpty, "\(outcome.mismatches.prefix(5))")
        #expect(slowest < 10)
    }
}

/// The control-protocol regression corpus: byte streams (JSON strings, so CR and NUL survive) with the replies
/// each line must get — "ok:<command>" or the error code.
struct ControlProtocolRegressionCase: Decodable, Sendable, CustomTestStringConvertible {
    var name: String
    var input: String
    var replies: [String]
    var testDescription: String { name }

    static let all: [ControlProtocolRegressionCase] = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Regression/control-protocol-cases.json")
        guard let data = FileManager.default.contents(atPath: path.path),
            let cases = try? JSONDecoder().decode([ControlProtocolRegressionCase].self, from: data)
        else { return [] }
        return cases
    }()
}

@Suite("Control protocol regression corpus")
struct ControlProtocolRegressionTests {
    @Test func corpusIsPresent() { #expect(ControlProtocolRegressionCase.all.count >= 5) }

    @Test(arguments: ControlProtocolRegressionCase.all)
    func linesGetTheirReplies(_ regression: ControlProtocolRegressionCase) {
        let bytes = Array(regression.input.utf8)
        let replies = ControlFuzz.frames(bytes, chunks: []).map { frame -> String in
            switch frame {
            case .tooLong: return "line_too_long"
            case .line(let line):
                do throws(ControlProtocolError) {
                    return "ok:" + (try ControlRequest(line: line.readableBytesView)).command
                } catch { return error.code }
            }
        }
        #expect(replies == regression.replies)
        // Fed one byte at a time, the framing is the same.
        let byteByByte = ControlFuzz.frames(bytes, chunks: Array(repeating: 1, count: bytes.count))
        #expect(byteByByte.map(ControlFuzz.describe) == ControlFuzz.frames(bytes, chunks: []).map(ControlFuzz.describe))
    }
}
