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
import Settings
import SystemSupport

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
    /// Where training settings changed on the screen are kept (`DataDirectory.editedSettings`; nil: not kept).
    public var editedSettingsPath: String?

    /// Parts of a session; all optional.
    public init(
        store: SampleStore? = nil, pipeline: GesturePipeline? = nil, recognizer: Recognizer? = nil,
        gesturesUnavailableReason: String? = nil, cameraUnavailableReason: String? = nil,
        editedSettingsPath: String? = nil
    ) {
        self.editedSettingsPath = editedSettingsPath
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
    private var hasKeptOptions = false
    /// The sample browser's label's samples (oldest first) and what is loaded for drawing.
    private var browserInfos: [SampleInfo] = []
    private var browserContents = BrowserContents()
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

    /// A mouse click at logical coordinates (the tiles open the sample browser; in it, a click picks or marks).
    public func click(x: Int, y: Int) {
        perform(app.click(x: x, y: y))
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
            case .countdownStarted:
                // A take that cannot record says so now, not after its countdown.
                if let reason = recordingUnavailableReason() {
                    show(reason)
                    perform(app.stopRecording())
                }
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
            case .keepTrainingOptions(let options):
                keep(options)
            case .openBrowser(let label):
                showBrowser(label: label)
            case .browse(let action):
                browse(action)
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
        switch pipeline.snapshot.camera {
        case .failed(_, let reason): return "Cannot record: \(reason)"
        case .paused(_, let cause, let reason):
            return "Cannot record while paused. "
                + CameraText.pausedAdvice(cause: cause, reason: reason, compact: false)
        default: return nil
        }
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

    // MARK: Sample browser

    /// Loads `label`'s samples into the browser (opening it).
    private func showBrowser(label: String) {
        guard let store = parts.store else { return show("No sample store is open.") }
        do {
            browserInfos = try store.samples(label: label)
            browserContents.counts = try store.counts()
        } catch {
            return show("Could not read the samples: \(error.description)")
        }
        app.showBrowser(label: label, ids: browserInfos.map(\.id))
        refreshSamples(force: true)
    }

    /// Carries out a browser action on the store (one transaction each) and reloads the browser.
    private func browse(_ action: BrowserAction) {
        guard let store = parts.store, let browser = app.browser else { return }
        let label = browser.label
        do {
            switch action {
            case .show(let other):
                return showBrowser(label: other)
            case .delete(let ids):
                let deleted = try store.delete(ids: ids)
                show("Deleted \(deleted) \(label.uppercased()) sample\(deleted == 1 ? "" : "s") (\(Self.idList(ids))).")
            case .relabel(let ids, let newLabel):
                let moved = try store.relabel(ids: ids, to: newLabel)
                show(
                    "Moved \(moved) sample\(moved == 1 ? "" : "s") (\(Self.idList(ids))) from \(label.uppercased()) "
                        + "to \(newLabel.uppercased()).")
            case .close:
                app.closeBrowser()
                return
            }
        } catch {
            show("Nothing changed: \(error.description)")
        }
        browserContents.thumbnails.removeAll()
        showBrowser(label: label)
    }

    /// "#12, #13, #14" (at most five, then "…").
    static func idList(_ ids: [Int64]) -> String {
        ids.prefix(5).map { "#\($0)" }.joined(separator: ", ") + (ids.count > 5 ? ", ..." : "")
    }

    /// Loads what the open browser shows and is not loaded yet: the page's thumbnails, the cursor's frame.
    private func loadBrowserContents() {
        guard let browser = app.browser, let store = parts.store else { return }
        let missing = browser.pageIDs.filter { browserContents.thumbnails[$0] == nil }
        do throws(GesturesError) {
            if !missing.isEmpty {
                // Keep the cache to about two pages.
                if browserContents.thumbnails.count > 2 * SampleBrowser.pageSize {
                    browserContents.thumbnails.removeAll()
                }
                for thumbnail in try store.thumbnails(ids: Array(browser.pageIDs)) {
                    browserContents.thumbnails[thumbnail.id] = thumbnail.image
                }
            }
            if let id = browser.cursorID, browserContents.preview?.info.id != id,
                let info = browserInfos.first(where: { $0.id == id })
            {
                browserContents.preview = (info, try store.frame(id: id))
            }
        } catch {
            show("Could not read a sample: \(error.description)")
        }
    }

    /// Writes the training settings to the edited-settings file (atomically); the first write of a session says
    /// where, a failure says why.
    private func keep(_ options: TrainingOptions) {
        guard let path = parts.editedSettingsPath else { return }
        do throws(AtomicFileError) {
            try EditedSettings.write(options, to: path)
            if !hasKeptOptions {
                hasKeptOptions = true
                show("Kept for the next start and for `gesturepad train` (\(path)).")
            }
        } catch {
            show("Could not keep the training settings: \(error.description)")
        }
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
        for _ in 0..<max(0, ticks) { perform(app.tick()) }
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
        model.heldOut = parts.pipeline?.heldOutCheck ?? HeldOutCheck()
        if app.browser != nil {
            loadBrowserContents()
            model.browser = browserContents
        }
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
