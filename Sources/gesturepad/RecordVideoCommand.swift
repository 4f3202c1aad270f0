// `gesturepad record-video OUT.y4m`: what the camera (or any --source) sees, as a YUV4MPEG2 file
// that every command taking frames can replay with --source.
import ArgumentParser
import Capture
import Foundation

struct RecordVideo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record-video", abstract: "Record frames from a camera (or --source) into a .y4m file.")

    @Argument(help: "Output .y4m file (written atomically when recording ends).")
    var output: String

    @Option(name: .long, help: "How long to record, in seconds.")
    var seconds: Double = 5

    @Option(name: .long, help: "Camera device or stable name, or a recording/image to re-record.")
    var source: String = "/dev/video0"

    @Option(name: .long, help: "Requested frame size WxH.")
    var size: String = "640x480"

    @Option(name: .long, help: "Requested frames per second.")
    var fps: Int = 30

    @Option(name: .long, help: "Requested pixel format from a camera: yuyv, rgb24, yuv420 or mjpeg.")
    var format: String = "yuyv"

    func run() throws {
        let parts = size.split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts.allSatisfy({ $0 > 0 }), seconds > 0, fps > 0 else {
            throw ValidationError("--size must look like 640x480; --seconds and --fps must be positive")
        }
        guard let pixelFormat = PixelFormat(rawValue: format), [.yuyv, .rgb24, .yuv420, .mjpeg].contains(pixelFormat)
        else {
            throw ValidationError("--format must be yuyv, rgb24, yuv420 or mjpeg, not '\(format)'")
        }
        let frameSource = try FrameSources.open(
            source, pacing: .realTime, loops: true,
            camera: V4L2CameraConfiguration(
                width: parts[0], height: parts[1], framesPerSecond: fps,
                pixelFormat: pixelFormat))
        defer { frameSource.close() }
        // What the camera agreed to: the size, format and rate may differ from the request.
        if let camera = frameSource as? V4L2Camera { print("camera: \(camera.negotiation.summary)") }
        var writer: Y4MWriter?
        let frameLimit = Int(seconds * Double(fps))
        var failure: CaptureError?
        for _ in 0..<frameLimit {
            let delivered: Void? = try frameSource.withNextFrame(timeoutMilliseconds: 2000) { frame in
                do throws(CaptureError) {
                    if writer == nil {
                        writer = try Y4MWriter(
                            path: output, width: frame.width, height: frame.height,
                            frameRate: Y4MRatio(fps, 1))
                    }
                    try writer!.write(frame)
                } catch { failure = error }
            }
            if let failure { throw failure }
            if delivered == nil { break }
        }
        guard let writer else { throw ValidationError("\(source) delivered no frames") }
        let written = try writer.finish()
        print("recorded \(written) frame(s) from \(frameSource.sourceDescription) → \(output)")
    }
}
