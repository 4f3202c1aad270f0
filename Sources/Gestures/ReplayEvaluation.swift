// ReplayEvaluation: `gesturepad eval --replay clip.y4m --truth clip.truth` — every frame of a
// recording goes through the exact live pipeline (sample framing, embedder, head, decision filter)
// on the clip's own timeline (frame index / fps, so results do not depend on machine speed), and
// the ReplayScorer compares predictions and key events with the intended directions. It also
// measures what the live path costs per frame (frame → key decision, wall time), the figure the
// daemon's camera-to-key latency is made of.
import SystemSupport
import Capture
import Foundation

/// The outcome of one replay.
public struct ReplayRun: Codable, Sendable {
    public var report: ReplayReport
    /// The head version used.
    public var headVersion: Int
    /// Frames processed.
    public var frames: Int
    /// Wall time per frame from frame delivery to the filter's decision, p50 / p95 / max, in ms.
    public var latencyP50Milliseconds: Double
    public var latencyP95Milliseconds: Double
    public var latencyMaxMilliseconds: Double
    /// Mean per-stage time in ms (preprocess, normalise, embed, head, filter).
    public var stageMeansMilliseconds: [String: Double]
    /// Key events on the clip timeline, for inspection.
    public var events: [KeyEvent]
}

/// Runs a recording through recognizer + decision filter and scores it.
public enum ReplayEvaluation {
    /// Replays `source` (frames at `framesPerSecond`) through `recognizer` (which must have a head whose
    /// labels match the truth's) and a fresh filter with `settings`; key-downs within `toleranceMilliseconds` of a
    /// gesture count for it (see `ReplayReport`). `progress` gets the number of frames done after each frame.
    public static func run(
        source: any FrameSource, framesPerSecond: Double, recognizer: Recognizer,
        settings: DecisionFilterSettings, truth: TruthTimeline, toleranceMilliseconds: Int = 500,
        maximumFrames: Int = .max, progress: (Int) -> Void = { _ in }
    ) throws(GesturesError) -> ReplayRun {
        guard let head = recognizer.currentHead else { throw .noHead(store: "the recognizer") }
        guard head.labels == truth.labels else {
            throw .headDoesNotFit(
                head: "version \(head.version)",
                reason:
                    "it predicts \(head.labels) but the truth file uses \(truth.labels); label both the same way")
        }
        var filter = try DecisionFilter(labels: head.labels, settings: settings)
        var scorer = ReplayScorer(truth: truth, toleranceMilliseconds: toleranceMilliseconds)
        var latencies: [Double] = []
        var events: [KeyEvent] = []
        var stageTotals: [String: Double] = ["preprocess": 0, "normalize": 0, "embed": 0, "head": 0, "filter": 0]
        var index = 0
        while index < maximumFrames {
            let clipNanoseconds = UInt64((Double(index) / framesPerSecond * 1e9).rounded())
            var recognition: Recognition?
            var failure: CaptureError?
            let start = SystemFrameClock.nanoseconds()
            let delivered: Void?
            do {
                delivered = try source.withNextFrame(timeoutMilliseconds: 5000) { frame in
                    do throws(CaptureError) { recognition = try recognizer.recognize(frame: frame) } catch {
                        failure = error
                    }
                }
            } catch { throw .capture(error) }
            if let failure { throw .capture(failure) }
            guard delivered != nil, let recognition else { break }
            let filterStart = SystemFrameClock.nanoseconds()
            let frameEvents = try filter.update(
                probabilities: recognition.probabilities, atNanoseconds: clipNanoseconds)
            let end = SystemFrameClock.nanoseconds()
            try scorer.addFrame(atNanoseconds: clipNanoseconds, probabilities: recognition.probabilities)
            scorer.addEvents(frameEvents)
            events += frameEvents
            latencies.append(Double(end - start) / 1e6)
            stageTotals["preprocess"]! += Double(recognition.timings.preprocess) / 1e6
            stageTotals["normalize"]! += Double(recognition.timings.normalize) / 1e6
            stageTotals["embed"]! += Double(recognition.timings.embed) / 1e6
            stageTotals["head"]! += Double(recognition.timings.head) / 1e6
            stageTotals["filter"]! += Double(end - filterStart) / 1e6
            index += 1
            progress(index)
        }
        guard index > 0 else { throw .notEnoughSamples(counts: [:], needed: "at least one frame in the recording") }
        let clipEnd = UInt64((Double(index) / framesPerSecond * 1e9).rounded())
        let closing = filter.releaseAll(atNanoseconds: clipEnd)
        scorer.addEvents(closing)
        events += closing
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double {
            sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
        }
        return ReplayRun(
            report: scorer.report(clipEndNanoseconds: clipEnd), headVersion: head.version, frames: index,
            latencyP50Milliseconds: percentile(0.5), latencyP95Milliseconds: percentile(0.95),
            latencyMaxMilliseconds: sorted.last!,
            stageMeansMilliseconds: stageTotals.mapValues { $0 / Double(index) }, events: events)
    }
}
