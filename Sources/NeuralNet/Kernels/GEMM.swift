// GEMM: C[M, N] = clamp(A[M, K] · B[K, N] + bias[N]), row-major, the workhorse of pointwise convs,
// im2col convs and dense layers. Two fast backends, chosen per weight matrix at load:
// - `.openBLAS`: `cblas_sgemm` then one bias+clamp pass (any CPU);
// - `.packedSwift`: PackedGEMM.swift's AVX-512 micro-kernel (12×32 tile) with bias+clamp fused into the
//   register tile, weights packed once — measured faster than OpenBLAS 0.3.21 on every MobileNet network
//   total (README "Build settings"), so it is the default in AVX-512 builds;
// - `.packedSwiftAVX2`: PackedGEMMAVX2.swift, the same generator at 8 lanes (6×16 tile, 12 ymm
//   accumulators), the default in AVX2 (haswell) builds where it beats OpenBLAS' Haswell sgemm (README);
// `planBackend` picks per layer at plan time: in AVX-512 builds the AVX2 tile for short reductions (K ≤ 128).
// Both packed kernels are plain Swift SIMD, so either runs (correctly, if slower) on any x86-64 build.
// `reference` is the triple loop. Nothing allocates per call. With threads > 1 the packed kernels split by
// row blocks or column panels (ThreadSplit.swift) on WorkerPool's threads. NeuralNet is the only importer of COpenBLAS.
import COpenBLAS
import Foundation

/// Which implementation multiplies a `GEMMWeights`.
public enum GEMMBackend: String, Sendable, CaseIterable {
    case openBLAS = "openblas"
    case packedSwift = "swift"
    case packedSwiftAVX2 = "swift-avx2"
}

/// A weight matrix B [K, N], copied (OpenBLAS) or packed (Swift kernel) once at load; immutable after.
public final class GEMMWeights: @unchecked Sendable {
    /// Rows of B (the reduction length K).
    public let k: Int
    /// Columns of B (the output width N).
    public let n: Int
    /// The implementation that multiplies these weights.
    public let backend: GEMMBackend
    /// B [K, N] row-major for OpenBLAS; nil when packed.
    let storage: UnsafeMutablePointer<Float>?
    /// B packed into 32-column panels for `packedGEMM`; nil for the other backends.
    let packed: PackedWeights?
    /// B packed into 16-column panels for `packedGEMMAVX2`; nil for the other backends.
    let packedAVX2: PackedWeightsAVX2?

    /// Copies or packs `rowMajor` [K, N] for `backend`.
    public init(k: Int, n: Int, rowMajor: UnsafePointer<Float>, backend: GEMMBackend = GEMM.defaultBackend) {
        precondition(k >= 1 && n >= 1, "GEMM weights need k, n ≥ 1, got \(k)×\(n)")
        self.k = k
        self.n = n
        self.backend = backend
        switch backend {
        case .openBLAS:
            let copy = UnsafeMutablePointer<Float>.allocate(capacity: k * n)
            copy.update(from: rowMajor, count: k * n)
            storage = copy
            packed = nil
            packedAVX2 = nil
        case .packedSwift:
            storage = nil
            packed = PackedWeights(k: k, n: n, rowMajor: rowMajor)
            packedAVX2 = nil
        case .packedSwiftAVX2:
            storage = nil
            packed = nil
            packedAVX2 = PackedWeightsAVX2(k: k, n: n, rowMajor: rowMajor)
        }
    }

    /// Copies or packs `scalars`, seen as [K, N].
    public convenience init(k: Int, n: Int, _ scalars: [Float], backend: GEMMBackend = GEMM.defaultBackend) {
        precondition(scalars.count == k * n, "GEMM weights need \(k)×\(n) scalars, got \(scalars.count)")
        self.init(k: k, n: n, rowMajor: scalars, backend: backend)
    }

    deinit { storage?.deallocate() }
}

/// Matrix multiply with fused bias and clamp (reference and fast twins).
public enum GEMM {
    /// Plain definition: c[m, j] = clamp(bias[j] + Σ_p a[m, p]·b[p, j]); a [M, K], b [K, N], c [M, N].
    public static func reference(
        rows m: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, k: Int, n: Int,
        bias: UnsafePointer<Float>?, clamp: (low: Float, high: Float),
        c: UnsafeMutablePointer<Float>
    ) {
        for row in 0..<m {
            for column in 0..<n {
                var sum: Float = bias?[column] ?? 0
                for p in 0..<k { sum += a[row * k + p] * b[p * n + column] }
                c[row * n + column] = min(max(sum, clamp.low), clamp.high)
            }
        }
    }

    /// The backend new weights use: `GESTUREPAD_GEMM=openblas|swift|swift-avx2` if set, else the packed
    /// Swift kernel of the build's level: AVX-512 builds `.packedSwift`, AVX2 (haswell) builds
    /// `.packedSwiftAVX2`, and OpenBLAS in baseline builds.
    public static let defaultBackend: GEMMBackend = {
        if let name = ProcessInfo.processInfo.environment["GESTUREPAD_GEMM"], let backend = GEMMBackend(rawValue: name)
        {
            return backend
        }
        #if GESTUREPAD_CPU_SKYLAKE_AVX512
            return .packedSwift
        #elseif GESTUREPAD_CPU_HASWELL
            return .packedSwiftAVX2
        #else
            return .openBLAS
        #endif
    }()

    /// Fast twin: a [M, K] × weights [K, N] → c [M, N] with bias and clamp, on the weights' backend.
    /// `threads` > 1 splits the packed kernels by row blocks or column panels (`GEMMSplit`; one thread, or a small
    /// GEMM, runs the single-thread kernel); OpenBLAS uses the process-wide count of `setThreadCount` instead.
    /// With `zeroSkipScratch` (`ZeroSkipGEMM.scratchCount(rows: m, k: K)` floats) and weights `ZeroSkipGEMM`
    /// accepts, the zero activations of `a` are skipped (ZeroSkipGEMM.swift: for ReLU outputs).
    public static func multiply(
        rows m: Int, a: UnsafePointer<Float>, weights: GEMMWeights,
        bias: UnsafePointer<Float>?, clamp: (low: Float, high: Float),
        c: UnsafeMutablePointer<Float>, threads: Int = 1, zeroSkipScratch: UnsafeMutablePointer<Float>? = nil
    ) {
        let k = weights.k
        let n = weights.n
        if let zeroSkipScratch, ZeroSkipGEMM.accepts(weights) {
            ZeroSkipGEMM.multiply(
                rows: m, a: a, weights: weights, bias: bias, clamp: clamp, c: c, scratch: zeroSkipScratch,
                threads: threads)
            return
        }
        if let packed = weights.packed {
            packedGEMMThreaded(
                m: m, a: a, lda: k, weights: packed, bias: bias, clampLow: clamp.low, clampHigh: clamp.high,
                c: c, ldc: n, threads: threads)
            return
        }
        if let packed = weights.packedAVX2 {
            packedGEMMThreadedAVX2(
                m: m, a: a, lda: k, weights: packed, bias: bias, clampLow: clamp.low, clampHigh: clamp.high,
                c: c, ldc: n, threads: threads)
            return
        }
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
            1, a, Int32(k), weights.storage, Int32(n), 0, c, Int32(n))
        Epilogue.biasClamp(c, rows: m, columns: n, bias: bias, low: clamp.low, high: clamp.high)
    }

    /// The backend a layer's weights [K, N] use when the model's backend is `preferred`: the AVX2 tile (6×16)
    /// instead of the AVX-512 one (12×32) for K ≤ `avx2TileLimit`, else `preferred`. On Zen 4 (AVX-512 executed
    /// as two 256-bit halves) the smaller tile wins while K is short: its epilogue (bias, clamp, stores) is amortised
    /// over K multiply-adds per accumulator, and 12×32 has twice the accumulators to finish. Measured per call,
    /// 1 thread, AMD EPYC Zen 4, AVX-512 build (M×K×N: 12×32 → 6×16 ms): 12544×8×16 0.074 → 0.051,
    /// 3136×16×32 0.051 → 0.035, 3136×32×32 0.078 → 0.064, 12544×32×64 0.63 → 0.50, 784×128×256 0.54 → 0.47,
    /// 196×256×512 0.46 = 0.45, 49×512×1024 0.47 → 0.48, 49×1024×1024 1.06 → 1.17.
    public static func planBackend(k: Int, n: Int, preferred: GEMMBackend) -> GEMMBackend {
        preferred == .packedSwift && k <= avx2TileLimit ? .packedSwiftAVX2 : preferred
    }

    /// Largest K for which `planBackend` swaps the AVX-512 tile for the AVX2 one.
    public static let avx2TileLimit = 128

    /// Sets the number of threads OpenBLAS uses for every later call (process-wide).
    public static func setThreadCount(_ threads: Int) {
        openblas_set_num_threads(Int32(max(threads, 1)))
    }

    /// OpenBLAS' build/config string (e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64").
    /// Whether OpenBLAS runs one of its AVX-512 sgemm kernels on this CPU (its core name: SkylakeX, Cooperlake,
    /// SapphireRapids). Debian's DYNAMIC_ARCH build picks the core at load time (OPENBLAS_CORETYPE overrides it).
    public static let openBLASRunsAVX512: Bool = {
        guard let name = openblas_get_corename() else { return false }
        return ["skylakex", "cooperlake", "sapphirerapids"].contains(String(cString: name).lowercased())
    }()

    public static var backendDescription: String {
        guard let config = openblas_get_config() else { return "OpenBLAS" }
        return String(cString: config)
    }
}

/// Element-wise passes applied after a GEMM or convolution.
enum Epilogue {
    /// c[m, n] = clamp(c[m, n] + bias[n], low, high) over a [rows, columns] row-major matrix.
    static func biasClamp(
        _ c: UnsafeMutablePointer<Float>, rows: Int, columns: Int, bias: UnsafePointer<Float>?,
        low: Float, high: Float
    ) {
        let isIdentity = bias == nil && low == -.infinity && high == .infinity
        if isIdentity { return }
        for row in 0..<rows {
            let line = c + row * columns
            var column = 0
            while column + 16 <= columns {
                var value = Lanes.load16(line + column)
                if let bias { value += Lanes.load16(bias + column) }
                Lanes.store16(Lanes.clamp(value, low, high), line + column)
                column += 16
            }
            while column < columns {
                line[column] = Lanes.clamp(line[column] + (bias?[column] ?? 0), low, high)
                column += 1
            }
        }
    }
}
