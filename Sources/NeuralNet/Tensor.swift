// Tensor: a shape plus contiguous row-major Float32 scalars. Images and activations are NHWC
// (batch, height, width, channels); weights keep Keras layouts (conv HWIO, depthwise HWC1, dense IO).
// Invariant: scalars.count == shape.product. A value type: copies are cheap until written.

/// A dense, row-major Float32 array with a shape; activations are NHWC.
public struct Tensor: Equatable, Sendable {
    /// Dimensions, outermost first (for activations: [N, H, W, C] or [H, W, C]).
    public private(set) var shape: [Int]
    /// Row-major scalars; `scalars.count == shape.reduce(1, *)`.
    public var scalars: [Float]

    /// The shape without a leading batch of one: [H, W, C] for an image given as [1, H, W, C] or [H, W, C].
    public var imageShape: [Int] { shape.count == 4 && shape[0] == 1 ? Array(shape.dropFirst()) : shape }

    /// Wraps `scalars` with `shape`; the counts must agree.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(shape.reduce(1, *) == scalars.count, "shape \(shape) does not hold \(scalars.count) scalars")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of `shape` filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// A tensor of seeded uniform values in `range`: the same seed gives the same tensor on every machine.
    public init(shape: [Int], uniformIn range: ClosedRange<Float>, seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        let count = shape.reduce(1, *)
        var scalars = [Float](repeating: 0, count: count)
        for index in 0..<count { scalars[index] = generator.nextFloat(in: range) }
        self.init(shape: shape, scalars: scalars)
    }

    /// Number of scalars.
    public var count: Int { scalars.count }

    /// The same scalars seen with another shape of equal element count.
    public func reshaped(to newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }

    /// Largest absolute element-wise difference to `other` (shapes must hold the same count).
    public func maxAbsoluteDifference(to other: Tensor) -> Float {
        precondition(count == other.count, "comparing \(shape) with \(other.shape)")
        var worst: Float = 0
        for index in 0..<count { worst = max(worst, abs(scalars[index] - other.scalars[index])) }
        return worst
    }
}

/// SplitMix64: a tiny, well-known seeded generator (Steele, Lea, Flood 2014) so fixtures and random
/// weights are reproducible across platforms, unlike `SystemRandomNumberGenerator`.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// A uniform Float in `range`, from the top 24 bits (exactly representable steps).
    public mutating func nextFloat(in range: ClosedRange<Float>) -> Float {
        let unit = Float(next() >> 40) / Float(1 << 24)
        return range.lowerBound + (range.upperBound - range.lowerBound) * unit
    }
}
