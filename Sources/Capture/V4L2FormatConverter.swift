// libv4lconvert without a camera: YUYV or MJPEG frames → RGB24 through the same code libv4l2 runs
// for emulated formats. libv4lconvert learns its source formats by asking a device, so the context
// is created over the shim's "synthetic device" (CV4L2_synthetic_*), which offers exactly one format
// at one size and answers nothing else — no controls, no flipping, no software white balance.
// Used by tests and benchmarks, and for converting ourselves where that is faster.
internal import CV4L2

/// Converts frames of one format and size to packed RGB24 with libv4lconvert. Not thread-safe.
public final class V4L2FormatConverter {
    /// Layout of the frames to convert: `.yuyv` or `.mjpeg`.
    public let sourceFormat: PixelFormat
    public let width: Int
    public let height: Int
    /// Bytes one RGB24 frame needs: width · height · 3.
    public var destinationByteCount: Int { width * height * 3 }

    private let device: UnsafeMutablePointer<CV4L2_synthetic_device>
    private let context: OpaquePointer
    private var source = v4l2_format()
    private var destination = v4l2_format()

    /// A converter for `width`×`height` frames of `sourceFormat` (`.yuyv` rows may be padded to `bytesPerLine`).
    public init(from sourceFormat: PixelFormat, width: Int, height: Int, bytesPerLine: Int? = nil) throws(CaptureError)
    {
        let name = sourceFormat.rawValue
        guard sourceFormat == .yuyv || sourceFormat == .mjpeg, let fourCC = V4L2FourCC(sourceFormat) else {
            throw .conversionFailed(from: name, to: "rgb24", reason: "only yuyv and mjpeg sources are supported")
        }
        guard (1...V4L2Limits.maximumSide).contains(width), (1...V4L2Limits.maximumSide).contains(height) else {
            throw .conversionFailed(from: name, to: "rgb24", reason: "frame size \(width)×\(height)")
        }
        let rowBytes = sourceFormat == .yuyv ? ((width + 1) / 2) * 4 : 0
        let stride = bytesPerLine ?? rowBytes
        guard stride >= rowBytes else {
            throw .conversionFailed(from: name, to: "rgb24", reason: "rows of \(stride) bytes for \(width) pixels")
        }
        self.sourceFormat = sourceFormat
        self.width = width
        self.height = height
        device = UnsafeMutablePointer<CV4L2_synthetic_device>.allocate(capacity: 1)
        device.initialize(
            to: CV4L2_synthetic_device(pixel_format: fourCC.rawValue, width: UInt32(width), height: UInt32(height)))
        guard let context = CV4L2_synthetic_converter_create(device) else {
            device.deallocate()
            throw .conversionFailed(from: name, to: "rgb24", reason: "libv4lconvert could not be initialised")
        }
        self.context = context
        source.type = CV4L2_BUF_TYPE_VIDEO_CAPTURE
        source.fmt.pix.width = UInt32(width)
        source.fmt.pix.height = UInt32(height)
        source.fmt.pix.pixelformat = fourCC.rawValue
        source.fmt.pix.field = CV4L2_FIELD_NONE
        source.fmt.pix.bytesperline = UInt32(stride)
        source.fmt.pix.sizeimage = UInt32(stride * height)
        destination.type = CV4L2_BUF_TYPE_VIDEO_CAPTURE
        destination.fmt.pix.width = UInt32(width)
        destination.fmt.pix.height = UInt32(height)
        destination.fmt.pix.pixelformat = CV4L2_PIX_FMT_RGB24
        destination.fmt.pix.field = CV4L2_FIELD_NONE
        destination.fmt.pix.bytesperline = UInt32(width * 3)
        destination.fmt.pix.sizeimage = UInt32(width * height * 3)
    }

    deinit {
        v4lconvert_destroy(context)
        device.deallocate()
    }

    /// Converts one frame into `destination` (at least `destinationByteCount` bytes); returns the bytes written.
    /// The corresponding call is `v4lconvert_convert`.
    @discardableResult
    public func convertToRGB24(_ frame: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer)
        throws(CaptureError) -> Int
    {
        let name = sourceFormat.rawValue
        guard output.count >= destinationByteCount, let outputAddress = output.baseAddress else {
            throw .conversionFailed(
                from: name, to: "rgb24", reason: "output holds \(output.count) bytes, \(destinationByteCount) needed")
        }
        let needed = sourceFormat == .yuyv ? Int(source.fmt.pix.sizeimage) : 2
        guard frame.count >= needed, frame.count <= Int(Int32.max), let frameAddress = frame.baseAddress else {
            throw .conversionFailed(
                from: name, to: "rgb24", reason: "frame of \(frame.count) bytes, at least \(needed) needed")
        }
        let written = v4lconvert_convert(
            context, &source, &destination,
            UnsafeMutablePointer(mutating: frameAddress.assumingMemoryBound(to: UInt8.self)), Int32(frame.count),
            outputAddress.assumingMemoryBound(to: UInt8.self), Int32(clamping: output.count))
        guard written >= 0 else {
            let message = v4lconvert_get_error_message(context).map { String(cString: $0) } ?? "unknown error"
            throw .conversionFailed(from: name, to: "rgb24", reason: message.isEmpty ? "unknown error" : message)
        }
        return Int(written)
    }
}
