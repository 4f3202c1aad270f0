// TF.js Layers model format (tfjs-core src/io/types.ts): a `model.json` holding the Keras model
// topology and a `weightsManifest`, plus binary shards. Each manifest group's shards are
// concatenated; its entries then take consecutive little-endian float32 slices in manifest order.
// Reads `Model`/`Functional` configs (Keras 2 list-style and Keras 3 dict-style inbound_nodes) and
// `Sequential` ones (Keras 2.1 list config and the newer {layers: […]}); writes a functional
// "Model" config that TF.js and Keras load. Reading what we wrote gives back an equal `Model`.
import Foundation

/// One weight in the manifest (types.ts `WeightsManifestEntry`).
public struct WeightsManifestEntry: Codable, Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    public var dtype: String
    public var quantization: JSONValue?
    public var group: String?
}

/// One group of shards (types.ts `WeightsManifestGroupConfig`).
public struct WeightsManifestGroup: Codable, Equatable, Sendable {
    public var paths: [String]
    public var weights: [WeightsManifestEntry]
}

/// The fixed fields of model.json (types.ts `ModelJSON`); the topology stays an untyped tree.
public struct ModelJSON: Codable, Equatable, Sendable {
    public var format: String?
    public var generatedBy: String?
    public var convertedBy: String?
    public var modelTopology: JSONValue
    public var weightsManifest: [WeightsManifestGroup]?
    public var userDefinedMetadata: JSONValue?
}

/// Reader and writer of TF.js Layers models.
public enum TFJSLayersFormat {
    /// Keras class names the reader accepts.
    public static let supportedClassNames = [
        "InputLayer", "Conv2D", "DepthwiseConv2D", "BatchNormalization", "Activation", "ReLU", "ZeroPadding2D",
        "Add", "GlobalAveragePooling2D", "Flatten", "Reshape", "Dropout", "Dense", "Softmax",
    ]

    /// Default shard size of the writer, as the TF.js converter (4 MiB).
    public static let defaultShardBytes = 4 * 1024 * 1024

    // MARK: Reading

    /// Reads a model from a directory holding model.json (or the model.json path itself).
    /// - Parameter strict: reject manifest weights no layer uses (TF.js `strict`); missing ones are always errors.
    public static func read(_ location: String, strict: Bool = true) throws(NeuralNetError) -> Model {
        let jsonPath =
            location.hasSuffix(".json") ? location : (location as NSString).appendingPathComponent("model.json")
        let directory = (jsonPath as NSString).deletingLastPathComponent
        let bytes = try FileIO.read(jsonPath, maximumBytes: SizeLimits.maximumModelJSONBytes)
        let document: ModelJSON
        do {
            document = try JSONDecoder().decode(ModelJSON.self, from: Data(bytes))
        } catch {
            throw .invalidModelJSON(path: jsonPath, reason: describe(decodingError: error))
        }
        if let format = document.format, format != "layers-model" {
            throw .invalidModelJSON(
                path: jsonPath, reason: "format is \"\(format)\" (a TF.js graph model?), expected \"layers-model\"")
        }
        var model = try TopologyParser(path: jsonPath).parse(document.modelTopology)
        let weights = try readWeights(document.weightsManifest ?? [], directory: directory, jsonPath: jsonPath)
        try attach(weights, to: &model, jsonPath: jsonPath, strict: strict)
        try validate(model)
        return model
    }

    /// The files of a TF.js Layers model at `location` (a directory or its model.json): model.json, then
    /// every weight file in manifest order, as (name as the manifest writes it, path). Weight paths must
    /// stay inside the model's directory (no "..", no absolute paths, no sub-directories).
    public static func files(of location: String) throws(NeuralNetError) -> [(name: String, path: String)] {
        let jsonPath =
            location.hasSuffix(".json") ? location : (location as NSString).appendingPathComponent("model.json")
        let directory = (jsonPath as NSString).deletingLastPathComponent
        let document: ModelJSON
        do {
            document = try JSONDecoder().decode(
                ModelJSON.self, from: Data(try FileIO.read(jsonPath, maximumBytes: SizeLimits.maximumModelJSONBytes)))
        } catch let error as NeuralNetError {
            throw error
        } catch {
            throw .invalidModelJSON(path: jsonPath, reason: describe(decodingError: error))
        }
        var result: [(name: String, path: String)] = [((jsonPath as NSString).lastPathComponent, jsonPath)]
        for group in document.weightsManifest ?? [] {
            for shard in group.paths {
                let name = try shardName(shard, jsonPath: jsonPath)
                if !result.contains(where: { $0.name == name }) {
                    result.append((name, (directory as NSString).appendingPathComponent(name)))
                }
            }
        }
        return result
    }

    /// The bytes of every file `files(of:)` lists, read as `read` reads them (model.json ≤
    /// `SizeLimits.maximumModelJSONBytes`, weight files regular and not symlinks), for copying a model unchanged.
    public static func readFiles(of location: String) throws(NeuralNetError) -> [(name: String, bytes: [UInt8])] {
        let files = try files(of: location)
        var contents: [(name: String, bytes: [UInt8])] = []
        for (index, file) in files.enumerated() {
            contents.append(
                (
                    file.name,
                    index == 0
                        ? try FileIO.read(file.path, maximumBytes: SizeLimits.maximumModelJSONBytes)
                        : try FileIO.read(file.path, followSymlink: false)
                ))
        }
        return contents
    }

    /// A manifest path as a file name beside model.json: "x.bin" or "./x.bin"; no "..", no absolute
    /// path, no sub-directory, so a model's files stay in its directory (shards are also opened without
    /// following symlinks, see `readWeights`).
    static func shardName(_ shard: String, jsonPath: String) throws(NeuralNetError) -> String {
        let name = shard.hasPrefix("./") ? String(shard.dropFirst(2)) : shard
        guard !name.isEmpty, !name.contains("/"), !name.contains("\0"), name != "..", name != "." else {
            throw .invalidField(
                path: jsonPath, field: "weightsManifest paths",
                expected: "file names beside model.json, found \"\(shard)\"")
        }
        return name
    }

    /// Shape-checks weights when the input size is fixed, and rejects NaN/Inf weights.
    public static func validate(_ model: Model) throws(NeuralNetError) {
        for layer in model.layers {
            for name in layer.kind.weightNames {
                guard let weight = layer.weights[name] else { throw .missingWeight(layer: layer.name, weight: name) }
                if let index = weight.scalars.firstIndex(where: { !$0.isFinite }) {
                    throw .nonFiniteWeight(layer: layer.name, weight: name, index: index, value: weight.scalars[index])
                }
            }
        }
        do {
            _ = try model.inferShapes()
        } catch .inputShapeUnknown {
            // Input size chosen at run time; shapes are checked when an Embedder is planned.
        }
    }

    /// A JSON decoding error as a field path and what was wrong, not a Swift dump.
    public static func describe(decodingError error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing field \((context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: "."))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "field \(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        case DecodingError.dataCorrupted(let context):
            return "not valid JSON (\(context.underlyingError.map { "\($0)" } ?? context.debugDescription))"
        default:
            return "\(error)"
        }
    }

    /// Weight name as stored → tensor, in manifest order. Sizes are checked before anything is read or
    /// allocated: each weight ≤ `SizeLimits.maximumTensorElements`, all weights together ≤
    /// `SizeLimits.maximumFileBytes`; each group's shards (regular files in the model directory, symlinks
    /// refused) must together hold exactly its weights' bytes, which is checked from their sizes first.
    private static func readWeights(_ groups: [WeightsManifestGroup], directory: String, jsonPath: String)
        throws(NeuralNetError) -> [(name: String, tensor: Tensor)]
    {
        var result: [(name: String, tensor: Tensor)] = []
        var modelBytes = 0
        for (groupIndex, group) in groups.enumerated() {
            var expectedBytes = 0
            for (entryIndex, entry) in group.weights.enumerated() {
                let field = "weightsManifest[\(groupIndex)].weights[\(entryIndex)] (\(entry.name))"
                if entry.dtype != "float32" || entry.quantization != nil {
                    let kind =
                        entry.quantization.map { "quantised (\($0["dtype"]?.stringValue ?? "?"))" } ?? entry.dtype
                    throw .unsupportedWeightType(path: jsonPath, weight: entry.name, dtype: kind)
                }
                if entry.shape.contains(where: { $0 < 0 }) {
                    throw .invalidField(
                        path: jsonPath, field: "\(field).shape", expected: "non-negative sizes, found \(entry.shape)")
                }
                guard CheckedSize.product(entry.shape, limit: SizeLimits.maximumTensorElements) != nil else {
                    throw .invalidField(
                        path: jsonPath, field: "\(field).shape",
                        expected:
                            "a shape of at most \(SizeLimits.maximumTensorElements) elements, found \(entry.shape)")
                }
                // ≤ 2^31 elements · 4 bytes: no overflow; the running totals are checked against the model limit.
                let bytes = 4 * entry.shape.reduce(1, *)
                guard let groupTotal = CheckedSize.sum([expectedBytes, bytes], limit: SizeLimits.maximumFileBytes),
                    CheckedSize.sum([modelBytes, groupTotal], limit: SizeLimits.maximumFileBytes) != nil
                else {
                    throw .sizeTooLarge(
                        path: jsonPath, what: "the weights the manifest lists (up to \(entry.name) \(entry.shape))",
                        limit: SizeLimits.maximumFileBytes)
                }
                expectedBytes = groupTotal
            }
            modelBytes += expectedBytes
            var shardPaths: [String] = []
            var shardSizes: [Int] = []
            for shard in group.paths {
                let path = (directory as NSString).appendingPathComponent(try shardName(shard, jsonPath: jsonPath))
                shardPaths.append(path)
                shardSizes.append(try FileIO.regularFileSize(path, followSymlink: false))
            }
            let actualBytes = CheckedSize.sum(shardSizes) ?? Int.max
            guard actualBytes == expectedBytes else {
                throw .shardMismatch(
                    path: jsonPath, shards: group.paths, expectedBytes: expectedBytes, actualBytes: actualBytes)
            }
            var data: [UInt8] = []
            data.reserveCapacity(expectedBytes)
            for (path, size) in zip(shardPaths, shardSizes) {
                data += try FileIO.read(path, maximumBytes: size, followSymlink: false)
            }
            guard data.count == expectedBytes else {
                throw .shardMismatch(
                    path: jsonPath, shards: group.paths, expectedBytes: expectedBytes, actualBytes: data.count)
            }
            var offset = 0
            for entry in group.weights {
                let count = entry.shape.reduce(1, *)  // checked above
                var scalars = [Float](repeating: 0, count: count)
                scalars.withUnsafeMutableBytes { destination in
                    data.withUnsafeBytes { source in
                        destination.copyMemory(
                            from: UnsafeRawBufferPointer(rebasing: source[offset..<offset + 4 * count]))
                    }
                }
                #if _endian(big)
                    scalars = scalars.map { Float(bitPattern: $0.bitPattern.byteSwapped) }
                #endif
                offset += 4 * count
                result.append((entry.name, Tensor(shape: entry.shape, scalars: scalars)))
            }
        }
        return result
    }

    /// Splits a stored weight name ("mobilenet/conv1/kernel:0") into (layer, weight) = ("conv1", "kernel").
    static func splitWeightName(_ stored: String) -> (layer: String, weight: String)? {
        var name = stored
        if let colon = name.lastIndex(of: ":"), name[name.index(after: colon)...].allSatisfy(\.isNumber) {
            name = String(name[..<colon])
        }
        let parts = name.split(separator: "/").map(String.init)
        guard parts.count >= 2 else { return nil }
        return (parts[parts.count - 2], parts[parts.count - 1])
    }

    private static func attach(
        _ weights: [(name: String, tensor: Tensor)], to model: inout Model, jsonPath: String,
        strict: Bool
    ) throws(NeuralNetError) {
        var indexByLayer: [String: Int] = [:]
        for (index, layer) in model.layers.enumerated() { indexByLayer[layer.name] = index }
        for (stored, tensor) in weights {
            guard let (layerName, weightName) = splitWeightName(stored), let index = indexByLayer[layerName],
                model.layers[index].kind.weightNames.contains(weightName)
            else {
                if strict { throw .unusedWeight(path: jsonPath, weight: stored) }
                continue
            }
            model.layers[index].weights[weightName] = tensor
        }
    }

    // MARK: Writing

    /// Writes `model` as model.json + shards into `directory`, replacing it atomically.
    /// Weights go into one group, split into shards of at most `shardBytes` bytes.
    /// `extraFiles` (name → bytes) are written into the same directory in the same atomic swap.
    public static func write(
        _ model: Model, to directory: String, shardBytes: Int = defaultShardBytes,
        metadata: JSONValue? = nil, extraFiles: [String: [UInt8]] = [:]
    ) throws(NeuralNetError) {
        try validate(model)
        var blob: [UInt8] = []
        var entries: [WeightsManifestEntry] = []
        for layer in model.layers {
            for weightName in layer.kind.weightNames {
                let tensor = layer.weights[weightName]!
                entries.append(
                    WeightsManifestEntry(
                        name: "\(layer.name)/\(weightName)", shape: tensor.shape,
                        dtype: "float32", quantization: nil, group: nil))
                tensor.scalars.withUnsafeBytes { blob += $0 }
            }
        }
        let shardSize = max(shardBytes, 4)
        let shardCount = max(1, (blob.count + shardSize - 1) / shardSize)
        let names = (1...shardCount).map { "group1-shard\($0)of\(shardCount).bin" }
        let document = ModelJSON(
            format: "layers-model", generatedBy: "gesturepad", convertedBy: nil,
            modelTopology: TopologyWriter.topology(of: model),
            weightsManifest: [WeightsManifestGroup(paths: names, weights: entries)],
            userDefinedMetadata: metadata)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json: [UInt8]
        do { json = [UInt8](try encoder.encode(document)) } catch {
            throw .fileUnwritable(path: directory, reason: "encoding model.json: \(error)")
        }
        try FileIO.replaceDirectory(at: directory) { staging throws(NeuralNetError) in
            for (index, name) in names.enumerated() {
                let start = index * shardSize
                let end = min(start + shardSize, blob.count)
                try FileIO.writeAtomically(
                    Array(blob[start..<max(start, end)]), to: (staging as NSString).appendingPathComponent(name))
            }
            for (name, bytes) in extraFiles {
                try FileIO.writeAtomically(bytes, to: (staging as NSString).appendingPathComponent(name))
            }
            try FileIO.writeAtomically(json, to: (staging as NSString).appendingPathComponent("model.json"))
        }
    }
}
