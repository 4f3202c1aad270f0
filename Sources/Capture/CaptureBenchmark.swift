// CaptureBenchmark: per-frame convert + preprocess time of the fast frame path for a synthetic
// frame in each format (median and p10 of N runs, milliseconds). Figures, not tests; bench/
// compares them with OpenCV doing the same work in the same run.
import SystemSupport

/// Timings of `Preprocessor.run(frame:into:)` per pixel format.
public struct CaptureBenchmarkReport: Codable, Sendable {
    public struct Entry: Codable, Sendable {
        public var format: String
        public var width: Int
        public var height: Int
        public var medianMilliseconds: Double
        public var p10Milliseconds: Double
        enum CodingKeys: String, CodingKey {
            case format, width, height
            case medianMilliseconds = "median_ms"
            case p10Milliseconds = "p10_ms"
        }
    }
    public var runs: Int
    public var outputSize: Int
    public var entries: [Entry]
}

/// Runs the capture benchmark.
public enum CaptureBenchmark {
    /// Times `runs` frames of `width × height` in each of `formats` after a warm-up.
    public static func run(
        width: Int = 640, height: Int = 480, outputSize: Int = 224,
        formats: [PixelFormat] = [.yuyv, .rgb24, .yuv420, .mjpeg], runs: Int = 200
    ) throws(CaptureError)
        -> CaptureBenchmarkReport
    {
        let card = TestPattern.image(width: width, height: height)
        let normalization = PixelNormalization(channels: Array(repeating: (Float(1) / 127.5, -1), count: 3))
        var entries: [CaptureBenchmarkReport.Entry] = []
        var output = [Float](repeating: 0, count: outputSize * outputSize * 3)
        let clock = SystemFrameClock()
        for format in formats {
            // MJPEG: a JPEG of the card, decoded per frame by libv4lconvert into an RGB24 buffer, then preprocessed.
            let bytes = format == .mjpeg ? card.jpegData() : TestPattern.bytes(of: card, as: format)
            let converter = format == .mjpeg ? try V4L2FormatConverter(from: .mjpeg, width: width, height: height) : nil
            let decoded = UnsafeMutableRawBufferPointer.allocate(
                byteCount: format == .mjpeg ? width * height * 3 : 1, alignment: 64)
            defer { decoded.deallocate() }
            let preprocessor = Preprocessor(outputSize: outputSize, normalization: normalization)
            var times: [Double] = []
            var failure: CaptureError?
            bytes.withUnsafeBytes { raw in
                let frame = FrameView(
                    width: width, height: height, format: format,
                    bytesPerLine: TestPattern.bytesPerLine(width: width, format: format), bytes: raw,
                    sequence: 0, timestampNanoseconds: 0)
                output.withUnsafeMutableBufferPointer { destination in
                    do throws(CaptureError) {
                        for run in 0..<(runs + 10) {
                            let start = clock.nowNanoseconds
                            if let converter {
                                _ = try converter.convertToRGB24(raw, into: decoded)
                                let rgbFrame = FrameView(
                                    width: width, height: height, format: .rgb24, bytesPerLine: width * 3,
                                    bytes: UnsafeRawBufferPointer(decoded), sequence: 0, timestampNanoseconds: 0)
                                try preprocessor.run(frame: rgbFrame, into: destination.baseAddress!)
                            } else {
                                try preprocessor.run(frame: frame, into: destination.baseAddress!)
                            }
                            if run >= 10 { times.append(Double(clock.nowNanoseconds - start) / 1e6) }
                        }
                    } catch {
                        failure = error
                    }
                }
            }
            if let failure { throw failure }
            times.sort()
            entries.append(
                .init(
                    format: format.rawValue, width: width, height: height,
                    medianMilliseconds: times[times.count / 2], p10Milliseconds: times[times.count / 10]))
        }
        return CaptureBenchmarkReport(runs: runs, outputSize: outputSize, entries: entries)
    }

}
