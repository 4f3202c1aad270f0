// Weight initialisers as tfjs-layers does them (src/initializers.ts). The head's Dense kernels use
// `varianceScaling` with TF.js' defaults (scale 1, mode fanIn, distribution normal):
// stddev = √(scale / max(1, fanIn)) with fanIn = D of a [D, U] kernel, drawn from a normal truncated
// at ±2 stddev (values outside are redrawn, as tf.truncatedNormal does). TF.js does not rescale stddev
// for the truncation (Keras 2 divides by 0.8796…, the std of a ±2σ truncated unit normal), so the
// weights' actual std is ≈ 0.88·stddev, as in TF.js. Biases start at zero (`zeros`).
// Random streams: ours come from SplitMix64 + Box–Muller; TF.js uses seedrandom's Alea + its own
// Marsaglia polar method, so equal seeds give equal distributions, never equal numbers.
//
// Speed without changing a value: the defining draw is `truncatedStandardNormal` (scalar libm log and cos per
// attempt: ~10 % of a [7,7,1024] head's training run). `fillVarianceScalingNormal` computes 8 attempts at once
// with its own polynomial log and cos in SIMD8<Double> (errors ≤ ~1e-14 in z, far below `zTolerance` = 1e-12),
// and keeps an attempt's result only when every z within ±zTolerance gives the same accept/reject decision and
// the same Float weight (rounding is monotone, so the libm value — also within the tolerance of the true z —
// rounds the same way); otherwise it recomputes that attempt with the scalar libm formula. Each attempt consumes
// exactly two generator outputs whatever its outcome, so attempts are fixed by position in the stream, and
// the generator is rewound to just after the last attempt used. Result: bit for bit the scalar draw (tests
// compare both for several seeds and shapes, and with a tolerance that forces every attempt down the scalar path).
// Swift has no vector libm and glibc's libmvec is not reachable from Swift without a C shim and its own
// 4-ulp contract, hence the small polynomials here.
import Foundation

/// Seeded weight initialisers matching tfjs-layers' distributions.
public enum WeightInitializer {
    /// TF.js `varianceScaling({scale, mode: 'fanIn', distribution: 'normal'})` for a Dense kernel
    /// [fanIn, fanOut]: truncated normal (±2σ, redrawn) with σ = √(scale / max(1, fanIn)).
    public static func varianceScalingNormal(
        fanIn: Int, fanOut: Int, scale: Double = 1,
        generator: inout SplitMix64
    ) -> [Float] {
        [Float](unsafeUninitializedCapacity: fanIn * fanOut) { buffer, initialized in
            if let base = buffer.baseAddress {
                fillVarianceScalingNormal(
                    base, fanIn: fanIn, count: fanIn * fanOut, scale: scale, generator: &generator)
            }
            initialized = fanIn * fanOut
        }
    }

    /// The defining scalar draw of `varianceScalingNormal` (one `truncatedStandardNormal` per weight); the
    /// fast fill is compared against it.
    static func varianceScalingNormalReference(
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
            let (u1, u2) = uniforms(generator.next(), generator.next())
            let z = boxMuller(u1, u2)
            if abs(z) <= 2 { return z }
        }
    }

    /// u1 in (0, 1] (so log(u1) is finite) and u2 in [0, 1), 53-bit uniforms from two generator outputs.
    @inline(__always) static func uniforms(_ first: UInt64, _ second: UInt64) -> (Double, Double) {
        (Double((first >> 11) + 1) / Double(1 << 53), Double(second >> 11) / Double(1 << 53))
    }

    /// The scalar Box–Muller value (libm log and cos): the definition.
    @inline(__always) static func boxMuller(_ u1: Double, _ u2: Double) -> Double {
        (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Absolute bound used for the vector z's distance from the libm z (see the file header).
    static let zTolerance = 1e-12

    /// Writes `count` weights σ·z (σ = √(scale / max(1, fanIn))) to `output`, bit for bit the values and
    /// generator position of `varianceScalingNormalReference` (see the file header). `tolerance` is only
    /// raised by tests, to force the scalar path.
    static func fillVarianceScalingNormal(
        _ output: UnsafeMutablePointer<Float>, fanIn: Int, count: Int, scale: Double = 1,
        generator: inout SplitMix64, tolerance: Double = zTolerance
    ) {
        let standardDeviation = (scale / Double(max(1, fanIn))).squareRoot()
        var filled = 0
        while filled < count {
            let start = generator
            var first = SIMD8<UInt64>()
            var second = SIMD8<UInt64>()
            for lane in 0..<8 {
                first[lane] = generator.next()
                second[lane] = generator.next()
            }
            // The same exact values as `uniforms` (integers below 2⁵³ convert exactly; ÷ 2⁵³ is exact).
            let u1 = (exactDouble(first &>> 11) + 1) / Double(1 << 53)
            let u2 = exactDouble(second &>> 11) / Double(1 << 53)
            let z = (-2 * logarithm(u1)).squareRoot() * cosine(2 * Double.pi * u2)
            var used = 8
            for lane in 0..<8 {
                let value = z[lane]
                let low = abs(value) - tolerance
                let high = abs(value) + tolerance
                var weight: Float
                var accepted: Bool
                let lowWeight = Float(standardDeviation * (value - tolerance))
                if high <= 2 && lowWeight == Float(standardDeviation * (value + tolerance)) {
                    (accepted, weight) = (true, lowWeight)
                } else if low > 2 {
                    (accepted, weight) = (false, 0)
                } else {
                    let (exactU1, exactU2) = uniforms(first[lane], second[lane])
                    let exact = boxMuller(exactU1, exactU2)
                    (accepted, weight) = (abs(exact) <= 2, Float(standardDeviation * exact))
                }
                if accepted {
                    output[filled] = weight
                    filled += 1
                    if filled == count {
                        used = lane + 1
                        break
                    }
                }
            }
            if used < 8 {
                generator = start
                for _ in 0..<(2 * used) { _ = generator.next() }
            }
        }
    }

    /// Double(v) for v < 2⁵³ (exact), vectorised: high 21 and low 32 bits through the 2⁵² magic-number trick.
    @inline(__always) static func exactDouble(_ v: SIMD8<UInt64>) -> SIMD8<Double> {
        let magic = SIMD8<UInt64>(repeating: 0x4330_0000_0000_0000)  // the bits of 2⁵²
        let twoTo52 = 4_503_599_627_370_496.0
        let high = unsafeBitCast((v &>> 32) | magic, to: SIMD8<Double>.self) - twoTo52
        let low = unsafeBitCast((v & 0xFFFF_FFFF) | magic, to: SIMD8<Double>.self) - twoTo52
        return high * 4_294_967_296 + low
    }

    /// Natural log of x in (0, 1] (normal doubles), branch-free: x = z·2^e with z in [0.70, 1.41) (musl's
    /// offset split), log x = e·ln 2 + 2·atanh(s), s = (z − 1)/(z + 1), |s| ≤ 0.172; the atanh series to s²³
    /// leaves < 1e-19.
    @inline(__always) static func logarithm(_ x: SIMD8<Double>) -> SIMD8<Double> {
        let bits = unsafeBitCast(x, to: SIMD8<Int64>.self)
        let offset: Int64 = 0x3FE6_9555_0000_0000
        let shifted = bits &- offset
        let exponent = shifted &>> 52  // arithmetic shift: e, from −54 to 0 here
        let z = unsafeBitCast(bits &- (shifted & Int64(bitPattern: 0xFFF0_0000_0000_0000)), to: SIMD8<Double>.self)
        let e = exactDouble(SIMD8<UInt64>(truncatingIfNeeded: exponent &+ 1024)) - 1024
        let s = (z - 1) / (z + 1)
        let s2 = s * s
        var series = SIMD8<Double>(repeating: 1.0 / 23)
        series = series * s2 + 1.0 / 21
        series = series * s2 + 1.0 / 19
        series = series * s2 + 1.0 / 17
        series = series * s2 + 1.0 / 15
        series = series * s2 + 1.0 / 13
        series = series * s2 + 1.0 / 11
        series = series * s2 + 1.0 / 9
        series = series * s2 + 1.0 / 7
        series = series * s2 + 1.0 / 5
        series = series * s2 + 1.0 / 3
        series = series * s2 + 1
        return e * 0.693_147_180_559_945_3 + 2 * s * series
    }

    /// cos x for x in [0, 2π], branch-free: x = n·π + y (|y| ≤ π/2, two-part π), cos x = (−1)ⁿ·cos y with the
    /// Taylor series of cos y to y²² (truncation < 1e-19).
    @inline(__always) static func cosine(_ x: SIMD8<Double>) -> SIMD8<Double> {
        let piHigh = 3.141_592_653_589_793_1  // π rounded to double
        let piLow = 1.224_646_799_147_353_2e-16  // π − piHigh
        // n = x/π rounded to an integer by adding and removing 1.5·2⁵² (whose low bits are then n).
        let shifter = 6_755_399_441_055_744.0
        let shifted = x * (1 / Double.pi) + shifter
        let n = shifted - shifter
        let y = (x - n * piHigh) - n * piLow
        let y2 = y * y
        // Taylor coefficients ±1/(2k)! (exact factorials up to 18!, then rounded — far below the tolerance).
        var series = SIMD8<Double>(repeating: 1.0 / 1_124_000_727_777_607_680_000)  // 1/22!
        series = series * y2 - 1.0 / 2_432_902_008_176_640_000  // 20!
        series = series * y2 + 1.0 / 6_402_373_705_728_000  // 18!
        series = series * y2 - 1.0 / 20_922_789_888_000  // 16!
        series = series * y2 + 1.0 / 87_178_291_200  // 14!
        series = series * y2 - 1.0 / 479_001_600  // 12!
        series = series * y2 + 1.0 / 3_628_800  // 10!
        series = series * y2 - 1.0 / 40_320  // 8!
        series = series * y2 + 1.0 / 720
        series = series * y2 - 1.0 / 24
        series = series * y2 + 1.0 / 2
        series = series * y2 - 1
        // series is −cos y; flip the sign unless n is odd.
        let sign = (unsafeBitCast(shifted, to: SIMD8<UInt64>.self) &<< 63) ^ 0x8000_0000_0000_0000
        return unsafeBitCast(unsafeBitCast(series, to: SIMD8<UInt64>.self) ^ sign, to: SIMD8<Double>.self)
    }
}
