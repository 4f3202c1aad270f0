// Temporary directories for tests: each a fresh gp-<name>-<UUID> folder under the system temporary
// directory, either left for the system to clean (`temporaryDirectory`) or removed when the body
// ends (`withTemporaryDirectory`, sync and async; a scoped function rather than a class with deinit,
// because Swift may end an object's lifetime after its last use, before the test is done with the path).
import Foundation

/// A fresh, existing directory `gp-<name>-<UUID>` under the system temporary directory.
public func temporaryDirectory(_ name: String) -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("gp-\(name)-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Runs `body` with a fresh temporary directory (see `temporaryDirectory`), removed afterwards.
public func withTemporaryDirectory<Result>(_ name: String, _ body: (String) throws -> Result) rethrows -> Result {
    let path = temporaryDirectory(name)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// Runs async `body` with a fresh temporary directory (see `temporaryDirectory`), removed afterwards.
public func withTemporaryDirectory<Result>(
    _ name: String, isolation: isolated (any Actor)? = #isolation, _ body: (String) async throws -> Result
) async rethrows -> Result {
    let path = temporaryDirectory(name)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// Writes `text` to `path`, creating the folders above it.
public func writeFile(_ text: String, to path: String) throws {
    try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}
