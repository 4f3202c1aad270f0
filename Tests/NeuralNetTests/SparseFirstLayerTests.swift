// Twins of the sparse first-layer kernels (Sources/NeuralNet/Training/SparseFirstLayer.swift): the compressed rows
// against the dense features they came from, each sparse kernel (on a staged batch) against the dense fast kernel
// (bit for bit) and the plain reference over a whole sweep of chunks (U below, at and above one 104-column group; empty and full rows),
// and whole training runs on compressed vs dense features (the same weights, bit for bit).
import Testing

@testable import NeuralNet

@Suite("Sparse first-layer training")
struct SparseFirstLayerTests {
    struct Shape: CustomTestStringConvertible, Sendable {
        var batch: Int, samples: Int, inputs: Int, units: Int, density: Float
        var testDescription: String { "B\(batch) N\(samples) D\(inputs) U\(units) density \(density)" }
    }

    static let shapes = [
        Shape(batch: 80, samples: 100, inputs: 300, units: 100, density: 0.25),
        Shape(batch: 5, samples: 7, inputs: 130, units: 100, density: 0.5),
        Shape(batch: 1, samples: 3, inputs: 9, units: 3, density: 0.3),
        Shape(batch: 7, samples: 9, inputs: 70, units: 104, density: 0.2),
        Shape(batch: 6, samples: 6, inputs: 65, units: 230, density: 0.1),
        Shape(batch: 9, samples: 12, inputs: 40, units: 17, density: 1),
    ]

    /// `samples` rows of `inputs` post-ReLU-like features: about `density` of them in (0, 6], the rest 0; sample 0 is
    /// all zeros and sample 1 has no zeros.
    static func features(_ shape: Shape, seed: UInt64) -> [Float] {
        var generator = SplitMix64(seed: seed)
        var pool = [Float](repeating: 0, count: shape.samples * shape.inputs)
        for sample in 0..<shape.samples {
            for input in 0..<shape.inputs {
                let keep = sample == 1 || (sample != 0 && generator.nextFloat(in: 0...1) < shape.density)
                if keep { pool[sample * shape.inputs + input] = generator.nextFloat(in: 0.01...6) }
            }
        }
        return pool
    }

    /// A batch order over the samples (shuffled; rows not consecutive in memory).
    static func batchSamples(_ shape: Shape, seed: UInt64) -> [Int32] {
        var generator = SplitMix64(seed: seed)
        var order = Array(0..<shape.samples)
        DenseHead.shuffle(&order, using: &generator)
        return order.prefix(shape.batch).map { Int32($0) }
    }

    @Test("compressed rows hold exactly the non-zero features, in order", arguments: shapes)
    func compressedRows(_ shape: Shape) {
        let pool = Self.features(shape, seed: 1)
        let nonZero = pool.withUnsafeBufferPointer { SparseFeatures.nonZeroCount($0.baseAddress!, count: pool.count) }
        #expect(nonZero == pool.filter { $0 != 0 }.count)
        let sparse = pool.withUnsafeBufferPointer {
            SparseFeatures($0.baseAddress!, samples: shape.samples, inputs: shape.inputs, nonZero: nonZero)
        }
        var dense = [Float](repeating: 0, count: pool.count)
        for chunk in 0..<sparse.chunks {
            for sample in 0..<shape.samples {
                var previous = -1
                for n in sparse.range(chunk: chunk, sample: sample) {
                    let input = chunk * FirstLayerKernel.chunkRows + Int(sparse.indices[n])
                    #expect(input > previous && input < min(shape.inputs, (chunk + 1) * FirstLayerKernel.chunkRows))
                    previous = input
                    dense[sample * shape.inputs + input] = sparse.values[n]
                }
            }
        }
        #expect(dense == pool)
        #expect((0..<sparse.chunks).allSatisfy { sparse.range(chunk: $0, sample: 0).isEmpty }, "sample 0 is all 0")
        #expect(sparse.nonZeroCount == nonZero)
    }

    /// `pool` compressed, and the batch `samples` of it staged in a batch of `capacity` rows.
    static func staged(_ shape: Shape, pool: [Float], samples: [Int32], capacity: Int) -> SparseBatch {
        let sparse = pool.withUnsafeBufferPointer {
            FusedHeadTrainer.sparseFeatures(
                $0.baseAddress!, samples: shape.samples, inputs: shape.inputs, maximumDensity: 1)!
        }
        let staged = SparseBatch(capacity: capacity, for: sparse)
        samples.withUnsafeBufferPointer { staged.stage(sparse, samples: $0.baseAddress!, rows: shape.batch) }
        return staged
    }

    @Test("weight gradient, chunk by chunk: sparse == dense fast bit for bit, and == reference", arguments: shapes)
    func weightGradient(_ shape: Shape) {
        let (padded, units, chunk) = (
            FirstLayerKernel.paddedUnits(shape.units), shape.units, FirstLayerKernel.chunkRows
        )
        let pool = Self.features(shape, seed: 2)
        let samples = Self.batchSamples(shape, seed: 3)
        var generator = SplitMix64(seed: 4)
        var delta = [Float](repeating: 0, count: shape.batch * padded + FirstLayerKernel.slack)
        for b in 0..<shape.batch {
            for unit in 0..<units { delta[b * padded + unit] = generator.nextFloat(in: -1...1) }
        }
        let staged = Self.staged(shape, pool: pool, samples: samples, capacity: shape.batch)
        let scratch = SparseChunkScratch(capacity: shape.batch)
        pool.withUnsafeBufferPointer { source in
            let rows = samples.map { UnsafePointer(source.baseAddress! + Int($0) * shape.inputs) }
            for first in stride(from: 0, to: shape.inputs, by: chunk) {
                let count = min(chunk, shape.inputs - first)
                var reference = [Float](repeating: 0, count: count * units)
                var fast = [Float](repeating: .nan, count: count * units + FirstLayerKernel.slack)
                var fromSparse = fast
                FirstLayerKernel.weightGradientReference(
                    rows: rows, batch: shape.batch, first: first, count: count, delta: delta, units: units,
                    g: &reference)
                FirstLayerKernel.weightGradient(
                    rows: rows, batch: shape.batch, first: first, count: count, delta: delta, units: units, g: &fast)
                FirstLayerKernel.sparseWeightGradient(
                    staged, chunk: first / chunk, inputs: shape.inputs, scratch: scratch, delta: delta, units: units,
                    g: &fromSparse)
                #expect(fromSparse[0..<(count * units)] == fast[0..<(count * units)], "g of chunk at \(first)")
                #expect(fromSparse[(count * units)...].allSatisfy { $0.isNaN }, "nothing written past the chunk")
                expectClose(Array(fromSparse[0..<(count * units)]), reference, tolerance: 1e-4, "g at \(first)")
            }
        }
    }

    @Test("pre-activations, chunk by chunk: sparse == dense fast bit for bit, and == reference", arguments: shapes)
    func accumulateForward(_ shape: Shape) {
        let (padded, units, chunk) = (
            FirstLayerKernel.paddedUnits(shape.units), shape.units, FirstLayerKernel.chunkRows
        )
        let pool = Self.features(shape, seed: 5)
        let samples = Self.batchSamples(shape, seed: 6)
        var generator = SplitMix64(seed: 7)
        let weights = (0..<(shape.inputs * units + FirstLayerKernel.slack)).map { _ in generator.nextFloat(in: -1...1) }
        let initial = (0..<(shape.batch * padded + FirstLayerKernel.slack)).map { _ in generator.nextFloat(in: -1...1) }
        var (reference, fast, fromSparse) = (initial, initial, initial)
        let staged = Self.staged(shape, pool: pool, samples: samples, capacity: shape.batch + 2)
        pool.withUnsafeBufferPointer { source in
            let rows = samples.map { UnsafePointer(source.baseAddress! + Int($0) * shape.inputs) }
            for first in stride(from: 0, to: shape.inputs, by: chunk) {
                let count = min(chunk, shape.inputs - first)
                FirstLayerKernel.accumulateForwardReference(
                    rows: rows, batch: shape.batch, first: first, count: count, w: weights, units: units,
                    pre: &reference)
                FirstLayerKernel.accumulateForward(
                    rows: rows, batch: shape.batch, first: first, count: count, w: weights, units: units, pre: &fast)
                FirstLayerKernel.sparseAccumulateForward(
                    staged, chunk: first / chunk, w: weights, units: units, pre: &fromSparse)
            }
        }
        for b in 0..<shape.batch {
            let real = (b * padded)..<(b * padded + units)
            #expect(fromSparse[real] == fast[real], "pre row \(b)")
            expectClose(Array(fromSparse[real]), Array(reference[real]), tolerance: 1e-4, "pre row \(b)")
        }
        #expect(fromSparse[(shape.batch * padded)...] == initial[(shape.batch * padded)...], "slack untouched")
    }

    @Test(
        "whole training runs: compressed features give the dense run's weights and losses, bit for bit",
        arguments: [([7, 7, 16], 0.25), ([2, 2, 50], 0.6), ([3, 3, 8], 1.0)])
    func sparseTrainingMatchesDense(shape: [Int], density: Double) throws {
        let (features, labels) = HeadBenchmark.separableFeatures(
            classes: 4, perClass: 9, shape: shape, seed: 8, density: density)
        var heads: [[Float]] = []
        var losses: [Float?] = []
        for firstLayer in [FirstLayerFeatures.dense, .sparse] {
            let (head, summary) = try DenseHead.trained(
                inputShape: shape, classes: 4, features: features, labels: labels,
                options: TrainingOptions(learningRate: 0.001, epochs: 4, seed: 9), firstLayer: firstLayer)
            heads.append(head.hiddenKernel + head.hiddenBias + head.outputKernel)
            losses.append(summary.finalLoss)
        }
        #expect(heads[0] == heads[1])
        #expect(losses[0] == losses[1])
    }

    @Test("synthetic benchmark features have the density asked for", arguments: [0.1, 0.25, 0.5, 1.0])
    func syntheticDensity(density: Double) {
        let (features, _) = HeadBenchmark.separableFeatures(
            classes: 4, perClass: 10, shape: [7, 7, 64], seed: 3, density: density)
        let measured = Double(features.filter { $0 != 0 }.count) / Double(features.count)
        #expect(abs(measured - density) < 0.02, "measured \(measured)")
    }
}
