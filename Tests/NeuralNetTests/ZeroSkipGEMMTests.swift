// ZeroSkipGEMM (Kernels/ZeroSkipGEMM.swift): the zero-skipping pair kernel against the plain GEMM reference and,
// bit for bit (a zero's sign aside), against the dense packed kernel it stands in for, on AVX2 and AVX-512
// panels — over shapes that straddle its tiles (odd M, K across list blocks, 1-, 2- and 3-panel groups), zero
// fractions from none (the dense fallback) to all, with and without bias and clamp, on 1 and 2 threads; the
// non-zero lists themselves; and whole embedders with zero skipping on and off. Speed is measured by
// `gesturepad bench embed`, not here.
import Testing

@testable import NeuralNet

@Suite("Zero-skipping GEMM")
struct ZeroSkipGEMMTests {
    /// A [m, k] × [k, n] product whose A has `zeros` of its entries (and every third row from row 4 on) zero.
    struct Case: CustomTestStringConvertible, Sendable {
        var m: Int
        var k: Int
        var n: Int
        var zeros: Double
        var testDescription: String { "\(m)×\(k)×\(n) zeros \(zeros)" }
    }

    static let cases = [
        Case(m: 1, k: 256, n: 16, zeros: 0.5),  // one row, paired with itself
        Case(m: 7, k: 256, n: 48, zeros: 0.5),  // odd M, one 3-panel group
        Case(m: 13, k: 300, n: 80, zeros: 0.6),  // K tail block of 44, groups 3 + 2
        Case(m: 49, k: 512, n: 112, zeros: 0.45),  // 7 panels: 3 + 2 + 2
        Case(m: 98, k: 257, n: 64, zeros: 0.9),  // a 1-long last block, groups 2 + 2
        Case(m: 20, k: 256, n: 32, zeros: 1.0),  // all zero: bias and clamp only
        Case(m: 33, k: 320, n: 128, zeros: 0.0),  // dense input: the dense fallback
        Case(m: 150, k: 1024, n: 96, zeros: 0.5),  // several chunks of pairs
        Case(m: 21, k: 512, n: 224, zeros: 0.5),  // AVX-512: 7 panels of 32, groups 3 + 2 + 2
        Case(m: 5, k: 256, n: 16 * 13, zeros: 0.3),  // 13 panels: 3 × 3 + 2 + 2
    ]

    /// A with the case's zeros: seeded positions, plus every third row from row 4 on all zero (ReLU-like).
    static func activations(_ c: Case, seed: UInt64) -> [Float] {
        var values = randomScalars(c.m * c.k, seed: seed, in: 0.01...6)
        var generator = SplitMix64(seed: seed &+ 1)
        for index in values.indices where Double(generator.nextFloat(in: 0...1)) < c.zeros { values[index] = 0 }
        for row in stride(from: 4, to: c.m, by: 3) where c.zeros > 0 {
            for index in row * c.k..<(row + 1) * c.k { values[index] = 0 }
        }
        return values
    }

    static func multiply(
        _ c: Case, a: [Float], weights: GEMMWeights, bias: [Float]?, clamp: (low: Float, high: Float), threads: Int,
        densityLimit: Double
    ) -> [Float] {
        var output = [Float](repeating: .nan, count: c.m * c.n)
        var scratch = [Float](repeating: .nan, count: ZeroSkipGEMM.scratchCount(rows: c.m, k: c.k))
        ZeroSkipGEMM.multiply(
            rows: c.m, a: a, weights: weights, bias: bias, clamp: clamp, c: &output, scratch: &scratch,
            threads: threads, densityLimit: densityLimit)
        return output
    }

    @Test("equals the reference and the dense packed kernel bit for bit (AVX2 and AVX-512 panels)", arguments: cases)
    func twins(_ c: Case) {
        let a = Self.activations(c, seed: UInt64(c.m * 1000 + c.k))
        let b = randomScalars(c.k * c.n, seed: 7, in: -0.2...0.2)
        let bias = randomScalars(c.n, seed: 8)
        for backend in [GEMMBackend.packedSwiftAVX2, .packedSwift] {
            let weights = GEMMWeights(k: c.k, n: c.n, b, backend: backend)
            // AVX-512 panels are 32 columns wide: N = 16, 48, 80, 112, 208 are not whole panels.
            #expect(ZeroSkipGEMM.accepts(weights) == (backend == .packedSwiftAVX2 || c.n % 32 == 0))
            guard ZeroSkipGEMM.accepts(weights) else { continue }
            for (bias, clamp) in [(Optional(bias), (Float(0), Float(6))), (nil, (-Float.infinity, Float.infinity))] {
                var expected = [Float](repeating: 0, count: c.m * c.n)
                ZeroSkipGEMM.reference(rows: c.m, a: a, b: b, k: c.k, n: c.n, bias: bias, clamp: clamp, c: &expected)
                var dense = [Float](repeating: .nan, count: c.m * c.n)
                GEMM.multiply(rows: c.m, a: a, weights: weights, bias: bias, clamp: clamp, c: &dense)
                // The default density limit, always the sparse tiles (1), always the dense kernel (-1).
                for (threads, limit) in [
                    (1, ZeroSkipGEMM.densityLimit), (2, ZeroSkipGEMM.densityLimit), (1, 1), (2, 1), (1, -1),
                ] {
                    let actual = Self.multiply(
                        c, a: a, weights: weights, bias: bias, clamp: clamp, threads: threads, densityLimit: limit)
                    let what = "\(c.testDescription) \(backend) bias \(bias != nil) threads \(threads) limit \(limit)"
                    expectClose(actual, expected, tolerance: 1e-5, what)
                    let differing = zip(actual, dense).filter { $0 != $1 }.count
                    #expect(differing == 0, "\(what): \(differing) values differ from the dense kernel")
                }
            }
        }
    }

    @Test("GEMM.multiply takes the zero-skipping path only with scratch and accepted weights")
    func dispatch() {
        let c = Case(m: 9, k: 256, n: 32, zeros: 0.5)
        let a = Self.activations(c, seed: 3)
        let b = randomScalars(c.k * c.n, seed: 4)
        for backend in GEMMBackend.allCases {
            var scratch = [Float](repeating: .nan, count: ZeroSkipGEMM.scratchCount(rows: c.m, k: c.k))
            let weights = GEMMWeights(k: c.k, n: c.n, b, backend: backend)
            #expect(ZeroSkipGEMM.accepts(weights) == (backend != .openBLAS))
            var expected = [Float](repeating: 0, count: c.m * c.n)
            ZeroSkipGEMM.reference(rows: c.m, a: a, b: b, k: c.k, n: c.n, bias: nil, clamp: (0, 6), c: &expected)
            var actual = [Float](repeating: .nan, count: c.m * c.n)
            GEMM.multiply(
                rows: c.m, a: a, weights: weights, bias: nil, clamp: (0, 6), c: &actual, zeroSkipScratch: &scratch)
            expectClose(actual, expected, tolerance: 1e-5, "\(backend)")
            // The lists were written exactly when the zero-skipping kernel ran.
            #expect(scratch.contains { !$0.isNaN } == ZeroSkipGEMM.accepts(weights), "\(backend)")
        }
        // Short reductions and partial panels stay dense.
        #expect(
            !ZeroSkipGEMM.accepts(
                GEMMWeights(k: 64, n: 32, randomScalars(64 * 32, seed: 5), backend: .packedSwiftAVX2)))
        #expect(
            !ZeroSkipGEMM.accepts(
                GEMMWeights(k: 256, n: 24, randomScalars(256 * 24, seed: 6), backend: .packedSwiftAVX2)))
    }

    @Test("the lists hold, per pair and 64-long block, the k where either row is non-zero")
    func lists() {
        let m = 3
        let k = 130
        var a = [Float](repeating: 0, count: m * k)
        let nonZero: [(row: Int, column: Int)] = [
            (0, 0), (1, 0), (1, 63), (0, 64), (1, 100), (0, 129), (2, 5), (2, 128),
        ]
        for (row, column) in nonZero { a[row * k + column] = row == 1 ? -0.5 : 2 }
        a[2 * k + 7] = -0.0  // a negative zero is zero
        var lists = [Int32](repeating: -1, count: ZeroSkipGEMM.scratchCount(rows: m, k: k))
        let listed = ZeroSkipGEMM.listNonZero(0, 2, m: m, a: a, k: k, blockLength: 64, lists: &lists)
        let blocks = 3
        func entries(pair: Int) -> [[Int32]] {
            let base = pair * (blocks + 1 + k)
            return (0..<blocks).map { block in
                let start = Int(lists[base + block])
                let end = Int(lists[base + block + 1])
                return Array(lists[(base + blocks + 1 + start)..<(base + blocks + 1 + end)])
            }
        }
        #expect(entries(pair: 0) == [[0, 63], [64, 100], [129]])
        #expect(entries(pair: 1) == [[5], [], [128]])  // row 2 pairs with itself
        #expect(listed == 7)
    }

    @Test(
        "the eight-at-a-time lists equal the definition on random sparse rows (K around the 8-lane groups and blocks)",
        arguments: [1, 7, 8, 9, 130, 257], [64, 128])
    func listsMatchTheDefinition(k: Int, blockLength: Int) {
        let m = 7
        var generator = SplitMix64(seed: UInt64(k * 1000 + blockLength))
        let a = (0..<(m * k)).map { _ -> Float in
            let draw = generator.next() % 4
            return draw == 0 ? 0 : draw == 1 ? -0.0 : Float(Int(generator.next() % 200) - 100) / 10
        }
        let pairs = (m + 1) / 2
        let stride = ZeroSkipGEMM.pairListCount(k: k, blockLength: blockLength)
        var lists = [Int32](repeating: -1, count: pairs * stride + 1)
        lists[pairs * stride] = 12345  // a guard right past the last pair's lists
        let listed = ZeroSkipGEMM.listNonZero(0, pairs, m: m, a: a, k: k, blockLength: blockLength, lists: &lists)
        #expect(lists[pairs * stride] == 12345, "wrote past the lists")
        let blocks = (k + blockLength - 1) / blockLength
        var expectedTotal = 0
        for pair in 0..<pairs {
            let rows = [2 * pair, min(2 * pair + 1, m - 1)]
            let base = pair * stride
            for block in 0..<blocks {
                let expected = (block * blockLength..<min(k, (block + 1) * blockLength)).filter { column in
                    rows.contains { a[$0 * k + column] != 0 }
                }.map(Int32.init)
                let start = Int(lists[base + block])
                let end = Int(lists[base + block + 1])
                #expect(
                    Array(lists[(base + blocks + 1 + start)..<(base + blocks + 1 + end)]) == expected,
                    "pair \(pair) block \(block) of K \(k)")
                expectedTotal += expected.count
            }
        }
        #expect(listed == expectedTotal)
    }

    @Test(
        "an embedder with zero skipping equals one without, bit for bit",
        arguments: [(0.5, 64, 1), (0.5, 64, 2), (1.0, 32, 1)])
    func embedder(alpha: Double, size: Int, threads: Int) throws {
        let model = MobileNetV1.features(alpha: alpha, inputSize: size, weight: MobileNetV1.randomWeights(seed: 51))
        let input = Tensor(shape: [size, size, 3], uniformIn: -1...1, seed: 52)
        let skipping = try Embedder(model: model, threads: threads, gemmBackend: .packedSwiftAVX2, skipZeros: true)
        let dense = try Embedder(model: model, threads: threads, gemmBackend: .packedSwiftAVX2, skipZeros: false)
        let actual = try skipping.embed(input).scalars
        let expected = try dense.embed(input).scalars
        #expect(actual.contains { $0 != 0 } && actual.contains { $0 == 0 }, "not degenerate")
        #expect(zip(actual, expected).allSatisfy { $0 == $1 }, "α \(alpha) \(size)² threads \(threads)")
        // The pointwise layers with K ≥ 128 skip zeros: α 0.5 blocks 5…13, α 1 blocks 3…13.
        let skippingSteps = skipping.steps.filter { $0.kind.contains("zero skip") }.count
        #expect(skippingSteps == (alpha == 0.5 ? 9 : 11), "\(skipping.steps.map(\.kind))")
        #expect(!dense.steps.contains { $0.kind.contains("zero skip") })
    }
}
