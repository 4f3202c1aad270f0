// ConfigRendering: writes a `GesturepadConfig` back out by walking `SettingsSchema.keys` — as TOML (the
// sections and keys of Config/gesturepad.toml, optionally each with its one-line doc) or as JSON — for
// `gesturepad config show` and every command's `--print-settings`. Nothing here names a key.
// Invariant (tested): `renderTOML()` read back by `ConfigLoader.parse` gives the same config, no diagnostics.
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
    /// The effective config as TOML, every key written out (an empty `layer` means the model's own); with
    /// `documented`, each key is preceded by its doc, its kind and whether a change needs a restart.
    public func renderTOML(documented: Bool = false) -> String {
        var lines: [String] = []
        for section in SettingsSchema.sections {
            if !lines.isEmpty { lines.append("") }
            lines.append("[\(section)]")
            var subtables: [(SettingKey, [(key: String, value: RenderedValue)])] = []
            for key in SettingsSchema.keys(in: section) {
                let value = render(key)
                if case .table(let inner) = value, key.kind == .labelKeys {
                    if documented { lines.append(Self.comment(key)) }
                    for (label, binding) in inner { lines.append("\(label) = \(Self.toml(binding))") }
                } else if case .table(let inner) = value {
                    subtables.append((key, inner))
                } else {
                    if documented { lines.append(Self.comment(key)) }
                    lines.append("\(key.name) = \(Self.toml(value))")
                }
            }
            for (key, inner) in subtables {
                lines.append("")
                lines.append("[\(section).\(key.name)]")
                if documented { lines.append(Self.comment(key)) }
                for (innerKey, innerValue) in inner { lines.append("\(innerKey) = \(Self.toml(innerValue))") }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The effective config as JSON with the TOML's section and key names (sorted keys, two-space indent).
    public func renderJSON() -> String {
        let sections = SettingsSchema.sections.map { section in
            let entries: [(key: String, value: RenderedValue)] = SettingsSchema.keys(in: section).flatMap { key in
                let value = render(key)
                if key.kind == .labelKeys, case .table(let inner) = value { return inner }
                return [(key: key.name, value: value)]
            }
            return (key: section, value: RenderedValue.table(entries))
        }
        return Self.json(.table(sections), indent: "") + "\n"
    }

    /// `# doc (kind; default …; reload|restart)` for `config show --doc`.
    static func comment(_ key: SettingKey) -> String {
        let applies = key.application == .reload ? "applies on reload" : "needs a restart"
        return "# \(key.doc) (\(key.kind.summary); \(applies))"
    }

    /// The value of `key` in this config, ready to print; label tables follow the label order.
    func render(_ key: SettingKey) -> RenderedValue {
        let value = key.read(self)
        switch value {
        case .integer(let number): return .integer(number)
        case .number(let number):
            if case .number(_, single: true) = key.kind { return .float("\(Float(number))") }
            return .float("\(number)")
        case .boolean(let flag): return .boolean(flag)
        case .text(let text): return .string(text)
        case .texts(let texts): return .strings(texts)
        case .binding(let binding): return .string(binding.description)
        case .labelNumbers(let map):
            return .table(labels.names.compactMap { label in map[label].map { (key: label, .float("\(Float($0))")) } })
        case .labelKeys(let map):
            return .table(labels.names.compactMap { label in map[label].map { (key: label, .string($0.description)) } })
        }
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
