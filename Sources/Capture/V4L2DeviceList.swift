// `gesturepad devices`: every /dev/video* node that captures video, with its card name, driver, bus,
// the stable /dev/v4l/by-id and by-path names pointing at it, and its formats, sizes and frame rates
// (what `v4l2-ctl --list-devices --list-formats-ext` shows, in one listing). Metadata nodes (the
// second node of every UVC camera) are left out; nodes that cannot be opened are listed with the
// reason. All access goes through `V4L2System`, so tests list a fake driver's devices.
import Glibc

/// One video capture device node, or one that could not be examined.
public struct V4L2DeviceInfo: Sendable, Equatable {
    /// The node, for example /dev/video0.
    public var path: String
    /// QUERYCAP, when the node could be opened.
    public var capability: V4L2Capability?
    /// /dev/v4l/by-id and /dev/v4l/by-path names that resolve to `path` (use these in configuration: they survive replugging).
    public var stableNames: [String]
    /// Formats with sizes and intervals (emulated ones marked).
    public var formats: [V4L2FormatInfo]
    /// Why the node could not be examined (permission, busy, …), if so.
    public var problem: CaptureError?

    public init(
        path: String, capability: V4L2Capability?, stableNames: [String], formats: [V4L2FormatInfo],
        problem: CaptureError?
    ) {
        self.path = path
        self.capability = capability
        self.stableNames = stableNames
        self.formats = formats
        self.problem = problem
    }
}

/// Finds and describes the video capture devices.
public enum V4L2DeviceList {
    /// Where device nodes are looked for, as the user would type it.
    public static let searchPattern = "/dev/video*"
    /// Directories of stable names (udev symlinks).
    static let stableNameDirectories = ["/dev/v4l/by-id", "/dev/v4l/by-path"]

    /// Every capture device node, in node-number order. Empty when there are none.
    /// The corresponding calls are `v4l2_open`, `VIDIOC_QUERYCAP`, the ENUM ioctls and `v4l2_close`.
    public static func scan(system: V4L2System = LibV4L2System()) -> [V4L2DeviceInfo] {
        let nodes = system.directoryEntries("/dev")
            .compactMap { name -> (number: Int, path: String)? in
                guard name.hasPrefix("video"), let number = Int(name.dropFirst(5)), number >= 0 else { return nil }
                return (number, "/dev/" + name)
            }
            .sorted { $0.number < $1.number }
        // Stable name → node it points at.
        var stableNames: [String: [String]] = [:]
        for directory in stableNameDirectories {
            for entry in system.directoryEntries(directory).sorted() {
                let link = directory + "/" + entry
                if let target = system.resolveSymbolicLinks(link) { stableNames[target, default: []].append(link) }
            }
        }
        var devices: [V4L2DeviceInfo] = []
        for node in nodes {
            let path = system.resolveSymbolicLinks(node.path) ?? node.path
            let names = stableNames[path] ?? []
            var info = V4L2DeviceInfo(path: node.path, capability: nil, stableNames: names, formats: [], problem: nil)
            let device: V4L2Device
            do throws(CaptureError) {
                device = try V4L2Device.open(node.path, system: system)
            } catch {
                // libv4l2's open fails with ENOTTY on non-V4L2 nodes, and with EINVAL where its G_FMT(VIDEO_CAPTURE)
                // fails (metadata nodes, if its libv4l2 version reads the driver-wide capability union): no camera there.
                if case .notAVideoCaptureDevice = error { continue }
                if case .systemCallFailed(_, "open", .invalidArgument) = error { continue }
                info.problem = error
                devices.append(info)
                continue
            }
            defer { device.close() }
            do throws(CaptureError) {
                let capability = try device.queryCapability()
                // v4l2loopback nodes are listed (marked) even while they offer only output (exclusive_caps=1, no writer).
                guard capability.canCaptureVideo || capability.isLoopback else { continue }
                info.capability = capability
                info.formats = try device.enumerateFormats()
            } catch {
                info.problem = error
            }
            devices.append(info)
        }
        return devices
    }

    /// The listing as text, one block per device.
    public static func report(_ devices: [V4L2DeviceInfo]) -> String {
        var lines: [String] = []
        for device in devices {
            if !lines.isEmpty { lines.append("") }
            if let capability = device.capability {
                lines.append(
                    "\(device.path): \(capability.card) (driver \(capability.driver), bus \(capability.busInfo))")
            } else {
                lines.append("\(device.path):")
            }
            for (index, name) in device.stableNames.enumerated() {
                lines.append((index == 0 ? "  stable names: " : "                ") + name)
            }
            if let capability = device.capability, capability.isLoopback {
                lines.append(
                    "  v4l2loopback (virtual camera): "
                        + (capability.canCaptureVideo
                            ? "readable now" : "no writer yet (exclusive_caps=1: offers capture once one writes)")
                        + "; use it as [camera] share_device, not as the camera")
            }
            if let problem = device.problem { lines.append("  cannot examine it: \(problem)") }
            if let capability = device.capability, !capability.canStream, !capability.isLoopback {
                lines.append("  no streaming I/O: gesturepad cannot use it")
            }
            for format in device.formats where !format.emulated {
                lines.append("  \(format.fourCC) \(format.name)\(format.compressed ? " (compressed)" : "")")
                switch format.sizes {
                case .discrete(let sizes):
                    for size in sizes {
                        let rates = size.intervals.map { V4L2Negotiation.format($0.framesPerSecond) }
                        lines.append(
                            "    \(size.width)×\(size.height)"
                                + (rates.isEmpty ? "" : ": \(rates.joined(separator: ", ")) fps"))
                    }
                case .stepwise(
                    let minimumWidth, let minimumHeight, let maximumWidth, let maximumHeight, let widthStep,
                    let heightStep):
                    lines.append(
                        "    \(minimumWidth)×\(minimumHeight) … \(maximumWidth)×\(maximumHeight), steps of \(widthStep)×\(heightStep)"
                    )
                }
            }
            let emulated = device.formats.filter(\.emulated).map(\.fourCC.description)
            if !emulated.isEmpty {
                lines.append("  also through libv4lconvert: \(emulated.joined(separator: ", "))")
            }
        }
        return lines.joined(separator: "\n")
    }
}
