// The sample browser on the command line, run as a user runs it (the built `gesturepad` binary on a temp
// data directory whose sample store the test fills directly, so no model is needed): `samples show`
// writes one sample's frame enlarged, `samples sheet` a paged contact sheet; several --id are all
// deleted; bulk deletes need --yes when standard input is not a terminal; labels are checked against
// the configured ones with "did you mean", and data errors carry no `Usage:` line.
import Capture
import Foundation
import Gestures
import Paths
import TestSupport
import Testing

extension SampleSeed {
    /// Adds `count` samples of each label to the store in data directory `data`; returns their ids by label.
    @discardableResult
    static func fill(_ data: String, _ counts: [(label: String, count: Int)]) throws -> [String: [Int64]] {
        try fill(database: DataDirectory(data).samplesDatabase, counts)
    }

    static func counts(_ data: String) throws -> [String: Int] {
        let store = try SampleStore(path: DataDirectory(data).samplesDatabase)
        defer { try? store.close() }
        return try store.counts()
    }
}

@Suite("gesturepad samples show/sheet/delete/labels")
struct SampleBrowserCLITests {
    @Test func showWritesTheStoredFrameEnlargedWithACaption() throws {
        try withTemporaryDirectory("cli-show") { data in
            let ids = try SampleSeed.fill(data, [("left", 3)])
            let png = data + "/one.png"
            let shown = try CLI.run(["samples", "show", "--id", "\(ids["left"]![1])", "--png", png, "--data-dir", data])
            #expect(shown.status == 0, "\(shown.error)")
            #expect(shown.output.contains("sample #\(ids["left"]![1]): left, 224×224"), "\(shown.output)")
            let picture = try RGBImage.read(png)
            #expect(picture.width == 448 && picture.height > 448)
            // The frame is there, enlarged twice: sample 1's white square is at column 1 of the 7×7 grid.
            let inside = (10 * picture.width + 64 * 2 + 10) * 3
            #expect(Array(picture.pixels[inside..<inside + 3]) == [200, 40, 40])
            let square = (10 * picture.width + 64 + 10) * 3
            #expect(Array(picture.pixels[square..<square + 3]) == [255, 255, 255])

            let missing = try CLI.run(["samples", "show", "--id", "999", "--png", png, "--data-dir", data])
            #expect(missing.status == 1)
            #expect(missing.error.contains("no sample with id 999"), "\(missing.error)")
            #expect(!missing.error.contains("Usage:"), "a data error prints no usage: \(missing.error)")
        }
    }

    @Test func sheetPagesThroughALabelWithIdsUnderEachPicture() throws {
        try withTemporaryDirectory("cli-sheet") { data in
            let ids = try SampleSeed.fill(data, [("up", 5), ("left", 30)])
            let png = data + "/sheet.png"
            let arguments = ["samples", "sheet", "--label", "left", "--png", png, "--data-dir", data]
            let first = try CLI.run(arguments + ["--per-page", "12", "--columns", "4"])
            #expect(first.status == 0, "\(first.error)")
            let left = ids["left"]!
            #expect(
                first.output.contains(
                    "sheet of samples of left: 1–12 of 30 (ids #\(left[0])–#\(left[11]), page 1 of 3)"),
                "\(first.output)")
            #expect(first.output.contains("next page: gesturepad samples sheet --label left --page 2"))
            let picture = try RGBImage.read(png)
            // 4 columns of 112-pixel tiles with 8-pixel gaps; 3 rows under the title.
            #expect(picture.width == 8 + 4 * (112 + 8))
            #expect(picture.height > 3 * 112)

            let last = try CLI.run(arguments + ["--per-page", "12", "--page", "3"])
            #expect(last.status == 0, "\(last.error)")
            #expect(last.output.contains("25–30 of 30"), "\(last.output)")
            #expect(!last.output.contains("next page"))

            let beyond = try CLI.run(arguments + ["--per-page", "12", "--page", "4"])
            #expect(beyond.status == 1)
            #expect(
                beyond.error.contains("there is no page 4: 30 samples of left make 3 page(s) of 12"), "\(beyond.error)")
            #expect(!beyond.error.contains("Usage:"))

            let none = try CLI.run(["samples", "sheet", "--label", "down", "--png", png, "--data-dir", data])
            #expect(none.status == 1 && none.error.contains("no samples of down"), "\(none.error)")
        }
    }

    @Test func severalIdsAreAllDeletedAndBulkDeletesNeedYes() throws {
        try withTemporaryDirectory("cli-delete") { data in
            let ids = try SampleSeed.fill(data, [("left", 6), ("up", 2)])
            let left = ids["left"]!
            // Several ids, no terminal to ask on: refused, saying how many would go; nothing deleted.
            let pair = ["samples", "delete", "--id", "\(left[0])", "--id", "\(left[1])", "--data-dir", data]
            let refused = try CLI.run(pair)
            #expect(refused.status == 1)
            #expect(
                refused.error.contains("would delete 2 samples (#\(left[0]), #\(left[1])); nothing done"),
                "\(refused.error)")
            #expect(refused.error.contains("--yes"))
            #expect(try SampleSeed.counts(data)["left"] == 6)

            let deleted = try CLI.run(pair + ["--yes"])
            #expect(deleted.status == 0, "\(deleted.error)")
            #expect(deleted.output.contains("deleted 2 sample(s)"), "\(deleted.output)")
            #expect(try SampleSeed.counts(data)["left"] == 4)

            // One missing id among several: nothing is deleted, the missing one is named.
            let partly = try CLI.run([
                "samples", "delete", "--id", "\(left[2])", "--id", "9999", "--yes", "--data-dir", data,
            ])
            #expect(
                partly.status == 1 && partly.error.contains("no sample with id #9999; nothing deleted"),
                "\(partly.error)")
            #expect(try SampleSeed.counts(data)["left"] == 4)

            // One id needs no confirmation.
            #expect(try CLI.run(["samples", "delete", "--id", "\(left[2])", "--data-dir", data]).status == 0)

            // A whole label: refused without --yes, with the count.
            let label = try CLI.run(["samples", "delete", "--label", "left", "--data-dir", data])
            #expect(label.status == 1)
            #expect(label.error.contains("would delete all 3 samples of left"), "\(label.error)")
            #expect(try SampleSeed.counts(data)["left"] == 3)
            #expect(try CLI.run(["samples", "delete", "--label", "left", "--yes", "--data-dir", data]).status == 0)
            #expect(try SampleSeed.counts(data)["left"] == nil)

            let all = try CLI.run(["samples", "delete", "--all", "--data-dir", data])
            #expect(all.status == 1 && all.error.contains("would delete all 2 samples"), "\(all.error)")
            #expect(try SampleSeed.counts(data)["up"] == 2)
        }
    }

    @Test(arguments: [
        (["samples", "add", "lefft", "x.png"], "unknown label 'lefft' (did you mean left?)"),
        (
            ["samples", "add", "jump", "x.png"],
            "unknown label 'jump'; the configured labels are up, down, left, right, idle"
        ),
        (["samples", "relabel", "--id", "1", "--to", "rigth"], "unknown label 'rigth' (did you mean right?)"),
    ])
    func labelsComeFromTheSettings(arguments: [String], message: String) throws {
        try withTemporaryDirectory("cli-labels") { data in
            let refused = try CLI.run(arguments + ["--data-dir", data])
            #expect(refused.status == 1)
            #expect(refused.error.contains(message), "\(refused.error)")
            #expect(refused.error.contains("--new-label"))
            #expect(!refused.error.contains("Usage:"))
        }
    }

    @Test func aLabelAddedToTheConfigIsAccepted() throws {
        try withTemporaryDirectory("cli-labels-config") { data in
            try SampleSeed.fill(data, [("jump", 2)])
            let config = data + "/config.toml"
            try "[labels]\norder = [\"up\", \"down\", \"jump\"]\nidle = true\n[keys]\njump = \"KEY_SPACE\"\n".write(
                toFile: config, atomically: true, encoding: .utf8)
            let relabel = try CLI.run([
                "samples", "relabel", "--label", "jump", "--to", "jump", "--config", config, "--data-dir", data,
            ])
            #expect(relabel.status == 0, "\(relabel.error)")
            let listing = try CLI.run(["samples", "list", "--data-dir", data])
            // Under the default labels, jump is listed as left out of training.
            #expect(
                listing.output.contains("jump       2  (not a configured label: train leaves it out)"),
                "\(listing.output)")
        }
    }

    @Test(
        .enabled(if: CLI.modelsAvailable || TestFiles.required, "models/photos not fetched: run `make models`"))
    func newLabelAddsOnPurpose() throws {
        try withTemporaryDirectory("cli-new-label") { data in
            let added = try CLI.run([
                "samples", "add", "jump", TestFiles.path("astronaut.png"), "--new-label", "--data-dir", data,
            ])
            #expect(added.status == 0, "\(added.error)")
            #expect(added.output.contains("added 1 sample(s) of jump"))
            #expect(added.output.contains("jump is a new label"), "\(added.output)")
            #expect(added.output.contains("--labels up,down,left,right,jump,idle"), "\(added.output)")
        }
    }
}
