// GameSession: the window's wiring without SDL — the App state machine, the gesture pipeline (the
// shared GestureSession: camera, recording, training) and the sample store, turned into one ScreenModel per frame and drawn by the
// ScreenRenderer. The SDL shell feeds it keys and asks for frames; tests drive it directly. Every
// part but the App is optional: no model installed → no pipeline and no training (a message says
// why), no camera → keyboard play, no store → no tiles.
import Capture
import Game
import Gestures
import NeuralNet
import Raster

/// What a session is made of.
public struct GameSessionParts {
    /// The sample store (nil: tiles show no samples).
    public var store: SampleStore?
    /// The gesture session: live frames when it has a source, recording, training (nil: no model).
    public var pipeline: GesturePipeline?
    /// The live recognizer (for the head version on screen).
    public var recognizer: Recognizer?
    /// Why gestures are off altogether (no model…), shown on screen.
    public var gesturesUnavailableReason: String?
    /// Why there is no camera when `pipeline` is nil (nil: `--no-camera`).
    public var cameraUnavailableReason: String?

    /// Parts of a session; all optional.
    public init(
        store: SampleStore? = nil, pipeline: GesturePipeline? = nil, recognizer: Recognizer? = nil,
        gesturesUnavailableReason: String? = nil, cameraUnavailableReason: String? = nil
    ) {
        self.store = store
        self.pipeline = pipeline
        self.recognizer = recognizer
        self.gesturesUnavailableReason = gesturesUnavailableReason
        self.cameraUnavailableReason = cameraUnavailableReason
    }
}

/// One window's worth of state and its collaborators.
public final class GameSession {
    /// The state machine.
    public private(set) var app: App
    private let parts: GameSessionParts
    private var renderer = ScreenRenderer()
    private var frameNumber = 0
    private var toast: (text: String, untilFrame: Int)?
    private var samples: [String: LabelSamples] = [:]
    private var knownRevision: Int64?
    private var knownPipelineChanges = -1
    private var lastSnapshot: PipelineSnapshot?
    private var reportedStoreError: String?
    /// Thumbnails per label on the tiles.
    static let thumbnailsPerLabel = 4
    /// How long a toast stays, in frames (3 s at 60 Hz).
    static let toastFrames = 180

    /// A session around `app` with `parts`; starts nothing (call `startPipeline` for a live camera).
    public init(app: App, parts: GameSessionParts) {
        self.app = app
        self.parts = parts
        refreshSamples(force: true)
    }

    /// Whether the user asked to quit.
    public var isQuitRequested: Bool { app.isQuitRequested }

    /// Where the training screen drew each label's count in the last frame.
    public var countTexts: [(label: String, text: String, origin: Point, scale: Int)] { renderer.countTexts }

    /// Starts the pipeline thread (live mode).
    public func startPipeline() { parts.pipeline?.start() }

    /// Stops the pipeline and cancels training; call before exit.
    public func shutdown() {
        parts.pipeline?.setRecording(label: nil)
        parts.pipeline?.stop()
    }

    // MARK: Input

    /// A key went down.
    public func keyDown(_ key: AppKey, isRepeat: Bool = false, shift: Bool = false) {
        perform(app.keyDown(key, isRepeat: isRepeat, shift: shift))
    }

    /// A key went up.
    public func keyUp(_ key: AppKey) {
        perform(app.keyUp(key))
    }

    /// The window was closed.
    public func quit() {
        perform(app.quit())
    }

    /// The window lost the keyboard: every held key counts as released (recording stops).
    public func releaseAllKeys() {
        perform(app.releaseAllKeys())
    }

    private func perform(_ commands: [AppCommand]) {
        for command in commands {
            switch command {
            case .startRecording(let label):
                if let reason = recordingUnavailableReason() {
                    show(reason)
                } else if let refusal = parts.pipeline?.setRecording(label: label) {
                    show("Cannot record: \(refusal)")
                }
            case .stopRecording:
                parts.pipeline?.setRecording(label: nil)
            case .deleteLastSample(let label):
                deleteLastSample(of: label)
            case .train(let options):
                startTraining(options)
            case .cancelTraining:
                if parts.pipeline?.isTraining == true {
                    parts.pipeline?.cancelTraining()
                    show("Cancelling training...")
                }
            case .quit:
                break
            }
        }
    }

    private func recordingUnavailableReason() -> String? {
        if let reason = parts.gesturesUnavailableReason { return "Cannot record: \(reason)" }
        guard let pipeline = parts.pipeline, pipeline.hasSource else {
            return "Cannot record without a camera. Run `gesturepad devices`, or start with --source clip.y4m."
        }
        if case .failed(_, let reason) = pipeline.snapshot.camera { return "Cannot record: \(reason)" }
        return nil
    }

    private func deleteLastSample(of label: String) {
        guard let store = parts.store else { return show("No sample store is open.") }
        do {
            guard let latest = try store.latestSample(label: label) else {
                return show("No \(label.uppercased()) samples to delete.")
            }
            try store.delete(id: latest.id)
            show("Deleted the last \(label.uppercased()) sample (#\(latest.id)).")
        } catch {
            show("Could not delete: \(error.description)")
        }
        refreshSamples(force: true)
    }

    private func startTraining(_ options: TrainingOptions) {
        guard let training = parts.pipeline else {
            return show("Cannot train: \(parts.gesturesUnavailableReason ?? "no embedding model is loaded").")
        }
        do {
            try training.train(options: options)
            show("Training started: the new head takes over when it is ready.")
        } catch {
            if case .trainingInProgress = error {
                show("Training is already running (C cancels it).")
            } else {
                show(GesturePipeline.shortReason(error))
            }
        }
    }

    /// Shows `text` for a few seconds.
    public func show(_ text: String) {
        toast = (text, frameNumber + Self.toastFrames)
    }

    // MARK: Time

    /// Advances `ticks` game ticks (60 Hz), after taking the pipeline's gesture events.
    public func advance(ticks: Int) {
        if let pipeline = parts.pipeline {
            app.gestureEvents(pipeline.takeKeyEvents())
        }
        for _ in 0..<max(0, ticks) { app.tick() }
    }

    /// Runs one pipeline frame on this thread (screenshot mode: deterministic, no pipeline thread).
    public func processPipelineFrame() {
        parts.pipeline?.processNextFrame()
    }

    // MARK: Frames

    /// Builds this frame's model and draws it.
    @discardableResult
    public func render() -> Canvas {
        frameNumber += 1
        refreshSamples(force: false)
        return renderer.render(model())
    }

    /// The model of the current frame (what `render` draws).
    public func model() -> ScreenModel {
        var model = ScreenModel(app: app)
        model.frameNumber = frameNumber
        model.samples = samples
        model.training = parts.pipeline?.trainingProgress ?? .idle
        model.headVersion = parts.recognizer?.currentHead?.version
        model.gesturesUnavailableReason = parts.gesturesUnavailableReason
        if let pipeline = parts.pipeline, pipeline.hasSource {
            let snapshot = pipeline.snapshot
            model.camera = snapshot.camera
            model.cameraImage = snapshot.cameraImage
            model.reading = snapshot.reading
            model.recordedInSession = snapshot.keptInRecording
        } else if let reason = parts.cameraUnavailableReason {
            model.camera = .failed(source: "camera", reason: reason)
        }
        if let toast, toast.untilFrame > frameNumber { model.toast = toast.text }
        return model
    }

    /// Reloads counts and thumbnails when the store changed (checked every half second, or at once
    /// when the pipeline stored a sample or `force`).
    private func refreshSamples(force: Bool) {
        lastSnapshot = parts.pipeline?.snapshot
        if let error = lastSnapshot?.storeError, error != reportedStoreError {
            reportedStoreError = error
            show("Could not store a sample: \(error)")
        }
        guard let store = parts.store else { return }
        let pipelineChanges = lastSnapshot?.storeChanges ?? 0
        guard force || pipelineChanges != knownPipelineChanges || frameNumber % 30 == 0 else { return }
        knownPipelineChanges = pipelineChanges
        do {
            let revision = try store.revision()
            guard force || revision != knownRevision else { return }
            knownRevision = revision
            let counts = try store.counts()
            var loaded: [String: LabelSamples] = [:]
            for label in app.labels.names {
                let thumbnails = try store.thumbnails(label: label, limit: Self.thumbnailsPerLabel).map(\.image)
                loaded[label] = LabelSamples(count: counts[label] ?? 0, thumbnails: thumbnails)
            }
            samples = loaded
        } catch {
            show("Could not read the samples: \(error.description)")
        }
    }
}
