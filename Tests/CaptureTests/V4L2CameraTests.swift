// V4L2Camera against FakeV4L2Device (V4L2FakeDevice.swift), which stands in for libv4l2 over the
// uvcvideo driver of a USB webcam, poll(2) and the /dev tree: the real camera code runs unchanged on
// scripted driver answers. Checked: the v4l2grab.c call order, S_FMT/S_PARM verification (a size
// other than asked is used and reported), exact frame bytes/sizes/sequence, newest-frame-wins with
// stale buffers requeued before the consumer runs, EINTR/EAGAIN, corrupt and short frames, ENODEV
// mid-stream → `.deviceLost` → `reopen` with backoff in virtual time, EBUSY/EACCES texts naming the
// call, errno and device, capability checks, exposure controls, and the measured frame rate warning.
import CV4L2
import Glibc
import Testing

@testable import Capture
import SystemSupport

/// A camera on `device` asking for 8×4 YUYV at 30 fps (the fake's native mode).
private func openCamera(_ device: FakeV4L2Device, _ configure: (inout V4L2CameraConfiguration) -> Void = { _ in })
    throws -> V4L2Camera
{
    var configuration = V4L2CameraConfiguration(device: "/dev/video0", width: 8, height: 4, framesPerSecond: 30)
    configure(&configuration)
    return try V4L2Camera(configuration, system: device, clock: device.clock)
}

/// The frame the camera hands out, copied out of the closure.
private struct DeliveredFrame: Equatable {
    var width: Int, height: Int, format: PixelFormat, bytesPerLine: Int, bytes: [UInt8], sequence: UInt64,
        timestamp: UInt64
}

private func nextFrame(_ camera: V4L2Camera, timeoutMilliseconds: Int = 100) throws -> DeliveredFrame? {
    try camera.withNextFrame(timeoutMilliseconds: timeoutMilliseconds) { view in
        DeliveredFrame(
            width: view.width, height: view.height, format: view.format, bytesPerLine: view.bytesPerLine,
            bytes: Array(view.bytes), sequence: view.sequence, timestamp: view.timestampNanoseconds)
    }
}

@Suite("Capture: V4L2 camera on a fake UVC driver")
struct V4L2CameraTests {
    @Test("opens in v4l2grab order, negotiates the native mode and streams a 4-buffer ring")
    func openSequence() throws {
        let device = FakeV4L2Device()
        let camera = try openCamera(device)
        #expect(camera.devicePath == "/dev/video0")
        #expect(camera.sourceDescription == "/dev/video0 (Fake UVC Camera)")
        #expect(camera.capability.driver == "uvcvideo")
        #expect(camera.formats.map(\.fourCC.description) == ["YUYV", "MJPG", "RGB3", "BGR3", "YU12", "YV12"])
        #expect(camera.formats.filter(\.emulated).count == 4)
        let negotiation = camera.negotiation
        #expect(negotiation.width == 8 && negotiation.height == 4 && !negotiation.sizeDiffers)
        #expect(negotiation.pixelFormat == .yuyv && !negotiation.converted && negotiation.nativeFormat == .yuyv)
        #expect(negotiation.framesPerSecond == 30 && negotiation.bytesPerLine == 16 && negotiation.bufferCount == 4)
        #expect(negotiation.summary == "8×4 YUYV at 30 fps (asked 8×4 at 30 fps), 4 buffers")

        // The call order of v4l2grab.c: configure, then REQBUFS → QUERYBUF+mmap each → QBUF each → STREAMON.
        let order = device.callNames.filter { !$0.hasPrefix("VIDIOC_ENUM") }
        #expect(
            order == [
                "open", "VIDIOC_QUERYCAP", "VIDIOC_S_FMT", "VIDIOC_G_PARM", "VIDIOC_S_PARM", "VIDIOC_REQBUFS",
                "VIDIOC_QUERYBUF", "mmap", "VIDIOC_QUERYBUF", "mmap", "VIDIOC_QUERYBUF", "mmap", "VIDIOC_QUERYBUF",
                "mmap",
                "VIDIOC_QBUF", "VIDIOC_QBUF", "VIDIOC_QBUF", "VIDIOC_QBUF", "VIDIOC_STREAMON",
            ])
        #expect(device.queuedCount() == 4)
    }

    @Test("stable names resolve to the node; missing names and bare node names")
    func stableNames() throws {
        let device = FakeV4L2Device()
        let byID = try openCamera(device) { $0.device = "/dev/v4l/by-id/usb-Fake_UVC_Camera_0001-video-index0" }
        #expect(byID.devicePath == "/dev/video0")
        byID.close()
        let bare = try openCamera(device) { $0.device = "video0" }
        #expect(bare.devicePath == "/dev/video0")
        bare.close()
        #expect(throws: CaptureError.deviceNotFound(device: "/dev/v4l/by-id/usb-Other_Camera-video-index0")) {
            try openCamera(device) { $0.device = "/dev/v4l/by-id/usb-Other_Camera-video-index0" }
        }
        #expect(CaptureError.deviceNotFound(device: "/dev/video7").description.contains("gesturepad devices"))
    }

    @Test("S_FMT giving another size than asked: the given size is used, reported and delivered")
    func givenSizeIsUsed() throws {
        let device = FakeV4L2Device()
        device.camera.sizeGivenOverride = (16, 12)
        device.camera.rowPadding = 8
        let camera = try openCamera(device)
        let negotiation = camera.negotiation
        #expect(negotiation.requestedWidth == 8 && negotiation.requestedHeight == 4)
        #expect(negotiation.width == 16 && negotiation.height == 12 && negotiation.sizeDiffers)
        #expect(negotiation.bytesPerLine == 40)  // 16 · 2 + 8 bytes of padding per row
        // S_PARM snapped to the nearest interval listed for 16×12 YUYV.
        #expect(negotiation.framesPerSecond == 10)
        #expect(negotiation.summary == "16×12 YUYV at 10 fps (asked 8×4 at 30 fps), 4 buffers")
        let bytes = (0..<(40 * 12)).map { UInt8(truncatingIfNeeded: $0 * 7) }
        device.capture(bytes, at: 5_000_000_000)
        let frame = try #require(try nextFrame(camera))
        #expect(
            frame
                == DeliveredFrame(
                    width: 16, height: 12, format: .yuyv, bytesPerLine: 40, bytes: bytes, sequence: 0,
                    timestamp: 5_000_000_000))
    }

    @Test("size choice: exact native size, else the smallest covering, preferring a size that reaches the rate")
    func sizeChoice() throws {
        let device = FakeV4L2Device()
        let covering = try openCamera(device) {
            $0.width = 10
            $0.height = 6
            $0.framesPerSecond = 5
        }
        #expect(covering.negotiation.width == 16 && covering.negotiation.height == 12)
        #expect(covering.negotiation.nativeMaximumFramesPerSecond == 10)
        covering.close()
        // RGB24 is emulated: libv4lconvert feeds it from YUYV or MJPEG; at 32×24 only MJPEG reaches 30 fps.
        let converted = try openCamera(device) {
            $0.width = 32
            $0.height = 24
            $0.pixelFormat = .rgb24
        }
        #expect(converted.negotiation.converted && converted.negotiation.nativeFormat == .mjpeg)
        #expect(converted.negotiation.pixelFormat == .rgb24 && converted.negotiation.bytesPerLine == 96)
        #expect(device.calls.contains("VIDIOC_S_FMT RGB3 32x24"))
    }

    @Test("delivers the exact bytes of a YUYV frame with its sequence and timestamp")
    func deliversFrames() throws {
        let device = FakeV4L2Device()
        let camera = try openCamera(device)
        for seed in 0..<6 {
            let bytes = yuyvFrame(width: 8, height: 4, seed: UInt8(seed))
            device.capture(bytes, at: 1_000_000_000 + UInt64(seed) * 33_333_000)
            let frame = try #require(try nextFrame(camera))
            #expect(
                frame
                    == DeliveredFrame(
                        width: 8, height: 4, format: .yuyv, bytesPerLine: 16, bytes: bytes,
                        sequence: UInt64(seed), timestamp: 1_000_000_000 + UInt64(seed) * 33_333_000))
            #expect(device.queuedCount() == 4)  // requeued after the closure
        }
        #expect(camera.statistics.framesDelivered == 6 && camera.statistics.staleFramesDropped == 0)
    }

    @Test("several frames ready: the newest wins, stale buffers are requeued before the consumer runs")
    func newestFrameWins() throws {
        let device = FakeV4L2Device()
        let camera = try openCamera(device)
        let frames = (0..<3).map { yuyvFrame(width: 8, height: 4, seed: UInt8(10 * $0)) }
        for (index, frame) in frames.enumerated() {
            device.capture(frame, at: 2_000_000_000 + UInt64(index) * 33_000_000)
        }
        #expect(device.queuedCount() == 1)
        let queuedDuringBody = try camera.withNextFrame(timeoutMilliseconds: 100) { view -> (Int, [UInt8], UInt64) in
            (device.queuedCount(), Array(view.bytes), view.sequence)
        }
        let (queued, bytes, sequence) = try #require(queuedDuringBody)
        #expect(bytes == frames[2] && sequence == 2)
        #expect(queued == 3)  // the two stale buffers went back before the closure; the newest is held
        #expect(device.queuedCount() == 4)
        #expect(camera.statistics.staleFramesDropped == 2)
        // DQBUF 0, poll, DQBUF 1, QBUF 0 (stale), poll, DQBUF 2, QBUF 1 (stale), poll: nothing ready, closure, QBUF 2.
        // No DQBUF ends in EAGAIN (libv4l2 would print it).
        let lastPoll = try #require(device.calls.lastIndex(of: "poll 100"))
        #expect(
            Array(device.calls[lastPoll...]) == [
                "poll 100", "VIDIOC_DQBUF 0", "poll 0", "VIDIOC_DQBUF 1", "VIDIOC_QBUF 0",
                "poll 0", "VIDIOC_DQBUF 2", "VIDIOC_QBUF 1", "poll 0", "VIDIOC_QBUF 2",
            ])
        #expect(device.libraryStandardError.isEmpty)
    }

    @Test(
        "a healthy stream makes libv4l2 print nothing: no DQBUF ever ends in EAGAIN",
        arguments: [PixelFormat.yuyv, .rgb24])
    func steadyStreamIsSilent(format: PixelFormat) throws {
        let device = FakeV4L2Device()
        let camera = try openCamera(device) { $0.pixelFormat = format }
        // One frame per call, then bursts of 1–3 ready frames (a consumer slower than the camera).
        let frameBytes = format.frameByteCount(width: 8, height: 4)!
        for round in 0..<30 {
            for burst in 0...(round % 3) {
                device.capture(
                    [UInt8](repeating: UInt8(round), count: frameBytes),
                    at: 1_000_000_000 + UInt64(round * 3 + burst) * 33_000_000)
            }
            #expect(try nextFrame(camera) != nil)
        }
        #expect(camera.statistics.framesDelivered == 30 && camera.statistics.staleFramesDropped == 30)
        #expect(device.count("VIDIOC_DQBUF EAGAIN") == 0, "EAGAIN dequeues in steady state")
        #expect(device.libraryStandardError.isEmpty, "libv4l2 would print: \(device.libraryStandardError.prefix(3))")
    }

    @Test("the fake prints what libv4l2 prints: a failed DQBUF without conversion, not EAGAIN while converting")
    func fakeModelsLibraryMessages() throws {
        let device = FakeV4L2Device()
        let camera = try openCamera(device)
        device.capture(yuyvFrame(width: 8, height: 4, seed: 1))
        device.scriptedFailures = ["VIDIOC_DQBUF": [EAGAIN]]  // a spurious wake-up
        #expect(try nextFrame(camera) != nil)
        #expect(device.libraryStandardError == ["libv4l2: error dequeuing buf: Resource temporarily unavailable"])
        let converting = FakeV4L2Device()
        let rgb = try openCamera(converting) { $0.pixelFormat = .rgb24 }
        converting.capture([UInt8](repeating: 7, count: 8 * 4 * 3))
        converting.scriptedFailures = ["VIDIOC_DQBUF": [EAGAIN]]
        #expect(try nextFrame(rgb) != nil)
        #expect(converting.libraryStandardError.isEmpty)
    }

    @Test("EINTR is retried; a spurious wake-up (EAGAIN) waits on; nothing at all is a frame timeout")
    func interruptsAndTimeouts() throws {
        let device = FakeV4L2Device()
        let camera = try openCamera(device)
        device.capture(yuyvFrame(width: 8, height: 4, seed: 1))
        device.scriptedFailures = ["poll": [EINTR], "VIDIOC_DQBUF": [EINTR, EINTR]]
        #expect(try nextFrame(camera)?.sequence == 0)

        // poll says readable but DQBUF says EAGAIN (a spurious wake-up): poll again, then the frame comes.
        device.capture(yuyvFrame(width: 8, height: 4, seed: 2))
        device.scriptedFailures = ["VIDIOC_DQBUF": [EAGAIN]]
        let pollsBefore = device.count("poll 100")
        #expect(try nextFrame(camera)?.sequence == 1)
        #expect(device.count("poll 100") - pollsBefore == 2)

        // Nothing at all: a timeout after exactly the time asked (virtual clock).
        let start = device.clock.nowNanoseconds
        #expect(throws: CaptureError.frameTimeout(device: "/dev/video0", milliseconds: 250)) {
            try nextFrame(camera, timeoutMilliseconds: 250)
        }
        #expect(device.clock.nowNanoseconds - start == 250_000_000)
        #expect(CaptureError.frameTimeout(device: "/dev/video0", milliseconds: 250).isTransientCameraFault)
    }

    @Test("corrupt (V4L2_BUF_FLAG_ERROR) and short frames are dropped and requeued")
    func corruptFrames() throws {
        let device = FakeV4L2Device()
        let camera = try openCamera(device)
        let good = yuyvFrame(width: 8, height: 4, seed: 3)
        device.capture(good, flags: CV4L2_BUF_FLAG_ERROR)
        device.capture(Array(good.prefix(20)))  // 20 of 64 bytes: a short frame
        #expect(throws: CaptureError.self) { try nextFrame(camera, timeoutMilliseconds: 10) }
        #expect(device.queuedCount() == 4)
        device.capture(good)
        let frame = try #require(try nextFrame(camera))
        #expect(frame.bytes == good && frame.sequence == 2)
        #expect(camera.statistics.corruptFramesDropped == 2)
    }

    @Test("ENODEV mid-stream: .deviceLost naming the ioctl, errno and device; the camera releases everything")
    func deviceLost() throws {
        let device = FakeV4L2Device()
        let camera = try openCamera(device)
        device.capture(yuyvFrame(width: 8, height: 4, seed: 0))
        _ = try nextFrame(camera)
        device.capture(yuyvFrame(width: 8, height: 4, seed: 1))
        device.unplug()
        let lost = CaptureError.deviceLost(
            device: "/dev/video0", call: "VIDIOC_DQBUF", errorNumber: Errno(rawValue: ENODEV))
        // poll reports POLLERR|POLLHUP; DQBUF says ENODEV.
        #expect(throws: lost) { try nextFrame(camera) }
        #expect(
            lost.description == "lost /dev/video0 (VIDIOC_DQBUF: ENODEV, No such device): the camera was unplugged, "
                + "suspended or reset; it can be reopened once it is back.")
        #expect(lost.isTransientCameraFault)
        #expect(!camera.isOpen && device.openDescriptorCount == 0 && device.count("munmap") == 4)
        #expect(throws: lost) { try nextFrame(camera) }  // until reopened
    }

    @Test("EIO from QBUF after the frame was delivered: the frame counts, the fault comes with the next call")
    func faultAfterDelivery() throws {
        let device = FakeV4L2Device()
        let camera = try openCamera(device)
        device.capture(yuyvFrame(width: 8, height: 4, seed: 0))
        device.scriptedFailures = ["VIDIOC_QBUF": [EIO]]
        #expect(try nextFrame(camera)?.sequence == 0)
        #expect(
            throws: CaptureError.deviceLost(
                device: "/dev/video0", call: "VIDIOC_QBUF", errorNumber: Errno(rawValue: EIO))
        ) {
            try nextFrame(camera)
        }
    }

    @Test("reopen after an unplug: backoff in virtual time, a fresh stream, sequence restarts")
    func reopenWithBackoff() throws {
        let device = FakeV4L2Device()
        let camera = try openCamera(device) { $0.device = "/dev/v4l/by-id/usb-Fake_UVC_Camera_0001-video-index0" }
        device.unplug()
        device.links["/dev/v4l/by-id/usb-Fake_UVC_Camera_0001-video-index0"] = "/dev/video2"  // back as video2
        var polls = 0
        let start = device.clock.nowNanoseconds
        let attempts = try camera.reopen(
            policy: V4L2ReconnectPolicy(initialDelay: .milliseconds(100), factor: 2, maximumDelay: .milliseconds(300))
        ) {
            polls += 1
            if polls == 4 { device.nodes["/dev/video2"] = FakeV4L2Device.camera() }  // plugged in again
            return true
        }
        #expect(attempts == 5)
        // Waits after failures 1…4: 100, 200, 300 (capped), 300 ms.
        #expect(device.clock.sleepDeadlines.map { $0 - start } == [100_000_000, 300_000_000, 600_000_000, 900_000_000])
        #expect(camera.devicePath == "/dev/video2" && camera.isOpen && camera.statistics.reopenCount == 1)
        device.capture(yuyvFrame(width: 8, height: 4, seed: 5), path: "/dev/video2")
        #expect(try nextFrame(camera)?.sequence == 0)
    }

    @Test("reopen gives up: attempt limit, shouldContinue false, and errors waiting cannot cure")
    func reopenGivesUp() throws {
        let device = FakeV4L2Device()
        let camera = try openCamera(device)
        device.unplug()
        let missing = CaptureError.deviceNotFound(device: "/dev/video0")
        #expect(throws: missing) { try camera.reopen(policy: V4L2ReconnectPolicy(maximumAttempts: 3)) }
        #expect(device.clock.sleepDeadlines.count == 2)
        #expect(throws: missing) { try camera.reopen { false } }
        #expect(device.clock.sleepDeadlines.count == 2)
        // Permission problems need the user: no retry.
        device.nodes["/dev/video0"] = FakeV4L2Device.camera()
        device.scriptedFailures = ["open": [EACCES]]
        #expect(
            throws: CaptureError.permissionDenied(
                device: "/dev/video0", call: "open", errorNumber: Errno(rawValue: EACCES))
        ) {
            try camera.reopen()
        }
        #expect(device.clock.sleepDeadlines.count == 2)
    }

    @Test("EBUSY and EACCES on open, EBUSY on S_FMT: errors say who to suspect and what to do")
    func busyAndPermission() throws {
        let device = FakeV4L2Device()
        device.scriptedFailures = ["open": [EBUSY]]
        let busy = CaptureError.deviceBusy(device: "/dev/video0", call: "open")
        #expect(throws: busy) { try openCamera(device) }
        #expect(
            busy.description
                == "/dev/video0 is busy (open: EBUSY, Device or resource busy): another program — a video call, "
                + "a browser tab or a running gesturepad daemon — holds the camera; `fuser /dev/video0` shows which.")

        device.scriptedFailures = ["open": [EACCES]]
        let denied = CaptureError.permissionDenied(
            device: "/dev/video0", call: "open", errorNumber: Errno(rawValue: EACCES))
        #expect(throws: denied) { try openCamera(device) }
        #expect(
            denied.description
                == "no permission to use /dev/video0 (open: EACCES, Permission denied). Add your user to the "
                + "`video` group: `sudo usermod -aG video $USER`, then log in again.")

        // uvcvideo lets a second program open the node but not set the format while the first streams.
        let first = try openCamera(device)
        #expect(throws: CaptureError.deviceBusy(device: "/dev/video0", call: "VIDIOC_S_FMT")) { try openCamera(device) }
        #expect(device.openDescriptorCount == 1)  // the failed open closed its descriptor
        first.close()
    }

    @Test("any other failure names the ioctl, errno and device, and undoes what was set up")
    func otherFailures() throws {
        let device = FakeV4L2Device()
        device.scriptedFailures = ["VIDIOC_STREAMON": [ENOSPC]]
        let error = CaptureError.systemCallFailed(
            device: "/dev/video0", call: "VIDIOC_STREAMON", errorNumber: Errno(rawValue: ENOSPC))
        #expect(throws: error) { try openCamera(device) }
        #expect(error.description == "VIDIOC_STREAMON failed on /dev/video0: ENOSPC, No space left on device.")
        #expect(device.count("munmap") == 4 && device.openDescriptorCount == 0)

        device.scriptedFailures = ["mmap": [ENOMEM]]
        #expect(
            throws: CaptureError.systemCallFailed(
                device: "/dev/video0", call: "mmap", errorNumber: Errno(rawValue: ENOMEM))
        ) {
            try openCamera(device)
        }
        #expect(device.openDescriptorCount == 0)
    }

    @Test("capability checks: a metadata node, a device without streaming I/O")
    func capabilityChecks() throws {
        let device = FakeV4L2Device()
        let metadata = CaptureError.notAVideoCaptureDevice(device: "/dev/video1", card: "Fake UVC Camera")
        #expect(throws: metadata) { try openCamera(device) { $0.device = "/dev/video1" } }
        #expect(metadata.description.contains("metadata node"))
        device.camera.deviceCapabilities = CV4L2_CAP_VIDEO_CAPTURE | CV4L2_CAP_READWRITE
        #expect(throws: CaptureError.streamingUnsupported(device: "/dev/video0", card: "Fake UVC Camera")) {
            try openCamera(device)
        }
        #expect(device.openDescriptorCount == 0)
    }

    @Test("a format the device cannot deliver, natively or through libv4lconvert")
    func formatUnavailable() throws {
        let device = FakeV4L2Device()
        device.camera.formats.removeFirst()  // an MJPEG-only camera: no YUYV
        let error = CaptureError.pixelFormatUnavailable(
            device: "/dev/video0", requested: "yuyv",
            offered: ["MJPG", "RGB3", "BGR3", "YU12", "YV12"])
        #expect(throws: error) { try openCamera(device) }
        #expect(error.description.contains("offers MJPG, RGB3, BGR3, YU12, YV12"))
        // RGB24 still works, converted from MJPEG.
        let camera = try openCamera(device) { $0.pixelFormat = .rgb24 }
        #expect(camera.negotiation.converted && camera.negotiation.nativeFormat == .mjpeg)
    }

    @Test("impossible driver answers are errors, never crashes")
    func invalidDriverAnswers() throws {
        let device = FakeV4L2Device()
        device.camera.grantedBufferCountOverride = 0
        #expect(
            throws: CaptureError.invalidDriverAnswer(
                device: "/dev/video0", call: "VIDIOC_REQBUFS",
                reason: "0 buffers granted, expected 1…32")
        ) { try openCamera(device) }
        device.camera.grantedBufferCountOverride = nil
        device.camera.bufferLengthOverride = 10
        #expect(throws: CaptureError.self) { try openCamera(device) }
        device.camera.bufferLengthOverride = nil
        #expect(device.openDescriptorCount == 0)

        let camera = try openCamera(device)
        device.camera.dequeuedIndexOverride = 99
        device.capture(yuyvFrame(width: 8, height: 4, seed: 0))
        #expect(
            throws: CaptureError.invalidDriverAnswer(
                device: "/dev/video0", call: "VIDIOC_DQBUF",
                reason: "buffer index 99 but only 4 buffers")
        ) { try nextFrame(camera) }
    }

    @Test("close is idempotent (and runs on deinit); a closed camera says so")
    func closeTwice() throws {
        let device = FakeV4L2Device()
        let camera = try openCamera(device)
        camera.close()
        camera.close()
        #expect(device.count("VIDIOC_STREAMOFF") == 1 && device.count("munmap") == 4 && device.count("close") == 1)
        #expect(throws: CaptureError.sourceClosed(source: "/dev/video0 (Fake UVC Camera)")) { try nextFrame(camera) }
        do { _ = try openCamera(device) }
        #expect(device.count("VIDIOC_STREAMOFF") == 2 && device.openDescriptorCount == 0)
    }

    @Test("measured frame rate over ~2 s; warning below 70 % of the negotiated rate")
    func frameRateWarning() throws {
        let device = FakeV4L2Device()
        let camera = try openCamera(device)
        #expect(camera.measuredFramesPerSecond == nil && camera.frameRateWarning == nil)
        var time: UInt64 = 10_000_000_000
        // 30 fps for 2 s: no warning.
        for _ in 0..<60 {
            device.capture(yuyvFrame(width: 8, height: 4, seed: 0), at: time)
            _ = try nextFrame(camera)
            time += 33_333_333
        }
        #expect(abs(try #require(camera.measuredFramesPerSecond) - 30) < 0.01)
        #expect(camera.frameRateWarning == nil)
        // Dim light: auto exposure stretches frames to 1/15 s.
        for _ in 0..<40 {
            device.capture(yuyvFrame(width: 8, height: 4, seed: 0), at: time)
            _ = try nextFrame(camera)
            time += 66_666_667
        }
        let warning = try #require(camera.frameRateWarning)
        #expect(abs(warning.measuredFramesPerSecond - 15) < 0.01 && warning.expectedFramesPerSecond == 30)
        #expect(warning.description.hasPrefix("the camera delivers 15.0 fps, expected 30.0 fps"))
        // What a consumer (the daemon's log) sees through FrameSource.
        #expect(camera.deliveryWarning == warning.description)
        #expect(camera.formatSummary == "8×4 YUYV at 30 fps (asked 8×4 at 30 fps), 4 buffers")
    }

    @Test("framesCaptured counts every frame the camera delivered: taken, skipped for a newer one, corrupt")
    func capturedCountsFramesTheConsumerNeverSaw() throws {
        let device = FakeV4L2Device()
        let camera = try openCamera(device)
        var taken = 0
        // A consumer at a third of the camera's rate: three frames ready per call, the newest wins.
        for round in 0..<10 {
            for burst in 0..<3 {
                device.capture(
                    yuyvFrame(width: 8, height: 4, seed: UInt8(burst)),
                    at: 1_000_000_000 + UInt64(round * 3 + burst) * 33_000_000)
            }
            if try nextFrame(camera) != nil { taken += 1 }
        }
        device.capture(yuyvFrame(width: 8, height: 4, seed: 0), flags: CV4L2_BUF_FLAG_ERROR)
        device.capture(yuyvFrame(width: 8, height: 4, seed: 1))
        if try nextFrame(camera) != nil { taken += 1 }
        #expect(taken == 11)
        #expect(camera.framesCaptured == 32 && camera.statistics.framesDelivered == 11)
        #expect(camera.statistics.staleFramesDropped == 20 && camera.statistics.corruptFramesDropped == 1)
    }

    @Test("frame rate meter: window, ring wrap, clock reset")
    func frameRateMeter() {
        var meter = V4L2FrameRateMeter(windowNanoseconds: 1_000_000_000, capacity: 8)
        for index in 0..<20 { meter.record(timestampNanoseconds: UInt64(index) * 100_000_000) }
        // Only 8 remembered: 7 intervals of 0.1 s.
        #expect(meter.window.frames == 8 && abs(meter.framesPerSecond! - 10) < 1e-9)
        meter.record(timestampNanoseconds: 5)  // backwards: restart
        #expect(meter.framesPerSecond == nil)
        #expect(V4L2FrameRateWarning.check(meter, expectedFramesPerSecond: 30) == nil)
    }

    @Test("exposure: manual clamps to the range; automatic uses aperture priority (UVC rejects 0) and keeps the rate")
    func exposure() throws {
        let device = FakeV4L2Device()
        let camera = try openCamera(device) { $0.exposure = .manual(hundredMicroseconds: 5000) }
        #expect(device.camera.controls[CV4L2_CID_EXPOSURE_AUTO]?.value == CV4L2_EXPOSURE_MANUAL)
        #expect(device.camera.controls[CV4L2_CID_EXPOSURE_ABSOLUTE]?.value == 2047)
        #expect(
            try camera.exposureState()
                == V4L2ExposureState(automatic: false, hundredMicroseconds: 2047, frameRateMayDrop: true))

        try camera.setExposure(.automatic(allowFrameRateDrop: false))
        #expect(device.camera.controls[CV4L2_CID_EXPOSURE_AUTO]?.value == CV4L2_EXPOSURE_APERTURE_PRIORITY)
        #expect(try camera.exposureState().frameRateMayDrop == false)

        // A camera whose menu has only AUTO (0): the fallback.
        device.camera.controls[CV4L2_CID_EXPOSURE_AUTO] = FakeControl(
            minimum: 0, maximum: 3, value: 1, rejectedValues: [2, 3])
        try camera.setExposure(.automatic(allowFrameRateDrop: true))
        #expect(device.camera.controls[CV4L2_CID_EXPOSURE_AUTO]?.value == CV4L2_EXPOSURE_AUTO)

        // EACCES/EBUSY from a control are not group or ownership problems.
        device.scriptedFailures = ["VIDIOC_S_CTRL": [EACCES, EBUSY]]
        #expect(
            throws: CaptureError.systemCallFailed(
                device: "/dev/video0", call: "VIDIOC_S_CTRL", errorNumber: Errno(rawValue: EACCES))
        ) {
            try camera.setExposure(.manual(hundredMicroseconds: 100))
        }
        #expect(
            throws: CaptureError.systemCallFailed(
                device: "/dev/video0", call: "VIDIOC_S_CTRL", errorNumber: Errno(rawValue: EBUSY))
        ) {
            try camera.setExposure(.manual(hundredMicroseconds: 100))
        }

        device.camera.controls = [:]
        #expect(
            throws: CaptureError.controlUnsupported(
                device: "/dev/video0", control: "exposure time (V4L2_CID_EXPOSURE_ABSOLUTE)")
        ) {
            try camera.setExposure(.manual(hundredMicroseconds: 100))
        }
        #expect(try camera.exposureState() == V4L2ExposureState())
    }

    @Test("reconnect policy: exponential, capped")
    func reconnectPolicy() {
        let policy = V4L2ReconnectPolicy()
        #expect(
            (1...7).map { policy.delay(afterFailures: $0) }
                == [
                    .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(5),
                    .seconds(5),
                ])
        let flat = V4L2ReconnectPolicy(initialDelay: .milliseconds(40), factor: 1, maximumDelay: .seconds(1))
        #expect(flat.delay(afterFailures: 50) == .milliseconds(40))
        #expect(V4L2ReconnectPolicy(factor: 1.5).delay(afterFailures: 3) == .nanoseconds(562_500_000))
    }

    @Test("errno names and texts, fourcc codes")
    func smallValues() {
        #expect(Errno(rawValue: EBUSY).summary == "EBUSY, Device or resource busy")
        #expect(Errno(rawValue: 9999).name == "errno 9999")
        #expect(V4L2FourCC("YUYV") == .yuyv && V4L2FourCC.mjpeg.description == "MJPG" && V4L2FourCC("YUY") == nil)
        #expect(V4L2FourCC(rawValue: 0x0102_0304).description == "0x1020304")
        #expect(V4L2FourCC.rgb24.pixelFormat == .rgb24 && V4L2FourCC(.yuv444) == nil)
        let sizes = V4L2FrameSizes.stepwise(
            minimumWidth: 16, minimumHeight: 16, maximumWidth: 1920, maximumHeight: 1080,
            widthStep: 8, heightStep: 8)
        #expect(sizes.closest(width: 643, height: 2000)! == (640, 1080))
    }
}

#if canImport(CHeapStats)
    import CHeapStats
    import Foundation

    /// glibc's heap counters are process-wide, so concurrent tests disturb them: like the embedder's test, this runs only
    /// in a process of its own (GESTUREPAD_ISOLATED_TESTS=1) and needs CaptureTests to depend on CHeapStats.
    @Suite("Capture: V4L2 camera allocations")
    struct V4L2CameraAllocationTests {
        @Test(
            "withNextFrame allocates nothing per frame (glibc heap counters)",
            .enabled(
                if: ProcessInfo.processInfo.environment["GESTUREPAD_ISOLATED_TESTS"] == "1",
                "needs a process of its own: run with --filter V4L2CameraAllocationTests"))
        func noAllocationPerFrame() throws {
            let device = FakeV4L2Device()
            device.logsCalls = false
            let camera = try openCamera(device)
            let frame = yuyvFrame(width: 8, height: 4, seed: 9)
            var time: UInt64 = 1_000_000_000
            func oneFrame() throws {
                device.capture(frame, at: time)
                device.capture(frame, at: time + 1_000_000)  // two ready: one stale, requeued
                time += 33_000_000
                _ = try camera.withNextFrame(timeoutMilliseconds: 10) { view in view.bytes.count + Int(view.sequence) }
            }
            var deltas: [Int] = []
            for _ in 0..<10 {
                for _ in 0..<8 { try oneFrame() }  // warm: arrays in the fake and the meter reach their capacity
                let before = gp_heap_bytes_in_use()
                for _ in 0..<100 { try oneFrame() }
                let after = gp_heap_bytes_in_use()
                deltas.append(Int(after) - Int(before))
                if deltas.last == 0 { break }
            }
            #expect(deltas.contains(0), "heap grew by \(deltas) bytes over 100 frames")
        }
    }
#endif
