// ReplayScorer: the pure scoring half of `gesturepad eval --replay clip.y4m --truth clip.truth`. The
// replay feeds it each frame's prediction and the decision filter's key events; it compares them
// with the TruthTimeline and produces a ReplayReport (frame accuracy, settled accuracy, false key
// presses per minute, missed gestures, time-to-trigger p50/p95, per label). No I/O, no clock.
// Times are nanoseconds from the clip start, the same timeline the filter's events are stamped on.
// Definitions (strict, as the ANCHORS.md promise "a false-trigger rate" needs one) are on ReplayReport.

import Foundation

/// Collects one replay's frames and key events and scores them against a truth timeline.
public struct ReplayScorer: Sendable {
    /// The intended labels of the clip.
    public let truth: TruthTimeline
    /// Frames less than this long after a truth change are left out of the settled accuracy.
    public let settleMilliseconds: Int
    /// A key-down this close to a gesture's start or end counts for that gesture: hand-written truth boundaries are
    /// a few tenths of a second off, and a press just before one is neither a false press nor a miss.
    public let toleranceMilliseconds: Int

    /// Each frame's time and predicted label index (nil: no prediction, e.g. NaN probabilities).
    private var frames: [(nanoseconds: UInt64, predicted: Int?)] = []
    /// Every key-down seen, in the order given.
    private var downs: [KeyEvent] = []

    /// A scorer for a clip with `truth`; `settleMilliseconds` (default 500: a person's reaction to
    /// a prompt) is excluded after every change for the settled accuracy; `toleranceMilliseconds` (default 500, 0:
    /// strict) widens each gesture for matching key-downs.
    public init(truth: TruthTimeline, settleMilliseconds: Int = 500, toleranceMilliseconds: Int = 500) {
        self.truth = truth
        self.settleMilliseconds = max(0, settleMilliseconds)
        self.toleranceMilliseconds = max(0, toleranceMilliseconds)
    }

    /// Records a frame's prediction as the argmax of `probabilities` (ties: the earlier label; any
    /// NaN: no prediction, scored as wrong). Throws when the length differs from the label count.
    public mutating func addFrame(atNanoseconds time: UInt64, probabilities: [Float]) throws(GesturesError) {
        guard probabilities.count == truth.labels.count else {
            throw .probabilityCountMismatch(expected: truth.labels.count, got: probabilities.count)
        }
        var predicted: Int? = 0
        for index in probabilities.indices {
            if probabilities[index].isNaN {
                predicted = nil
                break
            }
            if probabilities[index] > probabilities[predicted!] { predicted = index }
        }
        frames.append((time, predicted))
    }

    /// Records a frame whose predicted label is already known; throws `.unknownLabel` otherwise.
    public mutating func addFrame(atNanoseconds time: UInt64, predictedLabel: String) throws(GesturesError) {
        frames.append((time, try truth.labels.index(of: predictedLabel)))
    }

    /// Records the decision filter's events (only key-downs are scored; ups are accepted and ignored).
    public mutating func addEvents(_ events: [KeyEvent]) {
        downs += events.filter { $0.kind == .down }
    }

    /// Scores everything recorded. `clipEndNanoseconds` is the clip duration (frame count / fps); by
    /// default the last frame's time (or the last event's when later). Truth segments starting at or
    /// after the clip end are not gestures.
    public func report(clipEndNanoseconds: UInt64? = nil) -> ReplayReport {
        let lastFrame = frames.map(\.nanoseconds).max() ?? 0
        let lastEvent = downs.map(\.atNanoseconds).max() ?? 0
        let clipEnd = clipEndNanoseconds ?? max(lastFrame, lastEvent)
        let names = truth.labels.names
        // Segments with integer bounds; the last one is open (.max) for matching events.
        let segments = truth.segments
        let starts = segments.map { TruthTimeline.nanoseconds($0.startSeconds) }
        let ends = segments.map { TruthTimeline.nanoseconds($0.endSeconds) }
        func segmentIndex(at time: UInt64) -> Int? {
            segments.indices.last { starts[$0] <= time && time < ends[$0] }
        }
        let settle = UInt64(settleMilliseconds) * 1_000_000

        // Frames.
        var perLabel = names.map { ReplayReport.LabelFigures(label: $0) }
        var scoredFrames = 0
        var correctFrames = 0
        var settledFrames = 0
        var settledCorrect = 0
        for frame in frames {
            guard let segment = segmentIndex(at: frame.nanoseconds),
                let truthIndex = names.firstIndex(of: segments[segment].label)
            else { continue }
            let correct = frame.predicted == truthIndex
            scoredFrames += 1
            perLabel[truthIndex].frames += 1
            if correct {
                correctFrames += 1
                perLabel[truthIndex].correctFrames += 1
            }
            // The first segment starts with the clip: no change to react to.
            if segment == 0 || frame.nanoseconds - starts[segment] >= settle {
                settledFrames += 1
                if correct { settledCorrect += 1 }
            }
        }

        // Key-downs against segments: a press matches a gesture of its label that it falls in, or that starts or ends
        // within the tolerance of it (the nearest; an unmatched one before one already hit).
        let tolerance = UInt64(toleranceMilliseconds) * 1_000_000
        var hitTime: [UInt64?] = Array(repeating: nil, count: segments.count)
        var falsePresses: [ReplayReport.FalsePress] = []
        for down in downs.sorted(by: { $0.atNanoseconds < $1.atNanoseconds }) {
            let time = down.atNanoseconds
            let segment = segmentIndex(at: time)
            let truthLabel = segment.map { segments[$0].label }
            let seconds = Double(time) / 1e9
            func distance(_ index: Int) -> UInt64 {
                time < starts[index] ? starts[index] - time : time >= ends[index] ? time - ends[index] + 1 : 0
            }
            let candidates = segments.indices.filter {
                down.label != LabelSet.idle && segments[$0].label == down.label && distance($0) <= tolerance
            }
            let free = candidates.filter { hitTime[$0] == nil }.min { distance($0) < distance($1) }
            if let free {
                hitTime[free] = max(time, starts[free])
            } else if candidates.isEmpty {
                falsePresses.append(
                    .init(atSeconds: seconds, label: down.label, truthLabel: truthLabel, reason: .wrongLabel))
            } else {
                falsePresses.append(
                    .init(atSeconds: seconds, label: down.label, truthLabel: truthLabel, reason: .repeatedInSegment))
            }
        }
        for press in falsePresses {
            if let index = names.firstIndex(of: press.label) { perLabel[index].falsePresses += 1 }
        }

        // Gestures: non-idle segments that start before the clip end.
        var missed: [TruthTimeline.Segment] = []
        var triggerTimes: [Double] = []
        var triggerTimesByLabel = names.map { _ in [Double]() }
        for (index, segment) in segments.enumerated() where segment.label != LabelSet.idle && starts[index] < clipEnd {
            guard let labelIndex = names.firstIndex(of: segment.label) else { continue }
            perLabel[labelIndex].gestures += 1
            if let hit = hitTime[index] {
                let milliseconds = Double(hit - starts[index]) / 1e6
                triggerTimes.append(milliseconds)
                triggerTimesByLabel[labelIndex].append(milliseconds)
            } else {
                perLabel[labelIndex].missedGestures += 1
                var clipped = segment
                clipped.endSeconds = min(segment.endSeconds, Double(clipEnd) / 1e9)
                missed.append(clipped)
            }
        }
        for index in perLabel.indices {
            perLabel[index].frameAccuracy = ReplayReport.ratio(perLabel[index].correctFrames, perLabel[index].frames)
            perLabel[index].timeToTriggerP50Milliseconds = ReplayReport.percentile(50, of: triggerTimesByLabel[index])
            perLabel[index].timeToTriggerP95Milliseconds = ReplayReport.percentile(95, of: triggerTimesByLabel[index])
        }

        let durationSeconds = Double(clipEnd) / 1e9
        return ReplayReport(
            durationSeconds: durationSeconds,
            frames: scoredFrames, correctFrames: correctFrames,
            frameAccuracy: ReplayReport.ratio(correctFrames, scoredFrames),
            settleMilliseconds: settleMilliseconds, toleranceMilliseconds: toleranceMilliseconds,
            settledFrames: settledFrames, settledCorrectFrames: settledCorrect,
            settledFrameAccuracy: ReplayReport.ratio(settledCorrect, settledFrames),
            gestures: perLabel.map(\.gestures).reduce(0, +), missedGestures: missed.count,
            keyDowns: downs.count, falsePresses: falsePresses.count,
            falsePressesPerMinute: durationSeconds > 0 ? Double(falsePresses.count) / (durationSeconds / 60) : 0,
            timeToTriggerP50Milliseconds: ReplayReport.percentile(50, of: triggerTimes),
            timeToTriggerP95Milliseconds: ReplayReport.percentile(95, of: triggerTimes),
            perLabel: perLabel, falsePressList: falsePresses, missedGestureList: missed)
    }
}

/// The figures of one replay, for `gesturepad eval --replay` (`description`) and `--json` (Codable).
///
/// Definitions:
/// - **Frame accuracy**: frames whose predicted label (argmax) equals the truth label at the
///   frame's time, over frames with a truth label (frames before the first truth entry are not
///   scored). **Settled**: the same, leaving out frames less than `settleMilliseconds` after a
///   truth change (the clip start is not a change).
/// - **Gesture**: a truth segment whose label is not `idle` and that starts before the clip end.
/// - **False press**: a key-down whose label differs from the truth label at its time (including a
///   press before the truth changes to it, after it ended, or of `idle`), or a second key-down of
///   the right label within one segment. Per minute of clip duration.
/// - **Tolerance**: a key-down of a gesture's label up to `toleranceMilliseconds` before its start or after its end
///   counts as inside it (the nearest such gesture not yet hit), so a press a little before a hand-written boundary
///   is neither a false press nor a miss.
/// - **Missed gesture**: a gesture with no key-down of its label during it (tolerance included).
/// - **Time to trigger**: segment start → its first matching key-down (0 for a press within the tolerance before the
///   start), in milliseconds; p50/p95 by
///   nearest rank (the ⌈p/100 · n⌉-th smallest value); nil when nothing triggered.
public struct ReplayReport: Codable, Equatable, Sendable, CustomStringConvertible {
    /// Figures for one label (frames by truth label; false presses by pressed label).
    public struct LabelFigures: Codable, Equatable, Sendable {
        /// The label.
        public var label: String
        /// Scored frames whose truth is this label.
        public var frames = 0
        /// Of those, frames predicted as this label.
        public var correctFrames = 0
        /// correctFrames / frames; nil without frames.
        public var frameAccuracy: Double?
        /// Gesture segments of this label.
        public var gestures = 0
        /// Of those, segments without a matching key-down.
        public var missedGestures = 0
        /// False key-downs of this label.
        public var falsePresses = 0
        /// Median time to trigger for this label, in ms.
        public var timeToTriggerP50Milliseconds: Double?
        /// 95th percentile time to trigger for this label, in ms.
        public var timeToTriggerP95Milliseconds: Double?

        /// Empty figures for `label`.
        public init(label: String) { self.label = label }
    }

    /// One false key-down and why it counts as false.
    public struct FalsePress: Codable, Equatable, Sendable {
        /// Why a key-down is false.
        public enum Reason: String, Codable, Sendable {
            /// The pressed label is not the truth label at that time (or is idle, or no truth yet).
            case wrongLabel
            /// The right label, but its segment already had a key-down.
            case repeatedInSegment
        }

        /// Seconds from the clip start.
        public var atSeconds: Double
        /// The pressed label.
        public var label: String
        /// The truth label at that time (nil before the first truth entry).
        public var truthLabel: String?
        /// Why it is false.
        public var reason: Reason
    }

    /// Clip duration in seconds (false presses per minute divide by it).
    public var durationSeconds: Double
    /// Frames with a truth label.
    public var frames: Int
    /// Frames whose prediction matched the truth.
    public var correctFrames: Int
    /// correctFrames / frames; nil without frames.
    public var frameAccuracy: Double?
    /// The settle window left out after each truth change, in ms.
    public var settleMilliseconds: Int
    /// How far from a gesture's start or end a key-down still counts for it, in ms (0: strict).
    public var toleranceMilliseconds: Int
    /// Frames outside the settle windows.
    public var settledFrames: Int
    /// Of those, frames predicted right.
    public var settledCorrectFrames: Int
    /// settledCorrectFrames / settledFrames; nil without frames.
    public var settledFrameAccuracy: Double?
    /// Gesture segments (non-idle, starting before the clip end).
    public var gestures: Int
    /// Gestures without a matching key-down.
    public var missedGestures: Int
    /// All key-downs.
    public var keyDowns: Int
    /// False key-downs.
    public var falsePresses: Int
    /// falsePresses per minute of clip; 0 for an empty clip.
    public var falsePressesPerMinute: Double
    /// Median time to trigger over all gestures that triggered, in ms.
    public var timeToTriggerP50Milliseconds: Double?
    /// 95th percentile time to trigger, in ms.
    public var timeToTriggerP95Milliseconds: Double?
    /// Figures per label, in label order.
    public var perLabel: [LabelFigures]
    /// Every false press, in time order.
    public var falsePressList: [FalsePress]
    /// Every missed gesture (segments cut at the clip end).
    public var missedGestureList: [TruthTimeline.Segment]

    /// `7.36 s`: seconds with two decimals (frame times at 30 fps are 33 ms apart).
    static func seconds(_ value: Double) -> String { String(format: "%.2f s", value) }

    /// numerator / denominator, or nil when the denominator is 0.
    static func ratio(_ numerator: Int, _ denominator: Int) -> Double? {
        denominator == 0 ? nil : Double(numerator) / Double(denominator)
    }

    /// The nearest-rank percentile: the ⌈p/100 · n⌉-th smallest value; nil for no values.
    public static func percentile(_ percent: Double, of values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((percent / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// A readable report: summary lines, a per-label table, then the false presses and missed gestures.
    public var description: String {
        func percent(_ value: Double?, _ numerator: Int, _ denominator: Int) -> String {
            guard let value else { return "–" }
            return String(format: "%.1f%% (%ld/%ld)", value * 100, numerator, denominator)
        }
        func milliseconds(_ value: Double?) -> String { value.map { String(format: "%.0f ms", $0) } ?? "–" }
        func column(_ text: String, _ width: Int) -> String {
            text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
        }
        var lines = [
            String(format: "replay: %.1f s, %ld frames scored", durationSeconds, frames),
            "frame accuracy    \(percent(frameAccuracy, correctFrames, frames))",
            "settled accuracy  \(percent(settledFrameAccuracy, settledCorrectFrames, settledFrames)) "
                + "(frames ≥ \(settleMilliseconds) ms after a change)",
            "gestures          \(gestures), missed \(missedGestures)"
                + (toleranceMilliseconds > 0
                    ? " (presses within ±\(toleranceMilliseconds) ms of a gesture count for it)" : ""),
            "key presses       \(keyDowns), false \(falsePresses) "
                + String(format: "(%.2f per minute)", falsePressesPerMinute),
            "time to trigger   p50 \(milliseconds(timeToTriggerP50Milliseconds)), "
                + "p95 \(milliseconds(timeToTriggerP95Milliseconds))",
            "",
            column("label", 12) + column("frames", 8) + column("accuracy", 10) + column("gestures", 10)
                + column("missed", 8) + column("false", 7) + column("ttt p50", 10) + "ttt p95",
        ]
        for figures in perLabel {
            let accuracy = figures.frameAccuracy.map { String(format: "%.1f%%", $0 * 100) } ?? "–"
            lines.append(
                column(figures.label, 12) + column("\(figures.frames)", 8) + column(accuracy, 10)
                    + column("\(figures.gestures)", 10) + column("\(figures.missedGestures)", 8)
                    + column("\(figures.falsePresses)", 7)
                    + column(milliseconds(figures.timeToTriggerP50Milliseconds), 10)
                    + milliseconds(figures.timeToTriggerP95Milliseconds))
        }
        if !falsePressList.isEmpty {
            lines.append("")
            lines.append("false presses:")
            for press in falsePressList {
                let why =
                    press.reason == .wrongLabel
                    ? "truth: \(press.truthLabel ?? "not yet set")" : "second press in this gesture"
                lines.append("  " + Self.seconds(press.atSeconds) + " pressed \(press.label.uppercased()) (\(why))")
            }
        }
        if !missedGestureList.isEmpty {
            lines.append("")
            lines.append("missed gestures:")
            for segment in missedGestureList {
                lines.append(
                    "  " + Self.seconds(segment.startSeconds) + "–" + Self.seconds(segment.endSeconds)
                        + " \(segment.label.uppercased()) never pressed")
            }
        }
        return lines.joined(separator: "\n")
    }
}
