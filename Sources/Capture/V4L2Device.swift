// An open V4L2 device node seen through the `V4L2System` seam: retries EINTR (through
// `SystemCall.retryingOnInterrupt`, the OS layer's one retry), names each ioctl and turns errno into a `CaptureError` carrying the ioctl, errno and device path
// (swift-nio `NIOPosix/System.swift` style), plus the read-only queries camera and device listing
// share: QUERYCAP and the ENUM_FMT → ENUM_FRAMESIZES → ENUM_FRAMEINTERVALS walk. Every count and
// size a driver returns is bounded here, so a buggy driver cannot make us loop or over-read.
internal import CV4L2
import SystemSupport

/// A V4L2 ioctl request code with its name for error messages.
struct V4L2Request: Sendable {
    let name: String
    let code: UInt

    static let queryCapability = V4L2Request(name: "VIDIOC_QUERYCAP", code: CV4L2_VIDIOC_QUERYCAP)
    static let enumerateFormat = V4L2Request(name: "VIDIOC_ENUM_FMT", code: CV4L2_VIDIOC_ENUM_FMT)
    static let enumerateFrameSizes = V4L2Request(name: "VIDIOC_ENUM_FRAMESIZES", code: CV4L2_VIDIOC_ENUM_FRAMESIZES)
    static let enumerateFrameIntervals = V4L2Request(
        name: "VIDIOC_ENUM_FRAMEINTERVALS", code: CV4L2_VIDIOC_ENUM_FRAMEINTERVALS)
    static let getFormat = V4L2Request(name: "VIDIOC_G_FMT", code: CV4L2_VIDIOC_G_FMT)
    static let setFormat = V4L2Request(name: "VIDIOC_S_FMT", code: CV4L2_VIDIOC_S_FMT)
    static let getParameters = V4L2Request(name: "VIDIOC_G_PARM", code: CV4L2_VIDIOC_G_PARM)
    static let setParameters = V4L2Request(name: "VIDIOC_S_PARM", code: CV4L2_VIDIOC_S_PARM)
    static let requestBuffers = V4L2Request(name: "VIDIOC_REQBUFS", code: CV4L2_VIDIOC_REQBUFS)
    static let queryBuffer = V4L2Request(name: "VIDIOC_QUERYBUF", code: CV4L2_VIDIOC_QUERYBUF)
    static let queueBuffer = V4L2Request(name: "VIDIOC_QBUF", code: CV4L2_VIDIOC_QBUF)
    static let dequeueBuffer = V4L2Request(name: "VIDIOC_DQBUF", code: CV4L2_VIDIOC_DQBUF)
    static let streamOn = V4L2Request(name: "VIDIOC_STREAMON", code: CV4L2_VIDIOC_STREAMON)
    static let streamOff = V4L2Request(name: "VIDIOC_STREAMOFF", code: CV4L2_VIDIOC_STREAMOFF)
    static let getControl = V4L2Request(name: "VIDIOC_G_CTRL", code: CV4L2_VIDIOC_G_CTRL)
    static let setControl = V4L2Request(name: "VIDIOC_S_CTRL", code: CV4L2_VIDIOC_S_CTRL)
    static let queryControl = V4L2Request(name: "VIDIOC_QUERYCTRL", code: CV4L2_VIDIOC_QUERYCTRL)
}

/// Limits on what we accept from a driver (anything beyond is a driver bug, not a camera).
enum V4L2Limits {
    /// Formats, frame sizes and intervals enumerated per query before we stop asking.
    static let maximumEnumeration = 256
    /// Largest frame side we accept from S_FMT.
    static let maximumSide = 16_384
}

/// Maps an errno from `call` on `device` to the `CaptureError` the caller can act on.
func captureError(device: String, call: String, _ errorNumber: Errno) -> CaptureError {
    switch errorNumber.rawValue {
    // EBUSY from these means another process owns the device or its stream (uvcvideo lets a second program open the
    // node, then refuses S_FMT/REQBUFS/STREAMON); from other ioctls it means something else.
    case EBUSY where ["open", "VIDIOC_S_FMT", "VIDIOC_S_PARM", "VIDIOC_REQBUFS", "VIDIOC_STREAMON"].contains(call):
        return .deviceBusy(device: device, call: call)
    // From open, a file permission; from an ioctl (a read-only control, say), not a group problem.
    case EACCES where call == "open", EPERM where call == "open":
        return .permissionDenied(device: device, call: call, errorNumber: errorNumber)
    case ENOENT where call == "open": return .deviceNotFound(device: device)
    // libv4l2's open queries the device and fails with QUERYCAP's ENOTTY when it is not a V4L2 node.
    case ENOTTY where call == "open": return .notAVideoCaptureDevice(device: device, card: "")
    case ENODEV, ENXIO, EIO, ESHUTDOWN:
        return .deviceLost(device: device, call: call, errorNumber: errorNumber)
    default: return .systemCallFailed(device: device, call: call, errorNumber: errorNumber)
    }
}

/// An open device node: descriptor, path and the seam, with checked ioctl calls.
struct V4L2Device {
    let system: V4L2System
    /// The resolved device node (for example /dev/video0), named in every error.
    let path: String
    let descriptor: Int32

    /// Opens `path` (already resolved). The corresponding call is `v4l2_open`.
    static func open(_ path: String, system: V4L2System) throws(CaptureError) -> V4L2Device {
        switch SystemCall.retryingOnInterrupt({ system.open(path) }) {
        case .success(let descriptor): return V4L2Device(system: system, path: path, descriptor: descriptor)
        case .failure(let errorNumber): throw captureError(device: path, call: "open", errorNumber)
        }
    }

    /// Performs `request` on `argument`, retrying EINTR; the raw outcome (for enumerations that end with EINVAL).
    func attempt<Argument>(_ request: V4L2Request, _ argument: inout Argument) -> Result<Void, Errno> {
        withUnsafeMutableBytes(of: &argument) { bytes in
            SystemCall.retryingOnInterrupt {
                system.ioctl(descriptor, request: request.code, argument: bytes.baseAddress!)
            }
        }
    }

    /// Performs `request` on `argument`, retrying EINTR; any failure becomes a `CaptureError`.
    func call<Argument>(_ request: V4L2Request, _ argument: inout Argument) throws(CaptureError) {
        if case .failure(let errorNumber) = attempt(request, &argument) {
            throw captureError(device: path, call: request.name, errorNumber)
        }
    }

    /// Waits for a frame. The corresponding call is `poll(2)`; EINTR is retried with the same timeout.
    func poll(timeoutMilliseconds: Int32) throws(CaptureError) -> V4L2PollEvents {
        switch SystemCall.retryingOnInterrupt({ system.poll(descriptor, timeoutMilliseconds: timeoutMilliseconds) }) {
        case .success(let events): return events
        case .failure(.interrupted): return []  // interrupted every time: report it as a wait without a frame
        case .failure(let errorNumber): throw captureError(device: path, call: "poll", errorNumber)
        }
    }

    /// Closes the descriptor; errors are ignored (nothing useful can be done about them).
    func close() {
        _ = system.close(descriptor)
    }

    // MARK: Queries

    /// The device's identity and capabilities. The corresponding ioctl is `VIDIOC_QUERYCAP`.
    func queryCapability() throws(CaptureError) -> V4L2Capability {
        var capability = v4l2_capability()
        try call(.queryCapability, &capability)
        // Nodes of multi-node drivers report the driver's union in `capabilities`; `device_caps` is this node's.
        let nodeCapabilities =
            capability.capabilities & CV4L2_CAP_DEVICE_CAPS != 0
            ? capability.device_caps : capability.capabilities
        return V4L2Capability(
            driver: cString(capability.driver), card: cString(capability.card), busInfo: cString(capability.bus_info),
            capabilities: nodeCapabilities)
    }

    /// Every capture format with its sizes and intervals.
    /// The corresponding ioctls are `VIDIOC_ENUM_FMT`, `VIDIOC_ENUM_FRAMESIZES` and `VIDIOC_ENUM_FRAMEINTERVALS`.
    func enumerateFormats() throws(CaptureError) -> [V4L2FormatInfo] {
        var formats: [V4L2FormatInfo] = []
        for index in 0..<V4L2Limits.maximumEnumeration {
            var description = v4l2_fmtdesc()
            description.index = UInt32(index)
            description.type = CV4L2_BUF_TYPE_VIDEO_CAPTURE
            switch attempt(.enumerateFormat, &description) {
            case .success: break
            case .failure(let errorNumber) where errorNumber.rawValue == EINVAL: return formats
            case .failure(let errorNumber):
                throw captureError(device: path, call: V4L2Request.enumerateFormat.name, errorNumber)
            }
            let fourCC = V4L2FourCC(rawValue: description.pixelformat)
            // A driver repeating itself would otherwise list one format 256 times.
            if formats.contains(where: { $0.fourCC == fourCC }) { return formats }
            formats.append(
                V4L2FormatInfo(
                    fourCC: fourCC, name: cString(description.description),
                    compressed: description.flags & CV4L2_FMT_FLAG_COMPRESSED != 0,
                    emulated: description.flags & CV4L2_FMT_FLAG_EMULATED != 0,
                    sizes: try enumerateSizes(fourCC)))
        }
        return formats
    }

    /// The sizes of one format. The corresponding ioctl is `VIDIOC_ENUM_FRAMESIZES`.
    func enumerateSizes(_ fourCC: V4L2FourCC) throws(CaptureError) -> V4L2FrameSizes {
        var discrete: [V4L2FrameSize] = []
        for index in 0..<V4L2Limits.maximumEnumeration {
            var size = v4l2_frmsizeenum()
            size.index = UInt32(index)
            size.pixel_format = fourCC.rawValue
            switch attempt(.enumerateFrameSizes, &size) {
            case .success: break
            // EINVAL ends the list; ENOTTY means the driver cannot enumerate sizes at all.
            case .failure(let errorNumber) where errorNumber.rawValue == EINVAL || errorNumber.rawValue == ENOTTY:
                return .discrete(discrete)
            case .failure(let errorNumber):
                throw captureError(device: path, call: V4L2Request.enumerateFrameSizes.name, errorNumber)
            }
            if size.type == CV4L2_FRMSIZE_TYPE_DISCRETE {
                let width = Int(size.discrete.width)
                let height = Int(size.discrete.height)
                guard (1...V4L2Limits.maximumSide).contains(width), (1...V4L2Limits.maximumSide).contains(height),
                    !discrete.contains(where: { $0.width == width && $0.height == height })
                else { continue }
                discrete.append(
                    V4L2FrameSize(
                        width: width, height: height,
                        intervals: try enumerateIntervals(fourCC, width: width, height: height)))
            } else if index == 0 {
                // Stepwise and continuous ranges come as the only entry (index 0).
                let range = size.stepwise
                let minimum = (Int(range.min_width), Int(range.min_height))
                let maximum = (Int(range.max_width), Int(range.max_height))
                guard minimum.0 >= 1, minimum.1 >= 1, maximum.0 >= minimum.0, maximum.1 >= minimum.1,
                    maximum.0 <= V4L2Limits.maximumSide, maximum.1 <= V4L2Limits.maximumSide
                else { return .discrete([]) }
                return .stepwise(
                    minimumWidth: minimum.0, minimumHeight: minimum.1, maximumWidth: maximum.0,
                    maximumHeight: maximum.1,
                    widthStep: max(1, Int(range.step_width)), heightStep: max(1, Int(range.step_height)))
            } else {
                break
            }
        }
        return .discrete(discrete)
    }

    /// The frame intervals of one format at one size, fastest first.
    /// The corresponding ioctl is `VIDIOC_ENUM_FRAMEINTERVALS`.
    func enumerateIntervals(_ fourCC: V4L2FourCC, width: Int, height: Int) throws(CaptureError) -> [V4L2FrameInterval] {
        var intervals: [V4L2FrameInterval] = []
        for index in 0..<V4L2Limits.maximumEnumeration {
            var interval = v4l2_frmivalenum()
            interval.index = UInt32(index)
            interval.pixel_format = fourCC.rawValue
            interval.width = UInt32(width)
            interval.height = UInt32(height)
            switch attempt(.enumerateFrameIntervals, &interval) {
            case .success: break
            case .failure(let errorNumber) where errorNumber.rawValue == EINVAL || errorNumber.rawValue == ENOTTY:
                return intervals.sorted { $0.framesPerSecond > $1.framesPerSecond }
            case .failure(let errorNumber):
                throw captureError(device: path, call: V4L2Request.enumerateFrameIntervals.name, errorNumber)
            }
            if interval.type == CV4L2_FRMIVAL_TYPE_DISCRETE {
                if let value = V4L2FrameInterval(
                    numerator: interval.discrete.numerator, denominator: interval.discrete.denominator),
                    !intervals.contains(value)
                {
                    intervals.append(value)
                }
            } else {
                // Stepwise/continuous: the fastest and slowest ends describe the range well enough.
                for end in [interval.stepwise.min, interval.stepwise.max] {
                    if let value = V4L2FrameInterval(numerator: end.numerator, denominator: end.denominator),
                        !intervals.contains(value)
                    {
                        intervals.append(value)
                    }
                }
                break
            }
        }
        return intervals.sorted { $0.framesPerSecond > $1.framesPerSecond }
    }
}

/// A NUL-terminated fixed-size C char array (imported as a tuple) as a String, bounded by its size.
func cString<Tuple>(_ tuple: Tuple) -> String {
    withUnsafeBytes(of: tuple) { bytes in
        let length = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[0..<length], as: UTF8.self)
    }
}
