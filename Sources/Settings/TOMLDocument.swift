// TOMLDocument: a small TOML reader for the subset gesturepad's config uses, keeping the line and
// column of every key and value so that config problems — semantic ones included — point at file:line.
// Why not a library: LebJe/TOMLKit 0.6.0 (toml++) reports a position only for the first parse error and
// none for parsed keys or values; apple/swift-configuration 1.4.0 has no TOML reader and no positions.
// Subset (TOML 1.0): comments, `[a.b]` tables, bare/quoted/dotted keys, basic strings with escapes,
// literal strings, integers (decimal, 0x, 0o, 0b, `_`), floats (incl. inf/nan), booleans, arrays
// (multi-line), inline tables. Refused with a clear message: multi-line strings, dates, `[[arrays]]`.
// Invariants: parsing never stops at the first problem; after a syntax error it skips to the next line
// that starts a statement. Duplicate keys and tables are errors naming both lines; the first value wins.
// Limits (a config is a few KB): arrays, inline tables and dotted keys nest at most `maximumNestingDepth`
// (64) deep, so
// the recursive descent cannot exhaust the stack; a line longer than `maximumLineLength` (64 Ki scalars)
// is an error and skipped unread.
import Foundation

/// A place in a TOML source: 1-based line and column (columns count Unicode scalars).
public struct TOMLPosition: Sendable, Equatable, Hashable, Comparable, CustomStringConvertible {
    /// 1-based line number.
    public var line: Int
    /// 1-based column, in Unicode scalars.
    public var column: Int

    /// A position at `line`, `column`.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (left: TOMLPosition, right: TOMLPosition) -> Bool {
        (left.line, left.column) < (right.line, right.column)
    }

    /// "12:5".
    public var description: String { "\(line):\(column)" }
}

/// A parsed TOML value with the position where it starts.
public struct TOMLValue: Sendable, Equatable {
    /// The value's type and payload.
    public enum Kind: Sendable, Equatable {
        case string(String)
        case integer(Int64)
        case float(Double)
        case boolean(Bool)
        case array([TOMLValue])
        case table(TOMLTable)
    }

    /// The payload.
    public var kind: Kind
    /// Where the value starts (for a table opened by a `[header]`, where the header starts).
    public var position: TOMLPosition

    /// A value of `kind` at `position`.
    public init(_ kind: Kind, at position: TOMLPosition) {
        self.kind = kind
        self.position = position
    }

    /// The TOML type name for messages: "string", "integer", "float", "boolean", "array", "table".
    public var typeName: String {
        switch kind {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .boolean: "boolean"
        case .array: "array"
        case .table: "table"
        }
    }
}

/// An ordered TOML table whose entries remember where their keys were written.
public struct TOMLTable: Sendable, Equatable {
    /// One `key = value` (or a sub-table) of a table.
    public struct Entry: Sendable, Equatable {
        /// The key (one segment; dotted keys become nested tables).
        public var key: String
        /// Where the key was written (for a table opened by a header, where its name is in the header).
        public var keyPosition: TOMLPosition
        /// The value.
        public var value: TOMLValue
    }

    /// The entries in source order.
    public var entries: [Entry]

    /// An empty table, or one with `entries`.
    public init(entries: [Entry] = []) { self.entries = entries }

    /// The entry for `key`, if present.
    public subscript(key: String) -> Entry? { entries.first { $0.key == key } }

    /// The keys in source order.
    public var keys: [String] { entries.map(\.key) }
}

/// A syntax or structure problem found while reading TOML.
public struct TOMLSyntaxError: Sendable, Equatable, Error, CustomStringConvertible {
    /// Where the problem is.
    public var position: TOMLPosition
    /// What is wrong.
    public var message: String
    /// What to write instead, when there is a good guess.
    public var hint: String?

    /// A problem at `position`.
    public init(_ message: String, at position: TOMLPosition, hint: String? = nil) {
        self.position = position
        self.message = message
        self.hint = hint
    }

    /// "12:5: message".
    public var description: String { "\(position): \(message)" + (hint.map { "; \($0)" } ?? "") }
}

/// A TOML source read into a table tree plus every problem found on the way.
public struct TOMLDocument: Sendable, Equatable {
    /// The top-level table (what could be read; entries after an error on their line are missing).
    public var root: TOMLTable
    /// Every syntax or structure problem, in source order.
    public var errors: [TOMLSyntaxError]

    /// Deepest nesting of arrays and inline tables accepted (gesturepad's config nests two levels).
    public static let maximumNestingDepth = 64
    /// Longest line accepted, in Unicode scalars (newline excluded).
    public static let maximumLineLength = 64 * 1024

    /// Reads `text`; never throws: problems are collected in `errors`.
    public static func parse(_ text: String) -> TOMLDocument {
        var parser = TOMLParser(text)
        parser.parseDocument()
        let errors = parser.errors.enumerated().sorted {
            ($0.element.position, $0.offset) < ($1.element.position, $1.offset)
        }
        return TOMLDocument(root: parser.root.frozen(), errors: errors.map(\.element))
    }
}

// MARK: - Tree under construction

/// A table while parsing: reference semantics so `[a.b]` headers and dotted keys can reopen it.
private final class TableBuilder {
    enum Node {
        case value(TOMLValue)
        case table(TableBuilder)
    }

    struct Slot {
        var key: String
        var keyPosition: TOMLPosition
        var node: Node
    }

    var slots: [Slot] = []
    var indexByKey: [String: Int] = [:]
    /// Where the table starts: its header, its first dotted key, or its inline `{`.
    var position: TOMLPosition
    /// Opened by its own `[header]` (a second header for it is an error).
    var definedByHeader = false
    /// Written inline (`{ … }`): closed to later additions.
    var isInline = false

    init(position: TOMLPosition) { self.position = position }

    func slot(_ key: String) -> Slot? { indexByKey[key].map { slots[$0] } }

    func append(_ key: String, at position: TOMLPosition, _ node: Node) {
        indexByKey[key] = slots.count
        slots.append(Slot(key: key, keyPosition: position, node: node))
    }

    func frozen() -> TOMLTable {
        TOMLTable(
            entries: slots.map { slot in
                switch slot.node {
                case .value(let value):
                    return TOMLTable.Entry(key: slot.key, keyPosition: slot.keyPosition, value: value)
                case .table(let table):
                    return TOMLTable.Entry(
                        key: slot.key, keyPosition: slot.keyPosition,
                        value: TOMLValue(.table(table.frozen()), at: table.position))
                }
            })
    }
}

/// A key segment with where it was written.
private struct KeySegment {
    var name: String
    var position: TOMLPosition
}

// MARK: - Parser

/// Recursive-descent reader over Unicode scalars; `index` is the next unread scalar.
private struct TOMLParser {
    let scalars: [Unicode.Scalar]
    var index = 0
    var line = 1
    var lineStart = 0
    let root: TableBuilder
    var current: TableBuilder
    var errors: [TOMLSyntaxError] = []
    /// Arrays and inline tables open at the cursor.
    var depth = 0

    /// Takes `text`'s scalars, leaving out (with an error) the content of lines over `maximumLineLength`.
    init(_ text: String) {
        var kept: [Unicode.Scalar] = []
        var lineStart = 0
        var lineNumber = 1
        var overlong = false
        for scalar in text.unicodeScalars {
            if scalar == "\n" {
                lineNumber += 1
                lineStart = kept.count + 1
                overlong = false
            } else if overlong {
                continue
            } else if kept.count - lineStart >= TOMLDocument.maximumLineLength {
                overlong = true
                kept.removeSubrange(lineStart...)
                errors.append(
                    TOMLSyntaxError(
                        "line longer than \(TOMLDocument.maximumLineLength) characters; it was not read",
                        at: TOMLPosition(line: lineNumber, column: 1), hint: "a config line holds one `key = value`"))
                continue
            }
            kept.append(scalar)
        }
        scalars = kept
        root = TableBuilder(position: TOMLPosition(line: 1, column: 1))
        current = root
    }

    var position: TOMLPosition { TOMLPosition(line: line, column: index - lineStart + 1) }
    var atEnd: Bool { index >= scalars.count }
    var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    func peek(_ offset: Int) -> Unicode.Scalar? {
        index + offset < scalars.count ? scalars[index + offset] : nil
    }

    mutating func advance() {
        if scalars[index] == "\n" {
            line += 1
            lineStart = index + 1
        }
        index += 1
    }

    /// A readable name for the scalar at the cursor, for "found …" messages.
    var foundDescription: String {
        guard let scalar = peek else { return "end of file" }
        switch scalar {
        case "\n", "\r": return "end of line"
        case "\t": return "a tab"
        default: return "'\(Character(scalar))'"
        }
    }

    // MARK: Document and statements

    mutating func parseDocument() {
        while true {
            skipBlank()
            guard let scalar = peek else { return }
            if scalar == "\n" || scalar == "\r" {
                skipNewline()
                continue
            }
            if scalar == "#" {
                skipComment()
                continue
            }
            do {
                if scalar == "[" { try parseHeader() } else { try parseKeyValue(into: current) }
                try expectEndOfLine()
            } catch {
                errors.append(error)
                recover()
            }
        }
    }

    /// After an error: skip the rest of the line, then every line that does not start a statement
    /// (continuation lines of a broken array, stray brackets), so one mistake gives one error.
    mutating func recover() {
        skipRestOfLine()
        while !atEnd {
            let lineBegin = index
            let savedLine = line
            let savedLineStart = lineStart
            skipBlank()
            let startsStatement = looksLikeStatement()
            index = lineBegin
            line = savedLine
            lineStart = savedLineStart
            if startsStatement { return }
            skipRestOfLine()
        }
    }

    /// Whether the line at the cursor (after blanks) is empty, a comment, a `[header]` or `key =`.
    mutating func looksLikeStatement() -> Bool {
        guard let scalar = peek else { return true }
        if scalar == "\n" || scalar == "\r" || scalar == "#" { return true }
        if scalar == "[" {
            guard let next = peek(1) else { return false }
            return Self.isBareKeyScalar(next) || next == "\"" || next == "'" || next == " " || next == "["
        }
        guard (try? parseKey()) != nil else { return false }
        skipBlank()
        return peek == "="
    }

    mutating func skipRestOfLine() {
        while let scalar = peek, scalar != "\n" { advance() }
        if !atEnd { advance() }
    }

    mutating func skipBlank() {
        while let scalar = peek, scalar == " " || scalar == "\t" { advance() }
    }

    mutating func skipComment() {
        while let scalar = peek, scalar != "\n", scalar != "\r" { advance() }
    }

    mutating func skipNewline() {
        if peek == "\r", peek(1) == "\n" { advance() }
        if !atEnd { advance() }
    }

    /// Blanks, an optional comment, then a newline or the end of the file.
    mutating func expectEndOfLine() throws(TOMLSyntaxError) {
        skipBlank()
        if peek == "#" { skipComment() }
        guard let scalar = peek else { return }
        if scalar == "\n" || (scalar == "\r" && peek(1) == "\n") {
            skipNewline()
            return
        }
        throw TOMLSyntaxError(
            "expected the end of the line, found \(foundDescription)", at: position,
            hint: "put one `key = value` per line; start comments with '#'")
    }

    /// `[a.b]`: opens (creating as needed) the table at that path for the following keys.
    mutating func parseHeader() throws(TOMLSyntaxError) {
        let headerPosition = position
        // Until the header is read, following keys go to a scratch table: a broken header must not
        // make its keys look like unknown keys of the previous section.
        current = TableBuilder(position: headerPosition)
        advance()  // [
        if peek == "[" {
            throw TOMLSyntaxError(
                "arrays of tables (`[[…]]`) are not used by this file", at: headerPosition,
                hint: "use a plain [table]")
        }
        skipBlank()
        let path = try parseKey()
        skipBlank()
        guard peek == "]" else {
            throw TOMLSyntaxError("expected ']' to close the table header, found \(foundDescription)", at: position)
        }
        advance()
        var table = root
        for (offset, segment) in path.enumerated() {
            let isLast = offset == path.count - 1
            if let existing = table.slot(segment.name) {
                guard case .table(let child) = existing.node, !child.isInline else {
                    throw TOMLSyntaxError(
                        "'\(Self.dotted(path.prefix(offset + 1)))' is already a value (line \(existing.keyPosition.line)) "
                            + "and cannot also be a table", at: segment.position)
                }
                if isLast {
                    if child.definedByHeader {
                        current = child  // check the second section's keys against the first's
                        throw TOMLSyntaxError(
                            "duplicate table [\(Self.dotted(path))]; first defined at line \(child.position.line)",
                            at: headerPosition, hint: "merge the two into one [\(Self.dotted(path))] section")
                    }
                    child.definedByHeader = true
                    child.position = headerPosition
                }
                table = child
            } else {
                let child = TableBuilder(position: isLast ? headerPosition : segment.position)
                child.definedByHeader = isLast
                table.append(segment.name, at: segment.position, .table(child))
                table = child
            }
        }
        current = table
    }

    /// `key = value` into `table`; dotted keys open sub-tables.
    mutating func parseKeyValue(into table: TableBuilder) throws(TOMLSyntaxError) {
        let path = try parseKey()
        skipBlank()
        guard peek == "=" else {
            throw TOMLSyntaxError(
                "expected '=' after the key '\(Self.dotted(path))', found \(foundDescription)", at: position,
                hint: "write `\(Self.dotted(path)) = value`")
        }
        advance()
        skipBlank()
        let value = try parseValue()
        var target = table
        for (offset, segment) in path.dropLast().enumerated() {
            if let existing = target.slot(segment.name) {
                guard case .table(let child) = existing.node, !child.isInline else {
                    throw TOMLSyntaxError(
                        "'\(Self.dotted(path.prefix(offset + 1)))' is already a value (line \(existing.keyPosition.line)) "
                            + "and cannot also be a table", at: segment.position)
                }
                target = child
            } else {
                let child = TableBuilder(position: segment.position)
                target.append(segment.name, at: segment.position, .table(child))
                target = child
            }
        }
        let last = path[path.count - 1]
        if let existing = target.slot(last.name) {
            throw TOMLSyntaxError(
                "duplicate key '\(Self.dotted(path))'; first defined at line \(existing.keyPosition.line)",
                at: last.position, hint: "keep one of the two lines")
        }
        target.append(last.name, at: last.position, .value(value))
    }

    // MARK: Keys

    static func isBareKeyScalar(_ scalar: Unicode.Scalar) -> Bool {
        ("A"..."Z").contains(scalar) || ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
            || scalar == "_" || scalar == "-"
    }

    static func dotted<Segments: Sequence>(_ path: Segments) -> String where Segments.Element == KeySegment {
        path.map { segment in
            segment.name.unicodeScalars.allSatisfy(isBareKeyScalar) && !segment.name.isEmpty
                ? segment.name : "\"\(segment.name)\""
        }.joined(separator: ".")
    }

    /// One or more key segments separated by '.', each bare or quoted.
    mutating func parseKey() throws(TOMLSyntaxError) -> [KeySegment] {
        var path: [KeySegment] = []
        while true {
            skipBlank()
            let start = position
            guard let scalar = peek else { throw TOMLSyntaxError("expected a key, found end of file", at: start) }
            if scalar == "\"" {
                path.append(KeySegment(name: try parseBasicString(), position: start))
            } else if scalar == "'" {
                path.append(KeySegment(name: try parseLiteralString(), position: start))
            } else if Self.isBareKeyScalar(scalar) {
                var name = ""
                while let next = peek, Self.isBareKeyScalar(next) {
                    name.unicodeScalars.append(next)
                    advance()
                }
                path.append(KeySegment(name: name, position: start))
            } else {
                throw TOMLSyntaxError(
                    "expected a key, found \(foundDescription)", at: start,
                    hint: "keys are letters, digits, '_' and '-', or quoted")
            }
            skipBlank()
            guard peek == "." else { return path }
            guard path.count < TOMLDocument.maximumNestingDepth else {
                throw TOMLSyntaxError(
                    "a dotted key with more than \(TOMLDocument.maximumNestingDepth) parts", at: path[0].position,
                    hint: "gesturepad's keys have at most three parts")
            }
            advance()
        }
    }

    // MARK: Values

    mutating func parseValue() throws(TOMLSyntaxError) -> TOMLValue {
        let start = position
        guard let scalar = peek, scalar != "\n", scalar != "\r", scalar != "#" else {
            throw TOMLSyntaxError("expected a value after '=', found \(foundDescription)", at: start)
        }
        switch scalar {
        case "\"":
            if peek(1) == "\"", peek(2) == "\"" { throw multiLineStringError(at: start) }
            return TOMLValue(.string(try parseBasicString()), at: start)
        case "'":
            if peek(1) == "'", peek(2) == "'" { throw multiLineStringError(at: start) }
            return TOMLValue(.string(try parseLiteralString()), at: start)
        case "[", "{":
            guard depth < TOMLDocument.maximumNestingDepth else {
                throw TOMLSyntaxError(
                    "arrays and inline tables nest deeper than \(TOMLDocument.maximumNestingDepth) levels", at: start,
                    hint: "gesturepad's settings nest at most two levels")
            }
            depth += 1
            defer { depth -= 1 }
            if scalar == "[" { return TOMLValue(.array(try parseArray()), at: start) }
            return TOMLValue(.table(try parseInlineTable()), at: start)
        default:
            return try parseBareValue()
        }
    }

    func multiLineStringError(at start: TOMLPosition) -> TOMLSyntaxError {
        TOMLSyntaxError(
            "multi-line strings are not used by this file", at: start, hint: "write the string on one line")
    }

    /// `"…"` with TOML escapes; the cursor is on the opening quote.
    mutating func parseBasicString() throws(TOMLSyntaxError) -> String {
        let start = position
        advance()
        var result = String.UnicodeScalarView()
        while true {
            guard let scalar = peek, scalar != "\n", scalar != "\r" else {
                throw TOMLSyntaxError("unterminated string (missing closing '\"')", at: start)
            }
            if scalar == "\"" {
                advance()
                return String(result)
            }
            if scalar == "\\" {
                let escapePosition = position
                advance()
                guard let escaped = peek else { throw TOMLSyntaxError("unterminated string", at: start) }
                advance()
                switch escaped {
                case "b": result.append("\u{08}")
                case "t": result.append("\t")
                case "n": result.append("\n")
                case "f": result.append("\u{0C}")
                case "r": result.append("\r")
                case "\"": result.append("\"")
                case "\\": result.append("\\")
                case "u", "U":
                    let digits = escaped == "u" ? 4 : 8
                    var hex = ""
                    for _ in 0..<digits {
                        guard let digit = peek, digit.properties.isASCIIHexDigit else { break }
                        hex.unicodeScalars.append(digit)
                        advance()
                    }
                    guard hex.count == digits, let code = UInt32(hex, radix: 16), let decoded = Unicode.Scalar(code)
                    else {
                        throw TOMLSyntaxError(
                            "invalid \\\(escaped) escape: expected \(digits) hex digits of a Unicode scalar",
                            at: escapePosition)
                    }
                    result.append(decoded)
                default:
                    throw TOMLSyntaxError(
                        "invalid escape '\\\(Character(escaped))' in a string", at: escapePosition,
                        hint: "use \\\\ for a backslash, or a 'literal string' where backslashes are plain")
                }
                continue
            }
            if scalar.value < 0x20 && scalar != "\t" || scalar.value == 0x7F {
                throw TOMLSyntaxError(
                    "control character U+\(String(scalar.value, radix: 16)) in a string", at: position)
            }
            result.append(scalar)
            advance()
        }
    }

    /// `'…'` taken as written; the cursor is on the opening quote.
    mutating func parseLiteralString() throws(TOMLSyntaxError) -> String {
        let start = position
        advance()
        var result = String.UnicodeScalarView()
        while true {
            guard let scalar = peek, scalar != "\n", scalar != "\r" else {
                throw TOMLSyntaxError("unterminated string (missing closing \"'\")", at: start)
            }
            advance()
            if scalar == "'" { return String(result) }
            result.append(scalar)
        }
    }

    /// Blanks, newlines and comments between array elements.
    mutating func skipArraySpace() {
        while let scalar = peek {
            if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
                advance()
            } else if scalar == "#" {
                skipComment()
            } else {
                return
            }
        }
    }

    /// `[a, b, …]`, possibly over several lines, trailing comma allowed.
    mutating func parseArray() throws(TOMLSyntaxError) -> [TOMLValue] {
        let start = position
        advance()
        var elements: [TOMLValue] = []
        while true {
            skipArraySpace()
            guard let scalar = peek else { throw TOMLSyntaxError("unterminated array (missing ']')", at: start) }
            if scalar == "]" {
                advance()
                return elements
            }
            elements.append(try parseValue())
            skipArraySpace()
            if peek == "," {
                advance()
                continue
            }
            guard peek == "]" else {
                throw TOMLSyntaxError(
                    "expected ',' or ']' in the array, found \(foundDescription)", at: position,
                    hint: "separate array elements with commas")
            }
        }
    }

    /// `{ a = 1, b = "x" }` on one line, no trailing comma.
    mutating func parseInlineTable() throws(TOMLSyntaxError) -> TOMLTable {
        let start = position
        advance()
        let table = TableBuilder(position: start)
        table.isInline = true
        skipBlank()
        if peek == "}" {
            advance()
            return table.frozen()
        }
        while true {
            skipBlank()
            try parseKeyValue(into: table)
            skipBlank()
            if peek == "," {
                advance()
                continue
            }
            guard peek == "}" else {
                throw TOMLSyntaxError(
                    "expected ',' or '}' in the inline table, found \(foundDescription)", at: position,
                    hint: "inline tables stay on one line: { key = value, other = value }")
            }
            advance()
            return table.frozen()
        }
    }

    /// true, false, numbers, inf, nan — and a helpful error for unquoted words and dates.
    mutating func parseBareValue() throws(TOMLSyntaxError) -> TOMLValue {
        let start = position
        var token = ""
        while let scalar = peek, Self.isBareKeyScalar(scalar) || "+.:".unicodeScalars.contains(scalar) {
            token.unicodeScalars.append(scalar)
            advance()
        }
        if token.isEmpty {
            throw TOMLSyntaxError(
                "expected a value (a \"string\", number, true/false, [array] or {table}), found \(foundDescription)",
                at: start)
        }
        switch token {
        case "true": return TOMLValue(.boolean(true), at: start)
        case "false": return TOMLValue(.boolean(false), at: start)
        case "inf", "+inf": return TOMLValue(.float(.infinity), at: start)
        case "-inf": return TOMLValue(.float(-.infinity), at: start)
        case "nan", "+nan", "-nan": return TOMLValue(.float(.nan), at: start)
        default: break
        }
        if let integer = Self.integer(token) { return TOMLValue(.integer(integer), at: start) }
        if let float = Self.float(token) { return TOMLValue(.float(float), at: start) }
        if token.contains(":") || token.wholeMatch(of: /\d{4}-\d{2}-\d{2}.*/) != nil {
            throw TOMLSyntaxError("dates and times are not used by this file", at: start)
        }
        let first = token.unicodeScalars.first!
        if ("a"..."z").contains(first) || ("A"..."Z").contains(first) {
            throw TOMLSyntaxError(
                "'\(token)' is not a value: strings need quotes", at: start, hint: "write \"\(token)\"")
        }
        throw TOMLSyntaxError("'\(token)' is not a valid number", at: start)
    }

    /// Decimal digits with single underscores between digits ("1_000"); nil otherwise.
    static func digits(_ text: Substring, radix: Int) -> String? {
        guard let first = text.first, let last = text.last, first != "_", last != "_", !text.contains("__") else {
            return nil
        }
        let plain = text.replacingOccurrences(of: "_", with: "")
        guard plain.allSatisfy({ $0.isHexDigit && Int(String($0), radix: radix) != nil }) else { return nil }
        return plain
    }

    /// TOML integers: `[+-]` decimal without leading zeros, or `0x`/`0o`/`0b` prefixed.
    static func integer(_ token: String) -> Int64? {
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where token.hasPrefix(prefix) {
            guard let plain = digits(token.dropFirst(2), radix: radix) else { return nil }
            return Int64(plain, radix: radix)
        }
        var body = Substring(token)
        var negative = false
        if body.first == "+" || body.first == "-" {
            negative = body.first == "-"
            body = body.dropFirst()
        }
        guard let plain = digits(body, radix: 10), !(plain.count > 1 && plain.hasPrefix("0")) else { return nil }
        return Int64((negative ? "-" : "") + plain)
    }

    /// TOML floats: integer part, then `.digits` and/or an exponent; digits on both sides of '.'.
    static func float(_ token: String) -> Double? {
        guard token.wholeMatch(of: /[+-]?(0|[1-9](_?[0-9])*)(\.[0-9](_?[0-9])*)?([eE][+-]?[0-9](_?[0-9])*)?/) != nil,
            token.contains(".") || token.contains("e") || token.contains("E")
        else { return nil }
        return Double(token.replacingOccurrences(of: "_", with: ""))
    }
}
