// DaemonControl: the control socket's `ControlHandler` for a running GestureDaemon, and the bridge
// from daemon events to the socket's broadcaster (subscribers). Status maps the daemon's snapshot
// (rolling per-stage p50/p95, fps, counts, held keys) to the protocol's DaemonStatus.
import Foundation
import Gestures
import NeuralNet

extension DaemonState {
    /// A finite recording ended (not looping); the socket still answers.
    public static let sourceEnded: DaemonState = "source-ended"
    /// The pipeline has stopped and every key is released.
    public static let stopped: DaemonState = "stopped"
}

/// Answers control requests with a GestureDaemon.
public final class DaemonControlHandler: ControlHandler {
    public let daemon: GestureDaemon
    /// Reloads the config (the pipeline service's reload: keys released, settings re-read).
    private let reloadAction: @Sendable () throws(DaemonError) -> ReloadResult

    public init(daemon: GestureDaemon, reload: @escaping @Sendable () throws(DaemonError) -> ReloadResult) {
        self.daemon = daemon
        reloadAction = reload
    }

    public var softwareVersion: String { GesturepadVersion.description }

    public func status() async -> DaemonStatus {
        let snapshot = daemon.snapshot()
        var latency: [String: StageLatency] = [:]
        for (stage, values) in snapshot.statistics.latencyMilliseconds where values.count == 2 {
            latency[stage] = StageLatency(
                p50Milliseconds: values[0], p95Milliseconds: values[1],
                count: snapshot.statistics.framesProcessed)
        }
        let counts = (try? daemon.workspace.samples.counts()) ?? [:]
        return DaemonStatus(
            state: snapshot.state, dryRun: snapshot.dryRun, dryRunReason: daemon.dryRunReason, source: snapshot.source,
            model: snapshot.model,
            headVersion: snapshot.headVersion, labels: snapshot.labels, fps: snapshot.statistics.framesPerSecond,
            latency: latency, samples: counts,
            counters: DaemonCounters(
                framesCaptured: snapshot.statistics.framesCaptured,
                framesProcessed: snapshot.statistics.framesProcessed,
                framesDropped: snapshot.statistics.framesDropped,
                predictions: snapshot.statistics.predictions,
                keyPresses: snapshot.keyPresses),
            uptimeSeconds: snapshot.uptimeSeconds, keysHeld: snapshot.heldKeys.map(\.description),
            reason: snapshot.reason, pausedBy: snapshot.pausedBy?.rawValue, pauseHotkey: snapshot.pauseHotkey,
            share: daemon.share.map { ShareStatus($0.status()) })
    }

    public func pause() async throws -> DaemonState {
        daemon.pause()
        return daemon.snapshot().state
    }

    public func resume() async throws -> DaemonState {
        daemon.resume()
        return daemon.snapshot().state
    }

    /// Records and replies with exactly what was stored: a full recording or one ended early (pause, end of source,
    /// stop) is a result whose `ended` says which; a refused request (paused, stopping, source ended) and a recording
    /// stopped by a failed write are failure replies (codes below) whose message says what was stored.
    public func record(label: String, seconds: Double) async throws -> RecordResult {
        try await record(label: label, seconds: seconds, countdown: nil)
    }

    /// `record` after `countdown` seconds (nil: the config's `countdown_seconds`), announced as events.
    public func record(label: String, seconds: Double, countdown: Double?) async throws -> RecordResult {
        let outcome: RecordingOutcome = try await withCheckedThrowingContinuation { continuation in
            do throws(DaemonError) {
                try daemon.record(label: label, seconds: seconds, countdownSeconds: countdown) {
                    continuation.resume(returning: $0)
                }
            } catch { continuation.resume(throwing: Self.commandError(error)) }
        }
        if outcome.end == .writeFailed {
            throw ControlCommandError(code: "write_failed", message: outcome.summary)
        }
        let total = (try? daemon.workspace.samples.counts()[label]) ?? nil
        return RecordResult(
            label: label, seconds: outcome.secondsRecorded, added: outcome.saved, total: total ?? outcome.saved,
            ended: outcome.end.rawValue, message: outcome.summary)
    }

    /// The protocol's code for a daemon error: `paused`, `stopping`, `source_ended` for refused recordings,
    /// `unknown_label`; anything else stays as it is (replied as `failed`).
    static func commandError(_ error: DaemonError) -> any Error {
        switch error {
        case .recordingRefused(_, let state, _):
            let code = state == .paused ? "paused" : state == .sourceEnded ? "source_ended" : "stopping"
            return ControlCommandError(code: code, message: error.description)
        case .gestures(.unknownLabel):
            return ControlCommandError(code: "unknown_label", message: error.description)
        default:
            return error
        }
    }

    public func train() async throws -> TrainResult {
        let start = ContinuousClock.now
        let result: Result<TrainedHead, GesturesError> = await withCheckedContinuation { continuation in
            do throws(DaemonError) {
                try daemon.train { continuation.resume(returning: $0) }
            } catch {
                if case .gestures(let inner) = error {
                    continuation.resume(returning: .failure(inner))
                } else {
                    continuation.resume(returning: .failure(.trainingCancelled))
                }
            }
        }
        let trained = try result.get()
        let elapsed = ContinuousClock.now - start
        return TrainResult(
            headVersion: trained.metadata.version, samples: trained.record.samplesPerLabel.values.reduce(0, +),
            loss: trained.summary.finalLoss.map(Double.init), accuracy: trained.summary.finalAccuracy.map(Double.init),
            durationSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    public func samples() async throws -> SampleCounts {
        do { return SampleCounts(counts: try daemon.workspace.samples.counts()) } catch {
            throw DaemonError.gestures(error)
        }
    }

    public func reload() async throws -> ReloadResult {
        try reloadAction()
    }
}

extension ControlEvent {
    /// The socket's form of a daemon event (nil for events subscribers do not get).
    public init?(_ event: DaemonEvent) {
        switch event {
        case .prediction(let time, let labels, let probabilities, let filterState):
            guard let top = probabilities.indices.max(by: { probabilities[$0] < probabilities[$1] }) else { return nil }
            self = .prediction(
                PredictionEvent(
                    time: Double(time) / 1e9, labels: labels, probabilities: probabilities.map(Double.init),
                    top: labels[top], confidence: Double(probabilities[top]),
                    filter: filterState.description))
        case .key(let keyEvent, let keys, let latency, _, let reason, let failure):
            self = .key(
                KeyEventPayload(
                    time: Double(keyEvent.atNanoseconds) / 1e9, action: keyEvent.kind == .down ? .down : .up,
                    label: keyEvent.label, keys: keys.map(\.description), reason: reason.rawValue,
                    latencyMilliseconds: latency.map { (Double($0) / 1e4).rounded() / 100 }, error: failure))
        case .state(let state, let reason):
            self = .state(StateEventPayload(state: state, reason: reason))
        case .sample(let label, _, let count):
            self = .training(TrainingEventPayload(phase: "sample", message: "\(label): \(count) samples"))
        case .recordingCountdown(let label, let secondsLeft):
            let message = secondsLeft > 0 ? "\(label) in \(secondsLeft)…" : "\(label): recording now"
            self = .training(TrainingEventPayload(phase: "countdown", epoch: secondsLeft, message: message))
        case .recordingFinished(let outcome):
            self = .training(TrainingEventPayload(phase: "recorded", message: outcome.summary))
        case .training(let phase, let epoch, let epochs, let loss, let accuracy, let headVersion, let message):
            self = .training(
                TrainingEventPayload(
                    phase: phase, epoch: epoch, epochs: epochs, loss: loss.map(Double.init),
                    accuracy: accuracy.map(Double.init), headVersion: headVersion, message: message))
        }
    }
}
