// ConfigTOMLTests: the TOML subset reader — values and their positions, escapes, multi-line arrays,
// inline tables, and syntax errors (several per file, each at its line and column).
import Testing

@testable import Settings

@Suite("Config TOML reader")
struct ConfigTOMLTests {
    @Test("values keep their type and the line and column where they start")
    func valuesAndPositions() throws {
        let text = """
            # comment
            top = "a"   # trailing comment
            [section.inner]
            integer = -1_000
            hex = 0xff
            float = 2.5e-3
            yes = true
            literal = 'C:\\path'
            escaped = "tab\\there \\u00e9"
            list = [
              "one",  # comment inside
              'two',
            ]
            inline = { a = 1, "b c" = false }
            dotted.key = 3
            """
        let document = TOMLDocument.parse(text)
        #expect(document.errors == [])
        let top = try #require(document.root["top"])
        #expect(top.value == TOMLValue(.string("a"), at: TOMLPosition(line: 2, column: 7)))
        #expect(top.keyPosition == TOMLPosition(line: 2, column: 1))
        guard case .table(let section) = try #require(document.root["section"]).value.kind,
            case .table(let inner) = try #require(section["inner"]).value.kind
        else {
            Issue.record("[section.inner] is not a table")
            return
        }
        #expect(try #require(section["inner"]).value.position == TOMLPosition(line: 3, column: 1))
        #expect(inner["integer"]?.value == TOMLValue(.integer(-1000), at: TOMLPosition(line: 4, column: 11)))
        #expect(inner["hex"]?.value.kind == .integer(255))
        #expect(inner["float"]?.value.kind == .float(0.0025))
        #expect(inner["yes"]?.value.kind == .boolean(true))
        #expect(inner["literal"]?.value.kind == .string("C:\\path"))
        #expect(inner["escaped"]?.value.kind == .string("tab\there é"))
        #expect(
            inner["list"]?.value.kind
                == .array([
                    TOMLValue(.string("one"), at: TOMLPosition(line: 11, column: 3)),
                    TOMLValue(.string("two"), at: TOMLPosition(line: 12, column: 3)),
                ]))
        guard case .table(let inline) = inner["inline"]?.value.kind else {
            Issue.record("inline is not a table")
            return
        }
        #expect(inline.keys == ["a", "b c"])
        guard case .table(let dotted) = inner["dotted"]?.value.kind else {
            Issue.record("dotted is not a table")
            return
        }
        #expect(dotted["key"]?.value == TOMLValue(.integer(3), at: TOMLPosition(line: 15, column: 14)))
        #expect(dotted["key"]?.keyPosition == TOMLPosition(line: 15, column: 8))
    }

    struct SyntaxCase: CustomTestStringConvertible, Sendable {
        var name: String
        var text: String
        /// "line:column: message" of each expected error, in order.
        var expected: [String]
        var testDescription: String { name }
    }

    static let syntaxCases: [SyntaxCase] = [
        SyntaxCase(
            name: "missing value", text: "a =\n", expected: ["1:4: expected a value after '=', found end of line"]),
        SyntaxCase(
            name: "unquoted word", text: "mode = auto\n",
            expected: ["1:8: 'auto' is not a value: strings need quotes; write \"auto\""]),
        SyntaxCase(
            name: "unterminated string", text: "a = \"abc\nb = 1\n",
            expected: ["1:5: unterminated string (missing closing '\"')"]),
        SyntaxCase(
            name: "bad escape", text: "a = \"x\\qy\"\n",
            expected: [
                "1:7: invalid escape '\\q' in a string; use \\\\ for a backslash, or a 'literal string' where backslashes are plain"
            ]),
        SyntaxCase(name: "leading zero", text: "a = 007\n", expected: ["1:5: '007' is not a valid number"]),
        SyntaxCase(
            name: "two values on a line", text: "a = 1 2\n",
            expected: [
                "1:7: expected the end of the line, found '2'; put one `key = value` per line; start comments with '#'"
            ]),
        SyntaxCase(
            name: "missing '='", text: "a 1\n",
            expected: ["1:3: expected '=' after the key 'a', found '1'; write `a = value`"]),
        SyntaxCase(
            name: "duplicate key", text: "a = 1\nb = 2\na = 3\n",
            expected: ["3:1: duplicate key 'a'; first defined at line 1; keep one of the two lines"]),
        SyntaxCase(
            name: "duplicate table", text: "[t]\na = 1\n[t]\nb = 2\n",
            expected: ["3:1: duplicate table [t]; first defined at line 1; merge the two into one [t] section"]),
        SyntaxCase(
            name: "value reused as table", text: "t = 1\n[t.x]\n",
            expected: ["2:2: 't' is already a value (line 1) and cannot also be a table"]),
        SyntaxCase(
            name: "array of tables", text: "[[t]]\n",
            expected: ["1:1: arrays of tables (`[[…]]`) are not used by this file; use a plain [table]"]),
        SyntaxCase(
            name: "date", text: "a = 2024-01-01\n", expected: ["1:5: dates and times are not used by this file"]),
        SyntaxCase(
            name: "multi-line string", text: "a = \"\"\"x\"\"\"\n",
            expected: ["1:5: multi-line strings are not used by this file; write the string on one line"]),
        SyntaxCase(
            name: "broken array reports once, then later errors too",
            text: "a = [1,\n 2\n 3]\nb = 1\nc = oops\n",
            expected: [
                "3:2: expected ',' or ']' in the array, found '3'; separate array elements with commas",
                "5:5: 'oops' is not a value: strings need quotes; write \"oops\"",
            ]),
        SyntaxCase(
            name: "unclosed header", text: "[t\na = 1\n",
            expected: ["1:3: expected ']' to close the table header, found end of line"]),
    ]

    @Test("syntax errors are reported at their line and column", arguments: syntaxCases)
    func syntaxErrors(_ testCase: SyntaxCase) {
        let document = TOMLDocument.parse(testCase.text)
        #expect(document.errors.map(\.description) == testCase.expected)
    }

    @Test("after a duplicate key the first value is kept")
    func duplicateKeepsFirst() {
        let document = TOMLDocument.parse("a = 1\na = 2\n")
        #expect(document.root["a"]?.value.kind == .integer(1))
    }

    @Test("keys after a broken header do not land in the previous table")
    func brokenHeaderIsolatesKeys() throws {
        let document = TOMLDocument.parse("[first]\nx = 1\n[second\ny = 2\n")
        guard case .table(let first) = try #require(document.root["first"]).value.kind else {
            Issue.record("[first] is not a table")
            return
        }
        #expect(first.keys == ["x"])
    }
}
