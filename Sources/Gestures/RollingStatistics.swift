// RollingStatistics: per-stage latencies over the last frames (nearest-rank p50/p95), the frame
// rate over the same window, and frame-to-key latency, summarised as PipelineStatistics for
// `status` and `bench pipeline`. Owned by GestureSession and touched only under its lock.
// Adding a frame allocates nothing: every series is a ring of `window` values allocated once (the
// live loop allocates nothing per frame — GestureSessionAllocationTests); only `summary` allocates.

/// The stages a frame is timed in, in report order; the raw values are `PipelineStatistics` keys.
public enum PipelineStage: String, CaseIterable, Sendable {
    /// The frame's age when recognition starts: capture timestamp (CLOCK_MONOTONIC) → processing.
    case capture
    /// Frame → sample frame: pixel-format conversion, crop, resample, mirror.
    case preprocess
    /// Sample frame → normalised model input.
    case normalize
    case embed
    case head
    case filter
    /// Processing start → filter done.
    case total
    /// Processing start → key event (key-downs only).
    case frameToKey = "frame_to_key"

    /// Position in `allCases` (a switch: `allCases` builds an array on every use).
    var index: Int {
        switch self {
        case .capture: 0
        case .preprocess: 1
        case .normalize: 2
        case .embed: 3
        case .head: 4
        case .filter: 5
        case .total: 6
        case .frameToKey: 7
        }
    }
}

/// A ring of the last `capacity` values.
private struct Ring {
    private var values: [Double]
    private var next = 0
    private(set) var count = 0

    init(capacity: Int) { values = [Double](repeating: 0, count: max(1, capacity)) }

    mutating func append(_ value: Double) {
        values[next] = value
        next = (next + 1) % values.count
        count = min(count + 1, values.count)
    }

    /// The held values, oldest first.
    var ordered: [Double] {
        count < values.count ? Array(values[0..<count]) : Array(values[next...] + values[..<next])
    }
}

/// Per-stage timings over a sliding window of frames (p50/p95) and the frame rate.
struct RollingStatistics: Sendable {
    let window: Int
    private var stages: [Ring]
    /// Frame end times (ns), for the rate; kept as Double nanoseconds in a ring.
    private var frameTimes: Ring

    init(window: Int) {
        self.window = window
        stages = PipelineStage.allCases.map { _ in Ring(capacity: window) }
        frameTimes = Ring(capacity: window)
    }

    private mutating func add(_ stage: PipelineStage, nanoseconds: UInt64) {
        stages[stage.index].append(Double(nanoseconds) / 1e6)
    }

    /// One recognised frame: its stage timings, filter and total time, end time and (when known) its age at start.
    mutating func add(
        timings: StageTimings, filterNanoseconds: UInt64, totalNanoseconds: UInt64, at time: UInt64,
        captureNanoseconds: UInt64? = nil
    ) {
        if let captureNanoseconds { add(.capture, nanoseconds: captureNanoseconds) }
        add(.preprocess, nanoseconds: timings.preprocess)
        add(.normalize, nanoseconds: timings.normalize)
        add(.embed, nanoseconds: timings.embed)
        add(.head, nanoseconds: timings.head)
        add(.filter, nanoseconds: filterNanoseconds)
        add(.total, nanoseconds: totalNanoseconds)
        frameTimes.append(Double(time))
    }

    mutating func addFrameToKey(_ nanoseconds: UInt64) {
        add(.frameToKey, nanoseconds: nanoseconds)
    }

    func summary(now: UInt64, framesCaptured: Int, framesProcessed: Int, predictions: Int) -> PipelineStatistics {
        func percentiles(_ values: [Double]) -> [Double] {
            guard !values.isEmpty else { return [] }
            let sorted = values.sorted()
            // Nearest rank: the smallest value with at least p of the values at or below it.
            func at(_ p: Double) -> Double {
                sorted[max(0, min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1))]
            }
            return [at(0.5), at(0.95)]
        }
        var latency: [String: [Double]] = [:]
        for (stage, ring) in zip(PipelineStage.allCases, stages) where ring.count > 0 {
            latency[stage.rawValue] = percentiles(ring.ordered)
        }
        var fps = 0.0
        let times = frameTimes.ordered
        if times.count >= 2, let first = times.first, let last = times.last, last > first {
            fps = Double(times.count - 1) / ((last - first) / 1e9)
        }
        return PipelineStatistics(
            latencyMilliseconds: latency, framesPerSecond: fps, framesCaptured: framesCaptured,
            framesProcessed: framesProcessed, predictions: predictions)
    }
}
