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
    /// A rollback from the oldest stored head: there is no earlier version to go back to.
    case noEarlierHead(current: Int, available: [Int])
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
    /// A key-event log (`SECONDS down|up LABEL` lines, KeyEventLog) has a syntax or ordering error at `file:line`.
    case keyLogSyntax(file: String, line: Int, message: String)
    // SampleStore (SampleStore.swift)
    /// The sample store file or its directory could not be created or opened.
    case sampleStoreCannotOpen(path: String, reason: String)
    /// The file at the sample store path is not an SQLite database.
    case sampleStoreNotADatabase(path: String)
    /// The sample store was written by a newer gesturepad whose schema migrations this one does not know.
    case sampleStoreNewerSchema(path: String, unknownMigrations: [String])
    /// An SQLite operation on the sample store failed (disk full, file locked, I/O error, …).
    case sampleStoreFailed(path: String, operation: String, reason: String)
    /// A sample to add is malformed: `field` names the offending field.
    case invalidSample(field: String, reason: String)
    /// No stored sample has this id.
    case sampleNotFound(id: Int64)
    /// A stored sample's row does not hold what its own columns promise (e.g. frame size ≠ side²·3).
    case corruptSample(id: Int64, field: String, reason: String)
    /// A cached embedding's blob size does not match its stored element count.
    case corruptEmbedding(sampleID: Int64, modelID: String, byteCount: Int, dimension: Int)
    // Head import/export (HeadExchange.swift)
    /// A head to import or export, or its labels, is unusable: `path` names the file, `reason` what is wrong.
    case headExchange(path: String, reason: String)

    public var description: String {
        switch self {
        case .unknownLabel(let label, let known):
            let guess = Spelling.suggestion(for: label, among: known).map { " (did you mean \($0)?)" } ?? ""
            return "unknown label '\(label)'\(guess); the configured labels are \(known.joined(separator: ", ")). "
                + "A new label is added on purpose: list it in the config's [labels] order "
                + "(`gesturepad samples add` also takes --new-label)."
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
            return
                "head v\(version) does not exist; stored versions: \(available.isEmpty ? "none" : available.map { "v\($0)" }.joined(separator: ", "))."
        case .noEarlierHead(let current, let available):
            return "v\(current) is the oldest stored head, there is none before it to roll back to (stored: "
                + available.map { "v\($0)" }.joined(separator: ", ") + "). `gesturepad head use vN` picks any of them."
        case .headStoreCorrupt(let path, let reason):
            return "\(path) is damaged: \(reason). Retrain with `gesturepad train`, or pick another version."
        case .trainingInProgress:
            return "a training run is already in progress; wait for it or cancel it first."
        case .trainingCancelled:
            return "training was cancelled; the head in use is unchanged."
        case .notEnoughSamples(let counts, let needed):
            let listed =
                counts.isEmpty
                ? "none" : counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            return
                "not enough samples (\(listed)): need \(needed). Record more with `gesturepad record LABEL` or `gesturepad samples add`."
        case .capture(let error):
            return error.description
        case .invalidFilterSetting(let field, let value, let allowed):
            return "decision filter setting \(field) = \(value) is out of range: allowed \(allowed); fix the setting."
        case .probabilityCountMismatch(let expected, let got):
            return "got \(got) class probabilities but the label set has \(expected); "
                + "the head and the label set disagree: retrain the head or load the matching labels."
        case .truthSyntax(let file, let line, let message), .keyLogSyntax(let file, let line, let message):
            return "\(file):\(line): \(message)"
        case .sampleStoreCannotOpen(let path, let reason):
            return "cannot open the sample store \(path): \(reason); check that its directory is writable "
                + "(or point XDG_DATA_HOME elsewhere)."
        case .sampleStoreNotADatabase(let path):
            return "\(path) is not an SQLite database (wrong or damaged file); move it aside and gesturepad "
                + "will start an empty sample store there."
        case .sampleStoreNewerSchema(let path, let unknownMigrations):
            return "the sample store \(path) was written by a newer gesturepad (schema "
                + "\(unknownMigrations.joined(separator: ", "))); upgrade gesturepad to use it, or move it aside "
                + "to start an empty one."
        case .sampleStoreFailed(let path, let operation, let reason):
            return "the sample store \(path) failed to \(operation): \(reason); nothing of that operation was "
                + "saved. Free disk space or stop other gesturepad processes using the file, then retry."
        case .invalidSample(let field, let reason):
            return "invalid sample \(field): \(reason); fix the sample before adding it (nothing was stored)."
        case .sampleNotFound(let id):
            return "no sample with id \(id) (it may have been deleted); list the samples again."
        case .corruptSample(let id, let field, let reason):
            return "sample \(id) is damaged: its \(field) \(reason); delete sample \(id) and record it again."
        case .corruptEmbedding(let sampleID, let modelID, let byteCount, let dimension):
            return "the cached embedding of sample \(sampleID) for model '\(modelID)' has \(byteCount) bytes "
                + "where \(dimension) floats (\(dimension * 4) bytes) were expected; prune the embedding cache "
                + "and it will be recomputed."
        case .headExchange(let path, let reason):
            return "\(path): \(reason)."
        }
    }
}
