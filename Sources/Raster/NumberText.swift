// NumberText: fixed-decimal formatting for chart labels without Foundation (Raster has no
// dependencies). Rounds half away from zero; never prints "-0".

enum NumberText {
    /// `value` with exactly `decimals` digits after the point ("0.25", "12", "-3.5"); "nan"/"inf" for
    /// non-finite values.
    static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
        let places = max(0, min(decimals, 9))
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e15 else { return value > 0 ? "\(value)" : "\(value)" }
        let units = Int64(scaled)
        let whole = units / Int64(scale)
        let negative = value < 0 && units != 0
        var text = (negative ? "-" : "") + String(whole)
        if places > 0 {
            let fraction = String(units % Int64(scale))
            text += "." + String(repeating: "0", count: places - fraction.count) + fraction
        }
        return text
    }

    /// A rate 0…1 as a percentage with one decimal ("93.5%").
    static func percent(_ rate: Double) -> String {
        fixed(rate * 100, decimals: 1) + "%"
    }
}
