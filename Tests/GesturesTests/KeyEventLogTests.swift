// KeyEventLog tests: a live run's key log parses into KeyEvents that ReplayScorer scores like a replay
// (hits, a false press, a missed gesture), the text form round-trips, and every malformed line is
// rejected with its file:line and what was expected.

import Testing

@testable import Gestures

@Suite struct KeyEventLogTests {
    @Test func parsesAndScoresWithTheReplayRules() throws {
        let truth = try TruthTimeline(
            parsing: "0 idle\n2 up\n5 idle\n7 left\n10 idle\n12 right\n15 idle\n", labels: .standard)
        let log = """
            # evdev log of a live run
            3.1 down up
            4.0 up up
            8.2 down left   # the prompt said left
            9.9 up left
            10.5 down down
            10.9 up down
            """
        let events = try KeyEventLog.parse(log, labels: .standard, file: "run.keys")
        #expect(events.count == 6)
        #expect(events[0] == .down("up", atNanoseconds: 3_100_000_000))
        #expect(try KeyEventLog.parse(KeyEventLog.text(events), labels: .standard) == events)
        var scorer = ReplayScorer(truth: truth)
        scorer.addEvents(events)
        let report = scorer.report(clipEndNanoseconds: 16_000_000_000)
        // up and left hit (1.1 s and 1.2 s after their starts); right (12–15 s) is missed; "down" at 10.5 s is false.
        #expect(report.gestures == 3)
        #expect(report.missedGestures == 1)
        #expect(report.missedGestureList.map(\.label) == ["right"])
        #expect(report.falsePresses == 1)
        #expect(report.falsePressList.first?.label == "down")
        #expect(report.timeToTriggerP50Milliseconds == 1100)
        #expect(report.timeToTriggerP95Milliseconds == 1200)
    }

    @Test(arguments: [
        ("1.0 down", 1, "expected '<seconds> down|up <label>'"),
        ("x down up", 1, "'x' is not a time in seconds"),
        ("-1 down up", 1, "is not a time in seconds ≥ 0"),
        ("1 press up", 1, "'press' is neither 'down' nor 'up'"),
        ("1 down jump", 1, "unknown label 'jump'"),
        ("2 down up\n1 up up", 2, "times must not decrease"),
        ("1 down up\n2 down up", 2, "goes down again without an 'up'"),
        ("# comment\n\n3 up left", 3, "goes up without having gone down"),
    ])
    func rejectsMalformedLines(text: String, line: Int, message: String) {
        do {
            _ = try KeyEventLog.parse(text, labels: .standard, file: "bad.keys")
            Issue.record("accepted \(text)")
        } catch {
            guard case .keyLogSyntax(let file, let errorLine, let errorMessage) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(file == "bad.keys" && errorLine == line)
            #expect(errorMessage.contains(message), "\(errorMessage)")
            #expect(error.description.hasPrefix("bad.keys:\(line): "))
        }
    }
}
