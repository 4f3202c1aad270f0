// ControlProtocol without sockets: request decoding for every command and every error kind, request
// lines round-tripping, reply and event encoding (envelope fields, flattened event payloads).
import Foundation
import Testing

@testable import Daemon

@Suite("Control protocol")
struct ControlProtocolTests {
    static let validRequests: [(String, ControlRequest)] = [
        (#"{"cmd":"status"}"#, .status),
        (#"{"cmd":"subscribe"}"#, .subscribe),
        (#"{"cmd":"pause"}"#, .pause),
        (#"{"cmd":"resume"}"#, .resume),
        (#"{"cmd":"record","label":"up","seconds":2.5}"#, .record(label: "up", seconds: 2.5)),
        (#"{"cmd":"record","label":"left"}"#, .record(label: "left", seconds: ControlProtocol.defaultRecordSeconds)),
        (#"{"cmd":"record","label":"down","seconds":600}"#, .record(label: "down", seconds: 600)),
        (#"{"cmd":"train"}"#, .train),
        (#"{"cmd":"samples"}"#, .samples),
        (#"{"cmd":"reload"}"#, .reload),
        (#"{"cmd":"version"}"#, .version),
        (#"  {"v":1, "cmd":"status", "future":"ignored"}  "#, .status),
        ("{\"cmd\":\"pause\"}\r", .pause),
    ]

    @Test("every command decodes", arguments: validRequests)
    func decodesCommand(line: String, expected: ControlRequest) throws {
        #expect(try ControlRequest(line: Array(line.utf8)) == expected)
    }

    static let invalidRequests: [(String, ControlProtocolError)] = [
        ("", .notJSON),
        ("status", .notJSON),
        (#"{"cmd":"status""#, .notJSON),
        ("[1,2]", .notAnObject(found: "array")),
        ("42", .notAnObject(found: "number")),
        (#""status""#, .notAnObject(found: "string")),
        ("null", .notAnObject(found: "null")),
        (#"{"command":"status"}"#, .missingCommand),
        (#"{"cmd":"launch"}"#, .unknownCommand("launch")),
        (#"{"cmd":7}"#, .wrongFieldType(field: "cmd", expected: "string")),
        (#"{"cmd":"record"}"#, .missingField(command: "record", field: "label")),
        (#"{"cmd":"record","label":5}"#, .wrongFieldType(field: "label", expected: "string")),
        (#"{"cmd":"record","label":"up","seconds":"5"}"#, .wrongFieldType(field: "seconds", expected: "number")),
        (#"{"cmd":"record","label":"up","seconds":true}"#, .wrongFieldType(field: "seconds", expected: "number")),
        (
            #"{"cmd":"record","label":"up","seconds":0}"#,
            .outOfRange(field: "seconds", value: "0.0", allowed: "0 < seconds ≤ 600")
        ),
        (
            #"{"cmd":"record","label":"up","seconds":-1}"#,
            .outOfRange(field: "seconds", value: "-1.0", allowed: "0 < seconds ≤ 600")
        ),
        (
            #"{"cmd":"record","label":"up","seconds":600.5}"#,
            .outOfRange(field: "seconds", value: "600.5", allowed: "0 < seconds ≤ 600")
        ),
        (
            #"{"cmd":"record","label":"  "}"#,
            .outOfRange(field: "label", value: "  ", allowed: "1 to 64 bytes, not blank")
        ),
        (#"{"v":2,"cmd":"status"}"#, .unsupportedVersion(requested: "2.0", supported: 1)),
        (#"{"v":"1","cmd":"status"}"#, .wrongFieldType(field: "v", expected: "number")),
    ]

    @Test("every error kind is reported with its code", arguments: invalidRequests)
    func rejectsRequest(line: String, expected: ControlProtocolError) {
        #expect(throws: expected) { try ControlRequest(line: Array(line.utf8)) }
        #expect(!expected.code.isEmpty && !expected.description.isEmpty)
    }

    @Test func rejectsLineLongerThanTheLimit() {
        let line = [UInt8](repeating: UInt8(ascii: " "), count: ControlProtocol.maximumLineBytes + 1)
        #expect(throws: ControlProtocolError.lineTooLong(bytes: line.count, limit: ControlProtocol.maximumLineBytes)) {
            try ControlRequest(line: line)
        }
    }

    @Test func rejectsInvalidUTF8AndDeepNesting() {
        #expect(throws: ControlProtocolError.notJSON) { try ControlRequest(line: [0x7B, 0xFF, 0xFE, 0x7D]) }
        let deep = String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000)
        #expect(throws: ControlProtocolError.self) { try ControlRequest(line: Array(deep.utf8)) }
    }

    @Test("request lines round-trip", arguments: validRequests.map(\.1))
    func requestLineRoundTrips(request: ControlRequest) throws {
        let line = request.jsonLine
        #expect(line.hasSuffix("\n") && line.filter { $0 == "\n" }.count == 1)
        #expect(try ControlRequest(line: Array(line.dropLast().utf8)) == request)
    }

    @Test func successReplyCarriesVersionOkCommandAndResult() throws {
        let status = DaemonStatus(
            state: .running, source: "/dev/video0", headVersion: 3, labels: ["up", "down"], fps: 29.5,
            latency: ["embed": StageLatency(p50Milliseconds: 4, p95Milliseconds: 6.5, count: 100)])
        let line = ControlProtocol.successLine(command: "status", result: status)
        let object = try jsonObject(line)
        #expect(object["v"] as? Int == 1)
        #expect(object["ok"] as? Bool == true)
        #expect(object["cmd"] as? String == "status")
        #expect(object["error"] == nil)
        let response = try ControlResponse(line: String(line.dropLast()))
        #expect(try response.result(DaemonStatus.self) == status)
    }

    @Test func failureReplyCarriesErrorAndCode() throws {
        let line = ControlProtocol.failureLine(.unknownCommand("jump"))
        let object = try jsonObject(line)
        #expect(object["v"] as? Int == 1)
        #expect(object["ok"] as? Bool == false)
        #expect(object["code"] as? String == "unknown_command")
        #expect((object["error"] as? String)?.contains("jump") == true)
        let response = try ControlResponse(line: String(line.dropLast()))
        #expect(
            throws: DaemonError.controlCommandFailed(
                command: "request", code: "unknown_command",
                message: ControlProtocolError.unknownCommand("jump").description)
        ) {
            try response.check()
        }
    }

    @Test func emptySuccessReplyHasNoResult() throws {
        #expect(ControlProtocol.successLine(command: "reload") == #"{"cmd":"reload","ok":true,"v":1}"# + "\n")
    }

    static let events: [ControlEvent] = [
        .prediction(
            PredictionEvent(
                time: 1.5, labels: ["up", "down"], probabilities: [0.9, 0.1], top: "up", confidence: 0.9,
                filter: "holding up since 1.200 s")),
        .key(KeyEventPayload(time: 2, action: .down, label: "up", keys: ["KEY_UP"])),
        .key(KeyEventPayload(time: 3, action: .up, label: "up", keys: ["KEY_UP"], reason: "pause")),
        .state(StateEventPayload(state: .paused, reason: "user")),
        .training(TrainingEventPayload(phase: "epoch", epoch: 3, epochs: 20, loss: 0.25, accuracy: 0.9)),
        .dropped(reason: "slow subscriber"),
    ]

    @Test("events encode flat with v and event, and decode back", arguments: events)
    func eventRoundTrips(event: ControlEvent) throws {
        let line = event.jsonLine
        let object = try jsonObject(line)
        #expect(object["v"] as? Int == 1)
        #expect(object["event"] as? String == event.kind)
        if case .prediction = event { #expect(object["top"] as? String == "up") }
        if case .key(let key) = event { #expect(object["action"] as? String == key.action.rawValue) }
        #expect(ControlEventLine(line: String(line.dropLast())).event == event)
    }

    @Test func nonFiniteNumbersStillEncodeOneLine() throws {
        let status = DaemonStatus(state: .running, source: "x", fps: .nan)
        let line = ControlProtocol.successLine(command: "status", result: status)
        #expect(try ControlResponse(line: String(line.dropLast())).result(DaemonStatus.self).fps.isNaN)
    }

    private func jsonObject(_ line: String) throws -> [String: Any] {
        #expect(line.hasSuffix("\n"))
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }
}
