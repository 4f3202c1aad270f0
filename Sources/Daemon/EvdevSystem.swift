internal import CUInput
// The syscall seam under the pause hotkey: every operating-system call that reads keyboards (list
// /dev/input, open read-only, the EVIOCGBIT/EVIOCGNAME ioctls, poll, read, close) goes through
// `EvdevSystem`, so tests drive the real `PauseHotkeyListener` with a fake keyboard (the pattern of
// `UInputSystem` and Capture's `V4L2System`). `LinuxEvdevSystem` is the real one: the CUInput shim's
// wrappers, errno read right after each call, EINTR retried (never for close). Keyboards are never
// grabbed (no EVIOCGRAB): every key still reaches the user's programs.
import Capture
import Foundation
import Glibc
import SystemSupport

/// The operating-system calls the pause hotkey needs, one method per call, failures as errno.
public protocol EvdevSystem: AnyObject {
    /// The `event*` nodes in `directory`, sorted by number ("/dev/input/event0", …). The corresponding call is
    /// `readdir(3)`.
    func eventDevices(in directory: String) -> Result<[String], Errno>

    /// Opens a node read-only, non-blocking, close-on-exec. The corresponding call is
    /// `open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)`.
    func openForReading(_ path: String) -> Result<Int32, Errno>

    /// An ioctl that fills `buffer` (`EVIOCGBIT`, `EVIOCGNAME`); returns the bytes the kernel wrote. The
    /// corresponding call is `ioctl(2)`.
    func ioctl(_ descriptor: Int32, request: UInt, buffer: UnsafeMutableRawBufferPointer) -> Result<
        Int, Errno
    >

    /// Waits up to `timeoutMilliseconds` until any of `descriptors` can be read; returns, per descriptor, whether
    /// it has events (`.readable`) or failed (`.failed`: the device went away). The corresponding call is `poll(2)`.
    func poll(_ descriptors: [Int32], timeoutMilliseconds: Int32) -> Result<[EvdevReadiness], Errno>

    /// Reads whole `struct input_event`s into `buffer`; returns the bytes read. The corresponding call is `read(2)`.
    func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno>

    /// Closes a descriptor returned by `openForReading`. The corresponding call is `close(2)`.
    func close(_ descriptor: Int32)
}

/// What poll(2) said about one descriptor.
public enum EvdevReadiness: Sendable, Equatable {
    case idle, readable, failed
}

/// The ioctls and sizes of evdev reading, from <linux/input.h>.
enum EvdevRequest {
    /// EVIOCGBIT(0, …): the event types the device sends.
    static let eventTypes = CUINPUT_EVIOCGBIT_TYPES
    static let eventTypeBytes = Int(CUINPUT_EVENT_TYPE_BITS_LENGTH)
    /// EVIOCGBIT(EV_KEY, …): the key codes the device has.
    static let keys = CUINPUT_EVIOCGBIT_KEYS
    static let keyBytes = Int(CUINPUT_KEY_BITS_LENGTH)
    /// EVIOCGNAME(256): the device name.
    static let name = CUINPUT_EVIOCGNAME
    static let nameBytes = Int(CUINPUT_DEVICE_NAME_LENGTH)
    static let synchronizeDropped = CUINPUT_SYN_DROPPED
}

/// The real system: readdir, open/ioctl/poll/read/close on /dev/input nodes, EINTR retried.
public final class LinuxEvdevSystem: EvdevSystem {
    public init() {}

    public func eventDevices(in directory: String) -> Result<[String], Errno> {
        guard let stream = opendir(directory) else { return .failure(Errno(rawValue: errno)) }
        defer { closedir(stream) }
        var numbers: [Int] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix("event"), let number = Int(name.dropFirst(5)) { numbers.append(number) }
        }
        return .success(numbers.sorted().map { "\(directory)/event\($0)" })
    }

    public func openForReading(_ path: String) -> Result<Int32, Errno> {
        SystemCall.retryingOnInterrupt {
            var errorNumber: Int32 = 0
            let descriptor = CUINPUT_open(path, CUINPUT_O_RDONLY_NONBLOCK_CLOEXEC, &errorNumber)
            return descriptor >= 0 ? .success(descriptor) : .failure(Errno(rawValue: errorNumber))
        }
    }

    public func ioctl(_ descriptor: Int32, request: UInt, buffer: UnsafeMutableRawBufferPointer) -> Result<
        Int, Errno
    > {
        SystemCall.retryingOnInterrupt {
            var errorNumber: Int32 = 0
            let result = CUINPUT_ioctl_pointer(descriptor, request, buffer.baseAddress, &errorNumber)
            return result >= 0 ? .success(Int(result)) : .failure(Errno(rawValue: errorNumber))
        }
    }

    public func poll(_ descriptors: [Int32], timeoutMilliseconds: Int32) -> Result<
        [EvdevReadiness], Errno
    > {
        var entries = descriptors.map { pollfd(fd: $0, events: CUINPUT_POLLIN, revents: 0) }
        var errorNumber: Int32 = 0
        let result = entries.withUnsafeMutableBufferPointer {
            CUINPUT_poll($0.baseAddress, UInt($0.count), timeoutMilliseconds, &errorNumber)
        }
        if result < 0 {
            // A signal: report nothing ready (the caller polls again).
            return errorNumber == EINTR
                ? .success(descriptors.map { _ in .idle }) : .failure(Errno(rawValue: errorNumber))
        }
        return .success(
            entries.map { entry in
                if entry.revents & CUINPUT_POLLIN != 0 { return .readable }
                return entry.revents & CUINPUT_POLL_FAILED != 0 ? .failed : .idle
            })
    }

    public func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Result<
        Int, Errno
    > {
        SystemCall.retryingOnInterrupt {
            var errorNumber: Int32 = 0
            let count = CUINPUT_read(descriptor, buffer.baseAddress, buffer.count, &errorNumber)
            return count >= 0 ? .success(count) : .failure(Errno(rawValue: errorNumber))
        }
    }

    /// Not retried on EINTR (Linux releases the descriptor before reporting it).
    public func close(_ descriptor: Int32) {
        var errorNumber: Int32 = 0
        _ = CUINPUT_close(descriptor, &errorNumber)
    }
}

/// One key event read from a keyboard: `struct input_event`'s type, code and value (1 down, 0 up, 2 repeat).
public struct EvdevEvent: Sendable, Equatable {
    public var type: UInt16
    public var code: UInt16
    public var value: Int32

    public init(type: UInt16, code: UInt16, value: Int32) {
        (self.type, self.code, self.value) = (type, code, value)
    }

    /// sizeof(struct input_event): 24 on x86_64 and arm64.
    public static let size = UInputConstant.eventSize
    static let keyType = UInputConstant.eventTypeKey
    static let synchronizeType = UInputConstant.eventTypeSynchronize

    /// Decodes whole `struct input_event`s (a trailing partial one is ignored; the kernel never returns one).
    static func decode(_ bytes: UnsafeRawBufferPointer) -> [EvdevEvent] {
        let count = bytes.count / size
        var events: [EvdevEvent] = []
        events.reserveCapacity(count)
        for index in 0..<count {
            let event = bytes.loadUnaligned(fromByteOffset: index * size, as: input_event.self)
            events.append(EvdevEvent(type: event.type, code: event.code, value: event.value))
        }
        return events
    }

    /// Encodes events as `struct input_event`s (zero timestamps), for fakes.
    public static func encode(_ events: [EvdevEvent]) -> [UInt8] {
        let raw: [input_event] = events.map { event in
            var encoded = input_event()
            encoded.type = event.type
            encoded.code = event.code
            encoded.value = event.value
            return encoded
        }
        return raw.withUnsafeBytes { Array($0) }
    }
}
