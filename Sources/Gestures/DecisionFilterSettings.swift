// DecisionFilterSettings: the knobs of the decision layer (thresholds with hysteresis, dwell,
// refractory period, optional smoothing, stale-input timeout), their defaults and their validation.
// Invariants after `validate(for:)`: every threshold in (0, 1], each label's exit threshold is
// strictly below its enter threshold, every duration inside its stated range.
// Defaults follow ../shared/docs/ANCHORS.md (micro:bit's 80% confidence, CORAL's ~4-frame vote).

/// The tunable behaviour of a `DecisionFilter`; decodes partial JSON (missing keys take defaults).
///
/// Defaults and why:
/// - `enterThreshold` 0.8: micro:bit ML-Machine's per-gesture default of 80% confidence.
/// - `exitThreshold` 0.6: 0.2 of hysteresis, so a held class dipping to 0.65 on a noisy frame keeps
///   its key held while a frame at 0.55 releases it.
/// - `dwellMilliseconds` 120: four frames at 30 fps above the enter threshold before a press, the
///   time-based equivalent of CORAL's majority vote over 4 frames; rejects 1–3 frame flickers.
/// - `refractoryMilliseconds` 200: after a release, no press for 200 ms, so a hand leaving one pose
///   through another does not fire the pose it passes.
/// - `smoothingTimeConstantMilliseconds` 0 (off): dwell and hysteresis already reject flicker;
///   an exponential moving average with time constant τ delays a clean step from idle to 0.95 by
///   about 1.7 τ before dwell even starts (170 ms at τ = 100 ms, see the `smoothing` filter script).
///   Turn it on for a noisy head whose probabilities jitter across the enter threshold.
/// - `staleInputTimeoutMilliseconds` 500: 15 frames at 30 fps, longer than any normal frame gap
///   (even a camera that drops to 5 fps), short enough that a hung camera does not hold a key. On a
///   machine that processes fewer frames than that (under ~6 fps), the filter's limit follows the
///   measured frame interval instead (3 intervals, `DecisionFilter.staleInputLimitNanoseconds`), so
///   a slow machine still presses keys rather than calling every frame stale.
public struct DecisionFilterSettings: Codable, Equatable, Sendable {
    /// Probability a class must reach (≥) to start arming or keep arming, in (0, 1].
    public var enterThreshold: Float
    /// Probability below which (<) a held class is released, in (0, enter threshold).
    public var exitThreshold: Float
    /// Per-label enter thresholds that replace `enterThreshold` for those labels.
    public var enterThresholdByLabel: [String: Float]
    /// Per-label exit thresholds that replace `exitThreshold` for those labels.
    public var exitThresholdByLabel: [String: Float]
    /// How long a class must stay the top class at or above its enter threshold before its key goes
    /// down, in milliseconds (0...10 000; 0 presses on the first qualifying frame).
    public var dwellMilliseconds: Int
    /// How long after a release no new arming may start, in milliseconds (0...10 000).
    public var refractoryMilliseconds: Int
    /// Time constant τ of the exponential moving average over probabilities, in milliseconds
    /// (0...5 000; 0 turns smoothing off). Each frame mixes in 1 − exp(−Δt/τ) of the new values.
    public var smoothingTimeConstantMilliseconds: Int
    /// A gap of at least this many milliseconds between frames releases the held key and restarts
    /// the filter (1...60 000) — or of 3 typical frame intervals when frames come slower than that
    /// (see `DecisionFilter.staleInputLimitNanoseconds`).
    public var staleInputTimeoutMilliseconds: Int

    /// The defaults (see the type's documentation for the reasoning).
    public static let `default` = DecisionFilterSettings()

    /// Settings with every value given or defaulted.
    public init(
        enterThreshold: Float = 0.8, exitThreshold: Float = 0.6,
        enterThresholdByLabel: [String: Float] = [:], exitThresholdByLabel: [String: Float] = [:],
        dwellMilliseconds: Int = 120, refractoryMilliseconds: Int = 200,
        smoothingTimeConstantMilliseconds: Int = 0, staleInputTimeoutMilliseconds: Int = 500
    ) {
        self.enterThreshold = enterThreshold
        self.exitThreshold = exitThreshold
        self.enterThresholdByLabel = enterThresholdByLabel
        self.exitThresholdByLabel = exitThresholdByLabel
        self.dwellMilliseconds = dwellMilliseconds
        self.refractoryMilliseconds = refractoryMilliseconds
        self.smoothingTimeConstantMilliseconds = smoothingTimeConstantMilliseconds
        self.staleInputTimeoutMilliseconds = staleInputTimeoutMilliseconds
    }

    private enum CodingKeys: String, CodingKey {
        case enterThreshold, exitThreshold, enterThresholdByLabel, exitThresholdByLabel, dwellMilliseconds
        case refractoryMilliseconds, smoothingTimeConstantMilliseconds, staleInputTimeoutMilliseconds
    }

    /// Decodes settings; a missing key takes its default, so a config may name only what it changes.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = DecisionFilterSettings()
        enterThreshold = try container.decodeIfPresent(Float.self, forKey: .enterThreshold) ?? defaults.enterThreshold
        exitThreshold = try container.decodeIfPresent(Float.self, forKey: .exitThreshold) ?? defaults.exitThreshold
        enterThresholdByLabel =
            try container.decodeIfPresent([String: Float].self, forKey: .enterThresholdByLabel)
            ?? [:]
        exitThresholdByLabel =
            try container.decodeIfPresent([String: Float].self, forKey: .exitThresholdByLabel)
            ?? [:]
        dwellMilliseconds =
            try container.decodeIfPresent(Int.self, forKey: .dwellMilliseconds)
            ?? defaults.dwellMilliseconds
        refractoryMilliseconds =
            try container.decodeIfPresent(Int.self, forKey: .refractoryMilliseconds)
            ?? defaults.refractoryMilliseconds
        smoothingTimeConstantMilliseconds =
            try container.decodeIfPresent(
                Int.self, forKey: .smoothingTimeConstantMilliseconds) ?? defaults.smoothingTimeConstantMilliseconds
        staleInputTimeoutMilliseconds =
            try container.decodeIfPresent(Int.self, forKey: .staleInputTimeoutMilliseconds)
            ?? defaults.staleInputTimeoutMilliseconds
    }

    /// The enter threshold that applies to `label` (its override, else `enterThreshold`).
    public func enterThreshold(for label: String) -> Float { enterThresholdByLabel[label] ?? enterThreshold }
    /// The exit threshold that applies to `label` (its override, else `exitThreshold`).
    public func exitThreshold(for label: String) -> Float { exitThresholdByLabel[label] ?? exitThreshold }

    /// Range limits of the duration settings, in milliseconds.
    public static let dwellRange = 0...10_000
    /// Allowed refractory periods, in milliseconds.
    public static let refractoryRange = 0...10_000
    /// Allowed smoothing time constants, in milliseconds (0 = off).
    public static let smoothingRange = 0...5_000
    /// Allowed stale-input timeouts, in milliseconds.
    public static let staleInputTimeoutRange = 1...60_000

    /// Checks every value against its range and every override against `labels`; throws
    /// `GesturesError.invalidFilterSetting` naming the first bad field, or `.unknownLabel`.
    public func validate(for labels: LabelSet) throws(GesturesError) {
        try Self.checkThreshold(enterThreshold, field: "enterThreshold")
        try Self.checkThreshold(exitThreshold, field: "exitThreshold")
        for (label, value) in enterThresholdByLabel.sorted(by: { $0.key < $1.key }) {
            _ = try labels.index(of: label)
            try Self.checkThreshold(value, field: "enterThresholdByLabel.\(label)")
        }
        for (label, value) in exitThresholdByLabel.sorted(by: { $0.key < $1.key }) {
            _ = try labels.index(of: label)
            try Self.checkThreshold(value, field: "exitThresholdByLabel.\(label)")
        }
        // Hysteresis: per label, exit strictly below enter (else a press could release at once).
        if exitThreshold >= enterThreshold {
            throw .invalidFilterSetting(
                field: "exitThreshold", value: "\(exitThreshold)",
                allowed: "(0, \(enterThreshold)): below enterThreshold")
        }
        for label in labels.names where exitThreshold(for: label) >= enterThreshold(for: label) {
            let overridden = exitThresholdByLabel[label] != nil
            throw .invalidFilterSetting(
                field: overridden ? "exitThresholdByLabel.\(label)" : "enterThresholdByLabel.\(label)",
                value: "\(overridden ? exitThreshold(for: label) : enterThreshold(for: label))",
                allowed: overridden
                    ? "(0, \(enterThreshold(for: label))): below the enter threshold of '\(label)'"
                    : "(\(exitThreshold(for: label)), 1]: above the exit threshold of '\(label)'")
        }
        try Self.checkDuration(dwellMilliseconds, field: "dwellMilliseconds", range: Self.dwellRange)
        try Self.checkDuration(refractoryMilliseconds, field: "refractoryMilliseconds", range: Self.refractoryRange)
        try Self.checkDuration(
            smoothingTimeConstantMilliseconds, field: "smoothingTimeConstantMilliseconds", range: Self.smoothingRange)
        try Self.checkDuration(
            staleInputTimeoutMilliseconds, field: "staleInputTimeoutMilliseconds", range: Self.staleInputTimeoutRange)
    }

    private static func checkThreshold(_ value: Float, field: String) throws(GesturesError) {
        // `!(value > 0)` also refuses NaN.
        if !(value > 0) || value > 1 { throw .invalidFilterSetting(field: field, value: "\(value)", allowed: "(0, 1]") }
    }

    private static func checkDuration(_ value: Int, field: String, range: ClosedRange<Int>) throws(GesturesError) {
        if !range.contains(value) {
            throw .invalidFilterSetting(
                field: field, value: "\(value)", allowed: "\(range.lowerBound)...\(range.upperBound) ms")
        }
    }
}
