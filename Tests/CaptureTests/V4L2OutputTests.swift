// The v4l2loopback writer (V4L2OutputWriter) on the fake driver's loopback node, and the share
// (CameraShare + SharingFrameSource) fed by a scripted source. Checked: the node checks (a character
// device of major 81 owned by root under /dev, a loopback by QUERYCAP's driver name, not the camera
// itself), S_FMT on V4L2_BUF_TYPE_VIDEO_OUTPUT with the camera's fourcc and size (and a driver that
// gives another format refused), S_PARM with the camera's rate, frames written byte for byte (padded
// rows packed), errors naming the device, every frame shared while a slow consumer takes only the
// newest, and the still "camera unavailable" frame after the camera is lost.
import CV4L2
import Foundation
import Glibc
import SystemSupport
import Testing

@testable import Capture

/// A machine with the fake UVC camera at /dev/video0 and a v4l2loopback node at /dev/video10.
private func machineWithLoopback() -> FakeV4L2Device {
    let device = FakeV4L2Device()
    device.nodes["/dev/video10"] = FakeV4L2Device.loopback()
    return device
}

private func frame(
    _ bytes: [UInt8], width: Int, height: Int, format: PixelFormat, bytesPerLine: Int, sequence: UInt64 = 0
)
    -> (UnsafeRawBufferPointer) -> FrameView
{
    { pointer in
        FrameView(
            width: width, height: height, format: format, bytesPerLine: bytesPerLine, bytes: pointer,
            sequence: sequence,
            timestampNanoseconds: 0)
    }
}

@Suite("Capture: v4l2loopback output writer on the fake driver")
struct V4L2OutputWriterTests {
    @Test("checks the node, sets the camera's format on the OUTPUT type and its rate, writes frames unmodified")
    func writesFrames() throws {
        let device = machineWithLoopback()
        let writer = try V4L2OutputWriter(device: "video10", camera: "/dev/video0", system: device)
        #expect(writer.devicePath == "/dev/video10" && writer.capability.isLoopback && writer.capability.canOutputVideo)
        let format = try writer.configure(width: 8, height: 4, pixelFormat: .yuyv, framesPerSecond: 30)
        #expect(
            format
                == V4L2OutputFormat(
                    width: 8, height: 4, pixelFormat: .yuyv, bytesPerLine: 16, sizeImage: 64, framesPerSecond: 30))
        let bytes = (0..<64).map { UInt8($0) }
        try bytes.withUnsafeBytes {
            try writer.write(frame(bytes, width: 8, height: 4, format: .yuyv, bytesPerLine: 16)($0))
        }
        try bytes.withUnsafeBytes {
            try writer.write(frame(bytes, width: 8, height: 4, format: .yuyv, bytesPerLine: 16)($0))
        }
        let node = device.nodes["/dev/video10"]!
        #expect(node.written == [bytes, bytes])
        #expect(writer.framesWritten == 2)
        #expect(node.outputFormat?.fourCC == .yuyv && node.outputInterval.denominator == 30_000)
        #expect(
            device.calls == [
                "stat /dev/video10", "openOutput /dev/video10", "VIDIOC_QUERYCAP", "VIDIOC_S_FMT OUTPUT YUYV 8x4",
                "VIDIOC_S_PARM OUTPUT 1000/30000", "VIDIOC_STREAMON OUTPUT", "write 64", "write 64",
            ])
        // The same format again is not set again.
        try writer.configure(width: 8, height: 4, pixelFormat: .yuyv, framesPerSecond: 30)
        #expect(device.count("VIDIOC_S_FMT") == 1)
        // A writer attached: the device offers capture (readers) and no longer output; after close, output again.
        let attached = try V4L2Device.open("/dev/video10", system: device)
        #expect(try attached.queryCapability().canCaptureVideo && !(try attached.queryCapability().canOutputVideo))
        attached.close()
        writer.close()
        #expect(device.openDescriptorCount == 0)
        #expect(throws: Never.self) { try V4L2OutputWriter(device: "/dev/video10", system: device).close() }
    }

    @Test(
        "every shareable layout gets its fourcc and v4l2loopback's sizes",
        arguments: [
            (PixelFormat.yuyv, "YUYV", 32, 32 * 12), (.rgb24, "RGB3", 48, 48 * 12),
            (.yuv420, "YU12", 16, 16 * 12 * 3 / 2),
            (.mjpeg, "MJPG", 0, 16 * 12 * 4),
        ])
    func layouts(format: PixelFormat, fourCC: String, bytesPerLine: Int, sizeImage: Int) throws {
        let device = machineWithLoopback()
        let writer = try V4L2OutputWriter(device: "/dev/video10", system: device)
        let given = try writer.configure(width: 16, height: 12, pixelFormat: format, framesPerSecond: nil)
        #expect(device.nodes["/dev/video10"]!.outputFormat?.fourCC.description == fourCC)
        #expect(given.bytesPerLine == bytesPerLine && given.sizeImage == sizeImage && given.framesPerSecond == nil)
        #expect(device.count("VIDIOC_S_PARM") == 0)
    }

    @Test("refuses a node that is not a v4l2loopback device, naming it and its driver")
    func refusesCamera() {
        let device = machineWithLoopback()
        #expect(
            throws: CaptureError.notALoopbackDevice(device: "/dev/video0", driver: "uvcvideo", card: "Fake UVC Camera")
        ) {
            try V4L2OutputWriter(device: "/dev/video0", system: device)
        }
        #expect(device.openDescriptorCount == 0)
    }

    @Test("refuses the camera itself, also through a stable name")
    func refusesTheCamera() {
        let device = machineWithLoopback()
        device.links["/dev/v4l/by-id/loop-video-index0"] = "/dev/video10"
        #expect(
            throws: CaptureError.shareIsTheCamera(device: "/dev/video10", camera: "/dev/v4l/by-id/loop-video-index0")
        ) {
            try V4L2OutputWriter(device: "/dev/video10", camera: "/dev/v4l/by-id/loop-video-index0", system: device)
        }
    }

    @Test(
        "refuses nodes that are not root-owned video4linux character devices under /dev",
        arguments: [
            (
                "/dev/video10", V4L2NodeStatus(isCharacterDevice: false, owner: 0, mode: 0o644, major: 0, minor: 0),
                "it is not a character device"
            ),
            (
                "/dev/video10", V4L2NodeStatus(isCharacterDevice: true, owner: 0, mode: 0o660, major: 1, minor: 3),
                "its major number is 1, not video4linux's 81"
            ),
            (
                "/dev/video10", V4L2NodeStatus(isCharacterDevice: true, owner: 1000, mode: 0o660, major: 81, minor: 10),
                "it is owned by uid 1000, not root (device nodes come from the kernel)"
            ),
        ])
    func unsafeNodes(path: String, status: V4L2NodeStatus, reason: String) {
        let device = machineWithLoopback()
        device.nodeStatuses[path] = status
        #expect(throws: CaptureError.unsafeDeviceNode(device: path, reason: reason)) {
            try V4L2OutputWriter(device: path, system: device)
        }
        #expect(device.count("openOutput") == 0)
    }

    @Test("refuses a name resolving outside /dev")
    func outsideDev() {
        let device = machineWithLoopback()
        device.nodes["/tmp/fake-video"] = FakeV4L2Device.loopback()
        device.links["/dev/video11"] = "/tmp/fake-video"
        #expect(
            throws: CaptureError.unsafeDeviceNode(
                device: "/dev/video11", reason: "it resolves to /tmp/fake-video, which is not under /dev")
        ) {
            try V4L2OutputWriter(device: "/dev/video11", system: device)
        }
    }

    @Test("a loopback that keeps another format is an error naming the device and both formats")
    func formatRefused() throws {
        let device = machineWithLoopback()
        device.nodes["/dev/video10"]!.outputFourCCOverride = .rgb24
        let writer = try V4L2OutputWriter(device: "/dev/video10", system: device)
        #expect(throws: CaptureError.outputFormatRefused(device: "/dev/video10", asked: "8×4 YUYV", given: "8×4 RGB3"))
        {
            try writer.configure(width: 8, height: 4, pixelFormat: .yuyv, framesPerSecond: 30)
        }
    }

    @Test("a loopback that already has a writer (no VIDEO_OUTPUT) is refused")
    func alreadyWritten() {
        let device = machineWithLoopback()
        device.nodes["/dev/video10"]!.deviceCapabilities = CV4L2_CAP_VIDEO_CAPTURE | CV4L2_CAP_STREAMING
        #expect(throws: CaptureError.self) { try V4L2OutputWriter(device: "/dev/video10", system: device) }
        #expect(device.openDescriptorCount == 0)
    }

    @Test("padded camera rows are packed to the loopback's bytesperline")
    func packsRows() throws {
        let device = machineWithLoopback()
        let writer = try V4L2OutputWriter(device: "/dev/video10", system: device)
        try writer.configure(width: 2, height: 2, pixelFormat: .yuyv, framesPerSecond: nil)
        let padded: [UInt8] = [1, 2, 3, 4, 0xEE, 0xEE, 5, 6, 7, 8, 0xEE, 0xEE]
        try padded.withUnsafeBytes {
            try writer.write(frame(padded, width: 2, height: 2, format: .yuyv, bytesPerLine: 6)($0))
        }
        #expect(device.nodes["/dev/video10"]!.written == [[1, 2, 3, 4, 5, 6, 7, 8]])
    }

    @Test("open and write failures name the device, the call and the errno")
    func errors() throws {
        let device = machineWithLoopback()
        device.openRefusals["/dev/video10"] = EACCES
        #expect(
            throws: CaptureError.permissionDenied(
                device: "/dev/video10", call: "open", errorNumber: Errno(rawValue: EACCES))
        ) {
            try V4L2OutputWriter(device: "/dev/video10", system: device)
        }
        device.openRefusals = [:]
        let writer = try V4L2OutputWriter(device: "/dev/video10", system: device)
        try writer.configure(width: 2, height: 2, pixelFormat: .yuyv, framesPerSecond: nil)
        device.scriptedFailures["write"] = [EINTR, ENODEV]
        let bytes = [UInt8](repeating: 9, count: 8)
        #expect(
            throws: CaptureError.deviceLost(device: "/dev/video10", call: "write", errorNumber: Errno(rawValue: ENODEV))
        ) {
            try bytes.withUnsafeBytes {
                try writer.write(frame(bytes, width: 2, height: 2, format: .yuyv, bytesPerLine: 4)($0))
            }
        }
        // A frame of another size than the format is refused before any write.
        #expect(throws: CaptureError.self) {
            try bytes.withUnsafeBytes {
                try writer.write(frame(bytes, width: 4, height: 1, format: .yuyv, bytesPerLine: 8)($0))
            }
        }
        #expect(device.count("write") == 2)
        #expect(
            CaptureError.notALoopbackDevice(device: "/dev/video0", driver: "uvcvideo", card: "C920").description
                .contains(
                    "/dev/video0"))
    }
}

/// A source handing out scripted frames as fast as asked, then failing with `end`.
private final class ScriptedSource: FrameSource, @unchecked Sendable {
    var frames: [[UInt8]]
    let end: CaptureError
    var delivered = 0
    private(set) var closed = false
    init(frames: [[UInt8]], end: CaptureError) {
        self.frames = frames
        self.end = end
    }
    var sourceDescription: String { "scripted" }
    var framesCaptured: Int { delivered }
    var formatSummary: String { "8×4 YUYV" }
    var deliveryWarning: String? { nil }
    func withNextFrame<Result>(timeoutMilliseconds: Int, _ body: (FrameView) -> Result) throws(CaptureError) -> Result?
    {
        guard delivered < frames.count else { throw end }
        let bytes = frames[delivered]
        delivered += 1
        return bytes.withUnsafeBytes {
            body(
                FrameView(
                    width: 8, height: 4, format: .yuyv, bytesPerLine: 16, bytes: $0, sequence: UInt64(delivered),
                    timestampNanoseconds: 0))
        }
    }
    func close() { closed = true }
}

/// Waits (bounded, never a fixed sleep for a result) until `condition` holds.
private func waitUntil(seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(2_000)
    }
    return condition()
}

@Suite("Capture: camera share (capture thread → loopback, newest frame → recognition)")
struct CameraShareTests {
    @Test(
        "every camera frame reaches the loopback in order; a slow consumer gets the newest; a lost camera leaves the still frame"
    )
    func sharesEveryFrame() throws {
        let device = machineWithLoopback()
        device.logsCalls = false
        let frames = (0..<40).map { index in [UInt8](repeating: UInt8(index), count: 64) }
        let source = ScriptedSource(
            frames: frames,
            end: .deviceLost(device: "/dev/video0", call: "VIDIOC_DQBUF", errorNumber: Errno(rawValue: ENODEV)))
        let share = try CameraShare(device: "/dev/video10", camera: "/dev/video0", system: device)
        let sharing = SharingFrameSource(source, share: share, framesPerSecond: 30)
        #expect(sharing.formatSummary == "8×4 YUYV; shared to /dev/video10")
        // The consumer is slow: it sees the loss after at most a few frames, never all 40.
        var seen: [UInt8] = []
        var lost: CaptureError?
        while lost == nil {
            do {
                if let first = try sharing.withNextFrame(timeoutMilliseconds: 2_000, { $0.bytes[0] }) {
                    seen.append(first)
                }
                usleep(20_000)
            } catch { lost = error }
        }
        #expect(lost == .deviceLost(device: "/dev/video0", call: "VIDIOC_DQBUF", errorNumber: Errno(rawValue: ENODEV)))
        #expect(seen.count < 40 && seen == seen.sorted())
        #expect(sharing.framesCaptured == 40)
        // The still frame follows the camera frames.
        #expect(waitUntil { share.status().stillFramesWritten >= 2 })
        #expect(share.status().state == "camera unavailable (still frame)")
        sharing.close()
        #expect(source.closed)
        share.close()
        let written = device.nodes["/dev/video10"]!.written
        #expect(Array(written.prefix(40)) == frames)
        let still = CameraShare.renderUnavailable(
            V4L2OutputFormat(
                width: 8, height: 4, pixelFormat: .yuyv, bytesPerLine: 16, sizeImage: 64, framesPerSecond: 30))
        #expect(written.count >= 42 && written[40...].allSatisfy { $0 == still })
        #expect(share.status().framesWritten == written.count && share.status().state == "closed")
    }

    @Test(
        "the still frame is rendered in the camera's own layout and size",
        arguments: [PixelFormat.yuyv, .rgb24, .yuv420, .mjpeg])
    func stillFrame(format: PixelFormat) throws {
        let output = V4L2OutputFormat(
            width: 320, height: 240, pixelFormat: format, bytesPerLine: 0, sizeImage: 320 * 240 * 4, framesPerSecond: 30
        )
        let bytes = CameraShare.renderUnavailable(output)
        if let expected = format.frameByteCount(width: 320, height: 240) {
            #expect(bytes.count == expected)
            #expect(Set(bytes).count > 1)  // text on a background, not a flat frame
        } else {
            let decoded = try RGBImage.decode(bytes)
            #expect(decoded.width == 320 && decoded.height == 240)
        }
    }
}

@Suite("Capture: v4l2loopback set-up files")
struct LoopbackSetupTests {
    @Test("the modprobe.d line and the modules-load.d entry")
    func files() {
        let setup = LoopbackSetup(videoNumber: 10)
        #expect(setup.devicePath == "/dev/video10" && setup.problems.isEmpty)
        #expect(
            setup.modprobeConfiguration.contains(
                "\noptions v4l2loopback devices=1 video_nr=10 card_label=\"gesturepad camera\" exclusive_caps=1\n"))
        #expect(setup.modulesLoadConfiguration.hasSuffix("\nv4l2loopback\n"))
        #expect(!setup.modulesLoadConfiguration.split(separator: "\n").contains { $0.hasPrefix("options") })
    }

    @Test(
        "refuses values the module line cannot carry",
        arguments: [
            (256, "gesturepad camera"), (-1, "x"), (10, "a \"quoted\" name"), (10, ""),
            (10, String(repeating: "x", count: 32)),
        ])
    func refuses(number: Int, label: String) {
        #expect(!LoopbackSetup(videoNumber: number, cardLabel: label).problems.isEmpty)
    }
}
