// MonotonicClock: gesturepad's one monotonic clock. `FrameClock` is the protocol every time-keeping
// part is given (GestureSession's loop, reconnect backoff, file-source pacing, the daemon's statistics),
// so production runs on `SystemFrameClock` (CLOCK_MONOTONIC, the clock V4L2 buffer timestamps use)
// and tests on `VirtualFrameClock`, which moves only when told. Code that only measures a duration
// and needs no virtual time reads `SystemFrameClock.nanoseconds()`.
// Invariant: neither clock ever goes backwards (a virtual sleep to a past deadline leaves the time as is).
#if canImport(Glibc)
    import Glibc
#endif

/// A monotonic time source that can block until a deadline; injected into file sources for pacing.
public protocol FrameClock: AnyObject {
    /// The current time on this clock, in nanoseconds (the epoch is arbitrary but fixed).
    var nowNanoseconds: UInt64 { get }
    /// Blocks until `nowNanoseconds` ≥ `deadlineNanoseconds` (returns at once if it already is).
    func sleep(untilNanoseconds deadlineNanoseconds: UInt64)
}

/// The system's monotonic clock: `clock_gettime(CLOCK_MONOTONIC)` and absolute `clock_nanosleep`,
/// the same clock as V4L2 buffer timestamps.
public final class SystemFrameClock: FrameClock, Sendable {
    public init() {}

    public var nowNanoseconds: UInt64 { Self.nanoseconds() }

    /// CLOCK_MONOTONIC now, in nanoseconds: for measuring durations (stage timings, frame pacing of
    /// the window) where nothing needs virtual time. Never goes backwards.
    public static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Sleeps with `clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)`; a signal (EINTR) resumes the same
    /// absolute wait through `SystemCall.retryingOnInterrupt` (clock_nanosleep returns its error rather
    /// than setting errno).
    public func sleep(untilNanoseconds deadlineNanoseconds: UInt64) {
        var deadline = timespec(
            tv_sec: Int(deadlineNanoseconds / 1_000_000_000),
            tv_nsec: Int(deadlineNanoseconds % 1_000_000_000))
        _ = SystemCall.retryingOnInterrupt { () -> Result<Void, Errno> in
            let result = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nil)
            return result == 0 ? .success(()) : .failure(Errno(rawValue: result))
        }
    }
}

/// A clock that only moves when told to: `sleep` jumps straight to the deadline. For tests.
public final class VirtualFrameClock: FrameClock {
    /// The current virtual time in nanoseconds.
    public private(set) var nowNanoseconds: UInt64
    /// Every deadline `sleep` was asked to wait for, in order (including ones already passed).
    public private(set) var sleepDeadlines: [UInt64] = []

    /// A virtual clock reading `startNanoseconds`.
    public init(startNanoseconds: UInt64 = 1_000_000_000) {
        nowNanoseconds = startNanoseconds
    }

    /// Moves the clock forward by `nanoseconds` (a consumer taking time to process a frame).
    public func advance(byNanoseconds nanoseconds: UInt64) {
        nowNanoseconds += nanoseconds
    }

    public func sleep(untilNanoseconds deadlineNanoseconds: UInt64) {
        sleepDeadlines.append(deadlineNanoseconds)
        nowNanoseconds = max(nowNanoseconds, deadlineNanoseconds)
    }
}
