// ThreadSplit: when a step is worth splitting over threads, and how a packed GEMM is split.
// - Small steps stay on one thread: handing a part to a spinning worker and waiting for it costs about a
//   microsecond (a cache line each way plus the slower part), a sleeping worker's wake-up far more, so a step
//   is split only when it is large enough that half of it clearly outweighs that (thresholds below).
// - A GEMM C[M, N] = A[M, K]·B[K, N] is cut by row blocks (whole micro-tiles of rows: each part reads its rows
//   of A and ALL of B) or by column panels (each part reads ALL of A and its panels of B). A small cost model
//   picks the cheaper: the largest part's multiply-accumulates (padded to whole tiles/panels) plus the floats it
//   reads times `readCost`. It picks rows for MobileNet's big spatial layers (M = 12544 … 784) and panels for
//   the small ones (M = 196 with N ≥ 512, M = 49 — v1's [7, 7, 1024] layer).

/// Split decisions for the threaded kernels (see file header).
public enum ThreadSplit {
    /// A compute-bound step (GEMM, convolution, depthwise) below this many multiply-accumulates runs on one
    /// thread: about 3 µs of work on one Zen 4 core (≈ 50 G multiply-accumulates/s in the packed GEMM).
    public static let minimumMultiplyAccumulates = 150_000
    /// A memory-bound step (add, pad) below this many output floats runs on one thread (64 KiB: about 3 µs).
    public static let minimumElements = 16_384
    /// Cost of reading one float from L2/L3 in multiply-accumulate units (a Zen 4 core does 32 FMA lanes per
    /// cycle and reads ~ 4–8 floats per cycle from L2/L3), for the GEMM split's cost model.
    static let readCost = 6

    /// Threads for a compute-bound step of `multiplyAccumulates`.
    public static func threads(multiplyAccumulates: Int, requested: Int) -> Int {
        multiplyAccumulates >= minimumMultiplyAccumulates ? max(requested, 1) : 1
    }

    /// Threads for a memory-bound step writing `elements` floats.
    public static func threads(elements: Int, requested: Int) -> Int {
        elements >= minimumElements ? max(requested, 1) : 1
    }
}

/// How a packed GEMM is cut over threads (see file header).
public struct GEMMSplit: Equatable, Sendable {
    /// Row blocks (true) or column panels (false).
    public var byRows: Bool
    /// Number of parts (1: not split).
    public var parts: Int

    /// The cheaper split of C [m, n] (reduction k) over `threads`, in whole tiles of `rowsPerTile` rows or
    /// panels of `columnsPerPanel` columns; one part below `ThreadSplit.minimumMultiplyAccumulates`.
    public static func choose(
        m: Int, n: Int, k: Int, rowsPerTile: Int, columnsPerPanel: Int, threads: Int
    ) -> GEMMSplit {
        let tiles = (m + rowsPerTile - 1) / rowsPerTile
        let panels = (n + columnsPerPanel - 1) / columnsPerPanel
        guard threads > 1, m * n * k >= ThreadSplit.minimumMultiplyAccumulates, max(tiles, panels) > 1 else {
            return GEMMSplit(byRows: true, parts: 1)
        }
        let rowParts = min(threads, tiles)
        let panelParts = min(threads, panels)
        let largestRows = min(m, (tiles + rowParts - 1) / rowParts * rowsPerTile)
        let largestColumns = min(n, (panels + panelParts - 1) / panelParts * columnsPerPanel)
        let paddedN = panels * columnsPerPanel
        let rowCost = largestRows * paddedN * k + ThreadSplit.readCost * (k * n + largestRows * k)
        let panelCost = m * largestColumns * k + ThreadSplit.readCost * (m * k + largestColumns * k)
        let byRows = rowParts > 1 && (panelParts == 1 || rowCost <= panelCost)
        return GEMMSplit(byRows: byRows, parts: byRows ? rowParts : panelParts)
    }
}
