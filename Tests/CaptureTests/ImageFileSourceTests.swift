// ImageFileSource: a PNG written with `RGBImage.pngData()` comes back as RGB24 frames holding the
// decoded pixels, repeated or once; real-time pacing in virtual time; unreadable files are errors.
import SystemSupport
import Foundation
import TestSupport
import Testing

@testable import Capture

@Suite("Capture: image file source")
final class ImageFileSourceTests {
    let directory: String

    init() throws {
        directory = temporaryDirectory("image-source")
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A deterministic image: every byte a function of its position.
    private func pattern(width: Int, height: Int) -> RGBImage {
        RGBImage(
            width: width, height: height,
            pixels: (0..<width * height * 3).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ $0 / 7) })
    }

    private func writePNG(_ image: RGBImage, name: String = "still.png") throws -> String {
        let path = "\(directory)/\(name)"
        try Data(image.pngData()).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("the decoded image is delivered as RGB24 frames, again and again", arguments: [(7, 5), (641, 479), (1, 1)])
    func repeatsImage(size: (Int, Int)) throws {
        let image = pattern(width: size.0, height: size.1)
        let path = try writePNG(image)
        let source = try ImageFileSource(path: path)
        #expect(source.image == image)
        #expect(source.sourceDescription.contains(path))
        for index in 0..<3 {
            let frame = try #require(
                try source.withNextFrame(timeoutMilliseconds: 0) { frame in
                    (Array(frame.bytes), frame.format, frame.width, frame.height, frame.bytesPerLine, frame.sequence)
                })
            #expect(frame.0 == image.pixels)
            #expect(frame.1 == .rgb24 && frame.2 == size.0 && frame.3 == size.1 && frame.4 == size.0 * 3)
            #expect(frame.5 == UInt64(index))
        }
        #expect(source.framesDelivered == 3)
    }

    @Test("a non-repeating source gives one frame, then nil")
    func once() throws {
        let source = try ImageFileSource(path: try writePNG(pattern(width: 4, height: 3)), repeats: false)
        #expect(try source.withNextFrame(timeoutMilliseconds: 0) { $0.sequence } == 0)
        #expect(try source.withNextFrame(timeoutMilliseconds: 0) { $0.sequence } == nil)
        #expect(try source.withNextFrame(timeoutMilliseconds: 0) { $0.sequence } == nil)
    }

    @Test(
        "real-time pacing spaces frames 1/fps apart in virtual time; a late consumer sees a gap",
        arguments: [30, 15, 1])
    func pacing(framesPerSecond: Int) throws {
        let clock = VirtualFrameClock(startNanoseconds: 2_000_000_000)
        let source = try ImageFileSource(
            path: try writePNG(pattern(width: 3, height: 2)), pacing: .realTime,
            framesPerSecond: framesPerSecond, clock: clock)
        let period = 1_000_000_000 / UInt64(framesPerSecond)  // rounded down; due times are not
        for index in 0..<4 {
            let frame = try #require(
                try source.withNextFrame(timeoutMilliseconds: 2000) { ($0.sequence, $0.timestampNanoseconds) })
            #expect(frame.0 == UInt64(index))
            #expect(frame.1 == 2_000_000_000 + UInt64(index) * 1_000_000_000 / UInt64(framesPerSecond))
            #expect(clock.nowNanoseconds == frame.1)
        }
        clock.advance(byNanoseconds: 3 * period + period / 2)  // ticks 4, 5 and 6 are due; 4 and 5 are dropped
        #expect(try source.withNextFrame(timeoutMilliseconds: 2000) { $0.sequence } == 6)
    }

    @Test("missing and undecodable files are clear errors; close ends the source")
    func errors() throws {
        let missing = "\(directory)/missing.png"
        #expect(throws: CaptureError.fileUnreadable(path: missing, reason: "no such file")) {
            _ = try ImageFileSource(path: missing)
        }
        let garbage = "\(directory)/garbage.png"
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: garbage))
        #expect {
            _ = try ImageFileSource(path: garbage)
        } throws: { error in
            guard case CaptureError.undecodableImage(garbage, _) = error else { return false }
            return true
        }
        let source = try ImageFileSource(path: try writePNG(pattern(width: 2, height: 2)))
        source.close()
        source.close()
        let path = source.path
        #expect(throws: CaptureError.sourceClosed(source: path)) {
            _ = try source.withNextFrame(timeoutMilliseconds: 0) { _ in () }
        }
    }
}
