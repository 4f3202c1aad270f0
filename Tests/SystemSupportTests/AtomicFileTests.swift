// AtomicFile: the real path (temporary file, fsync, rename) replaces a file whole, and a write that
// fails midway (a full disk, simulated at the write(2) seam) or at fsync leaves the old file byte for
// byte and no temporary file behind.
import Foundation
import Synchronization
import Testing

@testable import SystemSupport
import TestSupport

@Suite("AtomicFile")
struct AtomicFileTests {
    private func contents(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { Array($0) }
    }

    private func entries(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    @Test("write replaces the file whole and leaves no temporary file")
    func replacesFile() throws {
        try withTemporaryDirectory("atomic") { directory in
            let path = directory + "/head.json"
            try AtomicFile.write(Array("old".utf8), to: path)
            try AtomicFile.write(Array("new contents".utf8), to: path)
            #expect(contents(path) == Array("new contents".utf8))
            #expect(entries(directory) == ["head.json"])
        }
    }

    @Test("a streaming writer shows nothing under the name until commit")
    func streamingCommit() throws {
        try withTemporaryDirectory("atomic") { directory in
            let path = directory + "/clip.y4m"
            let writer = try AtomicFileWriter(path: path)
            try writer.write(Array("part one, ".utf8))
            try writer.write(Array("part two".utf8))
            #expect(!FileManager.default.fileExists(atPath: path))
            #expect(FileManager.default.fileExists(atPath: writer.temporaryPath))
            try writer.commit()
            try writer.commit()  // again: nothing happens
            #expect(contents(path) == Array("part one, part two".utf8))
            #expect(entries(directory) == ["clip.y4m"])
        }
    }

    @Test("a cancelled or dropped writer removes its temporary file")
    func cancelRemovesTemporary() throws {
        try withTemporaryDirectory("atomic") { directory in
            let path = directory + "/clip.y4m"
            let writer = try AtomicFileWriter(path: path)
            try writer.write(Array("abandoned".utf8))
            writer.cancel()
            do { _ = try AtomicFileWriter(path: path) }  // dropped at once
            #expect(entries(directory).isEmpty)
        }
    }

    /// Real write(2) until `capacity` bytes are in the file, then ENOSPC (a disk that fills up).
    private func fullDisk(capacity: Int) -> AtomicFileCalls {
        let written = Mutex(0)
        return AtomicFileCalls(
            write: { descriptor, bytes in
                let room = written.withLock { capacity - $0 }
                guard room > 0 else { return .failure(.noSpace) }
                let chunk = UnsafeRawBufferPointer(rebasing: bytes.prefix(room))
                let result = AtomicFileCalls.system.write(descriptor, chunk)
                if case .success(let count) = result { written.withLock { $0 += count } }
                return result
            },
            synchronize: AtomicFileCalls.system.synchronize)
    }

    @Test("a write that fails midway (disk full) leaves the old file intact", arguments: [0, 1, 4096, 70_000])
    func diskFullKeepsOldFile(capacity: Int) throws {
        try withTemporaryDirectory("atomic") { directory in
            let path = directory + "/samples.bin"
            let old = (0..<10_000).map { UInt8(truncatingIfNeeded: $0) }
            try AtomicFile.write(old, to: path)
            let writer = try AtomicFileWriter(
                path: path, permissions: [.ownerReadWrite], calls: fullDisk(capacity: capacity))
            let new = [UInt8](repeating: 0xAB, count: 100_000)
            #expect(throws: AtomicFileError(path: path, call: "write", errno: .noSpace)) { try writer.write(new) }
            #expect(throws: AtomicFileError.self) { try writer.commit() }
            #expect(contents(path) == old)
            #expect(entries(directory) == ["samples.bin"])
        }
    }

    @Test("an fsync failure leaves the old file intact")
    func fsyncFailureKeepsOldFile() throws {
        try withTemporaryDirectory("atomic") { directory in
            let path = directory + "/current"
            try AtomicFile.write(Array("3\n".utf8), to: path)
            let calls = AtomicFileCalls(write: AtomicFileCalls.system.write, synchronize: { _ in .failure(.ioError) })
            let writer = try AtomicFileWriter(path: path, permissions: [.ownerReadWrite], calls: calls)
            try writer.write(Array("4\n".utf8))
            #expect(throws: AtomicFileError(path: path, call: "fsync", errno: .ioError)) { try writer.commit() }
            #expect(contents(path) == Array("3\n".utf8))
            #expect(entries(directory) == ["current"])
        }
    }

    @Test("a missing directory is an open error naming the file")
    func missingDirectory() {
        let path = "/nonexistent-gesturepad/dir/file"
        #expect(throws: AtomicFileError(path: path, call: "open", errno: .noSuchFileOrDirectory)) {
            try AtomicFile.write([1, 2, 3], to: path)
        }
        let error = AtomicFileError(path: path, call: "write", errno: .noSpace)
        #expect(error.description.contains(path))
        #expect(error.reason == "write: No space left on device (errno 28)")
    }
}
