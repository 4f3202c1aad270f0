// TextFile: reads the small text files the command line takes (truth timelines, key logs) through
// NeuralNet's FileIO — regular files only, size-capped — so a missing or unreadable file is reported
// as "path: strerror" instead of Foundation's "NSCocoaErrorDomain Code=260" dump.
import ArgumentParser
import Foundation
import NeuralNet

enum TextFile {
    /// The largest text file read (16 MiB): timelines and key logs are a few KB.
    static let maximumBytes = 16 << 20

    /// The UTF-8 text of `path`; the error names the file and what failed (open/read strerror, size, encoding).
    static func read(_ path: String) throws -> String {
        let bytes = try FileIO.read(path, maximumBytes: maximumBytes)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw CommandFailure("\(path): not UTF-8 text")
        }
        return text
    }
}
