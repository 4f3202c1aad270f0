// Values going in and out of SampleStore: a sample to add (validated here: label name, side range,
// frame byte count), the blob-free description of a stored sample, and the Float32 embedding blob
// codec (little-endian, element count stored beside the blob and checked on read).
import Capture
import Foundation

/// A training sample to add: one preprocessed square RGB frame and how it was made.
public struct NewSample: Sendable, Equatable {
    /// The frame side sizes a sample may have.
    public static let sideRange = 16...1024

    /// The class this sample teaches (a valid label name, see `LabelSet.isValidName`).
    public var label: String
    /// The frame's side in pixels (224 for the MobileNets).
    public var side: Int
    /// The preprocessed frame, [side, side, 3] RGB uint8, rows top to bottom.
    public var frame: [UInt8]
    /// When the camera captured the frame.
    public var capturedAt: Date
    /// Where the frame came from: a camera id (e.g. "/dev/video0") or a recording's path.
    public var source: String
    /// Whether the frame was mirrored left↔right before storing (training and inference must agree).
    public var mirror: Bool
    /// The normalisation the frame is meant for, e.g. "x/127.5-1" (stored as text, applied at embedding time).
    public var normalization: String
    /// The recording take (`SampleStore.newTake`) this sample belongs to; nil: the samples of one `add` call
    /// without a take form a new take.
    public var take: Int64?

    /// A sample of a `side`×`side` RGB `frame`.
    public init(
        label: String, frame: [UInt8], side: Int = 224, capturedAt: Date = Date(), source: String,
        mirror: Bool, normalization: String, take: Int64? = nil
    ) {
        self.take = take
        self.label = label
        self.frame = frame
        self.side = side
        self.capturedAt = capturedAt
        self.source = source
        self.mirror = mirror
        self.normalization = normalization
    }

    /// Throws `invalidLabelName` or `invalidSample` naming the first bad field.
    func validate() throws(GesturesError) {
        guard LabelSet.isValidName(label) else { throw .invalidLabelName(label: label) }
        guard Self.sideRange.contains(side) else {
            throw .invalidSample(field: "side", reason: "\(side) is outside \(Self.sideRange)")
        }
        guard frame.count == side * side * 3 else {
            throw .invalidSample(
                field: "frame",
                reason: "\(frame.count) bytes where \(side)×\(side)×3 = \(side * side * 3) were expected")
        }
        guard capturedAt.timeIntervalSince1970.isFinite else {
            throw .invalidSample(field: "capturedAt", reason: "not a finite time")
        }
    }
}

/// A stored sample without its pixels: what lists and the training screen need.
public struct SampleInfo: Sendable, Equatable, Identifiable {
    /// The store's id of the sample: unique, increasing in insertion order, never reused.
    public let id: Int64
    /// The sample's class.
    public let label: String
    /// The frame's side in pixels.
    public let side: Int
    /// When the camera captured the frame.
    public let capturedAt: Date
    /// Camera id or recording path.
    public let source: String
    /// Whether the frame was mirrored.
    public let mirror: Bool
    /// The normalisation the frame is meant for.
    public let normalization: String
    /// The recording take: samples recorded in one run or added in one call share it.
    public let take: Int64
}

/// A stored sample's thumbnail (see `Thumbnail`).
public struct SampleThumbnail: Sendable, Equatable {
    /// The sample's id.
    public let id: Int64
    /// The sample's class.
    public let label: String
    /// The thumbnail, at most `Thumbnail.maximumSide` square.
    public let image: RGBImage
}

/// Float32 vectors as BLOBs: 4 bytes per element, IEEE 754 little-endian, no header.
enum EmbeddingBlob {
    static func encode(_ vector: [Float]) -> Data {
        var data = Data(count: vector.count * 4)
        data.withUnsafeMutableBytes { bytes in
            for (index, value) in vector.enumerated() {
                bytes.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: index * 4, as: UInt32.self)
            }
        }
        return data
    }

    /// The vector, or nil when `data` does not hold exactly `dimension` elements.
    static func decode(_ data: Data, dimension: Int) -> [Float]? {
        guard dimension >= 0, data.count == dimension * 4 else { return nil }
        return data.withUnsafeBytes { bytes in
            (0..<dimension).map {
                Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
            }
        }
    }
}
