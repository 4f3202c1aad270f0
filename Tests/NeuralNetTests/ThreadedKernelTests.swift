// The threaded paths against their one-thread twins and the reference: the packed GEMM split by row blocks and
// by column panels (every split forced on every shape, odd sizes, M below one tile, more parts than tiles or
// panels), the split chooser on MobileNet's shapes, the worker pool (every part once, nested and concurrent
// callers), add and pad split by chunks, and whole v1/v2 embedders at 1, 2 and 3 threads. A split never changes
// the order of any sum, so threaded results must equal one thread's bit for bit.
import Foundation
import Synchronization
import Testing

@testable import NeuralNet

@Suite("Threaded kernels: split vs one thread vs reference")
struct ThreadedKernelTests {
    static let packedBackends: [GEMMBackend] = [.packedSwift, .packedSwiftAVX2]

    /// C of `packedGEMMThreaded` (or its AVX2 twin) with `split` forced, on weights packed for `backend`.
    static func threadedGEMM(
        backend: GEMMBackend, m: Int, k: Int, n: Int, a: [Float], b: [Float], bias: [Float]?,
        clamp: (low: Float, high: Float), threads: Int, split: GEMMSplit?
    ) -> [Float] {
        var c = [Float](repeating: .nan, count: m * n + 1)
        c[m * n] = 12345
        let weights = GEMMWeights(k: k, n: n, b, backend: backend)
        bias.withOptionalPointer { bias in
            if backend == .packedSwift {
                packedGEMMThreaded(
                    m: m, a: a, lda: k, weights: weights.packed!, bias: bias, clampLow: clamp.low,
                    clampHigh: clamp.high, c: &c, ldc: n, threads: threads, split: split)
            } else {
                packedGEMMThreadedAVX2(
                    m: m, a: a, lda: k, weights: weights.packedAVX2!, bias: bias, clampLow: clamp.low,
                    clampHigh: clamp.high, c: &c, ldc: n, threads: threads, split: split)
            }
        }
        #expect(c[m * n] == 12345, "\(backend) wrote past C at \(m)x\(k)x\(n)")
        return Array(c.prefix(m * n))
    }

    @Test(
        "packed GEMM split by rows or panels equals one thread bit for bit and the reference (M < 1 tile … 196)",
        arguments: packedBackends, [1, 2, 3])
    func threadedGEMM(backend: GEMMBackend, threads: Int) {
        for m in [1, 5, 11, 13, 25, 49, 196] {
            // K 8 and 16 take the unrolled whole-tile kernels, 300 and 600 cross the AVX2 (256) and AVX-512 (512) K
            // blocks; N covers partial vectors and panels, and one panel and a half (24, 48: the 1½-panel tiles).
            for k in [1, 8, 16, 17, 300, 600] {
                for n in [1, 9, 24, 33, 48, 100, 160] {
                    let a = randomScalars(m * k, seed: UInt64(31 + m))
                    let b = randomScalars(k * n, seed: UInt64(32 + n))
                    let bias = randomScalars(n, seed: 33)
                    let bound = Float(k).squareRoot() / 2
                    let clamp = (low: -bound, high: bound)
                    var expected = [Float](repeating: 0, count: m * n)
                    GEMM.reference(rows: m, a: a, b: b, k: k, n: n, bias: bias, clamp: clamp, c: &expected)
                    var single = [Float](repeating: .nan, count: m * n)
                    GEMM.multiply(
                        rows: m, a: a, weights: GEMMWeights(k: k, n: n, b, backend: backend), bias: bias,
                        clamp: clamp, c: &single)
                    expectClose(
                        single, expected, tolerance: 1e-5 * Float(k).squareRoot(), "\(backend) \(m)x\(k)x\(n)")
                    var splits: [GEMMSplit?] = [nil]
                    for parts in [2, 3, 5] {
                        splits.append(GEMMSplit(byRows: true, parts: parts))
                        splits.append(GEMMSplit(byRows: false, parts: parts))
                    }
                    for split in splits {
                        let actual = Self.threadedGEMM(
                            backend: backend, m: m, k: k, n: n, a: a, b: b, bias: bias, clamp: clamp,
                            threads: threads, split: split)
                        #expect(
                            actual == single,
                            "\(backend) \(m)x\(k)x\(n) threads \(threads) split \(String(describing: split))")
                    }
                }
            }
        }
    }

    @Test("GEMM.multiply at 1, 2, 3 threads (the chooser's split) equals one thread, with and without bias")
    func multiplyThreads() {
        for backend in GEMMBackend.allCases {
            for (m, k, n) in [(49, 256, 1024), (196, 128, 96), (3136, 32, 64), (7, 500, 70)] {
                let a = randomScalars(m * k, seed: 41)
                let b = randomScalars(k * n, seed: 42)
                let bias = randomScalars(n, seed: 43)
                let weights = GEMMWeights(k: k, n: n, b, backend: backend)
                for withBias in [true, false] {
                    var single = [Float](repeating: .nan, count: m * n)
                    GEMM.multiply(
                        rows: m, a: a, weights: weights, bias: withBias ? bias : nil, clamp: (0, 6), c: &single)
                    var expected = [Float](repeating: 0, count: m * n)
                    GEMM.reference(
                        rows: m, a: a, b: b, k: k, n: n, bias: withBias ? bias : nil, clamp: (0, 6), c: &expected)
                    expectClose(single, expected, tolerance: 1e-5 * Float(k).squareRoot(), "\(backend) \(m)x\(k)x\(n)")
                    for threads in [2, 3] {
                        var threaded = [Float](repeating: .nan, count: m * n)
                        GEMM.multiply(
                            rows: m, a: a, weights: weights, bias: withBias ? bias : nil, clamp: (0, 6), c: &threaded,
                            threads: threads)
                        if backend == .openBLAS {
                            expectClose(threaded, single, tolerance: 1e-5, "openblas \(m)x\(k)x\(n) threads \(threads)")
                        } else {
                            #expect(threaded == single, "\(backend) \(m)x\(k)x\(n) threads \(threads)")
                        }
                    }
                }
            }
        }
    }

    @Test("the split chooser: rows for big spatial layers, panels for M = 49 and 196, nothing for small GEMMs")
    func chooser() {
        func choose(_ m: Int, _ k: Int, _ n: Int, threads: Int = 2) -> GEMMSplit {
            GEMMSplit.choose(m: m, n: n, k: k, rowsPerTile: 12, columnsPerPanel: 32, threads: threads)
        }
        #expect(choose(12544, 32, 64) == GEMMSplit(byRows: true, parts: 2))  // v1 1.0 conv_pw_1
        #expect(choose(3136, 128, 128) == GEMMSplit(byRows: true, parts: 2))  // conv_pw_3
        #expect(choose(196, 512, 512) == GEMMSplit(byRows: false, parts: 2))  // conv_pw_7…11
        #expect(choose(49, 1024, 1024) == GEMMSplit(byRows: false, parts: 2))  // conv_pw_13
        #expect(choose(49, 1024, 1024, threads: 3) == GEMMSplit(byRows: false, parts: 3))
        #expect(choose(49, 1024, 1024, threads: 1).parts == 1)
        #expect(choose(49, 64, 32).parts == 1)  // 100 k multiply-accumulates: below the threshold
        #expect(choose(5, 1024, 32) == GEMMSplit(byRows: true, parts: 1))  // one tile, one panel
        #expect(choose(5, 4096, 64) == GEMMSplit(byRows: false, parts: 2))  // one tile: panels
        #expect(ThreadSplit.threads(multiplyAccumulates: 149_999, requested: 2) == 1)
        #expect(ThreadSplit.threads(multiplyAccumulates: 150_000, requested: 2) == 2)
        #expect(ThreadSplit.threads(elements: 16_383, requested: 4) == 1)
        #expect(ThreadSplit.threads(elements: 16_384, requested: 4) == 4)
    }

    @Test("the worker pool runs every part exactly once", arguments: [1, 2, 3, 4])
    func poolParts(threads: Int) {
        for parts in [0, 1, 2, 3, 7, 64] {
            let counts = UnsafeMutablePointer<Int>.allocate(capacity: max(parts, 1) * 8)
            counts.initialize(repeating: 0, count: max(parts, 1) * 8)
            defer { counts.deallocate() }
            for _ in 0..<50 {
                WorkerPool.shared.run(parts: parts, threads: threads) { part in counts[part * 8] += 1 }
            }
            for part in 0..<parts { #expect(counts[part * 8] == 50, "part \(part) of \(parts), \(threads) threads") }
        }
    }

    @Test("a part that splits again runs its inner parts inline; two callers at once both finish")
    func poolNestedAndConcurrent() async {
        let total = Atomic<Int>(0)
        WorkerPool.shared.run(parts: 4, threads: 2) { _ in
            WorkerPool.shared.run(parts: 3, threads: 2) { _ in total.add(1, ordering: .relaxed) }
        }
        #expect(total.load(ordering: .relaxed) == 12)
        let sums = await withTaskGroup(of: Int.self) { group in
            for caller in 0..<4 {
                group.addTask {
                    let local = Atomic<Int>(0)
                    for _ in 0..<200 {
                        WorkerPool.shared.run(parts: 5, threads: 2) { part in
                            local.add(part + caller, ordering: .relaxed)
                        }
                    }
                    return local.load(ordering: .relaxed)
                }
            }
            var sums: [Int] = []
            for await sum in group { sums.append(sum) }
            return sums.sorted()
        }
        #expect(sums == (0..<4).map { 200 * (10 + 5 * $0) })
    }

    @Test("add and zero padding split over threads equal the reference", arguments: [1, 2, 3])
    func addAndPad(threads: Int) {
        for count in [1, 15, 17, 100_003] {
            let a = randomScalars(count, seed: 51)
            let b = randomScalars(count, seed: 52)
            var expected = [Float](repeating: 0, count: count)
            var actual = [Float](repeating: .nan, count: count)
            AddTensors.reference(a, b, count: count, clamp: (0, 6), output: &expected)
            AddTensors.simd(a, b, count: count, clamp: (0, 6), output: &actual, threads: threads)
            #expect(actual == expected, "add \(count) threads \(threads)")
        }
        for (height, width, channels) in [(1, 1, 3), (7, 5, 17), (112, 112, 32)] {
            let padding = Padding2D(top: 1, bottom: 2, left: 0, right: 1)
            let input = randomScalars(height * width * channels, seed: 53)
            let outCount = (height + 3) * (width + 1) * channels
            var expected = [Float](repeating: .nan, count: outCount)
            var actual = expected
            ZeroPad.reference(
                input: input, height: height, width: width, channels: channels, padding: padding, output: &expected)
            ZeroPad.fast(
                input: input, height: height, width: width, channels: channels, padding: padding, output: &actual,
                threads: threads)
            #expect(actual == expected, "pad \(height)x\(width)x\(channels) threads \(threads)")
        }
    }

    @Test(
        "v1 and v2 embedders at 2 and 3 threads equal one thread bit for bit; steps split above the thresholds",
        arguments: GEMMBackend.allCases.filter { $0 != .openBLAS })
    func embedders(backend: GEMMBackend) throws {
        let v1 = MobileNetV1.features(alpha: 1.0, inputSize: 128, weight: MobileNetV1.randomWeights(seed: 61))
        let v2 = MobileNetV2.features(alpha: 1.0, inputSize: 128, weight: MobileNetV1.randomWeights(seed: 62))
        let input = Tensor(shape: [128, 128, 3], uniformIn: -1...1, seed: 63)
        for (model, layer) in [(v1, "conv_pw_13_relu"), (v2, "block_15_add")] {
            let single = try Embedder(model: model, outputLayer: layer, threads: 1, gemmBackend: backend)
            #expect(single.steps.allSatisfy { $0.threads == 1 })
            let expected = try single.embed(input)
            for threads in [2, 3] {
                let embedder = try Embedder(model: model, outputLayer: layer, threads: threads, gemmBackend: backend)
                for step in embedder.steps {
                    let large =
                        step.kind == "add" || step.kind == "pad"
                        ? step.outputShape.reduce(1, *) >= ThreadSplit.minimumElements
                        : step.multiplyAccumulates >= ThreadSplit.minimumMultiplyAccumulates
                    #expect(step.threads == (large ? threads : 1), "\(step.layerNames[0]) \(step.kind)")
                }
                #expect(embedder.steps.contains { $0.threads == threads && $0.kind.hasPrefix("pointwise") })
                #expect(embedder.steps.contains { $0.threads == threads && $0.kind.hasPrefix("depthwise") })
                #expect(embedder.steps.contains { $0.threads == threads && $0.kind.hasSuffix("direct") })
                if layer == "block_15_add" {
                    #expect(embedder.steps.contains { $0.threads == threads && $0.kind == "add" })
                }
                let actual = try embedder.embed(input)
                #expect(actual.scalars == expected.scalars, "\(layer) \(backend) threads \(threads)")
            }
        }
    }
}

extension Optional where Wrapped == [Float] {
    /// Runs `body` with a pointer to the array's scalars, or nil.
    fileprivate func withOptionalPointer<Result>(_ body: (UnsafePointer<Float>?) -> Result) -> Result {
        guard let array = self else { return body(nil) }
        return array.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
