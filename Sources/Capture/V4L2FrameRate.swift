// The camera's real frame rate, measured from the capture timestamps of every dequeued buffer
// (dropped stale frames included: we measure the camera, not our consumer) over a rolling window of
// about two seconds, and the warning for the auto-exposure trap: in dim light many UVC cameras
// lengthen exposure and silently fall from 30 to 15 fps or less (barehands #9, C920/C922).
// Fixed-size ring, no allocation per frame.

/// Frames per second over the last `windowNanoseconds` of capture timestamps.
public struct V4L2FrameRateMeter: Sendable {
    /// Length of the rolling window.
    public let windowNanoseconds: UInt64
    /// Capture timestamps, a ring of `timestamps.count` entries; `count` valid, newest at `newestIndex`.
    private var timestamps: [UInt64]
    private var newestIndex = -1
    private var count = 0

    /// A meter over `windowNanoseconds` (default 2 s) remembering at most `capacity` frames (default 512: 2 s at 256 fps).
    public init(windowNanoseconds: UInt64 = 2_000_000_000, capacity: Int = 512) {
        precondition(capacity >= 2, "a frame rate needs at least two timestamps")
        self.windowNanoseconds = windowNanoseconds
        timestamps = [UInt64](repeating: 0, count: capacity)
    }

    /// Adds one frame's capture time. A timestamp older than the newest (clock reset, reopened device) restarts the window.
    public mutating func record(timestampNanoseconds: UInt64) {
        if count > 0, timestampNanoseconds < timestamps[newestIndex] { reset() }
        newestIndex = (newestIndex + 1) % timestamps.count
        timestamps[newestIndex] = timestampNanoseconds
        count = min(count + 1, timestamps.count)
    }

    /// Forgets every frame (after a reopen).
    public mutating func reset() {
        newestIndex = -1
        count = 0
    }

    /// The frames inside the window (newest included) and the time they span, in nanoseconds.
    public var window: (frames: Int, spanNanoseconds: UInt64) {
        guard count > 0 else { return (0, 0) }
        let newest = timestamps[newestIndex]
        var frames = 1
        var oldest = newest
        while frames < count {
            let index = (newestIndex - frames + timestamps.count) % timestamps.count
            guard newest - timestamps[index] <= windowNanoseconds else { break }
            oldest = timestamps[index]
            frames += 1
        }
        return (frames, newest - oldest)
    }

    /// Frames per second over the window; nil until two frames at distinct times are known.
    public var framesPerSecond: Double? {
        let (frames, span) = window
        guard frames >= 2, span > 0 else { return nil }
        return Double(frames - 1) * 1e9 / Double(span)
    }
}

/// The measured rate is far below the rate the camera agreed to: probably the auto-exposure trap.
public struct V4L2FrameRateWarning: Sendable, Equatable, CustomStringConvertible {
    /// Measured over the last ~2 s.
    public var measuredFramesPerSecond: Double
    /// What S_PARM gave (or, when the driver does not say, what was configured).
    public var expectedFramesPerSecond: Double

    /// Warn below this fraction of the expected rate.
    public static let threshold = 0.7
    /// Measure at least this long before warning (the first frames after STREAMON come slowly).
    public static let minimumSpanNanoseconds: UInt64 = 1_000_000_000

    public var description: String {
        let measured = (measuredFramesPerSecond * 10).rounded() / 10
        let expected = (expectedFramesPerSecond * 10).rounded() / 10
        return "the camera delivers \(measured) fps, expected \(expected) fps: its automatic exposure is probably "
            + "lengthening the exposure time in dim light. Add light, or set a manual exposure (exposure = manual)."
    }

    /// The warning for a meter reading, if the rate is below `threshold` of `expectedFramesPerSecond`.
    public static func check(_ meter: V4L2FrameRateMeter, expectedFramesPerSecond: Double) -> V4L2FrameRateWarning? {
        guard expectedFramesPerSecond > 0, meter.window.spanNanoseconds >= minimumSpanNanoseconds,
            let measured = meter.framesPerSecond, measured < threshold * expectedFramesPerSecond
        else { return nil }
        return V4L2FrameRateWarning(measuredFramesPerSecond: measured, expectedFramesPerSecond: expectedFramesPerSecond)
    }
}
