// DenseRow: one Dense layer's weights planned for one-row products y [U] = x [D] · W [D, U] + b — a head's
// predict on one frame. That product is bound by the bytes of W it reads (D·U scalars per frame: 5 MB for
// [7,7,256] → 100 units, 20 MB for [7,7,1024] in float32), mostly from DRAM in the live loop. Two layouts:
// - rows (the default, int16): one row of Upad weights per input, and only the rows of non-zero inputs are read.
//   The head's input is a ReLU cut, 68–84 % zeros on real photos, so a frame reads a quarter of W. The rows read
//   are scattered, which the hardware prefetcher does not follow: the pass prefetches one block of 64 inputs
//   ahead (CPrefetch). Storage int16 with one scale per row (the row's largest |w| / 32767; rounding ≤ scale/2,
//   4–5 bits finer than float16 on rows of similar weights) halves the bytes again; float32 rows give the panels'
//   bits exactly. `bench head --feature-shape 7,7,256 --density 0.25` (AMD EPYC Zen 3, AVX2): int16 rows warm
//   0.076 / cold 0.125 ms, max |Δp| 3e-6; float32 panels 0.26 / 0.30 ms; at density 1 (v2's block_15_add is not a
//   ReLU output) int16 rows 0.21 / 0.28 ms vs 0.22 / 0.25.
// - panels (float32 or float16): W cut into column panels of `panelVectors` × `lanes` units (the last panel only
//   as wide as needed, in whole vectors, zero-padded); panel p = [D][width] contiguous, streamed in order with
//   `panelVectors` accumulators in registers. Float16 (11-bit significand, widened by `vcvtph2ps`) misses the 1e-4
//   bar: its probabilities differ from float32 by up to 1.3e-4 (DenseRowTests), 1.2e-4 in `bench head` at density 1.
// An earlier skip of zero inputs over panels (compacting x first) lost to the dense pass: without prefetching,
// the gaps broke the hardware prefetch stream.
// `DenseKernel.forwardReference` (DenseTraining.swift) is the plain reference these kernels are twinned with.
// Legend: D inputs, U units, L lanes per vector (8: AVX2 ymm, 16: AVX-512 zmm), V vectors per panel.
// Immutable after creation; `multiply` allocates nothing and may run on several threads at once.
import CPrefetch
import SystemSupport

/// How a `DenseRowWeights` stores its weights.
public enum DenseRowPrecision: String, Sendable, CaseIterable {
    /// Float32 as trained: bit-for-bit the reference's products (sums in another order).
    case float32
    /// Float16 storage, Float32 arithmetic: half the bytes per frame (panels only).
    case float16
    /// Int16 storage with one scale per input row (the row's largest |w| / 32767), Float32 arithmetic: half the
    /// bytes, and 4–5 more bits than float16 on a row of similar weights (rows only; see `rowsPass`).
    case int16
}

/// How a `DenseRowWeights` lays out its weights.
public enum DenseRowLayout: String, Sendable, CaseIterable {
    /// Column panels streamed whole, every input (see the file header).
    case panels
    /// One row of Upad weights per input (float32 or int16), read only for the non-zero inputs: a ReLU cut's
    /// features are mostly zero, so a frame reads a fraction of W.
    case rows
}

/// Weights W [D, U] of one Dense layer packed for one-row products (see the file header).
public final class DenseRowWeights: @unchecked Sendable {
    /// D, the reduction length.
    public let inputs: Int
    /// U, the output width.
    public let units: Int
    /// Storage of the weights.
    public let precision: DenseRowPrecision
    /// Panels, or rows skipped for zero inputs.
    public let layout: DenseRowLayout
    /// Floats per row in the `.rows` layout: U rounded up to 8.
    let rowStride: Int
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

    /// The precision new plans use: int16 rows (see the file header; float16 misses the 1e-4 bar on probabilities).
    public static let defaultPrecision: DenseRowPrecision = .int16
    /// Lanes per vector new plans use: 8 in every build. With 100 hidden units 8 lanes pad to 104 columns, 16 to
    /// 112: `bench head` (AVX-512 build, float32) streams 20.9 vs 22.5 MB for [7,7,1024] and was 10–25 % faster
    /// with 8. The 16-lane (zmm) variant stays for float16, where a 64-unit panel row is two cache lines.
    public static let defaultLanes = 8

    /// Packs `kernel` [D, U] row-major (Keras layout).
    public init(
        inputs: Int, units: Int, kernel: UnsafePointer<Float>,
        precision: DenseRowPrecision = DenseRowWeights.defaultPrecision, lanes: Int = DenseRowWeights.defaultLanes,
        layout: DenseRowLayout? = nil
    ) {
        let layout = layout ?? (precision == .int16 ? .rows : .panels)
        precondition(inputs >= 1 && units >= 1 && inputs <= Int(Int32.max), "Dense row weights need D, U ≥ 1")
        precondition(lanes == 8 || lanes == 16, "lanes must be 8 or 16, got \(lanes)")
        precondition(
            layout == .panels ? precision != .int16 : (precision != .float16 && lanes == 8),
            "panels hold float32 or float16; rows float32 or int16, 8 lanes")
        self.inputs = inputs
        self.units = units
        self.precision = precision
        self.lanes = lanes
        self.layout = layout
        rowStride = (units + 7) / 8 * 8
        if layout == .rows {
            panels = []
            // + one 104-weight window of slack: a group reads whole windows past a row's end (SparseFirstLayer.swift);
            // int16 rows keep their scales [D] after the weights.
            let elements = inputs * rowStride + WideRow.width
            if precision == .int16 {
                buffer = LargePageBuffer(byteCount: elements * 2 + inputs * 4)
                storage = buffer.baseAddress
                let rows = storage.bindMemory(to: Int16.self, capacity: elements)
                rows.initialize(repeating: 0, count: elements)
                let scales = (storage + elements * 2).bindMemory(to: Float.self, capacity: inputs)
                for input in 0..<inputs {
                    let row = kernel + input * units
                    let largest = (0..<units).reduce(Float(0)) { max($0, abs(row[$1])) }
                    let scale = largest > 0 && largest.isFinite ? largest / 32767 : 1
                    scales[input] = scale
                    for unit in 0..<units {
                        rows[input * rowStride + unit] = Int16((row[unit] / scale).rounded().clamped(-32767, 32767))
                    }
                }
            } else {
                buffer = LargePageBuffer(byteCount: elements * 4)
                storage = buffer.baseAddress
                let rows = storage.bindMemory(to: Float.self, capacity: elements)
                rows.initialize(repeating: 0, count: elements)
                for input in 0..<inputs {
                    (rows + input * rowStride).update(from: kernel + input * units, count: units)
                }
            }
            return
        }
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
                    case .int16: preconditionFailure("int16 is a rows precision")
                    }
                }
            }
        }
    }

    /// Bytes of packed weights (what a dense input streams per call).
    public var byteCount: Int {
        if layout == .rows { return inputs * rowStride * (precision == .int16 ? 2 : 4) }
        return (panels.last.map { $0.offset + $0.width * inputs } ?? 0) * (precision == .float16 ? 2 : 4)
    }

    /// One line for benchmark reports, e.g. "float16, 4×8-lane panels".
    public var summary: String {
        layout == .rows
            ? "\(precision.rawValue), rows of non-zero inputs"
            : "\(precision.rawValue), \(Self.panelVectors)×\(lanes)-lane panels"
    }

    /// The layout new plans use (the one `defaultPrecision` implies).
    public static let defaultLayout: DenseRowLayout = .rows

    /// y [U] = x [D] · W + b [U] (b optional), then max(·, 0) when `relu`. Allocates nothing.
    public func multiply(
        x: UnsafePointer<Float>, bias: UnsafePointer<Float>?, relu: Bool, y: UnsafeMutablePointer<Float>
    ) {
        if layout == .rows {
            if precision == .int16 {
                let elements = inputs * rowStride + WideRow.width
                Self.rowsPass(
                    storage.assumingMemoryBound(to: Int16.self), stride: rowStride, x: x, inputs: inputs, y: y,
                    units: units, scales: (storage + elements * 2).assumingMemoryBound(to: Float.self))
            } else {
                Self.rowsPass(
                    storage.assumingMemoryBound(to: Float.self), stride: rowStride, x: x, inputs: inputs, y: y,
                    units: units, scales: nil)
            }
        }
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
            case (.int16, _): preconditionFailure("int16 is a rows precision")
            }
        }
        for unit in 0..<units {
            let sum = y[unit] + (bias?[unit] ?? 0)
            y[unit] = relu ? max(sum, 0) : sum
        }
    }

    /// Rows layout: y[0..<units] = Σ_{d: x[d] ≠ 0} x[d] · W[d, :], in groups of 104 units (13 accumulators). Each unit
    /// sums over d in order with FMA, as a panel pass does, so the result is the panels' bit for bit (fma(0, w, s)
    /// = s). The rows read are scattered, which the hardware prefetcher does not follow, so the pass runs one block
    /// of 64 inputs ahead: it lists the next block's non-zero inputs and prefetches every cache line of their rows
    /// (CPrefetch) before it multiplies the current block's rows.
    /// Int16 rows multiply x[d] · scales[d] into the widened integers (one rounding more than float32 rows).
    @inline(__always)
    static func rowsPass<Element: WideRowElement>(
        _ w: UnsafePointer<Element>, stride: Int, x: UnsafePointer<Float>, inputs: Int, y: UnsafeMutablePointer<Float>,
        units: Int, scales: UnsafePointer<Float>?
    ) {
        var lists = InlineArray<128, Int32>(repeating: 0)  // two blocks' non-zero inputs
        var counts = (0, 0)
        let blocks = (inputs + 63) / 64
        let linesPerRow = (min(units, WideRow.width) * MemoryLayout<Element>.size + 63) / 64
        /// Lists block `block`'s non-zero inputs in lists[half·64…] and prefetches their rows' lines of `group`.
        @inline(__always) func prepare(_ block: Int, half: Int, group: Int) -> Int {
            var count = 0
            let end = min(inputs, block * 64 + 64)
            for d in (block * 64)..<end where x[d] != 0 {
                lists[half * 64 + count] = Int32(truncatingIfNeeded: d)
                count += 1
            }
            for n in 0..<count {
                let row = w + group + Int(lists[half * 64 + n]) * stride
                for line in 0..<linesPerRow { gp_prefetch(UnsafeRawPointer(row) + line * 64) }
            }
            return count
        }
        for group in Swift.stride(from: 0, to: units, by: WideRow.width) {
            var accumulator = WideRow()
            let window = w + group
            counts.0 = prepare(0, half: 0, group: group)
            for block in 0..<blocks {
                let half = block & 1
                if block + 1 < blocks {
                    if half == 0 {
                        counts.1 = prepare(block + 1, half: 1, group: group)
                    } else {
                        counts.0 = prepare(block + 1, half: 0, group: group)
                    }
                }
                let count = half == 0 ? counts.0 : counts.1
                for n in 0..<count {
                    let d = Int(lists[half * 64 + n])
                    accumulator.addProduct(scales.map { x[d] * $0[d] } ?? x[d], window + d * stride)
                }
            }
            accumulator.store(y + group, valid: units - group)
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

extension Float {
    fileprivate func clamped(_ low: Float, _ high: Float) -> Float { Swift.min(Swift.max(self, low), high) }
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
