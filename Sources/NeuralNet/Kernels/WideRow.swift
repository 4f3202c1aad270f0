// WideRow: one output row of up to 104 floats (U = 100 pads to 104) held in 13 ymm accumulators, each updated by
// one FMA per term with its other operand read from memory — enough independent chains for two FMA pipes of
// latency 4. Shared by the kernels that add one weight row per non-zero input: the sparse training kernels
// (Training/SparseFirstLayer.swift) and the head's rows layout (DenseRow.swift). The 13 accumulators are written
// out by hand: a loop over an array of vectors does not stay in registers.

/// A storage element of `DenseRowWeights`' rows layout: Float32, or Int16 widened on load (`WideRow.addProduct`).
protocol WideRowElement {}
extension Float: WideRowElement {}
extension Int16: WideRowElement {}

/// 13 ymm accumulators: one group of up to 104 output columns.
struct WideRow {
    static let width = 104
    var v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12: SIMD8<Float>

    @inline(__always) init() {
        let zero = SIMD8<Float>()
        (v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12) = (
            zero, zero, zero, zero, zero, zero, zero, zero, zero, zero, zero, zero, zero
        )
    }

    /// The 104 floats at `p`.
    @inline(__always) init(loading p: UnsafePointer<Float>) {
        let l = FirstLayerKernel.load
        (v0, v1, v2, v3, v4, v5, v6) = (l(p), l(p + 8), l(p + 16), l(p + 24), l(p + 32), l(p + 40), l(p + 48))
        (v7, v8, v9, v10, v11, v12) = (l(p + 56), l(p + 64), l(p + 72), l(p + 80), l(p + 88), l(p + 96))
    }

    /// self += x · (the 104 floats at p), one FMA per vector (the dense kernels' operation, so the same bits).
    @inline(__always) mutating func addProduct(_ x: Float, _ p: UnsafePointer<Float>) {
        addProduct(x) { FirstLayerKernel.load(p + 8 * $0) }
    }

    /// self += x · (the 104 weights at p): Float32 as above; Int16 widened to Float32 first (`vpmovsxwd` +
    /// `vcvtdq2ps`), for DenseRow's int16 rows.
    @inline(__always) mutating func addProduct<Element: WideRowElement>(_ x: Float, _ p: UnsafePointer<Element>) {
        if Element.self == Float.self {
            addProduct(x, UnsafeRawPointer(p).assumingMemoryBound(to: Float.self))
            return
        }
        let raw = UnsafeRawPointer(p)
        addProduct(x) {
            SIMD8<Float>(
                SIMD8<Int32>(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: 16 * $0, as: SIMD8<Int16>.self)))
        }
    }

    /// self += x · (vector i of the window, i = 0 ..< 13, from `vector`).
    @inline(__always) mutating func addProduct(_ x: Float, _ vector: (Int) -> SIMD8<Float>) {
        let b = SIMD8<Float>(repeating: x)
        v0 = v0.addingProduct(b, vector(0))
        v1 = v1.addingProduct(b, vector(1))
        v2 = v2.addingProduct(b, vector(2))
        v3 = v3.addingProduct(b, vector(3))
        v4 = v4.addingProduct(b, vector(4))
        v5 = v5.addingProduct(b, vector(5))
        v6 = v6.addingProduct(b, vector(6))
        v7 = v7.addingProduct(b, vector(7))
        v8 = v8.addingProduct(b, vector(8))
        v9 = v9.addingProduct(b, vector(9))
        v10 = v10.addingProduct(b, vector(10))
        v11 = v11.addingProduct(b, vector(11))
        v12 = v12.addingProduct(b, vector(12))
    }

    /// Stores the first `valid` of the 104 lanes (all when valid ≥ 104).
    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>, valid: Int) {
        let s = FirstLayerKernel.store
        s(v0, p, valid)
        s(v1, p + 8, valid - 8)
        s(v2, p + 16, valid - 16)
        s(v3, p + 24, valid - 24)
        s(v4, p + 32, valid - 32)
        s(v5, p + 40, valid - 40)
        s(v6, p + 48, valid - 48)
        s(v7, p + 56, valid - 56)
        s(v8, p + 64, valid - 64)
        s(v9, p + 72, valid - 72)
        s(v10, p + 80, valid - 80)
        s(v11, p + 88, valid - 88)
        s(v12, p + 96, valid - 96)
    }
}
