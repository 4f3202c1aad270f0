// SampleStore behaviour on real files in temporary directories: add/list/count/delete/relabel,
// thumbnails of known pictures, the embedding cache, validation, reopening, the refusal of foreign
// and newer files, crash safety (an exit test SIGKILLs a child process mid-transaction) and reads
// running beside a writer. Fixtures are generated frames of flat colours.
import Capture
import Foundation
import GRDB
import TestSupport
import Testing

@testable import Gestures

/// A fresh directory under the temp dir, removed by `remove()`.
struct TemporaryDirectory {
    let path: String
    init() throws {
        path = temporaryDirectory("store")
    }
    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A side×side frame of one colour.
func flatFrame(side: Int = 224, _ red: UInt8, _ green: UInt8, _ blue: UInt8) -> [UInt8] {
    (0..<side * side).flatMap { _ in [red, green, blue] }
}

/// A sample of a flat colour; `shade` varies the colour so frames differ.
func sample(_ label: String, shade: UInt8 = 0, side: Int = 224, at seconds: Double = 1_700_000_000) -> NewSample {
    NewSample(
        label: label, frame: flatFrame(side: side, shade, 255 &- shade, 7), side: side,
        capturedAt: Date(timeIntervalSince1970: seconds), source: "/dev/video0", mirror: true,
        normalization: "x/127.5-1")
}

@Suite struct SampleStoreTests {
    @Test func addListCountAndReadBack() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SampleStore(path: directory.file("nested/dir/samples.sqlite"))
        #expect(try store.counts().isEmpty)
        #expect(try store.latestSample() == nil)

        let ids = try store.add(contentsOf: [sample("up", shade: 1), sample("up", shade: 2), sample("left", shade: 3)])
        let single = try store.add(
            NewSample(
                label: "up", frame: flatFrame(side: 32, 9, 8, 7), side: 32,
                capturedAt: Date(timeIntervalSince1970: 1_700_000_123.456), source: "rec/a.y4m", mirror: false,
                normalization: "x/127-1"))
        #expect(ids.count == 3 && ids == ids.sorted() && single > ids[2])
        #expect(try store.counts() == ["up": 3, "left": 1])

        let ups = try store.samples(label: "up")
        #expect(ups.map(\.id) == [ids[0], ids[1], single])
        let last = try #require(ups.last)
        #expect(last.label == "up" && last.side == 32 && last.source == "rec/a.y4m" && !last.mirror)
        #expect(last.normalization == "x/127-1")
        #expect(abs(last.capturedAt.timeIntervalSince1970 - 1_700_000_123.456) < 1e-6)
        #expect(try store.samples().count == 4)
        #expect(try store.samples(label: "down").isEmpty)
        #expect(try store.latestSample()?.id == single)
        #expect(try store.latestSample(label: "left")?.id == ids[2])

        let frame = try store.frame(id: ids[2])
        #expect(frame.width == 224 && frame.height == 224 && frame.pixels == flatFrame(3, 252, 7))
        #expect(try store.frame(id: single).pixels == flatFrame(side: 32, 9, 8, 7))
        #expect(throws: GesturesError.sampleNotFound(id: 999)) { try store.frame(id: 999) }
    }

    @Test func deleteAndRelabelReportChangesAndBumpTheRevision() throws {
        let store = try SampleStore.inMemory()
        let ids = try store.add(contentsOf: ["up", "up", "down", "left", "left", "left"].map { sample($0) })
        var revision = try store.revision()
        #expect(revision == 1)
        func expectRevisionBumped(_ bumped: Bool, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let now = try store.revision()
            #expect(bumped ? now > revision : now == revision, sourceLocation: sourceLocation)
            revision = now
        }

        #expect(try store.delete(id: ids[0]) == 1)
        try expectRevisionBumped(true)
        #expect(try store.delete(id: ids[0]) == 0)
        try expectRevisionBumped(false)
        #expect(try store.relabel(id: ids[1], to: "right") == 1)
        #expect(try store.relabel(id: 12345, to: "right") == 0)
        #expect(try store.counts() == ["right": 1, "down": 1, "left": 3])
        #expect(try store.relabel(label: "left", to: "down") == 3)  // merges into an existing label
        #expect(try store.counts() == ["right": 1, "down": 4])
        try expectRevisionBumped(true)
        #expect(throws: GesturesError.invalidLabelName(label: "Left!")) {
            try store.relabel(label: "down", to: "Left!")
        }
        #expect(throws: GesturesError.invalidLabelName(label: "")) { try store.relabel(id: ids[1], to: "") }
        #expect(try store.deleteLabel("down") == 4)
        #expect(try store.deleteLabel("down") == 0)
        #expect(try store.counts() == ["right": 1])
        #expect(try store.deleteAll() == 1)
        #expect(try store.counts().isEmpty)
        try expectRevisionBumped(true)
        // Ids are never reused, so caches keyed by id cannot confuse a new sample with a deleted one.
        #expect(try store.add(sample("up")) > ids.max()!)
    }

    // MARK: Thumbnails

    /// A frame whose quadrants are red, green (top) and blue, white (bottom).
    static func quadrants(side: Int) -> [UInt8] {
        var frame = [UInt8](repeating: 0, count: side * side * 3)
        for y in 0..<side {
            for x in 0..<side {
                let colour: [UInt8] =
                    switch (y < side / 2, x < side / 2) {
                    case (true, true): [255, 0, 0]
                    case (true, false): [0, 255, 0]
                    case (false, true): [0, 0, 255]
                    case (false, false): [255, 255, 255]
                    }
                frame.replaceSubrange((y * side + x) * 3..<(y * side + x) * 3 + 3, with: colour)
            }
        }
        return frame
    }

    @Test(arguments: [56, 100, 224, 1024])
    func thumbnailOfQuadrantsKeepsQuadrants(side: Int) throws {
        let thumbnail = Thumbnail.make(frame: Self.quadrants(side: side), frameSide: side)
        #expect(thumbnail.width == 56 && thumbnail.height == 56)
        // Box 28 starts at ⌊28·S/56⌋ = S/2 for even S, so no box straddles a quadrant edge.
        #expect(thumbnail.pixels == Self.quadrants(side: 56))
    }

    @Test(arguments: [16, 17, 55, 57, 100, 223])
    func thumbnailOfAFlatFrameIsFlat(side: Int) {
        let thumbnail = Thumbnail.make(frame: flatFrame(side: side, 10, 20, 30), frameSide: side)
        #expect(thumbnail.width == min(side, 56))
        #expect(thumbnail.pixels == flatFrame(side: min(side, 56), 10, 20, 30))
    }

    @Test func thumbnailAveragesEachBox() {
        // Columns alternate 0 and 255 (G, B fixed): every 4×4 box of a 224 frame averages 127.5 → 128.
        var frame = [UInt8](repeating: 0, count: 224 * 224 * 3)
        for pixel in 0..<224 * 224 {
            frame[pixel * 3] = pixel % 2 == 0 ? 0 : 255
            frame[pixel * 3 + 1] = 40
            frame[pixel * 3 + 2] = UInt8(pixel / 224 / 4)  // constant within a box row: its box index
        }
        let thumbnail = Thumbnail.make(frame: frame, frameSide: 224)
        for y in 0..<56 {
            #expect(thumbnail.pixels[(y * 56 + 7) * 3..<(y * 56 + 7) * 3 + 3] == [128, 40, UInt8(y)])
        }
    }

    @Test func thumbnailsAreNewestFirstPerLabel() throws {
        let store = try SampleStore.inMemory()
        let ids = try store.add(contentsOf: [
            sample("up", shade: 10), sample("down", shade: 20), sample("up", shade: 30),
        ])
        let ups = try store.thumbnails(label: "up", limit: 5)
        #expect(ups.map(\.id) == [ids[2], ids[0]])
        #expect(ups.allSatisfy { $0.label == "up" && $0.image.width == 56 })
        #expect(ups[0].image.pixels == flatFrame(side: 56, 30, 225, 7))
        #expect(try store.thumbnails(limit: 2).map(\.id) == [ids[2], ids[1]])
        #expect(try store.thumbnails(label: "left").isEmpty)
    }

    // MARK: Embedding cache

    @Test func embeddingsRoundTripExactlyAndArePerModel() throws {
        let store = try SampleStore.inMemory()
        let ids = try store.add(contentsOf: [sample("up"), sample("down"), sample("left")])
        let special: [Float] = [
            0, -0.0, 1.5, -Float.leastNormalMagnitude / 4, .infinity, -.greatestFiniteMagnitude, .pi,
        ]
        #expect(try store.storeEmbeddings(modelID: "m1", [ids[0]: special, ids[1]: [1, 2, 3]]) == 2)
        #expect(try store.storeEmbeddings(modelID: "m2", [ids[0]: [9]]) == 1)
        let cached = try store.cachedEmbeddings(modelID: "m1")
        #expect(cached.keys.sorted() == [ids[0], ids[1]])
        #expect(cached[ids[0]]!.map(\.bitPattern) == special.map(\.bitPattern))
        #expect(try store.cachedEmbeddings(modelID: "m2") == [ids[0]: [9]])
        #expect(try store.cachedEmbeddings(modelID: "unknown").isEmpty)

        // Replacing, and skipping samples that no longer exist.
        #expect(try store.storeEmbeddings(modelID: "m1", [ids[1]: [4, 5], 424_242: [1]]) == 1)
        #expect(try store.cachedEmbeddings(modelID: "m1")[ids[1]] == [4, 5])
        // Relabelling keeps embeddings (same frame).
        try store.relabel(id: ids[0], to: "right")
        #expect(try store.cachedEmbeddings(modelID: "m1")[ids[0]] != nil)
    }

    @Test func deletingSamplesCascadesToEmbeddingsAndPruneKeepsOneModel() throws {
        let store = try SampleStore.inMemory()
        let ids = try store.add(contentsOf: [sample("up"), sample("up"), sample("down")])
        for model in ["old", "new"] {
            try store.storeEmbeddings(modelID: model, Dictionary(uniqueKeysWithValues: ids.map { ($0, [Float($0)]) }))
        }
        try store.delete(id: ids[0])
        #expect(try store.cachedEmbeddings(modelID: "new").keys.sorted() == [ids[1], ids[2]])
        try store.deleteLabel("down")
        #expect(try store.cachedEmbeddings(modelID: "old").keys.sorted() == [ids[1]])
        #expect(try store.pruneEmbeddings(keeping: "new") == 1)
        #expect(try store.cachedEmbeddings(modelID: "old").isEmpty)
        #expect(try store.cachedEmbeddings(modelID: "new") == [ids[1]: [Float(ids[1])]])
        try store.deleteAll()
        #expect(try store.cachedEmbeddings(modelID: "new").isEmpty)
    }

    @Test func cachedEmbeddingsFillTheirMatrixRowsOnly() throws {
        let store = try SampleStore.inMemory()
        let ids = try store.add(contentsOf: [sample("up"), sample("down"), sample("left"), sample("right")])
        try store.storeEmbeddings(modelID: "m", [ids[0]: [1, 2], ids[2]: [5, 6], ids[3]: [7, 8, 9]])
        try store.storeEmbeddings(modelID: "other", [ids[1]: [3, 4]])
        // Rows in the caller's order: ids[3] has another dimension, ids[1] is cached for another model only.
        let order = [ids[2], ids[1], ids[0], ids[3]]
        var matrix = [Float](repeating: -1, count: 8)
        let filled = try store.fillCachedEmbeddings(modelID: "m", ids: order, dimension: 2, into: &matrix)
        #expect(filled == [true, false, true, false])
        #expect(matrix == [5, 6, -1, -1, 1, 2, -1, -1])
        var empty: [Float] = []
        #expect(try store.fillCachedEmbeddings(modelID: "m", ids: [], dimension: 2, into: &empty) == [])
    }

    @Test func aCorruptEmbeddingRowNamesItsSample() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("samples.sqlite")
        let store = try SampleStore(path: path)
        let id = try store.add(sample("up"))
        try store.storeEmbeddings(modelID: "m", [id: [1, 2, 3]])
        try store.close()
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "UPDATE embeddings SET dimension = 4")
        }
        #expect(throws: GesturesError.corruptEmbedding(sampleID: id, modelID: "m", byteCount: 12, dimension: 4)) {
            try SampleStore(path: path).cachedEmbeddings(modelID: "m")
        }
        var matrix = [Float](repeating: 0, count: 4)
        #expect(throws: GesturesError.corruptEmbedding(sampleID: id, modelID: "m", byteCount: 12, dimension: 4)) {
            try SampleStore(path: path).fillCachedEmbeddings(modelID: "m", ids: [id], dimension: 4, into: &matrix)
        }
    }

    // MARK: Validation and atomicity

    /// A malformed sample and the error it must raise; described by name (not by its 150 kB frame).
    struct InvalidCase: Sendable, CustomTestStringConvertible {
        let name: String
        let sample: NewSample
        let error: GesturesError
        var testDescription: String { name }
    }

    static let invalidCases: [InvalidCase] = [
        InvalidCase(name: "capital label", sample: sample("Up"), error: .invalidLabelName(label: "Up")),
        InvalidCase(name: "empty label", sample: sample(""), error: .invalidLabelName(label: "")),
        InvalidCase(
            name: "side 8", sample: sample("up", side: 8),
            error: .invalidSample(field: "side", reason: "8 is outside 16...1024")),
        InvalidCase(
            name: "side 2048",
            sample: NewSample(label: "up", frame: [], side: 2048, source: "", mirror: false, normalization: ""),
            error: .invalidSample(field: "side", reason: "2048 is outside 16...1024")),
        InvalidCase(
            name: "223² frame declared 224",
            sample: NewSample(
                label: "up", frame: flatFrame(side: 223, 0, 0, 0), source: "", mirror: false, normalization: ""),
            error: .invalidSample(field: "frame", reason: "149187 bytes where 224×224×3 = 150528 were expected")),
    ]

    @Test(arguments: invalidCases)
    func invalidSamplesAreRefusedAndNothingIsStored(invalid: InvalidCase) throws {
        let store = try SampleStore.inMemory()
        #expect(throws: invalid.error) { try store.add(invalid.sample) }
        // The bad sample is third in the batch: the two inserted before it are rolled back.
        #expect(throws: invalid.error) { try store.add(contentsOf: [sample("up"), sample("down"), invalid.sample]) }
        #expect(try store.counts().isEmpty)
        #expect(try store.revision() == 0)
    }

    // MARK: Files

    @Test func reopeningAFileFindsEverything() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("samples.sqlite")
        var store: SampleStore? = try SampleStore(path: path)
        let ids = try store!.add(contentsOf: [sample("up", shade: 5), sample("idle", shade: 6)])
        try store!.storeEmbeddings(modelID: "m", [ids[1]: [0.5, -0.5]])
        let revision = try store!.revision()
        try store!.close()
        store = nil

        let reopened = try SampleStore(path: path)
        #expect(try reopened.counts() == ["up": 1, "idle": 1])
        #expect(try reopened.frame(id: ids[0]).pixels == flatFrame(5, 250, 7))
        #expect(try reopened.cachedEmbeddings(modelID: "m") == [ids[1]: [0.5, -0.5]])
        #expect(try reopened.revision() == revision)
        #expect(try reopened.thumbnails(label: "idle").first?.image.pixels == flatFrame(side: 56, 6, 249, 7))
    }

    @Test func aGarbageFileIsRefusedNamingItsPath() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("samples.sqlite")
        try Data(repeating: 0x5a, count: 8192).write(to: URL(fileURLWithPath: path))
        #expect(throws: GesturesError.sampleStoreNotADatabase(path: path)) { try SampleStore(path: path) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(repeating: 0x5a, count: 8192))
    }

    @Test func aDirectoryThatCannotBeCreatedIsReported() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let blocker = directory.file("not-a-directory")
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        let path = (blocker as NSString).appendingPathComponent("samples.sqlite")
        #expect {
            try SampleStore(path: path)
        } throws: { error in
            guard case .sampleStoreCannotOpen(let reportedPath, _) = error as? GesturesError else { return false }
            return reportedPath == path
        }
    }

    @Test func aStoreFromANewerGesturepadIsRefusedUntouched() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("samples.sqlite")
        try SampleStore(path: path).add(sample("up"))
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v2-hands'), ('v3-depth')")
        }
        #expect(throws: GesturesError.sampleStoreNewerSchema(path: path, unknownMigrations: ["v2-hands", "v3-depth"])) {
            try SampleStore(path: path)
        }
        let migrations = try DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier")
        }
        #expect(migrations == ["v1", "v2-hands", "v2-takes", "v3-depth"])
    }

    @Test(arguments: [
        (["XDG_DATA_HOME": "/data", "HOME": "/home/u"], "/data/gesturepad/samples.sqlite"),
        (["HOME": "/home/u"], "/home/u/.local/share/gesturepad/samples.sqlite"),
        (["XDG_DATA_HOME": "", "HOME": "/home/u"], "/home/u/.local/share/gesturepad/samples.sqlite"),
        (["XDG_DATA_HOME": "relative/dir", "HOME": "/home/u"], "/home/u/.local/share/gesturepad/samples.sqlite"),
    ])
    func defaultPathFollowsXDG(environment: [String: String], expected: String) {
        #expect(SampleStore.defaultPath(environment: environment) == expected)
    }

    // MARK: Crash safety

    /// A child process commits 3 samples, then is SIGKILLed inside a 40-sample transaction after its
    /// 39th insert (6 MB: more than SQLite's page cache, so uncommitted pages have already spilled to
    /// the WAL). The committed samples survive; none of the interrupted transaction's do.
    @Test func aKilledProcessKeepsCommittedSamplesAndLosesTheOpenTransaction() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("samples.sqlite")
        await #expect(processExitsWith: .signal(SIGKILL)) { [path = path as String] in
            let store = try SampleStore(path: path)
            try store.add(contentsOf: [sample("up", shade: 1), sample("down", shade: 2)])
            try store.add(sample("left", shade: 3))
            let batch = (0..<40).map { sample("right", shade: UInt8($0)) }
            _ = try store.insert(
                batch,
                afterEach: { index in
                    if index == 38 { kill(getpid(), SIGKILL) }
                })
        }
        let walBytes = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        #expect(walBytes > 1_000_000, "the killed transaction should have spilled pages to the WAL")
        let store = try SampleStore(path: path)
        #expect(try store.counts() == ["up": 1, "down": 1, "left": 1])
        #expect(try store.frame(id: try #require(store.latestSample()?.id)).pixels == flatFrame(3, 252, 7))
        #expect(try store.revision() == 2)
        try store.add(sample("right"))  // and the store is writable again
        #expect(try store.counts()["right"] == 1)
    }

    @Test func aThrowingTransactionBodyLeavesNothing() throws {
        let store = try SampleStore.inMemory()
        try store.add(sample("idle"))
        struct Interrupted: Error {}
        #expect(throws: GesturesError.self) {
            _ = try store.insert(
                [sample("up"), sample("up"), sample("up")],
                afterEach: { index in
                    if index == 1 { throw Interrupted() }
                })
        }
        #expect(try store.counts() == ["idle": 1])
        #expect(try store.revision() == 1)
    }

    // MARK: Concurrency

    /// A writer adds 30 batches of 4 while a reader counts: every read sees whole batches, never less
    /// than the previous read, and a revision that never goes back.
    @Test func readsBesideAWriterSeeWholeBatches() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SampleStore(path: directory.file("samples.sqlite"))
        let batches = 30
        let batchSize = 4
        async let written: Void = Task.detached {
            for batch in 0..<batches {
                try store.add(contentsOf: (0..<batchSize).map { sample("up", side: 64, at: Double(batch * 10 + $0)) })
            }
        }.value
        let observations = try await Task.detached { () throws -> [(count: Int, revision: Int64)] in
            var seen: [(count: Int, revision: Int64)] = []
            repeat {
                let revision = try store.revision()
                seen.append((try store.counts()["up"] ?? 0, revision))
            } while seen.last!.count < batches * batchSize
            return seen
        }.value
        try await written
        #expect(observations.allSatisfy { $0.count % batchSize == 0 })
        #expect(
            zip(observations, observations.dropFirst()).allSatisfy {
                $0.count <= $1.count && $0.revision <= $1.revision
            })
        #expect(observations.count > 1)
        #expect(try store.revision() == Int64(batches))
    }
    // MARK: Cost

    /// Prints what adding costs with synchronous=FULL (one fsync per commit): 100 samples one per
    /// transaction, 100 in one transaction, and the file size per 224×224 sample (frame 150 528 B).
    @Test func measureAddingTwoHundredSamples() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("samples.sqlite")
        let store = try SampleStore(path: path)
        let samples = (0..<200).map { sample(LabelSet.directions[$0 % 4], shade: UInt8($0)) }
        let clock = ContinuousClock()
        let oneByOne = try clock.measure { for each in samples[..<100] { try store.add(each) } }
        let batched = try clock.measure { try store.add(contentsOf: Array(samples[100...])) }
        #expect(try store.counts() == ["up": 50, "down": 50, "left": 50, "right": 50])
        try store.close()
        let bytes = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        print(
            "SampleStore: 100 adds one by one \(oneByOne), 100 in one transaction \(batched); "
                + "\(bytes / 200) bytes per sample on disk")
        #expect((150_528 + 56 * 56 * 3)...200_000 ~= bytes / 200)
    }
}
