// EmbedBenchmark: times `Embedder.embed` — warm-up, then N timed runs — and reports median, p10,
// p90, GFLOP/s and a per-step breakdown (median per planned step). Pure measurement; the CLI prints.
// Two ways to time the embedder as the live loop meets it rather than back to back: `cold` sweeps 64 MB
// before each timed call (weights and activations start in memory), `idleMilliseconds` sleeps before each
// timed call as the loop does between frames (33 ms at 30 fps). On a shared VM host every engine then runs
// about twice as slow for the next milliseconds (session 9, Zen 3: the host's clocks, caches and predictors
// after other tenants ran), which the sweep alone does not reproduce.
import SystemSupport
#if canImport(Glibc)
    import Glibc
#endif

/// Latency figures of one embedder, in milliseconds.
public struct EmbedBenchmarkReport: Codable, Sendable {
    public struct Step: Codable, Sendable {
        public var layers: [String]
        public var kind: String
        public var outputShape: [Int]
        public var medianMilliseconds: Double
        public var gflops: Double
        /// Threads the step was split over (1 below ThreadSplit's thresholds).
        public var threads: Int
    }

    public var model: String
    public var layer: String
    public var threads: Int
    public var runs: Int
    /// True when every timed run followed a 64 MB cache sweep.
    public var cold: Bool
    /// Sleep before every timed run, in milliseconds (0: back to back).
    public var idleMilliseconds: Double
    /// What was embedded: a file, a frame, or seeded random values (zero skipping makes times input-dependent).
    public var input: String
    /// Whether pointwise convolutions of ReLU outputs skipped zero activations.
    public var zeroSkip: Bool
    public var targetCPU: String
    public var blas: String
    /// GEMM backend of the embedder ("openblas" or "swift").
    public var gemm: String
    public var multiplyAccumulates: Int
    public var medianMilliseconds: Double
    public var p10Milliseconds: Double
    public var p90Milliseconds: Double
    public var gflops: Double
    public var steps: [Step]

    enum CodingKeys: String, CodingKey {
        case model, layer, threads, runs, cold, blas, gemm, steps, gflops, input
        case zeroSkip = "zero_skip"
        case idleMilliseconds = "idle_ms"
        case targetCPU = "target_cpu"
        case multiplyAccumulates = "macs"
        case medianMilliseconds = "median_ms"
        case p10Milliseconds = "p10_ms"
        case p90Milliseconds = "p90_ms"
    }

    /// Human-readable summary with the per-step table.
    public func render(stepsToShow: Int = .max) -> String {
        var lines = [
            "model \(model) → \(layer), \(threads) thread(s), \(runs) \(cold ? "cold " : "")runs"
                + (idleMilliseconds > 0 ? " after \(formatted(idleMilliseconds, decimals: 1)) ms idle each" : "")
                + ", target CPU \(targetCPU)",
            "GEMM: \(gemm); BLAS: \(blas); zero skip \(zeroSkip ? "on" : "off"); input: \(input)",
            "latency: median \(formatted(medianMilliseconds, decimals: 3)) ms, p10 \(formatted(p10Milliseconds, decimals: 3)) ms, "
                + "p90 \(formatted(p90Milliseconds, decimals: 3)) ms; \(formatted(gflops, decimals: 1)) GFLOP/s "
                + "(\(formatted(Double(multiplyAccumulates) * 2 / 1e9, decimals: 3)) GFLOP per image)",
        ]
        let total = steps.reduce(0) { $0 + $1.medianMilliseconds }
        lines.append("per step (median ms, share, GFLOP/s):")
        for step in steps.sorted(by: { $0.medianMilliseconds > $1.medianMilliseconds }).prefix(stepsToShow) {
            let share = total > 0 ? step.medianMilliseconds / total * 100 : 0
            let shape = "[" + step.outputShape.map(String.init).joined(separator: ",") + "]"
            lines.append(
                "  \(formatted(step.medianMilliseconds, decimals: 4)) ms  \(formatted(share, decimals: 1))%  "
                    + "\(formatted(step.gflops, decimals: 1))  \(step.kind)\(step.threads > 1 ? " ×\(step.threads)" : "") \(shape)  \(step.layers.joined(separator: "+"))"
            )
        }
        return lines.joined(separator: "\n")
    }
}

/// Runs the embedder benchmark.
public enum EmbedBenchmark {
    /// Times `runs` calls after `warmup` calls on `input` ([H, W, C] of the embedder; default a seeded random input
    /// in [-1, 1]); with `cold`, each timed call follows a 64 MB sweep that evicts the caches, with
    /// `idleMilliseconds` > 0 a sleep that long.
    public static func run(
        _ embedder: Embedder, modelName: String, runs: Int, warmup: Int = 10, cold: Bool = false,
        idleMilliseconds: Double = 0, targetCPU: String, input given: [Float]? = nil, inputDescription: String? = nil
    ) -> EmbedBenchmarkReport {
        precondition(
            given.map { $0.count == embedder.inputShape.reduce(1, *) } ?? true, "input must match the embedder")
        let sweep = cold ? CacheSweep() : nil
        let clock = SystemFrameClock()
        // Callers validate the range; here anything outside 0…10 s (or NaN) is taken as no sleep rather than trapping.
        let idleNanoseconds = (0...10_000).contains(idleMilliseconds) ? UInt64(idleMilliseconds * 1e6) : 0
        func settle() {
            if idleNanoseconds > 0 { clock.sleep(untilNanoseconds: clock.nowNanoseconds + idleNanoseconds) }
            sweep?.run()
        }
        let input = given ?? Tensor(shape: embedder.inputShape, uniformIn: -1...1, seed: 1).scalars
        var output = [Float](repeating: 0, count: embedder.outputCount)
        let stepCount = embedder.steps.count
        var totals = [Double](repeating: 0, count: runs)
        var perStep = [[Double]](repeating: [Double](repeating: 0, count: runs), count: stepCount)
        var stepTimes = [UInt64](repeating: 0, count: stepCount)
        input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                for _ in 0..<warmup { embedder.embed(source.baseAddress!, into: destination.baseAddress!) }
                // Whole-call timings without per-step clock reads, then a profiled pass for the breakdown.
                for run in 0..<runs {
                    settle()
                    let start = SystemFrameClock.nanoseconds()
                    embedder.embed(source.baseAddress!, into: destination.baseAddress!)
                    totals[run] = Double(SystemFrameClock.nanoseconds() - start) / 1e6
                }
                stepTimes.withUnsafeMutableBufferPointer { times in
                    for run in 0..<runs {
                        settle()
                        embedder.embed(
                            source.baseAddress!, into: destination.baseAddress!, stepNanoseconds: times.baseAddress!)
                        for step in 0..<stepCount { perStep[step][run] = Double(times[step]) / 1e6 }
                    }
                }
            }
        }
        let median = percentile(totals, 0.5)
        let steps = embedder.steps.enumerated().map { index, info in
            let stepMedian = percentile(perStep[index], 0.5)
            return EmbedBenchmarkReport.Step(
                layers: info.layerNames, kind: info.kind, outputShape: info.outputShape, medianMilliseconds: stepMedian,
                gflops: stepMedian > 0 ? Double(info.multiplyAccumulates) * 2 / (stepMedian * 1e6) : 0,
                threads: info.threads)
        }
        return EmbedBenchmarkReport(
            model: modelName, layer: embedder.outputLayer, threads: embedder.threads, runs: runs, cold: cold,
            idleMilliseconds: idleMilliseconds,
            input: given == nil ? "seeded random values in [-1, 1]" : inputDescription ?? "given tensor",
            zeroSkip: embedder.skipsZeros, targetCPU: targetCPU, blas: GEMM.backendDescription,
            gemm: embedder.gemmBackend.rawValue,
            multiplyAccumulates: embedder.multiplyAccumulates,
            medianMilliseconds: median, p10Milliseconds: percentile(totals, 0.1),
            p90Milliseconds: percentile(totals, 0.9),
            gflops: Double(embedder.multiplyAccumulates) * 2 / (median * 1e6), steps: steps)
    }

    /// The `fraction` quantile of `values` by linear interpolation between order statistics.
    public static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let position = fraction * Double(sorted.count - 1)
        let lower = Int(position)
        let upper = min(lower + 1, sorted.count - 1)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
    }
}
