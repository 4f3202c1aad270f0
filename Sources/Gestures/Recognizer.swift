// Recognizer: frame → sample frame (crop, resample, mirror, quantise) → embedding → head
// probabilities, with per-stage timings. The head can be swapped at any time from another thread
// (a finished training run): the swap is one pointer exchange under a mutex, the next frame uses the
// new head, a frame in flight finishes with the old one. Without a head the recognizer still
// produces sample frames and embeddings (recording works before the first training).
import SystemSupport
import Capture
import Synchronization

/// Something that maps one embedding to class probabilities (a trained head).
public protocol ProbabilityHead: AnyObject {
    /// Floats in one embedding.
    var featureCount: Int { get }
    /// Number of classes (length of the probability vector).
    var classCount: Int { get }
    /// Writes `classCount` probabilities for `features`. Called from one thread at a time per instance.
    func predict(features: UnsafePointer<Float>, into probabilities: UnsafeMutablePointer<Float>)
}

/// A head ready to use: the predictor and what it predicts.
public final class ActiveHead: @unchecked Sendable {
    /// Class names in output order.
    public let labels: LabelSet
    /// Version number in the head store (0 = not stored).
    public let version: Int
    public let predictor: any ProbabilityHead

    public init(labels: LabelSet, version: Int, predictor: any ProbabilityHead) {
        precondition(
            labels.count == predictor.classCount, "head predicts \(predictor.classCount) classes, labels \(labels)")
        self.labels = labels
        self.version = version
        self.predictor = predictor
    }
}

/// Durations of the recognition stages of one frame, in nanoseconds.
public struct StageTimings: Sendable, Equatable, Codable {
    /// Frame → sample frame (colour conversion, crop, resample, mirror).
    public var preprocess: UInt64 = 0
    /// Sample frame → normalised model input.
    public var normalize: UInt64 = 0
    /// MobileNet up to the cut layer.
    public var embed: UInt64 = 0
    /// Head forward pass.
    public var head: UInt64 = 0

    public init() {}
    public var total: UInt64 { preprocess + normalize + embed + head }
}

/// The result of one frame.
public struct Recognition: Sendable {
    /// Frame sequence number and capture time (monotonic ns) from the source.
    public var sequence: UInt64
    public var timestampNanoseconds: UInt64
    /// Class probabilities in the head's label order; empty without a head.
    public var probabilities: [Float]
    /// The head's labels (nil without a head) and version.
    public var labels: LabelSet?
    public var headVersion: Int
    public var timings: StageTimings

    /// The most probable label and its probability.
    public var top: (label: String, probability: Float)? {
        guard let labels, let index = probabilities.indices.max(by: { probabilities[$0] < probabilities[$1] }) else {
            return nil
        }
        return (labels.names[index], probabilities[index])
    }
}

/// Runs frames through sample framing, the embedder and the current head.
public final class Recognizer: @unchecked Sendable {
    public let framer: SampleFramer
    public let extractor: FeatureExtractor
    private let head = Mutex<ActiveHead?>(nil)
    /// The last frame's sample [S, S, 3] uint8 and embedding; valid until the next `recognize` call.
    public let sample: UnsafeMutableBufferPointer<UInt8>
    public let features: UnsafeMutableBufferPointer<Float>
    /// The last frame's probabilities [K] (see `recognizeSample`).
    private var probabilityScratch: [Float] = []

    public init(extractor: FeatureExtractor, mirror: Bool) {
        self.extractor = extractor
        framer = SampleFramer(side: extractor.side, mirror: mirror)
        sample = .allocate(capacity: framer.byteCount)
        sample.initialize(repeating: 0)
        features = .allocate(capacity: extractor.featureCount)
        features.initialize(repeating: 0)
    }

    deinit {
        sample.deallocate()
        features.deallocate()
    }

    /// Installs `newHead` (nil removes the head); the next frame uses it. Refuses a head for other features.
    public func swapHead(_ newHead: ActiveHead?) throws(GesturesError) {
        if let newHead, newHead.predictor.featureCount != extractor.featureCount {
            throw .headDoesNotFit(
                head: "version \(newHead.version)",
                reason:
                    "it takes \(newHead.predictor.featureCount) features, the embedder gives \(extractor.featureCount)")
        }
        head.withLock { $0 = newHead }
    }

    /// The head in use.
    public var currentHead: ActiveHead? { head.withLock { $0 } }

    /// Recognises one frame; the sample frame and embedding stay in `sample` / `features` until the next call.
    public func recognize(frame: FrameView) throws(CaptureError) -> Recognition {
        var timings = StageTimings()
        let start = SystemFrameClock.nanoseconds()
        try framer.run(frame: frame, into: sample.baseAddress!)
        timings.preprocess = SystemFrameClock.nanoseconds() - start
        var result = recognizeSample(timings: timings)
        result.sequence = frame.sequence
        result.timestampNanoseconds = frame.timestampNanoseconds
        return result
    }

    /// Recognises a sample frame already in `sample` (e.g. a stored sample or a photo).
    public func recognizeSample(timings: StageTimings = StageTimings()) -> Recognition {
        var timings = timings
        var stages: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &stages) { raw in
            extractor.embed(
                sample: sample.baseAddress!, into: features.baseAddress!,
                stageNanoseconds: raw.baseAddress!.assumingMemoryBound(to: UInt64.self))
        }
        timings.normalize = stages.0
        timings.embed = stages.1
        guard let active = currentHead else {
            return Recognition(
                sequence: 0, timestampNanoseconds: 0, probabilities: [], labels: nil, headVersion: 0, timings: timings)
        }
        let headStart = SystemFrameClock.nanoseconds()
        // One buffer reused frame after frame: written in place when nobody kept the last frame's array (the
        // session copies the values out), so a frame allocates nothing; a caller that keeps a `Recognition` keeps
        // its values (copy on write).
        if probabilityScratch.count != active.predictor.classCount {
            probabilityScratch = [Float](repeating: 0, count: active.predictor.classCount)
        }
        probabilityScratch.withUnsafeMutableBufferPointer {
            active.predictor.predict(features: features.baseAddress!, into: $0.baseAddress!)
        }
        timings.head = SystemFrameClock.nanoseconds() - headStart
        return Recognition(
            sequence: 0, timestampNanoseconds: 0, probabilities: probabilityScratch, labels: active.labels,
            headVersion: active.version, timings: timings)
    }
}
