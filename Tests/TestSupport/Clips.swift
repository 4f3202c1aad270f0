// Small Y4M clips for tests that feed a source file to the daemon or the window, written with the
// app's own SyntheticRecording (the same writer `gesturepad record --synthetic` uses).
import Capture
import Foundation
import Gestures

/// A looping clip of one flat colour (64×48, 15 fps, `seconds` long) at `path`.
public func writeFlatClip(_ path: String, colour: (UInt8, UInt8, UInt8), seconds: Double = 2) throws {
    let labels = try LabelSet(["idle", "up"])
    let truth = try TruthTimeline(parsing: "0 idle\n", labels: labels)
    let image = RGBImage(
        width: 64, height: 48, pixels: (0..<64 * 48 * 3).map { [colour.0, colour.1, colour.2][$0 % 3] })
    try SyntheticRecording.write(
        to: path, photos: ["idle": image], truth: truth, durationSeconds: seconds, framesPerSecond: 15, width: 64,
        height: 48, jitter: .none, seed: 1)
}
