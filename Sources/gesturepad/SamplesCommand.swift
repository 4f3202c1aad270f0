// `gesturepad samples list|add|delete|relabel`: the stored training samples.
import ArgumentParser
import Capture
import Foundation
import Gestures
import Settings

struct Samples: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, import, delete and relabel training samples.",
        subcommands: [List.self, Add.self, Delete.self, Relabel.self], defaultSubcommand: List.self)

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
                print("\(name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(counts[name] ?? 0)")
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
        @Option(name: .long, help: "With --source: first second of the clip to use.") var from: Double = 0
        @Option(name: .long, help: "With --source: second of the clip to stop at.") var to: Double?
        @Option(
            name: .long, help: "With --source: at most this many samples per second of clip (default: [recording]).")
        var rate: Double?
        @Flag(name: .long, help: "JSON output.") var json = false

        func validate() throws {
            guard files.isEmpty != (source == nil) else {
                throw ValidationError("give photo files or --source clip.y4m, not both")
            }
        }

        func run() throws {
            let settings = try gestures.resolve(
                rate.map { [ConfigOverride("recording.samples_per_second", .float($0), flag: "--rate")] } ?? [])
            let workspace = try settings.openWorkspace()
            let importer = try workspace.makeImporter()
            let ids: [Int64]
            var note = ""
            if let source {
                let clip = try Y4MFileSource(path: source)
                defer { clip.close() }
                let result = try importer.addRecording(
                    clip, framesPerSecond: clip.header.frameRate.value, label: label,
                    fromSeconds: from, toSeconds: to ?? .infinity,
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
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete one sample (--id), a label's samples (--label), or all (--all).")
        @OptionGroup var gestures: GestureOptions
        @Option(name: .long, help: "Sample id (see `samples list --all`).") var id: Int64?
        @Option(name: .long, help: "Delete every sample of this label.") var label: String?
        @Flag(name: .long, help: "Delete every sample.") var all = false
        @Flag(name: .long, help: "With --label: delete only the most recent sample of the label.") var last = false

        func validate() throws {
            guard [id != nil, label != nil, all].filter({ $0 }).count == 1 else {
                throw ValidationError("give exactly one of --id N, --label L, --all")
            }
        }

        func run() throws {
            let store = try gestures.resolve().openSamples()
            let removed: Int
            if let id {
                removed = try store.delete(id: id)
                guard removed == 1 else { throw ValidationError("no sample with id \(id)") }
            } else if let label, last {
                guard let latest = try store.latestSample(label: label) else {
                    throw ValidationError("no samples of \(label)")
                }
                removed = try store.delete(id: latest.id)
            } else if let label {
                removed = try store.deleteLabel(label)
            } else {
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

        func validate() throws {
            guard (id == nil) != (label == nil) else {
                throw ValidationError("give exactly one of --id N or --label L")
            }
        }

        func run() throws {
            let store = try gestures.resolve().openSamples()
            let changed = try id.map { try store.relabel(id: $0, to: to) } ?? store.relabel(label: label!, to: to)
            print("relabelled \(changed) sample(s) as \(to)")
        }
    }
}
