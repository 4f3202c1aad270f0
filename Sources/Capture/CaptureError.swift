// CaptureError: every way getting pixels can fail, naming the file or device and what to do.

/// A typed failure of the Capture library; `description` is a complete sentence for the user.
public enum CaptureError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A file could not be read.
    case fileUnreadable(path: String, reason: String)
    /// An image file could not be decoded.
    case undecodableImage(path: String, reason: String)
    /// An image is too small for the requested processing.
    case imageTooSmall(path: String, width: Int, height: Int, minimum: Int)

    /// A frame's format or size cannot be preprocessed (the reason says which and why).
    case unsupportedFrameFormat(format: String, reason: String)

    public var description: String {
        switch self {
        case .fileUnreadable(let path, let reason):
            return "cannot read \(path): \(reason). Check that the path exists and is readable."
        case .undecodableImage(let path, let reason):
            return "cannot decode \(path) as an image (\(reason)). gesturepad reads PNG, JPEG, BMP, GIF, TGA and PNM."
        case .imageTooSmall(let path, let width, let height, let minimum):
            return "\(path) is \(width)×\(height); at least \(minimum)×\(minimum) pixels are needed."
        case .unsupportedFrameFormat(let format, let reason):
            return "cannot preprocess a \(format) frame: \(reason)."
        }
    }
}
