// SampleStore: the user's training samples in one SQLite file (GRDB), by default
// `$XDG_DATA_HOME/gesturepad/samples.sqlite`. Invariants: every public write is one transaction
// (all or nothing) and bumps `meta.revision` when it changes a row; with WAL + synchronous=FULL a
// commit that returned survives a process crash, an OS crash or a power cut, and an interrupted
// transaction leaves nothing. Embeddings are a cache keyed by (sample, model id) and die with their
// sample (ON DELETE CASCADE). Every sample belongs to a take (one recording run, one import call):
// samples of a take are time neighbours, and honest evaluation keeps a take on one side of a split. The schema evolves only through `migrator` (append migrations, never
// edit one); a file with migrations we do not know is refused, never touched. No GRDB type is public.
import Capture
import Foundation
import GRDB
import NeuralNet
import Paths

/// The training samples (frames, thumbnails, labels, provenance) and their cached embeddings.
///
/// Thread-safe: reads run concurrently with each other and with the one writer (WAL snapshots), so
/// the training screen can list thumbnails while the recorder adds samples.
public final class SampleStore: Sendable {
    /// The database file, or ":memory:".
    public let path: String
    /// A `DatabasePool` for files: WAL lets readers proceed during a write; a `DatabaseQueue` in memory.
    private let database: any DatabaseWriter

    // MARK: Opening

    /// `$XDG_DATA_HOME/gesturepad/samples.sqlite`; `~/.local/share` when XDG_DATA_HOME is unset or relative.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        GesturepadPaths(environment: environment).dataDirectory.samplesDatabase
    }

    /// Opens (creating it and its parent directories when missing) the sample store at `path`, and
    /// brings its schema up to date.
    ///
    /// Throws `sampleStoreNotADatabase` for a file that is not SQLite, `sampleStoreNewerSchema` for a
    /// store written by a newer gesturepad, `sampleStoreCannotOpen` when the file cannot be created.
    public init(path: String) throws(GesturesError) {
        let directory = (path as NSString).deletingLastPathComponent
        do {
            // Samples are pictures of the user: a directory we create is private to them.
            try FileManager.default.createDirectory(
                atPath: directory.isEmpty ? "." : directory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            throw .sampleStoreCannotOpen(
                path: path, reason: "cannot create directory \(directory): \(FileIO.describe(error))")
        }
        var configuration = Self.configuration
        // FULL: WAL is fsynced at every commit, so a commit survives an OS crash or power cut too
        // (NORMAL with WAL survives only a process crash). Cost: one fsync per add, see the tests' timing.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        self.path = path
        do {
            database = try DatabasePool(path: path, configuration: configuration)  // sets journal_mode=WAL
        } catch {
            throw Self.translate(error, path: path, operation: "open")
        }
        try migrate()
    }

    /// A store in memory, empty, gone when released: for tests and dry runs.
    public static func inMemory() throws(GesturesError) -> SampleStore {
        do {
            return try SampleStore(database: DatabaseQueue(configuration: configuration), path: ":memory:")
        } catch {
            throw translate(error, path: ":memory:", operation: "open")
        }
    }

    private init(database: any DatabaseWriter, path: String) throws(GesturesError) {
        self.database = database
        self.path = path
        try migrate()
    }

    private static var configuration: Configuration {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true  // the embeddings' ON DELETE CASCADE needs it (GRDB's default)
        configuration.busyMode = .timeout(5)  // another gesturepad process may hold the write lock briefly
        return configuration
    }

    /// Closes the database connections; any later call throws `sampleStoreFailed`.
    public func close() throws(GesturesError) {
        do { try database.close() } catch { throw Self.translate(error, path: path, operation: "close") }
    }

    // MARK: Schema

    /// The schema's history. Append migrations; never edit or reorder a released one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE samples (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,        -- AUTOINCREMENT: ids are never reused
                        label TEXT NOT NULL,
                        captured_at REAL NOT NULL,                   -- Unix time, seconds
                        source TEXT NOT NULL,                        -- camera id or recording path
                        mirror INTEGER NOT NULL CHECK (mirror IN (0, 1)),
                        normalization TEXT NOT NULL,
                        side INTEGER NOT NULL CHECK (side BETWEEN 16 AND 1024),
                        thumbnail_side INTEGER NOT NULL,
                        thumbnail BLOB NOT NULL,                     -- [thumbnail_side, thumbnail_side, 3] RGB
                        frame BLOB NOT NULL                          -- [side, side, 3] RGB; last, so listing
                    );                                               -- rows never reads its overflow pages
                    CREATE INDEX samples_by_label ON samples(label);
                    CREATE TABLE embeddings (
                        sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
                        model_id TEXT NOT NULL,                      -- opaque, built by the caller
                        dimension INTEGER NOT NULL,                  -- element count, checked on read
                        vector BLOB NOT NULL,                        -- dimension × Float32 little-endian
                        PRIMARY KEY (sample_id, model_id)
                    );
                    CREATE INDEX embeddings_by_model ON embeddings(model_id);
                    CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL);
                    INSERT INTO meta (key, value) VALUES ('revision', 0);
                    """)
        }
        // Takes: samples recorded together. Rows from before are grouped by time blocks: consecutive samples
        // (insertion order) of one label captured less than `takeGapSeconds` apart are one take.
        migrator.registerMigration("v2-takes") { db in
            try db.execute(sql: "ALTER TABLE samples ADD COLUMN take INTEGER NOT NULL DEFAULT 0")
            let rows = try Row.fetchAll(db, sql: "SELECT id, label, captured_at FROM samples ORDER BY id")
            var take: Int64 = 0
            var previous: (label: String, time: Double)?
            let update = try db.makeStatement(sql: "UPDATE samples SET take = ? WHERE id = ?")
            for row in rows {
                let (id, label, time): (Int64, String, Double) = (row[0], row[1], row[2])
                if let previous, previous.label == label, abs(time - previous.time) < takeGapSeconds {
                } else {
                    take += 1
                }
                previous = (label, time)
                try update.execute(arguments: [take, id])
            }
            try db.execute(sql: "CREATE INDEX samples_by_take ON samples(take)")
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('last_take', ?)", arguments: [take])
        }
        return migrator
    }

    /// Samples from before takes were stored that are this close in time (and share a label) form one take.
    static let takeGapSeconds = 1.0

    /// Refuses stores from a newer gesturepad, then applies the migrations this file lacks.
    private func migrate() throws(GesturesError) {
        let migrator = Self.migrator
        do {
            let unknown = try database.read { db in
                try migrator.appliedIdentifiers(db).subtracting(migrator.migrations)
            }
            guard unknown.isEmpty else {
                throw GesturesError.sampleStoreNewerSchema(path: path, unknownMigrations: unknown.sorted())
            }
            try migrator.migrate(database)
        } catch {
            throw Self.translate(error, path: path, operation: "read or upgrade its schema")
        }
    }

    // MARK: Transactions and errors

    /// Runs `body` in one write transaction; bumps the revision if it changed any row. Rolls back on throw.
    private func write<T>(_ operation: String, _ body: (Database) throws -> T) throws(GesturesError) -> T {
        do {
            return try database.write { db in
                let changesBefore = db.totalChangesCount
                let result = try body(db)
                if db.totalChangesCount != changesBefore {
                    try db.execute(sql: "UPDATE meta SET value = value + 1 WHERE key = 'revision'")
                }
                return result
            }
        } catch {
            throw Self.translate(error, path: path, operation: operation)
        }
    }

    /// Runs `body` on a consistent snapshot (concurrent with other reads and with the writer).
    private func read<T>(_ operation: String, _ body: (Database) throws -> T) throws(GesturesError) -> T {
        do {
            return try database.read(body)
        } catch {
            throw Self.translate(error, path: path, operation: operation)
        }
    }

    /// A GesturesError for any error out of GRDB; our own errors pass through.
    private static func translate(_ error: any Error, path: String, operation: String) -> GesturesError {
        if let error = error as? GesturesError { return error }
        guard let error = error as? DatabaseError else {
            return .sampleStoreFailed(path: path, operation: operation, reason: FileIO.describe(error))
        }
        var reason = error.message ?? "SQLite error \(error.extendedResultCode.rawValue)"
        switch error.resultCode {
        case .SQLITE_FULL:
            reason = "the disk holding it is full (\(reason), SQLITE_FULL)"
        case .SQLITE_IOERR:
            // The extended codes a full or failing file system gives (sqlite3.h: SQLITE_IOERR | n << 8).
            let detail: String
            switch error.extendedResultCode.rawValue {
            case 778: detail = "a write failed (SQLITE_IOERR_WRITE; is the disk full?)"
            case 1034: detail = "fsync failed (SQLITE_IOERR_FSYNC)"
            case 1546: detail = "truncating failed (SQLITE_IOERR_TRUNCATE)"
            case 4874: detail = "the -shm index could not grow (SQLITE_IOERR_SHMSIZE; is the disk full?)"
            default: detail = "SQLite extended code \(error.extendedResultCode.rawValue)"
            }
            reason = "an I/O error: \(detail) (\(reason))"
        default: break
        }
        switch error.resultCode {
        case .SQLITE_NOTADB: return .sampleStoreNotADatabase(path: path)
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY: return .sampleStoreCannotOpen(path: path, reason: reason)
        default: return .sampleStoreFailed(path: path, operation: operation, reason: reason)
        }
    }

    // MARK: Adding

    /// Adds one sample (making its thumbnail) and returns its id.
    @discardableResult
    public func add(_ sample: NewSample) throws(GesturesError) -> Int64 {
        try add(contentsOf: [sample])[0]
    }

    /// A fresh take number for a recording that adds its samples one call at a time (pass it in `NewSample.take`).
    public func newTake() throws(GesturesError) -> Int64 {
        try write("start a take") { db in try Self.allocateTake(db) }
    }

    private static func allocateTake(_ db: Database) throws -> Int64 {
        try db.execute(sql: "UPDATE meta SET value = value + 1 WHERE key = 'last_take'")
        return try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'last_take'") ?? 0
    }

    /// Adds samples in one transaction: all are stored, or (when one is invalid or the write fails)
    /// none. Samples without a take share one new take. Returns their ids in order.
    @discardableResult
    public func add(contentsOf samples: [NewSample]) throws(GesturesError) -> [Int64] {
        try insert(samples, afterEach: { _ in })
    }

    /// Adds samples together with their embeddings (computed by model `modelID`, one per sample, in order) in one
    /// transaction: every sample with its embedding is stored, or — when one is invalid or a write fails, e.g. the
    /// disk is full — nothing is. Returns the new ids in order.
    @discardableResult
    public func add(contentsOf samples: [NewSample], embeddings: [[Float]], modelID: String) throws(GesturesError)
        -> [Int64]
    {
        guard embeddings.count == samples.count else {
            throw .invalidSample(
                field: "embeddings", reason: "\(embeddings.count) embedding(s) for \(samples.count) sample(s)")
        }
        return try insert(samples, embeddings: (modelID, embeddings), afterEach: { _ in })
    }

    /// `add(contentsOf:)` with optional embeddings stored in the same transaction, and a hook run inside the
    /// transaction after each insert (crash and fault tests).
    func insert(
        _ samples: [NewSample], embeddings: (modelID: String, vectors: [[Float]])? = nil,
        afterEach: (Int) throws -> Void
    ) throws(GesturesError) -> [Int64] {
        try write("add \(samples.count) sample(s)\(embeddings == nil ? "" : " with their embeddings")") { db in
            var ids: [Int64] = []
            ids.reserveCapacity(samples.count)
            // Samples of one call without a take of their own are one take.
            let callTake = samples.contains { $0.take == nil } ? try Self.allocateTake(db) : nil
            let embeddingStatement =
                embeddings == nil
                ? nil
                : try db.cachedStatement(
                    sql:
                        "INSERT OR REPLACE INTO embeddings (sample_id, model_id, dimension, vector) VALUES (?, ?, ?, ?)"
                )
            for (index, sample) in samples.enumerated() {
                // Validated inside the transaction: a bad sample rolls back the ones before it.
                try sample.validate()
                let thumbnail = Thumbnail.make(frame: sample.frame, frameSide: sample.side)
                try db.execute(
                    sql: """
                        INSERT INTO samples (label, captured_at, source, mirror, normalization, side,
                                             thumbnail_side, thumbnail, frame, take)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        sample.label, sample.capturedAt.timeIntervalSince1970, sample.source, sample.mirror,
                        sample.normalization, sample.side, thumbnail.width, Data(thumbnail.pixels), Data(sample.frame),
                        sample.take ?? callTake,
                    ])
                ids.append(db.lastInsertedRowID)
                if let embeddings, let embeddingStatement {
                    let vector = embeddings.vectors[index]
                    try embeddingStatement.execute(arguments: [
                        db.lastInsertedRowID, embeddings.modelID, vector.count, EmbeddingBlob.encode(vector),
                    ])
                }
                try afterEach(index)
            }
            return ids
        }
    }

    /// Fault seam for tests: caps the database at its current size plus `extraPages` pages (SQLite's
    /// `max_page_count` on the writer connection), so a write that needs more fails with SQLITE_FULL exactly as on a
    /// full disk. Returns the page count at the time of the call.
    @discardableResult
    func limitGrowth(toExtraPages extraPages: Int) throws(GesturesError) -> Int {
        do {
            return try database.writeWithoutTransaction { db in
                let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
                _ = try Int.fetchOne(db, sql: "PRAGMA max_page_count = \(pages + max(0, extraPages))")
                return pages
            }
        } catch {
            throw Self.translate(error, path: path, operation: "limit its size")
        }
    }

    // MARK: Queries

    /// A number that grows with every committed change (by any process); compare to tell the store changed.
    public func revision() throws(GesturesError) -> Int64 {
        try read("read the revision") { db in
            try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'revision'") ?? 0
        }
    }

    /// The number of samples per label (labels without samples are absent).
    public func counts() throws(GesturesError) -> [String: Int] {
        try read("count samples") { db in
            let rows = try Row.fetchAll(db, sql: "SELECT label, COUNT(*) FROM samples GROUP BY label")
            return Dictionary(uniqueKeysWithValues: rows.map { (row: Row) -> (String, Int) in (row[0], row[1]) })
        }
    }

    /// The samples (no pixels) in insertion order, all or those of `label`.
    public func samples(label: String? = nil) throws(GesturesError) -> [SampleInfo] {
        try read("list samples") { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.infoColumns) FROM samples WHERE ?1 IS NULL OR label = ?1 ORDER BY id",
                arguments: [label]
            ).map(Self.info)
        }
    }

    /// Sample `id` without its pixels, or nil when there is none.
    public func sample(id: Int64) throws(GesturesError) -> SampleInfo? {
        try read("find sample \(id)") { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.infoColumns) FROM samples WHERE id = ?", arguments: [id]).map(
                Self.info)
        }
    }

    /// The most recently added sample, of `label` or of any label (for "delete the last sample").
    public func latestSample(label: String? = nil) throws(GesturesError) -> SampleInfo? {
        try read("find the latest sample") { db in
            try Row.fetchOne(
                db,
                sql: "SELECT \(Self.infoColumns) FROM samples WHERE ?1 IS NULL OR label = ?1 ORDER BY id DESC LIMIT 1",
                arguments: [label]
            ).map(Self.info)
        }
    }

    /// The frame of sample `id`; throws `sampleNotFound` or, for a damaged row, `corruptSample`.
    public func frame(id: Int64) throws(GesturesError) -> RGBImage {
        let found: (side: Int, pixels: Data)? = try read("read the frame of sample \(id)") { db in
            try Row.fetchOne(db, sql: "SELECT side, frame FROM samples WHERE id = ?", arguments: [id]).map {
                (side: $0[0], pixels: $0[1])
            }
        }
        guard let found else { throw .sampleNotFound(id: id) }
        return try Self.image(side: found.side, pixels: found.pixels, id: id, field: "frame")
    }

    /// Thumbnails, newest first, of `label` (or all labels), at most `limit`.
    public func thumbnails(label: String? = nil, limit: Int = 12) throws(GesturesError) -> [SampleThumbnail] {
        let rows: [(id: Int64, label: String, side: Int, pixels: Data)] = try read("read thumbnails") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, label, thumbnail_side, thumbnail FROM samples
                    WHERE ?1 IS NULL OR label = ?1 ORDER BY id DESC LIMIT ?2
                    """,
                arguments: [label, max(0, limit)]
            ).map { (id: $0[0], label: $0[1], side: $0[2], pixels: $0[3]) }
        }
        var thumbnails: [SampleThumbnail] = []
        for row in rows {
            let image = try Self.image(side: row.side, pixels: row.pixels, id: row.id, field: "thumbnail")
            thumbnails.append(SampleThumbnail(id: row.id, label: row.label, image: image))
        }
        return thumbnails
    }

    /// The thumbnails of samples `ids` (those that exist), in the order given.
    public func thumbnails(ids: [Int64]) throws(GesturesError) -> [SampleThumbnail] {
        guard !ids.isEmpty else { return [] }
        let rows: [(id: Int64, label: String, side: Int, pixels: Data)] = try read("read thumbnails") { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT id, label, thumbnail_side, thumbnail FROM samples WHERE id IN (SELECT value FROM json_each(?))",
                arguments: ["[" + ids.map(String.init).joined(separator: ",") + "]"]
            ).map { (id: $0[0], label: $0[1], side: $0[2], pixels: $0[3]) }
        }
        var byID: [Int64: SampleThumbnail] = [:]
        for row in rows {
            let image = try Self.image(side: row.side, pixels: row.pixels, id: row.id, field: "thumbnail")
            byID[row.id] = SampleThumbnail(id: row.id, label: row.label, image: image)
        }
        return ids.compactMap { byID[$0] }
    }

    private static let infoColumns = "id, label, side, captured_at, source, mirror, normalization, take"

    private static func info(_ row: Row) -> SampleInfo {
        SampleInfo(
            id: row[0], label: row[1], side: row[2], capturedAt: Date(timeIntervalSince1970: row[3]),
            source: row[4], mirror: row[5], normalization: row[6], take: row[7])
    }

    private static func image(side: Int, pixels: Data, id: Int64, field: String) throws(GesturesError) -> RGBImage {
        guard side > 0, pixels.count == side * side * 3 else {
            throw .corruptSample(
                id: id, field: field, reason: "has \(pixels.count) bytes where \(side)×\(side)×3 were expected")
        }
        return RGBImage(width: side, height: side, pixels: [UInt8](pixels))
    }

    // MARK: Changes

    /// Deletes sample `id` (and its cached embeddings); returns 1, or 0 when there was no such sample.
    @discardableResult
    public func delete(id: Int64) throws(GesturesError) -> Int {
        try write("delete sample \(id)") { db in
            try db.execute(sql: "DELETE FROM samples WHERE id = ?", arguments: [id])
            return db.changesCount
        }
    }

    /// Deletes the samples `ids` in one transaction, all or none: throws `sampleNotFound` for the first id with no
    /// sample (and deletes nothing); returns how many were deleted (a repeated id counts once).
    @discardableResult
    public func delete(ids: [Int64]) throws(GesturesError) -> Int {
        try write("delete samples \(ids.map { "#\($0)" }.joined(separator: ", "))") { db in
            var deleted = 0
            for id in Set(ids).sorted() {
                try db.execute(sql: "DELETE FROM samples WHERE id = ?", arguments: [id])
                guard db.changesCount == 1 else { throw GesturesError.sampleNotFound(id: id) }
                deleted += 1
            }
            return deleted
        }
    }

    /// Moves the samples `ids` to `newLabel` (a valid label name) in one transaction: all or none. Returns how many
    /// existed and moved. Their cached embeddings stay valid: the frames are unchanged.
    @discardableResult
    public func relabel(ids: [Int64], to newLabel: String) throws(GesturesError) -> Int {
        guard LabelSet.isValidName(newLabel) else { throw .invalidLabelName(label: newLabel) }
        return try write("relabel \(ids.count) sample(s)") { db in
            var moved = 0
            for id in ids {
                try db.execute(sql: "UPDATE samples SET label = ? WHERE id = ?", arguments: [newLabel, id])
                moved += db.changesCount
            }
            return moved
        }
    }

    /// Deletes every sample of `label`; returns how many.
    @discardableResult
    public func deleteLabel(_ label: String) throws(GesturesError) -> Int {
        try write("delete the samples of '\(label)'") { db in
            try db.execute(sql: "DELETE FROM samples WHERE label = ?", arguments: [label])
            return db.changesCount
        }
    }

    /// Deletes every sample and embedding; returns how many samples. Ids keep growing afterwards.
    @discardableResult
    public func deleteAll() throws(GesturesError) -> Int {
        try write("delete all samples") { db in
            try db.execute(sql: "DELETE FROM samples")
            return db.changesCount
        }
    }

    /// Moves sample `id` to `newLabel` (a valid label name); returns 1, or 0 when there was no such sample.
    /// Its cached embeddings stay valid: the frame is unchanged.
    @discardableResult
    public func relabel(id: Int64, to newLabel: String) throws(GesturesError) -> Int {
        guard LabelSet.isValidName(newLabel) else { throw .invalidLabelName(label: newLabel) }
        return try write("relabel sample \(id)") { db in
            try db.execute(sql: "UPDATE samples SET label = ? WHERE id = ?", arguments: [newLabel, id])
            return db.changesCount
        }
    }

    /// Moves every sample of `label` to `newLabel` (merging when it has samples); returns how many moved.
    @discardableResult
    public func relabel(label: String, to newLabel: String) throws(GesturesError) -> Int {
        guard LabelSet.isValidName(newLabel) else { throw .invalidLabelName(label: newLabel) }
        guard label != newLabel else { return 0 }
        return try write("relabel the samples of '\(label)'") { db in
            try db.execute(sql: "UPDATE samples SET label = ? WHERE label = ?", arguments: [newLabel, label])
            return db.changesCount
        }
    }

    // MARK: Embedding cache

    /// The cached embeddings computed by model `modelID`, by sample id. Samples missing from the
    /// result need computing. Throws `corruptEmbedding` naming the sample for a damaged row.
    public func cachedEmbeddings(modelID: String) throws(GesturesError) -> [Int64: [Float]] {
        let rows: [(id: Int64, dimension: Int, vector: Data)] = try read("read embeddings of '\(modelID)'") { db in
            try Row.fetchAll(
                db, sql: "SELECT sample_id, dimension, vector FROM embeddings WHERE model_id = ?",
                arguments: [modelID]
            ).map { (id: $0[0], dimension: $0[1], vector: $0[2]) }
        }
        var embeddings: [Int64: [Float]] = [:]
        embeddings.reserveCapacity(rows.count)
        for row in rows {
            guard let vector = EmbeddingBlob.decode(row.vector, dimension: row.dimension) else {
                throw .corruptEmbedding(
                    sampleID: row.id, modelID: modelID, byteCount: row.vector.count, dimension: row.dimension)
            }
            embeddings[row.id] = vector
        }
        return embeddings
    }

    /// Copies the cached embeddings of model `modelID` for `ids` into `matrix` (row r holds sample `ids[r]`,
    /// `dimension` floats), one stored vector at a time, so a training run never holds every cached vector
    /// twice (once as rows, once as a dictionary) beside the matrix it builds. Returns which rows were filled;
    /// the others need computing (no cached vector, or one of another dimension). Throws `corruptEmbedding`
    /// naming the sample for a damaged row.
    /// - Precondition: `matrix.count == ids.count * dimension`.
    public func fillCachedEmbeddings(modelID: String, ids: [Int64], dimension: Int, into matrix: inout [Float])
        throws(GesturesError) -> [Bool]
    {
        precondition(matrix.count == ids.count * dimension, "matrix of \(matrix.count) for \(ids.count) × \(dimension)")
        var rowOfSample: [Int64: Int] = [:]
        rowOfSample.reserveCapacity(ids.count)
        for (row, id) in ids.enumerated() { rowOfSample[id] = row }
        var filled = [Bool](repeating: false, count: ids.count)
        try read("read embeddings of '\(modelID)'") { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT sample_id, dimension, vector FROM embeddings WHERE model_id = ?", arguments: [modelID])
            while let row = try rows.next() {
                let id: Int64 = row[0]
                let storedDimension: Int = row[1]
                guard let target = rowOfSample[id] else { continue }
                let copied = try row.withUnsafeData(atIndex: 2) { (data: Data?) -> Int? in
                    guard let data, storedDimension >= 0, data.count == storedDimension * 4 else { return nil }
                    guard storedDimension == dimension else { return 0 }
                    matrix.withUnsafeMutableBufferPointer { destination in
                        data.withUnsafeBytes { bytes in
                            for index in 0..<dimension {
                                destination[target * dimension + index] = Float(
                                    bitPattern: UInt32(
                                        littleEndian: bytes.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
                            }
                        }
                    }
                    return dimension
                }
                guard let copied else {
                    let byteCount = try row.withUnsafeData(atIndex: 2) { $0?.count ?? 0 }
                    throw GesturesError.corruptEmbedding(
                        sampleID: id, modelID: modelID, byteCount: byteCount, dimension: storedDimension)
                }
                if copied == dimension { filled[target] = true }
            }
        }
        return filled
    }

    /// Caches embeddings (by sample id) computed by model `modelID` in one transaction, replacing older ones of the
    /// same (sample, model). Items whose sample was deleted meanwhile are skipped; returns how many were stored.
    @discardableResult
    public func storeEmbeddings(modelID: String, _ embeddings: [Int64: [Float]]) throws(GesturesError) -> Int {
        try write("store \(embeddings.count) embedding(s) of '\(modelID)'") { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO embeddings (sample_id, model_id, dimension, vector)
                    SELECT id, ?, ?, ? FROM samples WHERE id = ?
                    """)
            var stored = 0
            for (sampleID, vector) in embeddings {
                try statement.execute(arguments: [modelID, vector.count, EmbeddingBlob.encode(vector), sampleID])
                stored += db.changesCount
            }
            return stored
        }
    }

    /// Drops the cached embeddings of every model except `modelID`; returns how many rows went.
    @discardableResult
    public func pruneEmbeddings(keeping modelID: String) throws(GesturesError) -> Int {
        try write("prune embeddings") { db in
            try db.execute(sql: "DELETE FROM embeddings WHERE model_id != ?", arguments: [modelID])
            return db.changesCount
        }
    }
}
