// DecisionFilter behaviour scripts: a tiny parser and runner for FilterScripts/*.txt (virtual time:
// timestamped probabilities in, expected key events out), after keyd's t/*.t. One parameterised
// test runs every script; a mismatch prints the expected and actual event lists side by side.
// Script format: FilterScripts/README.md.

import Foundation
import Testing

@testable import Gestures

/// One parsed script: settings, labels, steps and the expected events.
struct FilterScript {
    enum Step {
        /// `update(probabilities:atNanoseconds:)`.
        case frame(atNanoseconds: UInt64, probabilities: [Float], line: Int)
        /// `advance(toNanoseconds:)`.
        case tick(atNanoseconds: UInt64, line: Int)
        /// `releaseAll(atNanoseconds:)`.
        case releaseAll(atNanoseconds: UInt64, line: Int)
        /// The filter state's description must start with `prefix`.
        case state(prefix: String, line: Int)
    }

    var settings = DecisionFilterSettings.default
    var labels = LabelSet.standard
    var steps: [Step] = []
    var expected: [KeyEvent] = []

    struct ParseError: Error, CustomStringConvertible {
        let file: String
        let line: Int
        let message: String
        var description: String { "\(file):\(line): \(message)" }
    }

    /// Parses `text`; errors carry file:line.
    init(parsing text: String, file: String) throws {
        var inExpect = false
        var sawExpect = false
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = offset + 1
            func fail(_ message: String) -> ParseError { ParseError(file: file, line: lineNumber, message: message) }
            let line =
                rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first
                .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            if line.isEmpty { continue }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if inExpect {
                if words == ["none"] { continue }
                guard words.count == 3, let kind = KeyEvent.Kind(rawValue: words[0]), words[2].hasPrefix("@"),
                    let time = Self.parseTime(String(words[2].dropFirst()))
                else { throw fail("expected 'down|up LABEL @TIME' or 'none', found '\(line)'") }
                expected.append(KeyEvent(kind, words[1], atNanoseconds: time))
                continue
            }
            switch words[0] {
            case "expect":
                inExpect = true
                sawExpect = true
            case "settings":
                for word in words.dropFirst() { try applySetting(word, fail: fail) }
            case "labels":
                do { labels = try LabelSet(Array(words.dropFirst())) } catch { throw fail("\(error)") }
            case "state":
                steps.append(.state(prefix: words.dropFirst().joined(separator: " "), line: lineNumber))
            default:
                try parseTimedLine(words, line: lineNumber, fail: fail)
            }
        }
        if !sawExpect { throw ParseError(file: file, line: 0, message: "no 'expect' section") }
    }

    private mutating func applySetting(_ word: String, fail: (String) -> ParseError) throws {
        let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw fail("expected KEY=VALUE in settings, found '\(word)'") }
        let (key, value) = (parts[0], parts[1])
        func milliseconds() throws -> Int {
            guard let time = Self.parseTime(value), time % 1_000_000 == 0 else {
                throw fail("\(key) needs a whole number of milliseconds like 120ms, found '\(value)'")
            }
            return Int(time / 1_000_000)
        }
        func threshold() throws -> Float {
            guard let number = Float(value) else { throw fail("\(key) needs a number, found '\(value)'") }
            return number
        }
        switch key {
        case "enter": settings.enterThreshold = try threshold()
        case "exit": settings.exitThreshold = try threshold()
        case "dwell": settings.dwellMilliseconds = try milliseconds()
        case "refractory": settings.refractoryMilliseconds = try milliseconds()
        case "smoothing": settings.smoothingTimeConstantMilliseconds = try milliseconds()
        case "stale": settings.staleInputTimeoutMilliseconds = try milliseconds()
        default:
            if key.hasPrefix("enter.") {
                settings.enterThresholdByLabel[String(key.dropFirst(6))] = try threshold()
            } else if key.hasPrefix("exit.") {
                settings.exitThresholdByLabel[String(key.dropFirst(5))] = try threshold()
            } else {
                throw fail(
                    "unknown setting '\(key)': use enter, exit, dwell, refractory, smoothing, stale, "
                        + "enter.LABEL, exit.LABEL")
            }
        }
    }

    /// `TIME tick`, `TIME release-all`, `TIME SPEC` or `START..END every STEP SPEC | SPEC …`.
    private mutating func parseTimedLine(_ words: [String], line: Int, fail: (String) -> ParseError) throws {
        let timeWord = words[0]
        if let range = timeWord.range(of: "..") {
            guard let start = Self.parseTime(String(timeWord[..<range.lowerBound])),
                let end = Self.parseTime(String(timeWord[range.upperBound...])),
                words.count >= 4, words[1] == "every", let step = Self.parseTime(words[2]), step > 0, end >= start
            else {
                let found = words.joined(separator: " ")
                throw fail("expected 'START..END every STEP SPEC [| SPEC …]', found '\(found)'")
            }
            let specs = words.dropFirst(3).joined(separator: " ").split(separator: "|")
                .map { $0.split(separator: " ").map(String.init) }
            let vectors = try specs.map { try probabilities($0, fail: fail) }
            var time = start
            var index = 0
            while time <= end {
                steps.append(.frame(atNanoseconds: time, probabilities: vectors[index % vectors.count], line: line))
                time += step
                index += 1
            }
            return
        }
        guard let time = Self.parseTime(timeWord) else {
            throw fail(
                "expected a time like 150ms or 1.5s, or a directive (settings, labels, state, expect), "
                    + "found '\(timeWord)'")
        }
        switch words.count > 1 ? words[1] : "" {
        case "tick": steps.append(.tick(atNanoseconds: time, line: line))
        case "release-all": steps.append(.releaseAll(atNanoseconds: time, line: line))
        case "": throw fail("expected LABEL=P…, tick or release-all after the time")
        default:
            let vector = try probabilities(Array(words.dropFirst()), fail: fail)
            steps.append(.frame(atNanoseconds: time, probabilities: vector, line: line))
        }
    }

    /// `up=0.9 left=0.05`: the named labels get their values; the rest share what is left of 1 (finite
    /// values only) equally, never below 0.
    private func probabilities(_ pairs: [String], fail: (String) -> ParseError) throws -> [Float] {
        var values = [Float?](repeating: nil, count: labels.count)
        for pair in pairs {
            let parts = pair.split(separator: "=").map(String.init)
            guard parts.count == 2, let value = Float(parts[1]) else { throw fail("expected LABEL=P, found '\(pair)'") }
            guard let index = labels.names.firstIndex(of: parts[0]) else {
                throw fail("unknown label '\(parts[0])'; labels are \(labels)")
            }
            values[index] = value
        }
        guard values.contains(where: { $0 != nil }) else { throw fail("a frame needs at least one LABEL=P") }
        let given = values.compactMap { $0 }.filter(\.isFinite).reduce(0, +)
        let unnamed = values.filter { $0 == nil }.count
        let share = unnamed == 0 ? 0 : max(0, 1 - given) / Float(unnamed)
        return values.map { $0 ?? share }
    }

    /// `150ms`, `1.5s`, `250us`, `40ns` → nanoseconds.
    static func parseTime(_ text: String) -> UInt64? {
        let units: [(String, Double)] = [("ms", 1e6), ("us", 1e3), ("ns", 1), ("s", 1e9)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast(suffix.count)), number >= 0, number.isFinite else { return nil }
            return UInt64((number * scale).rounded())
        }
        return nil
    }

    /// Runs the script on a fresh filter; returns the events and any failed state checks or errors.
    func run() throws -> (events: [KeyEvent], problems: [String]) {
        var filter = try DecisionFilter(labels: labels, settings: settings)
        var events: [KeyEvent] = []
        var problems: [String] = []
        for step in steps {
            switch step {
            case .frame(let time, let probabilities, let line):
                do { events += try filter.update(probabilities: probabilities, atNanoseconds: time) } catch {
                    problems.append("line \(line): update threw \(error)")
                }
            case .tick(let time, _): events += filter.advance(toNanoseconds: time)
            case .releaseAll(let time, _): events += filter.releaseAll(atNanoseconds: time)
            case .state(let prefix, let line):
                if !filter.state.description.hasPrefix(prefix) {
                    problems.append("line \(line): expected state '\(prefix)…', actual '\(filter.state)'")
                }
            }
        }
        return (events, problems)
    }
}

@Suite struct DecisionFilterScriptTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("FilterScripts")
    static let scriptNames: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
        .filter { $0.hasSuffix(".txt") }.sorted()

    @Test("filter scripts exist (a missing folder would silently run zero scripts)")
    func scriptsArePresent() {
        #expect(Self.scriptNames.count >= 11, "found \(Self.scriptNames) in \(Self.directory.path)")
    }

    @Test("filter script", arguments: scriptNames)
    func script(name: String) throws {
        let text = try String(contentsOf: Self.directory.appendingPathComponent(name), encoding: .utf8)
        let script = try FilterScript(parsing: text, file: name)
        #expect(!script.steps.isEmpty, "\(name) has no steps")
        let (events, problems) = try script.run()
        for problem in problems { Issue.record("\(name): \(problem)") }
        if events != script.expected {
            let width = ((script.expected + events).map(\.description.count).max() ?? 0) + 3
            var lines = [
                "\(name): events differ",
                "expected".padding(toLength: width + 2, withPad: " ", startingAt: 0)
                    + "actual",
            ]
            for index in 0..<max(events.count, script.expected.count) {
                let expected = index < script.expected.count ? script.expected[index].description : "—"
                let actual = index < events.count ? events[index].description : "—"
                let marker = expected == actual ? "  " : "≠ "
                lines.append(marker + expected.padding(toLength: width, withPad: " ", startingAt: 0) + actual)
            }
            Issue.record(Comment(rawValue: lines.joined(separator: "\n")))
        }
    }

    @Test func parserReportsFileAndLine() {
        #expect(throws: FilterScript.ParseError.self) {
            try FilterScript(parsing: "labels up down idle\n0ms jump=0.9\nexpect\nnone\n", file: "x.txt")
        }
        do {
            _ = try FilterScript(parsing: "0ms up=0.9\nsoon up=0.9\nexpect\n", file: "bad.txt")
            Issue.record("a bad time parsed")
        } catch let error as FilterScript.ParseError {
            #expect(error.description.hasPrefix("bad.txt:2: "))
        } catch { Issue.record("unexpected \(error)") }
        #expect(FilterScript.parseTime("1.5s") == 1_500_000_000)
        #expect(FilterScript.parseTime("120ms") == 120_000_000)
        #expect(FilterScript.parseTime("ms") == nil)
    }
}
