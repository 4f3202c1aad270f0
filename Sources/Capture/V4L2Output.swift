internal import CV4L2
// V4L2OutputWriter: frames written into a v4l2loopback device, which video-call programs read as a
// camera ("gesturepad camera"). Through the same `V4L2System` seam as capture (tests drive it with
// the fake driver). Order: resolve the name (stable symlinks allowed) → check the node (a character
// device of major 81 owned by root under /dev, not the camera being read) → plain open(2) (libv4l2
// wraps only capture devices and would convert formats) → QUERYCAP (driver "v4l2 loopback" with
// VIDEO_OUTPUT) → VIDIOC_S_FMT on V4L2_BUF_TYPE_VIDEO_OUTPUT with the camera's own format and size,
// keeping what the driver gave (a different fourcc or size is an error, never a silent conversion)
// → VIDIOC_S_PARM on the output with the camera's rate (best effort: readers see it in G_PARM) →
// VIDIOC_STREAMON on the output → one write(2) per frame. STREAMON matters: v4l2loopback 0.12 marks
// an opener as its writer only there, and only a writer's close makes the device offer output
// again — a write()-only producer (ffmpeg) leaves it refusing every later producer until the
// module is reloaded, so a restarted daemon could not share again. v4l2loopback's write() copies into its next buffer and never blocks, so
// the capture thread can call it per frame; rows padded by the camera are packed to the driver's
// bytesperline first. With exclusive_caps=1 the node offers capture only once a frame was written.
// Threading: one thread at a time (the share serialises it). No allocation per frame unless the
// camera pads rows (then one scratch buffer, allocated once).
import Glibc
import SystemSupport

/// The format the loopback carries, as VIDIOC_S_FMT gave it.
public struct V4L2OutputFormat: Sendable, Equatable, CustomStringConvertible {
    public var width: Int
    public var height: Int
    public var pixelFormat: PixelFormat
    /// Bytes per row the driver expects (0 for MJPEG).
    public var bytesPerLine: Int
    /// The largest frame the driver takes.
    public var sizeImage: Int
    /// The rate set with S_PARM (nil when the driver kept its own or it was not known).
    public var framesPerSecond: Double?

    public var description: String {
        let rate = framesPerSecond.map { " at \(V4L2Negotiation.format($0)) fps" } ?? ""
        return "\(width)×\(height) \(V4L2FourCC(pixelFormat)?.description ?? pixelFormat.rawValue)\(rate)"
    }
}

/// A v4l2loopback output device being fed frames.
public final class V4L2OutputWriter {
    /// The resolved node (for example /dev/video10), named in every error.
    public let devicePath: String
    /// QUERYCAP of the node.
    public let capability: V4L2Capability
    /// The format set with `configure`, nil before.
    public private(set) var format: V4L2OutputFormat?
    /// Frames written since opening.
    public private(set) var framesWritten = 0
    private var device: V4L2Device?
    /// Rows packed to the driver's bytesperline when the camera pads them.
    private var scratch: [UInt8] = []

    /// The major number of video4linux device nodes.
    public static let videoMajor: UInt32 = 81

    /// Opens and checks the loopback node `name` ("/dev/video10", "video10" or a symlink to it).
    /// - Parameter camera: the camera's resolved node when one is read (the share must be another node).
    public init(device name: String, camera: String? = nil, system: V4L2System = LibV4L2System()) throws(CaptureError) {
        let path = try V4L2Camera.resolve(name, system: system)
        try Self.checkNode(path, named: name, system: system)
        if let camera, let cameraPath = system.resolveSymbolicLinks(camera), cameraPath == path {
            throw .shareIsTheCamera(device: path, camera: camera)
        }
        let device: V4L2Device
        switch SystemCall.retryingOnInterrupt({ system.openOutput(path) }) {
        case .success(let descriptor): device = V4L2Device(system: system, path: path, descriptor: descriptor)
        case .failure(let errorNumber): throw captureError(device: path, call: "open", errorNumber)
        }
        do throws(CaptureError) {
            let capability = try device.queryCapability()
            guard capability.isLoopback else {
                throw .notALoopbackDevice(device: path, driver: capability.driver, card: capability.card)
            }
            guard capability.canOutputVideo else {
                throw .invalidDriverAnswer(
                    device: path, call: V4L2Request.queryCapability.name,
                    reason: "no V4L2_CAP_VIDEO_OUTPUT (another program already writes to it)")
            }
            self.capability = capability
        } catch {
            device.close()
            throw error
        }
        devicePath = path
        self.device = device
    }

    deinit { close() }

    /// Refuses a node that is not a V4L2 character device owned by root under /dev (a file, a FIFO or a node
    /// someone else made would take the camera's frames elsewhere).
    static func checkNode(_ path: String, named name: String, system: V4L2System) throws(CaptureError) {
        guard path.hasPrefix("/dev/") else {
            throw .unsafeDeviceNode(device: name, reason: "it resolves to \(path), which is not under /dev")
        }
        let status: V4L2NodeStatus
        switch system.nodeStatus(path) {
        case .success(let value): status = value
        case .failure(let errorNumber): throw captureError(device: path, call: "stat", errorNumber)
        }
        guard status.isCharacterDevice else {
            throw .unsafeDeviceNode(device: path, reason: "it is not a character device")
        }
        guard status.major == videoMajor else {
            throw .unsafeDeviceNode(
                device: path, reason: "its major number is \(status.major), not video4linux's \(videoMajor)")
        }
        guard status.owner == 0 else {
            throw .unsafeDeviceNode(
                device: path, reason: "it is owned by uid \(status.owner), not root (device nodes come from the kernel)"
            )
        }
    }

    /// Sets the output format to the camera's (VIDIOC_S_FMT, type VIDEO_OUTPUT) and its rate (VIDIOC_S_PARM); throws
    /// when the driver gives another fourcc or size. Calling it again with the same values changes nothing.
    @discardableResult
    public func configure(width: Int, height: Int, pixelFormat: PixelFormat, framesPerSecond: Double?)
        throws(CaptureError) -> V4L2OutputFormat
    {
        guard let device else { throw .sourceClosed(source: devicePath) }
        if let format, format.width == width, format.height == height, format.pixelFormat == pixelFormat {
            return format
        }
        guard let fourCC = V4L2FourCC(pixelFormat), (1...V4L2Limits.maximumSide).contains(width),
            (1...V4L2Limits.maximumSide).contains(height)
        else {
            throw .unsupportedFrameFormat(
                format: pixelFormat.rawValue, reason: "a v4l2loopback share carries YUYV, RGB24, YU12 or MJPEG")
        }
        var request = v4l2_format()
        request.type = CV4L2_BUF_TYPE_VIDEO_OUTPUT
        request.fmt.pix.width = UInt32(width)
        request.fmt.pix.height = UInt32(height)
        request.fmt.pix.pixelformat = fourCC.rawValue
        request.fmt.pix.field = CV4L2_FIELD_NONE
        request.fmt.pix.bytesperline = UInt32(pixelFormat.packedBytesPerLine(width: width) ?? 0)
        request.fmt.pix.colorspace = pixelFormat == .mjpeg ? CV4L2_COLORSPACE_JPEG : CV4L2_COLORSPACE_SRGB
        try device.call(.setFormat, &request)
        let given = request.fmt.pix
        let asked = "\(width)×\(height) \(fourCC)"
        let givenText = "\(given.width)×\(given.height) \(V4L2FourCC(rawValue: given.pixelformat))"
        guard request.type == CV4L2_BUF_TYPE_VIDEO_OUTPUT, given.pixelformat == fourCC.rawValue,
            Int(given.width) == width, Int(given.height) == height
        else { throw .outputFormatRefused(device: devicePath, asked: asked, given: givenText) }
        let minimumRow = pixelFormat.packedBytesPerLine(width: width) ?? 0
        let bytesPerLine = pixelFormat == .mjpeg ? 0 : max(Int(given.bytesperline), minimumRow)
        let minimumSize = pixelFormat.frameByteCount(width: width, height: height) ?? 1
        guard Int(given.sizeimage) >= minimumSize, bytesPerLine <= V4L2Limits.maximumSide * 4 else {
            throw .invalidDriverAnswer(
                device: devicePath, call: V4L2Request.setFormat.name,
                reason: "sizeimage \(given.sizeimage) for \(asked) (at least \(minimumSize) needed)")
        }
        var rate: Double?
        if let framesPerSecond, framesPerSecond > 0 {
            var parameters = v4l2_streamparm()
            parameters.type = CV4L2_BUF_TYPE_VIDEO_OUTPUT
            // 1000/(fps·1000) keeps fractional rates such as 29.97.
            parameters.parm.output.timeperframe.numerator = 1000
            parameters.parm.output.timeperframe.denominator = UInt32((framesPerSecond * 1000).rounded())
            if case .success = device.attempt(.setParameters, &parameters),
                let interval = V4L2FrameInterval(
                    numerator: parameters.parm.output.timeperframe.numerator,
                    denominator: parameters.parm.output.timeperframe.denominator)
            {
                rate = interval.framesPerSecond
            }
        }
        var type = CV4L2_BUF_TYPE_VIDEO_OUTPUT
        try device.call(.streamOn, &type)
        let configured = V4L2OutputFormat(
            width: width, height: height, pixelFormat: pixelFormat, bytesPerLine: bytesPerLine,
            sizeImage: Int(given.sizeimage), framesPerSecond: rate)
        format = configured
        return configured
    }

    /// Writes one frame in the configured format. Rows the camera padded are packed first. The corresponding call is
    /// `write(2)`, retried on EINTR.
    public func write(_ frame: FrameView) throws(CaptureError) {
        guard let format else { throw .sourceClosed(source: devicePath) }
        guard frame.width == format.width, frame.height == format.height, frame.format == format.pixelFormat else {
            throw .outputFormatRefused(
                device: devicePath, asked: "\(frame.width)×\(frame.height) \(frame.format.rawValue)",
                given: format.description)
        }
        if format.pixelFormat == .mjpeg {
            guard frame.bytes.count <= format.sizeImage else {
                throw .invalidDriverAnswer(
                    device: devicePath, call: "write",
                    reason: "a \(frame.bytes.count)-byte MJPEG frame, larger than its sizeimage \(format.sizeImage)")
            }
            return try write(bytes: frame.bytes)
        }
        let expected = format.pixelFormat.frameByteCount(width: format.width, height: format.height) ?? 0
        let packedRow = format.pixelFormat.packedBytesPerLine(width: format.width)
        if let packedRow, frame.bytesPerLine != packedRow, format.bytesPerLine == packedRow {
            guard format.pixelFormat != .yuv420 else {
                throw .unsupportedFrameFormat(
                    format: "YU12", reason: "rows padded to \(frame.bytesPerLine) bytes cannot be shared; use yuyv")
            }
            // Packed formats only: copy each row without its padding.
            guard frame.bytesPerLine > packedRow,
                frame.bytes.count >= frame.bytesPerLine * (format.height - 1) + packedRow
            else {
                throw .invalidDriverAnswer(
                    device: devicePath, call: "write", reason: "a frame of \(frame.bytes.count) bytes")
            }
            if scratch.count != expected { scratch = [UInt8](repeating: 0, count: expected) }
            scratch.withUnsafeMutableBytes { destination in
                for row in 0..<format.height {
                    let source = UnsafeRawBufferPointer(
                        rebasing: frame.bytes[(row * frame.bytesPerLine)..<(row * frame.bytesPerLine + packedRow)])
                    UnsafeMutableRawBufferPointer(rebasing: destination[(row * packedRow)...]).copyMemory(from: source)
                }
            }
            let outcome: Result<Void, CaptureError> = scratch.withUnsafeBytes { bytes in
                do throws(CaptureError) { try write(bytes: bytes) } catch { return .failure(error) }
                return .success(())
            }
            return try outcome.get()
        }
        guard frame.bytes.count >= expected else {
            throw .invalidDriverAnswer(
                device: devicePath, call: "write", reason: "a frame of \(frame.bytes.count) bytes, \(expected) expected"
            )
        }
        try write(bytes: UnsafeRawBufferPointer(rebasing: frame.bytes[0..<expected]))
    }

    /// One write(2) of a whole frame; a short write is a driver error (v4l2loopback takes a frame at once).
    private func write(bytes: UnsafeRawBufferPointer) throws(CaptureError) {
        guard let device else { throw .sourceClosed(source: devicePath) }
        switch SystemCall.retryingOnInterrupt({ device.system.write(device.descriptor, bytes: bytes) }) {
        case .success(let written):
            guard written == bytes.count else {
                throw .invalidDriverAnswer(
                    device: devicePath, call: "write", reason: "\(written) of \(bytes.count) bytes written")
            }
            framesWritten += 1
        case .failure(let errorNumber): throw captureError(device: devicePath, call: "write", errorNumber)
        }
    }

    /// Closes the node (readers then see no new frames). Idempotent.
    public func close() {
        device?.close()
        device = nil
    }
}

extension PixelFormat {
    /// Bytes per row of a packed layout without padding (nil for planar and compressed layouts, whose rows are not
    /// one block; for YU12 the driver's bytesperline is the Y row, `width`).
    func packedBytesPerLine(width: Int) -> Int? {
        switch self {
        case .yuyv: return ((width + 1) / 2) * 4
        case .rgb24: return width * 3
        case .yuv420: return width
        case .yuv444, .mjpeg: return nil
        }
    }
}
