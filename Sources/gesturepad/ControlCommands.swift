// `gesturepad status | monitor | pause | resume | record LABEL | reload` and `gesturepad control …`
// (the same plus `train` and `samples`, whose top-level names belong to the offline commands):
// clients of the running daemon's control socket. Wiring only: Daemon.ControlClient does the
// talking; here we pick timeouts, print text or the daemon's JSON (`--json`), and exit 1 on failure.
import ArgumentParser
import Daemon
import Foundation
import Settings
import Synchronization

/// Options every control command takes.
struct ControlOptions: ParsableArguments {
    @Option(name: .long, help: "Control socket path (default: $XDG_RUNTIME_DIR/gesturepad/control.sock).")
    var socket: String?

    @Flag(name: .long, help: "Print the daemon's JSON reply (one line per reply or event), for scripts.")
    var json = false

    func client(timeout: Duration = .seconds(10)) throws -> ControlClient {
        ControlClient(location: try ControlSocketLocation.resolve(socket), timeout: timeout)
    }

    /// Sends `request`; with --json prints the raw reply (exit 1 when not ok), else returns it checked.
    func send(_ request: ControlRequest, timeout: Duration = .seconds(10)) throws -> ControlResponse? {
        let response = try client(timeout: timeout).send(request)
        if json {
            print(response.line)
            if !response.ok { throw ExitCode.failure }
            return nil
        }
        return try response.check()
    }
}

/// `gesturepad control <command>`: every control-socket command in one place.
struct Control: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Talk to the running daemon (also available at top level: status, monitor, pause, resume, record, reload).",
        subcommands: [
            ControlStatus.self, Monitor.self, Pause.self, Resume.self, Record.self, ControlTrain.self,
            ControlSamples.self, Reload.self,
        ])
}

struct ControlStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "The daemon's state, model, head, fps, per-stage latency and counts.")
    @OptionGroup var control: ControlOptions

    func run() throws {
        guard let response = try control.send(.status) else { return }
        print(StatusText.render(try response.result(DaemonStatus.self)), terminator: "")
    }
}

struct Monitor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the daemon's events (predictions, keys, state, training) as they happen; Ctrl-C stops.")
    @OptionGroup var control: ControlOptions
    @Flag(name: .long, help: "Leave out per-frame prediction events (keys, state and training only).")
    var noPredictions = false

    func run() throws {
        let reader = try control.client().subscribe()
        defer { reader.close() }
        var clock = MonitorClock()
        if !control.json { writeLine("time: seconds since monitor started") }
        while let line = try reader.next(timeout: nil) {
            if noPredictions, case .prediction = line.event { continue }
            // Unbuffered, so `gesturepad monitor | grep …` sees each event as it happens.
            let text = control.json ? line.line : EventText.render(line, clock: &clock)
            FileHandle.standardOutput.write(Data((text + "\n").utf8))
        }
    }
}

struct Pause: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop pressing keys (every held key is released).")
    @OptionGroup var control: ControlOptions

    func run() throws {
        guard let response = try control.send(.pause) else { return }
        print("daemon \(try response.result(StateResult.self).state)")
    }
}

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Press keys again after pause.")
    @OptionGroup var control: ControlOptions

    func run() throws {
        guard let response = try control.send(.resume) else { return }
        print("daemon \(try response.result(StateResult.self).state)")
    }
}

struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Record samples of LABEL from the daemon's camera.")
    @OptionGroup var control: ControlOptions
    @Argument(help: "The gesture label to record (e.g. up).") var label: String
    @Option(name: .long, help: "Seconds to record (0 < N ≤ 600), after the countdown.") var seconds: Double =
        ControlProtocol.defaultRecordSeconds
    @Option(name: .long, help: "Seconds to get into pose before recording starts (0 to 30; 0: at once).")
    var countdown: Double = ControlProtocol.defaultCountdownSeconds

    func validate() throws {
        guard seconds > 0, seconds <= ControlProtocol.maximumRecordSeconds else {
            throw ValidationError("--seconds must be > 0 and ≤ \(Int(ControlProtocol.maximumRecordSeconds))")
        }
        guard countdown >= 0, countdown <= ControlProtocol.maximumCountdownSeconds else {
            throw ValidationError("--countdown must be 0 to \(Int(ControlProtocol.maximumCountdownSeconds)) seconds")
        }
    }

    func run() throws {
        let timeout = Duration.seconds(countdown + seconds + 60)
        // The countdown from the daemon's events, as it happens ("up in 3… 2… 1… recording").
        let (label, seconds) = (label, seconds)
        let printer =
            control.json || countdown == 0
            ? nil
            : EventPrinter(control) { line in
                if case .training(let event) = line.event, event.phase == "countdown", let left = event.epoch {
                    writeLine(left > 0 ? "\(label) in \(left)…" : "recording \(label) for \(format(seconds)) s")
                }
            }
        defer { printer?.stop() }
        let request = ControlRequest.record(label: label, seconds: seconds, countdown: countdown)
        guard let response = try control.send(request, timeout: timeout) else { return }
        let result = try response.result(RecordResult.self)
        guard result.completed else {
            // Ended early (paused, the source ended, the daemon stopping): what was stored, and exit 1.
            let message = result.message ?? "recording ended early (\(result.ended ?? "?"))"
            FileHandle.standardError.write(
                Data("gesturepad record: \(message) (\(result.total) stored for \(result.label))\n".utf8))
            throw ExitCode.failure
        }
        print(
            "recorded \(result.added) samples of \(result.label) in \(format(result.seconds)) s "
                + "(\(result.total) stored)")
    }
}

struct ControlTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Have the daemon train a new head from its samples and swap it in.")
    @OptionGroup var control: ControlOptions

    func run() throws {
        // Progress while the daemon trains (embedding the samples, then the epochs) from its event stream; a daemon
        // that refuses subscribers still trains, just silently.
        let printer =
            control.json
            ? nil
            : EventPrinter(control) { line in
                if case .training(let training) = line.event,
                    ["started", "embedding", "epoch", "failed"].contains(training.phase)
                {
                    writeLine("  " + TrainingText.render(training))
                }
            }
        if printer != nil { writeLine("training in the daemon (progress below)…") }
        defer { printer?.stop() }
        guard let response = try control.send(.train, timeout: .seconds(3600)) else { return }
        let result = try response.result(TrainResult.self)
        var text = "head v\(result.headVersion): \(result.samples) samples, \(format(result.durationSeconds)) s"
        if let loss = result.loss { text += ", loss \(String(format: "%.4f", loss))" }
        if let accuracy = result.accuracy { text += ", accuracy \(String(format: "%.1f%%", accuracy * 100))" }
        print(text)
    }
}

struct ControlSamples: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "samples", abstract: "The daemon's stored sample counts.")
    @OptionGroup var control: ControlOptions

    func run() throws {
        guard let response = try control.send(.samples) else { return }
        let result = try response.result(SampleCounts.self)
        for (label, count) in result.counts.sorted(by: { $0.key < $1.key }) { print("\(pad(label, 10)) \(count)") }
        print("\(pad("total", 10)) \(result.total)")
    }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Re-read the config and the current head (like SIGHUP).")
    @OptionGroup var control: ControlOptions

    func run() throws {
        guard let response = try control.send(.reload, timeout: .seconds(120)) else { return }
        try response.check()
        // A daemon from before the reload result answers without one.
        let result = (try? response.result(ReloadResult.self)) ?? ReloadResult()
        let head =
            switch (result.headBefore, result.headAfter) {
            case (let before?, let after?) where before != after: ": head v\(before) → v\(after)"
            case (_, let after?): ": head v\(after) (unchanged)"
            case (let before?, nil): ": head v\(before) → none"
            case (nil, nil): ": no head"
            }
        print(result.restartNeeded.isEmpty ? "reloaded\(head)" : "reloaded\(head), except:")
        for note in result.restartNeeded { print("  \(note)") }
    }
}

// MARK: - Text output

enum StatusText {
    /// Aligned `name  value` lines, then a latency table (stages in pipeline order).
    static func render(_ status: DaemonStatus) -> String {
        var lines: [(String, String)] = []
        let dryRun = " (dry run: no keys injected" + (status.dryRunReason.map { ", because \($0)" } ?? "") + ")"
        lines.append(("state", status.state.rawValue + (status.dryRun ? dryRun : "")))
        if let reason = status.reason, status.state == .paused { lines.append(("why", reason)) }
        lines.append(("source", status.source))
        lines.append(("model", status.model ?? "none"))
        lines.append(("head", status.headVersion.map { "v\($0)" } ?? "none (train one: gesturepad control train)"))
        lines.append(("labels", status.labels.joined(separator: ", ")))
        lines.append(("fps", String(format: "%.1f", status.fps)))
        lines.append(("uptime", duration(status.uptimeSeconds)))
        lines.append(("keys held", status.keysHeld.isEmpty ? "none" : status.keysHeld.joined(separator: ", ")))
        if let hotkey = status.pauseHotkey { lines.append(("pause hotkey", hotkey)) }
        let sampleLabels = status.labels + status.samples.keys.filter { !status.labels.contains($0) }.sorted()
        let samples = sampleLabels.map { "\($0) \(status.samples[$0] ?? 0)" }.joined(separator: ", ")
        lines.append(("samples", "\(samples)  (total \(status.samples.values.reduce(0, +)))"))
        let counters = status.counters
        lines.append(
            (
                "frames",
                "\(counters.framesCaptured) captured, \(counters.framesProcessed) processed, \(counters.framesDropped) dropped, "
                    + "\(counters.predictions) predictions, \(counters.keyPresses) key presses"
            ))
        lines.append(("subscribers", "\(status.subscribers)"))
        if let share = status.share {
            let rate = share.fps.map { String(format: ", %.1f fps", $0) } ?? ""
            lines.append(("share", "\(share.device): \(share.state)\(share.format.map { ", \($0)" } ?? "")"))
            lines.append(
                ("share frames", "\(share.framesWritten) written (\(share.stillFramesWritten) still)\(rate)"))
            lines.append(
                ("share readers", share.readers.map { "\($0)" } ?? "not reported (v4l2loopback does not count them)"))
            if let error = share.lastError { lines.append(("share error", error)) }
        }
        var text = lines.map { "\(pad($0.0, 12)) \($0.1)\n" }.joined()
        let stages =
            DaemonStatus.stageOrder.filter { status.latency[$0] != nil }
            + status.latency.keys.filter { !DaemonStatus.stageOrder.contains($0) }.sorted()
        if !stages.isEmpty {
            text += "\n\(pad("stage", 12)) \(padLeft("p50 ms", 9)) \(padLeft("p95 ms", 9)) \(padLeft("n", 8))\n"
            for stage in stages {
                let latency = status.latency[stage]!
                let p50 = padLeft(String(format: "%.2f", latency.p50Milliseconds), 9)
                let p95 = padLeft(String(format: "%.2f", latency.p95Milliseconds), 9)
                text += "\(pad(stage, 12)) \(p50) \(p95) \(padLeft("\(latency.count)", 8))\n"
            }
        }
        return text
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded(.down))
        let (hours, minutes, rest) = (total / 3600, total % 3600 / 60, total % 60)
        return hours > 0
            ? String(format: "%dh %02dm %02ds", hours, minutes, rest)
            : minutes > 0 ? String(format: "%dm %02ds", minutes, rest) : "\(rest)s"
    }
}

/// Event times for `monitor`: seconds since the monitor started. The daemon stamps events on its monotonic clock,
/// which means nothing to a reader; the first event is placed at the moment it arrived and later ones keep their
/// spacing from the daemon's stamps (so arrival jitter does not bend them).
struct MonitorClock {
    let start = ContinuousClock.now
    private var anchor: (event: Double, local: Double)?

    /// `eventSeconds` (daemon monotonic) as seconds since this monitor started.
    mutating func seconds(_ eventSeconds: Double) -> Double {
        if anchor == nil {
            let elapsed = ContinuousClock.now - start
            anchor = (eventSeconds, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
        return anchor!.local + (eventSeconds - anchor!.event)
    }
}

enum EventText {
    /// One line per event, time (seconds since the monitor started) first.
    static func render(_ line: ControlEventLine, clock: inout MonitorClock) -> String {
        guard let event = line.event else { return line.line }
        switch event {
        case .prediction(let prediction):
            let bars = zip(prediction.labels, prediction.probabilities).map { "\($0) \(String(format: "%.2f", $1))" }
            let confidence = String(format: "%.2f", prediction.confidence)
            return "\(time(clock.seconds(prediction.time))) prediction \(pad(prediction.top, 6)) \(confidence)"
                + "  [\(bars.joined(separator: " "))]  filter: \(prediction.filter)"
        case .key(let key):
            let verb = key.action == .down ? "pressed " : "released"
            return
                "\(time(clock.seconds(key.time))) key \(verb) \(key.label.uppercased()) (\(key.keys.joined(separator: "+")))"
                + (key.reason.map { " — \($0)" } ?? "")
                + (key.latencyMilliseconds.map { String(format: ", frame-to-key %.1f ms", $0) } ?? "")
                + (key.error.map { " — FAILED: \($0)" } ?? "")
        case .state(let state):
            return "state \(state.state)" + (state.reason.map { " (\($0))" } ?? "")
        case .training(let training) where training.phase == "countdown":
            let left = training.epoch ?? 0
            return "recording " + (left > 0 ? "\(training.message ?? "") (get into pose)" : training.message ?? "now")
        case .training(let training) where training.phase == "sample" || training.phase == "recorded":
            return "recording \(training.phase): \(training.message ?? "")"
        case .training(let training):
            return "training " + TrainingText.render(training)
        case .dropped(let reason):
            return "dropped by the daemon: \(reason) (reconnect to continue)"
        }
    }

    static func time(_ seconds: Double) -> String { String(format: "%9.3f s", seconds) }
}

enum TrainingText {
    /// `epoch 3/20 loss 0.1234 accuracy 95.0%`, `finished head v5`, `failed: …`.
    static func render(_ training: TrainingEventPayload) -> String {
        var text = training.phase
        if let epoch = training.epoch { text += " \(epoch)/\(training.epochs.map(String.init) ?? "?")" }
        if let loss = training.loss { text += String(format: " loss %.4f", loss) }
        if let accuracy = training.accuracy { text += String(format: " accuracy %.1f%%", accuracy * 100) }
        if let version = training.headVersion { text += " head v\(version)" }
        if let message = training.message { text += ": \(message)" }
        return text
    }
}

private func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

private func padLeft(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}

/// `text` and a newline straight to standard output (unbuffered: lines from a helper thread appear as they happen).
/// Prints chosen daemon events while a command waits for its reply: a thread reads the event stream (a second
/// connection, `subscribe`) and hands each line to `handle` until `stop` or the end of the stream. A daemon that
/// refuses subscribers gives no printer; the command still works, just without progress.
private final class EventPrinter: Sendable {
    private let stopped = Mutex(false)
    private let ended = DispatchSemaphore(value: 0)

    init?(_ control: ControlOptions, handle: @escaping @Sendable (ControlEventLine) -> Void) {
        guard let reader = try? control.client().subscribe() else { return nil }
        let thread = Thread { [self] in
            defer {
                reader.close()
                ended.signal()
            }
            while !stopped.withLock({ $0 }) {
                let line: ControlEventLine?
                do {
                    line = try reader.next(timeout: .milliseconds(200))
                } catch DaemonError.controlTimeout {
                    continue
                } catch {
                    return
                }
                guard let line else { return }  // the daemon closed the stream
                handle(line)
            }
        }
        thread.start()
    }

    /// Stops reading and waits for the thread (at most one 200 ms read).
    func stop() {
        stopped.withLock { $0 = true }
        ended.wait()
    }
}

private func writeLine(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

private func format(_ seconds: Double) -> String { String(format: "%.1f", seconds) }
