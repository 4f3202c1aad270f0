// Frames and where they come from. A `FrameSource` (camera, Y4M recording, image file) hands out
// borrowed `FrameView`s: the pixels stay in the source's own buffer (for a camera, its mmap'ed
// ring) and are valid only inside the closure, so a frame is never copied on the way to the
// preprocessor. Sources deliver the newest frame: a slow consumer drops frames, never queues them.

/// How a frame's bytes are laid out.
public enum PixelFormat: String, Sendable, CaseIterable, Codable {
    /// Packed 4:2:2, bytes Y0 U Y1 V per two pixels (V4L2 `YUYV`).
    case yuyv
    /// Packed 8-bit R G B per pixel (V4L2 `RGB3`).
    case rgb24
    /// Planar 4:2:0: a W×H Y plane, then ⌈W/2⌉×⌈H/2⌉ U and V planes (V4L2 `YU12`, Y4M `C420`).
    case yuv420
    /// Planar 4:4:4: Y, U and V planes of W×H each (Y4M `C444`).
    case yuv444
    /// A JPEG image per frame (V4L2 `MJPG`); decoded before preprocessing.
    case mjpeg

    /// Bytes of one frame of `width × height` (nil for compressed formats).
    public func frameByteCount(width: Int, height: Int) -> Int? {
        switch self {
        case .yuyv: return ((width + 1) / 2) * 4 * height
        case .rgb24: return width * height * 3
        case .yuv420: return width * height + 2 * ((width + 1) / 2) * ((height + 1) / 2)
        case .yuv444: return width * height * 3
        case .mjpeg: return nil
        }
    }
}

/// A borrowed frame: valid only during the closure it is passed to.
public struct FrameView {
    public let width: Int
    public let height: Int
    public let format: PixelFormat
    /// Bytes per row of packed formats (≥ width · bytes per pixel); for planar formats the Y row length.
    public let bytesPerLine: Int
    /// The frame's bytes (for MJPEG, the compressed image).
    public let bytes: UnsafeRawBufferPointer
    /// Frame counter of the source (gaps mean dropped frames).
    public let sequence: UInt64
    /// When the frame was captured, on the monotonic clock, in nanoseconds.
    public let timestampNanoseconds: UInt64

    public init(
        width: Int, height: Int, format: PixelFormat, bytesPerLine: Int, bytes: UnsafeRawBufferPointer,
        sequence: UInt64, timestampNanoseconds: UInt64
    ) {
        self.width = width
        self.height = height
        self.format = format
        self.bytesPerLine = bytesPerLine
        self.bytes = bytes
        self.sequence = sequence
        self.timestampNanoseconds = timestampNanoseconds
    }
}

/// Anything that produces frames: a camera, a recording, a still image.
public protocol FrameSource: AnyObject {
    /// What this source is, for logs and status ("/dev/video0 (C922 Pro Stream Webcam)", "clip.y4m").
    var sourceDescription: String { get }

    /// Waits up to `timeoutMilliseconds` for the newest frame and passes it to `body`.
    /// Returns nil at the end of a finite source; throws on faults (see `CaptureError`).
    func withNextFrame<Result>(timeoutMilliseconds: Int, _ body: (FrameView) -> Result) throws(CaptureError) -> Result?

    /// Frames the source produced since it was created: those passed to `withNextFrame` closures plus those it
    /// skipped because a newer one was ready (a consumer slower than the source) or that were unusable. A consumer
    /// that counts the frames it processed gets its dropped frames as the difference.
    var framesCaptured: Int { get }

    /// What frames the source delivers, for logs: size, layout and rate — for a camera what it agreed to next to
    /// what was asked ("640×480 YUYV at 30 fps (asked 640×480 at 30 fps), 4 buffers").
    var formatSummary: String { get }

    /// A problem with how frames arrive that the user can fix, for logs (a camera far below the rate it agreed to);
    /// nil when there is none.
    var deliveryWarning: String? { get }

    /// Releases the device or file. Calling it twice is harmless.
    func close()
}
