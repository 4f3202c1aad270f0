// The pause hotkey at the evdev syscall seam: a fake /dev/input (keyboards, a mouse, gesturepad's own
// virtual keyboard, a node the user may not open) behind `EvdevSystem`, driven through the real
// `PauseHotkeyListener` — which devices it reads (EVIOCGBIT, EVIOCGNAME), that a chord fires once per
// press (not on repeats or releases), that missing access is reported in words (the input group) and
// nothing stops, and that a keyboard that goes away is dropped and found again.
import Capture
import Foundation
import Synchronization
import Testing
import SystemSupport

@testable import Daemon

/// A fake /dev/input: nodes with a name, event types, keys and a queue of events; optional open errors.
final class FakeEvdev: EvdevSystem, @unchecked Sendable {
    struct Node {
        var name: String
        var types: Set<Int>
        var keys: Set<Int>
        var openError: Int32?
        var queued: [EvdevEvent] = []
        var gone = false
    }
    var nodes: [String: Node] = [:]
    private var descriptors: [Int32: String] = [:]
    private var nextDescriptor: Int32 = 10
    private(set) var closed: [String] = []
    let lock = NSLock()

    func add(_ path: String, _ node: Node) { lock.withLock { nodes[path] = node } }
    func type(_ path: String, _ events: [EvdevEvent]) { lock.withLock { nodes[path]?.queued += events } }
    var open: [String] { lock.withLock { descriptors.values.sorted() } }

    func eventDevices(in directory: String) -> Result<[String], Errno> {
        lock.withLock { .success(nodes.filter { !$0.value.gone }.keys.sorted()) }
    }

    func openForReading(_ path: String) -> Result<Int32, Errno> {
        lock.withLock {
            guard let node = nodes[path], !node.gone else { return .failure(Errno(rawValue: ENOENT)) }
            if let error = node.openError { return .failure(Errno(rawValue: error)) }
            nextDescriptor += 1
            descriptors[nextDescriptor] = path
            return .success(nextDescriptor)
        }
    }

    func ioctl(_ descriptor: Int32, request: UInt, buffer: UnsafeMutableRawBufferPointer) -> Result<
        Int, Errno
    > {
        lock.withLock {
            guard let path = descriptors[descriptor], let node = nodes[path] else {
                return .failure(Errno(rawValue: EBADF))
            }
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            if request == EvdevRequest.name {
                let bytes = Array(node.name.utf8)
                buffer.copyBytes(from: bytes)
                return .success(bytes.count + 1)
            }
            let bits = request == EvdevRequest.eventTypes ? node.types : node.keys
            for bit in bits where bit / 8 < buffer.count { buffer[bit / 8] |= UInt8(1 << (bit % 8)) }
            return .success(buffer.count)
        }
    }

    func poll(_ descriptors: [Int32], timeoutMilliseconds: Int32) -> Result<[EvdevReadiness], Errno> {
        lock.withLock {
            .success(
                descriptors.map { descriptor in
                    guard let path = self.descriptors[descriptor], let node = nodes[path] else { return .failed }
                    if node.gone { return .failed }
                    return node.queued.isEmpty ? .idle : .readable
                })
        }
    }

    func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno> {
        lock.withLock {
            guard let path = descriptors[descriptor], var node = nodes[path] else {
                return .failure(Errno(rawValue: EBADF))
            }
            if node.gone { return .failure(Errno(rawValue: ENODEV)) }
            if node.queued.isEmpty { return .failure(Errno(rawValue: EAGAIN)) }
            let fitting = min(node.queued.count, buffer.count / EvdevEvent.size)
            let bytes = EvdevEvent.encode(Array(node.queued.prefix(fitting)))
            node.queued.removeFirst(fitting)
            nodes[path] = node
            buffer.copyBytes(from: bytes)
            return .success(bytes.count)
        }
    }

    func close(_ descriptor: Int32) {
        lock.withLock {
            if let path = descriptors.removeValue(forKey: descriptor) { closed.append(path) }
        }
    }
}

private let evKey = Int(EvdevEvent.keyType)
private let evRel = 2
private let keyLeftCtrl: UInt16 = 29
private let keyLeftAlt: UInt16 = 56
private let keyP: UInt16 = 25
private let keyA: UInt16 = 30
private let buttonLeft = 272

private func key(_ code: UInt16, _ value: Int32) -> EvdevEvent {
    EvdevEvent(type: EvdevEvent.keyType, code: code, value: value)
}
private let sync = EvdevEvent(type: EvdevEvent.synchronizeType, code: 0, value: 0)
private let fullKeyboard: Set<Int> = Set(1...120)

private final class Reports: Sendable {
    let lines = Mutex<[(String, Bool)]>([])
    let chords = Atomic<Int>(0)
    var last: (String, Bool)? { lines.withLock { $0.last } }
}

@Suite("Pause hotkey: keyboards read through evdev (fake /dev/input)")
struct PauseHotkeyTests {
    private func listener(_ system: FakeEvdev, _ reports: Reports) throws -> PauseHotkeyListener {
        PauseHotkeyListener(
            chord: try KeyChord.parse("KEY_LEFTCTRL+KEY_LEFTALT+KEY_P"), system: system, directory: "/dev/input",
            onChord: { reports.chords.add(1, ordering: .relaxed) },
            report: { words, problem in reports.lines.withLock { $0.append((words, problem)) } })
    }

    @Test("reads only keyboards with every chord key: not the mouse, not gesturepad's own keyboard")
    func findsKeyboards() throws {
        let system = FakeEvdev()
        system.add(
            "/dev/input/event0", .init(name: "AT Translated Set 2 keyboard", types: [0, evKey], keys: fullKeyboard))
        system.add(
            "/dev/input/event1", .init(name: "Logitech USB Mouse", types: [0, evKey, evRel], keys: [buttonLeft]))
        system.add("/dev/input/event2", .init(name: UInputKeySink.deviceName, types: [0, evKey], keys: fullKeyboard))
        system.add("/dev/input/event3", .init(name: "Power Button", types: [0, evKey], keys: [116]))
        let reports = Reports()
        let hotkey = try listener(system, reports)
        hotkey.scan()
        #expect(hotkey.keyboardsRead == ["/dev/input/event0 (AT Translated Set 2 keyboard)"])
        #expect(system.open == ["/dev/input/event0"])
        #expect(reports.last?.1 == false)
        #expect(
            reports.last?.0.contains("on 1 keyboard: /dev/input/event0") == true, "\(String(describing: reports.last))")
        // A second scan opens nothing again.
        hotkey.scan()
        #expect(system.open == ["/dev/input/event0"])
    }

    @Test("the chord fires once per press: not on autorepeat, not on release, again after a new press")
    func chordFiresOncePerPress() throws {
        let system = FakeEvdev()
        system.add("/dev/input/event0", .init(name: "kbd", types: [0, evKey], keys: fullKeyboard))
        let reports = Reports()
        let hotkey = try listener(system, reports)
        hotkey.scan()
        // Typing other keys, and the chord's keys one short.
        system.type(
            "/dev/input/event0", [key(keyA, 1), sync, key(keyA, 0), sync, key(keyLeftCtrl, 1), key(keyP, 1), sync])
        #expect(hotkey.readOnce(timeoutMilliseconds: 0) == 0)
        system.type("/dev/input/event0", [key(keyP, 0), sync])
        hotkey.readOnce(timeoutMilliseconds: 0)
        // Ctrl+Alt+P: fires on P's down; autorepeat (value 2) and releases do not fire.
        system.type(
            "/dev/input/event0", [key(keyLeftAlt, 1), sync, key(keyP, 1), sync, key(keyP, 2), key(keyP, 2), sync])
        #expect(hotkey.readOnce(timeoutMilliseconds: 0) == 1)
        system.type("/dev/input/event0", [key(keyP, 0), key(keyLeftAlt, 0), key(keyLeftCtrl, 0), sync])
        #expect(hotkey.readOnce(timeoutMilliseconds: 0) == 0)
        // The same chord again (P pressed last or first, the last key down completes it).
        system.type("/dev/input/event0", [key(keyP, 1), key(keyLeftCtrl, 1), key(keyLeftAlt, 1), sync])
        #expect(hotkey.readOnce(timeoutMilliseconds: 0) == 1)
        #expect(reports.chords.load(ordering: .relaxed) == 2)
    }

    @Test("dropped events (SYN_DROPPED) forget what was held: a chord needs a fresh press")
    func droppedEventsResetTheChord() {
        var detector = ChordDetector(chord: KeyChord([KeyCode(rawValue: keyLeftCtrl), KeyCode(rawValue: keyP)]))
        let dropped = EvdevEvent(type: EvdevEvent.synchronizeType, code: EvdevRequest.synchronizeDropped, value: 0)
        let fired = [key(keyLeftCtrl, 1), dropped, key(keyP, 1), key(keyLeftCtrl, 0), key(keyLeftCtrl, 1)].map {
            detector.handle($0)
        }
        // Ctrl's down was forgotten at SYN_DROPPED: P alone does not fire; Ctrl pressed again (P still down) does.
        #expect(fired == [false, false, false, false, true])
    }

    @Test("no access: one clear report naming the input group, nothing opened, nothing stops")
    func missingAccessIsReported() throws {
        let system = FakeEvdev()
        system.add("/dev/input/event0", .init(name: "kbd", types: [0, evKey], keys: fullKeyboard, openError: EACCES))
        system.add("/dev/input/event1", .init(name: "kbd2", types: [0, evKey], keys: fullKeyboard, openError: EACCES))
        let reports = Reports()
        let hotkey = try listener(system, reports)
        hotkey.scan()
        hotkey.scan()
        let lines = reports.lines.withLock { $0 }
        #expect(lines.count == 1, "reported once, not per scan: \(lines)")
        #expect(lines.first?.1 == true)
        #expect(lines.first?.0.contains("EACCES") == true && lines.first?.0.contains("input group") == true, "\(lines)")
        #expect(hotkey.readOnce(timeoutMilliseconds: 0) == 0)
        // Access granted later (the user joined the group and the node's ACL changed): picked up by the next scan.
        system.lock.withLock { system.nodes["/dev/input/event0"]?.openError = nil }
        hotkey.scan()
        #expect(hotkey.keyboardsRead == ["/dev/input/event0 (kbd)"])
        #expect(reports.last?.1 == false)
    }

    @Test("a keyboard that goes away is closed; when it comes back it is read again")
    func unpluggedKeyboardIsDropped() throws {
        let system = FakeEvdev()
        system.add("/dev/input/event4", .init(name: "usb kbd", types: [0, evKey], keys: fullKeyboard))
        let reports = Reports()
        let hotkey = try listener(system, reports)
        hotkey.scan()
        system.lock.withLock { system.nodes["/dev/input/event4"]?.gone = true }
        hotkey.readOnce(timeoutMilliseconds: 0)
        #expect(hotkey.keyboardsRead.isEmpty)
        #expect(system.closed == ["/dev/input/event4"])
        #expect(reports.last?.1 == true, "no keyboard left is a problem worth saying")
        system.lock.withLock { system.nodes["/dev/input/event4"]?.gone = false }
        hotkey.scan()
        #expect(hotkey.keyboardsRead == ["/dev/input/event4 (usb kbd)"])
    }

    @Test("the listener's thread toggles on the chord and closes the keyboards on stop")
    func threadRunsAndStops() throws {
        let system = FakeEvdev()
        system.add("/dev/input/event0", .init(name: "kbd", types: [0, evKey], keys: fullKeyboard))
        let reports = Reports()
        let hotkey = try listener(system, reports)
        hotkey.start()
        system.type("/dev/input/event0", [key(keyLeftCtrl, 1), key(keyLeftAlt, 1), key(keyP, 1), sync])
        let deadline = Date().addingTimeInterval(10)
        while reports.chords.load(ordering: .relaxed) == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(reports.chords.load(ordering: .relaxed) == 1)
        hotkey.stop()
        #expect(system.open.isEmpty)
    }
}
