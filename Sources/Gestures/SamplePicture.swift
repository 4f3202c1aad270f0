// SamplePicture: the pictures people judge their samples on (`gesturepad samples show` and
// `samples sheet`): one sample's stored frame enlarged with a caption (id, label, capture time,
// source), and a contact sheet of many samples, a tile each with its id (and label) under it.
// Drawn with Raster (Canvas, PixelFont), encoded as PNG by Capture, written atomically.
// Sheet layout: a title row, then rows of `columns` tiles; tile = a `tileSide`² box-averaged frame
// above a one-line caption, `gap` pixels between tiles and around the edge.
import Capture
import Foundation
import NeuralNet
import Raster

/// PNG pictures of stored samples.
public enum SamplePicture {
    /// A contact sheet's tile: the sample's id, label and frame.
    public struct Tile: Sendable, Equatable {
        public var id: Int64
        public var label: String
        public var frame: RGBImage

        /// A tile of sample `id` (`label`) showing `frame` (square RGB).
        public init(id: Int64, label: String, frame: RGBImage) {
            self.id = id
            self.label = label
            self.frame = frame
        }
    }

    /// The side of a contact-sheet tile: half a 224 frame, large enough to see arm and hand positions.
    public static let tileSide = 112
    /// Pixels between tiles and around the sheet.
    public static let gap = 8
    static let background = RGB(40, 40, 40)
    static let ink = RGB.white
    static let dimInk = RGB.lightGray

    /// One sample: its frame `scale` times larger (nearest neighbour, crisp pixels as stored) above a caption of
    /// `#id label` (large), the capture time (UTC) and the source (its end when too long).
    public static func sample(frame: RGBImage, info: SampleInfo, scale: Int = 2) -> Canvas {
        let image = Canvas(width: frame.width, height: frame.height, pixels: frame.pixels).scaledNearest(by: scale)
        let lineHeight = PixelFont.cellHeight
        let captionHeight = gap + 2 * lineHeight + gap + 2 * lineHeight + gap
        var canvas = Canvas(width: image.width, height: image.height + captionHeight, background: background)
        canvas.blit(image, at: Point(x: 0, y: 0))
        let characters = max(1, (canvas.width - 2 * gap) / PixelFont.cellWidth)
        var y = image.height + gap
        canvas.draw(
            text: fit("#\(info.id) \(info.label)", characters / 2), at: Point(x: gap, y: y), color: ink, scale: 2)
        y += 2 * lineHeight + gap
        canvas.draw(text: fit(timestamp(info.capturedAt), characters), at: Point(x: gap, y: y), color: dimInk)
        y += lineHeight
        canvas.draw(text: fit(info.source, characters), at: Point(x: gap, y: y), color: dimInk)
        return canvas
    }

    /// A contact sheet: `title` on top, then `tiles` in rows of `columns`, each frame box-averaged to `tileSide`
    /// with `#id` under it (`#id label` when `showLabels`). An empty tile list gives the title alone.
    public static func sheet(tiles: [Tile], title: String, columns: Int = 8, showLabels: Bool = false) -> Canvas {
        let columns = max(1, min(columns, max(tiles.count, 1)))
        let rows = (tiles.count + columns - 1) / columns
        let captionHeight = PixelFont.cellHeight + 2
        let cellHeight = tileSide + captionHeight + gap
        let titleHeight = gap + 2 * PixelFont.cellHeight + gap
        let width = max(gap + columns * (tileSide + gap), PixelFont.measure(text: title, scale: 2).width + 2 * gap)
        var canvas = Canvas(width: width, height: titleHeight + rows * cellHeight, background: background)
        canvas.draw(text: title, at: Point(x: gap, y: gap), color: ink, scale: 2)
        let characters = tileSide / PixelFont.cellWidth
        for (index, tile) in tiles.enumerated() {
            let origin = Point(
                x: gap + index % columns * (tileSide + gap), y: titleHeight + index / columns * cellHeight)
            let small =
                tile.frame.width == tile.frame.height
                ? Thumbnail.make(frame: tile.frame.pixels, frameSide: tile.frame.width, largest: tileSide)
                : tile.frame
            var picture = Canvas(width: small.width, height: small.height, pixels: small.pixels)
            if picture.width < tileSide { picture = picture.scaledNearest(by: max(1, tileSide / picture.width)) }
            canvas.blit(picture, at: origin)
            let caption = showLabels ? "#\(tile.id) \(tile.label)" : "#\(tile.id)"
            canvas.draw(
                text: fit(caption, characters), at: Point(x: origin.x, y: origin.y + tileSide + 2), color: ink)
        }
        return canvas
    }

    /// `canvas` as PNG written to `path` (temp file + fsync + rename).
    public static func write(_ canvas: Canvas, to path: String) throws(GesturesError) {
        let png = RGBImage(width: canvas.width, height: canvas.height, pixels: canvas.pixels).pngData()
        do { try FileIO.writeAtomically(png, to: path) } catch { throw .model(error) }
    }

    /// `text` cut to `characters` (its end kept, after "…", for paths whose file name matters most).
    static func fit(_ text: String, _ characters: Int) -> String {
        guard text.count > characters, characters > 3 else { return text }
        return "..." + text.suffix(characters - 3)
    }

    /// `date` as `YYYY-MM-DD HH:MM:SS UTC`.
    public static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: date)
    }
}
