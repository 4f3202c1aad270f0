// GesturesError: every way storing samples, training or loading a head, recognising or evaluating
// can fail. Each case names the file, table, label or field involved and says what to do.
// Several people add cases here: append new cases and their descriptions, keep one per line group.

/// A typed failure of the Gestures library; `description` is a complete sentence for the user.
public enum GesturesError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A label is not one of the configured labels.
    case unknownLabel(label: String, known: [String])
    /// A label name is empty or has characters outside [a-z0-9_-].
    case invalidLabelName(label: String)
    /// A decision-filter setting is outside its allowed range (`field` is the settings key).
    case invalidFilterSetting(field: String, value: String, allowed: String)
    /// A probability vector's length differs from the number of labels.
    case probabilityCountMismatch(expected: Int, got: Int)
    /// A truth timeline file has a syntax or ordering error at `file:line`.
    case truthSyntax(file: String, line: Int, message: String)

    public var description: String {
        switch self {
        case .unknownLabel(let label, let known):
            return "unknown label '\(label)'; the configured labels are \(known.joined(separator: ", "))."
        case .invalidLabelName(let label):
            return "invalid label name '\(label)': use 1–32 characters from a–z, 0–9, '_' and '-'."
        case .invalidFilterSetting(let field, let value, let allowed):
            return "decision filter setting \(field) = \(value) is out of range: allowed \(allowed); fix the setting."
        case .probabilityCountMismatch(let expected, let got):
            return "got \(got) class probabilities but the label set has \(expected); "
                + "the head and the label set disagree: retrain the head or load the matching labels."
        case .truthSyntax(let file, let line, let message):
            return "\(file):\(line): \(message)"
        }
    }
}
