// GesturesError: every way storing samples, training or loading a head, recognising or evaluating
// can fail. Each case names the file, table, label or field involved and says what to do.
// Several people add cases here: append new cases and their descriptions, keep one per line group.

/// A typed failure of the Gestures library; `description` is a complete sentence for the user.
public enum GesturesError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A label is not one of the configured labels.
    case unknownLabel(label: String, known: [String])
    /// A label name is empty or has characters outside [a-z0-9_-].
    case invalidLabelName(label: String)
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

    public var description: String {
        switch self {
        case .unknownLabel(let label, let known):
            return "unknown label '\(label)'; the configured labels are \(known.joined(separator: ", "))."
        case .invalidLabelName(let label):
            return "invalid label name '\(label)': use 1–32 characters from a–z, 0–9, '_' and '-'."
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
        }
    }
}
