// FakeV4L2Device: what the fake stands in for. It replaces everything below the `V4L2System` seam —
// libv4l2 (v4l2_open/ioctl/mmap/munmap/close) on top of the uvcvideo kernel driver of a USB webcam,
// poll(2), and the /dev directory with its udev-made /dev/v4l/by-id and by-path symlinks. It scripts
// the answers a real UVC camera gives through libv4l2: QUERYCAP with device_caps (and a metadata
// node without VIDEO_CAPTURE), native YUYV and MJPEG formats plus the RGB3/BGR3/YU12/YV12 formats
// libv4lconvert emulates (flagged EMULATED), discrete sizes and intervals, S_FMT snapping to the
// nearest supported size (or to a scripted different one), S_PARM snapping to a listed interval,
// REQBUFS/QUERYBUF/mmap backed by memory the fake owns, QBUF/DQBUF with frames the test "captures",
// EAGAIN when nothing is ready, ENODEV after an unplug, and scripted errnos (EBUSY, EACCES, EINTR, …)
// for any call. A v4l2loopback node (`FakeV4L2Device.loopback()`, driver "v4l2 loopback", VIDEO_OUTPUT as with
// exclusive_caps=1 before a writer) takes S_FMT/S_PARM on V4L2_BUF_TYPE_VIDEO_OUTPUT (v4l2loopback 0.12's sizes:
// packed rows width·depth, MJPEG sizeimage w·h·4) and keeps each write(2) as a frame; `nodeStatuses` answers stat(2)
// (by default a root-owned character device of major 81, mode 0660). Time is a `VirtualFrameClock`; a poll that times out advances it by the timeout.
// It also models what libv4l2 itself writes to stderr for a failed DQBUF (`libraryStandardError`):
// without conversion every failure but ENODEV prints "libv4l2: error dequeuing buf: <strerror>"
// (EAGAIN included); while converting an emulated format, EAGAIN is silent (v4l2_dequeue_and_convert).
import CV4L2
import Glibc

@testable import Capture
import SystemSupport

/// A V4L2 control as the driver describes it (QUERYCTRL) with its current value.
struct FakeControl {
    var minimum: Int32
    var maximum: Int32
    var step: Int32 = 1
    var value: Int32
    /// Values inside the range the driver still rejects with EINVAL (UVC's exposure_auto 0 and 2).
    var rejectedValues: Set<Int32> = []
    var flags: UInt32 = 0
}

/// One scripted format: fourcc, flags and discrete sizes with their frame intervals (numerator/denominator seconds).
struct FakeFormat {
    var fourCC: V4L2FourCC
    var name: String
    var compressed = false
    var emulated = false
    var sizes: [(width: Int, height: Int, intervals: [(numerator: UInt32, denominator: UInt32)])]
}

/// One device node: its script and its driver state.
final class FakeV4L2Node {
    // Script
    var driver = "uvcvideo"
    var card = "Fake UVC Camera"
    var busInfo = "usb-0000:00:14.0-1"
    var deviceCapabilities = CV4L2_CAP_VIDEO_CAPTURE | CV4L2_CAP_STREAMING
    var formats: [FakeFormat]
    var controls: [UInt32: FakeControl] = [:]
    /// S_FMT gives this size whatever was asked (a driver adjusting the request).
    var sizeGivenOverride: (width: Int, height: Int)?
    /// Extra bytes per row S_FMT reports (padded rows).
    var rowPadding = 0
    /// REQBUFS grants this many buffers whatever was asked.
    var grantedBufferCountOverride: UInt32?
    /// QUERYBUF reports this length instead of sizeimage.
    var bufferLengthOverride: UInt32?
    /// DQBUF reports this index instead of the real one (a driver bug).
    var dequeuedIndexOverride: UInt32?

    // Driver state
    var format: (fourCC: V4L2FourCC, width: Int, height: Int, bytesPerLine: Int, sizeImage: Int)?
    var interval: (numerator: UInt32, denominator: UInt32) = (1, 30)
    var buffers: [UnsafeMutableRawBufferPointer] = []
    var queued: [Int] = []
    var ready: [(index: Int, bytesUsed: Int, sequence: UInt32, timestampNanoseconds: UInt64, flags: UInt32)] = []
    var streaming = false
    var nextSequence: UInt32 = 0
    /// Frames captured while no buffer was queued (lost by the driver).
    var framesDroppedByDriver = 0

    // v4l2loopback output side
    /// The format a writer set with S_FMT on the output type.
    var outputFormat: (fourCC: V4L2FourCC, width: Int, height: Int, bytesPerLine: Int, sizeImage: Int)?
    /// The output rate set with S_PARM.
    var outputInterval: (numerator: UInt32, denominator: UInt32) = (1, 30)
    /// Every frame written, in order.
    var written: [[UInt8]] = []
    /// The descriptor that called STREAMON on the output (v4l2loopback's writer), nil when none.
    var writerDescriptor: Int32?
    /// Whether QUERYCAP offers VIDEO_OUTPUT: scripted capabilities say so and no writer is attached.
    var loopbackOffersOutput: Bool { deviceCapabilities & CV4L2_CAP_VIDEO_OUTPUT != 0 && writerDescriptor == nil }
    /// S_FMT on the output gives this fourcc whatever was asked (a loopback already carrying another format).
    var outputFourCCOverride: V4L2FourCC?

    init(formats: [FakeFormat]) {
        self.formats = formats
    }

    deinit { freeBuffers() }

    func freeBuffers() {
        for buffer in buffers { buffer.deallocate() }
        buffers = []
        queued = []
        ready = []
    }

    /// The format S_FMT would set for a request (UVC: the nearest listed size of that format).
    func snap(_ fourCC: V4L2FourCC, width: Int, height: Int) -> (FakeFormat, Int, Int)? {
        guard let format = formats.first(where: { $0.fourCC == fourCC }) ?? formats.first else { return nil }
        if let sizeGivenOverride { return (format, sizeGivenOverride.width, sizeGivenOverride.height) }
        let nearest = format.sizes.min {
            abs($0.width * $0.height - width * height) < abs($1.width * $1.height - width * height)
        }
        return (format, nearest?.width ?? width, nearest?.height ?? height)
    }
}

/// The whole fake: device nodes by path, their descriptors, the /dev tree, scripted failures and a call log.
final class FakeV4L2Device: V4L2System {
    let clock: VirtualFrameClock
    /// Device nodes by path ("/dev/video0"); removing one is an unplug.
    var nodes: [String: FakeV4L2Node] = [:]
    /// Symbolic links (path → target), for /dev/v4l/by-id and by-path.
    var links: [String: String] = [:]
    /// Errnos the next calls of a kind return, in order ("open", "poll", "mmap" or an ioctl name such as "VIDIOC_S_FMT").
    var scriptedFailures: [String: [Int32]] = [:]
    /// Paths whose every open fails with this errno (a node owned by root:video, mode 0660: EACCES).
    var openRefusals: [String: Int32] = [:]
    /// What stat(2) answers per path (default: a root-owned video4linux character device, mode 0660).
    var nodeStatuses: [String: V4L2NodeStatus] = [:]
    /// Every call in order, for example "open /dev/video0", "VIDIOC_DQBUF 2", "VIDIOC_DQBUF EAGAIN", "munmap".
    private(set) var calls: [String] = []
    /// Whether `calls` records anything (off for allocation tests: the log itself allocates).
    var logsCalls = true
    /// The lines libv4l2 would have written to stderr (its `V4L2_PERROR` on a failed DQBUF), in order.
    private(set) var libraryStandardError: [String] = []

    private func log(_ entry: @autoclosure () -> String) {
        if logsCalls { calls.append(entry()) }
    }

    private var descriptors: [Int32: String] = [:]
    /// The descriptor of the ioctl being answered.
    private var descriptorInCall: Int32 = -1
    private var nextDescriptor: Int32 = 3
    /// Descriptors that belonged to a node that was unplugged (every call on them: ENODEV).
    private var lostDescriptors: Set<Int32> = []

    /// A machine with one UVC camera at /dev/video0 (plus its metadata node /dev/video1) and stable names.
    init(clock: VirtualFrameClock = VirtualFrameClock()) {
        self.clock = clock
        nodes["/dev/video0"] = Self.camera()
        let metadata = FakeV4L2Node(formats: [])
        metadata.deviceCapabilities = CV4L2_CAP_META_CAPTURE | CV4L2_CAP_STREAMING
        nodes["/dev/video1"] = metadata
        links["/dev/v4l/by-id/usb-Fake_UVC_Camera_0001-video-index0"] = "/dev/video0"
        links["/dev/v4l/by-id/usb-Fake_UVC_Camera_0001-video-index1"] = "/dev/video1"
        links["/dev/v4l/by-path/pci-0000:00:14.0-usb-0:1:1.0-video-index0"] = "/dev/video0"
    }

    /// A small UVC camera: YUYV 8×4 (30/15 fps), 16×12 (10 fps), 32×24 (5 fps); MJPEG at all three sizes at 30 fps;
    /// libv4lconvert's emulated formats; exposure controls like a Logitech C920's.
    static func camera() -> FakeV4L2Node {
        let node = FakeV4L2Node(formats: [
            FakeFormat(
                fourCC: .yuyv, name: "YUYV 4:2:2",
                sizes: [
                    (8, 4, [(1, 30), (1, 15)]), (16, 12, [(1, 10), (1, 5)]), (32, 24, [(1, 5)]),
                ]),
            FakeFormat(
                fourCC: .mjpeg, name: "Motion-JPEG", compressed: true,
                sizes: [
                    (8, 4, [(1, 30)]), (16, 12, [(1, 30)]), (32, 24, [(1, 30)]),
                ]),
            FakeFormat(
                fourCC: .rgb24, name: "RGB3", emulated: true,
                sizes: [(8, 4, [(1, 30)]), (16, 12, [(1, 30)]), (32, 24, [(1, 30)])]),
            FakeFormat(fourCC: V4L2FourCC("BGR3")!, name: "BGR3", emulated: true, sizes: [(8, 4, [(1, 30)])]),
            FakeFormat(fourCC: .yuv420, name: "YU12", emulated: true, sizes: [(8, 4, [(1, 30)])]),
            FakeFormat(fourCC: V4L2FourCC("YV12")!, name: "YV12", emulated: true, sizes: [(8, 4, [(1, 30)])]),
        ])
        node.controls = [
            CV4L2_CID_EXPOSURE_AUTO: FakeControl(minimum: 0, maximum: 3, value: 3, rejectedValues: [0, 2]),
            CV4L2_CID_EXPOSURE_ABSOLUTE: FakeControl(
                minimum: 3, maximum: 2047, value: 250, flags: CV4L2_CTRL_FLAG_INACTIVE),
            CV4L2_CID_EXPOSURE_AUTO_PRIORITY: FakeControl(minimum: 0, maximum: 1, value: 1),
        ]
        return node
    }

    /// A v4l2loopback node as Debian 12's module (0.12.7) with exclusive_caps=1 shows it before a writer: output only.
    static func loopback() -> FakeV4L2Node {
        let node = FakeV4L2Node(formats: [])
        node.driver = "v4l2 loopback"
        node.card = "gesturepad camera"
        node.busInfo = "platform:v4l2loopback-000"
        node.deviceCapabilities = CV4L2_CAP_VIDEO_OUTPUT | CV4L2_CAP_READWRITE | CV4L2_CAP_STREAMING
        return node
    }

    /// The camera node at /dev/video0.
    var camera: FakeV4L2Node { nodes["/dev/video0"]! }

    // MARK: Test controls

    /// The camera captures a frame into the first queued buffer of `path` (dropped when none is queued).
    func capture(
        _ bytes: [UInt8], at timestampNanoseconds: UInt64? = nil, flags: UInt32 = 0, path: String = "/dev/video0"
    ) {
        guard let node = nodes[path] else { return }
        let sequence = node.nextSequence
        node.nextSequence &+= 1
        guard node.streaming, !node.queued.isEmpty else {
            node.framesDroppedByDriver += 1
            return
        }
        let index = node.queued.removeFirst()
        let buffer = node.buffers[index]
        let count = min(bytes.count, buffer.count)
        bytes.withUnsafeBytes { source in buffer.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: count) }
        node.ready.append((index, count, sequence, timestampNanoseconds ?? clock.nowNanoseconds, flags))
    }

    /// Unplugs the camera: the node and its stable names vanish, open descriptors get ENODEV.
    func unplug(_ path: String = "/dev/video0") {
        nodes[path] = nil
        for (descriptor, owner) in descriptors where owner == path { lostDescriptors.insert(descriptor) }
    }

    /// Buffers currently queued to the driver.
    func queuedCount(_ path: String = "/dev/video0") -> Int { nodes[path]?.queued.count ?? 0 }

    /// Open descriptors (leaks show here).
    var openDescriptorCount: Int { descriptors.count }

    /// How many logged calls start with `prefix`.
    func count(_ prefix: String) -> Int { calls.filter { $0.hasPrefix(prefix) }.count }

    /// The logged calls with `prefix` removed from consideration: just the ioctl/call names, in order.
    var callNames: [String] { calls.map { String($0.split(separator: " ").first ?? "") } }

    private func scripted(_ call: String) -> Errno? {
        guard var queue = scriptedFailures[call], !queue.isEmpty else { return nil }
        let errorNumber = queue.removeFirst()
        scriptedFailures[call] = queue
        return Errno(rawValue: errorNumber)
    }

    // MARK: V4L2System

    func open(_ path: String) -> Result<Int32, Errno> {
        log("open \(path)")
        if let failure = scripted("open") { return .failure(failure) }
        if let refusal = openRefusals[path] { return .failure(Errno(rawValue: refusal)) }
        guard nodes[path] != nil else { return .failure(Errno(rawValue: ENOENT)) }
        let descriptor = nextDescriptor
        nextDescriptor += 1
        descriptors[descriptor] = path
        return .success(descriptor)
    }

    func close(_ descriptor: Int32) -> Result<Void, Errno> {
        log("close")
        guard let path = descriptors.removeValue(forKey: descriptor) else { return .failure(Errno(rawValue: EBADF)) }
        lostDescriptors.remove(descriptor)
        for node in nodes.values where node.writerDescriptor == descriptor { node.writerDescriptor = nil }
        if let node = nodes[path], !descriptors.values.contains(path) {
            // The last close releases the buffers, as the kernel does.
            node.streaming = false
            node.freeBuffers()
            node.format = nil
        }
        return .success(())
    }

    func mmap(_ descriptor: Int32, length: Int, offset: Int64) -> Result<UnsafeMutableRawPointer, Errno> {
        log("mmap \(offset / 4096)")
        if let failure = scripted("mmap") { return .failure(failure) }
        guard let node = node(descriptor) else { return .failure(Errno(rawValue: ENODEV)) }
        let index = Int(offset / 4096)
        guard offset % 4096 == 0, index < node.buffers.count, length <= node.buffers[index].count else {
            return .failure(Errno(rawValue: EINVAL))
        }
        return .success(node.buffers[index].baseAddress!)
    }

    func munmap(_ address: UnsafeMutableRawPointer, length: Int) -> Result<Void, Errno> {
        log("munmap")
        return .success(())
    }

    func poll(_ descriptor: Int32, timeoutMilliseconds: Int32) -> Result<V4L2PollEvents, Errno> {
        log("poll \(timeoutMilliseconds)")
        if let failure = scripted("poll") { return .failure(failure) }
        if lostDescriptors.contains(descriptor) { return .success([.error, .hangUp]) }
        guard let node = node(descriptor) else { return .success(.invalid) }
        if !node.ready.isEmpty { return .success(.readable) }
        if !node.streaming { return .success(.error) }
        clock.advance(byNanoseconds: UInt64(max(timeoutMilliseconds, 0)) * 1_000_000)
        return .success([])
    }

    func openOutput(_ path: String) -> Result<Int32, Errno> {
        log("openOutput \(path)")
        if let failure = scripted("openOutput") { return .failure(failure) }
        if let refusal = openRefusals[path] { return .failure(Errno(rawValue: refusal)) }
        guard nodes[path] != nil else { return .failure(Errno(rawValue: ENOENT)) }
        let descriptor = nextDescriptor
        nextDescriptor += 1
        descriptors[descriptor] = path
        return .success(descriptor)
    }

    func write(_ descriptor: Int32, bytes: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        log("write \(bytes.count)")
        if let failure = scripted("write") { return .failure(failure) }
        if lostDescriptors.contains(descriptor) { return .failure(Errno(rawValue: ENODEV)) }
        guard let node = node(descriptor) else { return .failure(Errno(rawValue: EBADF)) }
        // v4l2loopback 0.12: write() needs a format and copies at most sizeimage bytes into the next buffer.
        guard let format = node.outputFormat else { return .failure(Errno(rawValue: EINVAL)) }
        let count = min(bytes.count, format.sizeImage)
        node.written.append(Array(bytes[0..<count]))
        return .success(count)
    }

    func nodeStatus(_ path: String) -> Result<V4L2NodeStatus, Errno> {
        log("stat \(path)")
        if let status = nodeStatuses[path] { return .success(status) }
        guard nodes[path] != nil else { return .failure(Errno(rawValue: ENOENT)) }
        return .success(V4L2NodeStatus(isCharacterDevice: true, owner: 0, mode: 0o660, major: 81, minor: 0))
    }

    func directoryEntries(_ path: String) -> [String] {
        var names: Set<String> = []
        for candidate in Array(nodes.keys) + Array(links.keys) {
            guard candidate.hasPrefix(path + "/") else { continue }
            let rest = candidate.dropFirst(path.count + 1)
            if let first = rest.split(separator: "/").first { names.insert(String(first)) }
        }
        return Array(names)
    }

    func resolveSymbolicLinks(_ path: String) -> String? {
        var current = path
        for _ in 0..<8 {
            if let target = links[current] {
                current = target
                continue
            }
            return nodes[current] != nil ? current : nil
        }
        return nil
    }

    private func node(_ descriptor: Int32) -> FakeV4L2Node? {
        descriptors[descriptor].flatMap { nodes[$0] }
    }

    // MARK: ioctl

    static let requestNames: [UInt: String] = [
        CV4L2_VIDIOC_QUERYCAP: "VIDIOC_QUERYCAP", CV4L2_VIDIOC_ENUM_FMT: "VIDIOC_ENUM_FMT",
        CV4L2_VIDIOC_ENUM_FRAMESIZES: "VIDIOC_ENUM_FRAMESIZES",
        CV4L2_VIDIOC_ENUM_FRAMEINTERVALS: "VIDIOC_ENUM_FRAMEINTERVALS",
        CV4L2_VIDIOC_G_FMT: "VIDIOC_G_FMT", CV4L2_VIDIOC_S_FMT: "VIDIOC_S_FMT", CV4L2_VIDIOC_G_PARM: "VIDIOC_G_PARM",
        CV4L2_VIDIOC_S_PARM: "VIDIOC_S_PARM", CV4L2_VIDIOC_REQBUFS: "VIDIOC_REQBUFS",
        CV4L2_VIDIOC_QUERYBUF: "VIDIOC_QUERYBUF",
        CV4L2_VIDIOC_QBUF: "VIDIOC_QBUF", CV4L2_VIDIOC_DQBUF: "VIDIOC_DQBUF", CV4L2_VIDIOC_STREAMON: "VIDIOC_STREAMON",
        CV4L2_VIDIOC_STREAMOFF: "VIDIOC_STREAMOFF", CV4L2_VIDIOC_G_CTRL: "VIDIOC_G_CTRL",
        CV4L2_VIDIOC_S_CTRL: "VIDIOC_S_CTRL",
        CV4L2_VIDIOC_QUERYCTRL: "VIDIOC_QUERYCTRL",
    ]

    func ioctl(_ descriptor: Int32, request: UInt, argument: UnsafeMutableRawPointer) -> Result<Void, Errno> {
        let name = Self.requestNames[request] ?? "ioctl 0x\(String(request, radix: 16))"
        descriptorInCall = descriptor
        var detail = ""
        defer { log(detail.isEmpty ? name : "\(name) \(detail)") }
        let outcome: Result<Void, Errno>
        if let failure = scripted(name) {
            detail = failure.name
            outcome = .failure(failure)
        } else if lostDescriptors.contains(descriptor) {
            detail = "ENODEV"
            outcome = .failure(Errno(rawValue: ENODEV))
        } else if let node = node(descriptor) {
            outcome = answer(node, request, argument, &detail)
            if case .failure(let errorNumber) = outcome, detail.isEmpty { detail = errorNumber.name }
        } else {
            detail = "EBADF"
            outcome = .failure(Errno(rawValue: EBADF))
        }
        if request == CV4L2_VIDIOC_DQBUF, case .failure(let errorNumber) = outcome {
            libraryReportsDequeueFailure(errorNumber, descriptor: descriptor)
        }
        return outcome
    }

    /// libv4l2's `v4l2_ioctl` for VIDIOC_DQBUF: without conversion a failure goes through
    /// `V4L2_PERROR("dequeuing buf")` (silent only for ENODEV); with conversion, `v4l2_dequeue_and_convert`
    /// prints every failure except EAGAIN.
    private func libraryReportsDequeueFailure(_ errorNumber: Errno, descriptor: Int32) {
        guard errorNumber.rawValue != ENODEV else { return }
        let converting =
            node(descriptor).map { node in
                node.formats.first { $0.fourCC == node.format?.fourCC }?.emulated ?? false
            } ?? false
        if converting && errorNumber.rawValue == EAGAIN { return }
        libraryStandardError.append("libv4l2: error dequeuing buf: \(String(cString: strerror(errorNumber.rawValue)))")
    }

    /// Writes a node's current format into a G_FMT/S_FMT answer, as a driver does.
    private static func answer(
        _ format: UnsafeMutablePointer<v4l2_format>,
        with current: (fourCC: V4L2FourCC, width: Int, height: Int, bytesPerLine: Int, sizeImage: Int)
    ) {
        format.pointee.fmt.pix.width = UInt32(current.width)
        format.pointee.fmt.pix.height = UInt32(current.height)
        format.pointee.fmt.pix.pixelformat = current.fourCC.rawValue
        format.pointee.fmt.pix.field = CV4L2_FIELD_NONE
        format.pointee.fmt.pix.bytesperline = UInt32(current.bytesPerLine)
        format.pointee.fmt.pix.sizeimage = UInt32(current.sizeImage)
    }

    private func answer(
        _ node: FakeV4L2Node, _ request: UInt, _ argument: UnsafeMutableRawPointer,
        _ detail: inout String
    ) -> Result<Void, Errno> {
        let invalid = Result<Void, Errno>.failure(Errno(rawValue: EINVAL))
        // S_FMT/G_FMT (v4l2_format), S_PARM (v4l2_streamparm) and STREAMON (the type itself) start with the buffer type.
        let typedRequests = [CV4L2_VIDIOC_S_FMT, CV4L2_VIDIOC_G_FMT, CV4L2_VIDIOC_S_PARM, CV4L2_VIDIOC_STREAMON]
        let outputType =
            typedRequests.contains(request) && argument.load(as: UInt32.self) == CV4L2_BUF_TYPE_VIDEO_OUTPUT
        switch request {
        case CV4L2_VIDIOC_QUERYCAP:
            let capability = argument.assumingMemoryBound(to: v4l2_capability.self)
            capability.pointee = v4l2_capability()
            Self.copy(node.driver, into: &capability.pointee.driver)
            Self.copy(node.card, into: &capability.pointee.card)
            Self.copy(node.busInfo, into: &capability.pointee.bus_info)
            capability.pointee.version = 0x06_01_00
            // The union of all the camera's nodes, as uvcvideo reports it, and this node's own bits.
            capability.pointee.capabilities =
                node.driver == "v4l2 loopback"
                ? node.deviceCapabilities | CV4L2_CAP_DEVICE_CAPS
                : CV4L2_CAP_VIDEO_CAPTURE | CV4L2_CAP_META_CAPTURE | CV4L2_CAP_STREAMING | CV4L2_CAP_DEVICE_CAPS
            capability.pointee.device_caps = node.deviceCapabilities
            if node.driver == "v4l2 loopback" {
                // exclusive_caps=1: output while no writer is attached, capture once one has written.
                var caps = node.deviceCapabilities & ~(CV4L2_CAP_VIDEO_OUTPUT | CV4L2_CAP_VIDEO_CAPTURE)
                if node.loopbackOffersOutput { caps |= CV4L2_CAP_VIDEO_OUTPUT }
                if node.deviceCapabilities & CV4L2_CAP_VIDEO_CAPTURE != 0 || !node.written.isEmpty {
                    caps |= CV4L2_CAP_VIDEO_CAPTURE
                }
                capability.pointee.device_caps = caps
                capability.pointee.capabilities = caps | CV4L2_CAP_DEVICE_CAPS
            }
            return .success(())

        case CV4L2_VIDIOC_ENUM_FMT:
            let description = argument.assumingMemoryBound(to: v4l2_fmtdesc.self)
            let index = Int(description.pointee.index)
            guard description.pointee.type == CV4L2_BUF_TYPE_VIDEO_CAPTURE, index < node.formats.count else {
                return invalid
            }
            let format = node.formats[index]
            description.pointee.pixelformat = format.fourCC.rawValue
            description.pointee.flags =
                (format.compressed ? CV4L2_FMT_FLAG_COMPRESSED : 0) | (format.emulated ? CV4L2_FMT_FLAG_EMULATED : 0)
            Self.copy(format.name, into: &description.pointee.description)
            return .success(())

        case CV4L2_VIDIOC_ENUM_FRAMESIZES:
            let size = argument.assumingMemoryBound(to: v4l2_frmsizeenum.self)
            guard let format = node.formats.first(where: { $0.fourCC.rawValue == size.pointee.pixel_format }),
                Int(size.pointee.index) < format.sizes.count
            else { return invalid }
            let entry = format.sizes[Int(size.pointee.index)]
            size.pointee.type = CV4L2_FRMSIZE_TYPE_DISCRETE
            size.pointee.discrete.width = UInt32(entry.width)
            size.pointee.discrete.height = UInt32(entry.height)
            return .success(())

        case CV4L2_VIDIOC_ENUM_FRAMEINTERVALS:
            let interval = argument.assumingMemoryBound(to: v4l2_frmivalenum.self)
            guard let format = node.formats.first(where: { $0.fourCC.rawValue == interval.pointee.pixel_format }),
                let size = format.sizes.first(where: {
                    $0.width == Int(interval.pointee.width) && $0.height == Int(interval.pointee.height)
                }),
                Int(interval.pointee.index) < size.intervals.count
            else { return invalid }
            let entry = size.intervals[Int(interval.pointee.index)]
            interval.pointee.type = CV4L2_FRMIVAL_TYPE_DISCRETE
            interval.pointee.discrete = v4l2_fract(numerator: entry.numerator, denominator: entry.denominator)
            return .success(())

        case CV4L2_VIDIOC_S_FMT where outputType, CV4L2_VIDIOC_G_FMT where outputType:
            guard node.deviceCapabilities & CV4L2_CAP_VIDEO_OUTPUT != 0 else { return invalid }
            let format = argument.assumingMemoryBound(to: v4l2_format.self)
            if request == CV4L2_VIDIOC_S_FMT {
                let pix = format.pointee.fmt.pix
                let fourCC = node.outputFourCCOverride ?? V4L2FourCC(rawValue: pix.pixelformat)
                let width = Int(pix.width)
                let height = Int(pix.height)
                // v4l2loopback 0.12 pix_format_set_size: packed rows width·depth/8, planar width, compressed 0.
                let (row, sizeImage): (Int, Int)
                switch fourCC {
                case .yuyv: (row, sizeImage) = (width * 2, width * 2 * height)
                case .rgb24: (row, sizeImage) = (width * 3, width * 3 * height)
                case .yuv420: (row, sizeImage) = (width, width * height * 3 / 2)
                case .mjpeg: (row, sizeImage) = (0, width * height * 4)
                default: return invalid
                }
                node.outputFormat = (fourCC, width, height, row, sizeImage)
                detail = "OUTPUT \(fourCC) \(width)x\(height)"
            }
            guard let current = node.outputFormat else { return invalid }
            Self.answer(format, with: current)
            return .success(())

        case CV4L2_VIDIOC_S_PARM where outputType:
            let parameters = argument.assumingMemoryBound(to: v4l2_streamparm.self)
            let asked = parameters.pointee.parm.output.timeperframe
            guard asked.numerator > 0, asked.denominator > 0 else { return invalid }
            node.outputInterval = (asked.numerator, asked.denominator)
            detail = "OUTPUT \(asked.numerator)/\(asked.denominator)"
            return .success(())

        case CV4L2_VIDIOC_S_FMT, CV4L2_VIDIOC_G_FMT:
            let format = argument.assumingMemoryBound(to: v4l2_format.self)
            guard format.pointee.type == CV4L2_BUF_TYPE_VIDEO_CAPTURE else { return invalid }
            if request == CV4L2_VIDIOC_S_FMT {
                // uvcvideo refuses to change the format while buffers exist (another program streaming): EBUSY.
                guard node.buffers.isEmpty else { return .failure(Errno(rawValue: EBUSY)) }
                let pix = format.pointee.fmt.pix
                guard
                    let (chosen, width, height) = node.snap(
                        V4L2FourCC(rawValue: pix.pixelformat), width: Int(pix.width), height: Int(pix.height))
                else {
                    return invalid
                }
                let pixelFormat = chosen.fourCC.pixelFormat
                let row =
                    pixelFormat == .mjpeg
                    ? 0 : (pixelFormat?.frameByteCount(width: width, height: 1) ?? width * 2) + node.rowPadding
                let sizeImage =
                    pixelFormat == .mjpeg
                    ? width * height * 2
                    : (pixelFormat == .yuv420
                        ? pixelFormat!.frameByteCount(width: width, height: height)! : row * height)
                node.format = (chosen.fourCC, width, height, row, sizeImage)
                detail = "\(chosen.fourCC) \(width)x\(height)"
            }
            guard let current = node.format else { return invalid }
            Self.answer(format, with: current)
            return .success(())

        case CV4L2_VIDIOC_G_PARM, CV4L2_VIDIOC_S_PARM:
            let parameters = argument.assumingMemoryBound(to: v4l2_streamparm.self)
            guard parameters.pointee.type == CV4L2_BUF_TYPE_VIDEO_CAPTURE else { return invalid }
            if request == CV4L2_VIDIOC_S_PARM, let current = node.format,
                let format = node.formats.first(where: { $0.fourCC == current.fourCC }),
                let size = format.sizes.first(where: { $0.width == current.width && $0.height == current.height }),
                !size.intervals.isEmpty
            {
                // uvcvideo: the listed interval nearest to the request.
                let asked = parameters.pointee.parm.capture.timeperframe
                let wanted = Double(asked.numerator) / Double(max(asked.denominator, 1))
                node.interval = size.intervals.min {
                    abs(Double($0.numerator) / Double($0.denominator) - wanted)
                        < abs(Double($1.numerator) / Double($1.denominator) - wanted)
                }!
                detail = "\(node.interval.numerator)/\(node.interval.denominator)"
            }
            parameters.pointee.parm.capture.capability = CV4L2_CAP_TIMEPERFRAME
            parameters.pointee.parm.capture.timeperframe = v4l2_fract(
                numerator: node.interval.numerator, denominator: node.interval.denominator)
            return .success(())

        case CV4L2_VIDIOC_REQBUFS:
            let request = argument.assumingMemoryBound(to: v4l2_requestbuffers.self)
            guard request.pointee.memory == CV4L2_MEMORY_MMAP, let format = node.format, !node.streaming else {
                return invalid
            }
            node.freeBuffers()
            let count = node.grantedBufferCountOverride ?? min(request.pointee.count, 8)
            request.pointee.count = count
            for _ in 0..<min(count, 64) {
                node.buffers.append(
                    UnsafeMutableRawBufferPointer.allocate(byteCount: max(format.sizeImage, 1), alignment: 64))
            }
            detail = "\(count)"
            return .success(())

        case CV4L2_VIDIOC_QUERYBUF:
            let buffer = argument.assumingMemoryBound(to: v4l2_buffer.self)
            let index = Int(buffer.pointee.index)
            guard index < node.buffers.count else { return invalid }
            buffer.pointee.length = node.bufferLengthOverride ?? UInt32(node.buffers[index].count)
            buffer.pointee.m.offset = UInt32(index * 4096)
            buffer.pointee.flags = CV4L2_BUF_FLAG_MAPPED | CV4L2_BUF_FLAG_TIMESTAMP_MONOTONIC
            detail = "\(index)"
            return .success(())

        case CV4L2_VIDIOC_QBUF:
            let buffer = argument.assumingMemoryBound(to: v4l2_buffer.self)
            let index = Int(buffer.pointee.index)
            detail = "\(index)"
            guard index < node.buffers.count, !node.queued.contains(index),
                !node.ready.contains(where: { $0.index == index })
            else {
                return invalid
            }
            node.queued.append(index)
            return .success(())

        case CV4L2_VIDIOC_DQBUF:
            let buffer = argument.assumingMemoryBound(to: v4l2_buffer.self)
            guard node.streaming else { return invalid }
            guard !node.ready.isEmpty else { return .failure(Errno(rawValue: EAGAIN)) }
            let frame = node.ready.removeFirst()
            buffer.pointee.index = node.dequeuedIndexOverride ?? UInt32(frame.index)
            buffer.pointee.bytesused = UInt32(frame.bytesUsed)
            buffer.pointee.length = UInt32(node.buffers[frame.index].count)
            buffer.pointee.sequence = frame.sequence
            buffer.pointee.field = CV4L2_FIELD_NONE
            buffer.pointee.flags =
                CV4L2_BUF_FLAG_MAPPED | CV4L2_BUF_FLAG_DONE | CV4L2_BUF_FLAG_TIMESTAMP_MONOTONIC | frame.flags
            buffer.pointee.timestamp = timeval(
                tv_sec: Int(frame.timestampNanoseconds / 1_000_000_000),
                tv_usec: Int(frame.timestampNanoseconds % 1_000_000_000 / 1_000))
            detail = "\(frame.index)"
            return .success(())

        case CV4L2_VIDIOC_STREAMON where outputType:
            // v4l2loopback 0.12: the opener becomes the writer; the device stops offering output until it closes.
            guard node.loopbackOffersOutput, node.outputFormat != nil else { return invalid }
            node.writerDescriptor = descriptorInCall
            detail = "OUTPUT"
            return .success(())

        case CV4L2_VIDIOC_STREAMON:
            guard !node.buffers.isEmpty else { return invalid }
            node.streaming = true
            return .success(())

        case CV4L2_VIDIOC_STREAMOFF:
            node.streaming = false
            node.queued = []
            node.ready = []
            return .success(())

        case CV4L2_VIDIOC_QUERYCTRL:
            let control = argument.assumingMemoryBound(to: v4l2_queryctrl.self)
            guard let script = node.controls[control.pointee.id] else { return invalid }
            control.pointee.minimum = script.minimum
            control.pointee.maximum = script.maximum
            control.pointee.step = script.step
            control.pointee.default_value = script.value
            control.pointee.flags = script.flags
            return .success(())

        case CV4L2_VIDIOC_G_CTRL, CV4L2_VIDIOC_S_CTRL:
            let control = argument.assumingMemoryBound(to: v4l2_control.self)
            guard var script = node.controls[control.pointee.id] else { return invalid }
            if request == CV4L2_VIDIOC_S_CTRL {
                let value = control.pointee.value
                detail = "\(control.pointee.id)=\(value)"
                guard (script.minimum...script.maximum).contains(value), !script.rejectedValues.contains(value) else {
                    return invalid
                }
                script.value = value
                node.controls[control.pointee.id] = script
            } else {
                control.pointee.value = script.value
            }
            return .success(())

        default:
            return .failure(Errno(rawValue: ENOTTY))
        }
    }

    /// Copies `text` NUL-terminated into a fixed-size C char array (imported as a tuple).
    static func copy<Tuple>(_ text: String, into tuple: inout Tuple) {
        withUnsafeMutableBytes(of: &tuple) { bytes in
            let utf8 = Array(text.utf8.prefix(bytes.count - 1))
            bytes.copyBytes(from: utf8)
            bytes[utf8.count] = 0
        }
    }
}

/// A YUYV test frame of `width`×`height`: Y ramps with x, y and `seed`; U and V depend on `seed`.
func yuyvFrame(width: Int, height: Int, seed: UInt8) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(width * height * 2)
    for y in 0..<height {
        for pair in 0..<(width / 2) {
            bytes += [
                UInt8(truncatingIfNeeded: 16 + pair * 16 + y * 4 + Int(seed)), 100 &+ seed,
                UInt8(truncatingIfNeeded: 24 + pair * 16 + y * 4 + Int(seed)), 150 &+ seed,
            ]
        }
    }
    return bytes
}
