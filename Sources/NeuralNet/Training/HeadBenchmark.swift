// Head training benchmark (`gesturepad bench train`): trains a fresh head on synthetic, separable,
// ReLU-like features of an embedder's cut shape and times whole `DenseHead.trained` runs. The issue's
// bars: 4 classes × 50 samples, 20 epochs, one core: ≤ 0.3 s for [7,7,256], ≤ 1 s for [7,7,1024].
// The features' density (non-zero fraction) defaults to 0.25, what real cuts give: 0.16–0.32 of MobileNet
// v1 0.25's and v1 1.0's conv_pw_13_relu outputs are non-zero on the five test photos; `--density 1` gives
// the dense features of earlier sessions' figures.
import Foundation

/// Timing of head training on synthetic data; Codable for `--json`.
public struct HeadBenchmarkReport: Codable, Sendable {
    public var featureShape: [Int]
    public var classes: Int
    public var samplesPerClass: Int
    public var epochs: Int
    public var hiddenUnits: Int
    public var batchSize: Int
    public var threads: Int
    public var targetCPU: String
    public var blas: String
    /// Wall time of each timed run (whole `trained` call: initialisation, validation, all epochs).
    public var runMilliseconds: [Double]
    public var medianMilliseconds: Double
    public var minimumMilliseconds: Double
    public var finalLoss: Float
    public var finalAccuracy: Float
    /// Non-zero fraction of the synthetic features, and the first-layer kernels asked for (auto, dense, sparse).
    public var density: Double
    public var firstLayer: String
}

/// Runs head-training benchmarks.
public enum HeadBenchmark {
    /// `perClass` samples per class of shape `shape`: non-negative noise U(0, 1) plus 1 on the
    /// features of the class's own contiguous block (1/classes of the features), so a linear
    /// classifier separates them — a stand-in for post-ReLU MobileNet features. With `density` < 1 most
    /// features are 0, as after a ReLU: a feature of the class's own block is non-zero with probability
    /// min(1, 2·density), any other with the rest of `density` (so `density` of all are non-zero on average).
    /// `density` 1 gives every feature (the same values as before densities existed).
    public static func separableFeatures(
        classes: Int, perClass: Int, shape: [Int], seed: UInt64, density: Double = 1
    ) -> (features: [Float], labels: [Int]) {
        precondition(density > 0 && density <= 1 && classes >= 2)
        let d = shape.reduce(1, *)
        let ownChance = min(1, 2 * density)
        let otherChance = (Double(classes) * density - ownChance) / Double(classes - 1)
        var generator = SplitMix64(seed: seed)
        var features = [Float](repeating: 0, count: classes * perClass * d)
        var labels: [Int] = []
        for sample in 0..<(classes * perClass) {
            let label = sample % classes
            for index in 0..<d {
                let own = index * classes / d == label
                let chance = own ? ownChance : otherChance
                if chance < 1 && Double(generator.nextFloat(in: 0...1)) >= chance { continue }
                features[sample * d + index] = generator.nextFloat(in: 0...1) + (own ? 1 : 0)
            }
            labels.append(label)
        }
        return (features, labels)
    }

    /// Trains `runs` fresh heads (after one untimed warm-up) and reports their wall times.
    public static func run(
        classes: Int, samplesPerClass: Int, featureShape: [Int], options: TrainingOptions,
        density: Double = 1, firstLayer: FirstLayerFeatures = .auto, runs: Int, threads: Int, targetCPU: String
    ) throws(NeuralNetError) -> HeadBenchmarkReport {
        GEMM.setThreadCount(threads)
        let (features, labels) = separableFeatures(
            classes: classes, perClass: samplesPerClass, shape: featureShape,
            seed: options.seed &+ 1, density: density)
        var times: [Double] = []
        var last: TrainingSummary?
        for run in 0...max(1, runs) {
            let (_, summary) = try DenseHead.trained(
                inputShape: featureShape, classes: classes, features: features,
                labels: labels, options: options, firstLayer: firstLayer)
            if run > 0 { times.append(summary.milliseconds) }
            last = summary
        }
        let sorted = times.sorted()
        return HeadBenchmarkReport(
            featureShape: featureShape, classes: classes, samplesPerClass: samplesPerClass, epochs: options.epochs,
            hiddenUnits: options.hiddenUnits, batchSize: last?.batchSize ?? 0, threads: threads, targetCPU: targetCPU,
            blas: GEMM.backendDescription, runMilliseconds: times, medianMilliseconds: sorted[sorted.count / 2],
            minimumMilliseconds: sorted[0], finalLoss: last?.finalLoss ?? .nan,
            finalAccuracy: last?.finalAccuracy ?? .nan, density: density, firstLayer: firstLayer.rawValue)
    }
}

/// Timing of one head prediction (one frame's features → probabilities) along one first-layer path.
public struct HeadPredictTiming: Codable, Sendable {
    /// "gemm swift-avx2" (the packed GEMM the predictor used before DenseRow), "dense-row float16 8 lanes", ….
    public var path: String
    /// Bytes of first-layer weights the path streams per prediction.
    public var weightBytes: Int
    /// Median of back-to-back predictions (weights warm in the caches).
    public var warmMedianMilliseconds: Double
    /// Median of predictions after 64 MiB of other memory was touched (as the embedder does between frames).
    public var coldMedianMilliseconds: Double
    /// Largest |p − p_reference| over the classes against the plain float32 reference.
    public var maximumProbabilityDifference: Float
}

/// Head predict latency of every first-layer path on one feature shape, measured in one run.
public struct HeadPredictBenchmarkReport: Codable, Sendable {
    public var featureShape: [Int]
    public var hiddenUnits: Int
    public var classes: Int
    public var runs: Int
    public var targetCPU: String
    public var timings: [HeadPredictTiming]
}

extension HeadBenchmark {
    /// Times `runs` warm and `runs` cold predictions of a seeded head on ReLU6-like features (`density` of them
    /// non-zero, in (0, 6]) along the packed GEMM path (`GEMM.defaultBackend`, rows = 1), every `DenseRowWeights`
    /// precision × lane count in panels, and the rows layout. The first layer varies; the second layer and the
    /// softmax are the same plain loops on every path.
    public static func predict(
        featureShape: [Int], hiddenUnits: Int, classes: Int, density: Double = 0.25, runs: Int, targetCPU: String
    ) throws(NeuralNetError) -> HeadPredictBenchmarkReport {
        let head = try DenseHead(
            architecture: HeadArchitecture(inputShape: featureShape, hiddenUnits: hiddenUnits, classes: classes),
            seed: 1)
        let (d, u, k) = (head.inputCount, hiddenUnits, classes)
        var generator = SplitMix64(seed: 2)
        let x: [Float] = (0..<d).map { _ in
            Double(generator.nextFloat(in: 0...1)) >= density ? 0 : generator.nextFloat(in: 0.001...6)
        }
        let hidden = UnsafeMutablePointer<Float>.allocate(capacity: u)
        let probabilities = UnsafeMutablePointer<Float>.allocate(capacity: k)
        let sweep = CacheSweep()
        defer {
            hidden.deallocate()
            probabilities.deallocate()
        }
        /// The second layer and softmax shared by every path: probabilities [K] from hidden [U].
        func finish() {
            DenseKernel.forwardReference(
                x: hidden, w: head.outputKernelPointer, b: nil, y: probabilities, rows: 1, inputs: u, units: k,
                relu: false)
            ActivationKernel.reference(.softmax, probabilities, rows: 1, channels: k)
        }
        DenseKernel.forwardReference(
            x: x, w: head.hiddenKernelPointer, b: head.hiddenBiasPointer, y: hidden, rows: 1, inputs: d, units: u,
            relu: true)
        finish()
        let reference = Array(UnsafeBufferPointer(start: probabilities, count: k))
        func time(_ path: String, bytes: Int, _ firstLayer: () -> Void) -> HeadPredictTiming {
            var warm: [Double] = []
            var cold: [Double] = []
            for run in 0..<(2 * runs + 2) {
                let evict = run % 2 == 0
                if evict {
                    sweep.run()
                }
                let start = ContinuousClock.now
                firstLayer()
                finish()
                let milliseconds = Double((ContinuousClock.now - start) / .nanoseconds(1)) / 1e6
                if run >= 2 { evict ? cold.append(milliseconds) : warm.append(milliseconds) }
            }
            let difference = (0..<k).map { abs(probabilities[$0] - reference[$0]) }.max() ?? 0
            return HeadPredictTiming(
                path: path, weightBytes: bytes, warmMedianMilliseconds: warm.sorted()[warm.count / 2],
                coldMedianMilliseconds: cold.sorted()[cold.count / 2], maximumProbabilityDifference: difference)
        }
        var timings: [HeadPredictTiming] = []
        let backend = GEMM.defaultBackend
        let gemmWeights = GEMMWeights(k: d, n: u, rowMajor: head.hiddenKernelPointer, backend: backend)
        timings.append(
            time("gemm \(backend.rawValue) (before)", bytes: d * u * 4) {
                GEMM.multiply(
                    rows: 1, a: x, weights: gemmWeights, bias: head.hiddenBiasPointer, clamp: (0, .infinity), c: hidden)
            })
        let nonZero = x.filter { $0 != 0 }.count  // rows a rows-layout plan reads
        let plans: [(DenseRowPrecision, Int, DenseRowLayout)] =
            [DenseRowPrecision.float32, .float16].flatMap { precision in [8, 16].map { (precision, $0, .panels) } }
            + [(.float32, 8, .rows), (.int16, 8, .rows)]
        for (precision, lanes, layout) in plans {
            let weights = DenseRowWeights(
                inputs: d, units: u, kernel: head.hiddenKernelPointer, precision: precision, lanes: lanes,
                layout: layout)
            let isDefault =
                precision == DenseRowWeights.defaultPrecision && lanes == DenseRowWeights.defaultLanes
                && layout == DenseRowWeights.defaultLayout
            let name = layout == .rows ? "rows, zero inputs skipped" : "\(lanes) lanes"
            let bytesPerWeight = precision == .float32 ? 4 : 2
            timings.append(
                time(
                    "dense-row \(precision.rawValue) \(name)\(isDefault ? " (default)" : "")",
                    bytes: layout == .rows ? nonZero * weights.rowStride * bytesPerWeight : weights.byteCount
                ) {
                    weights.multiply(x: x, bias: head.hiddenBiasPointer, relu: true, y: hidden)
                })
        }
        return HeadPredictBenchmarkReport(
            featureShape: featureShape, hiddenUnits: hiddenUnits, classes: classes, runs: runs, targetCPU: targetCPU,
            timings: timings)
    }
}
