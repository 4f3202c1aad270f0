// ModelSummary: the table `gesturepad model inspect` prints — every layer with class, output shape,
// parameter count and multiply-accumulates, plus totals. Pure: builds text from a `Model`.

/// Per-layer facts of a model and their totals.
public struct ModelSummary: Sendable {
    public struct Row: Sendable {
        public var name: String
        public var className: String
        public var outputShape: [Int]
        public var parameters: Int
        public var multiplyAccumulates: Int
        public var inbound: [String]
    }

    public var modelName: String
    public var rows: [Row]
    public var totalParameters: Int { rows.reduce(0) { $0 + $1.parameters } }
    public var totalMultiplyAccumulates: Int { rows.reduce(0) { $0 + $1.multiplyAccumulates } }

    /// Summarises `model` for an input of `inputShape` ([H, W, C]; default the model's own).
    public init(_ model: Model, inputShape: [Int]? = nil) throws(NeuralNetError) {
        let shapes = try model.inferShapes(inputShape: inputShape)
        modelName = model.name
        rows = model.layers.map { layer in
            Row(
                name: layer.name, className: layer.kind.className, outputShape: shapes[layer.name]!.outputShape,
                parameters: layer.weights.values.reduce(0) { $0 + $1.count },
                multiplyAccumulates: shapes[layer.name]!.multiplyAccumulates, inbound: layer.inbound)
        }
    }

    /// A fixed-width text table with totals.
    public func render() -> String {
        let nameWidth = max(5, rows.map(\.name.count).max() ?? 0)
        let classWidth = max(5, rows.map(\.className.count).max() ?? 0)
        func pad(_ text: String, _ width: Int) -> String {
            text + String(repeating: " ", count: max(0, width - text.count))
        }
        func padLeft(_ text: String, _ width: Int) -> String {
            String(repeating: " ", count: max(0, width - text.count)) + text
        }
        var lines = ["model \(modelName): \(rows.count) layers"]
        lines.append(
            "\(pad("layer", nameWidth))  \(pad("class", classWidth))  \(pad("output", 16))  \(padLeft("params", 10))  \(padLeft("MACs", 13))"
        )
        for row in rows {
            let shape = "[" + row.outputShape.map(String.init).joined(separator: ",") + "]"
            lines.append(
                "\(pad(row.name, nameWidth))  \(pad(row.className, classWidth))  \(pad(shape, 16))  "
                    + "\(padLeft(grouped(row.parameters), 10))  \(padLeft(grouped(row.multiplyAccumulates), 13))")
        }
        lines.append(
            "total: \(grouped(totalParameters)) parameters, \(grouped(totalMultiplyAccumulates)) MACs "
                + "(\(formatted(Double(totalMultiplyAccumulates) * 2 / 1e9, decimals: 3)) GFLOP per image)")
        return lines.joined(separator: "\n")
    }
}

/// 1234567 → "1,234,567".
func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var result = ""
    for (index, digit) in digits.enumerated() {
        if index > 0, (digits.count - index) % 3 == 0 { result += "," }
        result.append(digit)
    }
    return value < 0 ? "-" + result : result
}

/// A fixed-point decimal string without Foundation's locale-dependent formatting.
public func formatted(_ value: Double, decimals: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    let whole = Int(scaled / scale)
    let fraction = Int(scaled.truncatingRemainder(dividingBy: scale))
    let fractionText = String(fraction)
    let padded = String(repeating: "0", count: max(0, decimals - fractionText.count)) + fractionText
    return (value < 0 && scaled != 0 ? "-" : "") + "\(whole)" + (decimals > 0 ? "." + padded : "")
}

/// The `k` largest entries of `scores` as (index, score), largest first; ties keep the lower index first.
public func topK(_ scores: [Float], _ k: Int) -> [(index: Int, score: Float)] {
    scores.enumerated().sorted { $0.element > $1.element || ($0.element == $1.element && $0.offset < $1.offset) }
        .prefix(max(0, k)).map { ($0.offset, $0.element) }
}
