// JSONValue: an untyped JSON tree for the free-form parts of model.json (Keras layer configs vary
// by layer class and Keras version, so they cannot be one fixed Codable struct). The fixed parts
// of the format (weightsManifest) are typed structs in TFJSLayersFormat.swift.
// Numbers read from JSON keep their exact decimal value (`JSONNumber.literal`, a Foundation
// `Decimal`, up to 38 digits) and are written back from it, so `0.001` stays `0.001` through a read
// and write instead of passing through Float (`0.0010000000474974513`). Notation may be normalised
// (`1e-05` is written `0.00001`, `1.0` is written `1`): the value is the same to the last digit.
import Foundation

/// A JSON number: its value, and the exact decimal it was read as (nil for numbers made in code).
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The value as a Double (what JSON.parse gives in a browser).
    public var value: Double
    /// The exact decimal read from the file; written back verbatim.
    public var literal: Decimal?

    /// A number made in code; written as the shortest text that reads back as `value`.
    public init(_ value: Double) {
        self.value = value
        literal = nil
    }

    /// A Float parameter (e.g. an epsilon) written as the shortest decimal that reads back as the same
    /// Float (`Float(0.001)` → `0.001`, not its Double expansion `0.0010000000474974513`).
    public init(float value: Float) {
        self.value = Double(value)
        literal = value.isFinite ? Decimal(string: "\(value)", locale: Locale(identifier: "en_US_POSIX")) : nil
    }

    /// A number read from JSON as `literal`; `value` is the correctly rounded Double of its digits (as
    /// JSON.parse gives; NSDecimalNumber's own conversion can be off in the last bit).
    public init(literal: Decimal) {
        self.literal = literal
        value = Double("\(literal)") ?? NSDecimalNumber(decimal: literal).doubleValue
    }

    /// Equal values are equal numbers, however written.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.value == rhs.value }
    public func hash(into hasher: inout Hasher) { hasher.combine(value) }

    public var description: String {
        if let literal { return "\(literal)" }
        return value.rounded() == value && abs(value) < 1e15 ? "\(Int(value))" : "\(value)"
    }
}

/// Any JSON value.
public enum JSONValue: Codable, Equatable, Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// A number made in code.
    public static func number(_ value: Double) -> JSONValue { .number(JSONNumber(value)) }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        }
        // Decimal first: Foundation's JSONDecoder builds it from the number's digits (exact), Double
        // only when the exponent is outside Decimal's range (e.g. 1e300).
        else if let value = try? container.decode(Decimal.self), value.isFinite {
            self = .number(JSONNumber(literal: value))
        } else if let value = try? container.decode(Double.self) {
            self = .number(JSONNumber(value))
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let number):
            if let literal = number.literal {
                try container.encode(literal)
            } else if number.value.rounded() == number.value, abs(number.value) < 1e15 {
                try container.encode(Int(number.value))
            } else {
                try container.encode(number.value)
            }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The member `key` of an object, nil otherwise.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let v) = self { return v }
        return nil
    }
    public var doubleValue: Double? {
        if case .number(let v) = self { return v.value }
        return nil
    }
    public var boolValue: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }
    public var arrayValue: [JSONValue]? {
        if case .array(let v) = self { return v }
        return nil
    }
    public var objectValue: [String: JSONValue]? {
        if case .object(let v) = self { return v }
        return nil
    }
    public var isNull: Bool { self == .null }
    /// An integral number as Int.
    public var intValue: Int? {
        guard case .number(let number) = self, number.value.rounded() == number.value, abs(number.value) < 1e15 else {
            return nil
        }
        return Int(number.value)
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByFloatLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue: CustomStringConvertible {
    /// Compact JSON text for messages (`[1.5, 2]`, `{"a": null}`), never a Swift enum dump; object members
    /// sorted by key.
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .number(let number): return number.description
        case .string(let value): return Self.quoted(value)
        case .array(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .object(let members):
            return "{"
                + members.sorted { $0.key < $1.key }.map { "\(Self.quoted($0.key)): \($0.value)" }
                .joined(separator: ", ") + "}"
        }
    }

    private static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
