// What a V4L2 device says it can do, as plain values: fourcc codes, capabilities, formats with
// their frame sizes and intervals (the ENUM_FMT/ENUM_FRAMESIZES/ENUM_FRAMEINTERVALS table that
// v4l2grab.c and `v4l2-ctl --list-formats-ext` print), and the size choice used in negotiation.
// Pure data and pure functions: no device access here.
internal import CV4L2

/// A V4L2 pixel format code: four ASCII characters packed little-endian ("YUYV", "MJPG", "RGB3").
public struct V4L2FourCC: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The code of four characters, for example `V4L2FourCC("YUYV")`; nil unless exactly four ASCII characters.
    public init?(_ characters: String) {
        let bytes = Array(characters.utf8)
        guard bytes.count == 4, bytes.allSatisfy({ $0 < 128 }) else { return nil }
        rawValue = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
    }

    /// Packed YUV 4:2:2 (`V4L2_PIX_FMT_YUYV`).
    public static let yuyv = V4L2FourCC(rawValue: CV4L2_PIX_FMT_YUYV)
    /// Motion JPEG (`V4L2_PIX_FMT_MJPEG`).
    public static let mjpeg = V4L2FourCC(rawValue: CV4L2_PIX_FMT_MJPEG)
    /// JPEG (`V4L2_PIX_FMT_JPEG`), treated like MJPEG.
    public static let jpeg = V4L2FourCC(rawValue: CV4L2_PIX_FMT_JPEG)
    /// Packed RGB, 8 bits per channel (`V4L2_PIX_FMT_RGB24`).
    public static let rgb24 = V4L2FourCC(rawValue: CV4L2_PIX_FMT_RGB24)
    /// Planar YUV 4:2:0, U before V (`V4L2_PIX_FMT_YUV420`).
    public static let yuv420 = V4L2FourCC(rawValue: CV4L2_PIX_FMT_YUV420)

    /// `V4L2_PIX_FMT_FLAG_BE_FOURCC`: the big-endian variant of the format the low 31 bits name (vivid lists
    /// several, e.g. 'XR15' with this bit is big-endian XRGB 1-5-5-5).
    public static let bigEndianFlag: UInt32 = 1 << 31

    /// The four characters (with `-BE` for a big-endian variant, as `v4l2-ctl` writes it), or hexadecimal when
    /// they are not printable.
    public var description: String {
        if rawValue & Self.bigEndianFlag != 0 {
            let base = V4L2FourCC(rawValue: rawValue & ~Self.bigEndianFlag).description
            return base.hasPrefix("0x") ? "0x" + String(rawValue, radix: 16) : base + "-BE"
        }
        let bytes = (0..<4).map { UInt8(truncatingIfNeeded: rawValue >> (8 * $0)) }
        guard bytes.allSatisfy({ (0x20..<0x7f).contains($0) }) else { return "0x" + String(rawValue, radix: 16) }
        var characters = String(decoding: bytes, as: UTF8.self)
        while characters.last == " " { characters.removeLast() }  // "Y8  " style codes pad with spaces
        return characters
    }

    /// The frame layout this code carries, if `FrameView` can describe it.
    public var pixelFormat: PixelFormat? {
        switch self {
        case .yuyv: return .yuyv
        case .rgb24: return .rgb24
        case .yuv420: return .yuv420
        case .mjpeg, .jpeg: return .mjpeg
        default: return nil
        }
    }

    /// The code for a `PixelFormat` (nil for 4:4:4, which webcams do not send).
    public init?(_ format: PixelFormat) {
        switch format {
        case .yuyv: self = .yuyv
        case .rgb24: self = .rgb24
        case .yuv420: self = .yuv420
        case .mjpeg: self = .mjpeg
        case .yuv444: return nil
        }
    }
}

/// What `VIDIOC_QUERYCAP` says about a device node.
public struct V4L2Capability: Sendable, Equatable {
    /// Kernel driver, for example "uvcvideo".
    public var driver: String
    /// Product name, for example "HD Pro Webcam C920".
    public var card: String
    /// Where it is attached, for example "usb-0000:00:14.0-1".
    public var busInfo: String
    /// This node's `V4L2_CAP_*` bits (`device_caps` when the driver reports them).
    public var capabilities: UInt32

    public init(driver: String, card: String, busInfo: String, capabilities: UInt32) {
        self.driver = driver
        self.card = card
        self.busInfo = busInfo
        self.capabilities = capabilities
    }

    /// The node captures single-planar video (`V4L2_CAP_VIDEO_CAPTURE`).
    public var canCaptureVideo: Bool { capabilities & CV4L2_CAP_VIDEO_CAPTURE != 0 }
    /// The node takes video frames from a program (`V4L2_CAP_VIDEO_OUTPUT`): a v4l2loopback device.
    public var canOutputVideo: Bool { capabilities & CV4L2_CAP_VIDEO_OUTPUT != 0 }
    /// The v4l2loopback module's driver name in QUERYCAP.
    public static let loopbackDriver = "v4l2 loopback"
    /// The node belongs to v4l2loopback (a virtual camera that programs write into and others read).
    public var isLoopback: Bool { driver == Self.loopbackDriver }
    /// The node supports mmap'ed streaming I/O (`V4L2_CAP_STREAMING`).
    public var canStream: Bool { capabilities & CV4L2_CAP_STREAMING != 0 }
    /// The node carries metadata, not pictures (the second node of every UVC camera).
    public var isMetadataNode: Bool { capabilities & CV4L2_CAP_META_CAPTURE != 0 }
}

/// A frame interval (seconds per frame) as the fraction the driver reports.
public struct V4L2FrameInterval: Sendable, Hashable {
    public let numerator: UInt32
    public let denominator: UInt32

    /// nil for a zero numerator or denominator (no rate).
    public init?(numerator: UInt32, denominator: UInt32) {
        guard numerator > 0, denominator > 0 else { return nil }
        self.numerator = numerator
        self.denominator = denominator
    }

    /// Frames per second: denominator / numerator.
    public var framesPerSecond: Double { Double(denominator) / Double(numerator) }
}

/// One discrete frame size with the intervals the device offers at it (fastest first).
public struct V4L2FrameSize: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var intervals: [V4L2FrameInterval]

    public init(width: Int, height: Int, intervals: [V4L2FrameInterval]) {
        self.width = width
        self.height = height
        self.intervals = intervals
    }

    /// The fastest rate offered at this size (nil when the driver lists none).
    public var maximumFramesPerSecond: Double? { intervals.map(\.framesPerSecond).max() }
}

/// The sizes a format comes in: a list, or a range with steps.
public enum V4L2FrameSizes: Sendable, Equatable {
    case discrete([V4L2FrameSize])
    case stepwise(
        minimumWidth: Int, minimumHeight: Int, maximumWidth: Int, maximumHeight: Int, widthStep: Int, heightStep: Int)

    /// The size closest to the request: an exact match, else the smallest size covering it, else the largest.
    /// Stepwise ranges clamp and round down to the step.
    public func closest(width: Int, height: Int) -> (width: Int, height: Int)? {
        switch self {
        case .discrete(let sizes):
            guard !sizes.isEmpty else { return nil }
            if let exact = sizes.first(where: { $0.width == width && $0.height == height }) {
                return (exact.width, exact.height)
            }
            let covering = sizes.filter { $0.width >= width && $0.height >= height }
            if let smallest = covering.min(by: { $0.width * $0.height < $1.width * $1.height }) {
                return (smallest.width, smallest.height)
            }
            let largest = sizes.max(by: { $0.width * $0.height < $1.width * $1.height })!
            return (largest.width, largest.height)
        case .stepwise(
            let minimumWidth, let minimumHeight, let maximumWidth, let maximumHeight, let widthStep, let heightStep):
            let clampedWidth = min(max(width, minimumWidth), maximumWidth)
            let clampedHeight = min(max(height, minimumHeight), maximumHeight)
            return (
                minimumWidth + (clampedWidth - minimumWidth) / widthStep * widthStep,
                minimumHeight + (clampedHeight - minimumHeight) / heightStep * heightStep
            )
        }
    }

    /// The fastest rate offered at exactly this size, if known.
    public func maximumFramesPerSecond(width: Int, height: Int) -> Double? {
        guard case .discrete(let sizes) = self else { return nil }
        return sizes.first(where: { $0.width == width && $0.height == height })?.maximumFramesPerSecond
    }
}

/// One capture format of a device (native, or emulated by libv4lconvert) and its sizes.
public struct V4L2FormatInfo: Sendable, Equatable {
    public var fourCC: V4L2FourCC
    /// The driver's name for it, for example "YUYV 4:2:2" or "Motion-JPEG".
    public var name: String
    /// Compressed (MJPEG, H.264): frame sizes vary.
    public var compressed: Bool
    /// Produced by libv4lconvert from a native format, not by the device.
    public var emulated: Bool
    public var sizes: V4L2FrameSizes

    public init(fourCC: V4L2FourCC, name: String, compressed: Bool, emulated: Bool, sizes: V4L2FrameSizes) {
        self.fourCC = fourCC
        self.name = name
        self.compressed = compressed
        self.emulated = emulated
        self.sizes = sizes
    }
}

/// The native formats libv4l2 can turn into `delivered` (itself included), in preference order.
/// libv4lconvert makes RGB24 and YUV420 from YUYV, MJPEG and RGB24, but never YUYV or MJPEG from anything else.
func nativeSources(for delivered: V4L2FourCC) -> [V4L2FourCC] {
    switch delivered {
    case .rgb24: return [.rgb24, .yuyv, .mjpeg, .jpeg, .yuv420]
    case .yuv420: return [.yuv420, .yuyv, .mjpeg, .jpeg, .rgb24]
    case .mjpeg: return [.mjpeg, .jpeg]
    default: return [delivered]
    }
}
