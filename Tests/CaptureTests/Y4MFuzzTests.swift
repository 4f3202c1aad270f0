// Bounded random mutation of the Y4M stream header parser (issue 15: it held in the campaign; this keeps
// it so): header lines with tags, numbers and bytes changed must parse or give a CaptureError, never trap.
// Off unless GESTUREPAD_FUZZ_CASES is set (`make fuzz`).
import Foundation
import Testing

@testable import Capture

@Suite(
    "Fuzz: Y4M header",
    .enabled(if: (Int(ProcessInfo.processInfo.environment["GESTUREPAD_FUZZ_CASES"] ?? "") ?? 0) > 0, "make fuzz"))
struct Y4MFuzzTests {
    @Test func y4mHeader() {
        let cases = Int(ProcessInfo.processInfo.environment["GESTUREPAD_FUZZ_CASES"] ?? "") ?? 0
        let corpus = [
            "YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg XYSCSS=420JPEG",
            "YUV4MPEG2 W64 H48 F15:1 C444 XCOLORRANGE=FULL",
            "YUV4MPEG2 W1 H1", "YUV4MPEG2 W16384 H16384 F30000:1001 A0:0 C420mpeg2",
        ]
        let numbers = [
            "0", "-1", "1", "16385", "2147483648", "4294967296", "9223372036854775807", "99999999999999999999", "",
        ]
        let tags = [" W", " H", " F", " A", " C", " I", " X", ":", "  ", "\0"]
        var state: UInt64 = UInt64(ProcessInfo.processInfo.environment["GESTUREPAD_FUZZ_SEED"] ?? "") ?? 15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(max(bound, 1)))
        }
        var refused = 0
        for _ in 0..<cases {
            var scalars = Array(corpus[next(corpus.count)].unicodeScalars)
            for _ in 0...next(3) {
                let position = next(scalars.count + 1)
                switch next(4) {
                case 0: scalars.insert(contentsOf: numbers[next(numbers.count)].unicodeScalars, at: position)
                case 1: scalars.insert(contentsOf: tags[next(tags.count)].unicodeScalars, at: position)
                case 2: if position < scalars.count { scalars[position] = Unicode.Scalar(UInt8(next(128))) }
                default: scalars.removeSubrange(position..<min(scalars.count, position + next(6)))
                }
            }
            var line = String.UnicodeScalarView()
            line.append(contentsOf: scalars)
            do throws(CaptureError) {
                let header = try Y4MHeader.parse(String(line), path: "fuzz.y4m")
                #expect(header.width >= 1 && header.width <= Y4MHeader.maximumSide)
                #expect(header.height >= 1 && header.height <= Y4MHeader.maximumSide)
            } catch {
                refused += 1
            }
        }
        print("fuzz Y4M header: \(cases) cases, \(refused) refused with an error, 0 crashes")
    }
}
