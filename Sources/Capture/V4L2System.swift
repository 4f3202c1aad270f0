internal import CV4L2
// The syscall seam under the V4L2 camera: every operating-system call capture makes (open, close,
// ioctl, mmap, munmap, poll, plus the two directory look-ups device listing needs, and for the
// v4l2loopback writer a plain open, write(2) and stat(2) of the node) goes through
// `V4L2System`, so tests can drive the real `V4L2Camera` with a scripted fake driver (swift-system's
// `Internals/Syscalls.swift` indirection). `LibV4L2System` is the real one: libv4l2's v4l2_* calls,
// so libv4lconvert's emulated formats (RGB24, YU12, …) behave like native ones, and poll(2).
// Implementations report failures as the `Errno` the CV4L2 shim read right after the call
// (`SystemCall.shimResult`); the caller (`V4L2Device`) retries EINTR and turns everything else into a `CaptureError`.
import Foundation
import SystemSupport

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
    func open(_ path: String) -> Result<Int32, Errno>

    /// Closes a descriptor returned by `open`. The corresponding call is `v4l2_close`.
    func close(_ descriptor: Int32) -> Result<Void, Errno>

    /// Performs a V4L2 ioctl; `argument` points at the request's struct (for example a
    /// `v4l2_buffer` for `VIDIOC_DQBUF`). The corresponding call is `v4l2_ioctl`.
    func ioctl(_ descriptor: Int32, request: UInt, argument: UnsafeMutableRawPointer) -> Result<Void, Errno>

    /// Maps a driver buffer (read/write, shared) at the `offset` QUERYBUF reported.
    /// The corresponding call is `v4l2_mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, offset)`.
    func mmap(_ descriptor: Int32, length: Int, offset: Int64) -> Result<UnsafeMutableRawPointer, Errno>

    /// Unmaps a buffer mapped by `mmap`. The corresponding call is `v4l2_munmap`.
    func munmap(_ address: UnsafeMutableRawPointer, length: Int) -> Result<Void, Errno>

    /// Waits until a buffer can be dequeued or `timeoutMilliseconds` pass (empty events).
    /// The corresponding call is `poll(2)` with `POLLIN` on one descriptor.
    func poll(_ descriptor: Int32, timeoutMilliseconds: Int32) -> Result<V4L2PollEvents, Errno>

    /// Opens a device node for writing frames into it (a v4l2loopback output), read/write, non-blocking,
    /// close-on-exec, without libv4l2 (which wraps only capture devices). `ioctl` and `close` work on the descriptor.
    /// The corresponding call is `open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)`.
    func openOutput(_ path: String) -> Result<Int32, Errno>

    /// Writes one frame's bytes; returns how many were written. The corresponding call is `write(2)`.
    func write(_ descriptor: Int32, bytes: UnsafeRawBufferPointer) -> Result<Int, Errno>

    /// What the node is (symbolic links followed). The corresponding call is `stat(2)`.
    func nodeStatus(_ path: String) -> Result<V4L2NodeStatus, Errno>

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

    public func open(_ path: String) -> Result<Int32, Errno> {
        SystemCall.shimResult { CV4L2_open(path, CV4L2_O_RDWR_NONBLOCK_CLOEXEC, $0) }
    }

    public func close(_ descriptor: Int32) -> Result<Void, Errno> {
        SystemCall.shimResult { CV4L2_close(descriptor, $0) }.map { _ in () }
    }

    public func ioctl(_ descriptor: Int32, request: UInt, argument: UnsafeMutableRawPointer) -> Result<Void, Errno> {
        SystemCall.shimResult { CV4L2_ioctl(descriptor, request, argument, $0) }.map { _ in () }
    }

    public func mmap(_ descriptor: Int32, length: Int, offset: Int64) -> Result<
        UnsafeMutableRawPointer, Errno
    > {
        var errorNumber: Int32 = 0
        guard let address = CV4L2_mmap(length, descriptor, offset, &errorNumber) else {
            return .failure(Errno(rawValue: errorNumber))
        }
        return .success(address)
    }

    public func munmap(_ address: UnsafeMutableRawPointer, length: Int) -> Result<Void, Errno> {
        SystemCall.shimResult { CV4L2_munmap(address, length, $0) }.map { _ in () }
    }

    public func poll(_ descriptor: Int32, timeoutMilliseconds: Int32) -> Result<V4L2PollEvents, Errno> {
        var returned: Int16 = 0
        return SystemCall.shimResult { CV4L2_poll(descriptor, CV4L2_POLLIN, timeoutMilliseconds, &returned, $0) }
            .map { ready in ready == 0 ? [] : V4L2PollEvents(rawValue: returned) }
    }

    public func openOutput(_ path: String) -> Result<Int32, Errno> {
        var errorNumber: Int32 = 0
        let descriptor = CV4L2_open_plain(path, &errorNumber)
        return descriptor >= 0 ? .success(descriptor) : .failure(Errno(rawValue: errorNumber))
    }

    public func write(_ descriptor: Int32, bytes: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        var errorNumber: Int32 = 0
        let written = CV4L2_write(descriptor, bytes.baseAddress, bytes.count, &errorNumber)
        return written >= 0 ? .success(written) : .failure(Errno(rawValue: errorNumber))
    }

    public func nodeStatus(_ path: String) -> Result<V4L2NodeStatus, Errno> {
        var errorNumber: Int32 = 0
        var isCharacterDevice: Int32 = 0
        var owner: UInt32 = 0
        var mode: UInt32 = 0
        var major: UInt32 = 0
        var minor: UInt32 = 0
        guard CV4L2_node_status(path, &isCharacterDevice, &owner, &mode, &major, &minor, &errorNumber) == 0 else {
            return .failure(Errno(rawValue: errorNumber))
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
