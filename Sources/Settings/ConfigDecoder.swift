// ConfigDecoder: turns a parsed TOML tree (plus command-line overrides) into a `GesturepadConfig` by
// walking `SettingsSchema.keys`: unknown sections and keys get "did you mean …?", each value is checked
// against its key's kind (type, range, choices, path or key-chord form) and stored with the key's
// `write`. What no single key can check comes after: labels ↔ [keys] and per-label thresholds, the
// filter's hysteresis (exit < enter), and the libraries' own `validate` as a backstop, each reported at
// the line of the offending key. It never stops at the first problem: a bad value is reported and left
// at its default, so all problems of a file come out in one pass. Nothing here names a key: new keys go
// into the schema table only.
import Capture
import Gestures
import NeuralNet

/// A value given on the command line for a config key (`--no-mirror` → `camera.mirror = false`).
public struct ConfigOverride: Sendable, Equatable {
    /// The dotted key, e.g. "camera.mirror".
    public var key: String
    /// The value, as if written in the file.
    public var value: TOMLValue.Kind
    /// The flag that gave it, for messages ("--no-mirror").
    public var flag: String

    public init(_ key: String, _ value: TOMLValue.Kind, flag: String) {
        self.key = key
        self.value = value
        self.flag = flag
    }
}

/// Reads one document into a config plus diagnostics; one instance per file.
struct ConfigDecoder {
    let file: String
    let keyNames: (any KeyNameCatalog)?
    /// Command-line values, which replace the file's.
    let overrides: [ConfigOverride]
    private(set) var diagnostics: [ConfigDiagnostic] = []
    private(set) var config = GesturepadConfig()
    /// Where each key's value starts, by dotted name ("filter.dwell_ms"); sections' headers by their name.
    private var positions: [String: TOMLPosition] = [:]
    /// Labels that passed their checks (used for [keys] and per-label thresholds even when the list has errors).
    private var labelNames = GesturepadConfig().labels.names
    /// Valid names from a `labels.order` that had errors (nil when it had none).
    private var partialLabelOrder: [String]?

    init(file: String, keyNames: (any KeyNameCatalog)?, overrides: [ConfigOverride] = []) {
        self.file = file
        self.keyNames = keyNames
        self.overrides = overrides
    }

    /// Whether the labels come from the command line: label-dependent problems in the file are then warnings
    /// (the file was written for other labels; `gesturepad train --labels a,b` must still run).
    private var labelsOverridden: Bool { overrides.contains { $0.key.hasPrefix("labels.") } }

    // MARK: Reporting

    /// Overridden values carry line 0 and the override's index + 1 as column: they are reported by flag.
    private mutating func report(
        _ severity: ConfigDiagnostic.Severity, _ message: String, at position: TOMLPosition?, hint: String? = nil
    ) {
        if let position, position.line == 0, overrides.indices.contains(position.column - 1) {
            let flag = overrides[position.column - 1].flag
            diagnostics.append(
                ConfigDiagnostic(file: flag, position: nil, severity: severity, message: message, hint: hint))
            return
        }
        diagnostics.append(
            ConfigDiagnostic(file: file, position: position, severity: severity, message: message, hint: hint))
    }

    private mutating func error(_ message: String, at position: TOMLPosition?, hint: String? = nil) {
        report(.error, message, at: position, hint: hint)
    }

    /// An error, or a warning when the labels come from the command line.
    private mutating func labelProblem(_ message: String, at position: TOMLPosition?, hint: String?) {
        if labelsOverridden {
            report(.warning, message + " (ignored with the labels given on the command line)", at: position)
        } else {
            error(message, at: position, hint: hint)
        }
    }

    // MARK: Top level

    /// Decodes `document` (its syntax errors become diagnostics too) and returns the config.
    mutating func decode(_ document: TOMLDocument) -> GesturepadConfig {
        for syntaxError in document.errors {
            error(syntaxError.message, at: syntaxError.position, hint: syntaxError.hint)
        }
        let root = document.root
        checkTopLevel(root)
        for sectionName in SettingsSchema.sections {
            let table = section(sectionName, in: root)
            for key in SettingsSchema.keys(in: sectionName) {
                if key.kind == .labelKeys {
                    decodeKeys(table)
                } else if let value = value(of: key, in: table) {
                    do throws(SettingRejection) {
                        try key.write(&config, value)
                    } catch {
                        let at = error.reportAt.flatMap { positions[$0] } ?? positions[key.dottedName]
                        self.error(error.message, at: at, hint: error.hint)
                    }
                }
            }
            if sectionName == "labels" {
                let order = partialLabelOrder ?? config.labels.names.filter { $0 != LabelSet.idle }
                labelNames = order + (config.labels.hasIdle ? [LabelSet.idle] : [])
            }
        }
        validateFilter()
        backstop("head") { (config) throws(NeuralNetError) in try config.head.validate() }
        backstop("recording") { (config) throws(GesturesError) in try config.recording.validate() }
        backstop("safety") { (config) throws(GesturesError) in try config.lensCover.validate() }
        checkKeyBindings()
        diagnostics.sort { ($0.line ?? 0, $0.column ?? 0) < ($1.line ?? 0, $1.column ?? 0) }
        return config
    }

    private mutating func checkTopLevel(_ root: TOMLTable) {
        let sectionNames = SettingsSchema.sections
        for entry in root.entries where !sectionNames.contains(entry.key) {
            if case .table = entry.value.kind {
                error(
                    "unknown section [\(entry.key)]", at: entry.keyPosition,
                    hint: Spelling.suggestion(for: entry.key, among: sectionNames).map { "did you mean [\($0)]?" }
                        ?? "sections are " + sectionNames.map { "[\($0)]" }.joined(separator: ", "))
            } else {
                let names = SettingsSchema.keys.map(\.name)
                let home =
                    SettingsSchema.keys.first { $0.name == entry.key }?.section
                    ?? Spelling.suggestion(for: entry.key, among: names).flatMap { name in
                        SettingsSchema.keys.first { $0.name == name }?.section
                    }
                error(
                    "key '\(entry.key)' is outside any section", at: entry.keyPosition,
                    hint: home.map { "move it under [\($0)]" } ?? "put each key under its [section]")
            }
        }
    }

    /// The section table `name`, nil when absent or not a table (reported); checks its keys.
    private mutating func section(_ name: String, in root: TOMLTable) -> TOMLTable? {
        guard let entry = root[name] else { return nil }
        guard case .table(let table) = entry.value.kind else {
            error("'\(name)' must be a section ([\(name)]), found a \(entry.value.typeName)", at: entry.keyPosition)
            return nil
        }
        positions[name] = entry.value.position
        let keys = SettingsSchema.keys(in: name)
        guard !keys.contains(where: { $0.kind == .labelKeys }) else { return table }
        let known = keys.map(\.name)
        for entry in table.entries where !known.contains(entry.key) {
            error(
                "unknown key '\(entry.key)' in [\(name)]", at: entry.keyPosition,
                hint: Spelling.suggestion(for: entry.key, among: known).map { "did you mean '\($0)'?" }
                    ?? "keys of [\(name)] are " + known.joined(separator: ", "))
        }
        return table
    }

    // MARK: One key

    /// The value of `key`: its command-line override, else the file's; recording where it was written.
    private mutating func entry(_ table: TOMLTable?, _ key: SettingKey) -> TOMLValue? {
        if let index = overrides.lastIndex(where: { $0.key == key.dottedName }) {
            let position = TOMLPosition(line: 0, column: index + 1)
            positions[key.dottedName] = position
            var kind = overrides[index].value
            if case .array(let elements) = kind {  // elements are reported by flag too
                kind = .array(elements.map { TOMLValue($0.kind, at: position) })
            }
            return TOMLValue(kind, at: position)
        }
        guard let entry = table?[key.name] else { return nil }
        positions[key.dottedName] = entry.value.position
        return entry.value
    }

    /// The checked value of `key` in `table`; nil when absent or wrong (reported).
    private mutating func value(of key: SettingKey, in table: TOMLTable?) -> SettingValue? {
        guard let value = entry(table, key) else { return nil }
        let name = key.dottedName
        switch key.kind {
        case .integer(let bounds):
            guard case .integer(let wide) = value.kind, let number = Int(exactly: wide) else {
                typeError(key, found: value)
                return nil
            }
            guard bounds.contains(Double(number)) else {
                error("\(name) = \(number) is out of range; allowed: \(bounds)", at: value.position)
                return nil
            }
            return .integer(number)
        case .number(let bounds, let single):
            guard let number = Self.number(value) else {
                typeError(key, found: value)
                return nil
            }
            guard bounds.contains(number) else {
                let shown = single ? "\(Float(number))" : "\(number)"
                error("\(name) = \(shown) is out of range; allowed: \(bounds)", at: value.position)
                return nil
            }
            return .number(number)
        case .boolean:
            guard case .boolean(let flag) = value.kind else {
                var hint: String?
                if case .string(let text) = value.kind, text == "true" || text == "false" {
                    hint = "remove the quotes: \(key.name) = \(text)"
                }
                error("\(name) must be true or false, found a \(value.typeName)", at: value.position, hint: hint)
                return nil
            }
            return .boolean(flag)
        case .text(let rule):
            guard let text = string(key, value) else { return nil }
            return checkText(text, rule: rule, key: key, at: value.position).map(SettingValue.text)
        case .choice(let choices):
            guard let text = string(key, value) else { return nil }
            guard choices.contains(text) else {
                error(
                    "\(name) = \"\(text)\" is not one of " + choices.map { "\"\($0)\"" }.joined(separator: ", "),
                    at: value.position,
                    hint: Spelling.suggestion(for: text, among: choices).map { "did you mean \"\($0)\"?" })
                return nil
            }
            return .text(text)
        case .keyChord:
            guard let text = string(key, value) else { return nil }
            return keyBinding(text, at: value.position, what: name).map(SettingValue.binding)
        case .labelOrder:
            return labelOrder(key, value)
        case .labelNumbers(let bounds):
            return labelNumbers(key, value, bounds: bounds)
        case .labelKeys:
            return nil
        }
    }

    /// A float; integers are accepted ("countdown_seconds = 3").
    private static func number(_ value: TOMLValue) -> Double? {
        switch value.kind {
        case .float(let number): number
        case .integer(let number): Double(number)
        default: nil
        }
    }

    private mutating func typeError(_ key: SettingKey, found value: TOMLValue) {
        typeError(key.dottedName, key.name, expected: key.kind.expected, found: value)
    }

    private mutating func typeError(_ name: String, _ key: String, expected: String, found value: TOMLValue) {
        var hint: String?
        if case .string(let text) = value.kind, Int(text) != nil || Double(text) != nil {
            hint = "remove the quotes: \(key) = \(text)"
        } else if case .float(let number) = value.kind, expected == "an integer", number == number.rounded(),
            abs(number) < 1e15
        {
            hint = "write \(key) = \(Int(number))"
        }
        error("\(name) must be \(expected), found a \(value.typeName)", at: value.position, hint: hint)
    }

    private mutating func string(_ key: SettingKey, _ value: TOMLValue) -> String? {
        guard case .string(let text) = value.kind else {
            typeError(key.dottedName, key.name, expected: "a string in quotes", found: value)
            return nil
        }
        return text
    }

    private mutating func checkText(_ text: String, rule: TextRule, key: SettingKey, at position: TOMLPosition)
        -> String?
    {
        switch rule {
        case .any:
            return text
        case .nonEmpty(let message, let hint):
            if text.isEmpty {
                error("\(key.dottedName) \(message)", at: position, hint: hint)
                return nil
            }
            return text
        case .path(let maximumBytes):
            if text.isEmpty { return text }
            guard text.hasPrefix("/") || text.hasPrefix("~/") else {
                error(
                    "\(key.dottedName) = \"\(text)\" must be an absolute path (or start with ~/)", at: position,
                    hint: "the daemon runs from /, so relative paths would not mean what they seem")
                return nil
            }
            if let maximumBytes, text.hasPrefix("/"), text.utf8.count > maximumBytes {
                error(
                    "\(key.dottedName) is \(text.utf8.count) bytes long; a Unix socket path holds at most "
                        + "\(maximumBytes)", at: position, hint: "choose a shorter path")
                return nil
            }
            return text
        }
    }

    /// A key chord; "none" gives `.unbound`.
    private mutating func keyBinding(_ text: String, at position: TOMLPosition, what: String) -> KeyBinding? {
        if text == "none" { return .unbound }
        switch KeyNameChord.parse(text) {
        case .failure(let syntaxError):
            error("\(what): \(syntaxError.message)", at: position, hint: "write \"none\" for no key")
            return nil
        case .success(let chord):
            if let keyNames {
                for name in chord.keyNames where !keyNames.contains(keyName: name) {
                    error(
                        "\(what): unknown key name '\(name)'", at: position,
                        hint: Spelling.suggestion(for: name, among: keyNames.keyNames).map { "did you mean '\($0)'?" })
                    return nil
                }
            }
            return .chord(chord)
        }
    }

    /// Label names: quoted, valid, not "idle", no repeats. With errors, the valid ones still count for [keys].
    private mutating func labelOrder(_ key: SettingKey, _ value: TOMLValue) -> SettingValue? {
        guard case .array(let elements) = value.kind else {
            typeError(key, found: value)
            partialLabelOrder = []
            return nil
        }
        var names: [String] = []
        var firstLine: [String: Int] = [:]
        var valid = true
        for element in elements {
            guard case .string(let name) = element.kind else {
                error(
                    "\(key.dottedName) must list label names in quotes, found a \(element.typeName)",
                    at: element.position)
                valid = false
                continue
            }
            if name == LabelSet.idle {
                error(
                    "'idle' does not go in \(key.dottedName)", at: element.position,
                    hint: "set `idle = true` instead (idle is always the last class)")
                valid = false
            } else if !LabelSet.isValidName(name) {
                error(
                    "label \"\(name)\" is not a valid name: use 1–32 characters from a–z, 0–9, '_' and '-'",
                    at: element.position)
                valid = false
            } else if let line = firstLine[name] {
                error(
                    "label '\(name)' appears twice in \(key.dottedName) (first at line \(line))", at: element.position)
                valid = false
            } else {
                firstLine[name] = element.position.line
                names.append(name)
            }
        }
        if !valid { partialLabelOrder = names }
        return valid ? .texts(names) : nil
    }

    /// `label = number` entries for known labels, each in `bounds`.
    private mutating func labelNumbers(_ key: SettingKey, _ value: TOMLValue, bounds: SettingBounds)
        -> SettingValue?
    {
        guard case .table(let table) = value.kind else {
            typeError(key, found: value)
            return nil
        }
        var result: [String: Double] = [:]
        for entry in table.entries {
            let name = "\(key.dottedName).\(entry.key)"
            positions[name] = entry.value.position
            guard labelNames.contains(entry.key) else {
                labelProblem(
                    "\(name): '\(entry.key)' is not a label", at: entry.keyPosition,
                    hint: Spelling.suggestion(for: entry.key, among: labelNames).map { "did you mean '\($0)'?" }
                        ?? "labels are \(labelNames.joined(separator: ", "))")
                continue
            }
            guard let number = Self.number(entry.value) else {
                typeError(name, entry.key, expected: "a number", found: entry.value)
                continue
            }
            guard bounds.contains(number) else {
                error("\(name) = \(Float(number)) is out of range; allowed: \(bounds)", at: entry.value.position)
                continue
            }
            result[entry.key] = number
        }
        return .labelNumbers(result)
    }

    /// `[keys]`: `label = "KEY_…"` for the labels; the default arrow keys for direction labels not written.
    private mutating func decodeKeys(_ table: TOMLTable?) {
        var keys = GesturepadConfig.defaultKeys.filter { labelNames.contains($0.key) }
        for entry in table?.entries ?? [] {
            positions["keys.\(entry.key)"] = entry.value.position
            if entry.key == LabelSet.idle {
                error("'idle' presses no key", at: entry.keyPosition, hint: "remove this line")
                continue
            }
            if !labelNames.contains(entry.key) {
                let actionLabels = labelNames.filter { $0 != LabelSet.idle }
                labelProblem(
                    "[keys] names '\(entry.key)', which is not a label", at: entry.keyPosition,
                    hint: Spelling.suggestion(for: entry.key, among: actionLabels).map { "did you mean '\($0)'?" }
                        ?? "labels are \(actionLabels.joined(separator: ", ")); add it to labels.order or remove this line"
                )
                continue
            }
            guard case .string(let text) = entry.value.kind else {
                typeError(
                    "keys.\(entry.key)", entry.key, expected: "a key name in quotes (\"KEY_UP\")", found: entry.value)
                keys[entry.key] = .unbound  // reported; do not also report it as missing
                continue
            }
            keys[entry.key] = keyBinding(text, at: entry.value.position, what: "keys.\(entry.key)") ?? .unbound
        }
        config.keys = keys
    }

    // MARK: Cross-checks

    /// Every action label has a key; two labels on one chord, or a label on the pause hotkey, is a warning.
    private mutating func checkKeyBindings() {
        var owner: [Set<String>: String] = [:]
        if let hotkey = config.daemon.pauseHotkey { owner[Set(hotkey.keyNames)] = "daemon.pause_hotkey" }
        for label in labelNames where label != LabelSet.idle {
            guard let binding = config.keys[label] else {
                let at = positions["labels.order"] ?? positions["keys"] ?? positions["labels"]
                if labelsOverridden {
                    report(.warning, "label '\(label)' has no key in [keys]; it presses nothing", at: at)
                    config.keys[label] = KeyBinding.unbound
                } else {
                    error(
                        "label '\(label)' has no key in [keys]", at: at,
                        hint: "add `\(label) = \"KEY_…\"` (or \"none\") under [keys]")
                }
                continue
            }
            guard case .chord(let chord) = binding else { continue }
            let keySet = Set(chord.keyNames)
            if let other = owner[keySet] {
                report(
                    .warning,
                    "keys.\(label) presses \(chord), the same as \(other.hasPrefix("daemon.") ? other : "keys.\(other)")",
                    at: positions["keys.\(label)"] ?? positions["labels.order"],
                    hint: "give each label its own key unless both should do the same")
            } else {
                owner[keySet] = label
            }
        }
    }

    /// Where to report a problem with `key` (dotted): its own line, else the first written fallback, else its section.
    private func position(of key: String, fallbacks: [String] = []) -> TOMLPosition? {
        for name in [key] + fallbacks { if let position = positions[name] { return position } }
        return positions[String(key.prefix { $0 != "." })]
    }

    /// "filter.exit (0.8)" or "filter.exit (0.6, the default)".
    private func describe(_ key: String, _ value: String) -> String {
        positions[key] == nil ? "\(key) (\(value), the default)" : "\(key) (\(value))"
    }

    /// The filter's cross-key rule — exit below enter, globally and per label — by running
    /// `DecisionFilterSettings.validate` until it passes, reporting each finding at its key and repairing it
    /// (exit halved, override dropped) so the next finding can surface. Single values are in range already.
    private mutating func validateFilter() {
        var reported: Set<String> = []
        for _ in 0..<100 {
            do {
                try config.filter.validate(for: config.labels)
                return
            } catch {
                guard case .invalidFilterSetting(let field, _, _) = error else {
                    if case .unknownLabel(let label, _) = error {  // labels the file's overrides name but --labels lack
                        config.filter.enterThresholdByLabel[label] = nil
                        config.filter.exitThresholdByLabel[label] = nil
                        continue
                    }
                    self.error(error.description, at: positions["filter"])
                    return
                }
                let filter = config.filter
                if field == "exitThreshold" {
                    if reported.isDisjoint(with: ["filter.enter", "filter.exit"]) {
                        self.error(
                            "\(describe("filter.exit", "\(filter.exitThreshold)")) must be below "
                                + "\(describe("filter.enter", "\(filter.enterThreshold)"))",
                            at: position(of: "filter.exit", fallbacks: ["filter.enter"]),
                            hint: "a held key is released below exit, so exit < enter (e.g. 0.2 lower)")
                        reported.insert("filter.exit")
                    }
                    config.filter.exitThreshold = filter.enterThreshold / 2
                } else if field.hasPrefix("enterThresholdByLabel.") || field.hasPrefix("exitThresholdByLabel.") {
                    let isEnter = field.hasPrefix("enter")
                    let label = String(field.drop { $0 != "." }.dropFirst())
                    let key = "filter.\(isEnter ? "enter" : "exit")_by_label.\(label)"
                    let enterKey =
                        filter.enterThresholdByLabel[label] != nil ? "filter.enter_by_label.\(label)" : "filter.enter"
                    let exitKey =
                        filter.exitThresholdByLabel[label] != nil ? "filter.exit_by_label.\(label)" : "filter.exit"
                    if reported.isDisjoint(with: [enterKey, exitKey]) {
                        self.error(
                            "for '\(label)', \(describe(exitKey, "\(filter.exitThreshold(for: label))")) "
                                + "must be below \(describe(enterKey, "\(filter.enterThreshold(for: label))"))",
                            at: position(of: key), hint: "exit < enter for every label")
                        reported.insert(key)
                    }
                    if isEnter {
                        config.filter.enterThresholdByLabel[label] = nil
                    } else {
                        config.filter.exitThresholdByLabel[label] = nil
                    }
                } else {
                    // A range the schema did not catch (it declares the library's ranges): report and reset.
                    guard repair(section: "filter", field: field, message: error.description) else {
                        self.error(error.description, at: positions["filter"])
                        return
                    }
                }
            }
        }
    }

    /// Runs a library's `validate` until it passes; each finding is reported at the key the schema maps its
    /// field to and that key is reset to its default. The schema's ranges are the libraries', so this only
    /// fires if the two drift apart — then as a clear error rather than a crash later.
    private mutating func backstop<Failure: Error & CustomStringConvertible>(
        _ section: String, _ validate: (GesturepadConfig) throws(Failure) -> Void
    ) {
        for _ in 0..<SettingsSchema.keys(in: section).count + 1 {
            do throws(Failure) {
                try validate(config)
                return
            } catch {
                let field: String? =
                    switch error {
                    case let error as NeuralNetError:
                        if case .invalidTrainingOption(let field, _, _) = error { field } else { nil }
                    case let error as GesturesError:
                        if case .invalidSetting(let field, _, _) = error { field } else { nil }
                    default: nil
                    }
                guard let field, repair(section: section, field: field, message: error.description) else {
                    self.error(error.description, at: positions[section])
                    return
                }
            }
        }
    }

    /// Reports `message` at the key whose library field is `field` and resets that key; false when none matches.
    @discardableResult
    private mutating func repair(section: String, field: String, message: String) -> Bool {
        guard let key = SettingsSchema.keys(in: section).first(where: { $0.libraryField == field }) else {
            return false
        }
        error("\(key.dottedName): \(message)", at: position(of: key.dottedName))
        try? key.write(&config, key.defaultValue)
        return true
    }
}
