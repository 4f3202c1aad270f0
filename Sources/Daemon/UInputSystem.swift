internal import CUInput
// The syscall seam under the virtual keyboard: every operating-system call key output makes (open,
// two ioctl shapes, write, close) goes through `UInputSystem`, so tests drive the real
// `UInputKeySink` with a fake that records the exact ioctl and byte stream (swift-system's
// `Internals/Syscalls.swift` indirection; same pattern as Capture's `V4L2System`).
// `LinuxUInputSystem` is the real one: the CUInput shim's wrappers, which read errno right after
// the call (`SystemCall.shimResult`); it does no retrying. The caller (`UInputKeySink`) retries EINTR
// through `SystemCall.retryingOnInterrupt` (open, ioctl, write — never close, whose descriptor is gone
// on Linux even when it reports EINTR) and translates everything else.
import Glibc
import SystemSupport

/// The operating-system calls uinput key output needs, one method per call, failures as errno.
public protocol UInputSystem: AnyObject {
    /// Opens the uinput node write-only, non-blocking, close-on-exec.
    /// The corresponding call is `open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)`.
    func open(_ path: String) -> Result<Int32, Errno>

    /// An ioctl whose argument is an int passed by value (`UI_SET_EVBIT`, `UI_SET_KEYBIT`) or that
    /// takes none (`UI_DEV_CREATE`, `UI_DEV_DESTROY`: value 0). The corresponding call is `ioctl(2)`.
    func ioctl(_ descriptor: Int32, request: UInt, value: Int32) -> Result<Void, Errno>

    /// An ioctl whose argument points at a struct or buffer (`UI_DEV_SETUP` → `struct uinput_setup`,
    /// `UI_GET_SYSNAME` → `char[64]`). The corresponding call is `ioctl(2)`.
    func ioctl(_ descriptor: Int32, request: UInt, argument: UnsafeMutableRawPointer) -> Result<Void, Errno>

    /// Writes `bytes` (whole `struct input_event`s) and returns how many bytes were written.
    /// The corresponding call is `write(2)`.
    func write(_ descriptor: Int32, bytes: UnsafeRawBufferPointer) -> Result<Int, Errno>

    /// Closes a descriptor returned by `open`. The corresponding call is `close(2)`.
    func close(_ descriptor: Int32) -> Result<Void, Errno>
}

/// The real system: open/ioctl/write/close on the kernel's uinput node, failures as the shim's errno.
public final class LinuxUInputSystem: UInputSystem {
    public init() {}

    public func open(_ path: String) -> Result<Int32, Errno> {
        SystemCall.shimResult { CUINPUT_open(path, CUINPUT_O_WRONLY_NONBLOCK_CLOEXEC, $0) }
    }

    public func ioctl(_ descriptor: Int32, request: UInt, value: Int32) -> Result<Void, Errno> {
        SystemCall.shimResult { CUINPUT_ioctl_value(descriptor, request, value, $0) }.map { _ in () }
    }

    public func ioctl(_ descriptor: Int32, request: UInt, argument: UnsafeMutableRawPointer) -> Result<
        Void, Errno
    > {
        SystemCall.shimResult { CUINPUT_ioctl_pointer(descriptor, request, argument, $0) }.map { _ in () }
    }

    public func write(_ descriptor: Int32, bytes: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        SystemCall.shimResult { CUINPUT_write(descriptor, bytes.baseAddress, bytes.count, $0) }
    }

    /// Never retry on EINTR: Linux releases the descriptor before reporting it, so a retry could
    /// close a descriptor another thread just opened.
    public func close(_ descriptor: Int32) -> Result<Void, Errno> {
        SystemCall.shimResult { CUINPUT_close(descriptor, $0) }.map { _ in () }
    }
}

// MARK: - Requests and the wire format

/// The uinput ioctls the virtual keyboard uses, with their request numbers and names for errors.
enum UInputRequest: CaseIterable {
    case setEventBit, setKeyBit, deviceSetup, deviceCreate, deviceDestroy, getSystemName

    /// The `_IOW`/`_IO`/`_IOC` number from <linux/uinput.h>.
    var number: UInt {
        switch self {
        case .setEventBit: return CUINPUT_UI_SET_EVBIT
        case .setKeyBit: return CUINPUT_UI_SET_KEYBIT
        case .deviceSetup: return CUINPUT_UI_DEV_SETUP
        case .deviceCreate: return CUINPUT_UI_DEV_CREATE
        case .deviceDestroy: return CUINPUT_UI_DEV_DESTROY
        case .getSystemName: return CUINPUT_UI_GET_SYSNAME
        }
    }

    /// The call as error messages name it: "ioctl(UI_DEV_CREATE)".
    var call: String { "ioctl(\(name))" }

    /// The kernel's macro name.
    var name: String {
        switch self {
        case .setEventBit: return "UI_SET_EVBIT"
        case .setKeyBit: return "UI_SET_KEYBIT"
        case .deviceSetup: return "UI_DEV_SETUP"
        case .deviceCreate: return "UI_DEV_CREATE"
        case .deviceDestroy: return "UI_DEV_DESTROY"
        case .getSystemName: return "UI_GET_SYSNAME"
        }
    }
}

/// Constants of the evdev wire format, from <linux/input-event-codes.h> and <linux/input.h>.
enum UInputConstant {
    static let eventTypeSynchronize = CUINPUT_EV_SYN
    static let eventTypeKey = CUINPUT_EV_KEY
    static let synchronizeReport = CUINPUT_SYN_REPORT
    static let busVirtual = CUINPUT_BUS_VIRTUAL
    static let maximumKeyCode = CUINPUT_KEY_MAX
    static let maximumNameBytes = Int(CUINPUT_MAX_NAME_SIZE)
    static let systemNameBytes = Int(CUINPUT_SYSNAME_LENGTH)
    /// sizeof(struct input_event): 24 on x86_64 and arm64.
    static let eventSize = Int(CUINPUT_INPUT_EVENT_SIZE)
}

/// A key transition as the kernel sees it: `EV_KEY` with value 1 (down) or 0 (up).
enum KeyTransition {
    case down, up

    var value: Int32 { self == .down ? 1 : 0 }
}

/// Encodes key transitions followed by one `SYN_REPORT` as consecutive `struct input_event`s.
/// The timestamps stay zero: uinput stamps events itself on arrival.
func encodeKeyReport(_ keys: [KeyCode], _ transition: KeyTransition) -> [UInt8] {
    var events: [input_event] = keys.map { key in
        var event = input_event()
        event.type = UInputConstant.eventTypeKey
        event.code = key.rawValue
        event.value = transition.value
        return event
    }
    var report = input_event()
    report.type = UInputConstant.eventTypeSynchronize
    report.code = UInputConstant.synchronizeReport
    report.value = 0
    events.append(report)
    return events.withUnsafeBytes { Array($0) }
}

/// A `struct uinput_setup` for the virtual keyboard: ids and the name (NUL-terminated, truncated to fit).
func makeDeviceSetup(name: String, bus: UInt16, vendor: UInt16, product: UInt16, version: UInt16) -> uinput_setup {
    var setup = uinput_setup()
    setup.id.bustype = bus
    setup.id.vendor = vendor
    setup.id.product = product
    setup.id.version = version
    setup.ff_effects_max = 0
    withUnsafeMutableBytes(of: &setup.name) { buffer in
        let bytes = Array(name.utf8.prefix(UInputConstant.maximumNameBytes - 1))
        buffer.copyBytes(from: bytes)
        buffer[bytes.count] = 0
    }
    return setup
}
