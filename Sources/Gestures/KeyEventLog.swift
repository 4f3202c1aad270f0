// KeyEventLog: key events recorded outside the replay — e.g. read from a real evdev device while the
// daemon watched a camera — as text, so `gesturepad eval --keys log.txt --truth clip.truth` scores a live
// run with the same ReplayScorer rules as `eval --replay`. Format, one event per line:
// `SECONDS down|up LABEL` (seconds from the clip start), `#` comments, blank lines ignored.
// Invariants checked: times finite, ≥ 0 and not decreasing; labels in the LabelSet; a label's events
// alternate down/up starting with down (an unreleased key at the end is allowed and reported by the caller).

/// Reads and writes key-event logs.
public enum KeyEventLog {
    /// Parses a key-event log. Errors carry `file:line` and say what was expected.
    public static func parse(_ text: String, labels: LabelSet, file: String = "<keys>") throws(GesturesError)
        -> [KeyEvent]
    {
        var events: [KeyEvent] = []
        var held: Set<String> = []
        var previousSeconds = 0.0
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = offset + 1
            let content = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if words.isEmpty { continue }
            guard words.count == 3 else {
                throw .keyLogSyntax(
                    file: file, line: line,
                    message: "expected '<seconds> down|up <label>' (e.g. '2.5 down left'), found '\(content)'")
            }
            guard let seconds = Double(words[0]), seconds.isFinite, seconds >= 0 else {
                throw .keyLogSyntax(
                    file: file, line: line,
                    message: "'\(words[0])' is not a time in seconds ≥ 0; write a number like 2.5")
            }
            guard seconds >= previousSeconds else {
                throw .keyLogSyntax(
                    file: file, line: line,
                    message:
                        "time \(seconds) is before the previous event's \(previousSeconds); times must not decrease")
            }
            guard let kind = KeyEvent.Kind(rawValue: String(words[1])) else {
                throw .keyLogSyntax(file: file, line: line, message: "'\(words[1])' is neither 'down' nor 'up'")
            }
            let label = String(words[2])
            guard labels.names.contains(label) else {
                throw .keyLogSyntax(
                    file: file, line: line,
                    message: "unknown label '\(label)'; the labels are \(labels.names.joined(separator: ", "))")
            }
            switch kind {
            case .down:
                guard held.insert(label).inserted else {
                    throw .keyLogSyntax(
                        file: file, line: line, message: "'\(label)' goes down again without an 'up' in between")
                }
            case .up:
                guard held.remove(label) != nil else {
                    throw .keyLogSyntax(file: file, line: line, message: "'\(label)' goes up without having gone down")
                }
            }
            previousSeconds = seconds
            events.append(KeyEvent(kind, label, atNanoseconds: TruthTimeline.nanoseconds(seconds)))
        }
        return events
    }

    /// The text form that `parse` reads back.
    public static func text(_ events: [KeyEvent]) -> String {
        events.map { "\(Double($0.atNanoseconds) / 1e9) \($0.kind.rawValue) \($0.label)\n" }.joined()
    }
}
