// SampleRecorder: decides which live frames become training samples while the user holds a
// record key. The TF.js demo stored one sample per animation frame (~60 near-identical samples a
// second, ANCHORS.md); we keep at most `samplesPerSecond`, skip frames whose embedding is a
// near-duplicate of the last kept one (the hand did not move), and can start with a countdown so
// the user can get into pose. Pure: time comes in through the calls.

/// How recording picks samples.
public struct RecordingSettings: Codable, Equatable, Sendable {
    /// Upper bound on kept samples per second (default 10).
    public var samplesPerSecond: Double
    /// Frames whose embedding differs from the last kept one by less than this relative L2 distance
    /// (‖a − b‖ / ‖b‖) are skipped as near-duplicates (default 0.25; 0 keeps every throttled frame).
    /// Measured on MobileNet v1 1.0 conv_pw_13_relu with simulated frames (JitteredPhotoEmbeddingTests):
    /// a still scene with sensor noise σ=4 gives ≤ 0.19, a subject moving by a few % gives 0.5–0.9,
    /// another scene ≥ 1.2.
    public var duplicateDistance: Float
    /// Seconds of countdown before the first sample is kept (default 0).
    public var countdownSeconds: Double

    /// Seconds a take records when the requester names none: `gesturepad record` and a tapped key in the window.
    public static let defaultTakeSeconds = 5.0
    /// The countdown `gesturepad record` and a tapped key in the window give when none is asked for: time to get
    /// into pose (the config's `countdown_seconds`, default 0, is for requests that name none, such as the daemon's).
    public static let defaultTakeCountdownSeconds = 3.0

    public init(samplesPerSecond: Double = 10, duplicateDistance: Float = 0.25, countdownSeconds: Double = 0) {
        self.samplesPerSecond = samplesPerSecond
        self.duplicateDistance = duplicateDistance
        self.countdownSeconds = countdownSeconds
    }

    /// Checks the ranges; the error names the field.
    public func validate() throws(GesturesError) {
        guard samplesPerSecond > 0, samplesPerSecond <= 120 else {
            throw .invalidSetting(
                field: "samples_per_second", value: "\(samplesPerSecond)", expected: "more than 0, at most 120")
        }
        guard duplicateDistance >= 0, duplicateDistance < 1 else {
            throw .invalidSetting(field: "duplicate_distance", value: "\(duplicateDistance)", expected: "0 ≤ value < 1")
        }
        guard countdownSeconds >= 0, countdownSeconds <= 30 else {
            throw .invalidSetting(field: "countdown_seconds", value: "\(countdownSeconds)", expected: "0 … 30 seconds")
        }
    }
}

/// One recording session for one label.
public struct SampleRecorder: Sendable {
    /// What happened to a frame.
    public enum Decision: Equatable, Sendable {
        /// Still counting down; this many nanoseconds remain.
        case countdown(remainingNanoseconds: UInt64)
        /// Too soon after the last kept sample.
        case throttled
        /// Too similar to the last kept sample (relative distance given).
        case duplicate(distance: Float)
        /// Keep this frame as a sample.
        case keep
    }

    public let label: String
    public let settings: RecordingSettings
    /// When recording (after the countdown) starts.
    public let firstSampleNanoseconds: UInt64
    private var lastKeptNanoseconds: UInt64?
    private var lastKeptFeatures: [Float] = []
    private var lastKeptNorm: Float = 0
    /// Counts of each decision so far.
    public private(set) var kept = 0, throttled = 0, duplicates = 0

    public init(label: String, settings: RecordingSettings, startNanoseconds: UInt64) {
        self.label = label
        self.settings = settings
        firstSampleNanoseconds = startNanoseconds + UInt64(max(settings.countdownSeconds, 0) * 1e9)
    }

    /// The minimum spacing between kept samples.
    public var intervalNanoseconds: UInt64 { UInt64(1e9 / settings.samplesPerSecond) }

    /// Decides about a frame with embedding `features` captured at `nanoseconds`; a `.keep` becomes the new reference.
    public mutating func consider(features: UnsafeBufferPointer<Float>, atNanoseconds nanoseconds: UInt64) -> Decision {
        if nanoseconds < firstSampleNanoseconds {
            return .countdown(remainingNanoseconds: firstSampleNanoseconds - nanoseconds)
        }
        // A small tolerance (2 ms) so a 30 fps source is not beaten by rounding at 10 samples/s.
        if let last = lastKeptNanoseconds, nanoseconds &+ 2_000_000 < last &+ intervalNanoseconds, nanoseconds >= last {
            throttled += 1
            return .throttled
        }
        if settings.duplicateDistance > 0, lastKeptFeatures.count == features.count, lastKeptNorm > 0 {
            var squared: Float = 0
            for index in 0..<features.count {
                let difference = features[index] - lastKeptFeatures[index]
                squared += difference * difference
            }
            let distance = squared.squareRoot() / lastKeptNorm
            if distance < settings.duplicateDistance {
                duplicates += 1
                return .duplicate(distance: distance)
            }
        }
        lastKeptNanoseconds = nanoseconds
        lastKeptFeatures = Array(features)
        lastKeptNorm = lastKeptFeatures.reduce(0) { $0 + $1 * $1 }.squareRoot()
        kept += 1
        return .keep
    }

    /// Relative L2 distance ‖a − b‖ / ‖b‖ (0 when b is zero and a equals it).
    public static func relativeDistance(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "embeddings of different sizes")
        var squared: Float = 0
        var norm: Float = 0
        for index in a.indices {
            squared += (a[index] - b[index]) * (a[index] - b[index])
            norm += b[index] * b[index]
        }
        return norm > 0 ? (squared / norm).squareRoot() : (squared > 0 ? .infinity : 0)
    }
}
