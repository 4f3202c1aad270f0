// RollingStatistics: per-stage latencies over the last frames (nearest-rank p50/p95), the frame
// rate over the same window, and frame-to-key latency, summarised as PipelineStatistics for
// `status`. Owned by GestureSession and touched only under its lock.

/// Per-stage timings over a sliding window of frames (p50/p95) and the frame rate.
struct RollingStatistics: Sendable {
    let window: Int
    private var stages: [String: [Double]] = [:]
    private var frameTimes: [UInt64] = []
    private var frameToKey: [Double] = []

    init(window: Int) { self.window = window }

    mutating func add(timings: StageTimings, filterNanoseconds: UInt64, totalNanoseconds: UInt64, at time: UInt64) {
        let values: [(String, UInt64)] = [
            ("preprocess", timings.preprocess), ("normalize", timings.normalize),
            ("embed", timings.embed), ("head", timings.head), ("filter", filterNanoseconds),
            ("total", totalNanoseconds),
        ]
        for (name, nanoseconds) in values {
            stages[name, default: []].append(Double(nanoseconds) / 1e6)
            if stages[name]!.count > window { stages[name]!.removeFirst(stages[name]!.count - window) }
        }
        frameTimes.append(time)
        if frameTimes.count > window { frameTimes.removeFirst(frameTimes.count - window) }
    }

    mutating func addFrameToKey(_ nanoseconds: UInt64) {
        frameToKey.append(Double(nanoseconds) / 1e6)
        if frameToKey.count > window { frameToKey.removeFirst(frameToKey.count - window) }
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
        var latency = stages.mapValues(percentiles)
        if !frameToKey.isEmpty { latency["frame_to_key"] = percentiles(frameToKey) }
        var fps = 0.0
        if frameTimes.count >= 2, let first = frameTimes.first, let last = frameTimes.last, last > first {
            fps = Double(frameTimes.count - 1) / (Double(last - first) / 1e9)
        }
        return PipelineStatistics(
            latencyMilliseconds: latency, framesPerSecond: fps, framesCaptured: framesCaptured,
            framesProcessed: framesProcessed, predictions: predictions)
    }
}
