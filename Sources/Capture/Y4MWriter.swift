// Y4MWriter: records frames to a YUV4MPEG2 file (header line, then `FRAME\n` + planar data per
// frame; see Y4MHeader.swift). Planar frames of the file's own layout are copied; YUYV and RGB24
// camera frames are converted: RGB → YUV with BT.601 full range (JFIF, what `C420jpeg` +
// `XCOLORRANGE=FULL` and the preprocessor's `YUV.rgb` assume), chroma averaged over each 2×2 block
// (4:2:0, JPEG siting) or per pixel (4:4:4); YUYV keeps Y and averages the chroma of row pairs
// (4:2:2 → 4:2:0) or repeats each chroma sample for both pixels (→ 4:4:4); 4:4:4 → 4:2:0 averages
// chroma over 2×2 blocks. Averages round half up.
// Invariants: the file is written through SystemSupport's `AtomicFileWriter` (`<path>.tmp-<pid>-<random>`,
// fsync'ed and renamed to `path` only by `finish()`: readers and crashes never see a partial file under
// `path`); one frame buffer is allocated at init, nothing per frame. Odd sizes: edge blocks average what exists.
import SystemSupport

/// Writes frames to a Y4M file, atomically: the file appears under its name only when `finish()` succeeds.
///
/// Not thread-safe. An unfinished writer (dropped, or `cancel()`ed) removes its temporary file.
public final class Y4MWriter {
    /// The final file name.
    public let path: String
    /// The header written at the top of the file.
    public let header: Y4MHeader
    /// Frames written so far.
    public private(set) var framesWritten = 0

    /// The temporary file, renamed to `path` by `finish()`; nil once finished or cancelled.
    private var file: AtomicFileWriter?
    private var finished = false
    /// "FRAME\n" followed by one frame's planar data: what one `write(2)` puts in the file.
    private let frameRecord: UnsafeMutableRawBufferPointer
    private static let frameLine = Array("FRAME\n".utf8)

    /// Creates the temporary file and writes the header.
    ///
    /// - Parameter header: size, rate and colourspace of the recording (`.yuv420jpeg` or `.yuv444`
    ///   colourspaces; extensions are written as given).
    /// - Throws: `.y4mMalformedHeader` for out-of-range values, `.fileUnwritable` naming the call that failed.
    public init(path: String, header: Y4MHeader) throws(CaptureError) {
        try header.validate(path: path)
        self.path = path
        self.header = header
        frameRecord = .allocate(byteCount: Self.frameLine.count + header.frameByteCount, alignment: 64)
        frameRecord.copyBytes(from: Self.frameLine)
        do throws(AtomicFileError) {
            let file = try AtomicFileWriter(path: path)
            self.file = file
            try file.write(Array(header.line.utf8))
        } catch {
            throw Self.unwritable(error)
        }
    }

    /// A writer for frames of `width × height` at `frameRate` frames per second, stored as
    /// `format` (`.yuv420`, the default, or `.yuv444`), with full-range colour (`XCOLORRANGE=FULL`).
    public convenience init(
        path: String, width: Int, height: Int, frameRate: Y4MRatio = Y4MRatio(30, 1),
        format: PixelFormat = .yuv420
    ) throws(CaptureError) {
        let colourspace: Y4MColourspace
        switch format {
        case .yuv420: colourspace = .yuv420jpeg
        case .yuv444: colourspace = .yuv444
        default:
            throw .y4mWriteRejected(
                path: path, reason: "a Y4M file stores yuv420 or yuv444 frames, not \(format.rawValue)")
        }
        let subsampling = colourspace == .yuv444 ? "444" : "420JPEG"
        try self.init(
            path: path,
            header: Y4MHeader(
                width: width, height: height, frameRate: frameRate,
                colourspace: colourspace,
                extensions: ["YSCSS=\(subsampling)", "COLORRANGE=FULL"]))
    }

    deinit {
        cancel()
        frameRecord.deallocate()
    }

    /// The Capture error for a failed atomic-file call.
    private static func unwritable(_ error: AtomicFileError) -> CaptureError {
        .fileUnwritable(path: error.path, call: error.call, reason: Y4MFileSource.systemError(error.call, error.errno))
    }

    /// Appends one frame, converting it to the file's layout.
    ///
    /// Accepted: frames of the header's size in the file's own format (copied byte for byte), or
    /// `.yuyv` / `.rgb24` (converted, see the file header), or `.yuv444` into a 4:2:0 file (chroma
    /// averaged over 2×2 blocks). Planar input must be tightly packed
    /// (`bytesPerLine == width`); packed input may have padded rows.
    /// - Throws: `.y4mWriteRejected` for a frame of another size or format, too few bytes, or after
    ///   `finish()`; `.fileUnwritable` when the write fails (the disk is full, …).
    public func write(_ frame: FrameView) throws(CaptureError) {
        guard !finished, file != nil else {
            throw .y4mWriteRejected(path: path, reason: "the recording was already finished or cancelled")
        }
        guard frame.width == header.width, frame.height == header.height else {
            throw .y4mWriteRejected(
                path: path,
                reason: "the frame is \(frame.width)×\(frame.height) but the recording is "
                    + "\(header.width)×\(header.height)")
        }
        let output = UnsafeMutableRawBufferPointer(rebasing: frameRecord[Self.frameLine.count...])
        let width = frame.width
        let height = frame.height
        let target = header.pixelFormat
        switch (frame.format, target) {
        case (.yuv420, .yuv420), (.yuv444, .yuv444):
            guard frame.bytesPerLine == width else {
                throw .y4mWriteRejected(
                    path: path,
                    reason: "planar frames must have bytesPerLine == width "
                        + "(got \(frame.bytesPerLine) for width \(width))")
            }
            try requireBytes(frame, output.count)
            output.copyMemory(from: UnsafeRawBufferPointer(rebasing: frame.bytes[..<output.count]))
        case (.yuv444, .yuv420):
            guard frame.bytesPerLine == width else {
                throw .y4mWriteRejected(
                    path: path,
                    reason: "planar frames must have bytesPerLine == width "
                        + "(got \(frame.bytesPerLine) for width \(width))")
            }
            try requireBytes(frame, 3 * width * height)
            Self.convertYUV444To420(frame.bytes, width: width, height: height, to: output)
        case (.yuyv, _):
            try requireRows(frame, rowBytes: ((width + 1) / 2) * 4)
            Self.convertYUYV(
                frame.bytes, width: width, height: height, bytesPerLine: frame.bytesPerLine,
                to: output, format: target)
        case (.rgb24, _):
            try requireRows(frame, rowBytes: width * 3)
            Self.convertRGB(
                frame.bytes, width: width, height: height, bytesPerLine: frame.bytesPerLine,
                to: output, format: target)
        default:
            throw .y4mWriteRejected(
                path: path,
                reason: "cannot store a \(frame.format.rawValue) frame in a "
                    + "\(target.rawValue) recording (accepted: \(target == .yuv420 ? "yuv420, yuv444" : "yuv444"), yuyv, rgb24)"
            )
        }
        try writeAll(UnsafeRawBufferPointer(frameRecord))
        framesWritten += 1
    }

    /// Flushes the file to disk (fsync), renames it to `path` and syncs the directory.
    /// Returns the number of frames written; calling it again returns the same count.
    /// - Throws: `.fileUnwritable` naming the failed call (the temporary file is removed then).
    @discardableResult
    public func finish() throws(CaptureError) -> Int {
        if finished { return framesWritten }
        guard let file else {
            throw .y4mWriteRejected(path: path, reason: "the recording was cancelled")
        }
        self.file = nil
        do throws(AtomicFileError) { try file.commit() } catch { throw Self.unwritable(error) }
        finished = true
        return framesWritten
    }

    /// Abandons the recording: closes and removes the temporary file (nothing appears under `path`).
    /// Does nothing after `finish()`.
    public func cancel() {
        guard !finished, let file else { return }
        file.cancel()
        self.file = nil
    }

    // MARK: - Writing

    /// Appends `bytes`; on failure the temporary file is already removed (the recording is over).
    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(CaptureError) {
        guard let file else { throw .y4mWriteRejected(path: path, reason: "the recording was cancelled") }
        do throws(AtomicFileError) { try file.write(bytes) } catch {
            self.file = nil
            throw Self.unwritable(error)
        }
    }

    private func requireBytes(_ frame: FrameView, _ count: Int) throws(CaptureError) {
        guard frame.bytes.count >= count else {
            throw .y4mWriteRejected(
                path: path,
                reason: "a \(frame.width)×\(frame.height) \(frame.format.rawValue) frame "
                    + "needs \(count) bytes, got \(frame.bytes.count)")
        }
    }

    private func requireRows(_ frame: FrameView, rowBytes: Int) throws(CaptureError) {
        guard frame.bytesPerLine >= rowBytes else {
            throw .y4mWriteRejected(
                path: path,
                reason: "bytesPerLine \(frame.bytesPerLine) is shorter than a "
                    + "\(frame.width)-pixel \(frame.format.rawValue) row (\(rowBytes) bytes)")
        }
        let padded = frame.bytesPerLine.multipliedReportingOverflow(by: frame.height - 1)
        let needed = padded.partialValue.addingReportingOverflow(rowBytes)
        guard !padded.overflow, !needed.overflow else {
            throw .y4mWriteRejected(path: path, reason: "bytesPerLine \(frame.bytesPerLine) is impossibly large")
        }
        try requireBytes(frame, needed.partialValue)
    }

    // MARK: - Conversions (layouts: YUYV rows of ⌈W/2⌉ Y0 U Y1 V groups; RGB24 rows of W R G B
    // triples; output planes Y W×H, then U and V of CW×CH: ⌈W/2⌉×⌈H/2⌉ for 4:2:0, W×H for 4:4:4)

    /// BT.601 full-range weights ×2^16 (each row sums to 65536 or 0, so grey stays grey exactly):
    /// Y = .299 R + .587 G + .114 B; U = −.168736 R − .331264 G + .5 B + 128; V = .5 R − .418688 G − .081312 B + 128.
    private static let lumaWeights = (red: 19595, green: 38470, blue: 7471)
    private static let blueWeights = (red: -11058, green: -21710, blue: 32768)
    private static let redWeights = (red: 32768, green: -27439, blue: -5329)

    /// 128 + weights·(Σ R, Σ G, Σ B) / (2^16 · count), rounded and clamped to 0…255.
    @inline(__always)
    private static func chroma(
        _ weights: (red: Int, green: Int, blue: Int), red: Int, green: Int, blue: Int,
        count: Int
    ) -> UInt8 {
        let denominator = count << 16
        // Adding 128.5 · denominator makes the numerator non-negative, so division rounds half up.
        let numerator =
            weights.red * red + weights.green * green + weights.blue * blue + 128 * denominator + denominator / 2
        return UInt8(min(max(numerator / denominator, 0), 255))
    }

    /// RGB24 (rows `bytesPerLine` apart) → planar 4:2:0 or 4:4:4 in `output`.
    static func convertRGB(
        _ input: UnsafeRawBufferPointer, width: Int, height: Int, bytesPerLine: Int,
        to output: UnsafeMutableRawBufferPointer, format: PixelFormat
    ) {
        let source = input.assumingMemoryBound(to: UInt8.self).baseAddress!
        let destination = output.assumingMemoryBound(to: UInt8.self).baseAddress!
        for y in 0..<height {
            let row = source + y * bytesPerLine
            let lumaRow = destination + y * width
            for x in 0..<width {
                let red = Int(row[3 * x])
                let green = Int(row[3 * x + 1])
                let blue = Int(row[3 * x + 2])
                let weighted = lumaWeights.red * red + lumaWeights.green * green + lumaWeights.blue * blue
                lumaRow[x] = UInt8((weighted + 32768) >> 16)  // ≤ 255 · 65536 + 32768, so ≤ 255
            }
        }
        let planeSize = width * height
        if format == .yuv444 {
            for y in 0..<height {
                let row = source + y * bytesPerLine
                for x in 0..<width {
                    let red = Int(row[3 * x])
                    let green = Int(row[3 * x + 1])
                    let blue = Int(row[3 * x + 2])
                    destination[planeSize + y * width + x] = chroma(
                        blueWeights, red: red, green: green, blue: blue, count: 1)
                    destination[2 * planeSize + y * width + x] = chroma(
                        redWeights, red: red, green: green, blue: blue, count: 1)
                }
            }
            return
        }
        let chromaWidth = (width + 1) / 2
        let chromaHeight = (height + 1) / 2
        let uPlane = destination + planeSize
        let vPlane = uPlane + chromaWidth * chromaHeight
        for chromaY in 0..<chromaHeight {
            let rows = 2 * chromaY + 1 < height ? 2 : 1
            for chromaX in 0..<chromaWidth {
                let columns = 2 * chromaX + 1 < width ? 2 : 1
                var red = 0
                var green = 0
                var blue = 0
                for dy in 0..<rows {
                    let row = source + (2 * chromaY + dy) * bytesPerLine + 6 * chromaX
                    for dx in 0..<columns {
                        red += Int(row[3 * dx])
                        green += Int(row[3 * dx + 1])
                        blue += Int(row[3 * dx + 2])
                    }
                }
                let count = rows * columns
                uPlane[chromaY * chromaWidth + chromaX] = chroma(
                    blueWeights, red: red, green: green, blue: blue, count: count)
                vPlane[chromaY * chromaWidth + chromaX] = chroma(
                    redWeights, red: red, green: green, blue: blue, count: count)
            }
        }
    }

    /// Planar 4:4:4 (tight) → planar 4:2:0: Y copied, U and V averaged over each 2×2 block (fewer at odd edges).
    static func convertYUV444To420(
        _ input: UnsafeRawBufferPointer, width: Int, height: Int,
        to output: UnsafeMutableRawBufferPointer
    ) {
        let source = input.assumingMemoryBound(to: UInt8.self).baseAddress!
        let destination = output.assumingMemoryBound(to: UInt8.self).baseAddress!
        let planeSize = width * height
        destination.update(from: source, count: planeSize)
        let chromaWidth = (width + 1) / 2
        let chromaHeight = (height + 1) / 2
        for plane in 1...2 {
            let sourcePlane = source + plane * planeSize
            let destinationPlane = destination + planeSize + (plane - 1) * chromaWidth * chromaHeight
            for chromaY in 0..<chromaHeight {
                let rows = 2 * chromaY + 1 < height ? 2 : 1
                for chromaX in 0..<chromaWidth {
                    let columns = 2 * chromaX + 1 < width ? 2 : 1
                    var sum = 0
                    for dy in 0..<rows {
                        for dx in 0..<columns { sum += Int(sourcePlane[(2 * chromaY + dy) * width + 2 * chromaX + dx]) }
                    }
                    let count = rows * columns
                    destinationPlane[chromaY * chromaWidth + chromaX] = UInt8((sum + count / 2) / count)
                }
            }
        }
    }

    /// YUYV (rows `bytesPerLine` apart) → planar 4:2:0 (chroma of row pairs averaged, rounding
    /// half up) or 4:4:4 (each chroma sample used for both pixels of its pair).
    static func convertYUYV(
        _ input: UnsafeRawBufferPointer, width: Int, height: Int, bytesPerLine: Int,
        to output: UnsafeMutableRawBufferPointer, format: PixelFormat
    ) {
        let source = input.assumingMemoryBound(to: UInt8.self).baseAddress!
        let destination = output.assumingMemoryBound(to: UInt8.self).baseAddress!
        for y in 0..<height {
            let row = source + y * bytesPerLine
            let lumaRow = destination + y * width
            for x in 0..<width { lumaRow[x] = row[2 * x] }  // Y of pixel x sits at byte 2x
        }
        let planeSize = width * height
        if format == .yuv444 {
            for y in 0..<height {
                let row = source + y * bytesPerLine
                for x in 0..<width {
                    destination[planeSize + y * width + x] = row[4 * (x / 2) + 1]
                    destination[2 * planeSize + y * width + x] = row[4 * (x / 2) + 3]
                }
            }
            return
        }
        let chromaWidth = (width + 1) / 2
        let chromaHeight = (height + 1) / 2
        let uPlane = destination + planeSize
        let vPlane = uPlane + chromaWidth * chromaHeight
        for chromaY in 0..<chromaHeight {
            let top = source + 2 * chromaY * bytesPerLine
            let bottom = 2 * chromaY + 1 < height ? top + bytesPerLine : top
            for chromaX in 0..<chromaWidth {
                uPlane[chromaY * chromaWidth + chromaX] = UInt8(
                    (Int(top[4 * chromaX + 1]) + Int(bottom[4 * chromaX + 1]) + 1) >> 1)
                vPlane[chromaY * chromaWidth + chromaX] = UInt8(
                    (Int(top[4 * chromaX + 3]) + Int(bottom[4 * chromaX + 3]) + 1) >> 1)
            }
        }
    }
}
