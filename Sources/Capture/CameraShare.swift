// CameraShare and SharingFrameSource: the camera shared with video-call programs through a
// v4l2loopback device while gestures are recognised on the same frames (issue 19).
// - `SharingFrameSource` wraps the opened camera. Its own capture thread ("gp-capture") takes every
//   frame the camera delivers, writes it unmodified to the share at once, and copies it into a
//   one-frame mailbox. Recognition (`withNextFrame`, the session's loop thread) takes the newest
//   frame from the mailbox and skips any it missed, so a slow model never slows the shared stream:
//   the camera's rate reaches the loopback whatever recognition does. The mailbox is two buffers
//   swapped under a lock (the capture thread fills one, recognition reads the other): no allocation
//   per frame after the first, one copy of each frame.
// - `CameraShare` outlives each opened camera (the session closes and reopens sources; the share
//   stays open so readers keep the device). While no camera feeds it — lost, unplugged, paused —
//   its keeper thread ("gp-share") writes a still "camera unavailable" frame, rendered once in the
//   camera's last format and size (for MJPEG a baseline JPEG from stb_image_write), at the camera's
//   rate, so readers keep their format and see why nothing moves. Before the first camera frame
//   the format is unknown and nothing is written (with exclusive_caps=1 the device then offers no
//   capture yet, which browsers handle as "no such camera").
// Threading: the writer is used only with `lock` held; the keeper waits on the same condition.
import Foundation
import Raster
import SystemSupport

/// What the share is doing, for `gesturepad status`.
public struct CameraShareStatus: Sendable, Equatable {
    /// The loopback node written to.
    public var device: String
    /// "waiting for the camera's first frame", "live", "camera unavailable (still frame)", "closed".
    public var state: String
    /// The format the loopback carries (nil before the first frame).
    public var format: String?
    /// Frames written: the camera's and the still frame's.
    public var framesWritten: Int
    public var stillFramesWritten: Int
    /// The rate of the last writes (frames per second over up to the last 64), nil with fewer than two.
    public var framesPerSecond: Double?
    /// The last write or format error (nil when the last write worked).
    public var lastError: String?
    /// How many programs read the share. v4l2loopback (0.12, Debian 12) does not report its openers, so this is nil.
    public var readers: Int?

    public init(
        device: String, state: String, format: String?, framesWritten: Int, stillFramesWritten: Int,
        framesPerSecond: Double?, lastError: String?, readers: Int?
    ) {
        self.device = device
        self.state = state
        self.format = format
        self.framesWritten = framesWritten
        self.stillFramesWritten = stillFramesWritten
        self.framesPerSecond = framesPerSecond
        self.lastError = lastError
        self.readers = readers
    }
}

/// A v4l2loopback device fed with the camera's frames, or a still frame while there is no camera.
public final class CameraShare: @unchecked Sendable {
    public let devicePath: String
    private let lock = NSCondition()
    private let writer: V4L2OutputWriter
    private let clock: any FrameClock
    private let report: @Sendable (String) -> Void
    // Guarded by `lock`.
    private var live = false
    private var closed = false
    private var still: [UInt8] = []
    private var stillFormat: V4L2OutputFormat?
    private var stillFramesWritten = 0
    private var lastError: String?
    private var writeTimes = [UInt64](repeating: 0, count: 64)
    private var writeCount = 0
    private var keeper: Thread?
    private var keeperFinished = false

    /// The longest and shortest gap between still frames.
    static let slowestStillInterval = 1_000_000_000 as UInt64
    static let fastestStillInterval = 16_000_000 as UInt64

    /// Opens and checks the loopback node; nothing is written until the first camera frame.
    /// - Parameters:
    ///   - camera: the camera to be read (its node must differ from the share's).
    ///   - report: receives write failures once per kind of failure (a log line); must not block.
    public init(
        device: String, camera: String?, system: V4L2System = LibV4L2System(),
        clock: any FrameClock = SystemFrameClock(),
        report: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(CaptureError) {
        writer = try V4L2OutputWriter(device: device, camera: camera, system: system)
        devicePath = writer.devicePath
        self.clock = clock
        self.report = report
    }

    deinit { close() }

    /// Starts the keeper thread (the still frame while no camera feeds the share).
    public func start() {
        lock.lock()
        defer { lock.unlock() }
        guard keeper == nil, !closed else { return }
        let thread = Thread { [self] in
            nameKernelThread("gp-share")
            runKeeper()
        }
        thread.name = "gesturepad share"
        keeper = thread
        thread.start()
    }

    /// Writes one camera frame (the capture thread). The first frame, and a frame of another size or layout, sets the
    /// loopback's format and renders the still frame for it. A failure is recorded and reported, never thrown: the
    /// camera and recognition go on.
    public func write(_ frame: FrameView, framesPerSecond: Double?) {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        live = true
        do throws(CaptureError) {
            let format = try writer.configure(
                width: frame.width, height: frame.height, pixelFormat: frame.format, framesPerSecond: framesPerSecond)
            if stillFormat != format {
                still = Self.renderUnavailable(format)
                stillFormat = format
            }
            try writer.write(frame)
            noteWrite()
        } catch {
            fail(error)
        }
    }

    /// The camera stopped feeding the share (lost, closed, paused): the keeper writes the still frame from now on.
    public func cameraStopped() {
        lock.lock()
        live = false
        lock.broadcast()
        lock.unlock()
    }

    /// The share's state.
    public func status() -> CameraShareStatus {
        lock.lock()
        defer { lock.unlock() }
        let state: String
        if closed {
            state = "closed"
        } else if stillFormat == nil {
            state = "waiting for the camera's first frame"
        } else {
            state = live ? "live" : "camera unavailable (still frame)"
        }
        return CameraShareStatus(
            device: devicePath, state: state, format: writer.format?.description, framesWritten: writer.framesWritten,
            stillFramesWritten: stillFramesWritten, framesPerSecond: measuredRate(), lastError: lastError, readers: nil)
    }

    /// Stops the keeper and closes the node. Idempotent.
    public func close() {
        lock.lock()
        closed = true
        lock.broadcast()
        let running = keeper != nil
        while running && !keeperFinished { _ = lock.wait(until: Date().addingTimeInterval(0.05)) }
        writer.close()
        lock.unlock()
    }

    // MARK: Keeper

    private func runKeeper() {
        lock.lock()
        defer {
            keeperFinished = true
            lock.broadcast()
            lock.unlock()
        }
        while !closed {
            let interval = stillInterval()
            if !live, let format = stillFormat {
                let outcome: Result<Void, CaptureError> = still.withUnsafeBytes { bytes in
                    do throws(CaptureError) {
                        try writer.write(
                            FrameView(
                                width: format.width, height: format.height, format: format.pixelFormat,
                                bytesPerLine: format.pixelFormat.packedBytesPerLine(width: format.width) ?? 0,
                                bytes: bytes, sequence: 0, timestampNanoseconds: clock.nowNanoseconds))
                        return .success(())
                    } catch { return .failure(error) }
                }
                switch outcome {
                case .success:
                    stillFramesWritten += 1
                    noteWrite()
                case .failure(let error): fail(error)
                }
            }
            _ = lock.wait(until: Date().addingTimeInterval(Double(interval) / 1e9))
        }
    }

    /// One frame interval of the camera's rate, bounded.
    private func stillInterval() -> UInt64 {
        guard let rate = stillFormat?.framesPerSecond ?? measuredRate(), rate > 0 else { return 100_000_000 }
        return min(Self.slowestStillInterval, max(Self.fastestStillInterval, UInt64(1e9 / rate)))
    }

    private func noteWrite() {
        lastError = nil
        writeTimes[writeCount % writeTimes.count] = clock.nowNanoseconds
        writeCount += 1
    }

    private func fail(_ error: CaptureError) {
        let text = error.description
        if lastError != text { report("sharing to \(devicePath) failed: \(text)") }
        lastError = text
    }

    /// Frames per second over the last (up to 64) writes.
    private func measuredRate() -> Double? {
        let count = min(writeCount, writeTimes.count)
        guard count >= 2 else { return nil }
        let newest = writeTimes[(writeCount - 1) % writeTimes.count]
        let oldest = writeTimes[(writeCount - count) % writeTimes.count]
        guard newest > oldest else { return nil }
        return Double(count - 1) / (Double(newest - oldest) / 1e9)
    }

    // MARK: The still frame

    /// "camera unavailable" on dark grey, in `format` (RGB rendered with the built-in font, then converted with BT.601
    /// limited range for YUYV and YU12, or encoded as a baseline JPEG for MJPEG).
    public static func renderUnavailable(_ format: V4L2OutputFormat) -> [UInt8] {
        let width = format.width
        let height = format.height
        var canvas = Canvas(width: width, height: height, background: RGB(40, 40, 40))
        let lines = ["camera unavailable", "gesturepad keeps this device open"]
        let scale = max(1, min(width / (PixelFont.measure(text: lines[1]).width + 4), height / 40))
        var y = height / 2 - PixelFont.cellHeight * scale
        for (index, line) in lines.enumerated() {
            let lineScale = index == 0 ? scale : max(1, scale / 2)
            let size = PixelFont.measure(text: line, scale: lineScale)
            PixelFont.draw(
                text: line, at: Point(x: max(0, (width - size.width) / 2), y: y), color: RGB(230, 230, 230),
                scale: lineScale, into: &canvas)
            y += size.height + 2 * lineScale
        }
        let rgb = canvas.pixels
        func luma(_ index: Int) -> Int {
            (16 * 256 + 66 * Int(rgb[index]) + 129 * Int(rgb[index + 1]) + 25 * Int(rgb[index + 2]) + 128) >> 8
        }
        func chroma(_ index: Int) -> (Int, Int) {
            let red = Int(rgb[index])
            let green = Int(rgb[index + 1])
            let blue = Int(rgb[index + 2])
            return (
                (128 * 256 - 38 * red - 74 * green + 112 * blue + 128) >> 8,
                (128 * 256 + 112 * red - 94 * green - 18 * blue + 128) >> 8
            )
        }
        switch format.pixelFormat {
        case .rgb24:
            return rgb
        case .mjpeg:
            return RGBImage(width: width, height: height, pixels: rgb).jpegData(quality: 85)
        case .yuyv:
            let row = ((width + 1) / 2) * 4
            var bytes = [UInt8](repeating: 0, count: row * height)
            for y in 0..<height {
                for pair in 0..<((width + 1) / 2) {
                    let left = (y * width + 2 * pair) * 3
                    let right = 2 * pair + 1 < width ? left + 3 : left
                    let (u, v) = chroma(left)
                    bytes[y * row + 4 * pair] = UInt8(clamping: luma(left))
                    bytes[y * row + 4 * pair + 1] = UInt8(clamping: u)
                    bytes[y * row + 4 * pair + 2] = UInt8(clamping: luma(right))
                    bytes[y * row + 4 * pair + 3] = UInt8(clamping: v)
                }
            }
            return bytes
        case .yuv420, .yuv444:
            let chromaWidth = (width + 1) / 2
            let chromaHeight = (height + 1) / 2
            var bytes = [UInt8](repeating: 0, count: width * height + 2 * chromaWidth * chromaHeight)
            for index in 0..<(width * height) { bytes[index] = UInt8(clamping: luma(index * 3)) }
            for y in 0..<chromaHeight {
                for x in 0..<chromaWidth {
                    let (u, v) = chroma((2 * y * width + 2 * x) * 3)
                    bytes[width * height + y * chromaWidth + x] = UInt8(clamping: u)
                    bytes[width * height + chromaWidth * chromaHeight + y * chromaWidth + x] = UInt8(clamping: v)
                }
            }
            return bytes
        }
    }
}

/// Names the calling thread for the kernel (15 bytes at most) through /proc/thread-self/comm. Best effort.
func nameKernelThread(_ name: String) {
    let descriptor = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return }
    let bytes = Array(name.utf8.prefix(15))
    _ = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
    Foundation.close(descriptor)
}

/// An opened source whose frames a capture thread writes to a `CameraShare` as they come and hands to recognition
/// through a one-frame mailbox (the newest wins).
public final class SharingFrameSource: FrameSource, @unchecked Sendable {
    public let sourceDescription: String
    public let formatSummary: String
    private let share: CameraShare
    private let lock = NSCondition()
    // Guarded by `lock`.
    private var mailbox: [UInt8] = []
    private var mailboxFrame: (width: Int, height: Int, format: PixelFormat, bytesPerLine: Int, count: Int)?
    private var mailboxSequence: UInt64 = 0
    private var mailboxTimestamp: UInt64 = 0
    private var deposited: UInt64 = 0
    private var taken: UInt64 = 0
    private var failure: CaptureError?
    private var ended = false
    private var closing = false
    private var captured = 0
    private var warning: String?
    private var threadFinished = false
    /// Read only by the consumer (the buffer lent to `withNextFrame`'s closure).
    private var lent: [UInt8] = []

    /// How long the capture thread waits for one camera frame before asking again (bounds how long `close` waits).
    static let captureWaitMilliseconds = 200

    /// Starts capturing from `source` (already open) on a new thread; `framesPerSecond` is the camera's agreed rate.
    public init(_ source: any FrameSource, share: CameraShare, framesPerSecond: Double?) {
        self.share = share
        sourceDescription = source.sourceDescription
        formatSummary = source.formatSummary + "; shared to \(share.devicePath)"
        captured = source.framesCaptured
        share.start()
        // The capture thread owns the source from here (one thread owns a camera).
        nonisolated(unsafe) let owned = source
        let thread = Thread { [self] in
            nameKernelThread("gp-capture")
            capture(owned, framesPerSecond: framesPerSecond)
        }
        thread.name = "gesturepad capture"
        thread.qualityOfService = .userInteractive
        thread.start()
    }

    deinit { close() }

    private func capture(_ source: any FrameSource, framesPerSecond: Double?) {
        defer {
            source.close()
            share.cameraStopped()
            lock.lock()
            threadFinished = true
            lock.broadcast()
            lock.unlock()
        }
        var frames = 0
        while true {
            lock.lock()
            let stop = closing
            lock.unlock()
            if stop { return }
            do throws(CaptureError) {
                let delivered: Void? = try source.withNextFrame(timeoutMilliseconds: Self.captureWaitMilliseconds) {
                    frame in
                    share.write(frame, framesPerSecond: framesPerSecond)
                    deposit(frame, captured: source.framesCaptured)
                }
                frames += 1
                if frames % 30 == 1 {
                    let current = source.deliveryWarning
                    lock.lock()
                    warning = current
                    lock.unlock()
                }
                if delivered == nil {
                    lock.lock()
                    ended = true
                    lock.broadcast()
                    lock.unlock()
                    return
                }
            } catch {
                if error.isFrameWaitTimeout { continue }
                lock.lock()
                failure = error
                lock.broadcast()
                lock.unlock()
                return
            }
        }
    }

    /// Copies `frame` into the mailbox (replacing an untaken one).
    private func deposit(_ frame: FrameView, captured count: Int) {
        lock.lock()
        defer { lock.unlock() }
        if mailbox.count < frame.bytes.count { mailbox = [UInt8](repeating: 0, count: frame.bytes.count) }
        mailbox.withUnsafeMutableBytes { $0.copyMemory(from: frame.bytes) }
        mailboxFrame = (frame.width, frame.height, frame.format, frame.bytesPerLine, frame.bytes.count)
        mailboxSequence = frame.sequence
        mailboxTimestamp = frame.timestampNanoseconds
        deposited &+= 1
        captured = count
        lock.broadcast()
    }

    public func withNextFrame<Result>(timeoutMilliseconds: Int, _ body: (FrameView) -> Result) throws(CaptureError)
        -> Result?
    {
        lock.lock()
        let deadline = Date().addingTimeInterval(Double(max(0, timeoutMilliseconds)) / 1000)
        while deposited == taken && failure == nil && !ended && !closing && Date() < deadline {
            _ = lock.wait(until: deadline)
        }
        if deposited == taken {
            defer { lock.unlock() }
            if let failure { throw failure }
            if closing { throw .sourceClosed(source: sourceDescription) }
            if ended { return nil }
            throw .frameTimeout(device: sourceDescription, milliseconds: timeoutMilliseconds)
        }
        swap(&mailbox, &lent)
        taken = deposited
        let shape = mailboxFrame!
        let sequence = mailboxSequence
        let timestamp = mailboxTimestamp
        lock.unlock()
        return lent.withUnsafeBytes { bytes in
            body(
                FrameView(
                    width: shape.width, height: shape.height, format: shape.format, bytesPerLine: shape.bytesPerLine,
                    bytes: UnsafeRawBufferPointer(rebasing: bytes[0..<shape.count]), sequence: sequence,
                    timestampNanoseconds: timestamp))
        }
    }

    public var framesCaptured: Int {
        lock.lock()
        defer { lock.unlock() }
        return captured
    }

    public var deliveryWarning: String? {
        lock.lock()
        defer { lock.unlock() }
        return warning
    }

    /// Stops the capture thread (which closes the camera; the share then shows the still frame). Idempotent; returns
    /// once the camera is closed.
    public func close() {
        lock.lock()
        closing = true
        lock.broadcast()
        while !threadFinished { _ = lock.wait(until: Date().addingTimeInterval(0.05)) }
        lock.unlock()
    }
}
