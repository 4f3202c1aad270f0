// FileIO: whole-file reads and crash-safe writes with NeuralNet's typed errors. File writes are
// SystemSupport's `AtomicFile` (temporary file in the same directory, fsync, rename, directory fsync:
// readers see the old or the new file, never a torn one); directories are replaced the same way here.
// System calls go through SystemSupport's `SystemCall` (errno captured at once, EINTR retried).
import Foundation
import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Reading and atomically writing files and directories.
public enum FileIO {
    /// The bytes of the regular file at `path`, refusing it without reading when it is larger than
    /// `maximumBytes` (by default `SizeLimits.maximumFileBytes`).
    /// - Parameter followSymlink: false refuses a symbolic link as the last path component (`O_NOFOLLOW`),
    ///   for files a model names itself (weight shards), which must not lead out of the model directory.
    /// - Throws: `fileUnreadable` for a missing, unreadable or non-regular file (FIFO, device, directory —
    ///   also behind a symlink, e.g. to /dev/zero), `sizeTooLarge` when the file exceeds `maximumBytes`.
    public static func read(_ path: String, maximumBytes: Int = SizeLimits.maximumFileBytes, followSymlink: Bool = true)
        throws(NeuralNetError) -> [UInt8]
    {
        let (descriptor, size) = try openRegularFile(path, followSymlink: followSymlink)
        defer { close(descriptor) }
        guard size <= maximumBytes else {
            throw .sizeTooLarge(path: path, what: "the file (\(size) bytes)", limit: maximumBytes)
        }
        return try readFully(descriptor, path: path, count: size, failIfLonger: true)
    }

    /// The first `count` bytes of a regular file (fewer if it is shorter).
    public static func readPrefix(_ path: String, count: Int) throws(NeuralNetError) -> [UInt8] {
        let (descriptor, size) = try openRegularFile(path, followSymlink: true)
        defer { close(descriptor) }
        return try readFully(descriptor, path: path, count: min(count, size), failIfLonger: false)
    }

    /// The size in bytes of the regular file at `path` (same checks as `read`, nothing read).
    public static func regularFileSize(_ path: String, followSymlink: Bool = true) throws(NeuralNetError) -> Int {
        let (descriptor, size) = try openRegularFile(path, followSymlink: followSymlink)
        close(descriptor)
        return size
    }

    /// Opens `path` read-only and returns it with its size when it is a regular file. The open is
    /// non-blocking, so a FIFO cannot hang it; `fstat` after the open checks what was really opened.
    private static func openRegularFile(_ path: String, followSymlink: Bool) throws(NeuralNetError)
        -> (descriptor: Int32, size: Int)
    {
        let opened = SystemCall.result(retryOnInterrupt: true) {
            open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followSymlink ? 0 : O_NOFOLLOW))
        }
        let descriptor: Int32
        switch opened {
        case .success(let value): descriptor = value
        case .failure(let errorNumber):
            let code = errorNumber.rawValue
            switch code {
            case ENOENT: throw .fileUnreadable(path: path, reason: "no such file")
            case EACCES: throw .fileUnreadable(path: path, reason: "permission denied")
            case ELOOP where !followSymlink:
                throw .fileUnreadable(
                    path: path,
                    reason: "it is a symbolic link; a model's files must be regular files "
                        + "in its directory")
            default: throw .fileUnreadable(path: path, reason: "open: \(String(cString: strerror(code)))")
            }
        }
        var status = stat()
        if case .failure(let errorNumber) = SystemCall.result({ fstat(descriptor, &status) }) {
            close(descriptor)
            throw .fileUnreadable(path: path, reason: "fstat: \(errorNumber.description)")
        }
        let kind: String?
        switch status.st_mode & S_IFMT {
        case S_IFREG: kind = nil
        case S_IFDIR: kind = "a directory"
        case S_IFIFO: kind = "a FIFO"
        case S_IFCHR, S_IFBLK: kind = "a device"
        case S_IFSOCK: kind = "a socket"
        default: kind = "not a regular file"
        }
        if let kind {
            close(descriptor)
            throw .fileUnreadable(path: path, reason: "it is \(kind), expected a regular file")
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        return (descriptor, Int(status.st_size))
    }

    /// Reads `count` bytes (fewer when the file shrank); with `failIfLonger`, a file that grew past
    /// `count` since `fstat` is an error rather than a read without bound.
    private static func readFully(_ descriptor: Int32, path: String, count: Int, failIfLonger: Bool)
        throws(NeuralNetError) -> [UInt8]
    {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        var failure: String?
        bytes.withUnsafeMutableBytes { buffer in
            while filled < count {
                let outcome = SystemCall.result(retryOnInterrupt: true) {
                    Glibc.read(descriptor, buffer.baseAddress! + filled, count - filled)
                }
                switch outcome {
                case .success(0): return
                case .success(let got): filled += got
                case .failure(let errorNumber):
                    failure = "read: \(errorNumber.description)"
                    return
                }
            }
        }
        if let failure { throw .fileUnreadable(path: path, reason: failure) }
        if filled < count { bytes.removeLast(count - filled) }
        if failIfLonger {
            var extra: UInt8 = 0
            if Glibc.read(descriptor, &extra, 1) > 0 {
                throw .fileUnreadable(path: path, reason: "the file grew while being read (\(count) bytes at open)")
            }
        }
        return bytes
    }

    /// Writes `bytes` to `path` atomically (SystemSupport's `AtomicFile`: temp file + fsync + rename).
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(NeuralNetError) {
        do throws(AtomicFileError) {
            try AtomicFile.write(bytes, to: path)
        } catch {
            throw .fileUnwritable(path: path, reason: "\(error.call): \(error.errno.description)")
        }
    }

    /// Fills a fresh sibling directory with `fill`, then swaps it in place of `path` (any old
    /// directory there is removed only after the new one is in place).
    public static func replaceDirectory(at path: String, fill: (String) throws(NeuralNetError) -> Void)
        throws(NeuralNetError)
    {
        let manager = FileManager.default
        let parent = (path as NSString).deletingLastPathComponent
        let suffix = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let staging = "\(path).staging-\(suffix)"
        let retired = "\(path).old-\(suffix)"
        removeStaleSiblings(of: path)
        do {
            try manager.createDirectory(atPath: parent.isEmpty ? "." : parent, withIntermediateDirectories: true)
            try manager.createDirectory(atPath: staging, withIntermediateDirectories: false)
        } catch {
            throw .fileUnwritable(path: path, reason: "cannot create \(staging): \(describe(error))")
        }
        do {
            try fill(staging)
        } catch {
            try? manager.removeItem(atPath: staging)
            throw error
        }
        AtomicFile.synchronizeDirectory(staging)
        let hadOld = manager.fileExists(atPath: path)
        if hadOld, case .failure(let errorNumber) = SystemCall.result({ rename(path, retired) }) {
            try? manager.removeItem(atPath: staging)
            throw .fileUnwritable(path: path, reason: "rename old: \(errorNumber.description)")
        }
        if case .failure(let errorNumber) = SystemCall.result({ rename(staging, path) }) {
            if hadOld { rename(retired, path) }
            try? manager.removeItem(atPath: staging)
            throw .fileUnwritable(path: path, reason: "rename: \(errorNumber.description)")
        }
        AtomicFile.synchronizeDirectory(parent.isEmpty ? "." : parent)
        if hadOld { try? manager.removeItem(atPath: retired) }
    }

    /// Removes `<path>.staging-<pid>-…` directories (and `<path>.old-<pid>-…` ones while `path` exists)
    /// left by a process that was killed during `replaceDirectory`; those of live processes stay.
    private static func removeStaleSiblings(of path: String) {
        let parent = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: parent.isEmpty ? "." : parent) else {
            return
        }
        let pathExists = FileManager.default.fileExists(atPath: path)
        for entry in entries {
            let rest: Substring
            if entry.hasPrefix("\(name).staging-") {
                rest = entry.dropFirst(name.count + ".staging-".count)
            } else if pathExists, entry.hasPrefix("\(name).old-") {
                rest = entry.dropFirst(name.count + ".old-".count)
            } else {
                continue
            }
            guard let pid = rest.split(separator: "-").first.flatMap({ pid_t($0) }), pid > 0,
                SystemCall.result({ kill(pid, 0) }) == .failure(.noSuchProcess)
            else { continue }
            try? FileManager.default.removeItem(atPath: (parent as NSString).appendingPathComponent(entry))
        }
    }

    /// A Foundation file error as the system's words ("No space left on device"), not an NSError dump.
    public static func describe(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain
        {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return nsError.localizedFailureReason ?? nsError.localizedDescription
    }
}
