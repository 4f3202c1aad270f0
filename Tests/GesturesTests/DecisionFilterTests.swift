// DecisionFilter unit tests beside the behaviour scripts: settings validation and decoding, the
// bad-input rules, the JSON shape of events and states, and a seeded random run that checks the
// hold invariants (one key at a time, downs and ups alternate per label) on hostile input.

import Foundation
import NeuralNet
import Testing

@testable import Gestures

@Suite struct DecisionFilterTests {
    private static let milliseconds: UInt64 = 1_000_000

    @Test func defaultsAreValidAndDocumented() throws {
        let settings = DecisionFilterSettings.default
        #expect(settings.enterThreshold == 0.8 && settings.exitThreshold == 0.6)
        #expect(settings.dwellMilliseconds == 120 && settings.refractoryMilliseconds == 200)
        #expect(settings.smoothingTimeConstantMilliseconds == 0 && settings.staleInputTimeoutMilliseconds == 500)
        try settings.validate(for: .standard)
        try settings.validate(for: .directionsOnly)
    }

    /// (settings change, field the error must name)
    static let invalidSettings: [(String, @Sendable (inout DecisionFilterSettings) -> Void, String)] = [
        ("enter 0", { $0.enterThreshold = 0 }, "enterThreshold"),
        ("enter above 1", { $0.enterThreshold = 1.2 }, "enterThreshold"),
        ("enter NaN", { $0.enterThreshold = .nan }, "enterThreshold"),
        ("exit 0", { $0.exitThreshold = 0 }, "exitThreshold"),
        ("exit equals enter", { $0.exitThreshold = 0.8 }, "exitThreshold"),
        ("exit above enter", { $0.exitThreshold = 0.9 }, "exitThreshold"),
        ("left enter below exit", { $0.enterThresholdByLabel["left"] = 0.5 }, "enterThresholdByLabel.left"),
        ("left exit above enter", { $0.exitThresholdByLabel["left"] = 0.85 }, "exitThresholdByLabel.left"),
        ("left enter above 1", { $0.enterThresholdByLabel["left"] = 1.5 }, "enterThresholdByLabel.left"),
        ("negative dwell", { $0.dwellMilliseconds = -1 }, "dwellMilliseconds"),
        ("huge refractory", { $0.refractoryMilliseconds = 10_001 }, "refractoryMilliseconds"),
        ("huge smoothing", { $0.smoothingTimeConstantMilliseconds = 5_001 }, "smoothingTimeConstantMilliseconds"),
        ("zero stale timeout", { $0.staleInputTimeoutMilliseconds = 0 }, "staleInputTimeoutMilliseconds"),
    ]

    @Test(arguments: 0..<invalidSettings.count)
    func invalidSettingsNameTheFieldAndRange(index: Int) {
        let (name, change, field) = Self.invalidSettings[index]
        var settings = DecisionFilterSettings.default
        change(&settings)
        do {
            _ = try DecisionFilter(labels: .standard, settings: settings)
            Issue.record("\(name): accepted")
        } catch {
            guard case .invalidFilterSetting(let actualField, _, let allowed) = error else {
                Issue.record("\(name): unexpected \(error)")
                return
            }
            #expect(actualField == field, "\(name)")
            #expect(!allowed.isEmpty)
            #expect(error.description.contains(field) && error.description.contains("allowed"))
        }
    }

    @Test func overrideForAnUnknownLabelIsRefused() {
        let settings = DecisionFilterSettings(enterThresholdByLabel: ["jump": 0.9])
        #expect(throws: GesturesError.unknownLabel(label: "jump", known: LabelSet.standard.names)) {
            try DecisionFilter(labels: .standard, settings: settings)
        }
    }

    @Test func settingsDecodePartialJSONAndRoundTrip() throws {
        let partial = #"{"dwellMilliseconds": 90, "enterThresholdByLabel": {"left": 0.9}}"#
        let decoded = try JSONDecoder().decode(DecisionFilterSettings.self, from: Data(partial.utf8))
        var expected = DecisionFilterSettings.default
        expected.dwellMilliseconds = 90
        expected.enterThresholdByLabel = ["left": 0.9]
        #expect(decoded == expected)
        #expect(decoded.enterThreshold(for: "left") == 0.9 && decoded.enterThreshold(for: "up") == 0.8)
        let again = try JSONDecoder().decode(DecisionFilterSettings.self, from: JSONEncoder().encode(decoded))
        #expect(again == decoded)
    }

    @Test func wrongLengthThrowsAndChangesNothing() throws {
        var filter = try DecisionFilter(labels: .standard)
        _ = try filter.update(probabilities: [0.9, 0.025, 0.025, 0.025, 0.025], atNanoseconds: 0)
        #expect(filter.state == .arming(label: "up", sinceNanoseconds: 0))
        #expect(throws: GesturesError.probabilityCountMismatch(expected: 5, got: 4)) {
            try filter.update(probabilities: [0.9, 0, 0, 0.1], atNanoseconds: 33 * Self.milliseconds)
        }
        #expect(filter.state == .arming(label: "up", sinceNanoseconds: 0))
        let events = try filter.update(
            probabilities: [0.9, 0.025, 0.025, 0.025, 0.025],
            atNanoseconds: 120 * Self.milliseconds)
        #expect(events == [.down("up", atNanoseconds: 120 * Self.milliseconds)])
        #expect(filter.heldLabel == "up")
    }

    @Test func zeroDwellPressesOnTheFirstQualifyingFrame() throws {
        var filter = try DecisionFilter(labels: .standard, settings: DecisionFilterSettings(dwellMilliseconds: 0))
        let events = try filter.update(probabilities: [0.02, 0.02, 0.9, 0.02, 0.04], atNanoseconds: 5)
        #expect(events == [.down("left", atNanoseconds: 5)])
        #expect(filter.state == .holding(label: "left", sinceNanoseconds: 5))
    }

    @Test func keyEventsAndStatesEncodeAsReadableJSON() throws {
        let event = KeyEvent.down("up", atNanoseconds: 150_000_000)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(event), as: UTF8.self)
        #expect(json == #"{"atNanoseconds":150000000,"kind":"down","label":"up"}"#)
        #expect(try JSONDecoder().decode(KeyEvent.self, from: Data(json.utf8)) == event)
        #expect(event.description == "down up @150ms")
        #expect(KeyEvent.up("left", atNanoseconds: 150_500_000).description == "up left @150.5ms")
        let state = FilterState.holding(label: "up", sinceNanoseconds: 1)
        #expect(try JSONDecoder().decode(FilterState.self, from: encoder.encode(state)) == state)
    }

    @Test func advanceBeforeTheLastFrameDoesNothing() throws {
        var filter = try DecisionFilter(labels: .standard, settings: DecisionFilterSettings(dwellMilliseconds: 0))
        let second = 1_000 * Self.milliseconds
        _ = try filter.update(probabilities: [0.9, 0.025, 0.025, 0.025, 0.025], atNanoseconds: second)
        #expect(filter.advance(toNanoseconds: 10 * Self.milliseconds).isEmpty)
        #expect(filter.heldLabel == "up")
        let stale = second + 500 * Self.milliseconds
        #expect(filter.advance(toNanoseconds: stale) == [.up("up", atNanoseconds: stale)])
    }

    /// Seeded random input with every hazard (noise, NaN, wrong time order, gaps, ticks, releaseAll):
    /// the event stream must alternate down/up, never hold two keys, never press idle, and releaseAll
    /// must leave nothing held.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func holdInvariantsOnHostileInput(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let labels = LabelSet.standard
        var filter = try DecisionFilter(
            labels: labels,
            settings: DecisionFilterSettings(
                dwellMilliseconds: Int(random.next() % 150),
                refractoryMilliseconds: Int(random.next() % 250),
                smoothingTimeConstantMilliseconds: Int(random.next() % 2) * 60))
        var time: UInt64 = 1_000 * Self.milliseconds
        var held: String?
        var downs = 0
        var favourite = 0
        for _ in 0..<20_000 {
            var events: [KeyEvent]
            let roll = random.next() % 1000
            switch roll {
            case 0..<5:
                time -= min(time, random.next() % (300 * Self.milliseconds))
                events = try filter.update(probabilities: [0.2, 0.2, 0.2, 0.2, 0.2], atNanoseconds: time)
            case 5..<10:
                time += random.next() % (900 * Self.milliseconds)
                events = filter.advance(toNanoseconds: time)
            case 10..<13:
                events = filter.releaseAll(atNanoseconds: time)
                #expect(filter.heldLabel == nil && filter.state == .idle)
            default:
                time += 20 * Self.milliseconds + random.next() % (30 * Self.milliseconds)
                if random.next() % 20 == 0 { favourite = Int(random.next() % 5) }
                var probabilities = (0..<5).map { _ in random.nextFloat(in: 0...0.2) }
                probabilities[favourite] = random.nextFloat(in: 0.4...1)
                if roll < 20 { probabilities[Int(random.next() % 5)] = .nan }
                events = try filter.update(probabilities: probabilities, atNanoseconds: time)
            }
            #expect(events.count <= 2)
            for event in events {
                #expect(event.label != LabelSet.idle)
                switch event.kind {
                case .down:
                    #expect(held == nil, "down \(event.label) while \(held ?? "") is held")
                    held = event.label
                    downs += 1
                case .up:
                    #expect(held == event.label, "up \(event.label) while \(held ?? "nothing") is held")
                    held = nil
                }
            }
            #expect(filter.heldLabel == held)
        }
        #expect(downs > 10, "the random run should press keys to be meaningful")
    }
}
