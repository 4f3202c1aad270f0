// ConfigDecoder: turns a parsed TOML tree into a `GesturepadConfig`, checking every key against the
// schema below (unknown keys get "did you mean …?"), every value's type and range, and then running
// the libraries' own `validate` functions, reporting their findings at the line of the offending key.
// It never stops at the first problem: a bad value is reported and replaced by its default, so all
// problems of a file come out in one pass. Schema changes go here, in `renderSections`
// (ConfigRendering.swift) and in Config/gesturepad.toml together.
import Capture
import Gestures
import NeuralNet

/// Reads one document into a config plus diagnostics; one instance per file.
struct ConfigDecoder {
    /// The sections and keys of config.toml, in file order (`[keys]` takes label names instead).
    static let schema: [(section: String, keys: [String])] = [
        (
            "camera",
            [
                "device", "width", "height", "fps", "pixel_format", "buffer_count", "mirror", "exposure",
                "exposure_time_100us", "allow_frame_rate_drop",
            ]
        ),
        ("model", ["name", "layer"]),
        ("labels", ["order", "idle"]),
        ("keys", []),
        (
            "filter",
            [
                "enter", "exit", "dwell_ms", "refractory_ms", "smoothing_ms", "stale_ms", "enter_by_label",
                "exit_by_label",
            ]
        ),
        ("head", ["learning_rate", "batch_fraction", "epochs", "hidden_units", "seed"]),
        ("recording", ["samples_per_second", "duplicate_distance", "countdown_seconds"]),
        ("daemon", ["socket_path", "pause_hotkey", "dry_run", "log_level", "data_directory"]),
    ]

    /// Camera value ranges (the capture library checks only positivity when it opens the device).
    static let frameSizeRange = 16...8192
    static let framesPerSecondRange = 1...240
    static let bufferCountRange = 1...32  // VIDEO_MAX_FRAME
    static let exposureTimeRange = 1...100_000  // 100 µs units: up to 10 s
    /// `sun_path` holds 108 bytes including the terminating NUL.
    static let maximumSocketPathBytes = 107

    let file: String
    let keyNames: (any KeyNameCatalog)?
    private(set) var diagnostics: [ConfigDiagnostic] = []
    private(set) var config = GesturepadConfig()
    /// Where each key's value starts, by dotted name ("filter.dwell_ms"); sections' headers by their name.
    private var positions: [String: TOMLPosition] = [:]
    /// Labels that passed their checks (used for [keys] and per-label thresholds even when the list has errors).
    private var labelNames = GesturepadConfig().labels.names
    private var labelsPosition: TOMLPosition?

    init(file: String, keyNames: (any KeyNameCatalog)?) {
        self.file = file
        self.keyNames = keyNames
    }

    // MARK: Reporting

    private mutating func report(
        _ severity: ConfigDiagnostic.Severity, _ message: String, at position: TOMLPosition?,
        hint: String? = nil
    ) {
        diagnostics.append(
            ConfigDiagnostic(
                file: file, position: position, severity: severity, message: message,
                hint: hint))
    }

    private mutating func error(_ message: String, at position: TOMLPosition?, hint: String? = nil) {
        report(.error, message, at: position, hint: hint)
    }

    // MARK: Top level

    /// Decodes `document` (its syntax errors become diagnostics too) and returns the config.
    mutating func decode(_ document: TOMLDocument) -> GesturepadConfig {
        for syntaxError in document.errors {
            error(syntaxError.message, at: syntaxError.position, hint: syntaxError.hint)
        }
        let root = document.root
        checkTopLevel(root)
        decodeCamera(section("camera", in: root))
        decodeModel(section("model", in: root))
        decodeLabels(section("labels", in: root))
        decodeKeys(section("keys", in: root))
        decodeFilter(section("filter", in: root))
        decodeHead(section("head", in: root))
        decodeRecording(section("recording", in: root))
        decodeDaemon(section("daemon", in: root))
        checkKeyBindings()
        diagnostics.sort { ($0.line ?? 0, $0.column ?? 0) < ($1.line ?? 0, $1.column ?? 0) }
        return config
    }

    private mutating func checkTopLevel(_ root: TOMLTable) {
        let sectionNames = Self.schema.map(\.section)
        for entry in root.entries where !sectionNames.contains(entry.key) {
            if case .table = entry.value.kind {
                error(
                    "unknown section [\(entry.key)]", at: entry.keyPosition,
                    hint: Spelling.suggestion(for: entry.key, among: sectionNames).map { "did you mean [\($0)]?" }
                        ?? "sections are " + sectionNames.map { "[\($0)]" }.joined(separator: ", "))
            } else {
                let home =
                    Self.schema.first { $0.keys.contains(entry.key) }?.section
                    ?? Self.schema.first { Spelling.suggestion(for: entry.key, among: $0.keys) != nil }?.section
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
        let known = Self.schema.first { $0.section == name }!.keys
        if name != "keys" { checkUnknownKeys(table, section: name, known: known) }
        return table
    }

    private mutating func checkUnknownKeys(_ table: TOMLTable, section: String, known: [String]) {
        for entry in table.entries where !known.contains(entry.key) {
            error(
                "unknown key '\(entry.key)' in [\(section)]", at: entry.keyPosition,
                hint: Spelling.suggestion(for: entry.key, among: known).map { "did you mean '\($0)'?" }
                    ?? "keys of [\(section)] are " + known.joined(separator: ", "))
        }
    }

    // MARK: Typed reads

    /// The value of `key` in `table`, recording where it was written.
    private mutating func entry(_ table: TOMLTable?, _ section: String, _ key: String) -> TOMLTable.Entry? {
        guard let entry = table?[key] else { return nil }
        positions["\(section).\(key)"] = entry.value.position
        return entry
    }

    private mutating func typeError(_ section: String, _ key: String, expected: String, found value: TOMLValue) {
        var hint: String?
        if case .string(let text) = value.kind, Int(text) != nil || Double(text) != nil {
            hint = "remove the quotes: \(key) = \(text)"
        } else if case .float(let number) = value.kind, expected == "an integer", number == number.rounded(),
            abs(number) < 1e15
        {
            hint = "write \(key) = \(Int(number))"
        }
        error("\(section).\(key) must be \(expected), found a \(value.typeName)", at: value.position, hint: hint)
    }

    private mutating func integer(
        _ table: TOMLTable?, _ section: String, _ key: String,
        range: ClosedRange<Int>? = nil
    ) -> Int? {
        guard let entry = entry(table, section, key) else { return nil }
        guard case .integer(let wide) = entry.value.kind, let value = Int(exactly: wide) else {
            typeError(section, key, expected: "an integer", found: entry.value)
            return nil
        }
        if let range, !range.contains(value) {
            error(
                "\(section).\(key) = \(value) is out of range; allowed: \(range.lowerBound)...\(range.upperBound)",
                at: entry.value.position)
            return nil
        }
        return value
    }

    /// A float; integers are accepted ("countdown_seconds = 3").
    private mutating func number(_ table: TOMLTable?, _ section: String, _ key: String) -> Double? {
        guard let entry = entry(table, section, key) else { return nil }
        switch entry.value.kind {
        case .float(let value): return value
        case .integer(let value): return Double(value)
        default:
            typeError(section, key, expected: "a number", found: entry.value)
            return nil
        }
    }

    private mutating func boolean(_ table: TOMLTable?, _ section: String, _ key: String) -> Bool? {
        guard let entry = entry(table, section, key) else { return nil }
        guard case .boolean(let value) = entry.value.kind else {
            var hint: String?
            if case .string(let text) = entry.value.kind, text == "true" || text == "false" {
                hint = "remove the quotes: \(key) = \(text)"
            }
            error(
                "\(section).\(key) must be true or false, found a \(entry.value.typeName)", at: entry.value.position,
                hint: hint)
            return nil
        }
        return value
    }

    private mutating func string(_ table: TOMLTable?, _ section: String, _ key: String) -> (String, TOMLPosition)? {
        guard let entry = entry(table, section, key) else { return nil }
        guard case .string(let value) = entry.value.kind else {
            typeError(section, key, expected: "a string in quotes", found: entry.value)
            return nil
        }
        return (value, entry.value.position)
    }

    private mutating func choice<Choice: RawRepresentable & CaseIterable>(
        _ table: TOMLTable?, _ section: String, _ key: String, as type: Choice.Type
    ) -> Choice? where Choice.RawValue == String {
        guard let (text, position) = string(table, section, key) else { return nil }
        guard let value = Choice(rawValue: text) else {
            let names = Choice.allCases.map(\.rawValue)
            error(
                "\(section).\(key) = \"\(text)\" is not one of " + names.map { "\"\($0)\"" }.joined(separator: ", "),
                at: position, hint: Spelling.suggestion(for: text, among: names).map { "did you mean \"\($0)\"?" })
            return nil
        }
        return value
    }

    /// "" → nil; otherwise an absolute path or one starting with "~/".
    private mutating func path(
        _ table: TOMLTable?, _ section: String, _ key: String,
        maximumBytes: Int? = nil
    ) -> String?? {
        guard let (text, position) = string(table, section, key) else { return .none }
        if text.isEmpty { return .some(nil) }
        guard text.hasPrefix("/") || text.hasPrefix("~/") else {
            error(
                "\(section).\(key) = \"\(text)\" must be an absolute path (or start with ~/)", at: position,
                hint: "the daemon runs from /, so relative paths would not mean what they seem")
            return .none
        }
        if let maximumBytes, text.hasPrefix("/"), text.utf8.count > maximumBytes {
            error(
                "\(section).\(key) is \(text.utf8.count) bytes long; a Unix socket path holds at most \(maximumBytes)",
                at: position, hint: "choose a shorter path")
            return .none
        }
        return .some(text)
    }

    /// A key chord; "none" gives `.unbound` when `allowNone`.
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

    // MARK: Sections

    private mutating func decodeCamera(_ table: TOMLTable?) {
        if let (device, position) = string(table, "camera", "device") {
            if device.isEmpty {
                error(
                    "camera.device must name a device such as \"/dev/video0\"", at: position,
                    hint: "`gesturepad devices` lists the cameras")
            } else {
                config.camera.device = device
            }
        }
        if let width = integer(table, "camera", "width", range: Self.frameSizeRange) { config.camera.width = width }
        if let height = integer(table, "camera", "height", range: Self.frameSizeRange) { config.camera.height = height }
        if let fps = integer(table, "camera", "fps", range: Self.framesPerSecondRange) {
            config.camera.framesPerSecond = fps
        }
        if let format = choice(table, "camera", "pixel_format", as: CameraPixelFormat.self) {
            config.camera.pixelFormat = format.pixelFormat
        }
        if let count = integer(table, "camera", "buffer_count", range: Self.bufferCountRange) {
            config.camera.bufferCount = count
        }
        if let mirror = boolean(table, "camera", "mirror") { config.mirror = mirror }
        let mode = choice(table, "camera", "exposure", as: ExposureMode.self) ?? .unchanged
        let time =
            integer(table, "camera", "exposure_time_100us", range: Self.exposureTimeRange)
            ?? GesturepadConfig.defaultExposureTime100Microseconds
        let allowDrop = boolean(table, "camera", "allow_frame_rate_drop") ?? false
        switch mode {
        case .unchanged: config.camera.exposure = .unchanged
        case .auto: config.camera.exposure = .automatic(allowFrameRateDrop: allowDrop)
        case .manual: config.camera.exposure = .manual(hundredMicroseconds: time)
        }
    }

    private mutating func decodeModel(_ table: TOMLTable?) {
        if let (name, position) = string(table, "model", "name") {
            if name.isEmpty {
                error(
                    "model.name must name an installed model", at: position, hint: "`gesturepad model list` shows them")
            } else {
                config.modelName = name
            }
        }
        if let (layer, _) = string(table, "model", "layer") { config.layer = layer.isEmpty ? nil : layer }
    }

    private mutating func decodeLabels(_ table: TOMLTable?) {
        let idle = boolean(table, "labels", "idle") ?? GesturepadConfig().labels.hasIdle
        var names = GesturepadConfig().labels.names.filter { $0 != LabelSet.idle }
        var valid = true
        if let entry = entry(table, "labels", "order") {
            labelsPosition = entry.value.position
            if case .array(let elements) = entry.value.kind {
                names = []
                var firstLine: [String: Int] = [:]
                for element in elements {
                    guard case .string(let name) = element.kind else {
                        error(
                            "labels.order must list label names in quotes, found a \(element.typeName)",
                            at: element.position)
                        valid = false
                        continue
                    }
                    if name == LabelSet.idle {
                        error(
                            "'idle' does not go in labels.order", at: element.position,
                            hint: "set `idle = true` instead (idle is always the last class)")
                        valid = false
                    } else if !LabelSet.isValidName(name) {
                        error(
                            "label \"\(name)\" is not a valid name: use 1–32 characters from a–z, 0–9, '_' and '-'",
                            at: element.position)
                        valid = false
                    } else if let line = firstLine[name] {
                        error(
                            "label '\(name)' appears twice in labels.order (first at line \(line))",
                            at: element.position)
                        valid = false
                    } else {
                        firstLine[name] = element.position.line
                        names.append(name)
                    }
                }
            } else {
                typeError("labels", "order", expected: "an array of label names", found: entry.value)
                valid = false
            }
        }
        let all = names + (idle ? [LabelSet.idle] : [])
        labelNames = all
        guard valid else { return }
        do {
            config.labels = try LabelSet(all)
        } catch {
            self.error(
                "at least two classes are needed, found \(all.count) (\(all.joined(separator: ", ")))",
                at: labelsPosition ?? positions["labels.idle"] ?? positions["labels"],
                hint: "list two or more labels, or one label and `idle = true`")
        }
    }

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
                error(
                    "[keys] names '\(entry.key)', which is not a label", at: entry.keyPosition,
                    hint: Spelling.suggestion(for: entry.key, among: actionLabels).map { "did you mean '\($0)'?" }
                        ?? "labels are \(actionLabels.joined(separator: ", ")); add it to labels.order or remove this line"
                )
                continue
            }
            guard case .string(let text) = entry.value.kind else {
                typeError("keys", entry.key, expected: "a key name in quotes (\"KEY_UP\")", found: entry.value)
                keys[entry.key] = .unbound  // reported; do not also report it as missing
                continue
            }
            keys[entry.key] = keyBinding(text, at: entry.value.position, what: "keys.\(entry.key)") ?? .unbound
        }
        config.keys = keys
    }

    private mutating func perLabelThresholds(_ table: TOMLTable?, key: String) -> [String: Float] {
        guard let entry = entry(table, "filter", key) else { return [:] }
        guard case .table(let overrides) = entry.value.kind else {
            typeError("filter", key, expected: "a table of label = threshold", found: entry.value)
            return [:]
        }
        var result: [String: Float] = [:]
        for override in overrides.entries {
            let name = "filter.\(key).\(override.key)"
            positions[name] = override.value.position
            guard labelNames.contains(override.key) else {
                error(
                    "\(name): '\(override.key)' is not a label", at: override.keyPosition,
                    hint: Spelling.suggestion(for: override.key, among: labelNames).map { "did you mean '\($0)'?" }
                        ?? "labels are \(labelNames.joined(separator: ", "))")
                continue
            }
            switch override.value.kind {
            case .float(let value): result[override.key] = Float(value)
            case .integer(let value): result[override.key] = Float(value)
            default: typeError("filter.\(key)", override.key, expected: "a number", found: override.value)
            }
        }
        return result
    }

    private mutating func decodeFilter(_ table: TOMLTable?) {
        if let enter = number(table, "filter", "enter") { config.filter.enterThreshold = Float(enter) }
        if let exit = number(table, "filter", "exit") { config.filter.exitThreshold = Float(exit) }
        if let dwell = integer(table, "filter", "dwell_ms") { config.filter.dwellMilliseconds = dwell }
        if let refractory = integer(table, "filter", "refractory_ms") {
            config.filter.refractoryMilliseconds = refractory
        }
        if let smoothing = integer(table, "filter", "smoothing_ms") {
            config.filter.smoothingTimeConstantMilliseconds = smoothing
        }
        if let stale = integer(table, "filter", "stale_ms") { config.filter.staleInputTimeoutMilliseconds = stale }
        config.filter.enterThresholdByLabel = perLabelThresholds(table, key: "enter_by_label")
        config.filter.exitThresholdByLabel = perLabelThresholds(table, key: "exit_by_label")
        validateFilter()
    }

    private mutating func decodeHead(_ table: TOMLTable?) {
        if let rate = number(table, "head", "learning_rate") { config.head.learningRate = rate }
        if let fraction = number(table, "head", "batch_fraction") { config.head.batchSizeFraction = fraction }
        if let epochs = integer(table, "head", "epochs") { config.head.epochs = epochs }
        if let units = integer(table, "head", "hidden_units") { config.head.hiddenUnits = units }
        if let seed = integer(table, "head", "seed", range: 0...Int.max) { config.head.seed = UInt64(seed) }
        validateHead()
    }

    private mutating func decodeRecording(_ table: TOMLTable?) {
        if let rate = number(table, "recording", "samples_per_second") { config.recording.samplesPerSecond = rate }
        if let distance = number(table, "recording", "duplicate_distance") {
            config.recording.duplicateDistance = Float(distance)
        }
        if let countdown = number(table, "recording", "countdown_seconds") {
            config.recording.countdownSeconds = countdown
        }
        validateRecording()
    }

    private mutating func decodeDaemon(_ table: TOMLTable?) {
        if let socket = path(table, "daemon", "socket_path", maximumBytes: Self.maximumSocketPathBytes) {
            config.daemon.socketPath = socket
        }
        if let (text, position) = string(table, "daemon", "pause_hotkey") {
            switch keyBinding(text, at: position, what: "daemon.pause_hotkey") {
            case .unbound: config.daemon.pauseHotkey = nil
            case .chord(let chord): config.daemon.pauseHotkey = chord
            case nil: break
            }
        }
        if let dryRun = boolean(table, "daemon", "dry_run") { config.daemon.dryRun = dryRun }
        if let level = choice(table, "daemon", "log_level", as: ConfigLogLevel.self) { config.daemon.logLevel = level }
        if let directory = path(table, "daemon", "data_directory") { config.daemon.dataDirectory = directory }
    }

    // MARK: Cross-checks

    /// Every action label has a key; two labels on one chord, or a label on the pause hotkey, is a warning.
    private mutating func checkKeyBindings() {
        var owner: [Set<String>: String] = [:]
        if let hotkey = config.daemon.pauseHotkey { owner[Set(hotkey.keyNames)] = "daemon.pause_hotkey" }
        for label in labelNames where label != LabelSet.idle {
            guard let binding = config.keys[label] else {
                error(
                    "label '\(label)' has no key in [keys]",
                    at: labelsPosition ?? positions["keys"] ?? positions["labels"],
                    hint: "add `\(label) = \"KEY_…\"` (or \"none\") under [keys]")
                continue
            }
            guard case .chord(let chord) = binding else { continue }
            let keySet = Set(chord.keyNames)
            if let other = owner[keySet] {
                report(
                    .warning,
                    "keys.\(label) presses \(chord), the same as \(other.hasPrefix("daemon.") ? other : "keys.\(other)")",
                    at: positions["keys.\(label)"] ?? labelsPosition,
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

    /// Runs `DecisionFilterSettings.validate` until it passes, reporting each finding at its key and
    /// repairing it (default value or dropped override) so the next finding can surface.
    private mutating func validateFilter() {
        let keyByField = [
            "enterThreshold": "filter.enter", "exitThreshold": "filter.exit", "dwellMilliseconds": "filter.dwell_ms",
            "refractoryMilliseconds": "filter.refractory_ms",
            "smoothingTimeConstantMilliseconds": "filter.smoothing_ms",
            "staleInputTimeoutMilliseconds": "filter.stale_ms",
        ]
        let defaults = DecisionFilterSettings()
        var reported: Set<String> = []
        for _ in 0..<100 {
            do {
                try config.filter.validate(for: config.labels)
                return
            } catch {
                guard case .invalidFilterSetting(let field, let value, let allowed) = error else {
                    if case .unknownLabel(let label, _) = error {  // decodeFilter drops these; defensive
                        config.filter.enterThresholdByLabel[label] = nil
                        config.filter.exitThresholdByLabel[label] = nil
                    }
                    self.error(error.description, at: positions["filter"])
                    if case .unknownLabel = error { continue }
                    return
                }
                let filter = config.filter
                let inRange = Float(value).map { $0 > 0 && $0 <= 1 } ?? false
                if field == "exitThreshold", inRange {
                    // Hysteresis: exit must stay below enter.
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
                    if !inRange {
                        self.error("\(key) = \(value) is out of range; allowed: \(allowed)", at: position(of: key))
                        reported.insert(key)
                    } else {
                        let enterKey =
                            filter.enterThresholdByLabel[label] != nil
                            ? "filter.enter_by_label.\(label)" : "filter.enter"
                        let exitKey =
                            filter.exitThresholdByLabel[label] != nil
                            ? "filter.exit_by_label.\(label)" : "filter.exit"
                        if reported.isDisjoint(with: [enterKey, exitKey]) {
                            self.error(
                                "for '\(label)', \(describe(exitKey, "\(filter.exitThreshold(for: label))")) "
                                    + "must be below \(describe(enterKey, "\(filter.enterThreshold(for: label))"))",
                                at: position(of: key), hint: "exit < enter for every label")
                            reported.insert(key)
                        }
                    }
                    if isEnter {
                        config.filter.enterThresholdByLabel[label] = nil
                    } else {
                        config.filter.exitThresholdByLabel[label] = nil
                    }
                } else {
                    let key = keyByField[field] ?? "filter.\(field)"
                    self.error("\(key) = \(value) is out of range; allowed: \(allowed)", at: position(of: key))
                    reported.insert(key)
                    switch field {
                    case "enterThreshold": config.filter.enterThreshold = defaults.enterThreshold
                    case "exitThreshold":
                        config.filter.exitThreshold = min(defaults.exitThreshold, filter.enterThreshold / 2)
                    case "dwellMilliseconds": config.filter.dwellMilliseconds = defaults.dwellMilliseconds
                    case "refractoryMilliseconds":
                        config.filter.refractoryMilliseconds = defaults.refractoryMilliseconds
                    case "smoothingTimeConstantMilliseconds":
                        config.filter.smoothingTimeConstantMilliseconds = defaults.smoothingTimeConstantMilliseconds
                    case "staleInputTimeoutMilliseconds":
                        config.filter.staleInputTimeoutMilliseconds = defaults.staleInputTimeoutMilliseconds
                    default: return  // a field this decoder does not know: reported once, stop
                    }
                }
            }
        }
    }

    /// Runs `TrainingOptions.validate` until it passes, reporting and defaulting each bad field.
    private mutating func validateHead() {
        let keyByField = [
            "learningRate": "head.learning_rate", "batchSizeFraction": "head.batch_fraction",
            "epochs": "head.epochs", "hiddenUnits": "head.hidden_units",
        ]
        let defaults = TrainingOptions()
        for _ in 0..<10 {
            do {
                try config.head.validate()
                return
            } catch {
                guard case .invalidTrainingOption(let field, let value, let allowed) = error else {
                    self.error(error.description, at: positions["head"])
                    return
                }
                let key = keyByField[field] ?? "head.\(field)"
                self.error("\(key) = \(value) is out of range; allowed: \(allowed)", at: position(of: key))
                switch field {
                case "learningRate": config.head.learningRate = defaults.learningRate
                case "batchSizeFraction": config.head.batchSizeFraction = defaults.batchSizeFraction
                case "epochs": config.head.epochs = defaults.epochs
                case "hiddenUnits": config.head.hiddenUnits = defaults.hiddenUnits
                default: return
                }
            }
        }
    }

    /// Runs `RecordingSettings.validate` until it passes, reporting and defaulting each bad field.
    private mutating func validateRecording() {
        let defaults = RecordingSettings()
        for _ in 0..<10 {
            do {
                try config.recording.validate()
                return
            } catch {
                guard case .invalidSetting(let field, let value, let expected) = error else {
                    self.error(error.description, at: positions["recording"])
                    return
                }
                let key = "recording.\(field)"
                self.error("\(key) = \(value) is out of range; allowed: \(expected)", at: position(of: key))
                switch field {
                case "samples_per_second": config.recording.samplesPerSecond = defaults.samplesPerSecond
                case "duplicate_distance": config.recording.duplicateDistance = defaults.duplicateDistance
                case "countdown_seconds": config.recording.countdownSeconds = defaults.countdownSeconds
                default: return
                }
            }
        }
    }
}

/// The pixel formats a camera can be asked for (`[camera] pixel_format`); Y4M-only layouts are left out.
enum CameraPixelFormat: String, CaseIterable {
    case yuyv, rgb24, yuv420, mjpeg

    var pixelFormat: PixelFormat {
        switch self {
        case .yuyv: .yuyv
        case .rgb24: .rgb24
        case .yuv420: .yuv420
        case .mjpeg: .mjpeg
        }
    }
}
