// Key names and chords: parsing, errors naming the bad token, and the hand-written table checked
// against the kernel — a sample against CUInput's compile-time constants, and every entry against
// the #defines in the installed <linux/input-event-codes.h> (linux-libc-dev) when it is present.
import CUInput
import Foundation
import Testing

@testable import Daemon

private let installedHeaderPath = "/usr/include/linux/input-event-codes.h"

@Suite("Daemon: key names and chords")
struct UInputKeyCodesTests {
    @Test("a sample of the table equals the kernel header's compile-time values")
    func tableMatchesCompileTimeConstants() {
        let expected: [(String, UInt16)] = [
            ("KEY_ESC", CUINPUT_KEY_ESC), ("KEY_1", CUINPUT_KEY_1), ("KEY_0", CUINPUT_KEY_0),
            ("KEY_A", CUINPUT_KEY_A), ("KEY_C", CUINPUT_KEY_C), ("KEY_Z", CUINPUT_KEY_Z),
            ("KEY_TAB", CUINPUT_KEY_TAB), ("KEY_ENTER", CUINPUT_KEY_ENTER), ("KEY_SPACE", CUINPUT_KEY_SPACE),
            ("KEY_LEFTCTRL", CUINPUT_KEY_LEFTCTRL), ("KEY_LEFTSHIFT", CUINPUT_KEY_LEFTSHIFT),
            ("KEY_LEFTALT", CUINPUT_KEY_LEFTALT), ("KEY_LEFTMETA", CUINPUT_KEY_LEFTMETA),
            ("KEY_RIGHTALT", CUINPUT_KEY_RIGHTALT),
            ("KEY_F1", CUINPUT_KEY_F1), ("KEY_F10", CUINPUT_KEY_F10), ("KEY_F11", CUINPUT_KEY_F11),
            ("KEY_F12", CUINPUT_KEY_F12),
            ("KEY_UP", CUINPUT_KEY_UP), ("KEY_DOWN", CUINPUT_KEY_DOWN), ("KEY_LEFT", CUINPUT_KEY_LEFT),
            ("KEY_RIGHT", CUINPUT_KEY_RIGHT), ("KEY_PAGEUP", CUINPUT_KEY_PAGEUP),
            ("KEY_PAGEDOWN", CUINPUT_KEY_PAGEDOWN), ("KEY_HOME", CUINPUT_KEY_HOME), ("KEY_END", CUINPUT_KEY_END),
            ("KEY_SYSRQ", CUINPUT_KEY_SYSRQ), ("KEY_MUTE", CUINPUT_KEY_MUTE),
            ("KEY_VOLUMEUP", CUINPUT_KEY_VOLUMEUP), ("KEY_PLAYPAUSE", CUINPUT_KEY_PLAYPAUSE),
            ("KEY_NEXTSONG", CUINPUT_KEY_NEXTSONG),
        ]
        for (name, code) in expected {
            #expect(KeyCode(name: name)?.rawValue == code, "\(name)")
        }
        #expect(KeyCode.up.name == "KEY_UP")
        #expect(KeyCode.leftControl.rawValue == CUINPUT_KEY_LEFTCTRL)
        #expect(KeyCode.c.rawValue == CUINPUT_KEY_C)
        #expect(KeyCode.escape.rawValue == CUINPUT_KEY_ESC)
    }

    @Test(
        "every table entry equals its #define in the installed <linux/input-event-codes.h>",
        .enabled(
            if: FileManager.default.fileExists(atPath: installedHeaderPath),
            "needs the kernel headers (Debian linux-libc-dev); the compile-time sample still runs without"))
    func tableMatchesInstalledHeader() throws {
        let path = installedHeaderPath
        let header = try String(contentsOfFile: path, encoding: .utf8)
        var defines: [String: UInt16] = [:]
        for line in header.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 3, fields[0] == "#define", fields[1].hasPrefix("KEY_") else { continue }
            let value = String(fields[2])
            if value.hasPrefix("0x"), let number = UInt16(value.dropFirst(2), radix: 16) {
                defines[String(fields[1])] = number
            } else if let number = UInt16(value) {
                defines[String(fields[1])] = number
            }
        }
        #expect(defines.count > 400, "the header parse found too few KEY_ defines")
        for name in KeyCode.allNames {
            #expect(defines[name] != nil, "\(name) is not in \(path)")
            #expect(KeyCode(name: name)?.rawValue == defines[name], "\(name)")
        }
        #expect(KeyCode.table.allSatisfy { $0.code > 0 && $0.code <= CUINPUT_KEY_MAX })
    }

    @Test("the table covers letters, digits, arrows, F1–F12, modifiers, navigation and media keys")
    func coverage() {
        let letters = (UInt8(ascii: "A")...UInt8(ascii: "Z")).map { "KEY_" + String(UnicodeScalar($0)) }
        let digits = (0...9).map { "KEY_\($0)" }
        let functions = (1...12).map { "KEY_F\($0)" }
        let others = [
            "KEY_UP", "KEY_DOWN", "KEY_LEFT", "KEY_RIGHT", "KEY_SPACE", "KEY_ENTER", "KEY_ESC", "KEY_TAB",
            "KEY_LEFTCTRL", "KEY_RIGHTCTRL", "KEY_LEFTSHIFT", "KEY_RIGHTSHIFT", "KEY_LEFTALT", "KEY_RIGHTALT",
            "KEY_LEFTMETA", "KEY_RIGHTMETA", "KEY_PAGEUP", "KEY_PAGEDOWN", "KEY_HOME", "KEY_END",
            "KEY_PLAYPAUSE", "KEY_NEXTSONG", "KEY_PREVIOUSSONG", "KEY_VOLUMEUP", "KEY_VOLUMEDOWN", "KEY_MUTE",
        ]
        for name in letters + digits + functions + others {
            #expect(KeyCode(name: name) != nil, "\(name) missing from the table")
        }
        #expect(Set(KeyCode.allNames).count == KeyCode.allNames.count)
    }

    @Test("chords parse in order, with spaces around +; descriptions round-trip")
    func chords() throws {
        let chord = try KeyChord.parse("KEY_LEFTCTRL + KEY_LEFTSHIFT+KEY_T")
        #expect(chord.keys.map(\.rawValue) == [29, 42, 20])
        #expect(chord.description == "KEY_LEFTCTRL+KEY_LEFTSHIFT+KEY_T")
        #expect(try KeyChord.parse(chord.description) == chord)
        #expect(try KeyChord.parse("KEY_UP").keys == [.up])
        #expect(KeyCode(rawValue: 999).description == "key code 999")
    }

    @Test("an unknown name is an error naming the bad token and the text; close misses get a suggestion")
    func unknownNames() {
        #expect(throws: DaemonError.unknownKeyName(token: "KEY_FOO", text: "KEY_LEFTCTRL+KEY_FOO", suggestion: nil)) {
            try KeyChord.parse("KEY_LEFTCTRL+KEY_FOO")
        }
        let message = DaemonError.unknownKeyName(token: "KEY_FOO", text: "KEY_LEFTCTRL+KEY_FOO", suggestion: nil)
            .description
        #expect(message.contains("\"KEY_FOO\"") && message.contains("KEY_LEFTCTRL+KEY_FOO"))
        #expect(throws: DaemonError.unknownKeyName(token: "up", text: "up", suggestion: "KEY_UP")) {
            try KeyChord.parse("up")
        }
        #expect(throws: DaemonError.unknownKeyName(token: "key_a", text: "KEY_LEFTCTRL+key_a", suggestion: "KEY_A")) {
            try KeyChord.parse("KEY_LEFTCTRL+key_a")
        }
        #expect(
            DaemonError.unknownKeyName(token: "up", text: "up", suggestion: "KEY_UP").description
                .contains("Did you mean KEY_UP?"))
    }

    @Test(
        "empty chords, empty parts and repeated keys are errors naming the text",
        arguments: ["", "  ", "KEY_A+", "+KEY_A", "KEY_A++KEY_B"])
    func emptyParts(text: String) {
        #expect(throws: DaemonError.emptyKeyChord(text: text)) { try KeyChord.parse(text) }
    }

    @Test("the same key twice in a chord is an error naming it")
    func repeatedKey() {
        #expect(throws: DaemonError.repeatedKeyInChord(token: "KEY_A", text: "KEY_A+KEY_B+KEY_A")) {
            try KeyChord.parse("KEY_A+KEY_B+KEY_A")
        }
        #expect(DaemonError.repeatedKeyInChord(token: "KEY_A", text: "KEY_A+KEY_A").description.contains("twice"))
    }
}
