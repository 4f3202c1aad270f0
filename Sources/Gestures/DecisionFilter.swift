// DecisionFilter: turns per-frame class probabilities into key-down / key-up events with real hold
// semantics. It answers the top complaint about gesture tools (false triggers, ANCHORS.md): a class
// must reach its enter threshold and stay the top class for a dwell time before its key goes down;
// the key stays down until the class drops below a lower exit threshold (hysteresis), another
// class takes over, or the input stops. Invariants: at most one key held; every down is followed by
// exactly one up for the same label; time comes in only through the calls (no clock read here).
// Pattern: keyd's virtual-time behaviour scripts (t/*.t) are mirrored in Tests/GesturesTests/FilterScripts.

import Foundation

/// One key transition the filter asks for: a label's key goes down or up at a time.
///
/// Encodes as `{"kind":"down","label":"up","atNanoseconds":150000000}` for a JSON event stream;
/// `description` reads `down up @150ms`, the line format of the filter scripts.
public struct KeyEvent: Equatable, Sendable, Codable, CustomStringConvertible {
    /// Whether the key goes down (press) or up (release).
    public enum Kind: String, Equatable, Sendable, Codable {
        /// The key is pressed and stays held.
        case down
        /// The key is released.
        case up
    }

    /// Down or up.
    public var kind: Kind
    /// The label whose key changes.
    public var label: String
    /// When the filter emitted the event: the timestamp of the call that produced it.
    public var atNanoseconds: UInt64

    /// An event of `kind` for `label` at `atNanoseconds`.
    public init(_ kind: Kind, _ label: String, atNanoseconds: UInt64) {
        self.kind = kind
        self.label = label
        self.atNanoseconds = atNanoseconds
    }

    /// A key-down for `label`.
    public static func down(_ label: String, atNanoseconds: UInt64) -> KeyEvent {
        KeyEvent(.down, label, atNanoseconds: atNanoseconds)
    }

    /// A key-up for `label`.
    public static func up(_ label: String, atNanoseconds: UInt64) -> KeyEvent {
        KeyEvent(.up, label, atNanoseconds: atNanoseconds)
    }

    /// `down up @150ms` (milliseconds, with decimals only when the time is not whole).
    public var description: String { "\(kind.rawValue) \(label) @\(formatMilliseconds(atNanoseconds))" }
}

/// Renders nanoseconds as `150ms` or `150.5ms`.
func formatMilliseconds(_ nanoseconds: UInt64) -> String {
    if nanoseconds % 1_000_000 == 0 { return "\(nanoseconds / 1_000_000)ms" }
    return "\(Double(nanoseconds) / 1_000_000)ms"
}

/// What the filter is doing now, for the training screen and `gesturepad status`.
public enum FilterState: Equatable, Sendable, Codable, CustomStringConvertible {
    /// No key held, nothing qualifying.
    case idle
    /// `label` is the top class at or above its enter threshold since `sinceNanoseconds`; its key
    /// goes down once it has stayed so for the dwell time.
    case arming(label: String, sinceNanoseconds: UInt64)
    /// `label`'s key is down since `sinceNanoseconds`.
    case holding(label: String, sinceNanoseconds: UInt64)
    /// A key was just released; no arming before `untilNanoseconds`.
    case refractory(untilNanoseconds: UInt64)

    /// `idle`, `arming up since 33ms`, `holding up since 150ms` or `refractory until 400ms`.
    public var description: String {
        switch self {
        case .idle: "idle"
        case .arming(let label, let since): "arming \(label) since \(formatMilliseconds(since))"
        case .holding(let label, let since): "holding \(label) since \(formatMilliseconds(since))"
        case .refractory(let until): "refractory until \(formatMilliseconds(until))"
        }
    }
}

/// The decision layer between the head's probabilities and the keys (value type; clock injected).
///
/// Rules, per `update` at time t with probabilities p (smoothed first when smoothing is on):
/// 1. **Top class**: the label with the highest probability (ties: the earlier label). A label
///    *qualifies* when it is the top class, is not `idle`, and p ≥ its enter threshold.
/// 2. **Idle → arming**: a qualifying label starts arming at t.
/// 3. **Arming → holding**: while the same label keeps qualifying, the first frame with
///    t − since ≥ dwell emits `down(label)`. A frame where another label qualifies re-arms on that
///    label from t (two classes racing restart the dwell); a frame where none qualifies → idle.
/// 4. **Holding → refractory**: `up(label)` when p[label] < its exit threshold (hysteresis: between
///    exit and enter the key stays down), or when another label (idle included) is the top class at
///    or above its own enter threshold. The releasing frame never arms anything.
/// 5. **Refractory → idle**: frames before t = release + refractory are ignored; the first frame at
///    or after it is handled as in idle. So a direct switch from A to B is `up(A)` at once, then
///    `down(B)` after refractory + dwell: never two keys held, never an instant swap.
/// 6. **The idle label never presses**; a high idle probability releases through rule 4, and a
///    label set without idle releases by low confidence alone.
/// 7. **Discontinuities restart the filter** (key released, arming and smoothing forgotten, no
///    refractory): a frame at least the stale-input limit after the previous frame, an `advance`
///    call that far after the last frame, a frame whose time is *earlier* than the previous
///    frame's (a new timeline, e.g. a replay restarted), and `releaseAll`. The restarting frame is
///    then handled as the first frame of a fresh filter. The **stale-input limit** is
///    `staleInputTimeoutMilliseconds` or `staleIntervalMultiple` typical frame intervals, whichever
///    is longer (`staleInputLimitNanoseconds`): the typical interval is the median of the last
///    `intervalHistoryLength` gaps between frames (a single stall does not move it). So a machine
///    that processes one frame a second still presses (its limit becomes 3 s), while a camera that
///    stops is still noticed. Gaps are measured between consecutive frames even across restarts
///    (a timer tick that finds a slow stream's first gap stale must not keep it from learning the
///    rate), and the history outlives restarts (it describes the machine, not the gesture); with
///    no history yet the setting alone applies, so a slow stream's first gap restarts a filter
///    that holds at most one frame of arming.
/// 8. **Bad input**: a vector whose length differs from the label count throws
///    `GesturesError.probabilityCountMismatch` and changes nothing; a vector with any NaN or
///    infinite value counts as a frame with no confidence (it releases a held key, cancels arming,
///    resets smoothing, and is not stale input).
///
/// Every event is stamped with the time of the call that emitted it.
public struct DecisionFilter: Sendable {
    /// The classes, in the order of the probability vectors.
    public let labels: LabelSet
    /// The validated settings.
    public let settings: DecisionFilterSettings

    private enum Phase: Equatable, Sendable {
        case idle
        case arming(label: Int, since: UInt64)
        case holding(label: Int, since: UInt64)
        case refractory(until: UInt64)
    }

    private var phase: Phase = .idle
    /// Time of the last frame given to `update`; nil on a fresh filter.
    private var lastFrameNanoseconds: UInt64?
    /// Time of the previous frame for measuring gaps; unlike `lastFrameNanoseconds` it survives restarts.
    private var previousFrameNanoseconds: UInt64?
    /// The probabilities of the last decision (smoothed when smoothing is on); empty on a fresh filter.
    private var smoothed: [Float] = []
    /// The last gaps between frames (nanoseconds), a ring of `intervalHistoryLength`; `intervalCount` valid.
    private var intervals: [UInt64]
    private var intervalCount = 0
    private var nextInterval = 0

    /// How many typical frame intervals a gap must reach to count as stale when that is longer than the setting.
    public static let staleIntervalMultiple: UInt64 = 3
    /// Gaps between frames remembered for the typical interval (their median).
    public static let intervalHistoryLength = 9
    /// Upper bound of the interval-derived part of the stale-input limit (the setting's own maximum).
    public static let maximumDerivedStaleNanoseconds =
        UInt64(DecisionFilterSettings.staleInputTimeoutRange.upperBound) * 1_000_000

    // Settings converted once: per-label thresholds by index, durations in nanoseconds.
    private let enterThresholds: [Float]
    private let exitThresholds: [Float]
    private let idleIndex: Int?
    private let dwellNanoseconds: UInt64
    private let refractoryNanoseconds: UInt64
    private let staleNanoseconds: UInt64
    private let smoothingNanoseconds: Double

    /// A fresh filter (idle); throws when `settings` fail `validate(for: labels)`.
    public init(labels: LabelSet, settings: DecisionFilterSettings = .default) throws(GesturesError) {
        try settings.validate(for: labels)
        self.labels = labels
        self.settings = settings
        enterThresholds = labels.names.map { settings.enterThreshold(for: $0) }
        exitThresholds = labels.names.map { settings.exitThreshold(for: $0) }
        idleIndex = labels.names.firstIndex(of: LabelSet.idle)
        dwellNanoseconds = UInt64(settings.dwellMilliseconds) * 1_000_000
        refractoryNanoseconds = UInt64(settings.refractoryMilliseconds) * 1_000_000
        staleNanoseconds = UInt64(settings.staleInputTimeoutMilliseconds) * 1_000_000
        smoothingNanoseconds = Double(settings.smoothingTimeConstantMilliseconds) * 1_000_000
        intervals = [UInt64](repeating: 0, count: Self.intervalHistoryLength)
    }

    /// The median of the recent gaps between frames (nil before the first gap): the rate frames really reach
    /// the filter at, which on a slow machine is the processing rate rather than the camera's.
    public var typicalFrameIntervalNanoseconds: UInt64? {
        guard intervalCount > 0 else { return nil }
        // Asked on every frame: sorted in a stack buffer (insertion sort of at most 9), no heap allocation.
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: intervalCount) { sorted in
            for index in 0..<intervalCount {
                var position = index
                while position > 0 && sorted[position - 1] > intervals[index] {
                    sorted[position] = sorted[position - 1]
                    position -= 1
                }
                sorted[position] = intervals[index]
            }
            return sorted[(intervalCount - 1) / 2]
        }
    }

    /// How many gaps between frames the typical interval is the median of (at most `intervalHistoryLength`).
    public var frameIntervalSampleCount: Int { intervalCount }

    /// The gap after which input counts as stale (rule 7): the setting, or `staleIntervalMultiple` typical frame
    /// intervals when frames come slower than that allows.
    public var staleInputLimitNanoseconds: UInt64 {
        guard let typical = typicalFrameIntervalNanoseconds else { return staleNanoseconds }
        let (derived, overflow) = typical.multipliedReportingOverflow(by: Self.staleIntervalMultiple)
        return max(
            staleNanoseconds,
            overflow ? Self.maximumDerivedStaleNanoseconds : min(derived, Self.maximumDerivedStaleNanoseconds))
    }

    /// What the filter is doing now.
    public var state: FilterState {
        switch phase {
        case .idle: .idle
        case .arming(let label, let since): .arming(label: labels.names[label], sinceNanoseconds: since)
        case .holding(let label, let since): .holding(label: labels.names[label], sinceNanoseconds: since)
        case .refractory(let until): .refractory(untilNanoseconds: until)
        }
    }

    /// The label whose key is down, if any.
    public var heldLabel: String? {
        if case .holding(let label, _) = phase { return labels.names[label] }
        return nil
    }

    /// The probabilities the last decision used (smoothed when smoothing is on; empty before the
    /// first frame and after a restart), for confidence bars.
    public var decisionProbabilities: [Float] { smoothed }

    /// Feeds one frame's class probabilities (in `labels` order) taken at `atNanoseconds`; returns
    /// the key events it causes (none, one, or an up from a restart followed by nothing or a down).
    public mutating func update(probabilities: [Float], atNanoseconds now: UInt64) throws(GesturesError) -> [KeyEvent] {
        guard probabilities.count == labels.count else {
            throw .probabilityCountMismatch(expected: labels.count, got: probabilities.count)
        }
        var events: [KeyEvent] = []
        // Judged against the history before this gap; the gap is remembered afterwards (stale gaps too: that is how
        // a slow stream's first gaps teach the filter its rate; the median ignores a lone stall).
        let limit = staleInputLimitNanoseconds
        if let previous = previousFrameNanoseconds, now >= previous { rememberInterval(now - previous) }
        previousFrameNanoseconds = now
        if let last = lastFrameNanoseconds, now < last || now - last >= limit {
            events += restart(atNanoseconds: now)  // rule 7: a new timeline, or stale input
        }
        let event: KeyEvent?
        if probabilities.allSatisfy(\.isFinite) {
            smooth(probabilities, atNanoseconds: now)
            lastFrameNanoseconds = now
            event = decide(smoothed, atNanoseconds: now)
        } else {
            smoothed = []
            lastFrameNanoseconds = now
            event = decide([Float](repeating: 0, count: labels.count), atNanoseconds: now)  // rule 8: no confidence
        }
        if let event { events.append(event) }
        return events
    }

    /// Lets time pass without a frame (a timer tick): releases the held key when the last frame is
    /// at least the stale-input limit (`staleInputLimitNanoseconds`) old, and ends an expired
    /// refractory period. A time earlier than the last frame is a tick that raced a frame and does
    /// nothing.
    public mutating func advance(toNanoseconds now: UInt64) -> [KeyEvent] {
        guard let last = lastFrameNanoseconds, now >= last else { return [] }
        if now - last >= staleInputLimitNanoseconds { return restart(atNanoseconds: now) }
        if case .refractory(let until) = phase, now >= until { phase = .idle }
        return []
    }

    /// Releases the held key (if any) at `atNanoseconds` and restarts the filter fresh; used by every
    /// stop path (stop, pause, reload, camera loss, suspend, SIGTERM).
    public mutating func releaseAll(atNanoseconds now: UInt64) -> [KeyEvent] {
        restart(atNanoseconds: now)
    }

    // MARK: - Rules

    /// Rule 7: up for the held key, then a fresh filter.
    private mutating func restart(atNanoseconds now: UInt64) -> [KeyEvent] {
        var events: [KeyEvent] = []
        if case .holding(let label, _) = phase { events.append(.up(labels.names[label], atNanoseconds: now)) }
        phase = .idle
        lastFrameNanoseconds = nil
        smoothed = []
        return events
    }

    /// Adds one gap between frames to the history the typical interval is taken from.
    private mutating func rememberInterval(_ gap: UInt64) {
        intervals[nextInterval] = gap
        nextInterval = (nextInterval + 1) % intervals.count
        intervalCount = min(intervalCount + 1, intervals.count)
    }

    /// Exponential moving average with time constant τ into `smoothed`: s ← s + (1 − exp(−Δt/τ)) (p − s); the first
    /// frame after a restart (or with smoothing off, τ = 0) sets s = p. In place: no allocation per frame once
    /// `smoothed` has its size (unless a caller holds `decisionProbabilities`).
    private mutating func smooth(_ probabilities: [Float], atNanoseconds now: UInt64) {
        guard smoothingNanoseconds > 0, let last = lastFrameNanoseconds, smoothed.count == probabilities.count else {
            if smoothed.count == probabilities.count {
                for index in smoothed.indices { smoothed[index] = probabilities[index] }
            } else {
                smoothed = probabilities
            }
            return
        }
        let weight = Float(1 - exp(-Double(now - last) / smoothingNanoseconds))
        for index in smoothed.indices { smoothed[index] += weight * (probabilities[index] - smoothed[index]) }
    }

    /// Rules 1–6 for one frame (already smoothed); returns the event it causes, if any.
    private mutating func decide(_ probabilities: [Float], atNanoseconds now: UInt64) -> KeyEvent? {
        var top = 0
        for index in probabilities.indices where probabilities[index] > probabilities[top] { top = index }
        let topQualifies = top != idleIndex && probabilities[top] >= enterThresholds[top]

        switch phase {
        case .holding(let held, _):
            let otherTakesOver = top != held && probabilities[top] >= enterThresholds[top]
            if probabilities[held] < exitThresholds[held] || otherTakesOver {
                let (until, overflow) = now.addingReportingOverflow(refractoryNanoseconds)
                phase = .refractory(until: overflow ? .max : until)
                return .up(labels.names[held], atNanoseconds: now)
            }
            return nil
        case .refractory(let until):
            if now < until { return nil }
            phase = .idle
            return topQualifies ? arm(top, atNanoseconds: now) : nil
        case .idle:
            return topQualifies ? arm(top, atNanoseconds: now) : nil
        case .arming(let candidate, let since):
            guard topQualifies else {
                phase = .idle
                return nil
            }
            if top != candidate { return arm(top, atNanoseconds: now) }
            return now - since >= dwellNanoseconds ? press(candidate, atNanoseconds: now) : nil
        }
    }

    /// Starts arming `label` at `now` (pressing at once when the dwell is zero).
    private mutating func arm(_ label: Int, atNanoseconds now: UInt64) -> KeyEvent? {
        if dwellNanoseconds == 0 { return press(label, atNanoseconds: now) }
        phase = .arming(label: label, since: now)
        return nil
    }

    private mutating func press(_ label: Int, atNanoseconds now: UInt64) -> KeyEvent {
        phase = .holding(label: label, since: now)
        return .down(labels.names[label], atNanoseconds: now)
    }
}
