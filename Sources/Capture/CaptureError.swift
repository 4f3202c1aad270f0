// CaptureError: every way getting pixels can fail, naming the file or device and what to do.
import SystemSupport

/// A typed failure of the Capture library; `description` is a complete sentence for the user.
public enum CaptureError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A file could not be read.
    case fileUnreadable(path: String, reason: String)
    /// An image file could not be decoded.
    case undecodableImage(path: String, reason: String)
    /// An image is too small for the requested processing.
    case imageTooSmall(path: String, width: Int, height: Int, minimum: Int)

    /// A frame's format or size cannot be preprocessed (the reason says which and why).
    case unsupportedFrameFormat(format: String, reason: String)

    // V4L2 camera (V4L2Camera, V4L2DeviceList, V4L2FormatConverter). `call` names the syscall or ioctl
    // ("open", "VIDIOC_S_FMT"), `errorNumber` the errno, `device` the node (/dev/video0).
    /// No device node at this path or stable name.
    case deviceNotFound(device: String)
    /// Another process holds the camera (EBUSY).
    case deviceBusy(device: String, call: String)
    /// The user may not open the camera (EACCES, EPERM).
    case permissionDenied(device: String, call: String, errorNumber: Errno)
    /// The camera vanished or failed mid-stream (ENODEV, ENXIO, EIO); recoverable with `V4L2Camera.reopen`.
    case deviceLost(device: String, call: String, errorNumber: Errno)
    /// Any other failed system call or ioctl.
    case systemCallFailed(device: String, call: String, errorNumber: Errno)
    /// The node does not capture video (for example a UVC camera's metadata node).
    case notAVideoCaptureDevice(device: String, card: String)
    /// The node cannot stream through mmap'ed buffers.
    case streamingUnsupported(device: String, card: String)
    /// The camera cannot deliver the requested pixel format, natively or through libv4lconvert.
    case pixelFormatUnavailable(device: String, requested: String, offered: [String])
    /// The driver answered something impossible (a buffer index out of range, a zero size, …).
    case invalidDriverAnswer(device: String, call: String, reason: String)
    /// No frame arrived within the timeout.
    case frameTimeout(device: String, milliseconds: Int)
    /// The camera has no such control.
    case controlUnsupported(device: String, control: String)
    /// The frame source was closed.
    case sourceClosed(source: String)
    /// Camera settings that cannot work (zero size, no buffers, …).
    case invalidCameraConfiguration(reason: String)
    /// No video capture device exists.
    case noCaptureDevices(searched: String)
    /// libv4lconvert could not convert a frame.
    case conversionFailed(from: String, to: String, reason: String)
    /// A Y4M file's header is not valid YUV4MPEG2; `field` is the offending tag as written ("W0", "F30").
    case y4mMalformedHeader(path: String, field: String, reason: String)
    /// A Y4M file is valid but uses a layout gesturepad does not read (`field`: "C422", "It", …).
    case y4mUnsupported(path: String, field: String, supported: String)
    /// A Y4M frame does not start with a valid `FRAME` line (frame index from 0, byte offset of the line).
    case y4mMalformedFrame(path: String, frameIndex: Int, byteOffset: Int, reason: String)
    /// A Y4M file ends inside a frame (`expectedBytes` of FRAME line + data, only `availableBytes` present).
    case y4mTruncatedFrame(path: String, frameIndex: Int, byteOffset: Int, expectedBytes: Int, availableBytes: Int)
    /// A real-time paced file source's next frame is not due within the caller's timeout.
    case pacedFrameNotDue(source: String, milliseconds: Int, framesPerSecond: Double)
    /// Writing a file failed; `call` names the system call (open, write, fsync, rename).
    case fileUnwritable(path: String, call: String, reason: String)
    /// The Y4M writer cannot store this frame (other size or format, too few bytes, already finished).
    case y4mWriteRejected(path: String, reason: String)
    /// The share device is not a v4l2loopback node (QUERYCAP's driver name differs).
    case notALoopbackDevice(device: String, driver: String, card: String)
    /// The share device is the camera being read.
    case shareIsTheCamera(device: String, camera: String)
    /// The node is not what a V4L2 device node must be (a character device of major 81 owned by root under /dev).
    case unsafeDeviceNode(device: String, reason: String)
    /// S_FMT on the output gave another format than the camera's.
    case outputFormatRefused(device: String, asked: String, given: String)

    public var description: String {
        switch self {
        case .fileUnreadable(let path, let reason):
            return "cannot read \(path): \(reason). Check that the path exists and is readable."
        case .undecodableImage(let path, let reason):
            return "cannot decode \(path) as an image (\(reason)). gesturepad reads PNG, JPEG, BMP, GIF, TGA and PNM."
        case .imageTooSmall(let path, let width, let height, let minimum):
            return "\(path) is \(width)×\(height); at least \(minimum)×\(minimum) pixels are needed."
        case .unsupportedFrameFormat(let format, let reason):
            return "cannot preprocess a \(format) frame: \(reason)."
        case .deviceNotFound(let device):
            return
                "no camera at \(device). Is it plugged in? `gesturepad devices` lists cameras with their stable /dev/v4l/by-id names."
        case .deviceBusy(let device, let call):
            return
                "\(device) is busy (\(call): \(Errno.resourceBusy.summary)): another program — a video call, a browser tab or "
                + "a running gesturepad daemon — holds the camera; `fuser \(device)` shows which."
        case .permissionDenied(let device, let call, let errorNumber):
            return
                "no permission to use \(device) (\(call): \(errorNumber.summary)). Add your user to the `video` group: "
                + "`sudo usermod -aG video $USER`, then log in again."
        case .deviceLost(let device, let call, let errorNumber):
            return
                "lost \(device) (\(call): \(errorNumber.summary)): the camera was unplugged, suspended or reset; "
                + "it can be reopened once it is back."
        case .systemCallFailed(let device, let call, let errorNumber):
            return "\(call) failed on \(device): \(errorNumber.summary)."
        case .notAVideoCaptureDevice(let device, let card):
            if card.isEmpty { return "\(device) is not a video device. `gesturepad devices` lists the cameras." }
            // Seen on a real kernel: a v4l2loopback device offers capture only while a program feeds it (exclusive_caps).
            return "\(device) (\(card)) does not capture video (now): a camera's metadata node, or a virtual camera "
                + "(v4l2loopback) that nothing feeds yet. Use the camera's first node (`gesturepad devices` lists them)."
        case .streamingUnsupported(let device, let card):
            return
                "\(device) (\(card)) cannot stream through memory-mapped buffers (V4L2_CAP_STREAMING), which gesturepad needs."
        case .pixelFormatUnavailable(let device, let requested, let offered):
            return
                "\(device) cannot deliver \(requested) frames; it offers \(offered.isEmpty ? "no formats" : offered.joined(separator: ", ")). "
                + "Choose another pixel format (rgb24 is converted by libv4lconvert from YUYV or MJPEG)."
        case .invalidDriverAnswer(let device, let call, let reason):
            return
                "the driver of \(device) answered \(call) with \(reason); try another size or pixel format, or another camera."
        case .frameTimeout(let device, let milliseconds):
            return
                "no frame from \(device) within \(milliseconds) ms: the camera stalled (USB bandwidth, a very long exposure) "
                + "or stopped; reopen it if this persists."
        case .controlUnsupported(let device, let control):
            return "\(device) has no \(control) control."
        case .sourceClosed(let source):
            return "\(source) is closed; reopen it first."
        case .invalidCameraConfiguration(let reason):
            return "invalid camera settings: \(reason)."
        case .noCaptureDevices(let searched):
            return
                "no video capture devices found (looked in \(searched)); is a camera plugged in and is the uvcvideo module loaded?"
        case .conversionFailed(let from, let to, let reason):
            return "libv4lconvert could not convert \(from) to \(to): \(reason)."
        case .y4mMalformedHeader(let path, let field, let reason):
            return "\(path) has a malformed Y4M header at `\(field)`: \(reason). Re-create the file, e.g. "
                + "`ffmpeg -i INPUT -pix_fmt yuv420p out.y4m` or `gesturepad record-video out.y4m`."
        case .y4mUnsupported(let path, let field, let supported):
            let fix = field.hasPrefix("I") ? "-vf yadif -pix_fmt yuv420p" : "-pix_fmt yuv420p"
            return "\(path) uses Y4M `\(field)`, which gesturepad does not read; it reads \(supported). "
                + "Convert it: `ffmpeg -i \(path) \(fix) converted.y4m`."
        case .y4mMalformedFrame(let path, let frameIndex, let byteOffset, let reason):
            return "\(path): frame \(frameIndex) (byte \(byteOffset)) is malformed: \(reason)."
        case .y4mTruncatedFrame(let path, let frameIndex, let byteOffset, let expectedBytes, let availableBytes):
            return
                "\(path) ends inside frame \(frameIndex) (byte \(byteOffset)): \(availableBytes) of \(expectedBytes) bytes present. "
                + "The recording was cut short; the frames before it are intact."
        case .pacedFrameNotDue(let source, let milliseconds, let framesPerSecond):
            return
                "the next frame of \(source) is not due within \(milliseconds) ms at its \((framesPerSecond * 100).rounded() / 100) fps real-time "
                + "pacing; wait longer or replay as fast as possible."
        case .fileUnwritable(let path, let call, let reason):
            return
                "cannot write \(path) (\(call) failed: \(reason)). Check free space and that the directory is writable."
        case .y4mWriteRejected(let path, let reason):
            return "cannot add the frame to \(path): \(reason)."
        case .notALoopbackDevice(let device, let driver, let card):
            return
                "\(device) (\(card.isEmpty ? "no card name" : card), driver \(driver.isEmpty ? "unknown" : driver)) is not a "
                + "v4l2loopback device (driver \"\(V4L2Capability.loopbackDriver)\"); `gesturepad share setup` shows how to "
                + "create one and `gesturepad devices` marks it."
        case .shareIsTheCamera(let device, let camera):
            return
                "the share device \(device) is the camera being read (\(camera)); name the v4l2loopback device "
                + "(`gesturepad devices` marks it)."
        case .unsafeDeviceNode(let device, let reason):
            return "refusing \(device): \(reason)."
        case .outputFormatRefused(let device, let asked, let given):
            return
                "\(device) refused the camera's format: asked \(asked), VIDIOC_S_FMT gave \(given). Another program may be "
                + "writing to it or reading it in another format; stop those readers and try again."
        }
    }
}
