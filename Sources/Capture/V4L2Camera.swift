import SystemSupport
internal import CV4L2
// V4L2Camera: a webcam as a `FrameSource`, through libv4l2 (the only user of the CV4L2 shim).
// Pipeline (v4l2grab.c order): resolve the path (stable /dev/v4l/by-id names included) → open →
// QUERYCAP (capture + streaming) → enumerate formats/sizes/intervals → choose a size from the native
// formats → S_FMT and keep what it *gave* → G_PARM/S_PARM and keep the rate it gave → exposure →
// mmap ring → STREAMON. `withNextFrame` polls, dequeues every ready buffer and keeps only the newest
// (stale ones go straight back to the driver), lends its mmap'ed bytes to the closure, then requeues it.
// DQBUF is called only while poll(2) says a buffer is ready: libv4l2 prints every failed DQBUF (EAGAIN
// included) to stderr when it does no conversion, so "dequeue until EAGAIN" printed a line per frame.
// Threading: one thread owns a camera; nothing here locks. No allocation per frame.
import Foundation

/// Exposure control: leave it, automatic, or a fixed exposure time.
public enum V4L2Exposure: Sendable, Equatable {
    /// Do not touch the camera's exposure settings.
    case unchanged
    /// Automatic exposure. With `allowFrameRateDrop: false` the camera is asked to keep its frame rate
    /// (`V4L2_CID_EXPOSURE_AUTO_PRIORITY` = 0) instead of lengthening exposure in dim light.
    case automatic(allowFrameRateDrop: Bool)
    /// Manual exposure, in the V4L2 unit of 100 µs (333 ≈ 1/30 s), clamped to the camera's range.
    case manual(hundredMicroseconds: Int)
}

/// What to open and what to ask of it.
public struct V4L2CameraConfiguration: Sendable, Equatable {
    /// Device node or stable name: "/dev/video0", "video0", "/dev/v4l/by-id/usb-…-video-index0", "/dev/v4l/by-path/…".
    public var device: String
    /// Requested frame size; the camera may give another (see `V4L2Negotiation`).
    public var width: Int
    public var height: Int
    /// Requested frame rate.
    public var framesPerSecond: Int
    /// The layout frames should arrive in: `.yuyv` (default: native on every UVC camera and read directly by the
    /// preprocessor), `.rgb24` or `.yuv420` (converted by libv4lconvert when not native), or `.mjpeg` (native only).
    public var pixelFormat: PixelFormat
    /// Driver buffers in the ring (3–4 keeps latency low and the camera never starved).
    public var bufferCount: Int
    /// Exposure to set after opening.
    public var exposure: V4L2Exposure

    public init(
        device: String = "/dev/video0", width: Int = 640, height: Int = 480, framesPerSecond: Int = 30,
        pixelFormat: PixelFormat = .yuyv, bufferCount: Int = 4, exposure: V4L2Exposure = .unchanged
    ) {
        self.device = device
        self.width = width
        self.height = height
        self.framesPerSecond = framesPerSecond
        self.pixelFormat = pixelFormat
        self.bufferCount = bufferCount
        self.exposure = exposure
    }
}

/// What the camera agreed to, next to what was asked (log `summary` after opening).
public struct V4L2Negotiation: Sendable, Equatable {
    public var requestedWidth: Int
    public var requestedHeight: Int
    public var requestedFramesPerSecond: Int
    /// Frame size S_FMT gave.
    public var width: Int
    public var height: Int
    /// Layout of delivered frames.
    public var pixelFormat: PixelFormat
    /// Bytes per row S_FMT gave (0 for MJPEG).
    public var bytesPerLine: Int
    /// Rate S_PARM gave; nil when the driver cannot set or report one.
    public var framesPerSecond: Double?
    /// The native format expected to feed the frames (for converted formats libv4lconvert makes the final choice).
    public var nativeFormat: V4L2FourCC
    /// libv4lconvert converts every frame (the delivered format is not native).
    public var converted: Bool
    /// Fastest rate the native format lists at this size (nil when not listed).
    public var nativeMaximumFramesPerSecond: Double?
    /// Buffers in the mmap ring.
    public var bufferCount: Int

    /// The size differs from the request.
    public var sizeDiffers: Bool { width != requestedWidth || height != requestedHeight }

    /// "640×480 YUYV at 30 fps (asked 640×480 at 30 fps), 4 buffers".
    public var summary: String {
        let rate = framesPerSecond.map { "\(Self.format($0)) fps" } ?? "an unreported rate"
        let source = converted ? " converted from \(nativeFormat) by libv4lconvert" : ""
        return
            "\(width)×\(height) \(V4L2FourCC(pixelFormat).map(\.description) ?? pixelFormat.rawValue)\(source) at \(rate) "
            + "(asked \(requestedWidth)×\(requestedHeight) at \(requestedFramesPerSecond) fps), \(bufferCount) buffers"
    }

    /// A rate as "30" or "7.50".
    public static func format(_ rate: Double) -> String {
        rate == rate.rounded() ? String(Int(rate)) : String(format: "%.2f", rate)
    }
}

/// Counters since the camera was created.
public struct V4L2CaptureStatistics: Sendable, Equatable {
    /// Frames passed to `withNextFrame` closures.
    public var framesDelivered = 0
    /// Frames dequeued but skipped because a newer one was ready.
    public var staleFramesDropped = 0
    /// Frames the driver flagged as corrupt (V4L2_BUF_FLAG_ERROR) or that were too short.
    public var corruptFramesDropped = 0
    /// Successful `reopen` calls.
    public var reopenCount = 0

    /// Every frame the camera handed over: delivered, skipped for a newer one, or corrupt.
    public var framesCaptured: Int { framesDelivered + staleFramesDropped + corruptFramesDropped }
}

/// The current exposure settings as the camera reports them (nil where it has no such control).
public struct V4L2ExposureState: Sendable, Equatable {
    /// `V4L2_CID_EXPOSURE_AUTO`: true unless manual.
    public var automatic: Bool?
    /// `V4L2_CID_EXPOSURE_ABSOLUTE`, in 100 µs.
    public var hundredMicroseconds: Int?
    /// `V4L2_CID_EXPOSURE_AUTO_PRIORITY`: the camera may lower its frame rate to expose longer.
    public var frameRateMayDrop: Bool?
}

/// A V4L2 webcam (UVC and others) read through libv4l2 into an mmap'ed ring; the newest frame wins.
public final class V4L2Camera: FrameSource {
    /// What was asked.
    public let configuration: V4L2CameraConfiguration
    /// The resolved device node (for example /dev/video0 for a by-id name).
    public private(set) var devicePath: String
    /// QUERYCAP of the device.
    public private(set) var capability: V4L2Capability
    /// Every format, size and interval the device (and libv4lconvert) offers.
    public private(set) var formats: [V4L2FormatInfo]
    /// What S_FMT and S_PARM gave.
    public private(set) var negotiation: V4L2Negotiation
    /// Frame counters.
    public private(set) var statistics = V4L2CaptureStatistics()

    private let system: V4L2System
    /// Monotonic time (timeouts, timestamps of drivers that give none) and the waits between reopen attempts.
    private let clock: any FrameClock
    private var stream: V4L2Stream?
    /// A fault found after a frame was delivered (requeue failed): thrown by the next call.
    private var pendingFault: CaptureError?
    private var meter = V4L2FrameRateMeter()
    /// 64-bit extension of the driver's 32-bit sequence numbers.
    private var lastSequence: UInt32?
    private var sequenceHigh: UInt64 = 0

    /// Opens, configures and starts the camera described by `configuration`.
    /// - Parameters:
    ///   - system: the syscall seam (tests pass a fake driver).
    ///   - clock: the monotonic clock V4L2 timestamps use; tests pass a `VirtualFrameClock`.
    public init(
        _ configuration: V4L2CameraConfiguration, system: V4L2System = LibV4L2System(),
        clock: any FrameClock = SystemFrameClock()
    ) throws(CaptureError) {
        self.configuration = configuration
        self.system = system
        self.clock = clock
        let opened = try Self.open(configuration, system: system)
        devicePath = opened.path
        capability = opened.capability
        formats = opened.formats
        negotiation = opened.negotiation
        stream = opened.stream
    }

    deinit { stream?.close() }

    /// "/dev/video0 (HD Pro Webcam C920)".
    public var sourceDescription: String {
        capability.card.isEmpty ? devicePath : "\(devicePath) (\(capability.card))"
    }

    /// Every frame dequeued since the camera was created (`statistics.framesCaptured`).
    public var framesCaptured: Int { statistics.framesCaptured }

    /// What S_FMT and S_PARM gave next to what was asked (`negotiation.summary`).
    public var formatSummary: String { negotiation.summary }

    /// `frameRateWarning` in words (the measured rate far below the negotiated one).
    public var deliveryWarning: String? { frameRateWarning?.description }

    /// Frames per second measured over the last ~2 s of capture timestamps (nil until two frames arrived).
    public var measuredFramesPerSecond: Double? { meter.framesPerSecond }

    /// Set while the measured rate is below 70 % of the negotiated one (the auto-exposure trap); data, never printed here.
    public var frameRateWarning: V4L2FrameRateWarning? {
        V4L2FrameRateWarning.check(
            meter, expectedFramesPerSecond: negotiation.framesPerSecond ?? Double(configuration.framesPerSecond))
    }

    /// Whether the device is open and streaming.
    public var isOpen: Bool { stream != nil }

    // MARK: Frames

    /// Waits up to `timeoutMilliseconds` for frames, dequeues every ready buffer, requeues all but the newest,
    /// passes the newest (borrowed mmap'ed bytes) to `body`, then requeues it.
    /// Throws `.frameTimeout` when nothing arrives, `.deviceLost` when the camera vanished (recover with `reopen`).
    /// The corresponding calls are `poll(2)`, `VIDIOC_DQBUF` and `VIDIOC_QBUF`.
    public func withNextFrame<Result>(timeoutMilliseconds: Int, _ body: (FrameView) -> Result) throws(CaptureError)
        -> Result?
    {
        if let pendingFault { throw pendingFault }
        guard let stream else { throw .sourceClosed(source: sourceDescription) }
        let deadline = clock.nowNanoseconds &+ UInt64(min(max(timeoutMilliseconds, 0), 1 << 40)) &* 1_000_000
        while true {
            let now = clock.nowNanoseconds
            let remaining = deadline > now ? Int32(clamping: (deadline - now + 999_999) / 1_000_000) : 0
            let events = try failing(stream) { () throws(CaptureError) in
                try stream.device.poll(timeoutMilliseconds: remaining)
            }
            if events.isEmpty {
                throw .frameTimeout(device: devicePath, milliseconds: timeoutMilliseconds)
            }
            guard let newest = try dequeueNewest(stream, afterPoll: events) else {
                if events.contains(.error) || events.contains(.hangUp) || events.contains(.invalid) {
                    // Readable never came, only an error condition: the device stopped streaming or is gone.
                    throw fault(.deviceLost(device: devicePath, call: "poll", errorNumber: .ioError), stream)
                }
                if remaining == 0 { throw .frameTimeout(device: devicePath, milliseconds: timeoutMilliseconds) }
                continue
            }
            let index = Int(newest.index)
            let mapping = stream.mappings[index]
            let byteCount = Self.usableByteCount(newest, mappingLength: mapping.count, layout: stream.layout) ?? 0
            let view = FrameView(
                width: stream.layout.width, height: stream.layout.height, format: stream.layout.pixelFormat,
                bytesPerLine: stream.layout.bytesPerLine,
                bytes: UnsafeRawBufferPointer(start: mapping.baseAddress, count: byteCount),
                sequence: extendedSequence(newest.sequence), timestampNanoseconds: timestamp(of: newest))
            let result = body(view)
            statistics.framesDelivered += 1
            do throws(CaptureError) {
                try stream.queue(index)
            } catch {
                // The frame was delivered; report the fault on the next call.
                pendingFault = error
                if error.isTransientCameraFault {
                    self.stream = nil
                    stream.close()
                }
            }
            return result
        }
    }

    /// Dequeues every ready buffer (bounded), requeueing all but the newest usable one.
    ///
    /// A DQBUF is made only when the last poll reported a ready buffer (or an error condition, so a lost device
    /// reports its real errno); after each buffer a zero-timeout poll asks whether another one is ready. Why not
    /// "DQBUF until EAGAIN": in libv4l2's no-conversion path (`v4l2_ioctl`, case VIDIOC_DQBUF) every failed DQBUF —
    /// EAGAIN included — goes through `V4L2_PERROR("dequeuing buf")`, which writes
    /// "libv4l2: error dequeuing buf: Resource temporarily unavailable" to stderr: one journal line per frame. (Its
    /// conversion path, `v4l2_dequeue_and_convert`, stays silent on EAGAIN.) Raw ioctls would avoid the message but
    /// also bypass libv4lconvert, which the converted formats (`rgb24`, `yuv420` on a YUYV camera) need; polling keeps
    /// every DQBUF going through libv4l2. EAGAIN is still handled (a spurious wake-up, a frame libv4lconvert rejected).
    private func dequeueNewest(_ stream: V4L2Stream, afterPoll firstEvents: V4L2PollEvents) throws(CaptureError)
        -> v4l2_buffer?
    {
        var newest: v4l2_buffer?
        var events = firstEvents
        for _ in 0..<(2 * stream.mappings.count + 2) {
            guard !events.isDisjoint(with: Self.dequeueWorthyEvents) else { return newest }
            var buffer = v4l2_buffer()
            buffer.type = CV4L2_BUF_TYPE_VIDEO_CAPTURE
            buffer.memory = CV4L2_MEMORY_MMAP
            switch stream.device.attempt(.dequeueBuffer, &buffer) {
            case .success:
                break
            case .failure(let errorNumber) where errorNumber.rawValue == EAGAIN:
                return newest
            case .failure(let errorNumber):
                if let newest { _ = try? stream.queue(Int(newest.index)) }
                throw fault(captureError(device: devicePath, call: V4L2Request.dequeueBuffer.name, errorNumber), stream)
            }
            guard Int(buffer.index) < stream.mappings.count else {
                throw fault(
                    .invalidDriverAnswer(
                        device: devicePath, call: V4L2Request.dequeueBuffer.name,
                        reason: "buffer index \(buffer.index) but only \(stream.mappings.count) buffers"), stream)
            }
            meter.record(timestampNanoseconds: timestamp(of: buffer))
            if Self.usableByteCount(
                buffer, mappingLength: stream.mappings[Int(buffer.index)].count, layout: stream.layout) == nil
            {
                statistics.corruptFramesDropped += 1
                try failing(stream) { () throws(CaptureError) in try stream.queue(Int(buffer.index)) }
            } else {
                if let previous = newest {
                    statistics.staleFramesDropped += 1
                    try failing(stream) { () throws(CaptureError) in try stream.queue(Int(previous.index)) }
                }
                newest = buffer
            }
            // Is another buffer ready? (Zero timeout: never waits.)
            do throws(CaptureError) {
                events = try stream.device.poll(timeoutMilliseconds: 0)
            } catch {
                if let newest { _ = try? stream.queue(Int(newest.index)) }
                throw fault(error, stream)
            }
        }
        return newest
    }

    /// Poll results after which a DQBUF is worth making: a ready buffer, or an error condition whose errno it reports.
    private static let dequeueWorthyEvents: V4L2PollEvents = [.readable, .error, .hangUp, .invalid]

    /// Bytes of a dequeued buffer worth delivering, or nil for a corrupt or short frame.
    private static func usableByteCount(_ buffer: v4l2_buffer, mappingLength: Int, layout: V4L2FrameLayout) -> Int? {
        guard buffer.flags & CV4L2_BUF_FLAG_ERROR == 0 else { return nil }
        let used = Int(buffer.bytesused)
        if layout.pixelFormat == .mjpeg {
            return used >= 2 && used <= mappingLength ? used : nil
        }
        // Some drivers leave bytesused at 0 for uncompressed frames: the whole frame is there.
        let count = used == 0 ? min(layout.frameByteCount, mappingLength) : min(used, mappingLength)
        return count >= layout.minimumFrameBytes ? count : nil
    }

    /// The buffer's capture time on the monotonic clock, or now when the driver gives none.
    private func timestamp(of buffer: v4l2_buffer) -> UInt64 {
        let seconds = Int64(buffer.timestamp.tv_sec)
        let microseconds = Int64(buffer.timestamp.tv_usec)
        let monotonic = buffer.flags & CV4L2_BUF_FLAG_TIMESTAMP_MASK == CV4L2_BUF_FLAG_TIMESTAMP_MONOTONIC
        guard monotonic, seconds >= 0, microseconds >= 0, seconds > 0 || microseconds > 0 else {
            return clock.nowNanoseconds
        }
        return UInt64(seconds) &* 1_000_000_000 &+ UInt64(microseconds) &* 1_000
    }

    private func extendedSequence(_ sequence: UInt32) -> UInt64 {
        if let lastSequence, sequence < lastSequence, lastSequence - sequence > UInt32.max / 2 {
            sequenceHigh &+= 1 << 32
        }
        lastSequence = sequence
        return sequenceHigh | UInt64(sequence)
    }

    /// Runs `operation`; a transient fault (device lost) also closes the stream.
    private func failing<Value>(_ stream: V4L2Stream, _ operation: () throws(CaptureError) -> Value)
        throws(CaptureError) -> Value
    {
        do throws(CaptureError) {
            return try operation()
        } catch {
            throw fault(error, stream)
        }
    }

    /// Records `error`; when the device is lost the stream is released so `reopen` starts clean.
    private func fault(_ error: CaptureError, _ stream: V4L2Stream) -> CaptureError {
        if case .deviceLost = error {
            self.stream = nil
            stream.close()
            pendingFault = error
        }
        return error
    }

    // MARK: Lifecycle

    /// Stops streaming, unmaps the ring and closes the device. Idempotent; `reopen` can start it again.
    /// The corresponding calls are `VIDIOC_STREAMOFF`, `v4l2_munmap` and `v4l2_close`.
    public func close() {
        stream?.close()
        stream = nil
    }

    /// Closes the camera and opens it again from `configuration` (a stable name finds a replugged camera under its
    /// new node), retrying transient faults (`isTransientCameraFault`) with `policy`'s backoff, waiting on the
    /// camera's clock (virtual in tests).
    /// - Parameter shouldContinue: asked before each wait; false gives up with the last error (daemon shutdown).
    /// - Returns: the number of attempts it took.
    @discardableResult
    public func reopen(
        policy: V4L2ReconnectPolicy = V4L2ReconnectPolicy(),
        shouldContinue: () -> Bool = { true }
    ) throws(CaptureError) -> Int {
        close()
        var failures = 0
        while true {
            do throws(CaptureError) {
                let opened = try Self.open(configuration, system: system)
                devicePath = opened.path
                capability = opened.capability
                formats = opened.formats
                negotiation = opened.negotiation
                stream = opened.stream
                pendingFault = nil
                meter.reset()
                lastSequence = nil
                sequenceHigh = 0
                statistics.reopenCount += 1
                return failures + 1
            } catch {
                failures += 1
                let attemptsLeft = policy.maximumAttempts.map { failures < $0 } ?? true
                guard error.isTransientCameraFault, attemptsLeft, shouldContinue() else { throw error }
                clock.sleep(untilNanoseconds: clock.nowNanoseconds &+ policy.delay(afterFailures: failures).nanoseconds)
            }
        }
    }

    // MARK: Opening and negotiation

    private struct Opened {
        let path: String
        let capability: V4L2Capability
        let formats: [V4L2FormatInfo]
        let negotiation: V4L2Negotiation
        let stream: V4L2Stream
    }

    /// The device node a path or stable name refers to ("video0" means /dev/video0).
    static func resolve(_ name: String, system: V4L2System) throws(CaptureError) -> String {
        let path = name.hasPrefix("/") ? name : "/dev/" + name
        guard let resolved = system.resolveSymbolicLinks(path) else { throw .deviceNotFound(device: name) }
        return resolved
    }

    private static func open(_ configuration: V4L2CameraConfiguration, system: V4L2System) throws(CaptureError)
        -> Opened
    {
        guard configuration.width > 0, configuration.height > 0, configuration.framesPerSecond > 0,
            (1...Int(CV4L2_VIDEO_MAX_FRAME)).contains(configuration.bufferCount)
        else {
            throw .invalidCameraConfiguration(
                reason:
                    "size, rate and buffer count must be positive (\(configuration.width)×\(configuration.height) at \(configuration.framesPerSecond) fps, \(configuration.bufferCount) buffers; at most \(CV4L2_VIDEO_MAX_FRAME) buffers)"
            )
        }
        let path = try resolve(configuration.device, system: system)
        let device = try V4L2Device.open(path, system: system)
        let capability: V4L2Capability
        let formats: [V4L2FormatInfo]
        let negotiation: V4L2Negotiation
        let layout: V4L2FrameLayout
        do throws(CaptureError) {
            capability = try device.queryCapability()
            guard capability.canCaptureVideo else { throw .notAVideoCaptureDevice(device: path, card: capability.card) }
            guard capability.canStream else { throw .streamingUnsupported(device: path, card: capability.card) }
            formats = try device.enumerateFormats()
            (negotiation, layout) = try negotiate(configuration, device: device, formats: formats)
            if configuration.exposure != .unchanged {
                try V4L2Controls(device: device).setExposure(configuration.exposure)
            }
        } catch {
            device.close()
            throw error
        }
        // The stream owns the descriptor from here (and closes it if it fails).
        let stream = try V4L2Stream(device: device, layout: layout, bufferCount: configuration.bufferCount)
        var given = negotiation
        given.bufferCount = stream.mappings.count
        return Opened(path: path, capability: capability, formats: formats, negotiation: given, stream: stream)
    }

    /// Chooses a size from the native formats that can feed the requested layout, sets it with S_FMT and the rate
    /// with S_PARM, and reports what the driver actually gave.
    /// The corresponding ioctls are `VIDIOC_S_FMT`, `VIDIOC_G_PARM` and `VIDIOC_S_PARM`.
    static func negotiate(_ configuration: V4L2CameraConfiguration, device: V4L2Device, formats: [V4L2FormatInfo])
        throws(CaptureError) -> (V4L2Negotiation, V4L2FrameLayout)
    {
        let offered = formats.map(\.fourCC.description)
        guard let requested = V4L2FourCC(configuration.pixelFormat),
            let requestedInfo = formats.first(where: { $0.fourCC == requested }),
            requested.pixelFormat != .mjpeg || !requestedInfo.emulated
        else {
            throw .pixelFormatUnavailable(
                device: device.path, requested: configuration.pixelFormat.rawValue, offered: offered)
        }
        // Candidate sources: native formats libv4lconvert can turn into the request (the request itself first).
        var sources = nativeSources(for: requested).compactMap { fourCC in
            formats.first { $0.fourCC == fourCC && !$0.emulated }
        }
        if sources.isEmpty { sources = [requestedInfo] }
        let wanted = (width: configuration.width, height: configuration.height)
        let rate = Double(configuration.framesPerSecond)
        // Best size per source; rank: exact size, then reaching the rate, then nearest area, then source order.
        var best: (info: V4L2FormatInfo, width: Int, height: Int, rank: (Int, Int, Int, Int))?
        for (order, source) in sources.enumerated() {
            guard let size = source.sizes.closest(width: wanted.width, height: wanted.height) else { continue }
            let maximumRate = source.sizes.maximumFramesPerSecond(width: size.width, height: size.height)
            let rank = (
                size.width == wanted.width && size.height == wanted.height ? 0 : 1,
                (maximumRate ?? rate) + 0.01 >= rate ? 0 : 1,
                abs(size.width * size.height - wanted.width * wanted.height), order
            )
            if best == nil || rank < best!.rank { best = (source, size.width, size.height, rank) }
        }
        let source = best?.info ?? requestedInfo
        let chosen = (width: best?.width ?? wanted.width, height: best?.height ?? wanted.height)

        var format = v4l2_format()
        format.type = CV4L2_BUF_TYPE_VIDEO_CAPTURE
        format.fmt.pix.width = UInt32(chosen.width)
        format.fmt.pix.height = UInt32(chosen.height)
        format.fmt.pix.pixelformat = requested.rawValue
        format.fmt.pix.field = CV4L2_FIELD_ANY
        try device.call(.setFormat, &format)
        // Verify: drivers adjust the size (and libv4l2 the format) instead of failing.
        let given = format.fmt.pix
        guard given.pixelformat == requested.rawValue else {
            throw .pixelFormatUnavailable(
                device: device.path, requested: configuration.pixelFormat.rawValue, offered: offered)
        }
        let width = Int(given.width)
        let height = Int(given.height)
        guard (1...V4L2Limits.maximumSide).contains(width), (1...V4L2Limits.maximumSide).contains(height) else {
            throw .invalidDriverAnswer(
                device: device.path, call: V4L2Request.setFormat.name, reason: "frame size \(width)×\(height)")
        }
        let pixelFormat = configuration.pixelFormat
        let packedRow = pixelFormat == .mjpeg ? 0 : (pixelFormat.frameByteCount(width: width, height: 1) ?? 0)
        var bytesPerLine = Int(given.bytesperline)
        switch pixelFormat {
        case .mjpeg: bytesPerLine = 0
        case .yuv420, .yuv444:
            // Planar frames are passed on as tightly packed planes only.
            guard bytesPerLine == 0 || bytesPerLine == width else {
                throw .invalidDriverAnswer(
                    device: device.path, call: V4L2Request.setFormat.name,
                    reason: "planar rows of \(bytesPerLine) bytes for a width of \(width)")
            }
            bytesPerLine = width
        case .yuyv, .rgb24:
            if bytesPerLine == 0 { bytesPerLine = packedRow }
            guard bytesPerLine >= packedRow, bytesPerLine <= packedRow + 4096 else {
                throw .invalidDriverAnswer(
                    device: device.path, call: V4L2Request.setFormat.name,
                    reason: "rows of \(bytesPerLine) bytes for \(width) \(pixelFormat.rawValue) pixels")
            }
        }
        let layoutDraft = V4L2FrameLayout(
            width: width, height: height, fourCC: requested, pixelFormat: pixelFormat,
            bytesPerLine: bytesPerLine, frameByteCount: 0)
        let frameByteCount = max(Int(given.sizeimage), layoutDraft.minimumFrameBytes)
        let layout = V4L2FrameLayout(
            width: width, height: height, fourCC: requested, pixelFormat: pixelFormat,
            bytesPerLine: bytesPerLine, frameByteCount: frameByteCount)

        let framesPerSecond = try setFrameRate(configuration.framesPerSecond, device: device)
        let negotiation = V4L2Negotiation(
            requestedWidth: configuration.width, requestedHeight: configuration.height,
            requestedFramesPerSecond: configuration.framesPerSecond, width: width, height: height,
            pixelFormat: pixelFormat, bytesPerLine: bytesPerLine, framesPerSecond: framesPerSecond,
            nativeFormat: source.fourCC, converted: requestedInfo.emulated,
            nativeMaximumFramesPerSecond: source.sizes.maximumFramesPerSecond(width: width, height: height),
            bufferCount: configuration.bufferCount)
        return (negotiation, layout)
    }

    /// Asks for `framesPerSecond` and returns the rate the driver set (nil if it has no rate control).
    /// The corresponding ioctls are `VIDIOC_G_PARM` and `VIDIOC_S_PARM`.
    private static func setFrameRate(_ framesPerSecond: Int, device: V4L2Device) throws(CaptureError) -> Double? {
        var parameters = v4l2_streamparm()
        parameters.type = CV4L2_BUF_TYPE_VIDEO_CAPTURE
        switch device.attempt(.getParameters, &parameters) {
        case .success: break
        case .failure(let errorNumber) where errorNumber.rawValue == EINVAL || errorNumber.rawValue == ENOTTY:
            return nil
        case .failure(let errorNumber):
            throw captureError(device: device.path, call: V4L2Request.getParameters.name, errorNumber)
        }
        if parameters.parm.capture.capability & CV4L2_CAP_TIMEPERFRAME != 0 {
            parameters.parm.capture.timeperframe = v4l2_fract(
                numerator: 1, denominator: UInt32(clamping: framesPerSecond))
            try device.call(.setParameters, &parameters)
        }
        let interval = parameters.parm.capture.timeperframe
        return V4L2FrameInterval(numerator: interval.numerator, denominator: interval.denominator)?.framesPerSecond
    }

    // MARK: Controls

    /// Sets automatic or manual exposure (manual values are clamped to the camera's range).
    /// The corresponding ioctls are `VIDIOC_QUERYCTRL` and `VIDIOC_S_CTRL`.
    public func setExposure(_ exposure: V4L2Exposure) throws(CaptureError) {
        guard let stream else { throw .sourceClosed(source: sourceDescription) }
        try failing(stream) { () throws(CaptureError) in try V4L2Controls(device: stream.device).setExposure(exposure) }
    }

    /// The exposure settings the camera reports. The corresponding ioctls are `VIDIOC_QUERYCTRL` and `VIDIOC_G_CTRL`.
    public func exposureState() throws(CaptureError) -> V4L2ExposureState {
        guard let stream else { throw .sourceClosed(source: sourceDescription) }
        return try failing(stream) { () throws(CaptureError) in try V4L2Controls(device: stream.device).exposureState()
        }
    }
}
