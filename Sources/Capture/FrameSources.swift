// FrameSources: turns a `--source` argument into a `FrameSource` — a `.y4m` recording, a still
// image (PNG/JPEG/…), or a camera (device node, `videoN`, or a /dev/v4l/by-id|by-path name).

/// Opening frame sources from command-line specifications.
public enum FrameSources {
    /// Opens `specification`: files ending in .y4m are recordings, other existing files images, and
    /// anything else a camera device (configured by `camera`, whose `device` is replaced).
    public static func open(
        _ specification: String, pacing: FramePacing = .asFastAsPossible, loops: Bool = false,
        camera: V4L2CameraConfiguration = V4L2CameraConfiguration()
    ) throws(CaptureError) -> any FrameSource {
        if specification.lowercased().hasSuffix(".y4m") {
            return try Y4MFileSource(path: specification, pacing: pacing, loops: loops)
        }
        let isDevice = specification.hasPrefix("/dev/") || specification.hasPrefix("video")
        if !isDevice {
            return try ImageFileSource(path: specification, repeats: loops, pacing: pacing)
        }
        var configuration = camera
        configuration.device = specification
        return try V4L2Camera(configuration)
    }
}
