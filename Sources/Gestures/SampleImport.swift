// SampleImport: samples from files rather than a live camera — photos (one sample each) or a
// stretch of a recording (`--from`/`--to` seconds of clip time), throttled and de-duplicated like
// live recording, stored in one transaction per batch. Teachable Machine's most requested feature
// (importing images) and a way to build a training set from a recorded session.
import Capture
import Foundation

/// Imports samples into a `SampleStore`.
public struct SampleImporter {
    public let store: SampleStore
    public let framer: SampleFramer
    /// Embeds frames for near-duplicate checks and fills the store's embedding cache (nil: no de-duplication).
    public let extractor: FeatureExtractor?
    /// The cache key embeddings are stored under (see `GestureTrainer.cacheKey`).
    public let cacheKey: String?

    public init(store: SampleStore, framer: SampleFramer, extractor: FeatureExtractor?, cacheKey: String?) {
        self.store = store
        self.framer = framer
        self.extractor = extractor
        self.cacheKey = cacheKey
    }

    private var normalization: String { extractor?.identity.normalization ?? "unknown" }

    /// The most sample data (frames and embeddings, in bytes) one import keeps in memory before its single
    /// commit: 512 MiB, about 2,700 samples at 224 px with a 12,544-float embedding.
    public static let maximumPendingBytes = 512 << 20

    /// One sample per photo, all (with their embeddings) in one transaction. Returns the new sample ids.
    public func addPhotos(_ paths: [String], label: String) throws(GesturesError) -> [Int64] {
        guard LabelSet.isValidName(label) else { throw .invalidLabelName(label: label) }
        var samples: [NewSample] = []
        var embeddings: [[Float]] = []
        for path in paths {
            let image: RGBImage
            do { image = try RGBImage.read(path) } catch { throw .capture(error) }
            let frame = framer.run(image)
            samples.append(
                NewSample(
                    label: label, frame: frame, side: framer.side, source: "file:" + path,
                    mirror: framer.mirror, normalization: normalization))
            if let extractor { embeddings.append(try extractor.embed(sample: frame)) }
        }
        return try commit(samples, embeddings: embeddings)
    }

    /// What a recording import did.
    public struct RecordingImport: Sendable, Equatable {
        public var framesRead = 0
        public var kept: [Int64] = []
        public var throttled = 0
        public var duplicates = 0
    }

    /// Samples from frames of `source` between `fromSeconds` and `toSeconds` of clip time (frame index / fps),
    /// at most `settings.samplesPerSecond`, skipping near-duplicates when an extractor is present. One operation, one
    /// transaction: every kept sample with its embedding is committed at the end, or none (a read error, a full
    /// disk). Throws `invalidSetting` naming `--from/--to` when the kept samples would exceed `maximumPendingBytes`.
    public func addRecording(
        _ source: any FrameSource, framesPerSecond: Double, label: String, fromSeconds: Double = 0,
        toSeconds: Double = .infinity, settings: RecordingSettings = RecordingSettings(),
        sourceName: String
    ) throws(GesturesError) -> RecordingImport {
        guard LabelSet.isValidName(label) else { throw .invalidLabelName(label: label) }
        try settings.validate()
        var recorder = SampleRecorder(
            label: label,
            settings: RecordingSettings(
                samplesPerSecond: settings.samplesPerSecond,
                duplicateDistance: extractor == nil ? 0 : settings.duplicateDistance,
                countdownSeconds: 0), startNanoseconds: UInt64(max(fromSeconds, 0) * 1e9))
        var result = RecordingImport()
        var pending: [NewSample] = []
        var pendingEmbeddings: [[Float]] = []
        var sample = [UInt8](repeating: 0, count: framer.byteCount)
        var features = [Float](repeating: 0, count: extractor?.featureCount ?? 0)
        var index = 0
        while true {
            let clipNanoseconds = UInt64((Double(index) / framesPerSecond * 1e9).rounded())
            if Double(clipNanoseconds) / 1e9 >= toSeconds { break }
            var failure: CaptureError?
            let delivered: Void?
            do {
                delivered = try source.withNextFrame(timeoutMilliseconds: 5000) { frame in
                    sample.withUnsafeMutableBufferPointer { buffer in
                        do throws(CaptureError) { try framer.run(frame: frame, into: buffer.baseAddress!) } catch {
                            failure = error
                        }
                    }
                }
            } catch { throw .capture(error) }
            if let failure { throw .capture(failure) }
            guard delivered != nil else { break }
            index += 1
            result.framesRead += 1
            if Double(clipNanoseconds) / 1e9 < fromSeconds { continue }
            if let extractor {
                sample.withUnsafeBufferPointer { input in
                    features.withUnsafeMutableBufferPointer {
                        extractor.embed(sample: input.baseAddress!, into: $0.baseAddress!)
                    }
                }
            }
            let decision = features.withUnsafeBufferPointer {
                recorder.consider(features: $0, atNanoseconds: clipNanoseconds)
            }
            guard decision == .keep else { continue }
            pending.append(
                NewSample(
                    label: label, frame: sample, side: framer.side,
                    capturedAt: Date(),
                    source: "\(sourceName)@\(String(format: "%.3f", Double(clipNanoseconds) / 1e9))s",
                    mirror: framer.mirror, normalization: normalization))
            if extractor != nil { pendingEmbeddings.append(features) }
            let perSample = framer.byteCount + features.count * MemoryLayout<Float>.size
            let (pendingBytes, overflow) = pending.count.multipliedReportingOverflow(by: perSample)
            if overflow || pendingBytes > Self.maximumPendingBytes {
                throw .invalidSetting(
                    field: "--from/--to", value: "\(fromSeconds)…\(toSeconds) s (\(pending.count) samples kept so far)",
                    expected:
                        "a stretch whose samples fit in \(Self.maximumPendingBytes >> 20) MiB for one all-or-nothing "
                        + "commit; import it in shorter pieces (nothing was stored)")
            }
        }
        if !pending.isEmpty { result.kept = try commit(pending, embeddings: pendingEmbeddings) }
        result.throttled = recorder.throttled
        result.duplicates = recorder.duplicates
        return result
    }

    /// Stores `samples` and (with a cache key) their embeddings in one transaction.
    private func commit(_ samples: [NewSample], embeddings: [[Float]]) throws(GesturesError) -> [Int64] {
        guard let cacheKey, embeddings.count == samples.count else { return try store.add(contentsOf: samples) }
        return try store.add(contentsOf: samples, embeddings: embeddings, modelID: cacheKey)
    }
}

extension SampleStore {
    /// Stores the recognizer's last sample frame as a sample of `label` (its mirror and normalisation
    /// recorded) with its embedding under `cacheKey`, both in one transaction — live recording in the daemon and the
    /// window; `take` groups the samples of one recording (`newTake`). A failed write (a full disk) stores neither.
    @discardableResult
    public func addRecognized(
        by recognizer: Recognizer, label: String, source: String,
        cacheKey: String, take: Int64? = nil
    ) throws(GesturesError) -> Int64 {
        let sample = NewSample(
            label: label, frame: Array(recognizer.sample), side: recognizer.framer.side, source: source,
            mirror: recognizer.framer.mirror, normalization: recognizer.extractor.identity.normalization, take: take)
        return try add(contentsOf: [sample], embeddings: [Array(recognizer.features)], modelID: cacheKey)[0]
    }
}
