// The sample browser: its pure state (paging, cursor, marks, clicks, what keys ask for) and, through
// a GameSession on a real sample store, that delete and relabel change the store in one transaction
// each, the browser follows, and the screen draws the page; custom labels record with digit keys.
import Foundation
import Gestures
import Raster
import TestSupport
import Testing

@testable import GameWindow

@Suite struct SampleBrowserTests {
    static let labels = ["up", "down", "left", "right", "idle"]

    @Test func pagesHoldTwentyFourAndTheCursorStartsOnTheNewest() {
        var browser = SampleBrowser(labels: Self.labels, label: "up", ids: Array(1...50))
        #expect(SampleBrowser.pageSize == 24)
        #expect(browser.pageCount == 3 && browser.page == 2 && browser.cursorID == 50)
        #expect(Array(browser.pageIDs) == [49, 50])
        browser.movePage(by: -1)
        #expect(browser.page == 1 && browser.cursorID == 26 && browser.pageIDs.first == 25)
        browser.movePage(by: -5)
        #expect(browser.cursorID == 1 && browser.page == 0, "clamped at the first sample")
        _ = browser.keyDown(.arrowDown)
        #expect(browser.cursorID == 7, "down is one row of six")
        _ = browser.keyDown(.arrowRight)
        _ = browser.keyDown(.pageDown)
        #expect(browser.cursorID == 32 && browser.page == 1)
        let empty = SampleBrowser(labels: Self.labels, label: "idle", ids: [])
        #expect(empty.pageCount == 1 && empty.cursorID == nil && empty.targets.isEmpty && empty.pageIDs.isEmpty)
    }

    @Test func marksClicksAndTheTargetsOfAnAction() {
        var browser = SampleBrowser(labels: Self.labels, label: "up", ids: [10, 11, 12, 13])
        #expect(browser.targets == [13], "without marks: the sample under the cursor")
        let clicked = browser.click(slot: 1)
        #expect(clicked)
        #expect(browser.cursorID == 11 && browser.marked.isEmpty, "a click moves the cursor")
        browser.click(slot: 1)
        #expect(browser.marked == [11], "a second click marks")
        _ = browser.keyDown(.arrowRight)
        _ = browser.keyDown(.space)
        #expect(browser.targets == [11, 12])
        let clickedEmpty = browser.click(slot: 7)
        #expect(!clickedEmpty, "an empty slot does nothing")
        let action1 = browser.keyDown(.backspace)
        #expect(action1 == .delete([11, 12]))
        let action2 = browser.keyDown(.digit(3))
        #expect(action2 == .relabel([11, 12], to: "left"))
        let action3 = browser.keyDown(.digit(1))
        #expect(action3 == nil, "moving to its own label does nothing")
        let action4 = browser.keyDown(.digit(9))
        #expect(action4 == nil, "no ninth label")
        let action5 = browser.keyDown(.tab)
        #expect(action5 == .show(label: "down"))
        let action6 = browser.keyDown(.tab, shift: true)
        #expect(action6 == .show(label: "idle"))
        let action7 = browser.keyDown(.escape)
        #expect(action7 == .close)
    }

    @Test func reloadKeepsTheCursorOnItsSampleAndDropsGoneMarks() {
        var browser = SampleBrowser(labels: Self.labels, label: "up", ids: Array(1...30))
        browser.move(by: -10)  // on 20
        browser.toggleMark()
        browser.move(by: 1)  // on 21
        browser.toggleMark()
        browser.reload(label: "up", ids: Array(1...19) + Array(21...30))  // 20 deleted
        #expect(browser.cursorID == 21 && browser.marked == [21])
        browser.reload(label: "up", ids: Array(1...19))  // 21 and after deleted: clamp to the end
        #expect(browser.cursorID == 19 && browser.marked.isEmpty)
        browser.reload(label: "down", ids: [100, 101])
        #expect(browser.label == "down" && browser.cursorID == 101)
    }

    // MARK: Through the session and the store

    func session(counts: [String: Int], labels: LabelSet = .standard) throws -> (GameSession, SampleStore, String) {
        let (store, directory) = try filledStore(
            counts: counts, colors: ["up": RGB(200, 40, 40), "down": RGB(40, 200, 40)])
        let session = GameSession(app: App(labels: labels), parts: GameSessionParts(store: store))
        return (session, store, directory)
    }

    @Test func deleteAndRelabelChangeTheStoreAndTheBrowserFollows() throws {
        let (session, store, directory) = try session(counts: ["up": 30, "down": 3])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let upIDs = try store.samples(label: "up").map(\.id)
        session.keyDown(.letter("v"))  // the selected tile is the first: up
        var browser = try #require(session.app.browser)
        #expect(browser.label == "up" && browser.ids == upIDs && browser.cursorID == upIDs.last)

        // Mark the two newest, delete them in one go.
        session.keyDown(.space)
        session.keyDown(.arrowLeft)
        session.keyDown(.space)
        session.keyDown(.backspace)
        #expect(try store.samples(label: "up").map(\.id) == Array(upIDs.dropLast(2)))
        browser = try #require(session.app.browser)
        #expect(browser.ids == Array(upIDs.dropLast(2)) && browser.marked.isEmpty)
        #expect(session.model().toast?.hasPrefix("Deleted 2 UP samples") == true)

        // Relabel the sample under the cursor to down (digit 2).
        let moved = try #require(browser.cursorID)
        session.keyDown(.digit(2))
        #expect(try store.counts() == ["up": 27, "down": 4])
        #expect(try store.samples(label: "down").map(\.id).contains(moved))
        #expect(session.app.browser?.ids.contains(moved) == false)

        // Tab shows down; the page's thumbnails and the cursor's frame are loaded for drawing.
        session.keyDown(.tab)
        #expect(session.app.browser?.label == "down" && session.app.browser?.cursorID == moved)
        let model = session.model()
        #expect(model.browser.preview?.info.id == moved)
        #expect(model.browser.thumbnails.count == 4)
        let canvas = session.render()
        let cell = BrowserLayout.cell(slot: 3)
        #expect(count(RGB(200, 40, 40), in: cell, of: canvas) > 2000, "the moved red sample's thumbnail, 56×56")
        #expect(
            !findText("DOWN  4 SAMPLES  PAGE 1/1", color: Palette.accent, in: LogicalScreen.bounds, of: canvas).isEmpty)

        session.keyDown(.escape)
        #expect(session.app.browser == nil && session.app.screen == .training)
    }

    @Test func aFailedChangeChangesNothing() throws {
        let (session, store, directory) = try session(counts: ["up": 3])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        session.keyDown(.letter("v"))
        session.keyDown(.space)
        session.keyDown(.arrowLeft)
        session.keyDown(.space)
        // The first marked sample vanishes behind the browser's back: the delete of both is one transaction, so it
        // fails as a whole (the store names the missing id) and the other marked sample stays.
        let ids = try #require(session.app.browser?.targets)
        #expect(try store.delete(ids: [ids[0]]) == 1)
        session.keyDown(.backspace)
        #expect(try store.counts() == ["up": 2])
        #expect(session.model().toast?.hasPrefix("Nothing changed: no sample with id \(ids[0])") == true)
        // A relabel to an invalid name rolls back as a whole (nothing moved).
        #expect(throws: GesturesError.self) { try store.relabel(ids: try store.samples().map(\.id), to: "Bad Name") }
        #expect(try store.counts() == ["up": 2])
    }

    @Test func clickingATileOpensTheBrowserOnItsLabel() throws {
        let (session, _, directory) = try session(counts: ["up": 2, "down": 3])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tile = TrainingLayout.tile(index: 1, count: 5)
        session.click(x: tile.x + 10, y: tile.y + 40)
        #expect(session.app.browser?.label == "down" && session.app.browser?.ids.count == 3)
        let cell = BrowserLayout.cell(slot: 0)
        session.click(x: cell.x + 5, y: cell.y + 5)
        #expect(session.app.browser?.cursor == 0)
        let tab = BrowserLayout.labelTab(index: 0, count: 5)
        session.click(x: tab.x + 3, y: tab.y + 3)
        #expect(session.app.browser?.label == "up")
    }

    @Test func customLabelsRecordWithDigitKeys() throws {
        var app = App(labels: try LabelSet(["jump", "duck", "wave", "idle", "clap", "nod"]))
        #expect(app.recordLabel(for: .digit(1)) == "jump")
        #expect(app.recordLabel(for: .digit(6)) == "nod")
        #expect(app.recordLabel(for: .digit(7)) == nil && app.recordLabel(for: .digit(0)) == nil)
        #expect(app.recordLabel(for: .letter("i")) == "idle", "idle keeps its letter")
        _ = app.keyDown(.digit(2))
        let started = holdTicks(&app)
        #expect(started == [.startRecording(label: "duck")])
        #expect(app.recordingLabel == "duck" && app.selectedLabel == "duck")
        let stopped = app.keyUp(.digit(2))
        #expect(stopped == [.stopRecording])
        // Six tiles share the row; each shows its key.
        #expect(TrainingLayout.tile(index: 5, count: 6).maxX <= LogicalScreen.width)
        #expect(TrainingScreen.keyName(for: "jump", index: 0) == "1")
        #expect(TrainingScreen.keyName(for: "idle", index: 3) == "I")
    }
}
