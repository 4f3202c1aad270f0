// BrowserScreen: the sample browser drawn over the training screen — the sample under the cursor as
// its full 224×224 frame (what the head trains on, large enough to judge) with its id, take, time
// and source; one page of the label's samples as a 6×4 grid of 56×56 thumbnails (1:1, the stored
// thumbnail size) with the cursor and the marks; the label tabs with the digit that moves samples
// there; the keys. State comes from SampleBrowser, pixels from ScreenModel.browser.
import Capture
import Foundation
import Gestures
import Raster

/// Where the sample browser puts things, in logical pixels.
public enum BrowserLayout {
    /// The full frame of the sample under the cursor (where the camera is on the training screen).
    public static let preview = Rect(x: 8, y: 22, width: 224, height: 224)
    /// The details under the preview.
    public static let details = Rect(x: 8, y: 252, width: 224, height: 86)
    /// The title line above the grid.
    public static let titleY = 24
    static let gridLeft = 244
    static let gridTop = 38
    /// A thumbnail's side (the stored thumbnail at 1:1).
    public static let cellSide = 56
    static let cellGap = 4
    /// Grid cell `slot` (row-major) of the page.
    public static func cell(slot: Int) -> Rect {
        let column = slot % SampleBrowser.columns
        let row = slot / SampleBrowser.columns
        return Rect(
            x: gridLeft + column * (cellSide + cellGap), y: gridTop + row * (cellSide + cellGap), width: cellSide,
            height: cellSide)
    }
    /// The row of label tabs under the grid.
    static let tabsTop = 282
    /// The tab of label `index` of `count`.
    public static func labelTab(index: Int, count: Int) -> Rect {
        let total = SampleBrowser.columns * (cellSide + cellGap) - cellGap
        let width = (total + 4) / max(1, count) - 4
        return Rect(x: gridLeft + index * (width + 4), y: tabsTop, width: width, height: 16)
    }
}

/// The pixels and details the browser shows, loaded by the session from the sample store.
public struct BrowserContents: Sendable {
    /// Thumbnails of (at least) the samples on the cursor's page, by id.
    public var thumbnails: [Int64: RGBImage] = [:]
    /// The sample under the cursor: its details and full frame.
    public var preview: (info: SampleInfo, frame: RGBImage)?
    /// Sample counts per label (for the tabs).
    public var counts: [String: Int] = [:]

    /// Nothing loaded.
    public init() {}
}

/// Draws the sample browser.
struct BrowserScreen {
    mutating func draw(_ browser: SampleBrowser, model: ScreenModel, into canvas: inout Canvas) {
        let contents = model.browser
        drawPreview(browser, contents: contents, into: &canvas)
        // Title: label, count, page.
        let title =
            "\(browser.label.uppercased())  \(browser.ids.count) SAMPLE\(browser.ids.count == 1 ? "" : "S")"
            + "  PAGE \(browser.page + 1)/\(browser.pageCount)"
        canvas.draw(
            text: title, at: Point(x: BrowserLayout.gridLeft, y: BrowserLayout.titleY), color: Palette.accent)
        if !browser.marked.isEmpty {
            canvas.draw(
                text: "\(browser.marked.count) MARKED", rightAlignedAt: BrowserLayout.cell(slot: 5).maxX,
                y: BrowserLayout.titleY, color: Palette.alert)
        }
        // The grid.
        let pageIDs = Array(browser.pageIDs)
        for slot in 0..<SampleBrowser.pageSize {
            let cell = BrowserLayout.cell(slot: slot)
            guard slot < pageIDs.count else {
                canvas.strokeRect(cell, color: Palette.track)
                continue
            }
            let id = pageIDs[slot]
            if let image = contents.thumbnails[id] {
                canvas.drawImage(image, in: cell)
            } else {
                canvas.fill(rect: cell, color: Palette.track)
            }
            let isCursor = id == browser.cursorID
            if browser.marked.contains(id) {
                canvas.strokeRect(cell.insetBy(-1), color: Palette.alert, thickness: 2)
                canvas.fill(rect: Rect(x: cell.maxX - 11, y: cell.y + 1, width: 10, height: 10), color: Palette.alert)
                canvas.draw(text: "X", at: Point(x: cell.maxX - 9, y: cell.y + 2), color: Palette.text)
            }
            if isCursor { canvas.strokeRect(cell.insetBy(-2), color: Palette.accent, thickness: 2) }
        }
        if browser.ids.isEmpty {
            canvas.draw(
                text: "NO \(browser.label.uppercased()) SAMPLES YET",
                centeredIn: Rect(
                    x: BrowserLayout.gridLeft, y: BrowserLayout.gridTop, width: 356, height: 236),
                y: BrowserLayout.gridTop + 110, color: Palette.dimText)
        }
        // Label tabs: digit, name, count; the shown label highlighted.
        for (index, label) in browser.labels.enumerated() {
            let tab = BrowserLayout.labelTab(index: index, count: browser.labels.count)
            let isShown = label == browser.label
            canvas.fill(rect: tab, color: isShown ? Palette.header : Palette.panel)
            canvas.strokeRect(tab, color: isShown ? Palette.accent : Palette.panelBorder)
            let text = "\(index + 1) \(label.uppercased()) \(contents.counts[label] ?? 0)"
            let columns = max(1, (tab.width - 4) / PixelFont.cellWidth)
            canvas.draw(
                text: String(text.prefix(columns)), centeredIn: tab, y: tab.y + 4,
                color: isShown ? Palette.accent : Palette.text)
        }
        let keys = [
            "ARROWS: MOVE   N/B, PGDN/PGUP: PAGE   SPACE or CLICK: MARK",
            "BACKSPACE: DELETE   1-\(min(browser.labels.count, 9)): MOVE TO THAT LABEL   TAB: NEXT LABEL",
        ]
        var y = BrowserLayout.tabsTop + 24
        for line in keys {
            canvas.draw(text: line, at: Point(x: BrowserLayout.gridLeft, y: y), color: Palette.dimText)
            y += 12
        }
        canvas.draw(
            text: "SAMPLE BROWSER.  ESC or V: BACK TO TRAINING.  CHANGES ARE SAVED AT ONCE.",
            centeredIn: LogicalScreen.bounds, y: TrainingLayout.footerY, color: Palette.dimText)
    }

    private func drawPreview(_ browser: SampleBrowser, contents: BrowserContents, into canvas: inout Canvas) {
        let rect = BrowserLayout.preview
        guard let id = browser.cursorID, let preview = contents.preview, preview.info.id == id else {
            canvas.panel(rect)
            canvas.draw(
                text: browser.ids.isEmpty ? "NOTHING TO SHOW" : "LOADING...", centeredIn: rect,
                y: rect.y + rect.height / 2 - 4, color: Palette.dimText)
            return
        }
        canvas.drawImage(preview.frame, in: rect)
        let marked = browser.marked.contains(id)
        canvas.strokeRect(rect.insetBy(-1), color: marked ? Palette.alert : Palette.accent, thickness: marked ? 2 : 1)
        let info = preview.info
        let position = (browser.ids.firstIndex(of: id) ?? 0) + 1
        var lines: [(String, RGB)] = [
            ("#\(id)  \(info.label.uppercased())  \(position) OF \(browser.ids.count)", Palette.accent),
            ("TAKE \(info.take)  \(Self.timeText(info.capturedAt))", Palette.text),
        ]
        lines += TextWrap.lines("FROM \(info.source)", columns: 37, maximumLines: 2).map { ($0, Palette.dimText) }
        if marked { lines.append(("MARKED", Palette.alert)) }
        var y = BrowserLayout.details.y
        for (line, color) in lines {
            canvas.draw(text: line, at: Point(x: BrowserLayout.details.x, y: y), color: color)
            y += 12
        }
    }

    /// "2026-12-05 01:13:15" in UTC (the store keeps Unix time).
    static func timeText(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date) + " UTC"
    }
}
