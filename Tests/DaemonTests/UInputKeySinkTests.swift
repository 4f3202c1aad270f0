// UInputKeySink against FakeUInputSystem. The fake stands in for the kernel's uinput driver behind
// /dev/uinput (misc device `uinput`, drivers/input/misc/uinput.c): open(2), the UI_* ioctls, write(2)
// of `struct input_event` records and close(2). It records every call with its arguments — the
// `struct uinput_setup` decoded from raw bytes, every written byte — and scripts errnos (ENOENT,
// EACCES, EINVAL, EAGAIN, ENODEV) and short writes per call. Tests decode the written bytes by hand
// (24-byte records: timeval 16 + type u16 + code u16 + value s32) to check the exact event stream.
import CUInput
import Capture
import Glibc
import Testing

@testable import Daemon
import SystemSupport

/// One `struct input_event` as decoded from the bytes written to the fake.
struct WrittenEvent: Equatable, CustomStringConvertible {
    var type: UInt16
    var code: UInt16
    var value: Int32

    static func down(_ key: KeyCode) -> WrittenEvent { WrittenEvent(type: 1, code: key.rawValue, value: 1) }
    static func up(_ key: KeyCode) -> WrittenEvent { WrittenEvent(type: 1, code: key.rawValue, value: 0) }
    /// EV_SYN / SYN_REPORT / 0.
    static let report = WrittenEvent(type: 0, code: 0, value: 0)

    var description: String {
        type == 0 ? "SYN_REPORT" : "\(KeyCode(rawValue: code)) \(value == 1 ? "down" : value == 0 ? "up" : "\(value)")"
    }
}

/// `struct uinput_setup` as decoded from the raw bytes UI_DEV_SETUP pointed at.
struct DecodedSetup: Equatable {
    var bus: UInt16
    var vendor: UInt16
    var product: UInt16
    var version: UInt16
    var name: String
    var nameIsTerminated: Bool
    var effectsMaximum: UInt32
}

final class FakeUInputSystem: UInputSystem {
    enum Call: Equatable {
        case open(String)
        case ioctl(request: UInt, value: Int32)
        case setup(DecodedSetup)
        case getSystemName
        case write([WrittenEvent])
        case close(Int32)
    }

    // Script
    var descriptor: Int32 = 7
    var openError: Int32?
    /// errno answered by the ioctl with this request number (value or pointer form), every time.
    var ioctlErrors: [UInt: Int32] = [:]
    /// errnos answered by the next writes, in order (one per write).
    var writeErrors: [Int32] = []
    /// The next write writes only this many bytes (a short write), once.
    var nextWriteLimit: Int?
    var systemName = "input42"

    // Record
    private(set) var calls: [Call] = []
    /// Bytes of every write that succeeded (fully or partly), including the timestamps.
    private(set) var writtenBytes: [[UInt8]] = []

    /// Only the writes, as decoded event groups.
    var writes: [[WrittenEvent]] {
        calls.compactMap { if case .write(let events) = $0 { return events } else { return nil } }
    }

    func open(_ path: String) -> Result<Int32, Errno> {
        calls.append(.open(path))
        if let openError { return .failure(Errno(rawValue: openError)) }
        return .success(descriptor)
    }

    func ioctl(_ descriptor: Int32, request: UInt, value: Int32) -> Result<Void, Errno> {
        #expect(descriptor == self.descriptor)
        calls.append(.ioctl(request: request, value: value))
        if let errorNumber = ioctlErrors[request] { return .failure(Errno(rawValue: errorNumber)) }
        return .success(())
    }

    func ioctl(_ descriptor: Int32, request: UInt, argument: UnsafeMutableRawPointer) -> Result<Void, Errno> {
        #expect(descriptor == self.descriptor)
        switch request {
        case CUINPUT_UI_DEV_SETUP:
            calls.append(.setup(Self.decodeSetup(UnsafeRawPointer(argument))))
        case CUINPUT_UI_GET_SYSNAME:
            calls.append(.getSystemName)
            if ioctlErrors[request] == nil {
                let bytes = Array(systemName.utf8) + [0]
                argument.copyMemory(from: bytes, byteCount: bytes.count)
            }
        default:
            Issue.record("unexpected pointer ioctl \(request)")
        }
        if let errorNumber = ioctlErrors[request] { return .failure(Errno(rawValue: errorNumber)) }
        return .success(())
    }

    func write(_ descriptor: Int32, bytes: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        #expect(descriptor == self.descriptor)
        if !writeErrors.isEmpty {
            calls.append(.write(Self.decodeEvents(Array(bytes))))
            return .failure(Errno(rawValue: writeErrors.removeFirst()))
        }
        let count = min(nextWriteLimit ?? bytes.count, bytes.count)
        nextWriteLimit = nil
        let written = Array(bytes.prefix(count))
        writtenBytes.append(written)
        calls.append(.write(Self.decodeEvents(written)))
        return .success(count)
    }

    func close(_ descriptor: Int32) -> Result<Void, Errno> {
        calls.append(.close(descriptor))
        return .success(())
    }

    /// Decodes whole 24-byte `struct input_event` records; also checks the timestamps are zero.
    static func decodeEvents(_ bytes: [UInt8]) -> [WrittenEvent] {
        #expect(bytes.count % 24 == 0, "a write must carry whole input_event records")
        return stride(from: 0, to: bytes.count - bytes.count % 24, by: 24).map { start in
            let record = bytes[start..<start + 24]
            #expect(record.prefix(16).allSatisfy { $0 == 0 }, "timeval stays zero: uinput stamps events")
            func u16(_ offset: Int) -> UInt16 {
                UInt16(record[start + offset]) | UInt16(record[start + offset + 1]) << 8
            }
            let value = UInt32(u16(20)) | UInt32(u16(22)) << 16
            return WrittenEvent(type: u16(16), code: u16(18), value: Int32(bitPattern: value))
        }
    }

    /// Decodes `struct uinput_setup`: input_id {bustype, vendor, product, version} (4 × u16),
    /// char name[80], u32 ff_effects_max — 92 bytes.
    static func decodeSetup(_ pointer: UnsafeRawPointer) -> DecodedSetup {
        let bytes = Array(UnsafeRawBufferPointer(start: pointer, count: 92))
        func u16(_ offset: Int) -> UInt16 { UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8 }
        let nameBytes = bytes[8..<88]
        let end = nameBytes.firstIndex(of: 0) ?? 88
        let effects = UInt32(u16(88)) | UInt32(u16(90)) << 16
        return DecodedSetup(
            bus: u16(0), vendor: u16(2), product: u16(4), version: u16(6),
            name: String(decoding: bytes[8..<end], as: UTF8.self),
            nameIsTerminated: end < 88, effectsMaximum: effects)
    }
}

/// The fake's calls after setup (everything from the first write or UI_DEV_DESTROY on).
private func callsAfterSetup(_ fake: FakeUInputSystem) -> [FakeUInputSystem.Call] {
    guard let created = fake.calls.firstIndex(of: .getSystemName) else { return fake.calls }
    return Array(fake.calls[(created + 1)...])
}

private let chordKeys: Set<KeyCode> = [.leftControl, .c, .up]

@Suite("Daemon: uinput virtual keyboard on a fake uinput driver")
struct UInputKeySinkTests {
    @Test("the ioctl request numbers are the kernel's (_IOW('U', …) with the right sizes)")
    func requestNumbers() {
        // No fake: the shim's constants against values worked out from <linux/uinput.h> by hand.
        #expect(CUINPUT_UI_SET_EVBIT == 0x4004_5564)
        #expect(CUINPUT_UI_SET_KEYBIT == 0x4004_5565)
        #expect(CUINPUT_UI_DEV_SETUP == 0x405C_5503)  // sizeof(struct uinput_setup) = 92 = 0x5c
        #expect(CUINPUT_UI_DEV_CREATE == 0x5501)
        #expect(CUINPUT_UI_DEV_DESTROY == 0x5502)
        #expect(CUINPUT_UI_GET_SYSNAME == 0x8040_552C)  // _IOC(READ, 'U', 44, 64)
        #expect(MemoryLayout<uinput_setup>.size == 92)
        #expect(CUINPUT_INPUT_EVENT_SIZE == 24)
        #expect(MemoryLayout<input_event>.size == 24)
    }

    @Test("setup: open, EV_KEY and EV_SYN, exactly the configured keys, UI_DEV_SETUP, UI_DEV_CREATE, sysname")
    func setupStream() throws {
        // Fake: the uinput driver accepting every setup ioctl and naming the new device input42.
        let fake = FakeUInputSystem()
        let sink = try UInputKeySink(keys: chordKeys, system: fake)
        #expect(
            fake.calls == [
                .open("/dev/uinput"),
                .ioctl(request: CUINPUT_UI_SET_EVBIT, value: 1),  // EV_KEY
                .ioctl(request: CUINPUT_UI_SET_EVBIT, value: 0),  // EV_SYN
                .ioctl(request: CUINPUT_UI_SET_KEYBIT, value: 29),  // KEY_LEFTCTRL
                .ioctl(request: CUINPUT_UI_SET_KEYBIT, value: 46),  // KEY_C
                .ioctl(request: CUINPUT_UI_SET_KEYBIT, value: 103),  // KEY_UP
                .setup(
                    DecodedSetup(
                        bus: 0x06, vendor: 0x6770, product: 0x0001, version: 1,
                        name: "gesturepad virtual keyboard", nameIsTerminated: true, effectsMaximum: 0)),
                .ioctl(request: CUINPUT_UI_DEV_CREATE, value: 0),
                .getSystemName,
            ])
        #expect(sink.systemName == "input42")
        #expect(sink.heldKeys.isEmpty)
        #expect(!sink.isClosed)
        #expect(fake.writes.isEmpty)
    }

    @Test("a key press is EV_KEY down then SYN_REPORT; release is up then SYN_REPORT; 24 bytes each")
    func singleKey() throws {
        // Fake: the uinput driver accepting every write in full.
        let fake = FakeUInputSystem()
        let sink = try UInputKeySink(keys: chordKeys, system: fake)
        try sink.press(keys: [.up])
        #expect(sink.heldKeys == [.up])
        try sink.release(keys: [.up])
        #expect(sink.heldKeys.isEmpty)
        #expect(fake.writes == [[.down(.up), .report], [.up(.up), .report]])
        #expect(fake.writtenBytes.map(\.count) == [48, 48])
        // The first record byte for byte: zero timeval, type 1, code 103 (0x67), value 1.
        #expect(Array(fake.writtenBytes[0][16..<24]) == [1, 0, 0x67, 0, 1, 0, 0, 0])
    }

    @Test("a chord goes down in order with one SYN_REPORT and up in reverse order with one SYN_REPORT")
    func chord() throws {
        // Fake: the uinput driver accepting every write in full.
        let fake = FakeUInputSystem()
        let sink = try UInputKeySink(keys: chordKeys, system: fake)
        let copy = try KeyChord.parse("KEY_LEFTCTRL+KEY_C")
        try sink.press(copy)
        #expect(sink.heldKeys == [.leftControl, .c])
        try sink.release(copy)
        #expect(
            fake.writes == [
                [.down(.leftControl), .down(.c), .report],
                [.up(.c), .up(.leftControl), .report],
            ])
        #expect(sink.heldKeys.isEmpty)
    }

    @Test("pressing a held key again writes nothing; releasing a key not held writes nothing")
    func noRepeats() throws {
        // Fake: the uinput driver accepting every write in full.
        let fake = FakeUInputSystem()
        let sink = try UInputKeySink(keys: chordKeys, system: fake)
        try sink.press(keys: [.leftControl])
        try sink.press(keys: [.leftControl])
        try sink.press(keys: [.leftControl, .c])  // only C goes down
        try sink.release(keys: [.up])
        #expect(fake.writes == [[.down(.leftControl), .report], [.down(.c), .report]])
        #expect(sink.heldKeys == [.leftControl, .c])
    }

    @Test("releaseAll after partial presses lifts every held key, last first, once; then it is a no-op")
    func releaseAllAfterPartialPresses() throws {
        // Fake: the uinput driver accepting every write in full.
        let fake = FakeUInputSystem()
        let sink = try UInputKeySink(keys: chordKeys, system: fake)
        try sink.press(keys: [.leftControl])
        try sink.press(keys: [.up])
        try sink.releaseAll()
        try sink.releaseAll()
        #expect(
            fake.writes == [
                [.down(.leftControl), .report],
                [.down(.up), .report],
                [.up(.up), .up(.leftControl), .report],
            ])
        #expect(sink.heldKeys.isEmpty)
    }

    @Test("a key outside the configured set is a typed error and nothing is written, even in a chord")
    func keyNotConfigured() throws {
        // Fake: the uinput driver; nothing should reach it.
        let fake = FakeUInputSystem()
        let sink = try UInputKeySink(keys: chordKeys, system: fake)
        #expect(throws: DaemonError.keyNotConfigured(key: .a, device: "gesturepad virtual keyboard (/dev/uinput)")) {
            try sink.press(keys: [.leftControl, .a])
        }
        #expect(fake.writes.isEmpty)
        #expect(sink.heldKeys.isEmpty)
        let message = DaemonError.keyNotConfigured(key: .a, device: "gesturepad virtual keyboard (/dev/uinput)")
            .description
        #expect(message.contains("KEY_A") && message.contains("config"))
    }

    @Test("close releases held keys, then UI_DEV_DESTROY, then close(2); a second close does nothing")
    func closeReleasesThenDestroys() throws {
        // Fake: the uinput driver accepting everything.
        let fake = FakeUInputSystem()
        let sink = try UInputKeySink(keys: chordKeys, system: fake)
        try sink.press(keys: [.leftControl, .c])
        try sink.close()
        try sink.close()
        #expect(
            callsAfterSetup(fake) == [
                .write([.down(.leftControl), .down(.c), .report]),
                .write([.up(.c), .up(.leftControl), .report]),
                .ioctl(request: CUINPUT_UI_DEV_DESTROY, value: 0),
                .close(7),
            ])
        #expect(sink.isClosed)
        #expect(sink.heldKeys.isEmpty)
        #expect(throws: DaemonError.keySinkClosed(device: "gesturepad virtual keyboard (/dev/uinput)")) {
            try sink.press(keys: [.up])
        }
        try sink.releaseAll()  // harmless after close
        #expect(callsAfterSetup(fake).count == 4)
    }

    @Test("dropping the sink releases held keys and destroys the device (deinit)")
    func deinitReleases() throws {
        // Fake: the uinput driver accepting everything; it outlives the sink.
        let fake = FakeUInputSystem()
        do {
            let sink = try UInputKeySink(keys: chordKeys, system: fake)
            try sink.press(keys: [.up])
        }
        #expect(
            callsAfterSetup(fake) == [
                .write([.down(.up), .report]),
                .write([.up(.up), .report]),
                .ioctl(request: CUINPUT_UI_DEV_DESTROY, value: 0),
                .close(7),
            ])
    }

    @Test(
        "no uinput in the kernel (ENOENT, ENODEV): the message says modprobe uinput and dry-run",
        arguments: [ENOENT, ENODEV])
    func openWithoutUInput(errorNumber: Int32) {
        // Fake: a kernel without the uinput module (no /dev/uinput node, or a node without a driver).
        let fake = FakeUInputSystem()
        fake.openError = errorNumber
        #expect(throws: DaemonError.uinputOpenFailed(path: "/dev/uinput", errno: Errno(rawValue: errorNumber))) {
            _ = try UInputKeySink(keys: chordKeys, system: fake)
        }
        let message = DaemonError.uinputOpenFailed(path: "/dev/uinput", errno: Errno(rawValue: errorNumber))
            .description
        #expect(message.contains("/dev/uinput"))
        #expect(message.contains("modprobe uinput"))
        #expect(message.contains("dry-run"))
        #expect(!message.contains("udev rule"))
        #expect(fake.calls == [.open("/dev/uinput")])
    }

    @Test(
        "no permission (EACCES, EPERM): the message names the udev rule to install and says dry-run",
        arguments: [EACCES, EPERM])
    func openWithoutPermission(errorNumber: Int32) {
        // Fake: /dev/uinput owned by root 0600, no uaccess tag (no udev rule installed).
        let fake = FakeUInputSystem()
        fake.openError = errorNumber
        #expect(throws: DaemonError.uinputOpenFailed(path: "/dev/uinput", errno: Errno(rawValue: errorNumber))) {
            _ = try UInputKeySink(keys: chordKeys, system: fake)
        }
        let message = DaemonError.uinputOpenFailed(path: "/dev/uinput", errno: Errno(rawValue: errorNumber))
            .description
        #expect(message.contains("systemd/70-gesturepad-uinput.rules"))
        #expect(message.contains("/etc/udev/rules.d/"))
        #expect(message.contains("uaccess"))
        #expect(message.contains("dry-run"))
        #expect(message.contains(Errno(rawValue: errorNumber).name))
    }

    @Test("a failing setup ioctl names the ioctl and errno, and the descriptor is closed again")
    func setupIoctlFails() {
        // Fake: a uinput driver refusing UI_DEV_CREATE with EINVAL (as when no capability was set).
        let fake = FakeUInputSystem()
        fake.ioctlErrors[CUINPUT_UI_DEV_CREATE] = EINVAL
        let expected = DaemonError.uinputCallFailed(
            call: "ioctl(UI_DEV_CREATE)", path: "/dev/uinput",
            errno: Errno(rawValue: EINVAL))
        #expect(throws: expected) { _ = try UInputKeySink(keys: chordKeys, system: fake) }
        #expect(fake.calls.last == .close(7))
        #expect(!fake.calls.contains(.getSystemName))
        #expect(expected.description.contains("UI_DEV_CREATE") && expected.description.contains("EINVAL"))
    }

    @Test("UI_GET_SYSNAME failing (Linux < 3.15) only leaves systemName nil")
    func systemNameOptional() throws {
        // Fake: an old uinput driver without UI_GET_SYSNAME (ENOTTY).
        let fake = FakeUInputSystem()
        fake.ioctlErrors[CUINPUT_UI_GET_SYSNAME] = ENOTTY
        let sink = try UInputKeySink(keys: chordKeys, system: fake)
        #expect(sink.systemName == nil)
        try sink.press(keys: [.up])
        #expect(sink.heldKeys == [.up])
    }

    @Test("EAGAIN on a press: typed error, nothing counts as held; the next press works")
    func pressWriteAgain() throws {
        // Fake: a uinput driver whose event queue is full once (write answers EAGAIN).
        let fake = FakeUInputSystem()
        let sink = try UInputKeySink(keys: chordKeys, system: fake)
        fake.writeErrors = [EAGAIN]
        let expected = DaemonError.uinputWriteFailed(
            path: "/dev/uinput", errno: Errno(rawValue: EAGAIN),
            action: "press KEY_LEFTCTRL+KEY_C")
        #expect(throws: expected) { try sink.press(keys: [.leftControl, .c]) }
        #expect(sink.heldKeys.isEmpty)
        #expect(expected.description.contains("EAGAIN") && expected.description.contains("/dev/uinput"))
        try sink.press(keys: [.leftControl, .c])
        #expect(sink.heldKeys == [.leftControl, .c])
        try sink.releaseAll()
        #expect(sink.heldKeys.isEmpty)
    }

    @Test("EAGAIN on a release: the keys stay held, and releaseAll lifts them later")
    func releaseWriteAgain() throws {
        // Fake: a uinput driver whose event queue is full once (write answers EAGAIN).
        let fake = FakeUInputSystem()
        let sink = try UInputKeySink(keys: chordKeys, system: fake)
        try sink.press(keys: [.leftControl, .c])
        fake.writeErrors = [EAGAIN]
        #expect(throws: DaemonError.self) { try sink.release(keys: [.leftControl, .c]) }
        #expect(sink.heldKeys == [.leftControl, .c])
        try sink.releaseAll()
        #expect(sink.heldKeys.isEmpty)
        #expect(fake.writes.last == [.up(.c), .up(.leftControl), .report])
    }

    @Test("a short write: keys whose events arrived count as held, the error says how many bytes")
    func shortWrite() throws {
        // Fake: a uinput driver taking only the first 24-byte event of a 72-byte chord write.
        let fake = FakeUInputSystem()
        let sink = try UInputKeySink(keys: chordKeys, system: fake)
        fake.nextWriteLimit = 24
        #expect(throws: DaemonError.uinputShortWrite(path: "/dev/uinput", bytesWritten: 24, bytesExpected: 72)) {
            try sink.press(keys: [.leftControl, .c])
        }
        #expect(sink.heldKeys == [.leftControl])
        try sink.releaseAll()
        #expect(fake.writes.last == [.up(.leftControl), .report])
    }

    @Test("ENODEV while closing: close still destroys and closes, throws the write error, nothing stays held")
    func closeAfterDeviceGone() throws {
        // Fake: a uinput device that vanished (write answers ENODEV).
        let fake = FakeUInputSystem()
        let sink = try UInputKeySink(keys: chordKeys, system: fake)
        try sink.press(keys: [.up])
        fake.writeErrors = [ENODEV]
        let expected = DaemonError.uinputWriteFailed(
            path: "/dev/uinput", errno: Errno(rawValue: ENODEV),
            action: "release KEY_UP")
        #expect(throws: expected) { try sink.close() }
        #expect(expected.description.contains("gone"))
        #expect(Array(fake.calls.suffix(2)) == [.ioctl(request: CUINPUT_UI_DEV_DESTROY, value: 0), .close(7)])
        #expect(sink.heldKeys.isEmpty)
        #expect(sink.isClosed)
    }

    @Test(
        "EINTR from the driver is retried by the sink: a write interrupted N times still presses the key",
        arguments: [1, 3, 50])
    func interruptedWriteRetried(interruptions: Int) throws {
        // Fake: the uinput driver answering EINTR to the first N writes (a signal landed each time).
        let fake = FakeUInputSystem()
        let sink = try UInputKeySink(keys: chordKeys, system: fake)
        fake.writeErrors = Array(repeating: EINTR, count: interruptions)
        try sink.press(keys: [.up])
        #expect(sink.heldKeys == [.up])
        #expect(fake.writes.count == interruptions + 1)
        #expect(fake.writtenBytes.map(\.count) == [48])
    }

    @Test("a write interrupted more often than SystemCall's limit fails with EINTR, naming the action")
    func interruptedWriteGivesUp() throws {
        let fake = FakeUInputSystem()
        let sink = try UInputKeySink(keys: chordKeys, system: fake)
        fake.writeErrors = Array(repeating: EINTR, count: SystemCall.maximumInterruptAttempts)
        #expect(throws: DaemonError.self) { try sink.press(keys: [.up]) }
        #expect(sink.heldKeys.isEmpty)
        #expect(fake.writes.count == SystemCall.maximumInterruptAttempts)
    }

    @Test("the real system on a path that does not exist reports ENOENT (no uinput needed)")
    func realSystemMissingNode() {
        // No fake: LinuxUInputSystem's open(2) on a path guaranteed missing.
        let system = LinuxUInputSystem()
        #expect(system.open("/nonexistent/gesturepad/uinput") == .failure(Errno(rawValue: ENOENT)))
    }
}
