// Weight initialisers as tfjs-layers does them (src/initializers.ts). The head's Dense kernels use
// `varianceScaling` with TF.js' defaults (scale 1, mode fanIn, distribution normal):
// stddev = √(scale / max(1, fanIn)) with fanIn = D of a [D, U] kernel, drawn from a normal truncated
// at ±2 stddev (values outside are redrawn, as tf.truncatedNormal does). TF.js does not rescale stddev
// for the truncation (Keras 2 divides by 0.8796…, the std of a ±2σ truncated unit normal), so the
// weights' actual std is ≈ 0.88·stddev, as in TF.js. Biases start at zero (`zeros`).
// Random streams: ours come from SplitMix64 + Box–Muller; TF.js uses seedrandom's Alea + its own
// Marsaglia polar method, so equal seeds give equal distributions, never equal numbers.
import Foundation

/// Seeded weight initialisers matching tfjs-layers' distributions.
public enum WeightInitializer {
    /// TF.js `varianceScaling({scale, mode: 'fanIn', distribution: 'normal'})` for a Dense kernel
    /// [fanIn, fanOut]: truncated normal (±2σ, redrawn) with σ = √(scale / max(1, fanIn)).
    public static func varianceScalingNormal(
        fanIn: Int, fanOut: Int, scale: Double = 1,
        generator: inout SplitMix64
    ) -> [Float] {
        let standardDeviation = (scale / Double(max(1, fanIn))).squareRoot()
        return (0..<(fanIn * fanOut)).map { _ in
            Float(standardDeviation * truncatedStandardNormal(&generator))
        }
    }

    /// A standard normal sample redrawn until it lies within ±2 (Box–Muller on SplitMix64).
    static func truncatedStandardNormal(_ generator: inout SplitMix64) -> Double {
        while true {
            // u1 in (0, 1] so log(u1) is finite; 53-bit uniforms.
            let u1 = Double((generator.next() >> 11) + 1) / Double(1 << 53)
            let u2 = Double(generator.next() >> 11) / Double(1 << 53)
            let z = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
            if abs(z) <= 2 { return z }
        }
    }
}
