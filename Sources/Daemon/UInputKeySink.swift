internal import CUInput
// UInputKeySink: one persistent uinput virtual keyboard, "gesturepad virtual keyboard", created once
// and kept for the daemon's life (compositors take a moment to accept a new device, and users and
// libinput quirks target it by name). Call order (keyd `vkbd/uinput.c`, kernel
// Documentation/input/uinput.rst): open → UI_SET_EVBIT EV_KEY, EV_SYN → UI_SET_KEYBIT for exactly
// the configured keys → UI_DEV_SETUP → UI_DEV_CREATE → (UI_GET_SYSNAME) … writes of
// `struct input_event` groups, each ended by one SYN_REPORT … UI_DEV_DESTROY → close. Enabling only
// the mapped keys also keeps libinput from tagging the device as a full keyboard (it requires
// KEY_Q…KEY_P), so it never pairs with a touchpad's disable-while-typing (keyd #66).
// Requires Linux ≥ 4.5 (UI_DEV_SETUP); not thread-safe: the daemon's key-output task owns it.
import SystemSupport
import Glibc

/// Key output through the kernel's uinput: a virtual keyboard with only the configured keys.
public final class UInputKeySink: KeySink {
    /// The device's name as `libinput list-devices` and /proc/bus/input/devices show it.
    public static let deviceName = "gesturepad virtual keyboard"
    /// Where udev creates the uinput node.
    public static let defaultPath = "/dev/uinput"
    /// The bus type: BUS_VIRTUAL, because the device is made by software. Claiming BUS_USB with ids we
    /// do not own would impersonate hardware, and udev rules and libinput quirks written for USB or
    /// Bluetooth keyboards (external-keyboard handling) would match it.
    public static let busType: UInt16 = CUINPUT_BUS_VIRTUAL
    /// A fixed vendor id (ASCII "gp"), so udev/hwdb rules and libinput quirks can match the device.
    public static let vendorID: UInt16 = 0x6770
    /// A fixed product id: 1, the keyboard.
    public static let productID: UInt16 = 0x0001
    /// The device version; bump it when the device's capabilities change meaning.
    public static let version: UInt16 = 1

    /// The uinput node this sink opened.
    public let path: String
    /// The keys the device has enabled (UI_SET_KEYBIT): exactly those the config maps.
    public let configuredKeys: Set<KeyCode>
    /// The kernel's sysfs name of the device ("input42", under /sys/devices/virtual/input/), when
    /// UI_GET_SYSNAME answered; for status output.
    public private(set) var systemName: String?

    /// The keys currently held down, in press order.
    public var heldKeys: [KeyCode] { book.held }
    /// Whether `close()` has run.
    public var isClosed: Bool { descriptor == nil }

    private let system: any UInputSystem
    private var descriptor: Int32?
    private var book: HeldKeyBook

    /// Creates the virtual keyboard with exactly `keys` enabled.
    ///
    /// Throws `.uinputOpenFailed` when `path` cannot be opened (ENOENT: no uinput in the kernel;
    /// EACCES/EPERM: the udev rule is not installed) and `.uinputCallFailed` naming the ioctl when
    /// the setup fails; the descriptor is closed again in both cases.
    public init(
        keys: Set<KeyCode>, path: String = UInputKeySink.defaultPath,
        system: any UInputSystem = LinuxUInputSystem()
    ) throws(DaemonError) {
        self.path = path
        self.configuredKeys = keys
        self.system = system
        self.book = HeldKeyBook(configuredKeys: keys, device: "\(Self.deviceName) (\(path))")

        let opened: Int32
        switch SystemCall.retryingOnInterrupt({ system.open(path) }) {
        case .success(let value): opened = value
        case .failure(let errorNumber): throw DaemonError.uinputOpenFailed(path: path, errno: errorNumber)
        }
        do {
            try setUp(opened, keys: keys)
        } catch {
            _ = system.close(opened)
            throw error
        }
        descriptor = opened
    }

    deinit {
        try? close()
    }

    /// Declares the capabilities, describes the device and creates it; then asks its sysfs name.
    private func setUp(_ descriptor: Int32, keys: Set<KeyCode>) throws(DaemonError) {
        try control(descriptor, .setEventBit, value: Int32(UInputConstant.eventTypeKey))
        try control(descriptor, .setEventBit, value: Int32(UInputConstant.eventTypeSynchronize))
        for key in keys.sorted() {
            try control(descriptor, .setKeyBit, value: Int32(key.rawValue))
        }
        var setup = makeDeviceSetup(
            name: Self.deviceName, bus: Self.busType, vendor: Self.vendorID,
            product: Self.productID, version: Self.version)
        let setupResult = withUnsafeMutableBytes(of: &setup) { buffer in
            SystemCall.retryingOnInterrupt {
                system.ioctl(descriptor, request: UInputRequest.deviceSetup.number, argument: buffer.baseAddress!)
            }
        }
        if case .failure(let errorNumber) = setupResult {
            throw DaemonError.uinputCallFailed(call: UInputRequest.deviceSetup.call, path: path, errno: errorNumber)
        }
        try control(descriptor, .deviceCreate, value: 0)

        // Optional (Linux ≥ 3.15): a failure only leaves `systemName` nil.
        var name = [UInt8](repeating: 0, count: UInputConstant.systemNameBytes)
        let nameResult = name.withUnsafeMutableBytes { buffer in
            SystemCall.retryingOnInterrupt {
                system.ioctl(descriptor, request: UInputRequest.getSystemName.number, argument: buffer.baseAddress!)
            }
        }
        if case .success = nameResult {
            let length = name.firstIndex(of: 0) ?? name.count
            systemName = length > 0 ? String(decoding: name[..<length], as: UTF8.self) : nil
        }
    }

    private func control(_ descriptor: Int32, _ request: UInputRequest, value: Int32) throws(DaemonError) {
        let outcome = SystemCall.retryingOnInterrupt { system.ioctl(descriptor, request: request.number, value: value) }
        if case .failure(let errorNumber) = outcome {
            throw DaemonError.uinputCallFailed(call: request.call, path: path, errno: errorNumber)
        }
    }

    // MARK: - KeySink

    /// Writes the key-downs of `keys` not yet held, in order, then one SYN_REPORT, in one write(2).
    ///
    /// A key outside `configuredKeys` throws `.keyNotConfigured` before anything is written. When the
    /// write fails (EAGAIN, ENODEV) nothing counts as pressed; after a short write the keys whose
    /// events did reach the kernel count as held, so `releaseAll` lifts them.
    public func press(keys: [KeyCode]) throws(DaemonError) {
        let descriptor = try openDescriptor()
        let keys = try book.keysToPress(keys)
        guard !keys.isEmpty else { return }
        let outcome = try writeReport(descriptor, keys, .down)
        book.markPressed(keys.prefix(outcome.deliveredKeys))
        if let shortWrite = outcome.shortWrite { throw shortWrite }
    }

    /// Writes the key-ups of the held keys among `keys`, last first, then one SYN_REPORT.
    ///
    /// When the write fails the keys stay held (the kernel still has them down) so a later
    /// `releaseAll` or `close` retries.
    public func release(keys: [KeyCode]) throws(DaemonError) {
        let descriptor = try openDescriptor()
        try releaseGroup(descriptor, book.keysToRelease(keys))
    }

    /// Releases every held key, last pressed first, in one report; nothing is written when none is held.
    public func releaseAll() throws(DaemonError) {
        guard let descriptor else { return }
        try releaseGroup(descriptor, book.keysToReleaseAll)
    }

    /// Releases held keys, destroys the device (UI_DEV_DESTROY) and closes the node; idempotent.
    ///
    /// Every step runs even when an earlier one fails; the first failure is thrown afterwards.
    /// No key counts as held afterwards: removing the device makes the kernel release its keys.
    public func close() throws(DaemonError) {
        guard let descriptor else { return }
        var firstError: DaemonError?
        do { try releaseAll() } catch { firstError = error }
        let destroyed = SystemCall.retryingOnInterrupt {
            system.ioctl(descriptor, request: UInputRequest.deviceDestroy.number, value: 0)
        }
        if case .failure(let errorNumber) = destroyed, firstError == nil {
            firstError = .uinputCallFailed(call: UInputRequest.deviceDestroy.call, path: path, errno: errorNumber)
        }
        let closed = system.close(descriptor)  // never retried: see `UInputSystem.close`
        if case .failure(let errorNumber) = closed, firstError == nil {
            firstError = .uinputCallFailed(call: "close", path: path, errno: errorNumber)
        }
        self.descriptor = nil
        book.forgetAll()
        if let firstError { throw firstError }
    }

    // MARK: - Writing

    private func openDescriptor() throws(DaemonError) -> Int32 {
        guard let descriptor else { throw DaemonError.keySinkClosed(device: book.device) }
        return descriptor
    }

    private func releaseGroup(_ descriptor: Int32, _ keys: [KeyCode]) throws(DaemonError) {
        guard !keys.isEmpty else { return }
        let outcome = try writeReport(descriptor, keys, .up)
        book.markReleased(keys.prefix(outcome.deliveredKeys))
        if let shortWrite = outcome.shortWrite { throw shortWrite }
    }

    /// Writes one report (key events + SYN_REPORT). Returns how many of the key events reached the
    /// kernel and, after a short write, the error to throw once the caller has booked those keys.
    private func writeReport(_ descriptor: Int32, _ keys: [KeyCode], _ transition: KeyTransition)
        throws(DaemonError) -> (deliveredKeys: Int, shortWrite: DaemonError?)
    {
        let bytes = encodeKeyReport(keys, transition)
        switch bytes.withUnsafeBytes({ buffer in
            SystemCall.retryingOnInterrupt { system.write(descriptor, bytes: buffer) }
        }) {
        case .success(let written) where written >= bytes.count:
            return (keys.count, nil)
        case .success(let written):
            let shortWrite = DaemonError.uinputShortWrite(path: path, bytesWritten: written, bytesExpected: bytes.count)
            return (min(written / UInputConstant.eventSize, keys.count), shortWrite)
        case .failure(let errorNumber):
            let action = KeySinkAction(keys, transition).description
            throw DaemonError.uinputWriteFailed(path: path, errno: errorNumber, action: action)
        }
    }
}

extension KeySinkAction {
    init(_ keys: [KeyCode], _ transition: KeyTransition) {
        self = transition == .down ? .press(keys) : .release(keys)
    }
}
