// GesturePipeline: the game window's side of the one live loop — a GestureSession
// (Sources/Gestures/GestureSession.swift: source and reconnect backoff, recognition, the decision
// filter and its head rule, recording, background training with the head swap, statistics) whose
// decisions become the game's gesture events, read by the render loop as snapshots for drawing.
// The window adds only what is drawn: the camera status, the sample frame, the reading, the
// training progress with its loss curve.
//
// Threading rules (where they bite): the session's loop runs on its own thread (`start`) or on the
// caller's thread (`processNextFrame`, screenshot mode) — never both; the render thread only reads
// `snapshot` and `trainingProgress` and calls `takeKeyEvents`, `setRecording` and `train`, which go
// through the session's lock or a mutex.
import SystemSupport
import Capture
import Foundation
import Gestures
import NeuralNet
import Synchronization

/// What the render loop reads from the pipeline.
public struct PipelineSnapshot: Sendable {
    /// The source's state.
    public var camera: CameraStatus
    /// The newest sample frame (mirrored as recorded), if any.
    public var cameraImage: RGBImage?
    /// The newest recognition and filter state.
    public var reading = GestureReading()
    /// Samples kept since the current recording started.
    public var keptInRecording = 0
    /// Grows by one with every sample the pipeline stores (tells the screen to reload counts).
    public var storeChanges = 0
    /// The last failure to store a sample, if any.
    public var storeError: String?
}

/// The session's decisions, queued for the game (nothing here can fail).
final class GameInputOutput: GestureOutput, Sendable {
    private let queued = Mutex<[KeyEvent]>([])

    func apply(_ decision: KeyDecision) -> KeyOutcome {
        queued.withLock { $0.append(decision.event) }
        return .done
    }
    func releaseEverything(reason: KeyReason, alreadyReported: Bool) -> KeyOutcome { .done }
    func close(alreadyReported: Bool) -> KeyOutcome { .done }

    /// The decisions since the last call, oldest first.
    func take() -> [KeyEvent] {
        queued.withLock { events in
            defer { events.removeAll() }
            return events
        }
    }
}

/// The window's gesture session: live frames (when there is a source), recording and training.
public final class GesturePipeline: @unchecked Sendable {
    /// Where samples go and their embeddings are cached.
    public struct Storage: Sendable {
        /// The sample store.
        public var store: SampleStore
        /// The trainer's embedding-cache key (`GestureTrainer.cacheKey`).
        public var cacheKey: String
        /// Storage in `store` under `cacheKey`.
        public init(store: SampleStore, cacheKey: String) {
            self.store = store
            self.cacheKey = cacheKey
        }
    }

    /// The loop.
    public let session: GestureSession
    /// Whether frames come from somewhere (false: training and the head only, no camera).
    public let hasSource: Bool
    private let output: GameInputOutput
    private let sourceName: String
    private let training = TrainingProgressBox()

    /// A pipeline reading frames from what `opener` opens (`sourceName` names it on screen; nil opener: no camera).
    /// Throws when the filter settings do not fit the labels (there is no silent fallback to other settings).
    public init(
        recognizer: Recognizer, storage: Storage, labels: LabelSet, sourceName: String,
        filterSettings: DecisionFilterSettings = .default, recordingSettings: RecordingSettings = RecordingSettings(),
        trainer: GestureTrainer? = nil, trainingOptions: TrainingOptions = TrainingOptions(),
        lensCover: LensCoverSettings = LensCoverSettings(), clock: any FrameClock = SystemFrameClock(),
        opener: FrameSourceOpener?
    ) throws(GesturesError) {
        let output = GameInputOutput()
        self.output = output
        self.sourceName = sourceName
        hasSource = opener != nil
        let progress = training
        session = try GestureSession(
            settings: GestureSessionSettings(
                sourceName: sourceName, labels: labels, filter: filterSettings, recording: recordingSettings,
                training: trainingOptions, keepsPreview: true, lensCover: lensCover),
            recognizer: recognizer, samples: storage.store, cacheKey: storage.cacheKey, trainer: trainer,
            output: output, clock: clock,
            openSource: opener ?? Self.noSource(named: sourceName),
            emit: { event in
                if case .training(let update) = event { Self.follow(update, progress: progress) }
            })
    }

    /// The opener of a pipeline without a source (never called: such a pipeline is neither started nor stepped).
    private static func noSource(named name: String) -> FrameSourceOpener {
        { () throws(CaptureError) -> any FrameSource in
            let error = CaptureError.deviceNotFound(device: name)
            throw error
        }
    }

    // MARK: Render-thread side

    /// The newest state (a copy).
    public var snapshot: PipelineSnapshot {
        let reading = session.snapshot()
        var snapshot = PipelineSnapshot(camera: camera(reading))
        snapshot.cameraImage = reading.preview
        snapshot.reading.labels = reading.predictionLabels
        snapshot.reading.probabilities = reading.probabilities
        snapshot.reading.filterState = reading.filterState
        snapshot.reading.heldLabel = reading.heldLabel
        snapshot.reading.frameMilliseconds = reading.frameMilliseconds
        snapshot.reading.frameCount = reading.frameCount
        snapshot.keptInRecording = reading.keptInRecording
        snapshot.storeChanges = reading.storeChanges
        snapshot.storeError = reading.storeError
        return snapshot
    }

    /// The camera as the screen shows it.
    private func camera(_ reading: GestureSessionSnapshot) -> CameraStatus {
        guard hasSource else { return .off }
        switch reading.state {
        case .running: return .running(source: reading.source)
        case .cameraLost, .sourceEnded: return .failed(source: sourceName, reason: reading.reason)
        case .paused:
            return .paused(source: reading.source, cause: reading.pauseCause ?? .request, reason: reading.reason)
        case .starting, .stopping, .stopped: return .starting(source: sourceName)
        }
    }

    /// The filter's key events since the last call, oldest first.
    public func takeKeyEvents() -> [KeyEvent] { output.take() }

    /// Starts (a label) or stops (nil) keeping frames as samples. A refusal (an unknown label, a stopped session)
    /// is returned in words.
    @discardableResult
    public func setRecording(label: String?) -> String? {
        guard let label else {
            session.stopRecording()
            return nil
        }
        if session.snapshot().recordingLabel == label { return nil }
        // The window counts its own countdown (a tapped key's take, on screen); a hold records at once.
        do { try session.record(label: label, seconds: nil, countdownSeconds: 0) } catch { return error.description }
        return nil
    }

    /// Starts the loop thread (only with a source).
    public func start() {
        if hasSource { session.start() }
    }

    /// Stops the loop (waiting for the frame in flight) and closes the source; any held gesture key is released.
    public func stop() { session.stop() }

    /// One round of the loop on this thread (screenshot mode: deterministic, no loop thread). Returns false when no
    /// frame was processed.
    @discardableResult
    public func processNextFrame() -> Bool {
        guard hasSource else { return false }
        let before = session.snapshot().frameCount
        session.step()
        return session.snapshot().frameCount > before
    }

    // MARK: Training

    /// The current training progress.
    public var trainingProgress: TrainingProgress { training.stored.withLock { $0 } }

    /// The latest run's held-out check (its curves while it runs, its figures after).
    public var heldOutCheck: HeldOutCheck { training.check.withLock { $0 } }

    /// Folds of the held-out check: one fifth of the takes is kept out of a check run before the real training.
    public static let heldOutFolds = 5

    /// Starts a run (a held-out check, then the head on all samples); throws `.trainingInProgress` when one is going.
    public func train(options: TrainingOptions) throws(GesturesError) {
        training.stored.withLock { $0 = .embedding(done: 0, total: 0) }
        let previousCheck = training.check.withLock { check in
            defer { check = HeldOutCheck() }
            return check
        }
        do { try session.train(options: options, heldOutFolds: Self.heldOutFolds) } catch {
            training.stored.withLock { $0 = .idle }
            training.check.withLock { $0 = previousCheck }
            throw error
        }
    }

    /// Asks a running training to stop (the head in use stays).
    public func cancelTraining() { session.cancelTraining() }

    /// Whether a run is in progress.
    public var isTraining: Bool { session.isTraining }

    /// Keeps the progress (and the loss curve) of a run from the session's events.
    private static func follow(_ update: SessionTraining, progress box: TrainingProgressBox) {
        box.stored.withLock { progress in
            switch update {
            case .started: break
            case .embedding(let done, let total): progress = .embedding(done: done, total: total)
            case .heldOutEpoch(let epoch, let epochs, let trainingLoss, let heldOutLoss):
                progress = .checking(epoch: epoch, epochs: epochs)
                box.check.withLock { check in
                    check.trainingLosses.append(trainingLoss)
                    check.heldOutLosses.append(heldOutLoss)
                }
            case .epoch(let report):
                progress = .training(
                    epoch: report.epoch, epochs: report.epochs, losses: progress.losses + [report.loss],
                    accuracy: report.accuracy)
            case .finished(let trained):
                box.check.withLock { check in
                    check.report = trained.heldOut
                    check.skippedReason = trained.heldOutSkippedReason
                    check.warnings = trained.warnings
                }
                progress = .finished(
                    version: trained.metadata.version, losses: progress.losses,
                    accuracy: trained.summary.finalAccuracy ?? 0, milliseconds: trained.summary.milliseconds)
            case .failed(let error):
                progress = .failed(reason: shortReason(error), losses: progress.losses)
            }
        }
    }

    /// The error in words fit for the small training panel.
    static func shortReason(_ error: GesturesError) -> String {
        switch error {
        case .notEnoughSamples(let counts, _):
            let listed = counts.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            return
                "Record samples of at least two labels first (now: \(listed.isEmpty ? "none" : listed.joined(separator: ", ")))."
        case .trainingCancelled:
            return "Training cancelled; the head in use is unchanged."
        default:
            return error.description
        }
    }
}

/// The training progress, shared with the session's event callback.
final class TrainingProgressBox: Sendable {
    let stored = Mutex<TrainingProgress>(.idle)
    let check = Mutex<HeldOutCheck>(HeldOutCheck())
}
