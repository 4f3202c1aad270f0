// ScreenModel: everything a frame shows, as plain values — the app state, what the camera pipeline
// saw last, the sample store's counts and thumbnails, the training run's progress. The session
// fills one per frame; the renderers draw it into a Canvas; tests build one by hand.
import Capture
import Gestures

/// Whether frames are coming in, and if not, why.
public enum CameraStatus: Equatable, Sendable {
    /// Not asked for (`--no-camera`).
    case off
    /// Opening `source` (a camera can take a second or two).
    case starting(source: String)
    /// Frames are coming from `source`.
    case running(source: String)
    /// Opening or reading failed; `reason` says why and what to do.
    case failed(source: String, reason: String)
    /// Gestures are paused (every key up) by `cause`; `reason` is the session's words. Not a failure: a covered lens
    /// keeps the camera open and a second cover resumes.
    case paused(source: String, cause: PauseCause, reason: String)

    /// Whether live frames are arriving.
    public var isRunning: Bool {
        if case .running = self { return true }
        return false
    }
}

/// The newest output of the gesture pipeline.
public struct GestureReading: Sendable, Equatable {
    /// Class names in probability order (the current head's labels); empty without a head.
    public var labels: [String] = []
    /// Probabilities of the last frame (empty without a head).
    public var probabilities: [Float] = []
    /// The decision filter's state.
    public var filterState: FilterState = .idle
    /// The label whose key the filter holds, if any.
    public var heldLabel: String?
    /// Milliseconds the last frame took (preprocess + embed + head).
    public var frameMilliseconds: Double = 0
    /// Frames processed so far.
    public var frameCount: Int = 0

    /// Creates an empty reading.
    public init() {}

    /// The most probable label and its probability.
    public var top: (label: String, probability: Float)? {
        guard let index = probabilities.indices.max(by: { probabilities[$0] < probabilities[$1] }),
            index < labels.count
        else { return nil }
        return (labels[index], probabilities[index])
    }
}

/// The training run as the screens show it.
public enum TrainingProgress: Equatable, Sendable {
    /// Nothing started in this session.
    case idle
    /// Computing embeddings of samples not cached yet.
    case embedding(done: Int, total: Int)
    /// The held-out check (a head trained without a fifth of the takes) finished epoch `epoch` of `epochs`.
    case checking(epoch: Int, epochs: Int)
    /// Epoch `epoch` of `epochs` finished; `losses` holds every finished epoch's loss.
    case training(epoch: Int, epochs: Int, losses: [Float], accuracy: Float)
    /// Finished: head `version` is in use.
    case finished(version: Int, losses: [Float], accuracy: Float, milliseconds: Double)
    /// Failed or cancelled; `reason` says why and what to do.
    case failed(reason: String, losses: [Float])

    /// Whether a run is in progress.
    public var isRunning: Bool {
        switch self {
        case .embedding, .checking, .training: true
        default: false
        }
    }

    /// The loss curve so far.
    public var losses: [Float] {
        switch self {
        case .training(_, _, let losses, _), .finished(_, let losses, _, _), .failed(_, let losses): losses
        default: []
        }
    }
}

/// The held-out check of the latest training run (`TrainingRequest.heldOutFolds`): its loss curves while it
/// runs, then its figures; plus what is weak about the samples.
public struct HeldOutCheck: Equatable, Sendable {
    /// Per epoch of the check run: the loss on its training part.
    public var trainingLosses: [Float] = []
    /// Per epoch of the check run: the loss on the held-out takes.
    public var heldOutLosses: [Float] = []
    /// The finished check (nil while it runs, or when it was skipped).
    public var report: HeldOutReport?
    /// Why the check did not run (too few samples), if it did not.
    public var skippedReason: String?
    /// What is weak about the samples (known when the run finished).
    public var warnings: [DatasetWarning] = []

    /// An empty check.
    public init() {}
}

/// What the training screen shows of one label's samples.
public struct LabelSamples: Sendable, Equatable {
    /// Stored samples of the label.
    public var count: Int
    /// The newest thumbnails, newest first.
    public var thumbnails: [RGBImage]

    /// A label's count and thumbnails.
    public init(count: Int, thumbnails: [RGBImage]) {
        self.count = count
        self.thumbnails = thumbnails
    }
}

/// One frame's worth of state for the renderers.
public struct ScreenModel: Sendable {
    /// The app (screen, game, selection, knobs).
    public var app: App
    /// The camera's state.
    public var camera: CameraStatus = .off
    /// The last sample frame (224×224, mirrored as recorded), if any.
    public var cameraImage: RGBImage?
    /// The last recognition.
    public var reading = GestureReading()
    /// Samples per label (labels without samples may be absent).
    public var samples: [String: LabelSamples] = [:]
    /// The training run.
    public var training: TrainingProgress = .idle
    /// The latest run's held-out check and data set warnings.
    public var heldOut = HeldOutCheck()
    /// What the sample browser shows (when `app.browser` is open).
    public var browser = BrowserContents()
    /// The head in use (nil: none trained yet).
    public var headVersion: Int?
    /// Why gestures are unavailable altogether (no model installed…), if they are.
    public var gesturesUnavailableReason: String?
    /// A short message shown for a few seconds (deleted a sample, cannot record…).
    public var toast: String?
    /// Samples kept in the current recording.
    public var recordedInSession: Int = 0
    /// Frames drawn so far (drives blinking).
    public var frameNumber: Int = 0

    /// A model of `app` with nothing else known yet.
    public init(app: App) {
        self.app = app
    }
}
