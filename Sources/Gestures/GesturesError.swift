// GesturesError: every way storing samples, training or loading a head, recognising or evaluating
// can fail. Each case names the file, table, label or field involved and says what to do.
// Several people add cases here: append new cases and their descriptions, keep one per line group.
import Capture
import NeuralNet

/// A typed failure of the Gestures library; `description` is a complete sentence for the user.
public enum GesturesError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A label is not one of the configured labels.
    case unknownLabel(label: String, known: [String])
    /// A label name is empty or has characters outside [a-z0-9_-].
    case invalidLabelName(label: String)
    /// The embedding model could not be loaded or planned (see the wrapped error).
    case model(NeuralNetError)
    /// The model cannot serve as an embedder for sample frames.
    case embedderUnsuitable(model: String, reason: String)
    /// A sample frame has the wrong number of bytes.
    case sampleSizeMismatch(expected: Int, found: Int)
    /// A head does not fit the current embedder or label set.
    case headDoesNotFit(head: String, reason: String)
    /// A setting is out of range (`field` is its config/CLI name).
    case invalidSetting(field: String, value: String, expected: String)
    /// No head has been trained yet.
    case noHead(store: String)
    /// A head version does not exist.
    case headVersionMissing(version: Int, available: [Int])
    /// A file in the head store is damaged.
    case headStoreCorrupt(path: String, reason: String)
    /// A training run is already going.
    case trainingInProgress
    /// Training was cancelled; the current head is unchanged.
    case trainingCancelled
    /// Too few samples to train or evaluate.
    case notEnoughSamples(counts: [String: Int], needed: String)
    /// Reading a photo, recording or camera failed (see the wrapped error).
    case capture(CaptureError)
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
        case .model(let error):
            return error.description
        case .embedderUnsuitable(let model, let reason):
            return "model \(model) cannot embed sample frames: \(reason). Choose a MobileNet with a [S, S, 3] input."
        case .sampleSizeMismatch(let expected, let found):
            return "a sample frame must hold \(expected) bytes (S×S×3 RGB), this one has \(found)."
        case .headDoesNotFit(let head, let reason):
            return "head \(head) does not fit: \(reason). Retrain with `gesturepad train` for the current model."
        case .invalidSetting(let field, let value, let expected):
            return "\(field) = \(value) is out of range: expected \(expected)."
        case .noHead(let store):
            return "no trained head in \(store): record samples and run `gesturepad train` first."
        case .headVersionMissing(let version, let available):
            return "head version \(version) does not exist; stored versions: \(available.isEmpty ? "none" : available.map(String.init).joined(separator: ", "))."
        case .headStoreCorrupt(let path, let reason):
            return "\(path) is damaged: \(reason). Retrain with `gesturepad train`, or pick another version."
        case .trainingInProgress:
            return "a training run is already in progress; wait for it or cancel it first."
        case .trainingCancelled:
            return "training was cancelled; the head in use is unchanged."
        case .notEnoughSamples(let counts, let needed):
            let listed = counts.isEmpty ? "none" : counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            return "not enough samples (\(listed)): need \(needed). Record more with `gesturepad record LABEL` or `gesturepad samples add`."
        case .capture(let error):
            return error.description
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
