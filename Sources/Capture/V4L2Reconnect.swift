// Reconnecting a camera that went away (unplugged, suspend/resume, another program holding it):
// an exponential backoff policy (initial delay, factor, cap, optional attempt limit) and which
// `CaptureError`s are worth waiting out. `V4L2Camera.reopen` waits on the camera's `FrameClock`, so
// the daemon uses the real clock and tests run the whole schedule in virtual time.

/// How long to wait between reopen attempts: initial · factor^(failures − 1), capped at `maximumDelay`.
public struct V4L2ReconnectPolicy: Sendable, Equatable {
    /// Wait after the first failed attempt.
    public var initialDelay: Duration
    /// Growth of the wait per further failure (≥ 1).
    public var factor: Double
    /// Longest wait between attempts.
    public var maximumDelay: Duration
    /// Give up after this many attempts (nil: keep trying while the caller allows it).
    public var maximumAttempts: Int?

    /// Defaults: 250 ms, doubling, at most 5 s between attempts, no attempt limit.
    public init(
        initialDelay: Duration = .milliseconds(250), factor: Double = 2, maximumDelay: Duration = .seconds(5),
        maximumAttempts: Int? = nil
    ) {
        precondition(initialDelay >= .zero && maximumDelay >= initialDelay, "delays must satisfy 0 ≤ initial ≤ maximum")
        precondition(factor >= 1, "the backoff factor must be at least 1")
        precondition(maximumAttempts.map { $0 >= 1 } ?? true, "at least one attempt")
        self.initialDelay = initialDelay
        self.factor = factor
        self.maximumDelay = maximumDelay
        self.maximumAttempts = maximumAttempts
    }

    /// The wait after `failures` failed attempts (failures ≥ 1).
    public func delay(afterFailures failures: Int) -> Duration {
        let initial = Self.seconds(initialDelay)
        let maximum = Self.seconds(maximumDelay)
        var seconds = initial
        for _ in 1..<max(failures, 1) {
            seconds *= factor
            if seconds >= maximum { return maximumDelay }
        }
        return seconds >= maximum ? maximumDelay : .nanoseconds(Int64((seconds * 1e9).rounded()))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}

extension CaptureError {
    /// Whether waiting and reopening the camera may cure this error (it vanished, is busy, or went quiet);
    /// false for errors that need the user (permissions, wrong device, unsupported format).
    public var isTransientCameraFault: Bool {
        switch self {
        case .deviceLost, .deviceNotFound, .deviceBusy, .frameTimeout: return true
        default: return false
        }
    }

    /// Whether this only says no frame came within the wait (a camera's `.frameTimeout`, a paced file's
    /// `.pacedFrameNotDue`): a slow source, not a fault, for a consumer that waits again.
    public var isFrameWaitTimeout: Bool {
        switch self {
        case .frameTimeout, .pacedFrameNotDue: return true
        default: return false
        }
    }
}

extension Duration {
    /// The duration in whole nanoseconds (negative durations count as zero, huge ones saturate).
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? UInt64.max : whole &+ UInt64(attoseconds / 1_000_000_000)
    }
}
