// The streaming half of a V4L2 camera: the mmap'ed buffer ring, in the call order of v4l-utils'
// v4l2grab.c — REQBUFS(count, MMAP) → QUERYBUF + mmap each → QBUF each → STREAMON, and
// STREAMOFF → munmap each → close at the end. Invariants: every buffer index we hand to QBUF
// came from the driver and is below `mappings.count`; `close` runs at most once (also from deinit)
// and never throws. Not thread-safe: one thread streams (the capture thread).
internal import CV4L2

/// The frame layout S_FMT agreed on.
struct V4L2FrameLayout: Equatable {
    let width: Int
    let height: Int
    let fourCC: V4L2FourCC
    let pixelFormat: PixelFormat
    /// Bytes per row (0 for compressed formats).
    let bytesPerLine: Int
    /// The driver's `sizeimage`: the largest frame it will write.
    let frameByteCount: Int

    /// Fewest bytes a complete uncompressed frame occupies (1 for compressed formats).
    var minimumFrameBytes: Int {
        switch pixelFormat {
        case .mjpeg: return 1
        case .yuv420, .yuv444: return pixelFormat.frameByteCount(width: width, height: height) ?? 1
        case .yuyv, .rgb24:
            let rowBytes = pixelFormat.frameByteCount(width: width, height: 1) ?? 1
            return bytesPerLine * (height - 1) + rowBytes
        }
    }
}

/// An open, streaming device: descriptor, mapped buffers, layout.
final class V4L2Stream {
    let device: V4L2Device
    let layout: V4L2FrameLayout
    /// The mmap'ed driver buffers, indexed by the driver's buffer index.
    private(set) var mappings: ContiguousArray<UnsafeMutableRawBufferPointer> = []
    private var streaming = false
    private var closed = false

    /// Requests `bufferCount` MMAP buffers, maps and queues them all and starts streaming.
    /// On failure everything done so far is undone, the descriptor included.
    /// The corresponding ioctls are `VIDIOC_REQBUFS`, `VIDIOC_QUERYBUF`, `VIDIOC_QBUF` and `VIDIOC_STREAMON`.
    init(device: V4L2Device, layout: V4L2FrameLayout, bufferCount: Int) throws(CaptureError) {
        self.device = device
        self.layout = layout
        do throws(CaptureError) {
            var request = v4l2_requestbuffers()
            request.count = UInt32(clamping: bufferCount)
            request.type = CV4L2_BUF_TYPE_VIDEO_CAPTURE
            request.memory = CV4L2_MEMORY_MMAP
            try device.call(.requestBuffers, &request)
            guard request.count >= 1, request.count <= CV4L2_VIDEO_MAX_FRAME else {
                throw .invalidDriverAnswer(
                    device: device.path, call: V4L2Request.requestBuffers.name,
                    reason: "\(request.count) buffers granted, expected 1…\(CV4L2_VIDEO_MAX_FRAME)")
            }
            mappings.reserveCapacity(Int(request.count))
            for index in 0..<request.count {
                var buffer = v4l2_buffer()
                buffer.index = index
                buffer.type = CV4L2_BUF_TYPE_VIDEO_CAPTURE
                buffer.memory = CV4L2_MEMORY_MMAP
                try device.call(.queryBuffer, &buffer)
                let length = Int(buffer.length)
                guard buffer.index == index, length >= layout.minimumFrameBytes else {
                    throw .invalidDriverAnswer(
                        device: device.path, call: V4L2Request.queryBuffer.name,
                        reason:
                            "buffer \(index) is \(length) bytes (index \(buffer.index)), a frame needs \(layout.minimumFrameBytes)"
                    )
                }
                switch device.system.mmap(device.descriptor, length: length, offset: Int64(buffer.m.offset)) {
                case .success(let address):
                    mappings.append(UnsafeMutableRawBufferPointer(start: address, count: length))
                case .failure(let errorNumber): throw captureError(device: device.path, call: "mmap", errorNumber)
                }
            }
            for index in mappings.indices { try queue(index) }
            var type = Int32(CV4L2_BUF_TYPE_VIDEO_CAPTURE)
            try device.call(.streamOn, &type)
            streaming = true
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Gives buffer `index` back to the driver. The corresponding ioctl is `VIDIOC_QBUF`.
    func queue(_ index: Int) throws(CaptureError) {
        var buffer = v4l2_buffer()
        buffer.index = UInt32(index)
        buffer.type = CV4L2_BUF_TYPE_VIDEO_CAPTURE
        buffer.memory = CV4L2_MEMORY_MMAP
        try device.call(.queueBuffer, &buffer)
    }

    /// Stops streaming, unmaps the buffers and closes the descriptor; errors are ignored (the device may be gone).
    /// The corresponding calls are `VIDIOC_STREAMOFF`, `v4l2_munmap` and `v4l2_close`. Idempotent.
    func close() {
        guard !closed else { return }
        closed = true
        if streaming {
            var type = Int32(CV4L2_BUF_TYPE_VIDEO_CAPTURE)
            _ = device.attempt(.streamOff, &type)
            streaming = false
        }
        for mapping in mappings {
            if let address = mapping.baseAddress { _ = device.system.munmap(address, length: mapping.count) }
        }
        mappings.removeAll()
        device.close()
    }
}
