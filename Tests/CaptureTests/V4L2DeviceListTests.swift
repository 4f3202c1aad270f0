// V4L2DeviceList on FakeV4L2Device (V4L2FakeDevice.swift), which stands in for libv4l2 over the
// uvcvideo driver and for the /dev tree with udev's /dev/v4l/by-id and by-path symlinks: capture
// nodes listed in node-number order with card, driver, bus, stable names, formats, sizes and
// intervals; metadata nodes left out; unopenable nodes listed with the reason; none → the message.
import CV4L2
import Glibc
import Testing

@testable import Capture
import SystemSupport

@Suite("Capture: V4L2 device listing")
struct V4L2DeviceListTests {
    // Found on a real kernel: vivid lists big-endian variants ('XR15' | V4L2_PIX_FMT_FLAG_BE_FOURCC), which the
    // listing printed as 0xb5315258; v4l2-ctl writes them 'XR15-BE'.
    @Test(
        "fourcc names: plain, space-padded, big-endian variants, unprintable",
        arguments: [
            (UInt32(0x5659_5559), "YUYV"), (0x2020_3859, "Y8"), (0xB531_5258, "XR15-BE"), (0xA036_3159, "Y16-BE"),
            (0x0102_0304, "0x1020304"), (0x8102_0304, "0x81020304"),
        ])
    func fourCCNames(rawValue: UInt32, name: String) {
        #expect(V4L2FourCC(rawValue: rawValue).description == name)
    }

    @Test("one UVC camera: its capture node with stable names and formats; the metadata node is left out")
    func oneCamera() throws {
        let device = FakeV4L2Device()
        let devices = V4L2DeviceList.scan(system: device)
        #expect(devices.count == 1)
        let camera = try #require(devices.first)
        #expect(camera.path == "/dev/video0" && camera.problem == nil)
        #expect(camera.capability?.card == "Fake UVC Camera" && camera.capability?.driver == "uvcvideo")
        #expect(
            camera.stableNames == [
                "/dev/v4l/by-id/usb-Fake_UVC_Camera_0001-video-index0",
                "/dev/v4l/by-path/pci-0000:00:14.0-usb-0:1:1.0-video-index0",
            ])
        #expect(camera.formats.count == 6)
        #expect(
            camera.formats[0].sizes
                == .discrete([
                    V4L2FrameSize(
                        width: 8, height: 4,
                        intervals: [
                            V4L2FrameInterval(numerator: 1, denominator: 30)!,
                            V4L2FrameInterval(numerator: 1, denominator: 15)!,
                        ]),
                    V4L2FrameSize(
                        width: 16, height: 12,
                        intervals: [
                            V4L2FrameInterval(numerator: 1, denominator: 10)!,
                            V4L2FrameInterval(numerator: 1, denominator: 5)!,
                        ]),
                    V4L2FrameSize(width: 32, height: 24, intervals: [V4L2FrameInterval(numerator: 1, denominator: 5)!]),
                ]))
        #expect(device.openDescriptorCount == 0)
        #expect(
            V4L2DeviceList.report(devices) == """
                /dev/video0: Fake UVC Camera (driver uvcvideo, bus usb-0000:00:14.0-1)
                  stable names: /dev/v4l/by-id/usb-Fake_UVC_Camera_0001-video-index0
                                /dev/v4l/by-path/pci-0000:00:14.0-usb-0:1:1.0-video-index0
                  YUYV YUYV 4:2:2
                    8×4: 30, 15 fps
                    16×12: 10, 5 fps
                    32×24: 5 fps
                  MJPG Motion-JPEG (compressed)
                    8×4: 30 fps
                    16×12: 30 fps
                    32×24: 30 fps
                  also through libv4lconvert: RGB3, BGR3, YU12, YV12
                """)
    }

    @Test("node-number order, a node we may not open, a second camera")
    func severalNodes() throws {
        let device = FakeV4L2Device()
        let second = FakeV4L2Device.camera()
        second.card = "Second Camera"
        second.formats = [FakeFormat(fourCC: .yuyv, name: "YUYV 4:2:2", sizes: [(8, 4, [(1001, 30000)])])]
        device.nodes["/dev/video10"] = second
        device.nodes["/dev/video2"] = FakeV4L2Device.camera()
        device.openRefusals["/dev/video2"] = EACCES
        let devices = V4L2DeviceList.scan(system: device)
        #expect(devices.map(\.path) == ["/dev/video0", "/dev/video2", "/dev/video10"])
        #expect(
            devices[1].problem
                == .permissionDenied(device: "/dev/video2", call: "open", errorNumber: Errno(rawValue: EACCES)))
        #expect(devices[2].capability?.card == "Second Camera" && devices[2].stableNames.isEmpty)
        let report = V4L2DeviceList.report(devices)
        #expect(
            report.contains(
                "/dev/video2:\n  cannot examine it: no permission to use /dev/video2 (open: EACCES, Permission denied)."
            ))
        #expect(
            report.contains(
                "/dev/video10: Second Camera (driver uvcvideo, bus usb-0000:00:14.0-1)\n  YUYV YUYV 4:2:2\n    8×4: 29.97 fps"
            ))
    }

    @Test("nodes libv4l2 refuses as non-capture (ENOTTY, EINVAL) are left out")
    func refusedNodes() {
        let device = FakeV4L2Device()
        device.openRefusals = ["/dev/video1": EINVAL]
        device.nodes["/dev/video3"] = FakeV4L2Device.camera()
        device.openRefusals["/dev/video3"] = ENOTTY
        #expect(V4L2DeviceList.scan(system: device).map(\.path) == ["/dev/video0"])
    }

    @Test("no capture devices: an empty list and the message the command prints")
    func none() {
        let device = FakeV4L2Device()
        device.nodes = ["/dev/video1": device.nodes["/dev/video1"]!]  // only a metadata node
        #expect(V4L2DeviceList.scan(system: device).isEmpty)
        device.nodes = [:]
        #expect(V4L2DeviceList.scan(system: device).isEmpty)
        #expect(
            CaptureError.noCaptureDevices(searched: V4L2DeviceList.searchPattern).description
                == "no video capture devices found (looked in /dev/video*); is a camera plugged in and is the uvcvideo module loaded?"
        )
    }
}

/// The real seam (`LibV4L2System`: libv4l2 and poll(2)) on ordinary files, since this machine may have no camera:
/// errno capture, error mapping and the empty listing are checked against the real operating system.
@Suite("Capture: libv4l2 system calls without a camera")
struct LibV4L2SystemTests {
    @Test("a file that is not a V4L2 device: libv4l2's open fails (its QUERYCAP says ENOTTY)")
    func notAVideoDevice() {
        let error = CaptureError.notAVideoCaptureDevice(device: "/dev/null", card: "")
        #expect(throws: error) { try V4L2Camera(V4L2CameraConfiguration(device: "/dev/null")) }
        #expect(error.description == "/dev/null is not a video device. `gesturepad devices` lists the cameras.")
        #expect(throws: Errno(rawValue: ENOTTY)) { try LibV4L2System().open("/dev/null").get() }
        #expect(throws: CaptureError.deviceNotFound(device: "/dev/video-gesturepad-test-missing")) {
            try V4L2Camera(V4L2CameraConfiguration(device: "/dev/video-gesturepad-test-missing"))
        }
    }

    @Test("poll(2) on a pipe: timeout, then readable")
    func pollPipe() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer {
            Glibc.close(ends[0])
            Glibc.close(ends[1])
        }
        let system = LibV4L2System()
        #expect(try system.poll(ends[0], timeoutMilliseconds: 1).get() == [])
        var byte: UInt8 = 1
        #expect(write(ends[1], &byte, 1) == 1)
        #expect(try system.poll(ends[0], timeoutMilliseconds: 1000).get().contains(.readable))
        #expect(throws: Errno(rawValue: EBADF)) { try system.close(-1).get() }
    }

    @Test("listing on this machine: only real capture devices (none without a camera)")
    func realListing() {
        let devices = V4L2DeviceList.scan()
        let nodes = LibV4L2System().directoryEntries("/dev").filter { $0.hasPrefix("video") }
        if nodes.isEmpty { #expect(devices.isEmpty) }
        for device in devices { #expect(device.path.hasPrefix("/dev/video")) }
    }
}
