// libv4lconvert for real (no fake): V4L2FormatConverter creates a libv4lconvert context over the
// shim's synthetic device and converts known frames. YUYV → RGB24 must match libv4lconvert's
// documented integer BT.601 approximation exactly (and BT.601 itself within its rounding); MJPEG →
// RGB24 decodes a JPEG we encode here with stb_image_write and must match the source picture
// approximately (lossy codec) and stb_image's own decoding of the same file closely.
import CStbImage
import Testing

@testable import Capture

/// libv4lconvert's YUYV → RGB24 arithmetic (v4lconvert_yuyv_to_rgb24): multiplication-free BT.601 with
/// coefficients 1.5 (V→R), 0.375/0.75 (U,V→G) and 129/64 (U→B), arithmetic shifts, clipped to 0…255.
private func libv4lconvertRGB(y: Int, u: Int, v: Int) -> [UInt8] {
    let blueOffset = (((u - 128) << 7) + (u - 128)) >> 6
    let greenOffset = (((u - 128) << 1) + (u - 128) + ((v - 128) << 2) + ((v - 128) << 1)) >> 3
    let redOffset = (((v - 128) << 1) + (v - 128)) >> 1
    return [y + redOffset, y - greenOffset, y + blueOffset].map { UInt8(min(max($0, 0), 255)) }
}

/// Encodes RGB pixels as a baseline JPEG with stb_image_write.
private func jpegData(_ image: RGBImage, quality: Int32) -> [UInt8] {
    final class Sink { var bytes: [UInt8] = [] }
    let sink = Sink()
    image.pixels.withUnsafeBufferPointer { pixels in
        _ = stbi_write_jpg_to_func(
            { context, data, size in
                guard let context, let data, size > 0 else { return }
                Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue().bytes += UnsafeRawBufferPointer(
                    start: data, count: Int(size))
            }, Unmanaged.passUnretained(sink).toOpaque(), Int32(image.width), Int32(image.height), 3,
            pixels.baseAddress, quality)
    }
    return sink.bytes
}

/// A smooth picture (JPEG-friendly): horizontal red ramp, vertical green ramp, constant-ish blue.
private func smoothImage(width: Int, height: Int) -> RGBImage {
    var pixels: [UInt8] = []
    for y in 0..<height {
        for x in 0..<width {
            pixels += [
                UInt8(40 + x * 160 / max(width - 1, 1)), UInt8(60 + y * 120 / max(height - 1, 1)),
                UInt8(90 + (x + y) % 4),
            ]
        }
    }
    return RGBImage(width: width, height: height, pixels: pixels)
}

@Suite("Capture: libv4lconvert conversions")
struct V4L2FormatConverterTests {
    @Test(
        "YUYV → RGB24 equals libv4lconvert's integer BT.601, and BT.601 within rounding",
        arguments: [(8, 4), (6, 3), (64, 2)])
    func yuyvToRGB(_ size: (Int, Int)) throws {
        let (width, height) = size
        var frame: [UInt8] = []
        for y in 0..<height {
            for pair in 0..<(width / 2) {
                frame += [
                    UInt8((pair * 37 + y * 11) % 256), UInt8((pair * 53 + 16) % 256),
                    UInt8((pair * 41 + y * 7 + 200) % 256), UInt8((pair * 29 + y * 90) % 256),
                ]
            }
        }
        let converter = try V4L2FormatConverter(from: .yuyv, width: width, height: height)
        var rgb = [UInt8](repeating: 0, count: converter.destinationByteCount)
        let written = try frame.withUnsafeBytes { source in
            try rgb.withUnsafeMutableBytes { destination in try converter.convertToRGB24(source, into: destination) }
        }
        #expect(written == width * height * 3)
        var expected: [UInt8] = []
        var maximumBT601Difference = 0
        for quad in stride(from: 0, to: frame.count, by: 4) {
            let (y0, u, y1, v) = (Int(frame[quad]), Int(frame[quad + 1]), Int(frame[quad + 2]), Int(frame[quad + 3]))
            for luma in [y0, y1] {
                let pixel = libv4lconvertRGB(y: luma, u: u, v: v)
                expected += pixel
                // Full-range BT.601: R = Y + 1.402 V', G = Y − 0.344 U' − 0.714 V', B = Y + 1.772 U'.
                let (luminance, blueDifference, redDifference) = (Double(luma), Double(u - 128), Double(v - 128))
                let red: Double = luminance + 1.402 * redDifference
                let green: Double = luminance - 0.344 * blueDifference - 0.714 * redDifference
                let blue: Double = luminance + 1.772 * blueDifference
                let reference: [Int] = [red, green, blue].map { Int(min(max($0.rounded(), 0), 255)) }
                for channel in 0..<3 {
                    maximumBT601Difference = max(maximumBT601Difference, abs(Int(pixel[channel]) - reference[channel]))
                }
            }
        }
        #expect(rgb == expected)
        // libv4lconvert's coefficients differ from BT.601's by up to 0.25 · |U'|: at most ~32 levels at the extremes.
        #expect(maximumBT601Difference <= 33)
        // Neutral grey stays grey.
        #expect(libv4lconvertRGB(y: 128, u: 128, v: 128) == [128, 128, 128])
    }

    @Test("MJPEG → RGB24: a JPEG encoded here decodes to the picture (lossy) and agrees with stb_image")
    func mjpegToRGB() throws {
        let image = smoothImage(width: 32, height: 16)
        let jpeg = jpegData(image, quality: 95)
        #expect(jpeg.starts(with: [0xFF, 0xD8]))
        let converter = try V4L2FormatConverter(from: .mjpeg, width: 32, height: 16)
        var rgb = [UInt8](repeating: 0, count: converter.destinationByteCount)
        try jpeg.withUnsafeBytes { source in
            _ = try rgb.withUnsafeMutableBytes { destination in try converter.convertToRGB24(source, into: destination)
            }
        }
        let differences = zip(rgb, image.pixels).map { abs(Int($0) - Int($1)) }
        let mean = Double(differences.reduce(0, +)) / Double(differences.count)
        #expect(mean < 3, "mean absolute error \(mean) against the source picture")
        #expect(differences.max()! <= 24)
        let stb = try RGBImage.decode(jpeg)
        let decoderDifferences = zip(rgb, stb.pixels).map { abs(Int($0) - Int($1)) }
        #expect(decoderDifferences.max()! <= 4, "libjpeg (via libv4lconvert) and stb_image decode the same file alike")
    }

    @Test("bad input is an error, not a crash")
    func errors() throws {
        #expect(throws: CaptureError.self) { try V4L2FormatConverter(from: .yuv444, width: 8, height: 4) }
        #expect(throws: CaptureError.self) { try V4L2FormatConverter(from: .yuyv, width: 0, height: 4) }
        let converter = try V4L2FormatConverter(from: .yuyv, width: 8, height: 4)
        var small = [UInt8](repeating: 0, count: 10)
        let frame = [UInt8](repeating: 128, count: 64)
        #expect(throws: CaptureError.self) {
            try frame.withUnsafeBytes { source in
                try small.withUnsafeMutableBytes { destination in
                    try converter.convertToRGB24(source, into: destination)
                }
            }
        }
        let jpegConverter = try V4L2FormatConverter(from: .mjpeg, width: 32, height: 16)
        var rgb = [UInt8](repeating: 0, count: jpegConverter.destinationByteCount)
        let garbage = [UInt8](repeating: 0x55, count: 100)
        #expect(throws: CaptureError.self) {
            try garbage.withUnsafeBytes { source in
                try rgb.withUnsafeMutableBytes { destination in
                    try jpegConverter.convertToRGB24(source, into: destination)
                }
            }
        }
    }
}
