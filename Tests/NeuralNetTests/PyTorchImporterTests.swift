// PyTorch checkpoint reading and the torchvision MobileNetV2 import. A tiny pickle writer below emits
// what torch.save does — legacy format (five pickles + raw storages) and zip format (data.pkl + one
// entry per storage, written with ZIPFoundation) — for a torchvision-shaped state_dict with seeded
// random weights. Tests check the key → layer mapping and transposes element by element, the planned
// path against the reference path on the imported model, and every refusal: truncation, forbidden
// globals and opcodes, missing/extra keys, wrong shapes, non-contiguous tensors.
import Foundation
import Testing
import ZIPFoundation

@testable import Importers
@testable import NeuralNet

// MARK: - A synthetic torchvision state_dict

/// One tensor of a synthetic state_dict: float32 scalars, or an int64 scalar (num_batches_tracked).
struct TorchTensor {
    var name: String
    var shape: [Int]
    var scalars: [Float]
    var isInteger = false
}

/// torchvision `mobilenet_v2(width_mult: alpha)`'s state_dict keys and shapes, in its order, with
/// seeded random values (He-uniform kernels, BN statistics away from identity). Written from
/// torchvision's module structure, independently of the importer's mapping table.
func torchvisionMobileNetV2StateDict(alpha: Double, classes: Int = 1000, seed: UInt64) -> [TorchTensor] {
    var tensors: [TorchTensor] = []
    var generator = SplitMix64(seed: seed)
    func random(_ name: String, _ shape: [Int], _ range: ClosedRange<Float>) {
        let scalars = (0..<shape.reduce(1, *)).map { _ in generator.nextFloat(in: range) }
        tensors.append(TorchTensor(name: name, shape: shape, scalars: scalars))
    }
    func convolution(_ module: String, _ shape: [Int]) {  // [O, I, KH, KW]
        let limit = (6 / Float(shape[1] * shape[2] * shape[3])).squareRoot()
        random(module + ".weight", shape, -limit...limit)
    }
    func batchNorm(_ module: String, _ channels: Int) {
        random(module + ".weight", [channels], 0.5...1.5)
        random(module + ".bias", [channels], -0.2...0.2)
        random(module + ".running_mean", [channels], -0.2...0.2)
        random(module + ".running_var", [channels], 0.5...1.5)
        tensors.append(TorchTensor(name: module + ".num_batches_tracked", shape: [], scalars: [], isInteger: true))
    }
    let stem = MobileNetV2.makeDivisible(32 * alpha)
    convolution("features.0.0", [stem, 3, 3, 3])
    batchNorm("features.0.1", stem)
    var input = stem
    for (index, block) in MobileNetV2.blocks.enumerated() {
        let output = MobileNetV2.makeDivisible(Double(block.filters) * alpha)
        let hidden = input * block.expansion
        let module = "features.\(index + 1).conv"
        var next = 0
        if block.expansion != 1 {
            convolution("\(module).0.0", [hidden, input, 1, 1])
            batchNorm("\(module).0.1", hidden)
            next = 1
        }
        convolution("\(module).\(next).0", [hidden, 1, 3, 3])
        batchNorm("\(module).\(next).1", hidden)
        convolution("\(module).\(next + 1)", [output, hidden, 1, 1])
        batchNorm("\(module).\(next + 2)", output)
        input = output
    }
    let last = MobileNetV2.lastFilters(alpha: alpha)
    convolution("features.18.0", [last, input, 1, 1])
    batchNorm("features.18.1", last)
    let limit = (6 / Float(last)).squareRoot()
    random("classifier.1.weight", [classes, last], -limit...limit)
    random("classifier.1.bias", [classes], -0.2...0.2)
    return tensors
}

// MARK: - A tiny pickle writer (what torch.save emits)

/// Pickle opcodes the writer uses (CPython pickletools names in comments).
enum PickleByte {
    static let mark: UInt8 = 0x28, stop: UInt8 = 0x2E, tuple: UInt8 = 0x74, emptyTuple: UInt8 = 0x29
    static let tuple1: UInt8 = 0x85, reduce: UInt8 = 0x52, build: UInt8 = 0x62, setItem: UInt8 = 0x73
    static let setItems: UInt8 = 0x75, emptyDictionary: UInt8 = 0x7D, emptyList: UInt8 = 0x5D, appends: UInt8 = 0x65
    static let none: UInt8 = 0x4E, newTrue: UInt8 = 0x88, newFalse: UInt8 = 0x89, binaryPersistentID: UInt8 = 0x51
}

/// Writes one pickle: protocol 2 as torch.save's default, or protocol 4 (FRAME, SHORT_BINUNICODE,
/// STACK_GLOBAL, MEMOIZE) as with `pickle_protocol=4`.
struct PickleWriter {
    private(set) var bytes: [UInt8]
    let protocol4: Bool
    private var memoCount = 0

    init(protocol4: Bool = false) {
        self.protocol4 = protocol4
        bytes = [0x80, protocol4 ? 4 : 2]
        if protocol4 { bytes += [0x95] + [UInt8](repeating: 0, count: 8) }  // FRAME, length patched by finish()
    }

    mutating func op(_ code: UInt8) { bytes.append(code) }

    mutating func integer(_ value: Int) {
        switch value {
        case 0...0xFF: bytes += [0x4B, UInt8(value)]  // BININT1
        case 0...0xFFFF: bytes += [0x4D] + littleEndian(UInt64(value), 2)  // BININT2
        case Int(Int32.min)...Int(Int32.max):  // BININT
            bytes += [0x4A] + littleEndian(UInt64(UInt32(bitPattern: Int32(value))), 4)
        default: bytes += [0x8A, 8] + littleEndian(UInt64(bitPattern: Int64(value)), 8)  // LONG1
        }
    }

    mutating func string(_ text: String) {
        let utf8 = Array(text.utf8)
        if protocol4, utf8.count < 256 {
            bytes += [0x8C, UInt8(utf8.count)] + utf8  // SHORT_BINUNICODE
        } else {
            bytes += [0x58] + littleEndian(UInt64(utf8.count), 4) + utf8  // BINUNICODE
        }
    }

    mutating func global(_ module: String, _ name: String) {
        if protocol4 {
            string(module)
            string(name)
            op(0x93)  // STACK_GLOBAL
        } else {
            bytes += [0x63] + Array("\(module)\n\(name)\n".utf8)  // GLOBAL
        }
    }

    /// Memoises the top of the stack; returns its memo index.
    @discardableResult
    mutating func memoize() -> Int {
        if protocol4 {
            op(0x94)  // MEMOIZE
        } else if memoCount < 256 {
            bytes += [0x71, UInt8(memoCount)]  // BINPUT
        } else {
            bytes += [0x72] + littleEndian(UInt64(memoCount), 4)  // LONG_BINPUT
        }
        memoCount += 1
        return memoCount - 1
    }

    mutating func get(_ index: Int) {
        bytes += index < 256 ? [0x68, UInt8(index)] : [0x6A] + littleEndian(UInt64(index), 4)  // BINGET / LONG_BINGET
    }

    mutating func integerTuple(_ values: [Int]) {
        if values.isEmpty { return op(PickleByte.emptyTuple) }
        if values.count == 1 {
            integer(values[0])
            return op(PickleByte.tuple1)
        }
        op(PickleByte.mark)
        for value in values { integer(value) }
        op(PickleByte.tuple)
    }

    /// Appends STOP and returns the pickle.
    mutating func finish() -> [UInt8] {
        op(PickleByte.stop)
        if protocol4 {
            let frameLength = littleEndian(UInt64(bytes.count - 11), 8)
            bytes.replaceSubrange(3..<11, with: frameLength)
        }
        return bytes
    }
}

func littleEndian(_ value: UInt64, _ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
}

/// Storages for `tensors`: one each, except that a BN's running_var shares running_mean's storage at an offset.
struct StoragePlan {
    var storages: [(isInteger: Bool, scalars: [Float])] = []
    /// Per tensor: (storage index, element offset).
    var placement: [(storage: Int, offset: Int)] = []

    init(_ tensors: [TorchTensor]) {
        for (index, tensor) in tensors.enumerated() {
            if tensor.name.hasSuffix(".running_var"), index > 0, tensors[index - 1].name.hasSuffix(".running_mean") {
                let shared = placement[index - 1].storage
                placement.append((shared, storages[shared].scalars.count))
                storages[shared].scalars += tensor.scalars
            } else {
                placement.append((storages.count, 0))
                storages.append((tensor.isInteger, tensor.isInteger ? [0] : tensor.scalars))
            }
        }
    }

    func bytes(of storage: Int) -> [UInt8] {
        let entry = storages[storage]
        if entry.isInteger { return [UInt8](repeating: 0, count: 8 * entry.scalars.count) }
        return entry.scalars.flatMap { littleEndian(UInt64($0.bitPattern), 4) }
    }
}

/// The state_dict pickle torch.save writes: OrderedDict of `_rebuild_tensor_v2` calls on persistent-id
/// storages, then `_metadata` set by BUILD. `legacy` adds the sixth (view metadata) pid element.
func stateDictPickle(
    _ tensors: [TorchTensor], plan: StoragePlan, keys: [String], legacy: Bool,
    protocol4: Bool = false, strides: ((TorchTensor) -> [Int])? = nil
) -> [UInt8] {
    var writer = PickleWriter(protocol4: protocol4)
    writer.global("collections", "OrderedDict")
    let orderedDictionary = writer.memoize()
    writer.op(PickleByte.emptyTuple)
    writer.op(PickleByte.reduce)
    writer.memoize()
    writer.op(PickleByte.mark)
    var rebuild: Int?
    for (index, tensor) in tensors.enumerated() {
        writer.string(tensor.name)
        writer.memoize()
        if let rebuild {
            writer.get(rebuild)
        } else {
            writer.global("torch._utils", "_rebuild_tensor_v2")
            rebuild = writer.memoize()
        }
        let (storage, offset) = plan.placement[index]
        writer.op(PickleByte.mark)
        writer.op(PickleByte.mark)
        writer.string("storage")
        writer.global("torch", tensor.isInteger ? "LongStorage" : "FloatStorage")
        writer.string(keys[storage])
        writer.string("cpu")
        writer.integer(plan.storages[storage].scalars.count)
        if legacy { writer.op(PickleByte.none) }
        writer.op(PickleByte.tuple)
        writer.op(PickleByte.binaryPersistentID)
        writer.integer(offset)
        writer.integerTuple(tensor.shape)
        var contiguous = [Int](repeating: 1, count: tensor.shape.count)
        for axis in stride(from: tensor.shape.count - 2, through: 0, by: -1) {
            contiguous[axis] = contiguous[axis + 1] * tensor.shape[axis + 1]
        }
        writer.integerTuple(strides?(tensor) ?? contiguous)
        writer.op(PickleByte.newFalse)
        writer.get(orderedDictionary)
        writer.op(PickleByte.emptyTuple)
        writer.op(PickleByte.reduce)
        writer.op(PickleByte.tuple)
        writer.op(PickleByte.reduce)
        writer.memoize()
    }
    writer.op(PickleByte.setItems)
    // state: {'_metadata': OrderedDict({'': {'version': 1}})}
    writer.op(PickleByte.emptyDictionary)
    writer.string("_metadata")
    writer.get(orderedDictionary)
    writer.op(PickleByte.emptyTuple)
    writer.op(PickleByte.reduce)
    writer.op(PickleByte.mark)
    writer.string("")
    writer.op(PickleByte.emptyDictionary)
    writer.string("version")
    writer.integer(1)
    writer.op(PickleByte.setItem)
    writer.op(PickleByte.setItems)
    writer.op(PickleByte.setItem)
    writer.op(PickleByte.build)
    return writer.finish()
}

/// A legacy-format checkpoint (torch/serialization.py `_legacy_save`).
func legacyCheckpoint(_ tensors: [TorchTensor], strides: ((TorchTensor) -> [Int])? = nil) -> [UInt8] {
    let plan = StoragePlan(tensors)
    let keys = plan.storages.indices.map { "9427205\(2_000_000 + $0 * 16)" }
    var file = [UInt8]()
    file += [0x80, 0x02, 0x8A, 0x0A] + PyTorchCheckpoint.legacyMagicNumber + [PickleByte.stop]
    var version = PickleWriter()
    version.integer(1001)
    file += version.finish()
    var systemInfo = PickleWriter()
    systemInfo.op(PickleByte.emptyDictionary)
    systemInfo.memoize()
    systemInfo.op(PickleByte.mark)
    systemInfo.string("protocol_version")
    systemInfo.integer(1001)
    systemInfo.string("little_endian")
    systemInfo.op(PickleByte.newTrue)
    systemInfo.string("type_sizes")
    systemInfo.op(PickleByte.emptyDictionary)
    systemInfo.op(PickleByte.mark)
    for (name, size) in [("short", 2), ("int", 4), ("long", 4)] {
        systemInfo.string(name)
        systemInfo.integer(size)
    }
    systemInfo.op(PickleByte.setItems)
    systemInfo.op(PickleByte.setItems)
    file += systemInfo.finish()
    file += stateDictPickle(tensors, plan: plan, keys: keys, legacy: true, strides: strides)
    let order = keys.indices.sorted { keys[$0] < keys[$1] }
    var keyList = PickleWriter()
    keyList.op(PickleByte.emptyList)
    keyList.memoize()
    keyList.op(PickleByte.mark)
    for index in order { keyList.string(keys[index]) }
    keyList.op(PickleByte.appends)
    file += keyList.finish()
    for index in order {
        file += littleEndian(UInt64(plan.storages[index].scalars.count), 8) + plan.bytes(of: index)
    }
    return file
}

/// A zip-format checkpoint (torch/serialization.py `_save`) at `path`, with data.pkl in protocol 2 or 4.
func writeZipCheckpoint(_ tensors: [TorchTensor], to path: String, protocol4: Bool) throws {
    let plan = StoragePlan(tensors)
    let keys = plan.storages.indices.map(String.init)
    let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
    func add(_ name: String, _ bytes: [UInt8]) throws {
        try archive.addEntry(
            with: "checkpoint/" + name, type: .file,
            uncompressedSize: Int64(bytes.count)
        ) { position, size in
            Data(bytes[Int(position)..<(Int(position) + size)])
        }
    }
    try add("data.pkl", stateDictPickle(tensors, plan: plan, keys: keys, legacy: false, protocol4: protocol4))
    try add("byteorder", Array("little".utf8))
    for index in plan.storages.indices { try add("data/\(keys[index])", plan.bytes(of: index)) }
    try add("version", Array("3\n".utf8))
}

/// A fresh temporary directory, removed with everything in it when the value is released.
final class ScratchDirectory {
    let path = NSTemporaryDirectory() + "gesturepad-pytorch-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

    init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// The path of `name` inside the directory (not created).
    func file(_ name: String) -> String { path + "/" + name }

    /// Writes `bytes` to `name` inside the directory and returns its path.
    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        try Data(bytes).write(to: URL(fileURLWithPath: file(name)))
        return file(name)
    }
}

/// Expects `body` to throw the NeuralNetError `matches` accepts; returns it for further checks.
func expectError(
    _ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void,
    matches: (NeuralNetError) -> Bool
) {
    do {
        try body()
        Issue.record("\(what): no error thrown", sourceLocation: sourceLocation)
    } catch let error as NeuralNetError {
        #expect(matches(error), "\(what): unexpected \(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("\(what): untyped \(error)", sourceLocation: sourceLocation)
    }
}

// MARK: - Tests

@Suite("PyTorch checkpoints → MobileNetV2")
struct PyTorchImporterTests {
    /// PyTorch OIHW index → flat offset.
    static func offset(_ shape: [Int], _ index: [Int]) -> Int { zip(shape, index).reduce(0) { $0 * $1.0 + $1.1 } }

    @Test("legacy format, α = 1: 262 float tensors + 52 num_batches_tracked, mapped and transposed element-wise")
    func legacyFullWidth() throws {
        let scratch = try ScratchDirectory()
        defer { withExtendedLifetime(scratch) {} }  // files stay until the test ends
        let tensors = torchvisionMobileNetV2StateDict(alpha: 1.0, seed: 2024)
        let path = try scratch.write(legacyCheckpoint(tensors), "mobilenet_v2.pth")
        let entries = try PyTorchCheckpoint.readStateDict(path: path)
        #expect(entries.count == 314)
        #expect(entries.filter { $0.dataType == .float32 }.count == 262)
        #expect(entries.map(\.name) == tensors.map(\.name), "file order kept")
        for (entry, tensor) in zip(entries, tensors) where !tensor.isInteger {
            #expect(entry.shape == tensor.shape && entry.scalars == tensor.scalars, "\(tensor.name) read back")
        }

        let model = try PyTorchImporter.importMobileNetV2(path: path)
        #expect(model.name == "mobilenet_v2_1.0_224")
        #expect(model.outputNames == ["predictions"] && model.inputNames == ["input_1"])
        #expect(model.layers.count == 158)
        #expect(model.parameterCount == tensors.reduce(0) { $0 + $1.scalars.count })
        let source = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0) })

        // Conv kernels OIHW → HWIO: Keras [h, w, i, o] == PyTorch [o, i, h, w], every element of three layers.
        for (layer, key) in [
            ("Conv1", "features.0.0.weight"), ("block_3_expand", "features.4.conv.0.0.weight"),
            ("block_16_project", "features.17.conv.2.weight"), ("Conv_1", "features.18.0.weight"),
        ] {
            let kernel = model.layer(named: layer)!.weights["kernel"]!
            let torch = source[key]!
            let (height, width, inputs, outputs) = (kernel.shape[0], kernel.shape[1], kernel.shape[2], kernel.shape[3])
            #expect(torch.shape == [outputs, inputs, height, width], "\(key)")
            var mismatches = 0
            for h in 0..<height {
                for w in 0..<width {
                    for i in 0..<inputs {
                        for o in 0..<outputs {
                            let keras = kernel.scalars[Self.offset(kernel.shape, [h, w, i, o])]
                            if keras != torch.scalars[Self.offset(torch.shape, [o, i, h, w])] { mismatches += 1 }
                        }
                    }
                }
            }
            #expect(mismatches == 0, "\(layer) ← \(key)")
        }
        // Depthwise [C, 1, KH, KW] → [KH, KW, C, 1], on hand-picked entries.
        let depthwise = model.layer(named: "block_1_depthwise")!.weights["depthwise_kernel"]!
        let torchDepthwise = source["features.2.conv.1.0.weight"]!
        #expect(depthwise.shape == [3, 3, 96, 1] && torchDepthwise.shape == [96, 1, 3, 3])
        for (h, w, c) in [(0, 0, 0), (0, 2, 1), (2, 1, 95), (1, 1, 50)] {
            #expect(
                depthwise.scalars[Self.offset([3, 3, 96, 1], [h, w, c, 0])]
                    == torchDepthwise.scalars[Self.offset([96, 1, 3, 3], [c, 0, h, w])], "dw (\(h),\(w),\(c))")
        }
        let expandedDepthwise = model.layer(named: "expanded_conv_depthwise")!.weights["depthwise_kernel"]!
        #expect(
            expandedDepthwise.scalars[Self.offset([3, 3, 32, 1], [2, 0, 31, 0])]
                == source["features.1.conv.0.0.weight"]!.scalars[Self.offset([32, 1, 3, 3], [31, 0, 2, 0])])
        // Linear [1000, 1280] → Dense [1280, 1000].
        let dense = model.layer(named: "predictions")!
        let linear = source["classifier.1.weight"]!
        for (feature, label) in [(0, 0), (1279, 999), (640, 17), (3, 998)] {
            #expect(dense.weights["kernel"]!.scalars[feature * 1000 + label] == linear.scalars[label * 1280 + feature])
        }
        #expect(dense.weights["bias"]!.scalars == source["classifier.1.bias"]!.scalars)
        // BatchNorm: weight/bias/running_mean/running_var → gamma/beta/moving_mean/moving_variance, eps 1e-5.
        let batchNorm = model.layer(named: "block_5_depthwise_BN")!
        #expect(batchNorm.kind == .batchNormalization(epsilon: 1e-5, center: true, scale: true))
        for (keras, torch) in [
            ("gamma", "weight"), ("beta", "bias"), ("moving_mean", "running_mean"),
            ("moving_variance", "running_var"),
        ] {
            #expect(batchNorm.weights[keras]!.scalars == source["features.6.conv.1.1.\(torch)"]!.scalars, "\(keras)")
        }
        #expect(
            model.layer(named: "Conv_1_bn")!.weights["moving_variance"]!.scalars
                == source["features.18.1.running_var"]!.scalars)
    }

    @Test(
        "zip format (protocol 2 and 4) gives the same model as legacy; planned path matches the reference path",
        arguments: [false, true])
    func zipMatchesLegacyAndRuns(protocol4: Bool) throws {
        let scratch = try ScratchDirectory()
        defer { withExtendedLifetime(scratch) {} }  // files stay until the test ends
        let alpha = 0.5
        let tensors = torchvisionMobileNetV2StateDict(alpha: alpha, seed: 77)
        let zipPath = scratch.file("mobilenet_v2.pt")
        try writeZipCheckpoint(tensors, to: zipPath, protocol4: protocol4)
        let fromZip = try PyTorchImporter.importMobileNetV2(path: zipPath, alpha: alpha)
        let legacyPath = try scratch.write(legacyCheckpoint(tensors), "v2.pth")
        let fromLegacy = try PyTorchImporter.importMobileNetV2(path: legacyPath, alpha: alpha)
        #expect(fromZip == fromLegacy)
        #expect(fromZip.name == "mobilenet_v2_0.5_224")

        // Residual adds: torchvision features.3/5/6/8/9/10/12/13/15/16 = Keras blocks 2,4,5,7,8,9,11,12,14,15.
        let adds = fromZip.layers.filter { $0.kind == .add }
        #expect(adds.map(\.name) == [2, 4, 5, 7, 8, 9, 11, 12, 14, 15].map { "block_\($0)_add" })
        #expect(fromZip.layer(named: "block_2_add")!.inbound == ["block_1_project_BN", "block_2_project_BN"])
        #expect(fromZip.layer(named: "block_5_add")!.inbound == ["block_4_add", "block_5_project_BN"])

        let input = Tensor(shape: [96, 96, 3], uniformIn: -2...2, seed: 5)
        for layer in ["block_16_project_BN", "predictions"] {
            let embedder = try Embedder(model: fromZip, outputLayer: layer, inputShape: [96, 96, 3])
            let expected = try fromZip.referenceForward(input, outputs: [layer])[layer]!
            let actual = try embedder.embed(input)
            #expect(actual.shape == expected.shape)
            // Deep random-weight network: see MobileNetV2Tests.tolerance for how the error grows with depth.
            expectClose(
                actual.scalars, expected.scalars, tolerance: MobileNetV2Tests.tolerance(layer),
                "v2 α=0.5 at \(layer)")
            #expect(expected.scalars.contains { $0 != 0 }, "not degenerate")
        }
    }

    @Test("a truncated file is refused with a typed error, wherever it is cut")
    func truncated() throws {
        let scratch = try ScratchDirectory()
        defer { withExtendedLifetime(scratch) {} }  // files stay until the test ends
        let full = legacyCheckpoint(torchvisionMobileNetV2StateDict(alpha: 0.35, seed: 1))
        for length in [0, 1, 3, 14, 200, 60_000, full.count * 2 / 3, full.count - 1] {
            let path = try scratch.write(Array(full.prefix(length)), "cut.pth")
            expectError("cut at \(length)", { _ = try PyTorchCheckpoint.readStateDict(path: path) }) { error in
                guard case .invalidCheckpoint(let errorPath, let reason) = error else { return false }
                return errorPath.hasPrefix(path)
                    && (length == 0 || reason.contains("truncated") || reason.contains("ends"))
            }
        }
        let zipPath = scratch.file("whole.pt")
        try writeZipCheckpoint(torchvisionMobileNetV2StateDict(alpha: 0.35, seed: 1), to: zipPath, protocol4: false)
        let zipBytes = try FileIO.read(zipPath)
        let cutZip = try scratch.write(Array(zipBytes.prefix(zipBytes.count / 2)), "cut.pt")
        expectError("zip cut in half", { _ = try PyTorchImporter.importMobileNetV2(path: cutZip, alpha: 0.35) }) {
            if case .invalidCheckpoint = $0 { return true }
            return false
        }
        let text = try scratch.write(Array("hello".utf8), "x")
        expectError("neither zip nor pickle", { _ = try PyTorchCheckpoint.readStateDict(path: text) }) {
            if case .invalidCheckpoint(_, let reason) = $0 { return reason.contains("neither") }
            return false
        }
    }

    @Test("a pickle calling os.system is refused at the GLOBAL, before REDUCE could run it")
    func forbiddenGlobal() throws {
        let scratch = try ScratchDirectory()
        defer { withExtendedLifetime(scratch) {} }  // files stay until the test ends
        let marker = scratch.file("pwned")
        for protocol4 in [false, true] {
            var writer = PickleWriter(protocol4: protocol4)
            let globalOffset = writer.bytes.count
            writer.global("os", "system")
            writer.string("touch \(marker)")
            writer.op(PickleByte.tuple1)
            writer.op(PickleByte.reduce)
            let path = try scratch.write(writer.finish(), "evil.pth")
            expectError("os.system", { _ = try PyTorchCheckpoint.readStateDict(path: path) }) { error in
                guard case .forbiddenPickle(path, let offset, let what) = error else { return false }
                // STACK_GLOBAL comes after the two strings that name it.
                let expectedOffset = protocol4 ? globalOffset + 2 + 2 + 2 + 6 : globalOffset
                return what == "global os.system" && offset == expectedOffset
                    && "\(error)".contains("Nothing was executed")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
        // A legitimate-looking module that is not whitelisted is refused just the same.
        var writer = PickleWriter()
        writer.global("torch", "HalfStorage")
        let path = try scratch.write(writer.finish(), "half.pth")
        expectError("torch.HalfStorage", { _ = try PyTorchCheckpoint.readStateDict(path: path) }) {
            if case .forbiddenPickle(_, 2, "global torch.HalfStorage") = $0 { return true }
            return false
        }
    }

    @Test("opcodes outside the whitelist are refused, named, with their offset")
    func unknownOpcodes() throws {
        let scratch = try ScratchDirectory()
        defer { withExtendedLifetime(scratch) {} }  // files stay until the test ends
        for (byte, name) in [
            (UInt8(0x69), "opcode INST (0x69)"), (0x81, "opcode NEWOBJ (0x81)"),
            (0x32, "opcode DUP (0x32)"), (0xFF, "unknown opcode 0xff"),
        ] {
            var writer = PickleWriter()
            writer.integer(7)
            writer.op(byte)
            let path = try scratch.write(writer.finish(), "op.pth")
            expectError(name, { _ = try PyTorchCheckpoint.readStateDict(path: path) }) {
                if case .forbiddenPickle(_, 4, name) = $0 { return true }
                return false
            }
        }
    }

    @Test("state_dict problems: missing keys (all named), wrong shape, extra keys, int64 weight")
    func mappingErrors() throws {
        let scratch = try ScratchDirectory()
        defer { withExtendedLifetime(scratch) {} }  // files stay until the test ends
        let tensors = torchvisionMobileNetV2StateDict(alpha: 0.35, seed: 9)
        let entries = try PyTorchCheckpoint.readStateDict(path: scratch.write(legacyCheckpoint(tensors), "ok.pth"))
        let model = try PyTorchImporter.mobileNetV2(from: entries, path: "ok.pth", alpha: 0.35)
        #expect(model.layer(named: "block_16_project")!.weights["kernel"]!.shape == [1, 1, 56 * 6, 112])

        let dropped = ["features.5.conv.1.0.weight", "classifier.1.bias"]
        let incomplete = entries.filter { !dropped.contains($0.name) }
        expectError("missing", { _ = try PyTorchImporter.mobileNetV2(from: incomplete, path: "m.pth", alpha: 0.35) }) {
            if case .checkpointKeysMissing("m.pth", dropped) = $0 { return true }
            return false
        }
        var reshaped = entries
        let index = reshaped.firstIndex { $0.name == "features.2.conv.1.0.weight" }!
        reshaped[index].shape = [48, 3, 3, 1]
        expectError("shape", { _ = try PyTorchImporter.mobileNetV2(from: reshaped, path: "s.pth", alpha: 0.35) }) {
            if case .checkpointShapeMismatch("s.pth", "features.2.conv.1.0.weight", [48, 1, 3, 3], [48, 3, 3, 1]) = $0 {
                return true
            }
            return false
        }
        expectError("wrong α", { _ = try PyTorchImporter.mobileNetV2(from: entries, path: "a.pth", alpha: 1.0) }) {
            guard case .checkpointShapeMismatch(_, "features.0.0.weight", [32, 3, 3, 3], [16, 3, 3, 3]) = $0 else {
                return false
            }
            return true
        }
        let extra = entries + [StateDictEntry(name: "features.19.weight", shape: [1], dataType: .float32, scalars: [0])]
        expectError("extra", { _ = try PyTorchImporter.mobileNetV2(from: extra, path: "e.pth", alpha: 0.35) }) {
            if case .checkpointKeysUnexpected("e.pth", ["features.19.weight"]) = $0 { return true }
            return false
        }
        var integer = entries
        integer[integer.firstIndex { $0.name == "features.0.1.running_var" }!].dataType = .int64
        expectError("int64", { _ = try PyTorchImporter.mobileNetV2(from: integer, path: "i.pth", alpha: 0.35) }) {
            if case .invalidCheckpoint("i.pth", let reason) = $0 { return reason.contains("int64") }
            return false
        }
    }

    @Test("non-contiguous tensors and non-state_dict pickles are refused")
    func structuralErrors() throws {
        let scratch = try ScratchDirectory()
        defer { withExtendedLifetime(scratch) {} }  // files stay until the test ends
        let tensors = Array(torchvisionMobileNetV2StateDict(alpha: 0.35, seed: 3).prefix(6))
        let transposed = legacyCheckpoint(tensors) { tensor in
            tensor.name == "features.0.0.weight" ? [1, 16, 48, 144] : (tensor.shape.isEmpty ? [] : [1])
        }
        expectError("strides", { _ = try PyTorchCheckpoint.readStateDict(path: scratch.write(transposed, "t.pth")) }) {
            if case .invalidCheckpoint(_, let reason) = $0 { return reason.contains("not contiguous") }
            return false
        }
        // A first tensor reaching past its storage: claim 1 000 000 elements of a shorter storage.
        var wide = tensors
        wide[1].shape = [1_000_000]
        wide[1].scalars = Array(wide[1].scalars.prefix(16))
        let widePath = try scratch.write(legacyCheckpoint(wide), "w.pth")
        expectError("outside storage", { _ = try PyTorchCheckpoint.readStateDict(path: widePath) }) {
            if case .invalidCheckpoint(_, let reason) = $0 { return reason.contains("which holds") }
            return false
        }
        // A bare list is not a state_dict (magic + version + sysinfo pickles, then a list).
        var file = legacyCheckpoint([])
        let listStart = file.indices.first { index in
            index + 2 < file.count && file[index] == 0x80 && file[index + 1] == 2 && file[index + 2] == 0x63
        }!
        var root = PickleWriter()
        var keyList = PickleWriter()
        root.op(PickleByte.emptyList)
        keyList.op(PickleByte.emptyList)
        file = Array(file[..<listStart]) + root.finish() + keyList.finish()
        expectError("list root", { _ = try PyTorchCheckpoint.readStateDict(path: scratch.write(file, "l.pth")) }) {
            if case .invalidCheckpoint(_, let reason) = $0 { return reason.contains("not a state_dict") }
            return false
        }
        // A zip with no data.pkl.
        let zipPath = scratch.file("empty.zip")
        let archive = try Archive(url: URL(fileURLWithPath: zipPath), accessMode: .create)
        try archive.addEntry(with: "readme.txt", type: .file, uncompressedSize: Int64(2)) { (_: Int64, _: Int) in
            Data("hi".utf8)
        }
        expectError("zip without data.pkl", { _ = try PyTorchCheckpoint.readStateDict(path: zipPath) }) {
            if case .invalidCheckpoint(_, let reason) = $0 { return reason.contains("data.pkl") }
            return false
        }
    }

    @Test(
        "mutated checkpoints never crash the reader: each read succeeds or throws NeuralNetError",
        arguments: [false, true])
    func mutations(zipFormat: Bool) throws {
        let scratch = try ScratchDirectory()
        defer { withExtendedLifetime(scratch) {} }  // files stay until the test ends
        let tensors = Array(torchvisionMobileNetV2StateDict(alpha: 0.35, seed: 4).prefix(16))
        var original = legacyCheckpoint(tensors)
        if zipFormat {
            let path = scratch.file("small.pt")
            try writeZipCheckpoint(tensors, to: path, protocol4: true)
            original = try FileIO.read(path)
        }
        var generator = SplitMix64(seed: zipFormat ? 11 : 12)
        var outcomes = (read: 0, refused: 0)
        let path = scratch.file("mutant")
        for _ in 0..<400 {
            var bytes = original
            // Mostly the pickle/header region, where structure lives; sometimes anywhere.
            let region = generator.next() % 4 == 0 ? bytes.count : min(bytes.count, 1200)
            for _ in 0...(generator.next() % 4) {
                let index = Int(generator.next() % UInt64(region))
                bytes[index] = generator.next() % 3 == 0 ? 0xFF : UInt8(truncatingIfNeeded: generator.next())
            }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                _ = try PyTorchCheckpoint.readStateDict(path: path)
                outcomes.read += 1
            } catch {
                outcomes.refused += 1
            }
        }
        #expect(outcomes.refused > 100, "\(outcomes)")
    }

    /// Set GESTUREPAD_MOBILENET_V2_PTH to torchvision's mobilenet_v2-b0353104.pth (docs/MODELS.md §2) to run.
    @Test(
        "the real torchvision IMAGENET1K_V1 checkpoint imports fully",
        .enabled(
            if: ProcessInfo.processInfo.environment["GESTUREPAD_MOBILENET_V2_PTH"] != nil,
            "set GESTUREPAD_MOBILENET_V2_PTH to mobilenet_v2-b0353104.pth"))
    func realCheckpoint() throws {
        let path = ProcessInfo.processInfo.environment["GESTUREPAD_MOBILENET_V2_PTH"]!
        let entries = try PyTorchCheckpoint.readStateDict(path: path)
        #expect(entries.count == 314)
        #expect(entries.filter { $0.dataType == .float32 }.count == 262)
        let model = try PyTorchImporter.mobileNetV2(from: entries, path: path)
        #expect(model.parameterCount == entries.reduce(0) { $0 + $1.scalars.count })
        let embedder = try Embedder(model: model, outputLayer: "predictions")
        let affine = InputNormalization.imagenet.affine
        var input = Tensor(shape: [224, 224, 3])
        for index in 0..<input.count { input.scalars[index] = 128 * affine[index % 3].scale + affine[index % 3].offset }
        let probabilities = try embedder.embed(input).scalars
        let top5 = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(5)
        print("mobilenet_v2 on gray 128: top-5 \(top5.map { "\($0) (\(probabilities[$0]))" })")
        let features = try Embedder(model: model, outputLayer: "block_16_project_BN").embed(input)
        #expect(features.shape == [7, 7, 320])
        let expected = try model.referenceForward(input, outputs: ["predictions"])["predictions"]!
        expectClose(probabilities, expected.scalars, tolerance: 1e-5, "real weights, planned vs reference")
    }
}
