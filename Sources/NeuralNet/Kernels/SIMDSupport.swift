// Small helpers shared by the kernels: unaligned SIMD loads/stores from Float pointers, a parallel-for over
// rows, and cache-line-aligned Float buffers. Kept tiny so each kernel file reads on its own.
import CVectorMask

/// Unaligned vector loads and stores on Float pointers, and clamps that compile to vmaxps/vminps.
/// (The stdlib's `clamped`, `pointwiseMin` and `replacing(with:where:)` on SIMD types lower to
/// per-lane scalar code with NaN checks here; a plain lane loop vectorises.)
enum Lanes {
    /// Two selects in sequence (max, then min): LLVM lowers a lane loop of these to vmaxps + vminps, where the
    /// nested form `x < low ? low : (x > high ? high : x)` became vcmpltps + vminps + vblendvps (both compare x).
    /// Equal results for low ≤ high, NaN included (a NaN passes through both).
    @inline(__always) static func clamp(_ x: Float, _ low: Float, _ high: Float) -> Float {
        let floored = x < low ? low : x
        return floored > high ? high : floored
    }
    /// Through the C shim (`gp_clamp16`, the same selects as the lane loops below). In Swift it went wrong twice: a
    /// 16-lane loop inlined into the generic kernels went through the stack lane by lane (RGB stem, v1 1.0: AVX2
    /// 2.7 → 0.36 ms, AVX-512 0.74 → 0.38 ms once split into two 8-lane halves), and the halves were too many SIL
    /// blocks for the inliner to honour @inline(__always) inside the AVX-512 GEMM tiles (a call per store, every
    /// accumulator spilled around it).
    @inline(__always) static func clamp(_ v: SIMD16<Float>, _ low: Float, _ high: Float) -> SIMD16<Float> {
        gp_clamp16(v, low, high)
    }
    /// Any width, for the width-generic kernels: the fixed-width clamps above once specialised (the type
    /// tests fold away), a plain lane loop for other widths (SIMD1).
    @inline(__always) static func clamp<V: SIMD>(_ v: V, _ low: Float, _ high: Float) -> V where V.Scalar == Float {
        if V.self == SIMD16<Float>.self {
            return unsafeBitCast(clamp(unsafeBitCast(v, to: SIMD16<Float>.self), low, high), to: V.self)
        }
        if V.self == SIMD8<Float>.self {
            return unsafeBitCast(clamp(unsafeBitCast(v, to: SIMD8<Float>.self), low, high), to: V.self)
        }
        if V.self == SIMD4<Float>.self {
            return unsafeBitCast(clamp(unsafeBitCast(v, to: SIMD4<Float>.self), low, high), to: V.self)
        }
        var r = v
        for lane in 0..<V.scalarCount { r[lane] = clamp(r[lane], low, high) }
        return r
    }
    @inline(__always) static func clamp(_ v: SIMD8<Float>, _ low: Float, _ high: Float) -> SIMD8<Float> {
        var r = v
        for lane in 0..<8 { r[lane] = clamp(r[lane], low, high) }
        return r
    }
    @inline(__always) static func clamp(_ v: SIMD4<Float>, _ low: Float, _ high: Float) -> SIMD4<Float> {
        var r = v
        for lane in 0..<4 { r[lane] = clamp(r[lane], low, high) }
        return r
    }
    /// Eight-float load and store through the C shim (`gp_load8`, `gp_store8`), for the largest kernels: there the
    /// stdlib's generic `loadUnaligned` / `storeBytes` stayed calls (the stem's blocks: a call per tap or per store,
    /// every accumulator spilled around it; `tools/kernel_audit.py` finds such calls in a build).
    @inline(__always) static func load8(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> {
        gp_load8(pointer)
    }
    @inline(__always) static func store8(_ value: SIMD8<Float>, _ pointer: UnsafeMutablePointer<Float>) {
        gp_store8(pointer, value)
    }
    @inline(__always) static func load16(_ pointer: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD16<Float>.self)
    }
    @inline(__always) static func load16(_ pointer: UnsafeMutablePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD16<Float>.self)
    }
    @inline(__always) static func store16(_ value: SIMD16<Float>, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD16<Float>.self)
    }
}

/// Runs `body(index)` for index in 0..<count, split into `threads` contiguous chunks (inline when 1) run by the
/// caller and `WorkerPool.shared`'s workers.
@inline(__always)
func parallelFor(_ count: Int, threads: Int, _ body: (Int) -> Void) {
    if threads <= 1 || count < 2 {
        for index in 0..<count { body(index) }
        return
    }
    let chunks = min(threads, count)
    WorkerPool.shared.run(parts: chunks, threads: threads) { chunk in
        let start = chunk * count / chunks
        let end = (chunk + 1) * count / chunks
        for index in start..<end { body(index) }
    }
}

/// Float storage whose first element starts a 64-byte cache line; free it with `deallocateAligned`. The kernels'
/// loads are unaligned instructions, but a 32-byte vector that straddles two cache lines costs two loads: a plain
/// `.allocate(capacity:)` is only 16-byte aligned (glibc hands out big blocks at a page + 16 B), which put half
/// of every activation, bias and depthwise-tap vector across a line boundary. Measured (Zen 3, standalone
/// depthwise 3×3, input 16 B past a line vs on one): [112,112,32] 13.7 → 9.2 cycles per 8-channel pixel,
/// [56,56,144] 12.4 → 11.3, [112,112,96]/2 21.4 → 15.7.
func allocateAligned(floats count: Int) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        .bindMemory(to: Float.self, capacity: max(count, 1))
}

/// Frees a buffer from `allocateAligned`.
func deallocateAligned(_ pointer: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(pointer).deallocate()
}

/// A one-lane "vector" so the scalar channel tail can share the generic SIMD sweep code.
struct SIMD1: SIMD {
    typealias Scalar = Float
    typealias MaskStorage = SIMD1Mask
    var value: Float = 0
    init() {}
    var scalarCount: Int { 1 }
    subscript(index: Int) -> Float {
        get { value }
        set { value = newValue }
    }
}

/// Mask storage SIMD1 needs to conform to `SIMD`.
struct SIMD1Mask: SIMD {
    typealias Scalar = Int32
    typealias MaskStorage = SIMD1Mask
    var value: Int32 = 0
    init() {}
    var scalarCount: Int { 1 }
    subscript(index: Int) -> Int32 {
        get { value }
        set { value = newValue }
    }
}
