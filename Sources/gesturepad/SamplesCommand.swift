// `gesturepad samples list|show|sheet|add|delete|relabel`: the stored training samples. `show` and `sheet`
// write PNGs to judge samples by (Gestures' SamplePicture); labels to add or relabel to are checked against
// the configured ones (`LabelSet.requireKnown`, the check the daemon's `record` makes) unless --new-label;
// deleting more than one sample asks for --yes.
import ArgumentParser
import Capture
import Foundation
import Gestures
import Settings

struct Samples: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, look at, import, delete and relabel training samples.",
        subcommands: [List.self, Show.self, Sheet.self, Add.self, Delete.self, Relabel.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sample counts per label (and each sample with --all).")
        @OptionGroup var gestures: GestureOptions
        @Option(name: .long, help: "Only this label.") var label: String?
        @Flag(name: .long, help: "List every sample, not just counts.") var all = false
        @Flag(name: .long, help: "JSON output.") var json = false

        struct Listing: Encodable {
            struct Entry: Encodable {
                var id: Int64
                var label: String
                var capturedAt: String
                var source: String
                var mirror: Bool
            }
            var counts: [String: Int]
            var total: Int
            var samples: [Entry]?
        }

        func run() throws {
            let settings = try gestures.resolve()
            let store = try settings.openSamples()
            var counts = try store.counts()
            if let label { counts = counts.filter { $0.key == label } }
            let formatter = ISO8601DateFormatter()
            let entries =
                all
                ? try store.samples(label: label).map {
                    Listing.Entry(
                        id: $0.id, label: $0.label, capturedAt: formatter.string(from: $0.capturedAt),
                        source: $0.source,
                        mirror: $0.mirror)
                } : nil
            let listing = Listing(counts: counts, total: counts.values.reduce(0, +), samples: entries)
            if json { return try printJSON(listing) }
            let configured = settings.labels.names
            let names =
                configured.filter { label == nil || $0 == label }
                + counts.keys.filter { !configured.contains($0) }.sorted()
            for name in names {
                let note = configured.contains(name) ? "" : "  (not a configured label: train leaves it out)"
                print("\(name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(counts[name] ?? 0)\(note)")
            }
            print("total      \(listing.total)  (\(store.path))")
            for entry in entries ?? [] { print("#\(entry.id)  \(entry.label)  \(entry.capturedAt)  \(entry.source)") }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Add samples of LABEL from photos, or from a stretch of a recording (--source clip.y4m --from S --to S)."
        )
        @OptionGroup var gestures: GestureOptions
        @Argument(help: "The label of the new samples.") var label: String
        @Argument(help: "Photo files (PNG, JPEG, …): one sample each.") var files: [String] = []
        @Option(name: .long, help: "A .y4m recording to take frames from.") var source: String?
        @Option(name: .long, help: "With --source: first second of the clip to use (default 0).") var from: Double?
        @Option(name: .long, help: "With --source: second of the clip to stop at (default: its end).") var to: Double?
        @Option(
            name: .long, help: "With --source: at most this many samples per second of clip (default: [recording]).")
        var rate: Double?
        @Flag(name: .long, help: "Add LABEL although it is not one of the configured labels (a new class on purpose).")
        var newLabel = false
        @Flag(name: .long, help: "JSON output.") var json = false

        func validate() throws {
            if source == nil, from != nil || to != nil {
                throw ValidationError("--from and --to pick a stretch of a recording: give it with --source clip.y4m")
            }
            if files.isEmpty, source == nil { throw ValidationError("give photo files, or --source clip.y4m") }
            if !files.isEmpty, source != nil {
                throw ValidationError("give photo files or --source clip.y4m, not both")
            }
            if let from, !(from >= 0 && from.isFinite) { throw ValidationError("--from must be 0 or more seconds") }
            if let to, !(to > (from ?? 0)) {
                throw ValidationError("--to (\(to) s) must be after --from (\(from ?? 0) s)")
            }
        }

        func run() throws {
            let settings = try gestures.resolve(
                rate.map { [ConfigOverride("recording.samples_per_second", .float($0), flag: "--rate")] } ?? [])
            let configured = settings.labels.names.contains(label)
            if !newLabel { try settings.labels.requireKnown(label) }
            let workspace = try settings.openWorkspace()
            let importer = try workspace.makeImporter()
            let ids: [Int64]
            var note = ""
            if let source {
                let clip = try Y4MFileSource(path: source)
                defer { clip.close() }
                let result = try importer.addRecording(
                    clip, framesPerSecond: clip.header.frameRate.value, label: label,
                    fromSeconds: from ?? 0, toSeconds: to ?? .infinity,
                    // The live countdown does not apply to a clip: --from says where to start.
                    settings: RecordingSettings(
                        samplesPerSecond: settings.recording.samplesPerSecond,
                        duplicateDistance: settings.recording.duplicateDistance),
                    sourceName: source)
                ids = result.kept
                note =
                    " from \(result.framesRead) frames (\(result.throttled) over the rate, \(result.duplicates) near-duplicates skipped)"
            } else {
                ids = try importer.addPhotos(files, label: label)
            }
            if json { return try printJSON(["label": label, "added": "\(ids.count)"]) }
            print(
                "added \(ids.count) sample(s) of \(label)\(note); \(label) now has \(try workspace.samples.counts()[label] ?? 0)"
            )
            if !configured {
                print(
                    "\(label) is a new label, not in the configured ones (\(settings.labels)): `gesturepad train` "
                        + "uses it once it is in the config's [labels] order, or with --labels "
                        + (settings.labels.names.filter { $0 != LabelSet.idle } + [label]
                        + (settings.labels.hasIdle ? [LabelSet.idle] : [])).joined(separator: ","))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write one sample's stored frame, enlarged, with its id, label, time and source, as a PNG.")
        @OptionGroup var gestures: GestureOptions
        @Option(name: .long, help: "Sample id (see `samples list --all` or `samples sheet`).") var id: Int64
        @Option(name: .long, help: "The PNG to write.") var png: String
        @Option(name: .long, help: "Enlargement of the stored frame (1–8; 2 makes a 224 frame 448 pixels wide).")
        var scale: Int = 2

        func validate() throws {
            guard (1...8).contains(scale) else { throw ValidationError("--scale must be 1 to 8") }
        }

        func run() throws {
            let store = try gestures.resolve().openSamples()
            guard let info = try store.sample(id: id) else {
                throw CommandFailure("no sample with id \(id) in \(store.path) (ids: `gesturepad samples list --all`)")
            }
            let canvas = SamplePicture.sample(frame: try store.frame(id: id), info: info, scale: scale)
            try SamplePicture.write(canvas, to: png)
            print(
                "sample #\(id): \(info.label), \(info.side)×\(info.side), captured \(SamplePicture.timestamp(info.capturedAt)) "
                    + "from \(info.source) → \(png) (\(canvas.width)×\(canvas.height))")
        }
    }

    struct Sheet: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a contact sheet of a label's samples (or all samples) as a PNG, each id under its picture."
        )
        @OptionGroup var gestures: GestureOptions
        @Option(name: .long, help: "Only this label (default: every sample, the label under each id).")
        var label: String?
        @Option(name: .long, help: "The PNG to write.") var png: String
        @Option(name: .long, help: "Page to write when there are more than --per-page samples (from 1).") var page = 1
        @Option(name: .long, help: "Samples per sheet (1–400).") var perPage = 48
        @Option(name: .long, help: "Pictures per row (1–20).") var columns = 8

        func validate() throws {
            guard page >= 1 else { throw ValidationError("--page starts at 1") }
            guard (1...400).contains(perPage) else { throw ValidationError("--per-page must be 1 to 400") }
            guard (1...20).contains(columns) else { throw ValidationError("--columns must be 1 to 20") }
        }

        func run() throws {
            let store = try gestures.resolve().openSamples()
            let samples = try store.samples(label: label)
            let what = label.map { "samples of \($0)" } ?? "samples"
            guard !samples.isEmpty else { throw CommandFailure("no \(what) in \(store.path)") }
            let pages = (samples.count + perPage - 1) / perPage
            guard page <= pages else {
                throw CommandFailure(
                    "there is no page \(page): \(samples.count) \(what) make \(pages) page(s) of \(perPage)")
            }
            let shown = samples[(page - 1) * perPage..<min(samples.count, page * perPage)]
            let tiles = try shown.map {
                SamplePicture.Tile(id: $0.id, label: $0.label, frame: try store.frame(id: $0.id))
            }
            let range = "\(shown.startIndex + 1)–\(shown.endIndex) of \(samples.count)"
            // The pixel font is ASCII: a hyphen in the picture, an en dash in the terminal.
            let title =
                "\(label ?? "all labels"): \(range.replacingOccurrences(of: "–", with: "-"))"
                + (pages > 1 ? ", page \(page)/\(pages)" : "")
            try SamplePicture.write(
                SamplePicture.sheet(tiles: tiles, title: title, columns: columns, showLabels: label == nil), to: png)
            print(
                "sheet of \(what): \(range) (ids #\(shown.first!.id)–#\(shown.last!.id)"
                    + (pages > 1 ? ", page \(page) of \(pages)" : "") + ") → \(png)")
            if page < pages {
                print(
                    "next page: gesturepad samples sheet" + (label.map { " --label \($0)" } ?? "")
                        + " --page \(page + 1) --png \(png)")
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Delete samples by id (--id, repeatable), a label's samples (--label), or all (--all); "
                + "more than one needs --yes (or a yes on the terminal).")
        @OptionGroup var gestures: GestureOptions
        @Option(name: .long, help: "Sample id (see `samples list --all`); repeat for several.") var id: [Int64] = []
        @Option(name: .long, help: "Delete every sample of this label.") var label: String?
        @Flag(name: .long, help: "Delete every sample.") var all = false
        @Flag(name: .long, help: "With --label: delete only the most recent sample of the label.") var last = false
        @Flag(name: .long, help: "Delete more than one sample without asking.") var yes = false

        func validate() throws {
            guard [!id.isEmpty, label != nil, all].filter({ $0 }).count == 1 else {
                throw ValidationError("give --id N (repeatable), --label L or --all")
            }
            guard !last || label != nil else { throw ValidationError("--last goes with --label") }
        }

        func run() throws {
            let store = try gestures.resolve().openSamples()
            let removed: Int
            if !id.isEmpty {
                let ids = Array(Set(id)).sorted()
                let known = Set(try store.samples().map(\.id))
                let missing = ids.filter { !known.contains($0) }
                guard missing.isEmpty else {
                    throw CommandFailure(
                        "no sample with id \(missing.map { "#\($0)" }.joined(separator: ", ")); nothing deleted")
                }
                let list = ids.map { "#\($0)" }.joined(separator: ", ")
                if ids.count > 1 {
                    try Confirmation.require(
                        yes, question: "delete \(ids.count) samples (\(list))?",
                        refusal: "would delete \(ids.count) samples (\(list))")
                }
                removed = try store.delete(ids: ids)
            } else if let label, last {
                guard let latest = try store.latestSample(label: label) else {
                    throw CommandFailure("no samples of \(label)")
                }
                removed = try store.delete(id: latest.id)
            } else if let label {
                let count = try store.counts()[label] ?? 0
                guard count > 0 else { throw CommandFailure("no samples of \(label); nothing deleted") }
                if count > 1 {
                    try Confirmation.require(
                        yes, question: "delete all \(count) samples of \(label)?",
                        refusal: "would delete all \(count) samples of \(label)")
                }
                removed = try store.deleteLabel(label)
            } else {
                let count = try store.counts().values.reduce(0, +)
                if count > 1 {
                    try Confirmation.require(
                        yes, question: "delete all \(count) samples?", refusal: "would delete all \(count) samples")
                }
                removed = try store.deleteAll()
            }
            print("deleted \(removed) sample(s)")
        }
    }

    struct Relabel: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give one sample (--id) or all samples of a label (--label) a new label.")
        @OptionGroup var gestures: GestureOptions
        @Option(name: .long, help: "Sample id.") var id: Int64?
        @Option(name: .long, help: "Relabel every sample of this label.") var label: String?
        @Option(name: .long, help: "The new label.") var to: String
        @Flag(name: .long, help: "Allow a --to label that is not one of the configured labels.") var newLabel = false

        func validate() throws {
            guard (id == nil) != (label == nil) else {
                throw ValidationError("give exactly one of --id N or --label L")
            }
        }

        func run() throws {
            let settings = try gestures.resolve()
            if !newLabel { try settings.labels.requireKnown(to) }
            let store = try settings.openSamples()
            let changed = try id.map { try store.relabel(id: $0, to: to) } ?? store.relabel(label: label!, to: to)
            if let id, changed == 0 { throw CommandFailure("no sample with id \(id); nothing relabelled") }
            print("relabelled \(changed) sample(s) as \(to)")
        }
    }
}
