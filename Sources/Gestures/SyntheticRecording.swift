// SyntheticRecording: a Y4M "session" where each intended label of a truth timeline is shown as
// jittered frames of a photo standing in for that gesture (SimulatedCamera). With no camera on
// these machines, it is how replay evaluation and the daemon's end-to-end tests get a recording
// whose intended directions are known exactly.
import Capture
import Foundation

/// Writes synthetic recordings.
public enum SyntheticRecording {
    /// Writes `durationSeconds` of frames at `framesPerSecond` to `path` (YUV 4:2:0, full range):
    /// at each frame time, a jittered frame of `photos[truth label]`. Returns the frame count.
    @discardableResult
    public static func write(
        to path: String, photos: [String: RGBImage], truth: TruthTimeline, durationSeconds: Double,
        framesPerSecond: Int = 15, width: Int = 320, height: Int = 240,
        jitter: CameraJitter = CameraJitter(), seed: UInt64
    ) throws(GesturesError) -> Int {
        for label in truth.labels.names
        where photos[label] == nil && truth.changes.contains(where: { $0.label == label }) {
            throw .unknownLabel(label: label, known: photos.keys.sorted())
        }
        var camera = SimulatedCamera(width: width, height: height, jitter: jitter, seed: seed)
        let frames = Int((durationSeconds * Double(framesPerSecond)).rounded())
        do throws(CaptureError) {
            let writer = try Y4MWriter(
                path: path, width: width, height: height,
                frameRate: Y4MRatio(framesPerSecond, 1), format: .yuv420)
            for index in 0..<frames {
                // Before the first change the first label is shown.
                let label = truth.label(atSeconds: Double(index) / Double(framesPerSecond)) ?? truth.changes[0].label
                let image = camera.frame(of: photos[label]!)
                var failure: CaptureError?
                image.pixels.withUnsafeBytes { bytes in
                    do throws(CaptureError) {
                        try writer.write(
                            FrameView(
                                width: width, height: height, format: .rgb24, bytesPerLine: width * 3,
                                bytes: bytes, sequence: UInt64(index), timestampNanoseconds: 0))
                    } catch { failure = error }
                }
                if let failure { throw failure }
            }
            _ = try writer.finish()
        } catch { throw .capture(error) }
        return frames
    }
}
