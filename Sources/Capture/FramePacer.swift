// Pacing for file sources: `FramePacer` turns a frame rate num:den into due times start + tick · den/num s
// on an injected `FrameClock` (SystemSupport's one monotonic clock), so replaying a recording in real
// time runs on the system clock in the daemon and in virtual time in tests.
// Invariants: due times are computed from the tick number (no accumulated rounding drift); a late
// consumer gets the newest due tick and the skipped ticks count as dropped frames, as with a camera.
import SystemSupport

/// How a file source spaces its frames in time.
public enum FramePacing: String, Sendable, Equatable, CaseIterable {
    /// Every call returns the next frame at once (offline processing, benchmarks, tests).
    case asFastAsPossible
    /// Frames become due at the source's frame rate, like a camera's: a call waits for the next
    /// frame's due time, and a consumer that fell behind gets the newest due frame — the ones in
    /// between are dropped and show as gaps in `FrameView.sequence`.
    case realTime
}

/// Real-time pacing arithmetic: tick t is due at start + t · denominator / numerator seconds, where
/// start is the clock reading at the first request.
struct FramePacer {
    /// Frames per second as a ratio (numerator ≥ 1, denominator ≥ 1; both ≤ UInt32.max).
    let rateNumerator: UInt64
    let rateDenominator: UInt64
    /// Clock reading when tick 0 was due (nil until the first request).
    private(set) var startNanoseconds: UInt64?
    /// The tick the next request delivers at the earliest.
    private(set) var nextTick: UInt64 = 0

    init(rateNumerator: Int, rateDenominator: Int) {
        precondition(
            rateNumerator >= 1 && rateDenominator >= 1
                && UInt64(rateNumerator) <= UInt64(UInt32.max) && UInt64(rateDenominator) <= UInt64(UInt32.max),
            "frame rate \(rateNumerator):\(rateDenominator) out of range")
        self.rateNumerator = UInt64(rateNumerator)
        self.rateDenominator = UInt64(rateDenominator)
    }

    /// Nanoseconds from start to tick `tick`, rounded down (saturates instead of overflowing).
    func offsetNanoseconds(ofTick tick: UInt64) -> UInt64 {
        // tick · 1e9 · den / num; 1e9 · den < 2^63, so the product fits 128 bits.
        let product = tick.multipliedFullWidth(by: 1_000_000_000 * rateDenominator)
        guard product.high < rateNumerator else { return UInt64.max }
        return rateNumerator.dividingFullWidth(product).quotient
    }

    /// When tick `tick` is due for a pacer started at `start` (saturating).
    func dueNanoseconds(ofTick tick: UInt64, start: UInt64) -> UInt64 {
        Self.saturatingSum(start, offsetNanoseconds(ofTick: tick))
    }

    private static func saturatingSum(_ first: UInt64, _ second: UInt64) -> UInt64 {
        let (sum, overflow) = first.addingReportingOverflow(second)
        return overflow ? UInt64.max : sum
    }

    /// The newest tick due `elapsed` nanoseconds after start: ⌊elapsed · num / (1e9 · den)⌋.
    func newestTick(afterNanoseconds elapsed: UInt64) -> UInt64 {
        let divisor = 1_000_000_000 * rateDenominator
        let product = elapsed.multipliedFullWidth(by: rateNumerator)  // high < 2^32 < divisor
        return divisor.dividingFullWidth(product).quotient
    }

    /// The outcome of waiting for a frame.
    enum Wait: Equatable {
        /// Deliver tick `tick` (due at `dueNanoseconds`); `skipped` earlier ticks were dropped.
        case due(tick: UInt64, skipped: UInt64, dueNanoseconds: UInt64)
        /// The next tick is not due within the timeout (the clock has been slept until the timeout).
        case timedOut
    }

    /// Waits on `clock` for the next due tick, at most `timeoutMilliseconds` (≤ 0: no waiting),
    /// and marks it delivered. The caller must deliver (or skip) exactly `skipped + 1` frames.
    mutating func waitForNextTick(on clock: any FrameClock, timeoutMilliseconds: Int) -> Wait {
        let now = clock.nowNanoseconds
        let start = startNanoseconds ?? now
        startNanoseconds = start
        let nextDue = dueNanoseconds(ofTick: nextTick, start: start)
        if nextDue > now {
            // Timeouts beyond 2^40 ms (35 years) are treated as 2^40 ms: no overflow below.
            let timeoutNanoseconds = UInt64(min(max(timeoutMilliseconds, 0), 1 << 40)) * 1_000_000
            if nextDue - now > timeoutNanoseconds {
                clock.sleep(untilNanoseconds: Self.saturatingSum(now, timeoutNanoseconds))
                return .timedOut
            }
            clock.sleep(untilNanoseconds: nextDue)
            defer { nextTick += 1 }
            return .due(tick: nextTick, skipped: 0, dueNanoseconds: nextDue)
        }
        let newest = max(newestTick(afterNanoseconds: now - start), nextTick)
        defer { nextTick = newest + 1 }
        return .due(
            tick: newest, skipped: newest - nextTick, dueNanoseconds: dueNanoseconds(ofTick: newest, start: start))
    }
}
