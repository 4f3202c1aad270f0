// DenseRow: one Dense layer's weights planned for one-row products y [U] = x [D] · W [D, U] + b — a head's
// predict on one frame. That product is bound by the bytes of W it streams (D·U scalars per frame: 5 MB for
// [7,7,256] → 100 units, 20 MB for [7,7,1024] in float32), so the plan streams them in order, and can halve them:
// Float16 storage (IEEE half: 11-bit significand, relative rounding ≤ 2⁻¹¹) widened in the inner loop
// (`vcvtph2ps`, F16C, part of every AVX2 and AVX-512 CPU), sums in Float32. Float16 is not the default: on the
// real head shapes its probabilities differ from float32 by up to 1.3e-4 (DenseRowTests: ReLU6-like features,
// near-uniform heads, where a logit error moves p most), over the 1e-4 bar; `bench head` shows both.
// Tried and dropped: skipping zero inputs (post-ReLU features) — compacting x cost 0.04–0.06 ms for D = 50176
// and the gaps broke the hardware prefetch stream: slower than the dense pass at 25 % and 50 % density.
// Layout: W is cut into column panels of `panelVectors` × `lanes` units (the last panel only as wide as
// needed, in whole vectors, zero-padded); panel p = [D][width] contiguous, so each panel pass streams one
// block of memory in order. One pass per panel keeps `panelVectors` accumulators in registers.
// `DenseKernel.forwardReference` (DenseTraining.swift) is the plain reference this kernel is twinned with.
// Legend: D inputs, U units, L lanes per vector (8: AVX2 ymm, 16: AVX-512 zmm), V vectors per panel.
// Immutable after creation; `multiply` allocates nothing and may run on several threads at once.
import SystemSupport

/// How a `DenseRowWeights` stores its weights.
public enum DenseRowPrecision: String, Sendable, CaseIterable {
    /// Float32 as trained: bit-for-bit the reference's products (sums in another order).
    case float32
    /// Float16 storage, Float32 arithmetic: half the bytes per frame.
    case float16
}

/// Weights W [D, U] of one Dense layer packed for one-row products (see the file header).
public final class DenseRowWeights: @unchecked Sendable {
    /// D, the reduction length.
    public let inputs: Int
    /// U, the output width.
    public let units: Int
    /// Storage of the weights.
    public let precision: DenseRowPrecision
    /// L, lanes per vector: 8 (AVX2) or 16 (AVX-512).
    public let lanes: Int
    /// V, vectors per full panel (accumulators kept in registers during a panel pass).
    public static let panelVectors = 4
    /// Panels: (first unit, width in units — a multiple of `lanes`, at most V·L, element offset into storage).
    let panels: [(firstUnit: Int, width: Int, offset: Int)]
    /// Packed panels, Float32 or Float16 elements (see `precision`), 2 MiB aligned in a buffer advised for
    /// transparent huge pages (streamed once per frame, mostly from DRAM in the live loop: see `LargePageBuffer`).
    let storage: UnsafeMutableRawPointer
    private let buffer: LargePageBuffer

    /// The precision new plans use: Float32 (Float16 misses the 1e-4 bar on probabilities; see the file header).
    public static let defaultPrecision: DenseRowPrecision = .float32
    /// Lanes per vector new plans use: 8 in every build. With 100 hidden units 8 lanes pad to 104 columns, 16 to
    /// 112: `bench head` (AVX-512 build, float32) streams 20.9 vs 22.5 MB for [7,7,1024] and was 10–25 % faster
    /// with 8. The 16-lane (zmm) variant stays for float16, where a 64-unit panel row is two cache lines.
    public static let defaultLanes = 8

    /// Packs `kernel` [D, U] row-major (Keras layout).
    public init(
        inputs: Int, units: Int, kernel: UnsafePointer<Float>,
        precision: DenseRowPrecision = DenseRowWeights.defaultPrecision, lanes: Int = DenseRowWeights.defaultLanes
    ) {
        precondition(inputs >= 1 && units >= 1 && inputs <= Int(Int32.max), "Dense row weights need D, U ≥ 1")
        precondition(lanes == 8 || lanes == 16, "lanes must be 8 or 16, got \(lanes)")
        self.inputs = inputs
        self.units = units
        self.precision = precision
        self.lanes = lanes
        let fullWidth = Self.panelVectors * lanes
        var panels: [(firstUnit: Int, width: Int, offset: Int)] = []
        var offset = 0
        for firstUnit in stride(from: 0, to: units, by: fullWidth) {
            let width = min(fullWidth, (units - firstUnit + lanes - 1) / lanes * lanes)
            panels.append((firstUnit, width, offset))
            offset += width * inputs
        }
        self.panels = panels
        let elementSize = precision == .float16 ? 2 : 4
        buffer = LargePageBuffer(byteCount: max(offset * elementSize, 1))
        storage = buffer.baseAddress
        for panel in panels {
            for input in 0..<inputs {
                for column in 0..<panel.width {
                    let unit = panel.firstUnit + column
                    let value: Float = unit < units ? kernel[input * units + unit] : 0
                    let index = panel.offset + input * panel.width + column
                    switch precision {
                    case .float32: storage.storeBytes(of: value, toByteOffset: index * 4, as: Float.self)
                    case .float16: storage.storeBytes(of: Float16(value), toByteOffset: index * 2, as: Float16.self)
                    }
                }
            }
        }
    }

    /// Bytes of packed weights (what a dense input streams per call).
    public var byteCount: Int {
        (panels.last.map { $0.offset + $0.width * inputs } ?? 0) * (precision == .float16 ? 2 : 4)
    }

    /// One line for benchmark reports, e.g. "float16, 4×8-lane panels".
    public var summary: String { "\(precision.rawValue), \(Self.panelVectors)×\(lanes)-lane panels" }

    /// y [U] = x [D] · W + b [U] (b optional), then max(·, 0) when `relu`. Allocates nothing.
    public func multiply(
        x: UnsafePointer<Float>, bias: UnsafePointer<Float>?, relu: Bool, y: UnsafeMutablePointer<Float>
    ) {
        for panel in panels {
            switch (precision, lanes) {
            case (.float32, 8):
                Self.panelPass(
                    storage.assumingMemoryBound(to: Float.self) + panel.offset, width: panel.width,
                    vector: SIMD8<Float>.self, x: x, inputs: inputs,
                    y: y + panel.firstUnit, validUnits: min(panel.width, units - panel.firstUnit))
            case (.float32, _):
                Self.panelPass(
                    storage.assumingMemoryBound(to: Float.self) + panel.offset, width: panel.width,
                    vector: SIMD16<Float>.self, x: x, inputs: inputs,
                    y: y + panel.firstUnit, validUnits: min(panel.width, units - panel.firstUnit))
            case (.float16, 8):
                Self.panelPass(
                    storage.assumingMemoryBound(to: Float16.self) + panel.offset, width: panel.width,
                    vector: SIMD8<Float>.self, x: x, inputs: inputs,
                    y: y + panel.firstUnit, validUnits: min(panel.width, units - panel.firstUnit))
            case (.float16, _):
                Self.panelPass(
                    storage.assumingMemoryBound(to: Float16.self) + panel.offset, width: panel.width,
                    vector: SIMD16<Float>.self, x: x, inputs: inputs,
                    y: y + panel.firstUnit, validUnits: min(panel.width, units - panel.firstUnit))
            }
        }
        for unit in 0..<units {
            let sum = y[unit] + (bias?[unit] ?? 0)
            y[unit] = relu ? max(sum, 0) : sum
        }
    }

    /// One panel [D][width] (width = vectors·L): y[0..<validUnits] = Σ_d x[d] · panel[d].
    @inline(__always)
    static func panelPass<Element: DenseRowElement, Vector: SIMD>(
        _ panel: UnsafePointer<Element>, width: Int, vector: Vector.Type, x: UnsafePointer<Float>, inputs: Int,
        y: UnsafeMutablePointer<Float>, validUnits: Int
    ) where Vector.Scalar == Float {
        let lanes = Vector.scalarCount
        var a0 = Vector(), a1 = Vector(), a2 = Vector(), a3 = Vector()
        switch width / lanes {
        case 4:
            for input in 0..<inputs {
                let row = panel + input * width
                let value = Vector(repeating: x[input])
                a0.addProduct(Element.load(row, as: Vector.self), value)
                a1.addProduct(Element.load(row + lanes, as: Vector.self), value)
                a2.addProduct(Element.load(row + 2 * lanes, as: Vector.self), value)
                a3.addProduct(Element.load(row + 3 * lanes, as: Vector.self), value)
            }
        case 3:
            for input in 0..<inputs {
                let row = panel + input * width
                let value = Vector(repeating: x[input])
                a0.addProduct(Element.load(row, as: Vector.self), value)
                a1.addProduct(Element.load(row + lanes, as: Vector.self), value)
                a2.addProduct(Element.load(row + 2 * lanes, as: Vector.self), value)
            }
        case 2:
            for input in 0..<inputs {
                let row = panel + input * width
                let value = Vector(repeating: x[input])
                a0.addProduct(Element.load(row, as: Vector.self), value)
                a1.addProduct(Element.load(row + lanes, as: Vector.self), value)
            }
        default:
            for input in 0..<inputs {
                let row = panel + input * width
                a0.addProduct(Element.load(row, as: Vector.self), Vector(repeating: x[input]))
            }
        }
        let vectors = width / lanes
        @inline(__always) func store(_ accumulator: Vector, _ vectorIndex: Int) {
            let first = vectorIndex * lanes
            if first + lanes <= validUnits {
                UnsafeMutableRawPointer(y + first).storeBytes(of: accumulator, as: Vector.self)
            } else {
                for lane in 0..<max(0, validUnits - first) { y[first + lane] = accumulator[lane] }
            }
        }
        store(a0, 0)
        if vectors > 1 { store(a1, 1) }
        if vectors > 2 { store(a2, 2) }
        if vectors > 3 { store(a3, 3) }
    }
}

/// A storage element of packed Dense weights: Float32, or Float16 widened on load.
protocol DenseRowElement {
    /// `Vector.scalarCount` consecutive elements at `pointer`, as Float32 lanes (8 or 16 lanes).
    static func load<Vector: SIMD>(_ pointer: UnsafePointer<Self>, as: Vector.Type) -> Vector
    where Vector.Scalar == Float
}

extension Float: DenseRowElement {
    @inline(__always)
    static func load<Vector: SIMD>(_ pointer: UnsafePointer<Float>, as: Vector.Type) -> Vector
    where Vector.Scalar == Float {
        UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
    }
}

extension Float16: DenseRowElement {
    /// `SIMD8<Float>(SIMD8<Float16>)` compiles to one `vcvtph2ps` with F16C (haswell and later); 16 lanes are two
    /// 8-lane halves (the 16-lane generic conversion is an out-of-line call), which fold into one zmm `vcvtph2ps`.
    @inline(__always)
    static func load<Vector: SIMD>(_ pointer: UnsafePointer<Float16>, as: Vector.Type) -> Vector
    where Vector.Scalar == Float {
        let raw = UnsafeRawPointer(pointer)
        if Vector.self == SIMD8<Float>.self {
            return unsafeBitCast(SIMD8<Float>(raw.loadUnaligned(as: SIMD8<Float16>.self)), to: Vector.self)
        }
        let low = SIMD8<Float>(raw.loadUnaligned(as: SIMD8<Float16>.self))
        let high = SIMD8<Float>(raw.loadUnaligned(fromByteOffset: 16, as: SIMD8<Float16>.self))
        return unsafeBitCast(SIMD16<Float>(lowHalf: low, highHalf: high), to: Vector.self)
    }
}
