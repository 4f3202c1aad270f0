import Testing

@testable import Gestures

@Suite struct LabelSetTests {
    @Test func standardSetHasDirectionsThenIdle() throws {
        #expect(LabelSet.standard.names == ["up", "down", "left", "right", "idle"])
        #expect(LabelSet.standard.hasIdle)
        #expect(try LabelSet.standard.index(of: "left") == 2)
        #expect(throws: GesturesError.unknownLabel(label: "jump", known: LabelSet.standard.names)) {
            try LabelSet.standard.index(of: "jump")
        }
    }

    @Test(arguments: ["", "Up", "a b", String(repeating: "x", count: 33), "ü"])
    func invalidNamesAreRefused(name: String) {
        #expect(throws: GesturesError.self) { try LabelSet(["up", name]) }
    }

    @Test func duplicatesAndSingletonsAreRefused() throws {
        #expect(throws: GesturesError.self) { try LabelSet(["up", "up"]) }
        #expect(throws: GesturesError.self) { try LabelSet(["up"]) }
        #expect(try LabelSet(["thumbs_up", "fist", "idle"]).hasIdle)
    }
}
