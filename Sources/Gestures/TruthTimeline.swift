// TruthTimeline: the intended directions of a recorded clip (`clip.truth` beside `clip.y4m`), the
// ground truth for `gesturepad eval --replay`. Text format, one change per line: `SECONDS LABEL`
// (seconds from the clip start; the label holds from then until the next line), `#` comments.
// Invariants: at least one entry, times finite, ≥ 0 and strictly increasing, labels in the LabelSet.
// Times are compared in whole nanoseconds (rounded once) so frame timestamps match boundaries exactly.

/// The intended label over the time of a recording, as a list of changes.
public struct TruthTimeline: Sendable, Equatable {
    /// From `atSeconds` on, the intended label is `label`.
    public struct Change: Sendable, Equatable, Codable {
        /// Seconds from the clip start.
        public var atSeconds: Double
        /// The label in effect from then on.
        public var label: String

        /// A change to `label` at `atSeconds`.
        public init(atSeconds: Double, label: String) {
            self.atSeconds = atSeconds
            self.label = label
        }
    }

    /// One stretch of time with a single intended label: [start, end).
    public struct Segment: Sendable, Equatable, Codable {
        /// The intended label.
        public var label: String
        /// Start, in seconds from the clip start (inclusive).
        public var startSeconds: Double
        /// End, in seconds from the clip start (exclusive); `.infinity` for an open last segment.
        public var endSeconds: Double

        /// A segment of `label` over [startSeconds, endSeconds).
        public init(label: String, startSeconds: Double, endSeconds: Double) {
            self.label = label
            self.startSeconds = startSeconds
            self.endSeconds = endSeconds
        }
    }

    /// The labels the timeline may use.
    public let labels: LabelSet
    /// The changes as given, in increasing time.
    public let changes: [Change]

    /// A timeline from changes; throws `.truthSyntax` (line = index + 1) like the text parser.
    public init(changes: [Change], labels: LabelSet, file: String = "<truth>") throws(GesturesError) {
        try Self.check(changes, labels: labels, file: file, lineNumbers: Array(1...max(1, changes.count)))
        self.labels = labels
        self.changes = changes
    }

    /// Parses a truth file: `SECONDS LABEL` per line, `#` starts a comment, blank lines ignored.
    /// Errors carry `file:line` and say what was expected.
    public init(parsing text: String, labels: LabelSet, file: String = "<truth>") throws(GesturesError) {
        var changes: [Change] = []
        var lineNumbers: [Int] = []
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if words.isEmpty { continue }
            guard words.count == 2 else {
                throw .truthSyntax(
                    file: file, line: offset + 1,
                    message: "expected '<seconds> <label>' (e.g. '2.5 left'), found '\(line.trimmed)'")
            }
            guard let seconds = Double(words[0]) else {
                throw .truthSyntax(
                    file: file, line: offset + 1,
                    message: "'\(words[0])' is not a time in seconds; write a number like 2.5")
            }
            changes.append(Change(atSeconds: seconds, label: String(words[1])))
            lineNumbers.append(offset + 1)
        }
        try Self.check(changes, labels: labels, file: file, lineNumbers: lineNumbers.isEmpty ? [1] : lineNumbers)
        self.labels = labels
        self.changes = changes
    }

    /// The invariants; `lineNumbers[i]` is the file line of `changes[i]` (or [1] with no changes).
    private static func check(
        _ changes: [Change], labels: LabelSet, file: String, lineNumbers: [Int]
    ) throws(GesturesError) {
        guard !changes.isEmpty else {
            throw .truthSyntax(
                file: file, line: lineNumbers[0],
                message: "no entries; write one '<seconds> <label>' line per change, e.g. '0.0 idle'")
        }
        for (index, change) in changes.enumerated() {
            let line = lineNumbers[index]
            guard change.atSeconds.isFinite, change.atSeconds >= 0 else {
                throw .truthSyntax(
                    file: file, line: line, message: "time \(change.atSeconds) is not a number of seconds ≥ 0")
            }
            if index > 0, change.atSeconds <= changes[index - 1].atSeconds {
                throw .truthSyntax(
                    file: file, line: line,
                    message: "time \(change.atSeconds) is not after the previous entry's "
                        + "\(changes[index - 1].atSeconds); times must increase")
            }
            guard labels.names.contains(change.label) else {
                throw .truthSyntax(
                    file: file, line: line,
                    message: "unknown label '\(change.label)'; the labels are \(labels.names.joined(separator: ", "))")
            }
        }
    }

    /// The text form (`SECONDS LABEL` lines) that `init(parsing:)` reads back.
    public var text: String { changes.map { "\($0.atSeconds) \($0.label)\n" }.joined() }

    /// The intended label at `seconds`, or nil before the first entry (and for negative or NaN times).
    public func label(atSeconds seconds: Double) -> String? {
        guard seconds >= 0 else { return nil }
        return label(atNanoseconds: Self.nanoseconds(seconds))
    }

    /// The intended label at `nanoseconds` from the clip start, or nil before the first entry.
    public func label(atNanoseconds nanoseconds: UInt64) -> String? {
        var result: String?
        for change in changes where Self.nanoseconds(change.atSeconds) <= nanoseconds { result = change.label }
        return result
    }

    /// The stretches of one label, in order: consecutive entries with the same label merge into one
    /// segment; the last segment is open (`endSeconds` = `.infinity`).
    public var segments: [Segment] {
        var result: [Segment] = []
        for change in changes {
            if let last = result.last, last.label == change.label { continue }
            if !result.isEmpty { result[result.count - 1].endSeconds = change.atSeconds }
            result.append(Segment(label: change.label, startSeconds: change.atSeconds, endSeconds: .infinity))
        }
        return result
    }

    /// `segments` cut at the clip end: segments starting at or after `endSeconds` are dropped and the
    /// last one ends there.
    public func segments(endingAtSeconds endSeconds: Double) -> [Segment] {
        var result = segments.filter { $0.startSeconds < endSeconds }
        if let last = result.indices.last { result[last].endSeconds = min(result[last].endSeconds, endSeconds) }
        return result
    }

    /// Seconds → whole nanoseconds, the unit every comparison with frame times uses.
    static func nanoseconds(_ seconds: Double) -> UInt64 {
        seconds.isFinite ? UInt64(max(0, seconds * 1e9).rounded()) : .max
    }
}

extension Substring {
    fileprivate var trimmed: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
