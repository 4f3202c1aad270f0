// NPY: numpy's array file format (numpy.lib.format, versions 1.0–3.0): little-endian float32, or
// uint8 (read as Float 0…255, for 8-bit images), C order. Hand-written because no maintained Swift package reads .npy and the format is a magic
// string, a Python-literal header dict and raw data. Writes version 1.0, header padded to 64 bytes.
// Limits: an array ≤ SizeLimits.maximumTensorElements elements, a file ≤ SizeLimits.maximumFileBytes.

import Foundation

/// Reading and writing float32 .npy files.
public enum NPY {
    /// Parses .npy bytes; `path` is only used in error messages.
    public static func decode(_ bytes: [UInt8], path: String = "<memory>") throws(NeuralNetError) -> Tensor {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw .invalidNPY(path: path, reason: "missing the \\x93NUMPY magic")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw .invalidNPY(path: path, reason: "truncated header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw .invalidNPY(path: path, reason: "format version \(major) (expected 1, 2 or 3)")
        }
        guard bytes.count >= headerStart + headerLength else {
            throw .invalidNPY(path: path, reason: "truncated header")
        }
        guard let header = String(bytes: bytes[headerStart..<headerStart + headerLength], encoding: .utf8) else {
            throw .invalidNPY(path: path, reason: "header is not text")
        }
        guard let descr = value(of: "descr", in: header)?.trimmingCharacters(in: ["'", "\""]) else {
            throw .invalidNPY(path: path, reason: "header has no descr")
        }
        let isFloat = descr == "<f4" || descr == "=f4" || descr == "f4"
        let isByte = descr == "|u1" || descr == "u1" || descr == "<u1"
        guard isFloat || isByte else {
            throw .invalidNPY(path: path, reason: "dtype \(descr), expected little-endian float32 '<f4' or uint8 '|u1'")
        }
        guard let fortran = value(of: "fortran_order", in: header), fortran == "False" else {
            throw .invalidNPY(path: path, reason: "Fortran-ordered data (save a C-contiguous array)")
        }
        guard let shapeText = value(of: "shape", in: header) else {
            throw .invalidNPY(path: path, reason: "header has no shape")
        }
        let dims = shapeText.trimmingCharacters(in: ["(", ")"]).split(separator: ",")
            .map { $0.trimmingCharacters(in: [" "]) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for dim in dims {
            guard let size = Int(dim), size >= 0 else {
                throw .invalidNPY(path: path, reason: "shape \(shapeText) should list non-negative integer sizes")
            }
            shape.append(size)
        }
        // Checked: the shape comes from the file (see SizeLimits); ≤ 2^31 elements · 4 bytes cannot overflow.
        guard let count = CheckedSize.product(shape, limit: SizeLimits.maximumTensorElements) else {
            throw .invalidNPY(
                path: path,
                reason: "shape \(shapeText) has more than \(SizeLimits.maximumTensorElements) "
                    + "elements, gesturepad's limit for an array")
        }
        let dataStart = headerStart + headerLength
        let elementSize = isFloat ? 4 : 1
        guard bytes.count - dataStart == elementSize * count else {
            throw .invalidNPY(
                path: path,
                reason: "shape \(shape) needs \(elementSize * count) data bytes, file has \(bytes.count - dataStart)")
        }
        if isByte { return Tensor(shape: shape, scalars: bytes[dataStart...].map { Float($0) }) }
        var scalars = [Float](repeating: 0, count: count)
        scalars.withUnsafeMutableBytes { destination in
            bytes.withUnsafeBytes { destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[dataStart...])) }
        }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// .npy (version 1.0) bytes for `tensor`.
    public static func encode(_ tensor: Tensor) -> [UInt8] {
        let shapeText =
            tensor.shape.count == 1
            ? "(\(tensor.shape[0]),)" : "(\(tensor.shape.map(String.init).joined(separator: ", ")))"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0]
        let length = header.utf8.count
        bytes += [UInt8(length & 0xFF), UInt8(length >> 8)]
        bytes += Array(header.utf8)
        tensor.scalars.withUnsafeBytes { bytes += $0 }
        return bytes
    }

    /// Reads a float32 .npy file.
    public static func read(_ path: String) throws(NeuralNetError) -> Tensor {
        try decode(FileIO.read(path), path: path)
    }

    /// Writes `tensor` as a float32 .npy file, atomically.
    public static func write(_ tensor: Tensor, to path: String) throws(NeuralNetError) {
        try FileIO.writeAtomically(encode(tensor), to: path)
    }

    /// The raw text of `key`'s value in a Python dict literal (values here never contain `:`).
    private static func value(of key: String, in header: String) -> String? {
        for quote in ["'", "\""] {
            guard let keyRange = header.range(of: "\(quote)\(key)\(quote)") else { continue }
            var rest = header[keyRange.upperBound...].drop { $0 == " " || $0 == ":" }
            if rest.first == "(" {
                guard let close = rest.firstIndex(of: ")") else { return nil }
                return String(rest[...close])
            }
            rest = rest.prefix { $0 != "," && $0 != "}" }
            return rest.trimmingCharacters(in: [" "])
        }
        return nil
    }
}
