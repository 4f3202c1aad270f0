// Labels: the classes a head predicts. The default set is the four directions plus `idle` (the
// "nothing to do" class that keeps false triggers down, ../shared/docs/ANCHORS.md); the set is
// configurable, Teachable-Machine style. Order matters: it is the head's output order.

/// The ordered class names of a head; `idle`, when present, is the class that presses no key.
public struct LabelSet: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The class names in output order.
    public let names: [String]

    /// The name of the no-action class.
    public static let idle = "idle"
    /// The four directions, in the TF.js demo's order (up, down, left, right).
    public static let directions = ["up", "down", "left", "right"]
    /// The default: four directions plus idle.
    public static let standard = LabelSet(validated: directions + [idle])
    /// The TF.js demo's set: four directions, no idle class.
    public static let directionsOnly = LabelSet(validated: directions)

    /// A label set from names; each must be a valid, unique label name, at least two in all.
    public init(_ names: [String]) throws(GesturesError) {
        for name in names where !Self.isValidName(name) { throw .invalidLabelName(label: name) }
        guard names.count >= 2, Set(names).count == names.count else {
            throw .invalidLabelName(label: names.joined(separator: ","))
        }
        self.names = names
    }

    private init(validated names: [String]) { self.names = names }

    /// Whether `name` is 1–32 characters from a–z, 0–9, '_' and '-'.
    public static func isValidName(_ name: String) -> Bool {
        (1...32).contains(name.count)
            && name.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
            }
    }

    /// Number of classes.
    public var count: Int { names.count }
    /// Whether the set has the idle class.
    public var hasIdle: Bool { names.contains(Self.idle) }
    /// The one check that a label to record or add samples of is configured (the CLI and the live session both use
    /// it): throws `unknownLabel`, whose message suggests the nearest configured name ("did you mean left?").
    public func requireKnown(_ label: String) throws(GesturesError) {
        guard LabelSet.isValidName(label) else { throw .invalidLabelName(label: label) }
        guard names.contains(label) else { throw .unknownLabel(label: label, known: names) }
    }

    /// The output index of `label`.
    public func index(of label: String) throws(GesturesError) -> Int {
        guard let index = names.firstIndex(of: label) else { throw .unknownLabel(label: label, known: names) }
        return index
    }

    public var description: String { names.joined(separator: ",") }
}
