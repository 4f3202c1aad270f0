// LensCover: the panic gesture that needs no access at all — a hand over the lens. Frames whose mean
// luma stays below `darkLuma` for `coverMilliseconds` make one "cover"; GestureSession pauses on the
// first cover (every key released at once) and resumes on the next, which counts only after the
// lens was uncovered (a bright frame) in between. The detector is a value type fed one luma per
// frame on the session's clock, so tests drive it on virtual time.
// Invariants: a cover fires exactly once (`.covered`) however long the lens stays dark; a bright
// frame or `reset()` (the source closed or reopened) starts over. `meanLuma` reads a strided 1/16 of
// the sample frame that recognition already made (S×S×3 RGB bytes): no allocation, ~3 k pixels.

/// When a covered lens pauses the session (`[safety] lens_cover*` in config.toml).
public struct LensCoverSettings: Sendable, Equatable, Codable {
    /// Whether covering the lens pauses and resumes.
    public var enabled: Bool
    /// Mean luma (0–255, BT.601 weights on the sample frame) below which a frame counts as dark.
    public var darkLuma: Int
    /// How long frames must stay dark to count as a cover, in milliseconds.
    public var coverMilliseconds: Int

    /// Allowed `darkLuma`: 1 (only pure black) to 128 (half grey; a dim room already reads 40–80).
    public static let darkLumaRange = 1...128
    /// Allowed `coverMilliseconds`: 200 ms (a few frames) to 10 s.
    public static let coverRange = 200...10_000

    /// Defaults: on, luma below 32, for 1 s. A covered webcam sends video-range black (Y ≈ 16 plus sensor noise),
    /// which the full-range YUV → RGB conversion keeps at about 16–25; a dim room with auto exposure reads more.
    public init(enabled: Bool = true, darkLuma: Int = 32, coverMilliseconds: Int = 1000) {
        self.enabled = enabled
        self.darkLuma = darkLuma
        self.coverMilliseconds = coverMilliseconds
    }

    /// Checks the ranges; the error names the field.
    public func validate() throws(GesturesError) {
        guard Self.darkLumaRange.contains(darkLuma) else {
            throw .invalidSetting(
                field: "lens_cover_luma", value: "\(darkLuma)",
                expected: "\(Self.darkLumaRange.lowerBound) … \(Self.darkLumaRange.upperBound)")
        }
        guard Self.coverRange.contains(coverMilliseconds) else {
            throw .invalidSetting(
                field: "lens_cover_ms", value: "\(coverMilliseconds)",
                expected: "\(Self.coverRange.lowerBound) … \(Self.coverRange.upperBound) ms")
        }
    }
}

/// Finds covers in a stream of frame lumas.
public struct LensCoverDetector: Sendable, Equatable {
    /// What one frame means.
    public enum Observation: Sendable, Equatable {
        /// Bright, or dark for less than the cover time (or detection is off).
        case nothing
        /// The lens has now been dark for the cover time: act once.
        case covered
        /// Still dark after a cover fired (keys stay off until the lens is uncovered).
        case stillCovered
    }

    public var settings: LensCoverSettings
    /// When the current run of dark frames began; nil after a bright frame.
    private var darkSinceNanoseconds: UInt64?
    /// The current dark run already fired.
    private var fired = false
    /// Frames in the current dark run (0 after a bright frame).
    public private(set) var darkFrames = 0
    /// How long the current dark run has lasted, in nanoseconds, as of its newest frame.
    public private(set) var darkNanoseconds: UInt64 = 0

    public init(settings: LensCoverSettings) { self.settings = settings }

    /// Starts over (the source closed or reopened, the session resumed by request).
    public mutating func reset() {
        darkSinceNanoseconds = nil
        fired = false
        darkFrames = 0
        darkNanoseconds = 0
    }

    /// Feeds one frame's mean luma at `time` (the session's clock).
    public mutating func observe(luma: Int, atNanoseconds time: UInt64) -> Observation {
        guard settings.enabled, luma < settings.darkLuma else {
            reset()
            return .nothing
        }
        let since = darkSinceNanoseconds ?? time
        darkSinceNanoseconds = since
        darkFrames += 1
        darkNanoseconds = time &- since
        if fired { return .stillCovered }
        guard time &- since >= UInt64(settings.coverMilliseconds) &* 1_000_000 else { return .nothing }
        fired = true
        return .covered
    }

    /// Mean luma (0–255) of an RGB sample frame `side`×`side`×3 (row-major, bytes R G B), from every 4th pixel of
    /// every 4th row: Y = (77 R + 150 G + 29 B) / 256 (BT.601 in integers). 0 for an empty frame.
    public static func meanLuma(sample: UnsafePointer<UInt8>, side: Int) -> Int {
        let stride = 4
        var sum = 0
        var count = 0
        var row = 0
        while row < side {
            var column = 0
            let rowStart = row * side * 3
            while column < side {
                let pixel = sample + rowStart + column * 3
                sum += (77 * Int(pixel[0]) + 150 * Int(pixel[1]) + 29 * Int(pixel[2])) >> 8
                count += 1
                column += stride
            }
            row += stride
        }
        return count == 0 ? 0 : sum / count
    }
}
