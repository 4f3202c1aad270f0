// PauseHotkey: the daemon's opt-in pause hotkey (`[daemon] pause_hotkey`). A thread reads key events
// from every keyboard under /dev/input through evdev — a keyboard being a device whose EVIOCGBIT maps
// say it sends EV_KEY and has every key of the chord, and is not gesturepad's own virtual keyboard
// (by EVIOCGNAME) — never grabbing them, and toggles the daemon's one paused state when the chord
// goes down (keyd's model: read, don't grab; its docs state the same `input`-group trade).
// Invariants: a chord fires once per press (on the down of its last key; key repeats and releases
// never fire); a keyboard that vanishes (ENODEV, POLLHUP) is closed and looked for again; missing
// access (EACCES/EPERM) is one log line and a `status` field, never a stop — the daemon runs on
// without the hotkey. The directory is listed again every `rescanInterval`, so a keyboard plugged
// in later (or access granted later) is picked up. All OS calls go through `EvdevSystem`.
import Capture
import Foundation
import ServiceLifecycle
import Synchronization
import SystemSupport

/// Detects a chord in one keyboard's key events.
public struct ChordDetector: Sendable, Equatable {
    public let chord: Set<UInt16>
    private var held: Set<UInt16> = []

    public init(chord: KeyChord) { self.chord = Set(chord.keys.map(\.rawValue)) }

    /// Feeds one event; true when it completes the chord (the down of its last key).
    public mutating func handle(_ event: EvdevEvent) -> Bool {
        if event.type == EvdevEvent.synchronizeType && event.code == EvdevRequest.synchronizeDropped {
            // Events were lost: what is held is unknown, so start over (a chord fires on a fresh press).
            held.removeAll()
            return false
        }
        guard event.type == EvdevEvent.keyType else { return false }
        switch event.value {
        case 1:
            let inserted = held.insert(event.code).inserted
            return inserted && chord.contains(event.code) && chord.isSubset(of: held)
        case 0:
            held.remove(event.code)
            return false
        default:
            return false  // autorepeat
        }
    }
}

/// Reads the keyboards and calls `onChord` when the pause hotkey is pressed.
public final class PauseHotkeyListener: @unchecked Sendable {
    /// The chord as configured (for messages).
    public let chord: KeyChord
    private let system: any EvdevSystem
    private let directory: String
    private let ownDeviceName: String
    private let onChord: @Sendable () -> Void
    private let report: @Sendable (_ words: String, _ problem: Bool) -> Void
    private let rescanInterval: Duration

    // Touched only by the listener's thread (or the caller of `scan`/`readOnce` in tests).
    private struct Keyboard {
        let path: String
        let name: String
        let descriptor: Int32
        var detector: ChordDetector
    }
    private var keyboards: [Keyboard] = []
    /// Nodes that are not keyboards for this chord (or our own device): not opened again while they exist.
    private var ignored: Set<String> = []
    private var lastWords = ""
    private var thread: Thread?
    private let stopRequested = Atomic<Bool>(false)
    private let finished = Mutex(false)

    /// - Parameters:
    ///   - ownDeviceName: gesturepad's own virtual keyboard, never read.
    ///   - onChord: runs on the listener's thread when the chord goes down.
    ///   - report: the state in words whenever it changes (`problem`: no keyboard can be read) — for the log and
    ///     `status`.
    public init(
        chord: KeyChord, system: any EvdevSystem = LinuxEvdevSystem(), directory: String = "/dev/input",
        ownDeviceName: String = UInputKeySink.deviceName, rescanInterval: Duration = .seconds(3),
        onChord: @escaping @Sendable () -> Void,
        report: @escaping @Sendable (_ words: String, _ problem: Bool) -> Void
    ) {
        self.chord = chord
        self.system = system
        self.directory = directory
        self.ownDeviceName = ownDeviceName
        self.rescanInterval = rescanInterval
        self.onChord = onChord
        self.report = report
    }

    /// The keyboards read now, as "path (name)".
    public var keyboardsRead: [String] { keyboards.map { "\($0.path) (\($0.name))" } }

    /// Lists the directory and opens every new keyboard; closes nothing that still works. Reports the state when it
    /// changed.
    public func scan() {
        let listing: [String]
        switch system.eventDevices(in: directory) {
        case .success(let paths): listing = paths
        case .failure(let error):
            say("\(chord): cannot list \(directory) (\(error)); the hotkey is off, the daemon runs on", problem: true)
            return
        }
        ignored.formIntersection(listing)
        var denied: [(String, Errno)] = []
        let open = Set(keyboards.map(\.path))
        for path in listing where !open.contains(path) && !ignored.contains(path) {
            switch inspect(path) {
            case .keyboard(let keyboard): keyboards.append(keyboard)
            case .notKeyboard: ignored.insert(path)
            case .denied(let error): denied.append((path, error))
            case .failed: break  // vanished between listing and opening, or a driver error: tried again next scan
            }
        }
        if !keyboards.isEmpty {
            let names = keyboards.map { "\($0.path) (\($0.name))" }.joined(separator: ", ")
            let plural = keyboards.count == 1 ? "keyboard" : "keyboards"
            say("\(chord) on \(keyboards.count) \(plural): \(names)", problem: false)
        } else if let (path, error) = denied.first {
            say(
                "\(chord): cannot read the keyboards (\(path): \(error.summary)); reading them needs the input group "
                    + "(sudo usermod -aG input $USER, then log in again) — the hotkey is off, the daemon runs on "
                    + "(gesturepad pause / resume and the lens cover still work)",
                problem: true)
        } else {
            say(
                "\(chord): no keyboard under \(directory) has every key of the chord; looking again every "
                    + "\(rescanInterval)",
                problem: true)
        }
    }

    private enum Inspection {
        case keyboard(Keyboard)
        case notKeyboard
        case denied(Errno)
        case failed
    }

    /// Opens `path` and keeps it when it is a keyboard for the chord (EV_KEY and every chord key, not ours).
    private func inspect(_ path: String) -> Inspection {
        let descriptor: Int32
        switch system.openForReading(path) {
        case .success(let opened): descriptor = opened
        case .failure(let error):
            return error.rawValue == EACCES || error.rawValue == EPERM ? .denied(error) : .failed
        }
        var keep = false
        defer { if !keep { system.close(descriptor) } }
        var name = [UInt8](repeating: 0, count: EvdevRequest.nameBytes)
        guard
            case .success = name.withUnsafeMutableBytes({
                system.ioctl(descriptor, request: EvdevRequest.name, buffer: $0)
            })
        else { return .failed }
        let deviceName = String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)
        if deviceName == ownDeviceName { return .notKeyboard }
        var types = [UInt8](repeating: 0, count: EvdevRequest.eventTypeBytes)
        guard
            case .success = types.withUnsafeMutableBytes({
                system.ioctl(descriptor, request: EvdevRequest.eventTypes, buffer: $0)
            })
        else { return .failed }
        guard Self.bit(Int(EvdevEvent.keyType), in: types) else { return .notKeyboard }
        var keys = [UInt8](repeating: 0, count: EvdevRequest.keyBytes)
        guard
            case .success = keys.withUnsafeMutableBytes({
                system.ioctl(descriptor, request: EvdevRequest.keys, buffer: $0)
            })
        else { return .failed }
        guard chord.keys.allSatisfy({ Self.bit(Int($0.rawValue), in: keys) }) else { return .notKeyboard }
        keep = true
        return .keyboard(
            Keyboard(path: path, name: deviceName, descriptor: descriptor, detector: ChordDetector(chord: chord)))
    }

    /// Bit `index` of a kernel bitmap (little-endian longs are bytes in order on Linux).
    static func bit(_ index: Int, in bitmap: [UInt8]) -> Bool {
        let byte = index / 8
        return byte < bitmap.count && bitmap[byte] & (1 << UInt8(index % 8)) != 0
    }

    /// Waits up to `timeoutMilliseconds` for key events and handles them; returns how many chords fired. A keyboard
    /// that fails is closed (found again by the next scan if it comes back).
    @discardableResult
    public func readOnce(timeoutMilliseconds: Int32) -> Int {
        guard !keyboards.isEmpty else { return 0 }
        let readiness: [EvdevReadiness]
        switch system.poll(keyboards.map(\.descriptor), timeoutMilliseconds: timeoutMilliseconds) {
        case .success(let answer): readiness = answer
        case .failure: return 0
        }
        var fired = 0
        var gone: [Int] = []
        var buffer = [UInt8](repeating: 0, count: EvdevEvent.size * 64)
        for (index, ready) in readiness.enumerated() where index < keyboards.count {
            switch ready {
            case .idle: continue
            case .failed:
                gone.append(index)
                continue
            case .readable: break
            }
            while true {
                let outcome = buffer.withUnsafeMutableBytes { system.read(keyboards[index].descriptor, into: $0) }
                guard case .success(let count) = outcome, count > 0 else {
                    if case .failure(let error) = outcome, error.rawValue != EAGAIN { gone.append(index) }
                    break
                }
                let events = buffer.withUnsafeBytes {
                    EvdevEvent.decode(UnsafeRawBufferPointer(rebasing: $0[0..<count]))
                }
                for event in events where keyboards[index].detector.handle(event) {
                    fired += 1
                    onChord()
                }
                if count < buffer.count { break }
            }
        }
        if !gone.isEmpty {
            for index in gone.reversed() {
                system.close(keyboards[index].descriptor)
                keyboards.remove(at: index)
            }
            scan()
        }
        return fired
    }

    /// Starts the listener's thread: scan, then read, listing the directory again every `rescanInterval`.
    public func start() {
        guard thread == nil else { return }
        let thread = Thread { [self] in
            defer { finished.withLock { $0 = true } }
            var lastScan = ContinuousClock.now
            scan()
            while !stopRequested.load(ordering: .relaxed) {
                if keyboards.isEmpty {
                    Thread.sleep(forTimeInterval: 0.25)
                } else {
                    readOnce(timeoutMilliseconds: 250)
                }
                if ContinuousClock.now - lastScan >= rescanInterval {
                    lastScan = ContinuousClock.now
                    scan()
                }
            }
            for keyboard in keyboards { system.close(keyboard.descriptor) }
            keyboards.removeAll()
        }
        thread.name = "gesturepad pause hotkey"
        self.thread = thread
        thread.start()
    }

    /// Stops the thread (within ~250 ms) and closes the keyboards.
    public func stop() {
        stopRequested.store(true, ordering: .relaxed)
        guard thread != nil else { return }
        let deadline = Date().addingTimeInterval(2)
        while !finished.withLock({ $0 }) && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
    }

    private func say(_ words: String, problem: Bool) {
        guard words != lastWords else { return }
        lastWords = words
        report(words, problem)
    }
}

/// The hotkey listener as a service of the daemon's group: runs until the graceful shutdown.
public struct PauseHotkeyService: Service {
    public let listener: PauseHotkeyListener
    public init(listener: PauseHotkeyListener) { self.listener = listener }

    public func run() async throws {
        listener.start()
        defer { listener.stop() }
        try? await gracefulShutdown()
    }
}
