// RGBImage and image files. Decoding and PNG encoding are stb_image's and stb_image_write's
// (Debian libstb): well-kept single-purpose codecs; Capture is the only importer of CStbImage.
import CStbImage
import Foundation

/// An 8-bit RGB image, rows top to bottom, pixels interleaved R, G, B.
public struct RGBImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// width · height · 3 bytes.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(
            width > 0 && height > 0 && pixels.count == width * height * 3,
            "an RGB image of \(width)×\(height) needs \(width * height * 3) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Decodes an encoded image (PNG, JPEG, …) held in memory; `path` is for error messages.
    public static func decode(_ bytes: [UInt8], path: String = "<memory>") throws(CaptureError) -> RGBImage {
        guard !bytes.isEmpty, bytes.count <= Int(Int32.max) else {
            throw .undecodableImage(path: path, reason: bytes.isEmpty ? "empty file" : "file too large")
        }
        var width: Int32 = 0
        var height: Int32 = 0
        var channels: Int32 = 0
        let decoded = bytes.withUnsafeBufferPointer { buffer in
            stbi_load_from_memory(buffer.baseAddress, Int32(buffer.count), &width, &height, &channels, 3)
        }
        guard let decoded else {
            throw .undecodableImage(path: path, reason: stbi_failure_reason().map { String(cString: $0) } ?? "unknown")
        }
        defer { stbi_image_free(decoded) }
        let count = Int(width) * Int(height) * 3
        return RGBImage(
            width: Int(width), height: Int(height), pixels: Array(UnsafeBufferPointer(start: decoded, count: count)))
    }

    /// Reads and decodes an image file.
    public static func read(_ path: String) throws(CaptureError) -> RGBImage {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if exists, isDirectory.boolValue {
            throw .fileUnreadable(path: path, reason: "is a directory, not an image file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = !exists ? "no such file" : access(path, R_OK) != 0 ? "permission denied" : "could not be read"
            throw .fileUnreadable(path: path, reason: reason)
        }
        return try decode([UInt8](data), path: path)
    }

    /// The image encoded as PNG.
    public func pngData() -> [UInt8] {
        encoded { write, context, pixels in
            stbi_write_png_to_func(write, context, Int32(width), Int32(height), 3, pixels, Int32(width * 3))
        }
    }

    /// The image encoded as baseline JPEG at `quality` (1…100), as a camera's MJPEG frame would be.
    public func jpegData(quality: Int = 90) -> [UInt8] {
        encoded { write, context, pixels in
            stbi_write_jpg_to_func(
                write, context, Int32(width), Int32(height), 3, pixels, Int32(Swift.min(Swift.max(quality, 1), 100)))
        }
    }

    private typealias WriteFunction = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, Int32) -> Void

    /// Runs an stb_image_write `*_to_func` encoder and collects what it writes.
    private func encoded(_ encode: (WriteFunction, UnsafeMutableRawPointer, UnsafePointer<UInt8>?) -> Int32) -> [UInt8]
    {
        final class Sink { var bytes: [UInt8] = [] }
        let sink = Sink()
        let context = Unmanaged.passUnretained(sink).toOpaque()
        let write: WriteFunction = { context, data, size in
            guard let context, let data, size > 0 else { return }
            let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
            sink.bytes += UnsafeRawBufferPointer(start: data, count: Int(size))
        }
        pixels.withUnsafeBufferPointer { buffer in _ = encode(write, context, buffer.baseAddress) }
        return withExtendedLifetime(sink) { sink.bytes }
    }
}
