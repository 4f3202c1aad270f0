// RestrictedPickle: reads the checkpoints `torch.save` writes — the legacy format (five pickles, then
// each storage as an 8-byte little-endian element count + raw data) and the zip format
// (<archive>/data.pkl + <archive>/data/<key>) — into an ordered list of named tensors, running no code.
// A pickle is a program: only the opcodes in `PickleOpcode` execute and only five globals resolve
// (collections.OrderedDict, torch._utils._rebuild_tensor_v2/_rebuild_parameter, torch.FloatStorage/
// LongStorage); anything else is refused, naming it and its byte offset, before anything is built from it.
// Invariants: every read is bounds-checked; lists and dicts live in tables addressed by id (no reference
// cycles); tuples nest at most `maximumTupleDepth` deep; tensors must be contiguous and inside their storage.
// References: CPython Lib/pickletools.py (opcode semantics), torch/serialization.py (`_legacy_save`, `_save`).
import Foundation
import NeuralNet
import ZIPFoundation

// MARK: - Public result

/// One named tensor of a PyTorch `state_dict`, in file order.
public struct StateDictEntry: Sendable, Equatable {
    /// Element type of the tensor's storage.
    public enum DataType: String, Sendable {
        /// `torch.FloatStorage`: little-endian IEEE float32.
        case float32
        /// `torch.LongStorage`: little-endian int64 (BatchNorm `num_batches_tracked`); values are not decoded.
        case int64
    }

    /// The state_dict key, e.g. `features.0.0.weight`.
    public var name: String
    /// PyTorch shape, outermost first (conv weights OIHW); empty for a scalar.
    public var shape: [Int]
    /// Storage element type.
    public var dataType: DataType
    /// Row-major scalars for float32 tensors; empty for int64 ones.
    public var scalars: [Float]
}

/// Reader of PyTorch `torch.save` checkpoints holding a `state_dict` (an ordered dict of tensors).
public enum PyTorchCheckpoint {
    /// Serialisation formats `torch.save` has used.
    public enum Format: String, Sendable {
        /// Before PyTorch 1.6 (or `_use_new_zipfile_serialization=False`): concatenated pickles + raw storages.
        case legacy
        /// PyTorch ≥ 1.6: a zip archive with data.pkl and one entry per storage.
        case zip
    }

    /// The magic number the legacy format pickles first (torch/serialization.py `MAGIC_NUMBER`,
    /// 0x1950a86a20f9469cfc6c) as little-endian two's-complement bytes.
    static let legacyMagicNumber: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
    /// The legacy format's `PROTOCOL_VERSION`.
    static let legacyProtocolVersion = 1001
    /// Largest data.pkl read from a zip checkpoint (a state_dict's pickle is kilobytes; the limit stops zip bombs).
    static let maximumPickleBytes = 256 << 20

    /// The format of the file starting with `prefix`, or nil when it is neither (zip "PK\x03\x04", pickle 0x80).
    public static func format(of prefix: [UInt8]) -> Format? {
        if prefix.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return .zip }
        if prefix.first == 0x80 { return .legacy }
        return nil
    }

    /// Reads the state_dict saved at `path` (legacy or zip format, told apart by the first bytes).
    /// - Returns: every tensor in the order the dict holds them, float32 ones with their scalars.
    public static func readStateDict(path: String) throws(NeuralNetError) -> [StateDictEntry] {
        let bytes = try FileIO.read(path)
        switch format(of: Array(bytes.prefix(4))) {
        case .zip: return try readZip(path: path)
        case .legacy: return try readLegacy(bytes, path: path)
        case nil:
            let head = bytes.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw .invalidCheckpoint(
                path: path,
                reason: bytes.isEmpty
                    ? "the file is empty"
                    : "it starts with bytes \(head), neither a zip archive (50 4b 03 04) nor a pickle (80)")
        }
    }

    /// Reads a legacy-format checkpoint already in memory: magic number, protocol version, system info,
    /// the state_dict pickle, the storage-key list, then per key an 8-byte LE element count and the data.
    static func readLegacy(_ bytes: [UInt8], path: String) throws(NeuralNetError) -> [StateDictEntry] {
        var unpickler = RestrictedUnpickler(bytes: bytes[...], path: path)
        let magic = try unpickler.load()
        guard case .bigInteger(let magicBytes) = magic, magicBytes == legacyMagicNumber else {
            throw .invalidCheckpoint(
                path: path,
                reason: "the first pickle is not PyTorch's magic number; "
                    + "this is a pickle but not a torch.save checkpoint")
        }
        guard case .integer(legacyProtocolVersion) = try unpickler.load() else {
            throw .invalidCheckpoint(path: path, reason: "the legacy protocol version is not \(legacyProtocolVersion)")
        }
        let systemInfo = try unpickler.load()
        if case .dictionary(let id) = systemInfo,
            case .boolean(false) = unpickler.dictionaries[id].value(forKey: "little_endian")
        {
            throw .invalidCheckpoint(
                path: path,
                reason: "it was saved on a big-endian machine; "
                    + "re-save it on a little-endian one")
        }
        let root = try unpickler.load()
        let keysValue = try unpickler.load()
        guard case .list(let keysID) = keysValue else {
            throw .invalidCheckpoint(
                path: path,
                reason: "the storage-key pickle holds \(keysValue.kindName), not a list")
        }
        // Storages follow the key list in its order: 8-byte LE element count, then count × element size bytes.
        var storageData: [String: ArraySlice<UInt8>] = [:]
        var cursor = unpickler.position
        for keyValue in unpickler.lists[keysID] {
            guard case .string(let key) = keyValue else {
                throw .invalidCheckpoint(path: path, reason: "a storage key is \(keyValue.kindName), not a string")
            }
            guard let storage = unpickler.storages[key] else {
                throw .invalidCheckpoint(
                    path: path,
                    reason: "storage \(key) is listed but no tensor uses it, so its "
                        + "element size is unknown")
            }
            guard cursor + 8 <= bytes.count else {
                throw .invalidCheckpoint(
                    path: path,
                    reason: "the file ends at byte \(bytes.count) before the element "
                        + "count of storage \(key) (truncated download?)")
            }
            var count: UInt64 = 0
            for index in 0..<8 { count |= UInt64(bytes[cursor + index]) << (8 * UInt64(index)) }
            let size = storage.dataType.elementSize
            guard count <= UInt64((bytes.count - cursor - 8) / size) else {
                throw .invalidCheckpoint(
                    path: path,
                    reason: "storage \(key) at byte \(cursor) claims \(count) "
                        + "elements "
                        + "but only \(max(0, bytes.count - cursor - 8)) bytes remain (truncated download?)")
            }
            let start = cursor + 8
            cursor = start + Int(count) * size
            storageData[key] = bytes[start..<cursor]
        }
        return try stateDict(root, unpickler: unpickler, storageData: storageData, path: path)
    }

    /// Reads a zip-format checkpoint: the single `<archive>/data.pkl`, then `<archive>/data/<key>` per storage.
    static func readZip(path: String) throws(NeuralNetError) -> [StateDictEntry] {
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw .invalidCheckpoint(
                path: path,
                reason: "it starts like a zip archive but cannot be opened as one "
                    + "(\(error); truncated download?)")
        }
        let pickles = archive.filter { entry in
            let components = entry.path.split(separator: "/", omittingEmptySubsequences: false)
            return components.count == 2 && components[1] == "data.pkl" && !components[0].isEmpty
        }
        guard pickles.count == 1, let pickleEntry = pickles.first else {
            throw .invalidCheckpoint(
                path: path,
                reason: pickles.isEmpty
                    ? "the zip archive has no <archive>/data.pkl; it is not a torch.save checkpoint"
                    : "the zip archive has \(pickles.count) data.pkl entries (\(pickles.map(\.path))), expected one")
        }
        let prefix = String(pickleEntry.path.dropLast("data.pkl".count))
        if let byteOrderEntry = archive[prefix + "byteorder"] {
            let byteOrder = try extract(byteOrderEntry, from: archive, limit: 64, path: path)
            guard byteOrder == Array("little".utf8) else {
                let text = String(decoding: byteOrder, as: UTF8.self)
                throw .invalidCheckpoint(
                    path: path,
                    reason: "\(prefix)byteorder says \(text); "
                        + "only little-endian checkpoints are supported")
            }
        }
        let pickleBytes = try extract(pickleEntry, from: archive, limit: maximumPickleBytes, path: path)
        var unpickler = RestrictedUnpickler(bytes: pickleBytes[...], path: "\(path) [\(pickleEntry.path)]")
        let root = try unpickler.load()
        var storageData: [String: ArraySlice<UInt8>] = [:]
        for (key, storage) in unpickler.storages {
            let entryPath = prefix + "data/" + key
            guard let entry = archive[entryPath] else {
                throw .invalidCheckpoint(path: path, reason: "storage \(key) has no entry \(entryPath) in the archive")
            }
            let (needed, overflow) = storage.elementCount.multipliedReportingOverflow(by: storage.dataType.elementSize)
            guard !overflow else {
                throw .invalidCheckpoint(path: path, reason: "storage \(key) claims \(storage.elementCount) elements")
            }
            storageData[key] = try extract(entry, from: archive, limit: needed, path: path)[...]
        }
        return try stateDict(root, unpickler: unpickler, storageData: storageData, path: path)
    }

    /// The bytes of one archive entry, refusing entries larger than `limit` (before and while inflating).
    private static func extract(_ entry: Entry, from archive: Archive, limit: Int, path: String)
        throws(NeuralNetError) -> [UInt8]
    {
        guard entry.type == .file, entry.uncompressedSize <= UInt64(limit) else {
            throw .invalidCheckpoint(
                path: path,
                reason: "archive entry \(entry.path) holds \(entry.uncompressedSize) "
                    + "bytes, more than the \(limit) expected")
        }
        var result: [UInt8] = []
        result.reserveCapacity(Int(entry.uncompressedSize))
        let checksum: CRC32
        do {
            checksum = try archive.extract(entry, skipCRC32: false) { chunk in
                guard result.count + chunk.count <= limit else { throw CocoaError(.fileReadTooLarge) }
                result.append(contentsOf: chunk)
            }
        } catch {
            throw .invalidCheckpoint(
                path: path,
                reason: "cannot extract \(entry.path): \(error) "
                    + "(corrupt or truncated archive?)")
        }
        // ZIPFoundation computes the CRC-32 of what it extracted but leaves the comparison to the caller
        // (only its extract-to-file variant checks); a flipped bit in a weight would otherwise load silently.
        guard checksum == entry.checksum else {
            throw .invalidCheckpoint(
                path: path,
                reason: "archive entry \(entry.path) is corrupt: its data has CRC-32 "
                    + String(format: "%08x", checksum) + ", the archive records "
                    + String(format: "%08x", entry.checksum) + " (damaged download?)")
        }
        guard result.count == Int(entry.uncompressedSize) else {
            throw .invalidCheckpoint(
                path: path,
                reason: "archive entry \(entry.path) holds \(result.count) bytes, the archive records "
                    + "\(entry.uncompressedSize) (corrupt or truncated archive?)")
        }
        return result
    }

    /// Turns the unpickled root object into entries: it must be a dict from strings to tensors.
    private static func stateDict(
        _ root: PickleValue, unpickler: RestrictedUnpickler,
        storageData: [String: ArraySlice<UInt8>], path: String
    )
        throws(NeuralNetError) -> [StateDictEntry]
    {
        guard case .dictionary(let id) = root else {
            throw .invalidCheckpoint(
                path: path,
                reason: "it holds \(root.kindName), not a state_dict; save "
                    + "model.state_dict() rather than the model or a training checkpoint")
        }
        var entries: [StateDictEntry] = []
        for (key, value) in unpickler.dictionaries[id].entries {
            guard case .string(let name) = key else {
                throw .invalidCheckpoint(path: path, reason: "a state_dict key is \(key.kindName), not a string")
            }
            guard case .tensor(let tensor) = value else {
                throw .invalidCheckpoint(
                    path: path,
                    reason: "state_dict entry \(name) is \(value.kindName), not a "
                        + "tensor; save model.state_dict() rather than a training checkpoint")
            }
            guard let data = storageData[tensor.storage.key] else {
                throw .invalidCheckpoint(
                    path: path,
                    reason: "the data of storage \(tensor.storage.key) "
                        + "(tensor \(name)) is missing from the file")
            }
            entries.append(try materialize(name, tensor, data: data, path: path))
        }
        return entries
    }

    /// Copies a contiguous tensor's scalars out of its storage bytes, checking it lies inside them.
    private static func materialize(_ name: String, _ tensor: TensorReference, data: ArraySlice<UInt8>, path: String)
        throws(NeuralNetError) -> StateDictEntry
    {
        let elementSize = tensor.storage.dataType.elementSize
        var count = 1
        for dimension in tensor.shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else {
                throw .invalidCheckpoint(path: path, reason: "tensor \(name) has shape \(tensor.shape)")
            }
            count = product
        }
        // Contiguous (row-major) strides; a size-1 axis may carry any stride, as in PyTorch, and an empty
        // tensor has no data to lay out.
        var expectedStride = 1
        for axis in stride(from: tensor.shape.count - 1, through: 0, by: -1) where count > 0 && tensor.shape[axis] > 1 {
            guard tensor.strides[axis] == expectedStride else {
                throw .invalidCheckpoint(
                    path: path,
                    reason: "tensor \(name) (shape \(tensor.shape)) has strides "
                        + "\(tensor.strides), not contiguous; save it with .contiguous()")
            }
            expectedStride *= tensor.shape[axis]
        }
        let storageElements = data.count / elementSize
        guard count == 0 || (tensor.offset <= storageElements && count <= storageElements - tensor.offset) else {
            throw .invalidCheckpoint(
                path: path,
                reason: "tensor \(name) needs \(count) elements from offset "
                    + "\(tensor.offset) of storage \(tensor.storage.key), which holds \(storageElements)")
        }
        var scalars: [Float] = []
        if tensor.storage.dataType == .float32, count > 0 {
            let start = data.startIndex + tensor.offset * elementSize
            scalars = [Float](repeating: 0, count: count)
            scalars.withUnsafeMutableBytes { destination in
                data[start..<(start + count * elementSize)].withUnsafeBytes { source in
                    destination.copyMemory(from: source)
                }
            }
            #if _endian(big)
                for index in scalars.indices {
                    scalars[index] = Float(bitPattern: UInt32(littleEndian: scalars[index].bitPattern))
                }
            #endif
        }
        return StateDictEntry(name: name, shape: tensor.shape, dataType: tensor.storage.dataType, scalars: scalars)
    }
}

// MARK: - Pickle values

/// The classes and functions a checkpoint pickle may name; every other global is refused.
enum PickleGlobal: String, CaseIterable, Sendable {
    case orderedDictionary = "collections.OrderedDict"
    case rebuildTensorV2 = "torch._utils._rebuild_tensor_v2"
    case rebuildParameter = "torch._utils._rebuild_parameter"
    case floatStorage = "torch.FloatStorage"
    case longStorage = "torch.LongStorage"

    /// The element type of a storage class; nil for the callables.
    var storageType: StateDictEntry.DataType? {
        switch self {
        case .floatStorage: return .float32
        case .longStorage: return .int64
        default: return nil
        }
    }
}

extension StateDictEntry.DataType {
    /// Bytes per element.
    var elementSize: Int { self == .float32 ? 4 : 8 }
}

/// A storage named by a persistent id `('storage', type, key, location, numel[, None])`.
struct StorageReference: Sendable, Equatable {
    var dataType: StateDictEntry.DataType
    var key: String
    var elementCount: Int
}

/// A tensor view `_rebuild_tensor_v2(storage, offset, size, stride, …)` built; offset and strides in elements.
struct TensorReference: Sendable, Equatable {
    var storage: StorageReference
    var offset: Int
    var shape: [Int]
    var strides: [Int]
}

/// A value on the unpickler's stack. Lists and dicts are ids into the unpickler's tables, so APPEND/SETITEM
/// on a memoised container is seen by every reference, and no value can contain itself.
enum PickleValue: Sendable {
    case none
    case boolean(Bool)
    case integer(Int)
    /// A LONG1 wider than 64 bits, as little-endian two's-complement bytes (PyTorch's magic number).
    case bigInteger([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    /// Items and nesting depth (1 + the deepest nested tuple).
    case tuple([PickleValue], depth: Int)
    case list(Int)
    case dictionary(Int)
    case global(PickleGlobal)
    case storage(StorageReference)
    case tensor(TensorReference)

    /// A short description for error messages ("a string", "a tuple of 3", …).
    var kindName: String {
        switch self {
        case .none: return "None"
        case .boolean: return "a bool"
        case .integer, .bigInteger: return "an int"
        case .float: return "a float"
        case .string: return "a string"
        case .bytes: return "bytes"
        case .tuple(let items, _): return "a tuple of \(items.count)"
        case .list: return "a list"
        case .dictionary: return "a dict"
        case .global(let global): return global.rawValue
        case .storage: return "a storage"
        case .tensor: return "a tensor"
        }
    }

    /// Tuple nesting depth (containers by id count as 0: they cannot nest values inline).
    var depth: Int {
        if case .tuple(_, let depth) = self { return depth }
        return 0
    }
}

/// An insertion-ordered dict; string keys are unique (a repeated SETITEM replaces the value).
struct PickleDictionary: Sendable {
    var entries: [(key: PickleValue, value: PickleValue)] = []
    private var indexOfString: [String: Int] = [:]

    mutating func set(_ key: PickleValue, _ value: PickleValue) {
        if case .string(let text) = key {
            if let index = indexOfString[text] {
                entries[index].value = value
                return
            }
            indexOfString[text] = entries.count
        }
        entries.append((key, value))
    }

    func value(forKey text: String) -> PickleValue? { indexOfString[text].map { entries[$0].value } }
}

// MARK: - Opcodes

/// The pickle opcodes the restricted unpickler executes (names as in CPython's pickletools); every
/// other byte in opcode position is refused.
enum PickleOpcode: UInt8, CaseIterable {
    case proto = 0x80
    case frame = 0x95
    case stop = 0x2E
    case mark = 0x28
    case emptyDictionary = 0x7D
    case emptyList = 0x5D
    case emptyTuple = 0x29
    case tuple = 0x74
    case tuple1 = 0x85
    case tuple2 = 0x86
    case tuple3 = 0x87
    case binaryPut = 0x71
    case longBinaryPut = 0x72
    case memoize = 0x94
    case binaryGet = 0x68
    case longBinaryGet = 0x6A
    case binaryInteger = 0x4A
    case binaryInteger1 = 0x4B
    case binaryInteger2 = 0x4D
    case long1 = 0x8A
    case binaryFloat = 0x47
    case none = 0x4E
    case newTrue = 0x88
    case newFalse = 0x89
    case binaryUnicode = 0x58
    case shortBinaryUnicode = 0x8C
    case binaryString = 0x54
    case shortBinaryString = 0x55
    case binaryBytes = 0x42
    case shortBinaryBytes = 0x43
    case global = 0x63
    case stackGlobal = 0x93
    case reduce = 0x52
    case build = 0x62
    case setItem = 0x73
    case setItems = 0x75
    case append = 0x61
    case appends = 0x65
    case binaryPersistentID = 0x51

    /// CPython names of all protocol 0–5 opcodes, for messages about refused ones.
    static let pickletoolsNames: [UInt8: String] = [
        0x80: "PROTO", 0x95: "FRAME", 0x2E: "STOP", 0x28: "MARK", 0x7D: "EMPTY_DICT", 0x5D: "EMPTY_LIST",
        0x29: "EMPTY_TUPLE", 0x74: "TUPLE", 0x85: "TUPLE1", 0x86: "TUPLE2", 0x87: "TUPLE3", 0x71: "BINPUT",
        0x72: "LONG_BINPUT", 0x94: "MEMOIZE", 0x68: "BINGET", 0x6A: "LONG_BINGET", 0x4A: "BININT", 0x4B: "BININT1",
        0x4D: "BININT2", 0x8A: "LONG1", 0x47: "BINFLOAT", 0x4E: "NONE", 0x88: "NEWTRUE", 0x89: "NEWFALSE",
        0x58: "BINUNICODE", 0x8C: "SHORT_BINUNICODE", 0x54: "BINSTRING", 0x55: "SHORT_BINSTRING", 0x42: "BINBYTES",
        0x43: "SHORT_BINBYTES", 0x63: "GLOBAL", 0x93: "STACK_GLOBAL", 0x52: "REDUCE", 0x62: "BUILD", 0x73: "SETITEM",
        0x75: "SETITEMS", 0x61: "APPEND", 0x65: "APPENDS", 0x51: "BINPERSID",
        0x49: "INT", 0x4C: "LONG", 0x53: "STRING", 0x56: "UNICODE", 0x46: "FLOAT", 0x69: "INST", 0x6F: "OBJ",
        0x70: "PUT", 0x67: "GET", 0x64: "DICT", 0x6C: "LIST", 0x30: "POP", 0x31: "POP_MARK", 0x32: "DUP",
        0x50: "PERSID", 0x81: "NEWOBJ", 0x92: "NEWOBJ_EX", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x8B: "LONG4",
        0x8D: "BINUNICODE8", 0x8E: "BINBYTES8", 0x8F: "EMPTY_SET", 0x90: "ADDITEMS", 0x91: "FROZENSET",
        0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
    ]

    /// "opcode NEWOBJ (0x81)" or "unknown opcode 0xff".
    static func describe(_ byte: UInt8) -> String {
        let hex = "0x" + String(byte, radix: 16)
        return pickletoolsNames[byte].map { "opcode \($0) (\(hex))" } ?? "unknown opcode \(hex)"
    }
}

// MARK: - The machine

/// Executes pickles with the whitelisted opcodes and globals. One instance reads consecutive pickles
/// from one buffer (the legacy format holds five); the memo is per pickle, the container tables and the
/// storages seen are shared.
struct RestrictedUnpickler {
    /// Deepest tuple nesting accepted (torch writes 3); bounds recursion when values are released.
    static let maximumTupleDepth = 32
    /// Longest GLOBAL module or name line.
    static let maximumGlobalLineLength = 256

    let bytes: ArraySlice<UInt8>
    /// Where messages say the pickle came from.
    let path: String
    /// Index into `bytes` of the next byte to execute.
    private(set) var position: Int
    /// Lists by id (`PickleValue.list`).
    private(set) var lists: [[PickleValue]] = []
    /// Dicts by id (`PickleValue.dictionary`).
    private(set) var dictionaries: [PickleDictionary] = []
    /// Every storage a persistent id named, by key.
    private(set) var storages: [String: StorageReference] = [:]
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    /// Offset of the opcode being executed (for messages).
    private var opcodeOffset = 0

    init(bytes: ArraySlice<UInt8>, path: String) {
        self.bytes = bytes
        self.path = path
        self.position = bytes.startIndex
    }

    /// Runs one pickle from `position` to its STOP and returns the object it built.
    mutating func load() throws(NeuralNetError) -> PickleValue {
        stack = []
        marks = []
        memo = [:]
        while true {
            opcodeOffset = position - bytes.startIndex
            let byte = try readByte()
            guard let opcode = PickleOpcode(rawValue: byte) else {
                throw .forbiddenPickle(path: path, offset: opcodeOffset, what: PickleOpcode.describe(byte))
            }
            if opcode == .stop {
                guard let result = stack.popLast() else { throw malformed("STOP with an empty stack") }
                return result
            }
            try execute(opcode)
        }
    }

    private mutating func execute(_ opcode: PickleOpcode) throws(NeuralNetError) {
        switch opcode {
        case .stop:
            break  // handled by load()
        case .proto:
            let version = try readByte()
            guard version >= 2, version <= 5 else { throw malformed("pickle protocol \(version) (expected 2…5)") }
        case .frame:
            let length = try readUnsigned(8)
            guard length <= UInt64(bytes.endIndex - position) else { throw truncated("a FRAME of \(length) bytes") }
        case .mark:
            marks.append(stack.count)
        case .emptyDictionary:
            dictionaries.append(PickleDictionary())
            stack.append(.dictionary(dictionaries.count - 1))
        case .emptyList:
            lists.append([])
            stack.append(.list(lists.count - 1))
        case .emptyTuple:
            stack.append(.tuple([], depth: 1))
        case .tuple:
            try pushTuple(try popToMark())
        case .tuple1, .tuple2, .tuple3:
            let count = Int(opcode.rawValue - PickleOpcode.tuple1.rawValue) + 1
            guard stack.count - (marks.last ?? 0) >= count else { throw malformed("TUPLE\(count) with too few values") }
            let items = Array(stack.suffix(count))
            stack.removeLast(count)
            try pushTuple(items)
        case .binaryPut:
            memo[Int(try readByte())] = try top()
        case .longBinaryPut:
            memo[Int(try readUnsigned(4))] = try top()
        case .memoize:
            memo[memo.count] = try top()
        case .binaryGet, .longBinaryGet:
            let index = Int(opcode == .binaryGet ? UInt64(try readByte()) : try readUnsigned(4))
            guard let value = memo[index] else { throw malformed("memo entry \(index) read before it was written") }
            stack.append(value)
        case .binaryInteger:
            stack.append(.integer(Int(Int32(truncatingIfNeeded: try readUnsigned(4)))))
        case .binaryInteger1:
            stack.append(.integer(Int(try readByte())))
        case .binaryInteger2:
            stack.append(.integer(Int(try readUnsigned(2))))
        case .long1:
            let count = Int(try readByte())
            let digits = Array(try readBytes(count))
            if count <= 8 {
                var value: UInt64 = 0
                for (index, digit) in digits.enumerated() { value |= UInt64(digit) << (8 * UInt64(index)) }
                if count > 0, count < 8, digits[count - 1] & 0x80 != 0 { value |= ~0 << (8 * UInt64(count)) }
                stack.append(.integer(Int(Int64(bitPattern: value))))
            } else {
                stack.append(.bigInteger(digits))
            }
        case .binaryFloat:
            stack.append(.float(Double(bitPattern: try readUnsigned(8, bigEndian: true))))
        case .none:
            stack.append(.none)
        case .newTrue, .newFalse:
            stack.append(.boolean(opcode == .newTrue))
        case .binaryUnicode, .shortBinaryUnicode:
            let length = Int(opcode == .binaryUnicode ? try readUnsigned(4) : UInt64(try readByte()))
            let raw = try readBytes(length)
            guard let text = String(bytes: raw, encoding: .utf8) else { throw malformed("a string that is not UTF-8") }
            stack.append(.string(text))
        case .binaryString, .shortBinaryString:
            // Python 2 `str`: bytes; torch's legacy files used it for keys. Decoded as Latin-1 (never fails).
            let length = Int(opcode == .binaryString ? try readUnsigned(4) : UInt64(try readByte()))
            guard opcode == .shortBinaryString || length <= Int(Int32.max) else {
                throw malformed("a negative BINSTRING length")
            }
            stack.append(.string(String(decoding: try readBytes(length).map { UInt16($0) }, as: UTF16.self)))
        case .binaryBytes, .shortBinaryBytes:
            let length = Int(opcode == .binaryBytes ? try readUnsigned(4) : UInt64(try readByte()))
            stack.append(.bytes(Array(try readBytes(length))))
        case .global:
            let module = try readLine()
            let name = try readLine()
            stack.append(.global(try resolveGlobal(module: module, name: name)))
        case .stackGlobal:
            let nameValue = try pop()
            let moduleValue = try pop()
            guard case .string(let module) = moduleValue, case .string(let name) = nameValue else {
                throw malformed(
                    "STACK_GLOBAL on \(moduleValue.kindName) and \(nameValue.kindName), "
                        + "expected two strings")
            }
            stack.append(.global(try resolveGlobal(module: module, name: name)))
        case .reduce:
            let arguments = try pop()
            let callable = try pop()
            guard case .global(let function) = callable else { throw malformed("REDUCE calls \(callable.kindName)") }
            guard case .tuple(let items, _) = arguments else {
                throw malformed("REDUCE passes \(arguments.kindName) to \(function.rawValue), expected a tuple")
            }
            stack.append(try call(function, items))
        case .build:
            // BUILD sets an object's attributes: the OrderedDict's `_metadata` (per-module versions), which the
            // weights do not need, or a tensor's Python attributes. Only those two targets are accepted.
            let state = try pop()
            let target = try top()
            switch target {
            case .dictionary, .tensor: break
            default: throw malformed("BUILD on \(target.kindName) with \(state.kindName)")
            }
        case .setItem:
            let value = try pop()
            let key = try pop()
            try insert([key, value])
        case .setItems:
            let items = try popToMark()
            guard items.count % 2 == 0 else { throw malformed("SETITEMS with an odd number of values") }
            try insert(items)
        case .append:
            let value = try pop()
            try extendList([value])
        case .appends:
            try extendList(try popToMark())
        case .binaryPersistentID:
            stack.append(try persistentLoad(try pop()))
        }
    }

    // MARK: Globals and calls

    private func resolveGlobal(module: String, name: String) throws(NeuralNetError) -> PickleGlobal {
        guard let global = PickleGlobal(rawValue: module + "." + name) else {
            throw .forbiddenPickle(path: path, offset: opcodeOffset, what: "global \(module).\(name)")
        }
        return global
    }

    /// What calling a whitelisted global with `arguments` gives (REDUCE).
    private mutating func call(_ function: PickleGlobal, _ arguments: [PickleValue]) throws(NeuralNetError)
        -> PickleValue
    {
        switch function {
        case .orderedDictionary:
            guard arguments.isEmpty else { throw malformed("OrderedDict called with \(arguments.count) arguments") }
            dictionaries.append(PickleDictionary())
            return .dictionary(dictionaries.count - 1)
        case .rebuildTensorV2:
            // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
            guard arguments.count == 6 || arguments.count == 7, case .storage(let storage) = arguments[0],
                case .integer(let offset) = arguments[1], offset >= 0,
                let shape = Self.integers(arguments[2]), shape.allSatisfy({ $0 >= 0 }),
                let strides = Self.integers(arguments[3]), strides.count == shape.count
            else {
                let found = arguments.map(\.kindName).joined(separator: ", ")
                throw malformed(
                    "_rebuild_tensor_v2 called with (\(found)), "
                        + "expected (storage, offset, size, stride, requires_grad, hooks)")
            }
            return .tensor(TensorReference(storage: storage, offset: offset, shape: shape, strides: strides))
        case .rebuildParameter:
            // (data, requires_grad, backward_hooks): a Parameter is its data tensor for our purpose.
            guard arguments.count == 3, case .tensor = arguments[0] else {
                throw malformed("_rebuild_parameter called with (\(arguments.map(\.kindName).joined(separator: ", ")))")
            }
            return arguments[0]
        case .floatStorage, .longStorage:
            throw malformed("\(function.rawValue) called directly; storages must come from persistent ids")
        }
    }

    private static func integers(_ value: PickleValue) -> [Int]? {
        guard case .tuple(let items, _) = value else { return nil }
        var result: [Int] = []
        for item in items {
            guard case .integer(let integer) = item else { return nil }
            result.append(integer)
        }
        return result
    }

    /// BINPERSID: `('storage', storage class, key, location, numel)` (legacy files add a sixth, None).
    private mutating func persistentLoad(_ id: PickleValue) throws(NeuralNetError) -> PickleValue {
        guard case .tuple(let items, _) = id, items.count == 5 || items.count == 6,
            case .string("storage") = items[0], case .global(let storageClass) = items[1],
            let dataType = storageClass.storageType, case .string(let key) = items[2], case .string = items[3],
            case .integer(let count) = items[4], count >= 0
        else {
            throw malformed(
                "persistent id \(id.kindName) is not ('storage', torch.FloatStorage|LongStorage, key, "
                    + "location, numel)")
        }
        if items.count == 6, case .none = items[5] {
        } else if items.count == 6 {
            throw malformed(
                "storage \(key) is a view of another storage (view metadata \(items[5].kindName)); "
                    + "unsupported")
        }
        let storage = StorageReference(dataType: dataType, key: key, elementCount: count)
        if let known = storages[key], known != storage {
            throw malformed("storage \(key) is named twice with different types or sizes")
        }
        storages[key] = storage
        return .storage(storage)
    }

    // MARK: Stack helpers

    private mutating func pushTuple(_ items: [PickleValue]) throws(NeuralNetError) {
        let depth = 1 + (items.map(\.depth).max() ?? 0)
        guard depth <= Self.maximumTupleDepth else {
            throw malformed("tuples nested deeper than \(Self.maximumTupleDepth)")
        }
        stack.append(.tuple(items, depth: depth))
    }

    private mutating func insert(_ pairs: [PickleValue]) throws(NeuralNetError) {
        let target = try top()
        guard case .dictionary(let id) = target else { throw malformed("SETITEM(S) on \(target.kindName)") }
        for index in stride(from: 0, to: pairs.count, by: 2) { dictionaries[id].set(pairs[index], pairs[index + 1]) }
    }

    private mutating func extendList(_ items: [PickleValue]) throws(NeuralNetError) {
        let target = try top()
        guard case .list(let id) = target else { throw malformed("APPEND(S) on \(target.kindName)") }
        lists[id].append(contentsOf: items)
    }

    private func top() throws(NeuralNetError) -> PickleValue {
        guard let value = stack.last, stack.count > (marks.last ?? 0) else { throw malformed("stack underflow") }
        return value
    }

    private mutating func pop() throws(NeuralNetError) -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.popLast() else { throw malformed("stack underflow") }
        return value
    }

    private mutating func popToMark() throws(NeuralNetError) -> [PickleValue] {
        guard let mark = marks.popLast() else { throw malformed("no MARK to pop to") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    // MARK: Byte reading (every read bounds-checked)

    private mutating func readByte() throws(NeuralNetError) -> UInt8 {
        guard position < bytes.endIndex else { throw truncated("an opcode or its argument") }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func readBytes(_ count: Int) throws(NeuralNetError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.endIndex - position else { throw truncated("\(count) bytes of data") }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    /// An unsigned integer of `count` bytes, little-endian unless stated.
    private mutating func readUnsigned(_ count: Int, bigEndian: Bool = false) throws(NeuralNetError) -> UInt64 {
        let raw = try readBytes(count)
        var value: UInt64 = 0
        for byte in bigEndian ? Array(raw) : raw.reversed() { value = value << 8 | UInt64(byte) }
        return value
    }

    /// A GLOBAL argument line (ASCII/UTF-8 up to "\n").
    private mutating func readLine() throws(NeuralNetError) -> String {
        let limit = min(bytes.endIndex, position + Self.maximumGlobalLineLength)
        guard let end = bytes[position..<limit].firstIndex(of: 0x0A) else {
            throw position + Self.maximumGlobalLineLength <= bytes.endIndex
                ? malformed("a GLOBAL name longer than \(Self.maximumGlobalLineLength) bytes")
                : truncated("a GLOBAL name")
        }
        defer { position = end + 1 }
        guard let text = String(bytes: bytes[position..<end], encoding: .utf8) else {
            throw malformed("a GLOBAL name that is not UTF-8")
        }
        return text
    }

    // MARK: Errors

    private func malformed(_ reason: String) -> NeuralNetError {
        .invalidCheckpoint(path: path, reason: "pickle byte \(opcodeOffset): \(reason)")
    }

    private func truncated(_ what: String) -> NeuralNetError {
        .invalidCheckpoint(
            path: path,
            reason: "the pickle ends at byte \(bytes.count) while reading \(what) of the "
                + "opcode at byte \(opcodeOffset) (truncated download?)")
    }
}
