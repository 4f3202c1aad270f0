// SampleSeed: fills a sample store with synthetic samples (a coloured 224×224 frame per label with a
// white square whose place depends on the sample's index, so every frame differs) for tests that need
// stored samples without a camera or photos: the CLI's sample browser, training through the daemon.
import Gestures

public enum SampleSeed {
    /// A 224×224 frame of one colour with a white 32-pixel square at cell (index mod 7, index / 7 mod 7).
    public static func frame(index: Int, color: (UInt8, UInt8, UInt8)) -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: 224 * 224 * 3)
        for y in 0..<224 {
            for x in 0..<224 {
                let offset = (y * 224 + x) * 3
                let inSquare = (x / 32 == index % 7) && (y / 32 == (index / 7) % 7)
                pixels[offset] = inSquare ? 255 : color.0
                pixels[offset + 1] = inSquare ? 255 : color.1
                pixels[offset + 2] = inSquare ? 255 : color.2
            }
        }
        return pixels
    }

    /// The colour of the `index`-th label's frames.
    public static func color(_ index: Int) -> (UInt8, UInt8, UInt8) {
        [(200, 40, 40), (40, 160, 40), (40, 40, 200), (120, 120, 0), (0, 120, 120)][index % 5]
    }

    /// Adds `count` samples of each label to the store at `database` (created when missing); returns their ids by
    /// label.
    @discardableResult
    public static func fill(database: String, _ counts: [(label: String, count: Int)]) throws -> [String: [Int64]] {
        let store = try SampleStore(path: database)
        defer { try? store.close() }
        var ids: [String: [Int64]] = [:]
        for (labelIndex, entry) in counts.enumerated() {
            let samples = (0..<entry.count).map {
                NewSample(
                    label: entry.label, frame: frame(index: $0, color: color(labelIndex)),
                    source: "test:\(entry.label)", mirror: false, normalization: "x/127.5-1")
            }
            ids[entry.label] = try store.add(contentsOf: samples)
        }
        return ids
    }
}
