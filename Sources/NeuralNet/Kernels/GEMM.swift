// GEMM: C[M, N] = clamp(A[M, K] · B[K, N] + bias[N]), row-major, the workhorse of pointwise convs,
// im2col convs and dense layers. The fast twin calls OpenBLAS `cblas_sgemm` then one fused
// bias+clamp pass; `reference` is the triple loop. Weights are copied once into `GEMMWeights` at
// load so a call allocates nothing. NeuralNet is the only importer of COpenBLAS.
import COpenBLAS

/// A weight matrix B [K, N] (row-major), owned and immutable after load.
public final class GEMMWeights: @unchecked Sendable {
    /// Rows of B (the reduction length K).
    public let k: Int
    /// Columns of B (the output width N).
    public let n: Int
    /// B [K, N] row-major; never written after init.
    let storage: UnsafeMutablePointer<Float>

    /// Copies `rowMajor` [K, N].
    public init(k: Int, n: Int, rowMajor: UnsafePointer<Float>) {
        self.k = k
        self.n = n
        storage = .allocate(capacity: max(k * n, 1))
        storage.update(from: rowMajor, count: k * n)
    }

    /// Copies the scalars of `tensor`, seen as [K, N].
    public convenience init(k: Int, n: Int, _ scalars: [Float]) {
        precondition(scalars.count == k * n, "GEMM weights need \(k)×\(n) scalars, got \(scalars.count)")
        self.init(k: k, n: n, rowMajor: scalars)
    }

    deinit { storage.deallocate() }
}

/// Matrix multiply with fused bias and clamp (reference and fast twins).
public enum GEMM {
    /// Plain definition: c[m, j] = clamp(bias[j] + Σ_p a[m, p]·b[p, j]); a [M, K], b [K, N], c [M, N].
    public static func reference(rows m: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, k: Int, n: Int,
                                 bias: UnsafePointer<Float>?, clamp: (low: Float, high: Float),
                                 c: UnsafeMutablePointer<Float>) {
        for row in 0..<m {
            for column in 0..<n {
                var sum: Float = bias?[column] ?? 0
                for p in 0..<k { sum += a[row * k + p] * b[p * n + column] }
                c[row * n + column] = min(max(sum, clamp.low), clamp.high)
            }
        }
    }

    /// Fast twin: OpenBLAS sgemm a [M, K] × weights [K, N] → c [M, N], then bias + clamp in one pass.
    public static func multiply(rows m: Int, a: UnsafePointer<Float>, weights: GEMMWeights,
                                bias: UnsafePointer<Float>?, clamp: (low: Float, high: Float),
                                c: UnsafeMutablePointer<Float>) {
        let k = weights.k, n = weights.n
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    1, a, Int32(k), weights.storage, Int32(n), 0, c, Int32(n))
        Epilogue.biasClamp(c, rows: m, columns: n, bias: bias, low: clamp.low, high: clamp.high)
    }

    /// Sets the number of threads OpenBLAS uses for every later call (process-wide).
    public static func setThreadCount(_ threads: Int) {
        openblas_set_num_threads(Int32(max(threads, 1)))
    }

    /// OpenBLAS' build/config string (e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64").
    public static var backendDescription: String {
        guard let config = openblas_get_config() else { return "OpenBLAS" }
        return String(cString: config)
    }
}

/// Element-wise passes applied after a GEMM or convolution.
enum Epilogue {
    /// c[m, n] = clamp(c[m, n] + bias[n], low, high) over a [rows, columns] row-major matrix.
    static func biasClamp(_ c: UnsafeMutablePointer<Float>, rows: Int, columns: Int, bias: UnsafePointer<Float>?,
                          low: Float, high: Float) {
        let isIdentity = bias == nil && low == -.infinity && high == .infinity
        if isIdentity { return }
        let low16 = SIMD16<Float>(repeating: low), high16 = SIMD16<Float>(repeating: high)
        for row in 0..<rows {
            let line = c + row * columns
            var column = 0
            while column + 16 <= columns {
                var value = SIMD.load16(line + column)
                if let bias { value += SIMD.load16(bias + column) }
                SIMD.store16(value.clamped(lowerBound: low16, upperBound: high16), line + column)
                column += 16
            }
            while column < columns {
                let value = line[column] + (bias?[column] ?? 0)
                line[column] = min(max(value, low), high)
                column += 1
            }
        }
    }
}
