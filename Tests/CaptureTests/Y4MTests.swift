// Y4M recordings: Y4MWriter → Y4MFileSource round trips byte for byte (4:2:0 and 4:4:4, odd
// sizes); YUYV, RGB24 and 4:4:4 frames converted to 4:2:0 / 4:4:4 against a plain per-pixel
// reference (YUYV and 4:4:4 exact; RGB within 1 level: the writer uses 16-bit fixed-point weights);
// header parsing and every malformed-file error; looping; real-time pacing in virtual time;
// ffmpeg-made fixtures read exactly as ffmpeg's raw output. All files live in a per-test temp dir.
import SystemSupport
import Foundation
import NeuralNet
import TestSupport
import Testing

@testable import Capture

private func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix64(seed: seed)
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}

/// Runs `body` on a frame view of `bytes`.
private func withView<Result>(
    _ bytes: [UInt8], width: Int, height: Int, format: PixelFormat, bytesPerLine: Int,
    _ body: (FrameView) throws -> Result
) rethrows -> Result {
    try bytes.withUnsafeBytes { raw in
        try body(
            FrameView(
                width: width, height: height, format: format, bytesPerLine: bytesPerLine, bytes: raw,
                sequence: 0, timestampNanoseconds: 0))
    }
}

/// The CaptureError `body` throws (nil if it throws nothing).
private func capturedError(_ body: () throws -> Void) -> CaptureError? {
    do {
        try body()
        return nil
    } catch let error as CaptureError {
        return error
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}

/// Every frame of a file, read as fast as possible without looping.
private func readAllFrames(_ path: String) throws -> [[UInt8]] {
    let source = try Y4MFileSource(path: path)
    var frames: [[UInt8]] = []
    while let frame = try source.withNextFrame(timeoutMilliseconds: 0, { Array($0.bytes) }) { frames.append(frame) }
    return frames
}

/// Packed rows of `rowBytes` taken from `tight`, each followed by `padding` junk bytes.
private func padRows(_ tight: [UInt8], rowBytes: Int, height: Int, padding: Int) -> [UInt8] {
    var padded: [UInt8] = []
    for row in 0..<height {
        padded += tight[row * rowBytes..<(row + 1) * rowBytes]
        padded += [UInt8](repeating: 0xEE, count: padding)
    }
    return padded
}

// MARK: - Plain references (per pixel, Float, BT.601 full range)

private func referencePlanes(rgb: [UInt8], width: Int, height: Int, format: PixelFormat) -> [UInt8] {
    func yuv(_ x: Int, _ y: Int) -> (Float, Float, Float) {
        let base = (y * width + x) * 3
        let red = Float(rgb[base])
        let green = Float(rgb[base + 1])
        let blue = Float(rgb[base + 2])
        return (
            0.299 * red + 0.587 * green + 0.114 * blue,
            128 - 0.168736 * red - 0.331264 * green + 0.5 * blue,
            128 + 0.5 * red - 0.418688 * green - 0.081312 * blue
        )
    }
    func byte(_ value: Float) -> UInt8 { UInt8(min(max(value.rounded(), 0), 255)) }
    var luma: [UInt8] = []
    var blue: [UInt8] = []
    var red: [UInt8] = []
    for y in 0..<height { for x in 0..<width { luma.append(byte(yuv(x, y).0)) } }
    if format == .yuv444 {
        for y in 0..<height {
            for x in 0..<width {
                blue.append(byte(yuv(x, y).1))
                red.append(byte(yuv(x, y).2))
            }
        }
    } else {
        for y in stride(from: 0, to: height, by: 2) {
            for x in stride(from: 0, to: width, by: 2) {
                let block = [(x, y), (x + 1, y), (x, y + 1), (x + 1, y + 1)].filter { $0.0 < width && $0.1 < height }
                let samples = block.map { yuv($0.0, $0.1) }
                blue.append(byte(samples.map(\.1).reduce(0, +) / Float(samples.count)))
                red.append(byte(samples.map(\.2).reduce(0, +) / Float(samples.count)))
            }
        }
    }
    return luma + blue + red
}

private func referencePlanes(yuyv: [UInt8], width: Int, height: Int, format: PixelFormat) -> [UInt8] {
    let rowBytes = ((width + 1) / 2) * 4
    func sample(_ x: Int, _ y: Int, _ component: Int) -> Int {  // component 1 = U, 3 = V of pixel x's pair
        Int(yuyv[y * rowBytes + (x / 2) * 4 + component])
    }
    var luma: [UInt8] = []
    var blue: [UInt8] = []
    var red: [UInt8] = []
    for y in 0..<height { for x in 0..<width { luma.append(yuyv[y * rowBytes + 2 * x]) } }
    if format == .yuv444 {
        for y in 0..<height {
            for x in 0..<width {
                blue.append(UInt8(sample(x, y, 1)))
                red.append(UInt8(sample(x, y, 3)))
            }
        }
    } else {
        for y in stride(from: 0, to: height, by: 2) {
            let below = min(y + 1, height - 1)
            for x in stride(from: 0, to: width, by: 2) {
                blue.append(UInt8((Float(sample(x, y, 1) + sample(x, below, 1)) / 2).rounded()))
                red.append(UInt8((Float(sample(x, y, 3) + sample(x, below, 3)) / 2).rounded()))
            }
        }
    }
    return luma + blue + red
}

@Suite("Capture: Y4M recordings")
final class Y4MTests {
    let directory: String

    init() throws {
        directory = temporaryDirectory("y4m-tests")
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func file(_ name: String) -> String { "\(directory)/\(name)" }

    /// Writes `frames` (planar, tight) to `path` and returns the count `finish` reports.
    @discardableResult
    private func record(
        _ frames: [[UInt8]], to path: String, width: Int, height: Int, format: PixelFormat,
        frameRate: Y4MRatio = Y4MRatio(30, 1)
    ) throws -> Int {
        let writer = try Y4MWriter(path: path, width: width, height: height, frameRate: frameRate, format: format)
        for frame in frames {
            try withView(frame, width: width, height: height, format: format, bytesPerLine: width) {
                try writer.write($0)
            }
        }
        return try writer.finish()
    }

    private func planarFrames(count: Int, width: Int, height: Int, format: PixelFormat, seed: UInt64 = 1) -> [[UInt8]] {
        let size = format.frameByteCount(width: width, height: height)!
        return (0..<count).map { randomBytes(size, seed: seed &+ UInt64($0)) }
    }

    // MARK: Round trips

    @Test(
        "record → replay gives the same frames byte for byte",
        arguments: [PixelFormat.yuv420, .yuv444], [(641, 479), (7, 5), (1, 1), (2, 2), (16, 9)])
    func roundTrip(format: PixelFormat, size: (Int, Int)) throws {
        let path = file("clip.y4m")
        let frames = planarFrames(count: 3, width: size.0, height: size.1, format: format)
        #expect(try record(frames, to: path, width: size.0, height: size.1, format: format) == 3)

        let source = try Y4MFileSource(path: path)
        #expect(source.header.width == size.0 && source.header.height == size.1)
        #expect(source.header.pixelFormat == format)
        #expect(source.header.colourRange == .full)
        for (index, expected) in frames.enumerated() {
            let frame = try source.withNextFrame(timeoutMilliseconds: 0) { frame in
                (Array(frame.bytes), frame.sequence, frame.format, frame.bytesPerLine)
            }
            #expect(frame?.0 == expected, "frame \(index) differs")
            #expect(frame?.1 == UInt64(index) && frame?.2 == format && frame?.3 == size.0)
        }
        #expect(try source.withNextFrame(timeoutMilliseconds: 0) { _ in true } == nil)
        #expect(try source.withNextFrame(timeoutMilliseconds: 0) { _ in true } == nil)
        #expect(source.framesDelivered == 3)
    }

    @Test(
        "RGB24 frames (tight and padded rows) are stored as BT.601 full-range YUV within 1 level",
        arguments: [PixelFormat.yuv420, .yuv444], [(641, 479), (7, 5), (1, 1), (2, 3)])
    func rgbConversion(format: PixelFormat, size: (Int, Int)) throws {
        let (width, height) = size
        let rgb = randomBytes(width * height * 3, seed: 7)
        let expected = referencePlanes(rgb: rgb, width: width, height: height, format: format)
        for padding in [0, 5] {
            let path = file("rgb-\(padding).y4m")
            let writer = try Y4MWriter(path: path, width: width, height: height, format: format)
            let bytes = padRows(rgb, rowBytes: width * 3, height: height, padding: padding)
            try withView(bytes, width: width, height: height, format: .rgb24, bytesPerLine: width * 3 + padding) {
                try writer.write($0)
            }
            #expect(try writer.finish() == 1)
            let stored = try readAllFrames(path)
            #expect(stored.count == 1)
            let worst = zip(stored[0], expected).map { abs(Int($0) - Int($1)) }.max() ?? 999
            #expect(stored[0].count == expected.count && worst <= 1, "padding \(padding): worst |Δ| \(worst)")
        }
    }

    @Test("grey RGB stays exactly grey (Y = level, U = V = 128)")
    func greyIsExact() throws {
        let levels: [UInt8] = [0, 1, 127, 128, 254, 255]
        let rgb = levels.flatMap { [$0, $0, $0] }
        var output = [UInt8](repeating: 0, count: PixelFormat.yuv444.frameByteCount(width: 6, height: 1)!)
        rgb.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { output in
                Y4MWriter.convertRGB(input, width: 6, height: 1, bytesPerLine: 18, to: output, format: .yuv444)
            }
        }
        #expect(output == levels + [UInt8](repeating: 128, count: 12))
    }

    @Test(
        "YUYV frames (tight and padded rows) keep Y and average chroma rows exactly",
        arguments: [PixelFormat.yuv420, .yuv444], [(641, 479), (7, 5), (1, 1), (2, 3)])
    func yuyvConversion(format: PixelFormat, size: (Int, Int)) throws {
        let (width, height) = size
        let rowBytes = ((width + 1) / 2) * 4
        let yuyv = randomBytes(rowBytes * height, seed: 11)
        let expected = referencePlanes(yuyv: yuyv, width: width, height: height, format: format)
        for padding in [0, 8] {
            let path = file("yuyv-\(padding).y4m")
            let writer = try Y4MWriter(path: path, width: width, height: height, format: format)
            let bytes = padRows(yuyv, rowBytes: rowBytes, height: height, padding: padding)
            for _ in 0..<2 {
                try withView(bytes, width: width, height: height, format: .yuyv, bytesPerLine: rowBytes + padding) {
                    try writer.write($0)
                }
            }
            #expect(try writer.finish() == 2)
            #expect(try readAllFrames(path) == [expected, expected], "padding \(padding)")
        }
    }

    @Test(
        "4:4:4 frames stored in a 4:2:0 file keep Y and average chroma over 2×2 blocks exactly",
        arguments: [(641, 479), (7, 5), (1, 1), (2, 3)])
    func yuv444To420(size: (Int, Int)) throws {
        let (width, height) = size
        let planar = randomBytes(3 * width * height, seed: 13)
        var expected = Array(planar[..<(width * height)])
        for plane in 1...2 {
            for y in stride(from: 0, to: height, by: 2) {
                for x in stride(from: 0, to: width, by: 2) {
                    let block = [(x, y), (x + 1, y), (x, y + 1), (x + 1, y + 1)].filter {
                        $0.0 < width && $0.1 < height
                    }
                    let sum = block.map { Float(planar[plane * width * height + $0.1 * width + $0.0]) }.reduce(0, +)
                    expected.append(UInt8((sum / Float(block.count)).rounded()))
                }
            }
        }
        let path = file("444-in-420.y4m")
        let writer = try Y4MWriter(path: path, width: width, height: height, format: .yuv420)
        try withView(planar, width: width, height: height, format: .yuv444, bytesPerLine: width) {
            try writer.write($0)
        }
        try writer.finish()
        #expect(try readAllFrames(path) == [expected])
    }

    // MARK: Header

    @Test("header fields: W H F I A C and X tags, in any order")
    func headerParsing() throws {
        let line = "YUV4MPEG2 C420paldv W320 H240 F30000:1001 I? A128:117 XYSCSS=420PALDV XCOLORRANGE=LIMITED Zfuture"
        let header = try Y4MHeader.parse(line, path: "x.y4m")
        #expect(header.width == 320 && header.height == 240)
        #expect(header.frameRate == Y4MRatio(30000, 1001))
        #expect(abs(header.frameRate.value - 29.97) < 0.001)
        #expect(header.pixelAspectRatio == Y4MRatio(128, 117))
        #expect(header.colourspace == .yuv420paldv && header.pixelFormat == .yuv420)
        #expect(header.extensions == ["YSCSS=420PALDV", "COLORRANGE=LIMITED"])
        #expect(header.colourRange == .limited)
        #expect(header.frameByteCount == 320 * 240 * 3 / 2)
    }

    @Test("defaults: no C means 420jpeg, no F (or F0:0) means 25:1, no A means 0:0")
    func headerDefaults() throws {
        for line in ["YUV4MPEG2 W4 H2", "YUV4MPEG2 W4 H2 F0:0"] {
            let header = try Y4MHeader.parse(line, path: "x.y4m")
            #expect(header.colourspace == .yuv420jpeg)
            #expect(header.frameRate == Y4MRatio(25, 1))
            #expect(header.pixelAspectRatio == Y4MRatio(0, 0))
            #expect(header.extensions.isEmpty && header.colourRange == nil)
        }
    }

    @Test("C tags map to pixel formats, and a written header parses back equal", arguments: Y4MColourspace.allCases)
    func colourspaces(colourspace: Y4MColourspace) throws {
        let header = Y4MHeader(
            width: 641, height: 479, frameRate: Y4MRatio(24000, 1001),
            pixelAspectRatio: Y4MRatio(1, 1), colourspace: colourspace, extensions: ["COLORRANGE=FULL"])
        #expect(header.line.hasSuffix("\n"))
        #expect(try Y4MHeader.parse(String(header.line.dropLast()), path: "x.y4m") == header)
        #expect(header.pixelFormat == (colourspace == .yuv444 ? .yuv444 : .yuv420))
    }

    /// Header lines that must fail: (line, "malformed" or "unsupported", the field the error names).
    static let badHeaders: [(String, String, String)] = [
        ("YUV4MPEG2 H240 F30:1 C420jpeg", "malformed", "W"),
        ("YUV4MPEG2 W320 F30:1", "malformed", "H"),
        ("YUV4MPEG2 W0 H240", "malformed", "W0"),
        ("YUV4MPEG2 W320 H0", "malformed", "H0"),
        ("YUV4MPEG2 W-5 H240", "malformed", "W-5"),
        ("YUV4MPEG2 W99999 H240", "malformed", "W99999"),
        ("YUV4MPEG2 Wabc H240", "malformed", "Wabc"),
        ("YUV4MPEG2 W320 H240 F30", "malformed", "F30"),
        ("YUV4MPEG2 W320 H240 F30:0", "malformed", "F30:0"),
        ("YUV4MPEG2 W320 H240 Ax:y", "malformed", "Ax:y"),
        ("YUV4MPEG2 W320 H240 Iz", "malformed", "Iz"),
        ("YUV4MPEG W320 H240", "malformed", "signature"),
        ("P6 320 240 255", "malformed", "signature"),
        ("YUV4MPEG2 W320 H240 C422", "unsupported", "C422"),
        ("YUV4MPEG2 W320 H240 Cmono", "unsupported", "Cmono"),
        ("YUV4MPEG2 W320 H240 C420p10", "unsupported", "C420p10"),
        ("YUV4MPEG2 W320 H240 C444alpha", "unsupported", "C444alpha"),
        ("YUV4MPEG2 W320 H240 It", "unsupported", "It"),
        ("YUV4MPEG2 W320 H240 Ib", "unsupported", "Ib"),
        ("YUV4MPEG2 W320 H240 Im", "unsupported", "Im"),
    ]

    @Test("malformed and unsupported headers are clear errors naming the file and field", arguments: badHeaders)
    func badHeader(_ example: (line: String, kind: String, field: String)) throws {
        let path = file("bad.y4m")
        try Data((example.line + "\nFRAME\n").utf8).write(to: URL(fileURLWithPath: path))
        let error = capturedError { _ = try Y4MFileSource(path: path) }
        switch error {
        case .y4mMalformedHeader(let errorPath, let field, _)? where example.kind == "malformed":
            #expect(errorPath == path && field == example.field)
        case .y4mUnsupported(let errorPath, let field, let supported)? where example.kind == "unsupported":
            #expect(errorPath == path && field == example.field)
            #expect(supported.contains(example.field.hasPrefix("I") ? "Ip" : "C420jpeg"))
        default:
            Issue.record("\(example.line): expected \(example.kind) \(example.field), got \(String(describing: error))")
        }
        let description = error?.description ?? ""
        #expect(description.contains(path) && description.contains(example.field), "\(description)")
    }

    @Test("empty files, missing files, other files and endless header lines are clear errors")
    func unreadableFiles() throws {
        let empty = file("empty.y4m")
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        #expect(
            capturedError { _ = try Y4MFileSource(path: empty) }
                == .y4mMalformedHeader(path: empty, field: "signature", reason: "the file is empty"))

        let missing = file("missing.y4m")
        guard case .fileUnreadable(let path, let reason)? = capturedError({ _ = try Y4MFileSource(path: missing) })
        else {
            Issue.record("a missing file must be .fileUnreadable")
            return
        }
        #expect(path == missing && reason.contains("open") && reason.contains("No such file"))

        let png = file("image.png")
        try Data(RGBImage(width: 2, height: 2, pixels: [UInt8](repeating: 9, count: 12)).pngData()).write(
            to: URL(fileURLWithPath: png))
        guard case .y4mMalformedHeader(_, "signature", _)? = capturedError({ _ = try Y4MFileSource(path: png) }) else {
            Issue.record("a PNG must fail on the signature")
            return
        }

        for (name, contents) in [
            ("cut.y4m", "YUV4MPEG2 W4 H2 F30:1"),
            ("long.y4m", "YUV4MPEG2 W4 H2 " + String(repeating: "XPAD ", count: 300)),
        ] {
            let path = file(name)
            try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
            guard
                case .y4mMalformedHeader(path, "header line", _)? = capturedError({ _ = try Y4MFileSource(path: path) })
            else {
                Issue.record("\(name) must fail on the header line")
                continue
            }
        }
    }

    // MARK: Frames

    /// A two-by-two 4:2:0 recording's bytes: header + frames, each frame `FRAME\n` + 6 bytes.
    private func tinyRecording(frames: Int, frameLine: String = "FRAME\n") -> (bytes: [UInt8], headerLength: Int) {
        let header = Array("YUV4MPEG2 W2 H2 F30:1 Ip A1:1 C420jpeg\n".utf8)
        var bytes = header
        for index in 0..<frames { bytes += Array(frameLine.utf8) + [UInt8](repeating: UInt8(index), count: 6) }
        return (bytes, header.count)
    }

    @Test("FRAME lines may carry parameters")
    func frameParameters() throws {
        let path = file("params.y4m")
        try Data(tinyRecording(frames: 2, frameLine: "FRAME Ip XTIME=1\n").bytes).write(to: URL(fileURLWithPath: path))
        #expect(try readAllFrames(path) == [[0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]])
    }

    /// Corruptions of frame 1 (at byte headerLength + 12): the bytes put there, and what the error is.
    static let badFrameMarkers: [(String, String)] = [
        ("FRAMX\n", "malformed"), ("FRAMEX\n", "malformed"), ("frame\n", "malformed"), ("\0\0\0\0\0\0", "malformed"),
    ]

    @Test("a bad FRAME marker names the file, frame index and byte offset", arguments: badFrameMarkers)
    func badFrameMarker(_ corruption: (bytes: String, kind: String)) throws {
        let path = file("marker.y4m")
        var (bytes, headerLength) = tinyRecording(frames: 3)
        let offset = headerLength + 12
        bytes.replaceSubrange(offset..<offset + 6, with: Array(corruption.bytes.utf8).prefix(6))
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let source = try Y4MFileSource(path: path)
        #expect(try source.withNextFrame(timeoutMilliseconds: 0) { Array($0.bytes) } == [0, 0, 0, 0, 0, 0])
        let error = capturedError { _ = try source.withNextFrame(timeoutMilliseconds: 0) { _ in () } }
        guard case .y4mMalformedFrame(path, 1, offset, _)? = error else {
            Issue.record("expected y4mMalformedFrame(\(path), 1, \(offset)), got \(String(describing: error))")
            return
        }
        #expect(error!.description.contains("frame 1") && error!.description.contains("byte \(offset)"))
    }

    @Test("frames larger than the header says are caught at the next FRAME marker")
    func wrongFrameSize() throws {
        let path = file("size.y4m")
        var bytes = Array("YUV4MPEG2 W2 H2 C420jpeg\n".utf8)
        for _ in 0..<3 { bytes += Array("FRAME\n".utf8) + [UInt8](repeating: 7, count: 12) }  // 4:4:4-sized data
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let source = try Y4MFileSource(path: path)
        _ = try source.withNextFrame(timeoutMilliseconds: 0) { _ in () }
        let error = capturedError { _ = try source.withNextFrame(timeoutMilliseconds: 0) { _ in () } }
        guard case .y4mMalformedFrame(_, 1, _, let reason)? = error else {
            Issue.record("expected y4mMalformedFrame at frame 1, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("6 bytes"))
    }

    @Test(
        "a truncated last frame (in its data or its FRAME line) is a clear error after the intact frames",
        arguments: [1, 5, 6, 8, 11])
    func truncatedLastFrame(cut: Int) throws {
        let path = file("cut.y4m")
        let (bytes, headerLength) = tinyRecording(frames: 3)
        try Data(bytes.dropLast(cut)).write(to: URL(fileURLWithPath: path))
        let source = try Y4MFileSource(path: path, loops: true)
        for index in 0..<2 {
            #expect(try source.withNextFrame(timeoutMilliseconds: 0) { $0.bytes.first } == UInt8(index))
        }
        let error = capturedError { _ = try source.withNextFrame(timeoutMilliseconds: 0) { _ in () } }
        #expect(
            error
                == .y4mTruncatedFrame(
                    path: path, frameIndex: 2, byteOffset: headerLength + 24,
                    expectedBytes: 12, availableBytes: 12 - cut))
        #expect(error?.description.contains("frame 2") == true)
        // The error repeats instead of skipping the broken frame or crashing.
        #expect(capturedError { _ = try source.withNextFrame(timeoutMilliseconds: 0) { _ in () } } == error)
    }

    @Test("looping starts over after the last frame; sequence keeps counting")
    func looping() throws {
        let path = file("loop.y4m")
        try Data(tinyRecording(frames: 3).bytes).write(to: URL(fileURLWithPath: path))
        let source = try Y4MFileSource(path: path, loops: true)
        var seen: [(UInt8, UInt64)] = []
        for _ in 0..<7 {
            if let frame = try source.withNextFrame(timeoutMilliseconds: 0, { ($0.bytes[0], $0.sequence) }) {
                seen.append(frame)
            }
        }
        #expect(seen.map(\.0) == [0, 1, 2, 0, 1, 2, 0])
        #expect(seen.map(\.1) == Array(0..<7))

        let empty = file("empty-loop.y4m")
        try Data(tinyRecording(frames: 0).bytes).write(to: URL(fileURLWithPath: empty))
        #expect(try Y4MFileSource(path: empty, loops: true).withNextFrame(timeoutMilliseconds: 0) { _ in 1 } == nil)
    }

    @Test("close makes further reads a sourceClosed error; closing twice is harmless")
    func closing() throws {
        let path = file("close.y4m")
        try Data(tinyRecording(frames: 2).bytes).write(to: URL(fileURLWithPath: path))
        let source = try Y4MFileSource(path: path)
        source.close()
        source.close()
        #expect(
            capturedError { _ = try source.withNextFrame(timeoutMilliseconds: 0) { _ in () } }
                == .sourceClosed(source: path))
    }

    // MARK: Pacing (virtual time)

    @Test(
        "real-time pacing delivers frames at the header's rate", arguments: [(30, 1), (25, 1), (30000, 1001), (1, 2)])
    func pacing(rate: (Int, Int)) throws {
        let path = file("paced.y4m")
        let frames = planarFrames(count: 5, width: 3, height: 3, format: .yuv420)
        try record(frames, to: path, width: 3, height: 3, format: .yuv420, frameRate: Y4MRatio(rate.0, rate.1))
        let clock = VirtualFrameClock(startNanoseconds: 5_000_000_000)
        let source = try Y4MFileSource(path: path, pacing: .realTime, clock: clock)
        var timestamps: [UInt64] = []
        while let frame = try source.withNextFrame(
            timeoutMilliseconds: 10_000, { ($0.timestampNanoseconds, Array($0.bytes), $0.sequence) })
        {
            #expect(frame.1 == frames[timestamps.count] && frame.2 == UInt64(timestamps.count))
            #expect(clock.nowNanoseconds == frame.0)
            timestamps.append(frame.0)
        }
        let period = 1e9 * Double(rate.1) / Double(rate.0)  // 33.3 ms at 30 fps
        #expect(timestamps.count == 5 && timestamps[0] == 5_000_000_000)
        for (index, timestamp) in timestamps.enumerated() {
            #expect(abs(Double(timestamp - timestamps[0]) - Double(index) * period) < 1, "frame \(index)")
        }
        #expect(source.framesDropped == 0)
    }

    @Test("a consumer that falls behind gets the newest due frame; the skipped ones count as dropped")
    func lateConsumer() throws {
        let path = file("late.y4m")
        let frames = planarFrames(count: 6, width: 2, height: 2, format: .yuv420)
        try record(frames, to: path, width: 2, height: 2, format: .yuv420)
        let clock = VirtualFrameClock(startNanoseconds: 0)
        let source = try Y4MFileSource(path: path, pacing: .realTime, clock: clock)
        let read = { () throws -> (bytes: [UInt8], sequence: UInt64, time: UInt64)? in
            try source.withNextFrame(timeoutMilliseconds: 1000) {
                (Array($0.bytes), $0.sequence, $0.timestampNanoseconds)
            }
        }
        #expect(try read()?.sequence == 0)
        clock.advance(byNanoseconds: 100_000_000)  // 100 ms of work: ticks 1, 2 and 3 are due
        let late = try #require(try read())
        #expect(late.sequence == 3 && late.bytes == frames[3] && late.time == 100_000_000)
        #expect(source.framesDropped == 2)
        let next = try #require(try read())
        #expect(next.sequence == 4 && next.bytes == frames[4] && next.time == 133_333_333)
        clock.advance(byNanoseconds: 1_000_000_000)  // far behind: the file ends while skipping
        #expect(try read() == nil)
    }

    @Test("a looping paced source far behind skips whole passes and lands on the right frame")
    func lateLoopingConsumer() throws {
        let path = file("late-loop.y4m")
        try Data(tinyRecording(frames: 3).bytes).write(to: URL(fileURLWithPath: path))
        let clock = VirtualFrameClock(startNanoseconds: 0)
        let source = try Y4MFileSource(path: path, pacing: .realTime, loops: true, clock: clock)
        let read = { () throws -> (UInt8, UInt64)? in
            try source.withNextFrame(timeoutMilliseconds: 1000) { ($0.bytes[0], $0.sequence) }
        }
        #expect(try read()! == (0, 0))
        clock.advance(byNanoseconds: 1_000_000_000)  // tick 30: frames are skipped one by one, wrapping
        #expect(try read()! == (0, 30))
        clock.advance(byNanoseconds: 3_600_000_000_000)  // an hour: tick 108030, skipped modulo 3
        #expect(try read()! == (UInt8(108_030 % 3), 108_030))
    }

    @Test("a paced frame not due within the timeout is a pacedFrameNotDue error after waiting the timeout")
    func pacingTimeout() throws {
        let path = file("slow.y4m")
        try record(
            planarFrames(count: 2, width: 2, height: 2, format: .yuv444), to: path, width: 2, height: 2,
            format: .yuv444, frameRate: Y4MRatio(1, 1))
        let clock = VirtualFrameClock(startNanoseconds: 0)
        let source = try Y4MFileSource(path: path, pacing: .realTime, clock: clock)
        #expect(try source.withNextFrame(timeoutMilliseconds: 0) { $0.sequence } == 0)
        let error = capturedError { _ = try source.withNextFrame(timeoutMilliseconds: 100) { _ in () } }
        #expect(error == .pacedFrameNotDue(source: path, milliseconds: 100, framesPerSecond: 1))
        #expect(clock.nowNanoseconds == 100_000_000)
        #expect(
            try source.withNextFrame(timeoutMilliseconds: 2000) { ($0.sequence, $0.timestampNanoseconds) }! == (
                1, 1_000_000_000
            ))
    }

    // MARK: Writer

    @Test("the writer's file appears under its name only at finish, fsync'ed and complete")
    func atomicWrite() throws {
        let path = file("atomic.y4m")
        let frames = planarFrames(count: 2, width: 5, height: 3, format: .yuv420)
        let writer = try Y4MWriter(path: path, width: 5, height: 3)
        for frame in frames {
            try withView(frame, width: 5, height: 3, format: .yuv420, bytesPerLine: 5) { try writer.write($0) }
        }
        #expect(writer.framesWritten == 2)
        #expect(!FileManager.default.fileExists(atPath: path))
        let pending = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(pending.count == 1 && pending[0].hasPrefix("atomic.y4m.tmp-"))
        #expect(try writer.finish() == 2)
        #expect(try writer.finish() == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["atomic.y4m"])
        #expect(try readAllFrames(path) == frames)
        let rejected = capturedError {
            try withView(frames[0], width: 5, height: 3, format: .yuv420, bytesPerLine: 5) { try writer.write($0) }
        }
        guard case .y4mWriteRejected(path, _)? = rejected else {
            Issue.record("writing after finish must be rejected, got \(String(describing: rejected))")
            return
        }
    }

    @Test("a cancelled or abandoned recording leaves no file behind")
    func abandonedWrite() throws {
        let frame = [UInt8](repeating: 1, count: 6)
        do {
            let writer = try Y4MWriter(path: file("cancelled.y4m"), width: 2, height: 2)
            try withView(frame, width: 2, height: 2, format: .yuv420, bytesPerLine: 2) { try writer.write($0) }
            writer.cancel()
        }
        do {
            let writer = try Y4MWriter(path: file("dropped.y4m"), width: 2, height: 2)
            try withView(frame, width: 2, height: 2, format: .yuv420, bytesPerLine: 2) { try writer.write($0) }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == [])
    }

    @Test("frames the writer cannot store, bad headers and unwritable paths are clear errors")
    func writerErrors() throws {
        let path = file("errors.y4m")
        let writer = try Y4MWriter(path: path, width: 4, height: 2)
        let writer444 = try Y4MWriter(path: file("errors444.y4m"), width: 4, height: 2, format: .yuv444)
        let rgb = [UInt8](repeating: 0, count: 4 * 2 * 3)
        let cases: [(String, () throws -> Void)] = [
            (
                "other size",
                { try withView(rgb, width: 2, height: 4, format: .rgb24, bytesPerLine: 6) { try writer.write($0) } }
            ),
            (
                "mjpeg",
                { try withView(rgb, width: 4, height: 2, format: .mjpeg, bytesPerLine: 0) { try writer.write($0) } }
            ),
            (
                "420 into 444",
                { try withView(rgb, width: 4, height: 2, format: .yuv420, bytesPerLine: 4) { try writer444.write($0) } }
            ),
            (
                "short rows",
                { try withView(rgb, width: 4, height: 2, format: .rgb24, bytesPerLine: 11) { try writer.write($0) } }
            ),
            (
                "few bytes",
                {
                    try withView(Array(rgb.prefix(23)), width: 4, height: 2, format: .rgb24, bytesPerLine: 12) {
                        try writer.write($0)
                    }
                }
            ),
            (
                "padded planar",
                { try withView(rgb, width: 4, height: 2, format: .yuv420, bytesPerLine: 6) { try writer.write($0) } }
            ),
            (
                "huge stride",
                {
                    try withView(rgb, width: 4, height: 2, format: .yuyv, bytesPerLine: Int.max) {
                        try writer.write($0)
                    }
                }
            ),
        ]
        for (name, attempt) in cases {
            guard case .y4mWriteRejected(let rejected, _)? = capturedError(attempt),
                rejected.hasPrefix(path.dropLast(4))
            else {
                Issue.record("\(name) must be rejected")
                continue
            }
        }
        #expect(writer.framesWritten == 0 && writer444.framesWritten == 0)
        writer.cancel()
        writer444.cancel()

        guard
            case .y4mWriteRejected? = capturedError({
                _ = try Y4MWriter(path: path, width: 4, height: 2, format: .rgb24)
            }),
            case .y4mMalformedHeader(_, "W0", _)? = capturedError({ _ = try Y4MWriter(path: path, width: 0, height: 2) }
            ),
            case .y4mMalformedHeader(_, "F30:0", _)? = capturedError({
                _ = try Y4MWriter(path: path, width: 2, height: 2, frameRate: Y4MRatio(30, 0))
            }),
            case .fileUnwritable(let unwritable, let call, _)? = capturedError({
                _ = try Y4MWriter(path: "\(self.directory)/no/such/dir/x.y4m", width: 2, height: 2)
            })
        else {
            Issue.record("writer set-up errors")
            return
        }
        #expect(unwritable.hasSuffix("no/such/dir/x.y4m") && call.hasPrefix("open"))
    }

    // MARK: ffmpeg's files

    static let fixtures = ["testsrc-33x25-yuv420p", "testsrc-33x25-yuv444p"]

    @Test("Y4M files written by ffmpeg read exactly as ffmpeg's raw output (Fixtures/README.md)", arguments: fixtures)
    func ffmpegFixture(name: String) throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        let path = fixtures.appendingPathComponent("\(name).y4m").path
        let raw = [UInt8](try Data(contentsOf: fixtures.appendingPathComponent("\(name).yuv")))
        let source = try Y4MFileSource(path: path)
        let header = source.header
        #expect(header.width == 33 && header.height == 25 && header.frameRate == Y4MRatio(30, 1))
        #expect(header.pixelAspectRatio == Y4MRatio(1, 1) && header.colourRange == .limited)
        #expect(header.pixelFormat == (name.hasSuffix("444p") ? .yuv444 : .yuv420))
        let frames = try readAllFrames(path)
        #expect(frames.count == 3)
        #expect(frames.flatMap { $0 } == raw)
    }
}
