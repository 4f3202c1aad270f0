internal import CV4L2
// The syscall seam under the V4L2 camera: every operating-system call capture makes (open, close,
// ioctl, mmap, munmap, poll, plus the two directory look-ups device listing needs, and for the
// v4l2loopback writer a plain open, write(2) and stat(2) of the node) goes through
// `V4L2System`, so tests can drive the real `V4L2Camera` with a scripted fake driver (swift-system's
// `Internals/Syscalls.swift` indirection). `LibV4L2System` is the real one: libv4l2's v4l2_* calls,
// so libv4lconvert's emulated formats (RGB24, YU12, …) behave like native ones, and poll(2).
// Implementations report failures as the errno read right after the call; the caller
// (`V4L2Device`) retries EINTR and turns everything else into a `CaptureError`.
import Foundation

/// An errno value: the raw number with its symbolic name and the C library's text.
public struct SystemErrorNumber: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The errno value (for example `EBUSY`).
    public let rawValue: Int32

    public init(_ rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// EBUSY: another process holds the device.
    public static let busy = SystemErrorNumber(EBUSY)

    /// The symbolic name, such as "EBUSY" (or "errno 123" for values this table does not know).
    public var name: String {
        Self.names[rawValue] ?? "errno \(rawValue)"
    }

    /// The C library's message, such as "Device or resource busy".
    public var text: String {
        guard let message = strerror(rawValue) else { return "unknown error" }
        return String(cString: message)
    }

    /// "EBUSY, Device or resource busy".
    public var description: String { "\(name), \(text)" }

    /// The errno values a V4L2 driver, libv4l2 or poll(2) can answer with.
    private static let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", EINTR: "EINTR", EIO: "EIO", ENXIO: "ENXIO", EBADF: "EBADF",
        EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT", EBUSY: "EBUSY",
        ENODEV: "ENODEV", EINVAL: "EINVAL", ENFILE: "ENFILE", EMFILE: "EMFILE", ENOTTY: "ENOTTY",
        ENOSPC: "ENOSPC", EPIPE: "EPIPE", ERANGE: "ERANGE", ENOSYS: "ENOSYS", EPROTO: "EPROTO",
        EOVERFLOW: "EOVERFLOW", ETIMEDOUT: "ETIMEDOUT", ENOTSUP: "ENOTSUP", ESHUTDOWN: "ESHUTDOWN",
        EROFS: "EROFS", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", ELOOP: "ELOOP", ENAMETOOLONG: "ENAMETOOLONG",
    ]
}

/// What poll(2) reported for the camera's descriptor (empty when the wait timed out).
public struct V4L2PollEvents: OptionSet, Sendable, Equatable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// A buffer can be dequeued (POLLIN).
    public static let readable = V4L2PollEvents(rawValue: CV4L2_POLLIN)
    /// The device reported an error: not streaming, or gone (POLLERR).
    public static let error = V4L2PollEvents(rawValue: CV4L2_POLLERR)
    /// The device hung up (POLLHUP).
    public static let hangUp = V4L2PollEvents(rawValue: CV4L2_POLLHUP)
    /// The descriptor is not open (POLLNVAL).
    public static let invalid = V4L2PollEvents(rawValue: CV4L2_POLLNVAL)
}

/// What stat(2) says about a device node (symbolic links followed).
public struct V4L2NodeStatus: Sendable, Equatable {
    /// A character device (every V4L2 node is one).
    public var isCharacterDevice: Bool
    /// The owner's user id (devtmpfs and udev create /dev nodes as root).
    public var owner: UInt32
    /// The permission bits (for example 0o660).
    public var mode: UInt32
    /// The device's major number (81 for video4linux).
    public var major: UInt32
    public var minor: UInt32

    public init(isCharacterDevice: Bool, owner: UInt32, mode: UInt32, major: UInt32, minor: UInt32) {
        self.isCharacterDevice = isCharacterDevice
        self.owner = owner
        self.mode = mode
        self.major = major
        self.minor = minor
    }
}

/// The operating-system calls V4L2 capture needs, one method per call, failures as errno.
///
/// Implementations do no retrying and no error translation: they return exactly what the call
/// returned and the errno read immediately after it.
public protocol V4L2System: AnyObject {
    /// Opens a device node for reading and writing, non-blocking, close-on-exec.
    /// The corresponding call is `v4l2_open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)`.
    func open(_ path: String) -> Result<Int32, SystemErrorNumber>

    /// Closes a descriptor returned by `open`. The corresponding call is `v4l2_close`.
    func close(_ descriptor: Int32) -> Result<Void, SystemErrorNumber>

    /// Performs a V4L2 ioctl; `argument` points at the request's struct (for example a
    /// `v4l2_buffer` for `VIDIOC_DQBUF`). The corresponding call is `v4l2_ioctl`.
    func ioctl(_ descriptor: Int32, request: UInt, argument: UnsafeMutableRawPointer) -> Result<Void, SystemErrorNumber>

    /// Maps a driver buffer (read/write, shared) at the `offset` QUERYBUF reported.
    /// The corresponding call is `v4l2_mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, offset)`.
    func mmap(_ descriptor: Int32, length: Int, offset: Int64) -> Result<UnsafeMutableRawPointer, SystemErrorNumber>

    /// Unmaps a buffer mapped by `mmap`. The corresponding call is `v4l2_munmap`.
    func munmap(_ address: UnsafeMutableRawPointer, length: Int) -> Result<Void, SystemErrorNumber>

    /// Waits until a buffer can be dequeued or `timeoutMilliseconds` pass (empty events).
    /// The corresponding call is `poll(2)` with `POLLIN` on one descriptor.
    func poll(_ descriptor: Int32, timeoutMilliseconds: Int32) -> Result<V4L2PollEvents, SystemErrorNumber>

    /// Opens a device node for writing frames into it (a v4l2loopback output), read/write, non-blocking,
    /// close-on-exec, without libv4l2 (which wraps only capture devices). `ioctl` and `close` work on the descriptor.
    /// The corresponding call is `open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)`.
    func openOutput(_ path: String) -> Result<Int32, SystemErrorNumber>

    /// Writes one frame's bytes; returns how many were written. The corresponding call is `write(2)`.
    func write(_ descriptor: Int32, bytes: UnsafeRawBufferPointer) -> Result<Int, SystemErrorNumber>

    /// What the node is (symbolic links followed). The corresponding call is `stat(2)`.
    func nodeStatus(_ path: String) -> Result<V4L2NodeStatus, SystemErrorNumber>

    /// The names in a directory, unsorted; empty when it does not exist or cannot be read.
    /// The corresponding calls are `opendir`/`readdir`.
    func directoryEntries(_ path: String) -> [String]

    /// The absolute path with every symbolic link resolved, or nil when it does not exist.
    /// The corresponding call is `realpath(3)`.
    func resolveSymbolicLinks(_ path: String) -> String?
}

/// The real system: libv4l2 for the device calls (format emulation through libv4lconvert), poll(2).
public final class LibV4L2System: V4L2System {
    public init() {}

    public func open(_ path: String) -> Result<Int32, SystemErrorNumber> {
        var errorNumber: Int32 = 0
        let descriptor = CV4L2_open(path, CV4L2_O_RDWR_NONBLOCK_CLOEXEC, &errorNumber)
        return descriptor >= 0 ? .success(descriptor) : .failure(SystemErrorNumber(errorNumber))
    }

    public func close(_ descriptor: Int32) -> Result<Void, SystemErrorNumber> {
        var errorNumber: Int32 = 0
        return CV4L2_close(descriptor, &errorNumber) == 0 ? .success(()) : .failure(SystemErrorNumber(errorNumber))
    }

    public func ioctl(_ descriptor: Int32, request: UInt, argument: UnsafeMutableRawPointer) -> Result<
        Void, SystemErrorNumber
    > {
        var errorNumber: Int32 = 0
        let result = CV4L2_ioctl(descriptor, request, argument, &errorNumber)
        return result >= 0 ? .success(()) : .failure(SystemErrorNumber(errorNumber))
    }

    public func mmap(_ descriptor: Int32, length: Int, offset: Int64) -> Result<
        UnsafeMutableRawPointer, SystemErrorNumber
    > {
        var errorNumber: Int32 = 0
        guard let address = CV4L2_mmap(length, descriptor, offset, &errorNumber) else {
            return .failure(SystemErrorNumber(errorNumber))
        }
        return .success(address)
    }

    public func munmap(_ address: UnsafeMutableRawPointer, length: Int) -> Result<Void, SystemErrorNumber> {
        var errorNumber: Int32 = 0
        return CV4L2_munmap(address, length, &errorNumber) == 0
            ? .success(()) : .failure(SystemErrorNumber(errorNumber))
    }

    public func poll(_ descriptor: Int32, timeoutMilliseconds: Int32) -> Result<V4L2PollEvents, SystemErrorNumber> {
        var errorNumber: Int32 = 0
        var returned: Int16 = 0
        let result = CV4L2_poll(descriptor, CV4L2_POLLIN, timeoutMilliseconds, &returned, &errorNumber)
        if result < 0 { return .failure(SystemErrorNumber(errorNumber)) }
        return .success(result == 0 ? [] : V4L2PollEvents(rawValue: returned))
    }

    public func openOutput(_ path: String) -> Result<Int32, SystemErrorNumber> {
        var errorNumber: Int32 = 0
        let descriptor = CV4L2_open_plain(path, &errorNumber)
        return descriptor >= 0 ? .success(descriptor) : .failure(SystemErrorNumber(errorNumber))
    }

    public func write(_ descriptor: Int32, bytes: UnsafeRawBufferPointer) -> Result<Int, SystemErrorNumber> {
        var errorNumber: Int32 = 0
        let written = CV4L2_write(descriptor, bytes.baseAddress, bytes.count, &errorNumber)
        return written >= 0 ? .success(written) : .failure(SystemErrorNumber(errorNumber))
    }

    public func nodeStatus(_ path: String) -> Result<V4L2NodeStatus, SystemErrorNumber> {
        var errorNumber: Int32 = 0
        var isCharacterDevice: Int32 = 0
        var owner: UInt32 = 0
        var mode: UInt32 = 0
        var major: UInt32 = 0
        var minor: UInt32 = 0
        guard CV4L2_node_status(path, &isCharacterDevice, &owner, &mode, &major, &minor, &errorNumber) == 0 else {
            return .failure(SystemErrorNumber(errorNumber))
        }
        return .success(
            V4L2NodeStatus(
                isCharacterDevice: isCharacterDevice != 0, owner: owner, mode: mode, major: major, minor: minor))
    }

    public func directoryEntries(_ path: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    }

    public func resolveSymbolicLinks(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
