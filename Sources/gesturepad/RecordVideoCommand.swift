// `gesturepad record-video OUT.y4m`: what the camera (or any --source) sees, as a YUV4MPEG2 file
// that every command taking frames can replay with --source. Camera, size, rate and format default to
// the config's [camera] (the camera the daemon and `play` open), flags override them.
import ArgumentParser
import Capture
import Foundation
import Settings

struct RecordVideo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record-video", abstract: "Record frames from a camera (or --source) into a .y4m file.")

    @Argument(help: "Output .y4m file (written atomically when recording ends).")
    var output: String

    @Option(name: .long, help: "How long to record, in seconds.")
    var seconds: Double = 5

    @Option(name: .long, help: "Camera device or stable name, or a recording/image to re-record ([camera] device).")
    var source: String?

    @Option(name: .long, help: "Requested frame size WxH (default: [camera] width x height).")
    var size: String?

    @Option(name: .long, help: "Requested frames per second (default: [camera] fps).")
    var fps: Int?

    @Option(name: .long, help: "Requested pixel format from a camera: yuyv, rgb24, yuv420 or mjpeg ([camera]).")
    var format: String?

    @OptionGroup var settings: SettingsOptions

    func run() throws {
        var overrides: [ConfigOverride] = []
        if let source { overrides.append(ConfigOverride("camera.device", .string(source), flag: "--source")) }
        if let size {
            let parts = size.split(separator: "x").compactMap { Int64($0) }
            guard parts.count == 2 else { throw ValidationError("--size must look like 640x480") }
            overrides.append(ConfigOverride("camera.width", .integer(parts[0]), flag: "--size"))
            overrides.append(ConfigOverride("camera.height", .integer(parts[1]), flag: "--size"))
        }
        if let fps { overrides.append(ConfigOverride("camera.fps", .integer(Int64(fps)), flag: "--fps")) }
        if let format { overrides.append(ConfigOverride("camera.pixel_format", .string(format), flag: "--format")) }
        let camera = try settings.resolve(overrides).cameraConfiguration()
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
        let source = camera.device
        let fps = camera.framesPerSecond
        let frameSource = try FrameSources.open(source, pacing: .realTime, loops: true, camera: camera)
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
        guard let writer else { throw CommandFailure("\(source) delivered no frames") }
        let written = try writer.finish()
        print("recorded \(written) frame(s) from \(frameSource.sourceDescription) → \(output)")
    }
}
