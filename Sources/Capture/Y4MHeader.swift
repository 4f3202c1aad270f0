// The YUV4MPEG2 (Y4M) stream header, parsed and written: `YUV4MPEG2 W<w> H<h> F<num>:<den> I<i>
// A<num>:<den> C<colourspace> X<extension>…\n`, space-separated single-letter tags in any order.
// Reference: the YUV4MPEG2 format of mjpegtools (yuv4mpeg.h, "man yuv4mpeg") as ffmpeg's
// libavformat/yuv4mpegdec.c reads it: C absent means 420jpeg, F absent or F0:0 means 25:1,
// unknown tags are ignored, X tags are free-form (ffmpeg writes XYSCSS=… and XCOLORRANGE=…).
// We accept progressive 8-bit 4:2:0 (all chroma sitings: the planar layout is the same) and 4:4:4.

/// A frame rate or pixel aspect ratio written `numerator:denominator` in a Y4M header.
public struct Y4MRatio: Sendable, Equatable, CustomStringConvertible {
    public var numerator: Int
    public var denominator: Int

    public init(_ numerator: Int, _ denominator: Int) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// numerator / denominator (NaN for 0:0, "unknown").
    public var value: Double { Double(numerator) / Double(denominator) }

    /// "30000:1001".
    public var description: String { "\(numerator):\(denominator)" }
}

/// The Y4M `C` tag values gesturepad reads; the raw value is the tag's text after `C`.
public enum Y4MColourspace: String, Sendable, Equatable, CaseIterable {
    /// 4:2:0, chroma centred between luma samples (JPEG/MPEG-1 siting); the default when C is absent.
    case yuv420jpeg = "420jpeg"
    /// 4:2:0 with PAL-DV chroma siting.
    case yuv420paldv = "420paldv"
    /// 4:2:0 with MPEG-2 chroma siting (co-sited horizontally).
    case yuv420mpeg2 = "420mpeg2"
    /// 4:2:0 with unspecified siting (ffmpeg writes this for yuv420p input with MPEG-2 siting).
    case yuv420 = "420"
    /// 4:4:4, no subsampling.
    case yuv444 = "444"

    /// The planar layout of the frames: siting only moves chroma by a fraction of a pixel, so every
    /// 4:2:0 variant is `.yuv420`.
    public var pixelFormat: PixelFormat {
        self == .yuv444 ? .yuv444 : .yuv420
    }
}

/// Whether Y, U, V use the full 0…255 range or the studio range (Y 16…235, chroma 16…240), from the
/// `XCOLORRANGE=` extension ffmpeg writes.
public enum Y4MColourRange: String, Sendable, Equatable, CaseIterable {
    /// 0…255 ("pc", "jpeg"): what BT.601 full-range RGB conversion produces.
    case full = "FULL"
    /// 16…235 / 16…240 ("tv", "mpeg"): ffmpeg's default for yuv420p.
    case limited = "LIMITED"
}

/// The stream header of a Y4M file: frame size, rate, aspect, colourspace and extensions.
public struct Y4MHeader: Sendable, Equatable {
    /// Largest accepted width and height; larger values are taken as a corrupt header.
    public static let maximumSide = 16384
    /// The frame rate used when the header has no `F` tag (or `F0:0`), as ffmpeg does.
    public static let defaultFrameRate = Y4MRatio(25, 1)
    /// Longest header line read, newline included (ffmpeg's own headers are under 100 bytes).
    public static let maximumLineLength = 1024
    /// The first bytes of every Y4M file.
    public static let signature = "YUV4MPEG2"

    /// Frame width in pixels (1…`maximumSide`).
    public var width: Int
    /// Frame height in pixels (1…`maximumSide`).
    public var height: Int
    /// Frames per second as a ratio (both terms ≥ 1).
    public var frameRate: Y4MRatio
    /// Pixel aspect ratio (0:0 = unknown; 1:1 = square pixels).
    public var pixelAspectRatio: Y4MRatio
    /// Chroma subsampling and siting.
    public var colourspace: Y4MColourspace
    /// `X` tags without the leading X, in file order (for example "YSCSS=420JPEG", "COLORRANGE=FULL").
    public var extensions: [String]

    /// A header for progressive frames; `width`, `height` and `frameRate` must be in range (see `validate`).
    public init(
        width: Int, height: Int, frameRate: Y4MRatio = Y4MRatio(30, 1),
        pixelAspectRatio: Y4MRatio = Y4MRatio(1, 1), colourspace: Y4MColourspace = .yuv420jpeg,
        extensions: [String] = []
    ) {
        self.width = width
        self.height = height
        self.frameRate = frameRate
        self.pixelAspectRatio = pixelAspectRatio
        self.colourspace = colourspace
        self.extensions = extensions
    }

    /// The pixel format of each frame's bytes.
    public var pixelFormat: PixelFormat { colourspace.pixelFormat }

    /// Bytes of one frame's planar data (Y plane, then U and V).
    public var frameByteCount: Int {
        pixelFormat.frameByteCount(width: width, height: height) ?? 0
    }

    /// The colour range from the `XCOLORRANGE=` extension (nil when the file does not say).
    public var colourRange: Y4MColourRange? {
        for tag in extensions.reversed() where tag.hasPrefix("COLORRANGE=") {
            return Y4MColourRange(rawValue: String(tag.dropFirst("COLORRANGE=".count)).uppercased())
        }
        return nil
    }

    /// The header line as written to a file, newline included (`I` is always `p`).
    public var line: String {
        var line =
            "\(Self.signature) W\(width) H\(height) F\(frameRate) Ip A\(pixelAspectRatio) C\(colourspace.rawValue)"
        for tag in extensions { line += " X\(tag)" }
        return line + "\n"
    }

    /// Checks the values a writer would put in a file; `path` names the file in the error.
    public func validate(path: String) throws(CaptureError) {
        for (field, value) in [("W", width), ("H", height)] where !(1...Self.maximumSide).contains(value) {
            throw .y4mMalformedHeader(
                path: path, field: "\(field)\(value)",
                reason: "the frame \(field == "W" ? "width" : "height") must be 1…\(Self.maximumSide)")
        }
        let termLimit = Int(UInt32.max)
        guard (1...termLimit).contains(frameRate.numerator), (1...termLimit).contains(frameRate.denominator) else {
            throw .y4mMalformedHeader(
                path: path, field: "F\(frameRate)",
                reason: "the frame rate needs numerator and denominator in 1…\(termLimit)")
        }
        guard (0...termLimit).contains(pixelAspectRatio.numerator),
            (0...termLimit).contains(pixelAspectRatio.denominator)
        else {
            throw .y4mMalformedHeader(
                path: path, field: "A\(pixelAspectRatio)",
                reason: "the pixel aspect ratio needs numerator and denominator in 0…\(termLimit)")
        }
        for tag in extensions where tag.contains(where: { $0 == " " || $0 == "\n" }) || tag.isEmpty {
            throw .y4mMalformedHeader(
                path: path, field: "X\(tag)", reason: "an extension tag must be non-empty, without spaces or newlines")
        }
    }

    /// Parses a header line (without its newline); `path` names the file in errors.
    ///
    /// Errors say which field is wrong: `.y4mMalformedHeader` for text that is not valid Y4M,
    /// `.y4mUnsupported` for valid Y4M we do not read (other colourspaces, interlacing).
    public static func parse(_ line: String, path: String) throws(CaptureError) -> Y4MHeader {
        var fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.first == Substring(signature) else {
            let start = String(
                line.prefix(16).map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == " ") ? $0 : "?" })
            throw .y4mMalformedHeader(
                path: path, field: "signature",
                reason: "the file starts with \"\(start)\", not \"\(signature)\"; it is not a Y4M file")
        }
        fields.removeFirst()
        var width: Int?
        var height: Int?
        var header = Y4MHeader(width: 0, height: 0, frameRate: defaultFrameRate, pixelAspectRatio: Y4MRatio(0, 0))
        for field in fields {
            let value = field.dropFirst()
            let text = String(field)
            switch field.first {
            case "W": width = try dimension(value, field: text, name: "width", path: path)
            case "H": height = try dimension(value, field: text, name: "height", path: path)
            case "F":
                let rate = try ratio(value, field: text, path: path, example: "F30:1")
                if rate == Y4MRatio(0, 0) {
                    header.frameRate = defaultFrameRate  // "unknown", as ffmpeg reads it
                } else if rate.numerator == 0 || rate.denominator == 0 {
                    throw .y4mMalformedHeader(
                        path: path, field: text,
                        reason: "a frame rate needs a numerator and denominator ≥ 1 (e.g. F30:1)")
                } else {
                    header.frameRate = rate
                }
            case "A": header.pixelAspectRatio = try ratio(value, field: text, path: path, example: "A1:1")
            case "I":
                switch value {
                case "p", "?": break  // progressive, or unknown (read as progressive, like ffmpeg)
                case "t", "b", "m":
                    throw .y4mUnsupported(
                        path: path, field: text,
                        supported: "progressive frames (Ip); this file is interlaced")
                default:
                    throw .y4mMalformedHeader(
                        path: path, field: text,
                        reason: "interlacing must be Ip, It, Ib, Im or I?")
                }
            case "C":
                guard let colourspace = Y4MColourspace(rawValue: String(value)) else {
                    throw .y4mUnsupported(
                        path: path, field: text,
                        supported: "C420, C420jpeg, C420paldv, C420mpeg2 (4:2:0) and C444 (4:4:4), 8 bits per sample")
                }
                header.colourspace = colourspace
            case "X": header.extensions.append(String(value))
            default: break  // unknown tags are ignored, as by ffmpeg
            }
        }
        guard let width else {
            throw .y4mMalformedHeader(path: path, field: "W", reason: "the frame width tag is missing")
        }
        guard let height else {
            throw .y4mMalformedHeader(path: path, field: "H", reason: "the frame height tag is missing")
        }
        header.width = width
        header.height = height
        return header
    }

    private static func dimension(_ value: Substring, field: String, name: String, path: String)
        throws(CaptureError) -> Int
    {
        guard value.allSatisfy(\.isASCII), let number = Int(value), (1...maximumSide).contains(number) else {
            throw .y4mMalformedHeader(
                path: path, field: field,
                reason: "the frame \(name) must be a whole number in 1…\(maximumSide)")
        }
        return number
    }

    private static func ratio(_ value: Substring, field: String, path: String, example: String)
        throws(CaptureError) -> Y4MRatio
    {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        let limit = Int(UInt32.max)
        guard parts.count == 2, parts.allSatisfy({ $0.allSatisfy(\.isASCII) }),
            let numerator = Int(parts[0]), let denominator = Int(parts[1]),
            (0...limit).contains(numerator), (0...limit).contains(denominator)
        else {
            throw .y4mMalformedHeader(
                path: path, field: field,
                reason: "expected <numerator>:<denominator> with whole numbers in 0…\(limit), like \(example)")
        }
        return Y4MRatio(numerator, denominator)
    }
}
