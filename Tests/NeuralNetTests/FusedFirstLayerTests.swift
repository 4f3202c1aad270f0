// Twins of the fused first-layer training pass (Sources/NeuralNet/Training/FusedFirstLayer.swift): each kernel
// against its plain reference on ragged shapes (U not a multiple of 8, batches and chunks not multiples of 4),
// a whole fused step against the unfused reference step (forwardBackward(.reference) + Adam.stepReference), the
// chunked Adam against the one-pass Adam bit for bit, the prepared next-batch forward against a fresh one bit for
// bit, and three fused steps on the tf_keras golden batch.
import Foundation
import Testing

@testable import NeuralNet

@Suite("Fused first-layer training")
struct FusedFirstLayerTests {
    /// `count` random values in -1...1.
    static func randomValues(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in generator.nextFloat(in: -1...1) }
    }

    struct Shape: CustomTestStringConvertible, Sendable {
        var batch: Int, inputs: Int, first: Int, count: Int, units: Int
        var testDescription: String { "B\(batch) D\(inputs) [\(first)..+\(count)) U\(units)" }
    }

    static let shapes = [
        Shape(batch: 80, inputs: 200, first: 64, count: 64, units: 100),
        Shape(batch: 5, inputs: 70, first: 3, count: 67, units: 100),
        Shape(batch: 1, inputs: 9, first: 0, count: 9, units: 3),
        Shape(batch: 7, inputs: 33, first: 1, count: 30, units: 24),
        Shape(batch: 4, inputs: 16, first: 0, count: 16, units: 17),
        Shape(batch: 9, inputs: 40, first: 8, count: 5, units: 49),
        Shape(batch: 6, inputs: 20, first: 2, count: 13, units: 10),
    ]

    /// Row tables over a feature pool in a shuffled order (rows are not consecutive in memory).
    static func withRows<R>(
        _ pool: [Float], rows: Int, inputs: Int, seed: UInt64, _ body: (UnsafePointer<UnsafePointer<Float>>) -> R
    ) -> R {
        var generator = SplitMix64(seed: seed)
        var order = Array(0..<rows)
        DenseHead.shuffle(&order, using: &generator)
        return pool.withUnsafeBufferPointer { source in
            let table = order.map { UnsafePointer(source.baseAddress! + $0 * inputs) }
            return table.withUnsafeBufferPointer { body($0.baseAddress!) }
        }
    }

    @Test("weight gradient of a chunk: fast == reference; nothing written past the chunk", arguments: shapes)
    func weightGradient(_ shape: Shape) {
        let padded = FirstLayerKernel.paddedUnits(shape.units)
        let pool = Self.randomValues(shape.batch * shape.inputs, seed: 1)
        var delta = Self.randomValues(shape.batch * padded, seed: 2)
        for b in 0..<shape.batch { for unit in shape.units..<padded { delta[b * padded + unit] = 0 } }
        let size = shape.count * shape.units
        var reference = [Float](repeating: 0, count: size)
        var fast = [Float](repeating: .nan, count: size + FirstLayerKernel.slack)
        Self.withRows(pool, rows: shape.batch, inputs: shape.inputs, seed: 3) { rows in
            FirstLayerKernel.weightGradientReference(
                rows: rows, batch: shape.batch, first: shape.first, count: shape.count, delta: delta,
                units: shape.units, g: &reference)
            FirstLayerKernel.weightGradient(
                rows: rows, batch: shape.batch, first: shape.first, count: shape.count, delta: delta,
                units: shape.units, g: &fast)
        }
        expectClose(Array(fast[0..<size]), reference, tolerance: 1e-5, "g")
        let slackUntouched = fast[size...].allSatisfy { $0.isNaN }
        #expect(slackUntouched, "the slack after the chunk is untouched")
    }

    @Test("pre-activations of a chunk: fast == reference on the real columns", arguments: shapes)
    func accumulateForward(_ shape: Shape) {
        let padded = FirstLayerKernel.paddedUnits(shape.units)
        let pool = Self.randomValues(shape.batch * shape.inputs, seed: 4)
        let weights = Self.randomValues(shape.inputs * shape.units + FirstLayerKernel.slack, seed: 5)
        let start = Self.randomValues(shape.batch * padded, seed: 6)
        var reference = start
        var fast = start
        Self.withRows(pool, rows: shape.batch, inputs: shape.inputs, seed: 7) { rows in
            FirstLayerKernel.accumulateForwardReference(
                rows: rows, batch: shape.batch, first: shape.first, count: shape.count, w: weights,
                units: shape.units, pre: &reference)
            FirstLayerKernel.accumulateForward(
                rows: rows, batch: shape.batch, first: shape.first, count: shape.count, w: weights,
                units: shape.units, pre: &fast)
        }
        for b in 0..<shape.batch {
            expectClose(
                Array(fast[(b * padded)..<(b * padded + shape.units)]),
                Array(reference[(b * padded)..<(b * padded + shape.units)]), tolerance: 1e-5, "pre row \(b)")
        }
    }

    @Test("Adam by disjoint ranges then finishStep == one step, bit for bit", arguments: [1, 17, 100, 1000])
    func chunkedAdam(count: Int) {
        let whole = Adam(parameterCount: count, learningRate: 0.01)
        let chunked = Adam(parameterCount: count, learningRate: 0.01)
        var first = Self.randomValues(count, seed: 8)
        var second = first
        for step in 0..<3 {
            let gradients = Self.randomValues(count, seed: 9 + UInt64(step))
            whole.step(parameters: &first, gradients: gradients)
            var start = 0
            for size in [3, 64, 1, 500, count].cycled(until: count) {
                let range = start..<min(count, start + size)
                gradients.withUnsafeBufferPointer { g in
                    chunked.update(parameters: &second, gradients: g.baseAddress! + range.lowerBound, range: range)
                }
                start = range.upperBound
            }
            chunked.finishStep()
        }
        #expect(first == second)
        #expect(whole.firstMoments == chunked.firstMoments && whole.secondMoments == chunked.secondMoments)
        #expect(whole.iterations == chunked.iterations)
    }

    struct StepCase: CustomTestStringConvertible, Sendable {
        var shape: [Int], hidden: Int, classes: Int, samples: Int, batch: Int, outputBias: Bool, sparse = false
        var testDescription: String {
            "\(shape) U\(hidden) K\(classes) N\(samples) B\(batch)\(outputBias ? " b2" : "")\(sparse ? " sparse" : "")"
        }
    }

    @Test(
        "fused steps == unfused reference steps (forwardBackward(.reference) + Adam.stepReference)",
        arguments: [
            StepCase(shape: [3, 3, 20], hidden: 100, classes: 4, samples: 20, batch: 8, outputBias: false),
            StepCase(shape: [2, 2, 33], hidden: 13, classes: 3, samples: 11, batch: 5, outputBias: true),
            StepCase(shape: [1, 1, 7], hidden: 5, classes: 2, samples: 6, batch: 3, outputBias: false),
            StepCase(
                shape: [3, 3, 20], hidden: 100, classes: 4, samples: 20, batch: 8, outputBias: false, sparse: true),
            StepCase(shape: [2, 2, 33], hidden: 13, classes: 3, samples: 11, batch: 5, outputBias: true, sparse: true),
            StepCase(
                shape: [4, 4, 10], hidden: 230, classes: 3, samples: 9, batch: 4, outputBias: false, sparse: true),
        ])
    func fusedStepMatchesReference(_ c: StepCase) throws {
        let architecture = HeadArchitecture(
            inputShape: c.shape, hiddenUnits: c.hidden, classes: c.classes, outputBias: c.outputBias)
        let d = architecture.inputCount
        let fused = try DenseHead(architecture: architecture, seed: 11)
        let reference = fused.copy()
        let parameterCount = architecture.parameterCount
        let fusedAdam = Adam(parameterCount: parameterCount, learningRate: 0.001)
        let referenceAdam = Adam(parameterCount: parameterCount, learningRate: 0.001)
        let pool = Self.randomValues(c.samples * d, seed: 12).map { max($0, 0) * 3 }  // ReLU-like features
        let labels = (0..<c.samples).map { $0 % c.classes }
        let workspace = TrainingWorkspace(architecture: architecture, rows: c.batch, inputGradient: false)
        // Batches: consecutive windows of a shuffled order, each step announcing the next.
        var generator = SplitMix64(seed: 13)
        var order = Array(0..<c.samples)
        DenseHead.shuffle(&order, using: &generator)
        let batches = stride(from: 0, to: c.samples, by: c.batch).map {
            Array(order[$0..<min(c.samples, $0 + c.batch)])
        }
        pool.withUnsafeBufferPointer { source in
            let trainer = FusedHeadTrainer(
                head: fused, adam: fusedAdam, capacity: c.batch, features: source.baseAddress!, samples: c.samples,
                sparse: c.sparse
                    ? FusedHeadTrainer.sparseFeatures(
                        source.baseAddress!, samples: c.samples, inputs: d, maximumDensity: 1)
                    : nil)
            for (index, batch) in (batches + batches).enumerated() {
                let upcoming = (batches + batches).dropFirst(index + 1).first ?? []
                for (row, sample) in batch.enumerated() {
                    trainer.batchSamples[row] = Int32(sample)
                    trainer.labels[row] = Int32(labels[sample])
                    (workspace.x + row * d).update(from: source.baseAddress! + sample * d, count: d)
                    workspace.labels[row] = Int32(labels[sample])
                }
                for (row, sample) in upcoming.enumerated() { trainer.nextSamples[row] = Int32(sample) }
                let fusedResult = trainer.step(rows: batch.count, nextCount: upcoming.count)
                let referenceResult = reference.forwardBackward(workspace, rows: batch.count, path: .reference)
                referenceAdam.stepReference(parameters: reference.parameters, gradients: workspace.gradients)
                #expect(fusedResult.finite && fusedResult.correct == referenceResult.correct)
                #expect(abs(fusedResult.loss - referenceResult.loss) <= 1e-5 * (1 + referenceResult.loss))
                let fusedParameters = Array(UnsafeBufferPointer(start: fused.parameters, count: parameterCount))
                let referenceParameters = Array(
                    UnsafeBufferPointer(start: reference.parameters, count: parameterCount))
                expectClose(fusedParameters, referenceParameters, tolerance: 1e-5, "θ after step \(index + 1)")
            }
        }
        #expect(fusedAdam.iterations == referenceAdam.iterations)
        expectClose(fusedAdam.secondMoments, referenceAdam.secondMoments, tolerance: 1e-5, "v")
    }

    @Test("the next batch's forward prepared inside a step == computed fresh, bit for bit")
    func preparedForwardIsExact() throws {
        let architecture = HeadArchitecture(inputShape: [5, 5, 9], hiddenUnits: 100, classes: 3)
        let d = architecture.inputCount
        let pool = Self.randomValues(12 * d, seed: 14).map { max($0, 0) }
        let labels = (0..<12).map { Int32($0 % 3) }
        var results: [[Float]] = []
        for announce in [true, false] {
            let head = try DenseHead(architecture: architecture, seed: 15)
            pool.withUnsafeBufferPointer { source in
                let trainer = FusedHeadTrainer(
                    head: head, adam: Adam(parameterCount: architecture.parameterCount, learningRate: 0.01),
                    capacity: 6, features: source.baseAddress!, samples: 12)
                for step in 0..<4 {
                    let first = (step % 2) * 6
                    for row in 0..<6 {
                        trainer.batchSamples[row] = Int32(first + row)
                        trainer.labels[row] = labels[first + row]
                        trainer.nextSamples[row] = Int32((first + 6) % 12 + row)
                    }
                    _ = trainer.step(rows: 6, nextCount: announce ? 6 : 0)
                }
            }
            results.append(head.hiddenKernel + head.hiddenBias + head.outputKernel)
        }
        #expect(results[0] == results[1])
    }

    @Test(
        "three fused steps on the golden batch match tf_keras' Adam (dense and compressed features)",
        arguments: [false, true])
    func goldenAdamSteps(sparse: Bool) throws {
        let golden = try HeadGolden.load()
        let head = try golden.initialHead()
        let rows = golden.labels.count
        let d = golden.architecture.inputCount
        golden.features.withUnsafeBufferPointer { source in
            let trainer = FusedHeadTrainer(
                head: head,
                adam: Adam(
                    parameterCount: golden.architecture.parameterCount, learningRate: golden.learningRate,
                    epsilon: golden.epsilon), capacity: rows, features: source.baseAddress!, samples: rows,
                sparse: sparse
                    ? FusedHeadTrainer.sparseFeatures(source.baseAddress!, samples: rows, inputs: d, maximumDensity: 1)
                    : nil)
            for row in 0..<rows {
                trainer.batchSamples[row] = Int32(row)
                trainer.nextSamples[row] = Int32(row)
                trainer.labels[row] = Int32(golden.labels[row])
            }
            for step in 0..<golden.adamSteps {
                _ = trainer.step(rows: rows, nextCount: step + 1 < golden.adamSteps ? rows : 0)
            }
        }
        expectClose(head.hiddenKernel, golden.afterKernel1, tolerance: 1e-5, "W1 after Adam")
        expectClose(head.hiddenBias, golden.afterBias1, tolerance: 1e-5, "b1 after Adam")
        expectClose(head.outputKernel, golden.afterKernel2, tolerance: 1e-5, "W2 after Adam")
    }
}

extension Array where Element == Int {
    /// The sizes repeated until they add up to at least `total`.
    fileprivate func cycled(until total: Int) -> [Int] {
        var result: [Int] = []
        var sum = 0
        while sum < total {
            for size in self where sum < total {
                result.append(size)
                sum += size
            }
        }
        return result
    }
}
