// A full disk under the sample store (issue 15 item 9), simulated at the SQLite seam: `limitGrowth` sets
// `max_page_count` on the writer connection, so a write that needs more pages fails with SQLITE_FULL exactly as
// on a full file system. Checks that each operation is all or nothing (samples with their embeddings) and that
// the error says the disk is full. The real thing on a small tmpfs is in the note (manual, needs root).
import Capture
import Foundation
import Testing

@testable import Gestures

@Suite struct SampleStoreFullDiskTests {
    @Test("a batch with embeddings that does not fit stores nothing: no sample, no embedding; the error says full")
    func aBatchThatDoesNotFitStoresNothing() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SampleStore(path: directory.file("samples.sqlite"))
        let small = (0..<4).map { sample("up", shade: UInt8($0), side: 16) }
        try store.add(contentsOf: small, embeddings: small.map { _ in [1, 2, 3] }, modelID: "m")
        try store.limitGrowth(toExtraPages: 20)
        // 8 samples of 224 px (150 KB each) need far more than 20 pages (80 KB).
        let big = (0..<8).map { sample("left", shade: UInt8($0), side: 224) }
        let error = #expect(throws: GesturesError.self) {
            try store.add(
                contentsOf: big, embeddings: big.map { _ in [Float](repeating: 0.5, count: 64) }, modelID: "m")
        }
        let text = error?.description ?? ""
        #expect(text.contains("full") && text.contains("SQLITE_FULL"), "\(text)")
        #expect(text.contains("nothing of that operation was saved"), "\(text)")
        #expect(try store.counts() == ["up": 4])
        #expect(try store.cachedEmbeddings(modelID: "m").count == 4)
        // Small writes still fit afterwards: the store is intact.
        let one = [sample("up", shade: 9, side: 16)]
        #expect(try store.add(contentsOf: one, embeddings: [[4, 5, 6]], modelID: "m").count == 1)
        #expect(try store.cachedEmbeddings(modelID: "m").count == 5)
    }

    @Test("mismatched embeddings are refused before anything is written")
    func mismatchedEmbeddingCountIsRefused() throws {
        let store = try SampleStore.inMemory()
        #expect(throws: GesturesError.self) {
            try store.add(contentsOf: [sample("up", side: 16)], embeddings: [], modelID: "m")
        }
        #expect(try store.counts().isEmpty)
    }

    @Test("`samples add --source`: a recording import that runs out of space stores none of its samples")
    func aRecordingImportIsOneOperation() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let labels = try LabelSet(["up", "idle"])
        let photos = ["up": RGBImage(width: 64, height: 48, pixels: (0..<64 * 48 * 3).map { UInt8($0 % 251) })]
        let clip = directory.file("clip.y4m")
        _ = try SyntheticRecording.write(
            to: clip, photos: photos, truth: try TruthTimeline(parsing: "0 up\n", labels: labels),
            durationSeconds: 8, framesPerSecond: 30, width: 64, height: 48, seed: 3)
        let store = try SampleStore(path: directory.file("samples.sqlite"))
        let importer = SampleImporter(
            store: store, framer: SampleFramer(side: 32, mirror: false), extractor: nil, cacheKey: nil)
        // 80 samples of 32 px (~1 page each with the thumbnail): the first 32 would fit in 60 pages, the rest not.
        try store.limitGrowth(toExtraPages: 60)
        let source = try Y4MFileSource(path: clip)
        defer { source.close() }
        let error = #expect(throws: GesturesError.self) {
            try importer.addRecording(source, framesPerSecond: 30, label: "up", sourceName: clip)
        }
        #expect(error?.description.contains("SQLITE_FULL") == true, "\(String(describing: error))")
        // Before: the first batch of 32 was committed while the error said nothing was saved.
        let counts = try store.counts()
        #expect(counts.isEmpty, "\(counts)")
    }
}
