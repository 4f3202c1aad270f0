// Thumbnail: the small picture a sample shows on the training screen, made by box-averaging
// (area averaging) a square RGB frame. Output pixel (x, y) of a T×T thumbnail of an S×S frame is the
// rounded mean of input rows ⌊y·S/T⌋ ..< ⌊(y+1)·S/T⌋ × columns ⌊x·S/T⌋ ..< ⌊(x+1)·S/T⌋, so every
// input pixel counts exactly once and, for S a multiple of T, each box is (S/T)² pixels.
// Legend: S = frame side, T = thumbnail side = min(S, maximumSide). Layout [side, side, 3] RGB uint8.
import Capture

/// Box-averaged square thumbnails of square RGB frames.
public enum Thumbnail {
    /// The side of the thumbnails the sample store keeps (frames smaller than this are kept as they are).
    public static let maximumSide = 56

    /// The thumbnail side for a frame of side `frameSide`: min(frameSide, `largest`).
    public static func side(forFrameSide frameSide: Int, largest: Int = maximumSide) -> Int { min(frameSide, largest) }

    /// Box-averages `frame` ([frameSide, frameSide, 3] RGB) to [T, T, 3], T = `side(forFrameSide:largest:)`
    /// (`largest` > 0: the store's 56, or a bigger side for the contact sheets people judge samples on).
    public static func make(frame: [UInt8], frameSide: Int, largest: Int = maximumSide) -> RGBImage {
        precondition(frameSide > 0 && frame.count == frameSide * frameSide * 3, "frame must be side²·3 bytes")
        precondition(largest > 0, "a thumbnail has at least one pixel")
        let side = Self.side(forFrameSide: frameSide, largest: largest)
        // Box bounds along one axis; shared by rows and columns since both are square. bounds[i] ..< bounds[i+1].
        let bounds = (0...side).map { $0 * frameSide / side }
        var pixels = [UInt8](repeating: 0, count: side * side * 3)
        frame.withUnsafeBufferPointer { input in
            for outputY in 0..<side {
                let rows = bounds[outputY]..<bounds[outputY + 1]
                for outputX in 0..<side {
                    let columns = bounds[outputX]..<bounds[outputX + 1]
                    var red = 0
                    var green = 0
                    var blue = 0
                    for inputY in rows {
                        var offset = (inputY * frameSide + columns.lowerBound) * 3
                        for _ in columns {
                            red += Int(input[offset])
                            green += Int(input[offset + 1])
                            blue += Int(input[offset + 2])
                            offset += 3
                        }
                    }
                    let count = rows.count * columns.count
                    let output = (outputY * side + outputX) * 3
                    pixels[output] = UInt8((red + count / 2) / count)
                    pixels[output + 1] = UInt8((green + count / 2) / count)
                    pixels[output + 2] = UInt8((blue + count / 2) / count)
                }
            }
        }
        return RGBImage(width: side, height: side, pixels: pixels)
    }
}
