// ImageFileSource: a still image (PNG, JPEG, … decoded once by stb via `RGBImage.read`) served as a
// `FrameSource` of `.rgb24` frames — the same pixels every time, forever or once. With real-time
// pacing the frames come at a chosen rate on an injected `FrameClock`, like a camera pointed at a
// photo; otherwise each call returns at once. Frames borrow the decoded pixels (no copy, no
// allocation per frame); `sequence` counts pacing ticks, so a late consumer sees gaps.
import SystemSupport

/// One image delivered as a stream of identical RGB24 frames.
///
/// Not thread-safe: one consumer calls `withNextFrame`.
public final class ImageFileSource: FrameSource {
    /// The image file (or the name given to an in-memory image).
    public let path: String
    /// The decoded pixels every frame shows.
    public let image: RGBImage
    /// Whether frames repeat forever (else one frame, then nil).
    public let repeats: Bool
    /// How frames are spaced in time.
    public let pacing: FramePacing
    /// Frame rate of real-time pacing.
    public let framesPerSecond: Int
    /// Frames passed to a consumer so far.
    public private(set) var framesDelivered = 0
    /// Real-time ticks that passed while the consumer was busy (frames a camera would have dropped).
    public private(set) var framesSkipped = 0
    /// Frames delivered or skipped.
    public var framesCaptured: Int { framesDelivered + framesSkipped }

    /// "640×480 rgb24 still image at 30 fps".
    public var formatSummary: String {
        "\(image.width)×\(image.height) rgb24 still image" + (pacing == .realTime ? " at \(framesPerSecond) fps" : "")
    }

    /// An image delivers what it holds: nothing to warn about.
    public var deliveryWarning: String? { nil }

    private let clock: any FrameClock
    private var pacer: FramePacer
    private var closed = false

    /// Decodes the image at `path`.
    ///
    /// - Parameters:
    ///   - repeats: serve the image forever (true) or as a single frame.
    ///   - pacing: `.realTime` delivers `framesPerSecond` frames per second on `clock`.
    ///   - framesPerSecond: rate of real-time pacing, 1…1000.
    /// - Throws: `.fileUnreadable` / `.undecodableImage` from `RGBImage.read`.
    public convenience init(
        path: String, repeats: Bool = true, pacing: FramePacing = .asFastAsPossible,
        framesPerSecond: Int = 30, clock: any FrameClock = SystemFrameClock()
    ) throws(CaptureError) {
        let image = try RGBImage.read(path)
        self.init(
            image: image, name: path, repeats: repeats, pacing: pacing, framesPerSecond: framesPerSecond,
            clock: clock)
    }

    /// Serves an already decoded image; `name` stands in for the path in descriptions and errors.
    public init(
        image: RGBImage, name: String, repeats: Bool = true, pacing: FramePacing = .asFastAsPossible,
        framesPerSecond: Int = 30, clock: any FrameClock = SystemFrameClock()
    ) {
        path = name
        self.image = image
        self.repeats = repeats
        self.pacing = pacing
        self.framesPerSecond = min(max(framesPerSecond, 1), 1000)
        self.clock = clock
        pacer = FramePacer(rateNumerator: self.framesPerSecond, rateDenominator: 1)
    }

    public var sourceDescription: String {
        "\(path) (image \(image.width)×\(image.height)\(pacing == .realTime ? " at \(framesPerSecond) fps" : ""))"
    }

    /// Passes the image as the next frame to `body`; nil after the single frame when not repeating.
    ///
    /// Real-time pacing waits (at most `timeoutMilliseconds`) for the next tick; the timestamp is the
    /// tick's due time, else the clock's reading.
    /// - Throws: `.pacedFrameNotDue` when the next tick is beyond the timeout, `.sourceClosed` after `close()`.
    public func withNextFrame<Result>(timeoutMilliseconds: Int, _ body: (FrameView) -> Result)
        throws(CaptureError) -> Result?
    {
        guard !closed else { throw .sourceClosed(source: path) }
        if !repeats, framesDelivered > 0 { return nil }
        var sequence = UInt64(framesDelivered)
        var timestamp: UInt64
        switch pacing {
        case .asFastAsPossible:
            timestamp = clock.nowNanoseconds
        case .realTime:
            switch pacer.waitForNextTick(on: clock, timeoutMilliseconds: timeoutMilliseconds) {
            case .timedOut:
                throw .pacedFrameNotDue(
                    source: path, milliseconds: timeoutMilliseconds,
                    framesPerSecond: Double(framesPerSecond))
            case .due(let tick, let skipped, let dueNanoseconds):
                framesSkipped += Int(clamping: skipped)
                sequence = tick
                timestamp = dueNanoseconds
            }
        }
        framesDelivered += 1
        return image.pixels.withUnsafeBytes { bytes in
            body(
                FrameView(
                    width: image.width, height: image.height, format: .rgb24, bytesPerLine: image.width * 3,
                    bytes: bytes, sequence: sequence, timestampNanoseconds: timestamp))
        }
    }

    /// Stops the source; later `withNextFrame` calls throw `.sourceClosed`. Calling it twice is harmless.
    public func close() {
        closed = true
    }
}
