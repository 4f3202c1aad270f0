// GesturePipeline: camera → recognizer → decision filter, on a thread of its own at the camera's
// rate, so the 60 Hz render loop never waits for an embedding. While a record key is held the same
// frames go through a SampleRecorder (throttle, near-duplicate check) and kept ones are added to the
// sample store together with their embedding (the trainer's cache, so training starts at once).
//
// Threading rules (where they bite): the recognizer, the filter, the recorder and the frame source
// belong to the pipeline thread alone (or to the caller of `processNextFrame` in synchronous mode —
// never both); the render thread only calls `snapshot`, `takeKeyEvents` and `setRecording`, which
// go through one mutex. The frame buffer is released right after framing (the sample frame is
// copied into the recognizer), so a camera's buffer ring is never held during the embedding.
import Capture
import Foundation
import Gestures
import Synchronization

/// Opens the frame source; runs on the pipeline thread (opening a camera can take a second or two).
public typealias FrameSourceOpener = @Sendable () throws(CaptureError) -> any FrameSource

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

/// The background capture → recognise → filter loop.
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

    private let recognizer: Recognizer
    private let storage: Storage
    private let opener: FrameSourceOpener
    private let sourceName: String
    private let filterSettings: DecisionFilterSettings
    private let recordingSettings: RecordingSettings
    private let retryNanoseconds: UInt64 = 3_000_000_000

    private struct Shared {
        var snapshot: PipelineSnapshot
        var keyEvents: [KeyEvent] = []
        var recordingLabel: String?
    }
    private let shared: Mutex<Shared>
    private let stopRequested = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private var thread: Thread?

    // Pipeline-thread state.
    private var source: (any FrameSource)?
    private var nextOpenAttempt: UInt64 = 0
    private var filter: DecisionFilter?
    private var filterHeadVersion: Int?
    private var recorder: SampleRecorder?

    /// A pipeline that will read frames from what `opener` opens (`sourceName` names it on screen).
    public init(
        recognizer: Recognizer, storage: Storage, sourceName: String, filterSettings: DecisionFilterSettings = .default,
        recordingSettings: RecordingSettings = RecordingSettings(), opener: @escaping FrameSourceOpener
    ) {
        self.recognizer = recognizer
        self.storage = storage
        self.sourceName = sourceName
        self.filterSettings = filterSettings
        self.recordingSettings = recordingSettings
        self.opener = opener
        shared = Mutex(Shared(snapshot: PipelineSnapshot(camera: .starting(source: sourceName))))
    }

    deinit {
        source?.close()
    }

    // MARK: Render-thread side

    /// The newest state (a copy).
    public var snapshot: PipelineSnapshot { shared.withLock { $0.snapshot } }

    /// The filter's key events since the last call, oldest first.
    public func takeKeyEvents() -> [KeyEvent] {
        shared.withLock { state in
            defer { state.keyEvents.removeAll() }
            return state.keyEvents
        }
    }

    /// Starts (a label) or stops (nil) keeping frames as samples.
    public func setRecording(label: String?) {
        shared.withLock { $0.recordingLabel = label }
    }

    /// Starts the pipeline thread.
    public func start() {
        guard thread == nil else { return }
        let thread = Thread { [self] in
            while !stopRequested.load(ordering: .relaxed) {
                if !processNextFrame() { Thread.sleep(forTimeInterval: 0.05) }
            }
            releaseKeys(atNanoseconds: Monotonic.nanoseconds())
            source?.close()
            source = nil
            finished.signal()
        }
        thread.name = "gesturepad.pipeline"
        self.thread = thread
        thread.start()
    }

    /// Stops the thread (waiting for the frame in flight) and closes the source; any held gesture key is released.
    public func stop() {
        guard thread != nil else { return }
        stopRequested.store(true, ordering: .relaxed)
        finished.wait()
        thread = nil
    }

    // MARK: Pipeline-thread side

    /// Opens the source if needed, then reads, recognises and filters one frame. Returns false when no
    /// frame was processed (the source is not open or failed; the caller waits a little).
    @discardableResult
    public func processNextFrame() -> Bool {
        let now = Monotonic.nanoseconds()
        guard let source = openSourceIfNeeded(now: now) else { return false }
        var framingError: CaptureError?
        let delivered: Void?
        do {
            delivered = try source.withNextFrame(timeoutMilliseconds: 1000) { frame in
                do throws(CaptureError) {
                    try recognizer.framer.run(frame: frame, into: recognizer.sample.baseAddress!)
                } catch {
                    framingError = error
                }
            }
        } catch {
            fail(reason: error.description, now: now)
            return false
        }
        if let framingError {
            fail(reason: framingError.description, now: now)
            return false
        }
        guard delivered != nil else {
            fail(reason: "the recording ended.", now: now)
            return false
        }
        let start = Monotonic.nanoseconds()
        let recognition = recognizer.recognizeSample()
        let frameTime = Monotonic.nanoseconds()
        let image = RGBImage(
            width: recognizer.framer.side, height: recognizer.framer.side, pixels: Array(recognizer.sample))
        let events = filterEvents(recognition, atNanoseconds: frameTime)
        let recordingLabel = shared.withLock { $0.recordingLabel }
        let kept = record(label: recordingLabel, atNanoseconds: frameTime)

        var reading = GestureReading()
        reading.labels = recognition.labels?.names ?? []
        reading.probabilities = recognition.probabilities
        reading.filterState = filter?.state ?? .idle
        reading.heldLabel = filter?.heldLabel
        reading.frameMilliseconds = Double(frameTime - start + recognition.timings.preprocess) / 1e6
        shared.withLock { state in
            reading.frameCount = state.snapshot.reading.frameCount + 1
            state.snapshot.camera = .running(source: source.sourceDescription)
            state.snapshot.cameraImage = image
            state.snapshot.reading = reading
            state.keyEvents += events
            if kept.restarted { state.snapshot.keptInRecording = 0 }
            if kept.stored {
                state.snapshot.keptInRecording += 1
                state.snapshot.storeChanges += 1
            }
            if let failure = kept.failure { state.snapshot.storeError = failure }
        }
        return true
    }

    private func openSourceIfNeeded(now: UInt64) -> (any FrameSource)? {
        if let source { return source }
        guard now >= nextOpenAttempt else { return nil }
        do {
            let opened = try opener()
            source = opened
            shared.withLock { $0.snapshot.camera = .running(source: opened.sourceDescription) }
            return opened
        } catch {
            fail(reason: error.description, now: now)
            return nil
        }
    }

    /// Marks the source failed, closes it, releases any held key and schedules a new attempt.
    private func fail(reason: String, now: UInt64) {
        source?.close()
        source = nil
        nextOpenAttempt = now + retryNanoseconds
        releaseKeys(atNanoseconds: now)
        shared.withLock { state in
            state.snapshot.camera = .failed(source: sourceName, reason: reason)
            state.snapshot.reading.filterState = .idle
            state.snapshot.reading.heldLabel = nil
        }
    }

    private func releaseKeys(atNanoseconds now: UInt64) {
        guard var current = filter else { return }
        let events = current.releaseAll(atNanoseconds: now)
        filter = current
        if !events.isEmpty { shared.withLock { $0.keyEvents += events } }
    }

    /// Runs the filter on one recognition; a new head (other labels or version) gets a fresh filter,
    /// releasing what the old one held.
    private func filterEvents(_ recognition: Recognition, atNanoseconds now: UInt64) -> [KeyEvent] {
        var events: [KeyEvent] = []
        guard let labels = recognition.labels else {
            if var old = filter { events += old.releaseAll(atNanoseconds: now) }
            filter = nil
            filterHeadVersion = nil
            return events
        }
        if filter == nil || filterHeadVersion != recognition.headVersion || filter?.labels != labels {
            if var old = filter { events += old.releaseAll(atNanoseconds: now) }
            filter = try? DecisionFilter(labels: labels, settings: filterSettings)
            if filter == nil { filter = try? DecisionFilter(labels: labels) }
            filterHeadVersion = recognition.headVersion
        }
        guard var current = filter else { return events }
        if let produced = try? current.update(probabilities: recognition.probabilities, atNanoseconds: now) {
            events += produced
        }
        filter = current
        return events
    }

    /// What recording did with one frame.
    private struct RecordOutcome {
        /// A new recording (another label) started with this frame.
        var restarted = false
        /// The frame was stored as a sample.
        var stored = false
        /// Storing failed.
        var failure: String?
    }

    /// Feeds the recorder; a kept frame is stored with its embedding.
    private func record(label: String?, atNanoseconds now: UInt64) -> RecordOutcome {
        var outcome = RecordOutcome()
        guard let label else {
            recorder = nil
            return outcome
        }
        if recorder?.label != label {
            recorder = SampleRecorder(label: label, settings: recordingSettings, startNanoseconds: now)
            outcome.restarted = true
        }
        let decision = recorder!.consider(features: UnsafeBufferPointer(recognizer.features), atNanoseconds: now)
        guard decision == .keep else { return outcome }
        do {
            try storage.store.addRecognized(
                by: recognizer, label: label, source: sourceName, cacheKey: storage.cacheKey)
            outcome.stored = true
        } catch {
            outcome.failure = error.description
        }
        return outcome
    }
}
