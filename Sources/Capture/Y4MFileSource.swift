// Y4MFileSource: replays a YUV4MPEG2 recording (`gesturepad record-video`, or ffmpeg
// `-pix_fmt yuv420p out.y4m`) as a `FrameSource` of `.yuv420` / `.yuv444` frames.
// File layout (see Y4MHeader.swift for the header): header line, then per frame a line
// `FRAME[ params]\n` (params ignored, as by ffmpeg) followed by exactly `header.frameByteCount`
// bytes: the W×H Y plane, then the U and V planes (⌈W/2⌉×⌈H/2⌉ for 4:2:0, W×H for 4:4:4).
// Invariants: frames are read with pread(2) into one buffer allocated at the first frame (nothing
// is allocated per frame); `sequence` counts pacing ticks, so dropped frames leave gaps; errors
// name the file, frame index and byte offset. Regular files only (pread needs a seekable file).
import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Frames from a Y4M file, as fast as asked for or paced at the file's frame rate, once or looping.
///
/// Not thread-safe: one consumer calls `withNextFrame`.
public final class Y4MFileSource: FrameSource {
    /// The file being read.
    public let path: String
    /// The file's stream header.
    public let header: Y4MHeader
    /// How frames are spaced in time (real time uses `header.frameRate`).
    public let pacing: FramePacing
    /// Whether the file starts over after its last frame (else `withNextFrame` returns nil there).
    public let loops: Bool
    /// Frames passed to a consumer so far.
    public private(set) var framesDelivered = 0
    /// Frames skipped because the consumer fell behind real time.
    public private(set) var framesDropped = 0
    /// Frames delivered or skipped.
    public var framesCaptured: Int { framesDelivered + framesDropped }

    /// "64×48 yuv420 at 30 fps, real time, looping".
    public var formatSummary: String {
        "\(header.width)×\(header.height) \(header.pixelFormat.rawValue) at \(V4L2Negotiation.format(header.frameRate.value)) fps, "
            + (pacing == .realTime ? "real time" : "as fast as possible") + (loops ? ", looping" : "")
    }

    /// A file delivers what it holds: nothing to warn about.
    public var deliveryWarning: String? { nil }

    private let clock: any FrameClock
    private var descriptor: Int32
    private var pacer: FramePacer
    /// Byte offset of the first FRAME line (= header line length).
    private let firstFrameOffset: Int
    /// Byte offset and index (within one pass over the file) of the next FRAME line.
    private var nextFrameOffset: Int
    private var nextFrameIndex = 0
    /// Frames in one pass, known once the end was reached.
    private var framesPerPass: Int?
    private var reachedEnd = false
    /// One frame's planar data, `header.frameByteCount` bytes, allocated at the first frame.
    private var frameBuffer: UnsafeMutableRawBufferPointer?
    /// The FRAME line is read into this (`maximumFrameLineLength` bytes, allocated once).
    private let markerBuffer: UnsafeMutableRawBufferPointer

    /// Longest accepted FRAME line including its newline.
    public static let maximumFrameLineLength = 256

    /// Opens `path` and parses its header.
    ///
    /// - Parameters:
    ///   - pacing: `.realTime` spaces frames at `header.frameRate` on `clock`, dropping frames a slow
    ///     consumer missed; `.asFastAsPossible` returns each frame at once.
    ///   - loops: start over after the last frame instead of ending.
    ///   - clock: where time comes from (a `VirtualFrameClock` in tests).
    ///   - framesPerSecond: real-time pacing at this rate (1…1000) instead of the header's (`bench pipeline --fps`).
    /// - Throws: `.fileUnreadable` when the file cannot be opened or read, `.y4mMalformedHeader` or
    ///   `.y4mUnsupported` for headers gesturepad cannot read.
    public init(
        path: String, pacing: FramePacing = .asFastAsPossible, loops: Bool = false,
        clock: any FrameClock = SystemFrameClock(), framesPerSecond: Int? = nil
    ) throws(CaptureError) {
        precondition(framesPerSecond.map { (1...1000).contains($0) } ?? true, "framesPerSecond must be 1…1000")
        let descriptor: Int32
        switch SystemCall.result(retryOnInterrupt: true, { open(path, O_RDONLY | O_CLOEXEC) }) {
        case .success(let opened): descriptor = opened
        case .failure(let errorNumber): throw .fileUnreadable(path: path, reason: Self.systemError("open", errorNumber))
        }
        let headerBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Y4MHeader.maximumLineLength, alignment: 1)
        defer { headerBuffer.deallocate() }
        let count: Int
        do throws(CaptureError) {
            count = try Self.readFully(descriptor, into: headerBuffer, at: 0, path: path)
        } catch {
            Glibc.close(descriptor)
            throw error
        }
        let headerBytes = UnsafeRawBufferPointer(headerBuffer)
        let lineEnd = headerBytes[..<count].firstIndex(of: UInt8(ascii: "\n"))
        let line = String(decoding: headerBytes[..<(lineEnd ?? count)], as: UTF8.self)
        do throws(CaptureError) {
            if count == 0 {
                throw .y4mMalformedHeader(path: path, field: "signature", reason: "the file is empty")
            }
            if lineEnd == nil, line.hasPrefix(Y4MHeader.signature) {
                let reason =
                    count < headerBytes.count
                    ? "the file ends inside the header line (\(count) bytes, no newline)"
                    : "no newline in the first \(headerBytes.count) bytes; the header line is too long or corrupt"
                throw .y4mMalformedHeader(path: path, field: "header line", reason: reason)
            }
            header = try Y4MHeader.parse(line, path: path)
        } catch {
            Glibc.close(descriptor)
            throw error
        }
        self.path = path
        self.pacing = pacing
        self.loops = loops
        self.clock = clock
        self.descriptor = descriptor
        pacer =
            framesPerSecond.map { FramePacer(rateNumerator: $0, rateDenominator: 1) }
            ?? FramePacer(rateNumerator: header.frameRate.numerator, rateDenominator: header.frameRate.denominator)
        firstFrameOffset = (lineEnd ?? count) + 1
        nextFrameOffset = firstFrameOffset
        markerBuffer = .allocate(byteCount: Self.maximumFrameLineLength, alignment: 16)
    }

    deinit {
        close()
        frameBuffer?.deallocate()
        markerBuffer.deallocate()
    }

    public var sourceDescription: String {
        "\(path) (Y4M \(header.width)×\(header.height) C\(header.colourspace.rawValue) at \(header.frameRate) fps)"
    }

    /// Reads the next frame and passes it to `body`; nil at the end of a non-looping file.
    ///
    /// Real-time pacing waits (at most `timeoutMilliseconds`) until the next frame is due; the
    /// timestamp is then the frame's due time, else it is the clock's reading at delivery.
    /// - Throws: `.y4mMalformedFrame` / `.y4mTruncatedFrame` for a broken frame, `.fileUnreadable`
    ///   for I/O errors, `.pacedFrameNotDue` when real-time pacing would wait past the timeout,
    ///   `.sourceClosed` after `close()`.
    public func withNextFrame<Result>(timeoutMilliseconds: Int, _ body: (FrameView) -> Result)
        throws(CaptureError) -> Result?
    {
        guard descriptor >= 0 else { throw .sourceClosed(source: path) }
        if reachedEnd { return nil }
        var sequence = UInt64(framesDelivered)
        var timestamp: UInt64
        var skip = 0
        switch pacing {
        case .asFastAsPossible:
            timestamp = clock.nowNanoseconds
        case .realTime:
            switch pacer.waitForNextTick(on: clock, timeoutMilliseconds: timeoutMilliseconds) {
            case .timedOut:
                throw .pacedFrameNotDue(
                    source: path, milliseconds: timeoutMilliseconds,
                    framesPerSecond: header.frameRate.value)
            case .due(let tick, let skipped, let dueNanoseconds):
                sequence = tick
                timestamp = dueNanoseconds
                skip = Int(clamping: skipped)
                // A looping file repeats every `framesPerPass` frames: skip whole passes arithmetically (they count as dropped).
                if loops, let framesPerPass, framesPerPass > 0 {
                    framesDropped += skip - skip % framesPerPass
                    skip %= framesPerPass
                }
            }
        }
        for _ in 0..<skip {
            guard try advance(readingData: false) else { return nil }
            framesDropped += 1
        }
        guard try advance(readingData: true), let frameBuffer else { return nil }
        framesDelivered += 1
        let frame = FrameView(
            width: header.width, height: header.height, format: header.pixelFormat,
            bytesPerLine: header.width, bytes: UnsafeRawBufferPointer(frameBuffer),
            sequence: sequence, timestampNanoseconds: timestamp)
        return body(frame)
    }

    /// Closes the file; later `withNextFrame` calls throw `.sourceClosed`. Calling it twice is harmless.
    public func close() {
        guard descriptor >= 0 else { return }
        Glibc.close(descriptor)
        descriptor = -1
    }

    // MARK: - Reading frames

    /// Moves past the next frame, reading its data into `frameBuffer` when `readingData` (else only
    /// checking that the file holds it). Returns false at the end of a non-looping file.
    private func advance(readingData: Bool) throws(CaptureError) -> Bool {
        var dataOffset = try readFrameLine(at: nextFrameOffset, index: nextFrameIndex)
        if dataOffset == nil {
            guard loops, nextFrameIndex > 0 else {
                reachedEnd = true
                return false
            }
            framesPerPass = nextFrameIndex
            nextFrameOffset = firstFrameOffset
            nextFrameIndex = 0
            dataOffset = try readFrameLine(at: nextFrameOffset, index: nextFrameIndex)
        }
        guard let dataOffset else {  // the file shrank to its header while we were looping
            reachedEnd = true
            return false
        }
        let frameByteCount = header.frameByteCount
        let available: Int
        if readingData {
            if frameBuffer == nil { frameBuffer = .allocate(byteCount: frameByteCount, alignment: 64) }
            available = try Self.readFully(descriptor, into: frameBuffer!, at: dataOffset, path: path)
        } else {
            var status = stat()
            if case .failure(let errorNumber) = SystemCall.result({ fstat(descriptor, &status) }) {
                throw .fileUnreadable(path: path, reason: Self.systemError("fstat", errorNumber))
            }
            available = max(0, min(frameByteCount, Int(status.st_size) - dataOffset))
        }
        guard available == frameByteCount else {
            throw .y4mTruncatedFrame(
                path: path, frameIndex: nextFrameIndex, byteOffset: nextFrameOffset,
                expectedBytes: dataOffset - nextFrameOffset + frameByteCount,
                availableBytes: dataOffset - nextFrameOffset + available)
        }
        nextFrameOffset = dataOffset + frameByteCount
        nextFrameIndex += 1
        return true
    }

    /// Reads and checks the `FRAME[ params]\n` line at `offset`; returns the offset of the frame's
    /// data, or nil when `offset` is the end of the file.
    private func readFrameLine(at offset: Int, index: Int) throws(CaptureError) -> Int? {
        let count = try Self.readFully(descriptor, into: markerBuffer, at: offset, path: path)
        if count == 0 { return nil }
        let bytes = UnsafeRawBufferPointer(rebasing: markerBuffer[..<count])
        let marker = Array("FRAME".utf8)
        let compared = min(count, marker.count)
        if !bytes.prefix(compared).elementsEqual(marker.prefix(compared)) {
            let found = String(bytes.prefix(8).map { $0 >= 0x20 && $0 < 0x7F ? Character(UnicodeScalar($0)) : "?" })
            throw .y4mMalformedFrame(
                path: path, frameIndex: index, byteOffset: offset,
                reason: "expected \"FRAME\" but found \"\(found)\" — the file is corrupt, or its "
                    + "frames are not \(header.frameByteCount) bytes as W, H and C say")
        }
        if count > marker.count, bytes[marker.count] != UInt8(ascii: "\n"), bytes[marker.count] != UInt8(ascii: " ") {
            throw .y4mMalformedFrame(
                path: path, frameIndex: index, byteOffset: offset,
                reason: "\"FRAME\" must be followed by a space or a newline")
        }
        guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) else {
            if count < markerBuffer.count {
                throw .y4mTruncatedFrame(
                    path: path, frameIndex: index, byteOffset: offset,
                    expectedBytes: max(count + 1, marker.count + 1) + header.frameByteCount,
                    availableBytes: count)
            }
            throw .y4mMalformedFrame(
                path: path, frameIndex: index, byteOffset: offset,
                reason: "the FRAME line has no newline within \(markerBuffer.count) bytes")
        }
        return offset + newline + 1
    }

    /// pread(2) until `buffer` is full or the file ends; returns the bytes read. EINTR is retried.
    private static func readFully(
        _ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int,
        path: String
    ) throws(CaptureError) -> Int {
        var total = 0
        while total < buffer.count {
            let outcome = SystemCall.result(retryOnInterrupt: true) {
                pread(descriptor, buffer.baseAddress! + total, buffer.count - total, off_t(offset + total))
            }
            switch outcome {
            case .success(0): return total
            case .success(let result): total += result
            case .failure(let errorNumber):
                throw .fileUnreadable(path: path, reason: systemError("pread at byte \(offset + total)", errorNumber))
            }
        }
        return total
    }

    /// "open: No such file or directory (errno 2)".
    static func systemError(_ call: String, _ errorNumber: Errno) -> String {
        "\(call): \(errorNumber.description) (errno \(errorNumber.rawValue))"
    }
}
