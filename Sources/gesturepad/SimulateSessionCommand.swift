// `gesturepad simulate-session OUT.y4m --truth session.truth --photo up=a.png …`: a synthetic recording
// (SyntheticRecording: jittered frames of one photo per intended label) for replays, for training
// samples (`samples add LABEL --source`) and for feeding a virtual camera in the system tests.
// Wiring only.
import ArgumentParser
import Capture
import Foundation
import Gestures
import Settings

struct SimulateSession: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate-session",
        abstract: "Write a synthetic .y4m session: jittered frames of a photo per label, following a truth timeline.",
        discussion:
            "The truth file (lines `SECONDS LABEL`) says which label's photo is shown when; it is also the --truth of `eval`."
    )

    @Argument(help: "Output .y4m file (YUV 4:2:0).") var output: String
    @Option(name: .long, help: "Timeline of intended labels (lines `SECONDS LABEL`).") var truth: String
    @Option(name: .long, help: "LABEL=IMAGE: the photo standing in for a label (repeat for each label the truth uses).")
    var photo: [String] = []
    @Option(name: .long, help: "Comma-separated labels the truth may use (default: the config's [labels]).")
    var labels: String?
    @OptionGroup var settings: SettingsOptions
    @Option(name: .long, help: "Length in seconds.") var seconds: Double
    @Option(name: .long, help: "Frames per second.") var fps: Int = 15
    @Option(name: .long, help: "Frame size WxH.") var size: String = "320x240"
    @Option(name: .long, help: "Seed of the camera jitter (same seed, same frames).") var seed: UInt64 = 1

    func validate() throws {
        guard seconds > 0, seconds <= 3600 else { throw ValidationError("--seconds must be in (0, 3600]") }
        guard (1...120).contains(fps) else { throw ValidationError("--fps must be 1 to 120") }
    }

    func run() throws {
        let parts = size.split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts.allSatisfy({ (16...4096).contains($0) && $0 % 2 == 0 }) else {
            throw ValidationError("--size must look like 320x240 (even sides, 16 to 4096)")
        }
        let labelSet = try settings.resolve(labels.map(GestureOptions.labelOverrides) ?? []).labels
        let timeline = try TruthTimeline(
            parsing: try TextFile.read(truth), labels: labelSet, file: truth)
        var photos: [String: RGBImage] = [:]
        for entry in photo {
            let pieces = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard pieces.count == 2, !pieces[0].isEmpty, !pieces[1].isEmpty else {
                throw ValidationError("--photo must look like up=astronaut.png, found '\(entry)'")
            }
            photos[pieces[0]] = try RGBImage.read(pieces[1])
        }
        let frames = try SyntheticRecording.write(
            to: output, photos: photos, truth: timeline, durationSeconds: seconds,
            framesPerSecond: fps, width: parts[0], height: parts[1], seed: seed)
        print("wrote \(frames) frames (\(parts[0])x\(parts[1]), \(fps) fps) → \(output)")
    }
}
