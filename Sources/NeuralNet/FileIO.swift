// FileIO: whole-file reads and crash-safe writes. A write goes to a temporary file in the same
// directory, is fsync'ed, then renamed over the target (and the directory fsync'ed), so readers
// see either the old or the new file, never a torn one. Directories are replaced the same way.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reading and atomically writing files and directories.
public enum FileIO {
    /// The bytes of the file at `path`.
    public static func read(_ path: String) throws(NeuralNetError) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"
            throw .fileUnreadable(path: path, reason: reason)
        }
        defer { try? handle.close() }
        do {
            return [UInt8](try handle.readToEnd() ?? Data())
        } catch {
            throw .fileUnreadable(path: path, reason: "\(error)")
        }
    }

    /// The first `count` bytes of a file (fewer if it is shorter).
    public static func readPrefix(_ path: String, count: Int) throws(NeuralNetError) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"
            throw .fileUnreadable(path: path, reason: reason)
        }
        defer { try? handle.close() }
        do { return [UInt8](try handle.read(upToCount: count) ?? Data()) } catch {
            throw .fileUnreadable(path: path, reason: "\(error)")
        }
    }

    /// Writes `bytes` to `path` via temp file + fsync + rename.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(NeuralNetError) {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .fileUnwritable(path: path, reason: "open: \(String(cString: strerror(errno)))") }
        var failure: String?
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = "write: \(String(cString: strerror(errno)))"
                    return
                }
                offset += written
            }
        }
        if failure == nil, fsync(descriptor) != 0 { failure = "fsync: \(String(cString: strerror(errno)))" }
        close(descriptor)
        if failure == nil, rename(temporary, path) != 0 { failure = "rename: \(String(cString: strerror(errno)))" }
        if let failure {
            unlink(temporary)
            throw .fileUnwritable(path: path, reason: failure)
        }
        syncDirectory(directory.isEmpty ? "." : directory)
    }

    /// Fills a fresh sibling directory with `fill`, then swaps it in place of `path` (any old
    /// directory there is removed only after the new one is in place).
    public static func replaceDirectory(at path: String, fill: (String) throws(NeuralNetError) -> Void)
        throws(NeuralNetError) {
        let manager = FileManager.default
        let parent = (path as NSString).deletingLastPathComponent
        let suffix = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let staging = "\(path).staging-\(suffix)", retired = "\(path).old-\(suffix)"
        do {
            try manager.createDirectory(atPath: parent.isEmpty ? "." : parent, withIntermediateDirectories: true)
            try manager.createDirectory(atPath: staging, withIntermediateDirectories: false)
        } catch {
            throw .fileUnwritable(path: path, reason: "cannot create \(staging): \(error.localizedDescription)")
        }
        do {
            try fill(staging)
        } catch {
            try? manager.removeItem(atPath: staging)
            throw error
        }
        syncDirectory(staging)
        let hadOld = manager.fileExists(atPath: path)
        if hadOld, rename(path, retired) != 0 {
            try? manager.removeItem(atPath: staging)
            throw .fileUnwritable(path: path, reason: "rename old: \(String(cString: strerror(errno)))")
        }
        if rename(staging, path) != 0 {
            let reason = String(cString: strerror(errno))
            if hadOld { rename(retired, path) }
            try? manager.removeItem(atPath: staging)
            throw .fileUnwritable(path: path, reason: "rename: \(reason)")
        }
        syncDirectory(parent.isEmpty ? "." : parent)
        if hadOld { try? manager.removeItem(atPath: retired) }
    }

    private static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }
}
