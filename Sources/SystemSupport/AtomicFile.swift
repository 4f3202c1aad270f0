// AtomicFile: the one way gesturepad writes user data (heads, models, recordings, pictures). Bytes go
// to `<path>.tmp-<pid>-<random>` in the same directory (so the rename cannot cross file systems), are
// fsync'ed, the file is renamed over `path`, and the directory is fsync'ed so the rename survives a
// power cut. Readers and crashes see the old file or the new one, never a torn one; a failure at any
// step removes the temporary file and leaves the old file untouched. `AtomicFileWriter` streams (the
// Y4M recorder appends frame by frame); `AtomicFile.write` writes one buffer. Writes and opens retry
// EINTR through swift-system's `retryOnInterrupt:`; the calls go through `AtomicFileCalls`, a seam
// tests replace to make a write fail midway (a full disk).
#if canImport(Glibc)
    import Glibc
#endif

/// A failed atomic write: the file, the call that failed and its errno.
public struct AtomicFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file that was being written (its final name).
    public let path: String
    /// The call that failed: "open", "write", "fsync", "rename".
    public let call: String
    /// What the call reported.
    public let errno: Errno

    public init(path: String, call: String, errno: Errno) {
        self.path = path
        self.call = call
        self.errno = errno
    }

    /// "write: No space left on device (errno 28)": the call and errno, for errors that name the path themselves.
    public var reason: String { "\(call): \(errno.description) (errno \(errno.rawValue))" }

    public var description: String {
        "cannot write \(path) (\(reason)); check free space and that the directory is writable. The old file is unchanged."
    }
}

/// The system calls an atomic write makes after opening its temporary file; replaced in tests.
struct AtomicFileCalls: Sendable {
    /// Writes some of the bytes (like write(2)): how many, or the errno.
    var write: @Sendable (FileDescriptor, UnsafeRawBufferPointer) -> Result<Int, Errno>
    /// fsync(2).
    var synchronize: @Sendable (FileDescriptor) -> Result<Void, Errno>

    /// The real calls: write(2) with EINTR retried by swift-system, fsync(2).
    static let system = AtomicFileCalls(
        write: { descriptor, bytes in
            do { return .success(try descriptor.write(bytes, retryOnInterrupt: true)) } catch {
                return .failure(error as? Errno ?? .ioError)
            }
        },
        synchronize: { descriptor in
            SystemCall.result(retryOnInterrupt: true) { fsync(descriptor.rawValue) }.map { _ in () }
        })
}

/// A file written under a temporary name and renamed into place by `commit()`.
///
/// Not thread-safe. A writer dropped or `cancel()`ed before `commit()` removes its temporary file.
public final class AtomicFileWriter {
    /// The final file name.
    public let path: String
    /// The file being written until `commit()` renames it.
    public let temporaryPath: String
    private var descriptor: FileDescriptor?
    private var committed = false
    private let calls: AtomicFileCalls

    /// Creates the temporary file (mode `permissions`, 0644 by default) next to `path`.
    /// - Throws: `AtomicFileError` naming "open" when the directory is missing or not writable.
    public convenience init(
        path: String, permissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead]
    ) throws(AtomicFileError) {
        try self.init(path: path, permissions: permissions, calls: .system)
    }

    init(path: String, permissions: FilePermissions, calls: AtomicFileCalls) throws(AtomicFileError) {
        self.path = path
        self.calls = calls
        temporaryPath = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            descriptor = try FileDescriptor.open(
                FilePath(temporaryPath), .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec],
                permissions: permissions, retryOnInterrupt: true)
        } catch {
            throw AtomicFileError(path: path, call: "open", errno: error as? Errno ?? .ioError)
        }
    }

    deinit { cancel() }

    /// Appends all of `bytes` (short writes continue where they stopped).
    /// - Throws: `AtomicFileError` naming "write" (the temporary file is removed then; the writer is done).
    public func write(_ bytes: UnsafeRawBufferPointer) throws(AtomicFileError) {
        guard let descriptor, !committed else {
            throw AtomicFileError(path: path, call: "write", errno: .badFileDescriptor)
        }
        var offset = 0
        while offset < bytes.count {
            switch calls.write(descriptor, UnsafeRawBufferPointer(rebasing: bytes[offset...])) {
            case .success(let written) where written > 0: offset += written
            case .success: return try fail("write", .noSpace)  // write(2) wrote nothing: treat as a full disk
            case .failure(let errno): return try fail("write", errno)
            }
        }
    }

    /// Appends all of `bytes`.
    public func write(_ bytes: [UInt8]) throws(AtomicFileError) {
        let failure = bytes.withUnsafeBytes { buffer -> AtomicFileError? in
            do throws(AtomicFileError) { try write(buffer) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    /// Flushes the file to disk (fsync), renames it to `path` and fsyncs the directory. Calling it again does nothing.
    /// - Throws: `AtomicFileError` naming "fsync" or "rename" (the temporary file is removed; `path` is untouched).
    public func commit() throws(AtomicFileError) {
        if committed { return }
        guard let descriptor else { throw AtomicFileError(path: path, call: "commit", errno: .badFileDescriptor) }
        if case .failure(let errno) = calls.synchronize(descriptor) { return try fail("fsync", errno) }
        try? descriptor.close()
        self.descriptor = nil
        if case .failure(let errno) = SystemCall.result(retryOnInterrupt: true, { rename(temporaryPath, path) }) {
            unlink(temporaryPath)
            throw AtomicFileError(path: path, call: "rename", errno: errno)
        }
        committed = true
        AtomicFile.synchronizeDirectory(AtomicFile.directory(of: path))
    }

    /// Abandons the file: closes and removes the temporary file (nothing appears under `path`).
    /// Does nothing after `commit()`.
    public func cancel() {
        guard !committed, let descriptor else { return }
        try? descriptor.close()
        self.descriptor = nil
        unlink(temporaryPath)
    }

    private func fail(_ call: String, _ errno: Errno) throws(AtomicFileError) {
        cancel()
        throw AtomicFileError(path: path, call: call, errno: errno)
    }
}

/// Whole-buffer atomic writes and the directory sync they end with.
public enum AtomicFile {
    /// Writes `bytes` to `path` via temporary file + fsync + rename + directory fsync.
    public static func write(_ bytes: [UInt8], to path: String) throws(AtomicFileError) {
        let writer = try AtomicFileWriter(path: path)
        try writer.write(bytes)
        try writer.commit()
    }

    /// fsyncs a directory so renames and creations in it are durable; best effort (some file systems
    /// refuse fsync on directories, and a completed rename cannot be undone anyway).
    public static func synchronizeDirectory(_ path: String) {
        guard
            let descriptor = try? FileDescriptor.open(
                FilePath(path), .readOnly, options: [.directory, .closeOnExec], retryOnInterrupt: true)
        else { return }
        _ = SystemCall.result(retryOnInterrupt: true) { fsync(descriptor.rawValue) }
        try? descriptor.close()
    }

    /// The directory part of `path` ("." for a bare name, "/" for a file in the root).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
