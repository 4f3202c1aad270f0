// ConfigRendering: writes a `GesturepadConfig` back out as TOML (same sections and keys as
// Config/gesturepad.toml, without the comments) or as JSON, for `gesturepad config show`.
// Invariant (tested): `renderTOML()` read back by `ConfigLoader.parse` gives the same config, no diagnostics.
import Capture
import Foundation

/// One rendered value; floats keep their shortest decimal form (0.8, not 0.800000011920929).
enum RenderedValue {
    case string(String)
    case integer(Int)
    case float(String)
    case boolean(Bool)
    case strings([String])
    case table([(key: String, value: RenderedValue)])
}

extension GesturepadConfig {
    /// The effective config as TOML, every key written out (an empty `layer` means the model's own).
    public func renderTOML() -> String {
        var lines: [String] = []
        for (section, entries) in renderSections() {
            if !lines.isEmpty { lines.append("") }
            lines.append("[\(section)]")
            var subtables: [(String, [(key: String, value: RenderedValue)])] = []
            for (key, value) in entries {
                if case .table(let inner) = value {
                    subtables.append((key, inner))
                } else {
                    lines.append("\(key) = \(Self.toml(value))")
                }
            }
            for (key, inner) in subtables {
                lines.append("")
                lines.append("[\(section).\(key)]")
                for (innerKey, innerValue) in inner { lines.append("\(innerKey) = \(Self.toml(innerValue))") }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The effective config as JSON with the TOML's section and key names (sorted keys, two-space indent).
    public func renderJSON() -> String {
        let sections = renderSections().map { (key: $0.section, value: RenderedValue.table($0.entries)) }
        return Self.json(.table(sections), indent: "") + "\n"
    }

    /// Sections in file order, each key with its effective value.
    func renderSections() -> [(section: String, entries: [(key: String, value: RenderedValue)])] {
        let exposureMode: ExposureMode
        var exposureTime = Self.defaultExposureTime100Microseconds
        var allowDrop = false
        switch camera.exposure {
        case .unchanged: exposureMode = .unchanged
        case .automatic(let allowFrameRateDrop):
            exposureMode = .auto
            allowDrop = allowFrameRateDrop
        case .manual(let hundredMicroseconds):
            exposureMode = .manual
            exposureTime = hundredMicroseconds
        }
        func float(_ value: Float) -> RenderedValue { .float("\(value)") }
        func float(_ value: Double) -> RenderedValue { .float("\(value)") }
        func thresholds(_ map: [String: Float]) -> RenderedValue {
            .table(labels.names.compactMap { label in map[label].map { (key: label, value: float($0)) } })
        }
        return [
            (
                "camera",
                [
                    ("device", .string(camera.device)), ("width", .integer(camera.width)),
                    ("height", .integer(camera.height)), ("fps", .integer(camera.framesPerSecond)),
                    ("pixel_format", .string(camera.pixelFormat.rawValue)),
                    ("buffer_count", .integer(camera.bufferCount)),
                    ("mirror", .boolean(mirror)), ("exposure", .string(exposureMode.rawValue)),
                    ("exposure_time_100us", .integer(exposureTime)), ("allow_frame_rate_drop", .boolean(allowDrop)),
                ]
            ),
            ("model", [("name", .string(modelName)), ("layer", .string(layer ?? ""))]),
            (
                "labels",
                [
                    ("order", .strings(labels.names.filter { $0 != "idle" })), ("idle", .boolean(labels.hasIdle)),
                ]
            ),
            (
                "keys",
                labels.names.compactMap { label in
                    keys[label].map { (key: label, value: RenderedValue.string($0.description)) }
                }
            ),
            (
                "filter",
                [
                    ("enter", float(filter.enterThreshold)), ("exit", float(filter.exitThreshold)),
                    ("dwell_ms", .integer(filter.dwellMilliseconds)),
                    ("refractory_ms", .integer(filter.refractoryMilliseconds)),
                    ("smoothing_ms", .integer(filter.smoothingTimeConstantMilliseconds)),
                    ("stale_ms", .integer(filter.staleInputTimeoutMilliseconds)),
                    ("enter_by_label", thresholds(filter.enterThresholdByLabel)),
                    ("exit_by_label", thresholds(filter.exitThresholdByLabel)),
                ]
            ),
            (
                "head",
                [
                    ("learning_rate", float(head.learningRate)), ("batch_fraction", float(head.batchSizeFraction)),
                    ("epochs", .integer(head.epochs)), ("hidden_units", .integer(head.hiddenUnits)),
                    ("seed", .integer(Int(clamping: head.seed))),
                ]
            ),
            (
                "recording",
                [
                    ("samples_per_second", float(recording.samplesPerSecond)),
                    ("duplicate_distance", float(recording.duplicateDistance)),
                    ("countdown_seconds", float(recording.countdownSeconds)),
                ]
            ),
            (
                "daemon",
                [
                    ("socket_path", .string(daemon.socketPath ?? "")),
                    ("pause_hotkey", .string(daemon.pauseHotkey?.description ?? "none")),
                    ("dry_run", .boolean(daemon.dryRun)), ("log_level", .string(daemon.logLevel.rawValue)),
                    ("data_directory", .string(daemon.dataDirectory ?? "")),
                ]
            ),
        ]
    }

    /// A TOML basic string with the escapes TOML requires.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    result += String(format: "\\u%04X", scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    static func toml(_ value: RenderedValue) -> String {
        switch value {
        case .string(let text): quoted(text)
        case .integer(let number): "\(number)"
        case .float(let text): text.contains(".") || text.contains("e") ? text : text + ".0"
        case .boolean(let flag): "\(flag)"
        case .strings(let texts): "[" + texts.map(quoted).joined(separator: ", ") + "]"
        case .table(let entries): "{ " + entries.map { "\($0.key) = \(toml($0.value))" }.joined(separator: ", ") + " }"
        }
    }

    static func json(_ value: RenderedValue, indent: String) -> String {
        switch value {
        case .string(let text): return quoted(text)  // TOML basic-string escapes are valid JSON escapes
        case .integer(let number): return "\(number)"
        case .float(let text): return text
        case .boolean(let flag): return "\(flag)"
        case .strings(let texts): return "[" + texts.map(quoted).joined(separator: ", ") + "]"
        case .table(let entries):
            if entries.isEmpty { return "{}" }
            let inner = indent + "  "
            let body = entries.sorted { $0.key < $1.key }.map {
                "\(inner)\(quoted($0.key)): \(json($0.value, indent: inner))"
            }
            return "{\n" + body.joined(separator: ",\n") + "\n\(indent)}"
        }
    }
}
