// Issue 15 item 4: the control socket's directory, lock and socket are checked before use, as ssh-agent
// and systemd do. Each crafted layout in a fresh private temp directory (a group/world-writable or symlinked
// socket directory, a parent others may write, a lock file that is a symlink, FIFO, directory, hard link or
// writable by others, files of another user) must make `ControlServer.bind` refuse with an error naming
// the path, what it found and what was expected — and leave the victim file untouched. Clients refuse a
// socket path that is a symlink or owned by another user (lstat before connect) and a listener running as
// another user (SO_PEERCRED after connect). Cases needing a second uid chown to nobody (65534): root only.
import Foundation
import Testing

@testable import Daemon

#if canImport(Glibc)
    import Glibc
#endif

/// A crafted layout under a private temp root: `gp/` is the socket directory.
struct TrustLayout: Sendable {
    let root: TemporaryDirectory
    var directory: String { root.path + "/gp" }
    var socketPath: String { directory + "/control.sock" }
    var lockPath: String { directory + "/control.lock" }
    var victim: String { root.path + "/victim" }
    var location: ControlSocketLocation { ControlSocketLocation(socketPath: socketPath) }

    init() throws {
        root = try TemporaryDirectory()
        try "precious\n".write(toFile: root.path + "/victim", atomically: false, encoding: .utf8)
    }

    func makeDirectory(mode: mode_t = 0o700) throws {
        try #require(mkdir(directory, 0o700) == 0 && chmod(directory, mode) == 0)
    }

    var victimUntouched: Bool { (try? String(contentsOfFile: victim, encoding: .utf8)) == "precious\n" }
}

/// A way to plant an untrusted directory or lock file, and what the refusal must say.
struct TrustCase: Sendable, CustomTestStringConvertible {
    let testDescription: String
    /// Which path the error names: "directory", "root" or "lock".
    let names: String
    /// Words the refusal's `found` part must contain.
    let found: String
    let plant: @Sendable (TrustLayout) throws -> Void

    static let ownUser: [TrustCase] = [
        TrustCase(testDescription: "socket directory mode 0777", names: "directory", found: "mode 0777") {
            try $0.makeDirectory(mode: 0o777)
        },
        TrustCase(testDescription: "socket directory mode 0770", names: "directory", found: "mode 0770") {
            try $0.makeDirectory(mode: 0o770)
        },
        TrustCase(testDescription: "socket directory is a symlink", names: "directory", found: "a symbolic link") {
            try #require(mkdir($0.root.path + "/elsewhere", 0o700) == 0)
            try #require(symlink($0.root.path + "/elsewhere", $0.directory) == 0)
        },
        TrustCase(testDescription: "parent world-writable, not sticky", names: "root", found: "mode 0777") {
            try #require(chmod($0.root.path, 0o777) == 0)
        },
        TrustCase(testDescription: "lock is a symlink to a victim", names: "lock", found: "a symbolic link") {
            try $0.makeDirectory()
            try #require(symlink($0.victim, $0.lockPath) == 0)
        },
        TrustCase(testDescription: "lock is a hard link to a victim", names: "lock", found: "2 hard links") {
            try $0.makeDirectory()
            try #require(link($0.victim, $0.lockPath) == 0)
        },
        TrustCase(testDescription: "lock is a FIFO", names: "lock", found: "a FIFO") {
            try $0.makeDirectory()
            try #require(mkfifo($0.lockPath, 0o600) == 0)
        },
        TrustCase(testDescription: "lock is a directory", names: "lock", found: "a directory") {
            try $0.makeDirectory()
            try #require(mkdir($0.lockPath, 0o700) == 0)
        },
        TrustCase(testDescription: "lock is world-writable", names: "lock", found: "mode 0666") {
            try $0.makeDirectory()
            try "1\n".write(toFile: $0.lockPath, atomically: false, encoding: .utf8)
            try #require(chmod($0.lockPath, 0o666) == 0)
        },
    ]

    static let otherUser: [TrustCase] = [
        TrustCase(testDescription: "socket directory owned by nobody", names: "directory", found: "owned by uid 65534")
        {
            try $0.makeDirectory()
            try #require(chown($0.directory, 65534, 65534) == 0)
        },
        TrustCase(testDescription: "lock owned by nobody", names: "lock", found: "owned by uid 65534") {
            try $0.makeDirectory()
            try "1\n".write(toFile: $0.lockPath, atomically: false, encoding: .utf8)
            try #require(chown($0.lockPath, 65534, 65534) == 0)
        },
        TrustCase(testDescription: "parent owned by nobody", names: "root", found: "owned by uid 65534") {
            try #require(chown($0.root.path, 65534, 65534) == 0)
        },
    ]
}

@Suite("Control socket trust checks")
struct ControlSocketTrustTests {
    static let isRoot = geteuid() == 0

    func expectRefusal(_ trustCase: TrustCase) async throws {
        let layout = try TrustLayout()
        try trustCase.plant(layout)
        let expectedPath = ["directory": layout.directory, "root": layout.root.path, "lock": layout.lockPath][
            trustCase.names]!
        do {
            let server = try await ControlServer.bind(.init(location: layout.location), handler: FakeControlHandler())
            server.shutdown()
            Issue.record("bind accepted \(trustCase.testDescription)")
        } catch {
            guard case .controlPathUntrusted(let path, let found, _) = error else {
                Issue.record("expected controlPathUntrusted, got \(error)")
                return
            }
            #expect(path == expectedPath)
            #expect(found.contains(trustCase.found), "\(found)")
            #expect(error.description.contains(expectedPath) && error.description.contains("refusing"))
        }
        #expect(layout.victimUntouched, "the victim file was changed")
        var info = stat()
        #expect(lstat(layout.socketPath, &info) != 0, "a socket was created despite the refusal")
    }

    @Test("bind refuses an untrusted directory or lock file", arguments: TrustCase.ownUser)
    func refusesUntrustedLayout(_ trustCase: TrustCase) async throws {
        try await expectRefusal(trustCase)
    }

    @Test(
        "bind refuses another user's directory or lock file", .enabled(if: isRoot, "needs root to chown"),
        arguments: TrustCase.otherUser)
    func refusesForeignLayout(_ trustCase: TrustCase) async throws {
        try await expectRefusal(trustCase)
    }

    @Test func errorMessageNamesPathFoundAndExpected() {
        let error = DaemonError.controlPathUntrusted(
            path: "/run/user/1000/gesturepad", found: "mode 0777", expected: "owner-only, 0700")
        #expect(
            error.description.hasPrefix(
                "/run/user/1000/gesturepad is mode 0777 (expected owner-only, 0700); refusing"))
    }

    @Test(
        "trusted layouts are accepted and a created directory is 0700",
        arguments: ["missing", "existing 0700", "existing 0755", "sticky world-writable parent"])
    func trustedLayoutsWork(_ variant: String) async throws {
        let layout = try TrustLayout()
        switch variant {
        case "existing 0700": try layout.makeDirectory()
        case "existing 0755": try layout.makeDirectory(mode: 0o755)
        case "sticky world-writable parent": try #require(chmod(layout.root.path, 0o1777) == 0)
        default: break
        }
        let server = try await ControlServer.bind(.init(location: layout.location), handler: FakeControlHandler())
        let running = Task { try await server.run() }
        let reply = try await onThread { try ControlClient(socketPath: layout.socketPath).send(.status) }
        var info = stat()
        #expect(stat(layout.directory, &info) == 0)
        server.shutdown()
        try await running.value
        #expect(reply.ok)
        #expect(info.st_mode & 0o777 == (variant == "existing 0755" ? 0o755 : 0o700))
        #expect(try String(contentsOfFile: layout.lockPath, encoding: .utf8) == "\(getpid())\n")
    }

    @Test func clientRefusesASymlinkToTheSocket() async throws {
        try await withServer { server, _, _ in
            let other = try TemporaryDirectory()
            let planted = other.path + "/control.sock"
            try #require(symlink(server.socketPath, planted) == 0)
            let error = await #expect(throws: DaemonError.self) {
                try await onThread { try ControlClient(socketPath: planted).send(.status) }
            }
            guard case .controlPathUntrusted(let path, let found, _) = error else {
                Issue.record("expected controlPathUntrusted, got \(String(describing: error))")
                return
            }
            #expect(path == planted && found == "a symbolic link")
        }
    }

    @Test(.enabled(if: isRoot, "needs root to chown"))
    func clientRefusesASocketOwnedByAnotherUser() async throws {
        try await withServer { server, handler, _ in
            try #require(chown(server.socketPath, 65534, 65534) == 0)
            let error = await #expect(throws: DaemonError.self) {
                try await onThread { try ControlClient(socketPath: server.socketPath).send(.pause) }
            }
            guard case .controlPathUntrusted(_, let found, _) = error else {
                Issue.record("expected controlPathUntrusted, got \(String(describing: error))")
                return
            }
            #expect(found == "a socket owned by uid 65534")
            #expect(await handler.calls.isEmpty)  // nothing was sent
            try #require(chown(server.socketPath, geteuid(), getegid()) == 0)
        }
    }

    /// The issue's attack: another user answers on a socket the client trusts by its path. Here a listener made
    /// by root (so the file passes the owner check) that then runs as nobody: SO_PEERCRED names uid 65534.
    @Test(.enabled(if: isRoot && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "root, python3"))
    func clientRefusesAListenerRunningAsAnotherUser() async throws {
        let directory = try TemporaryDirectory()
        let script = """
            import os, socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(sys.argv[1])
            os.setgid(65534); os.setuid(65534)
            s.listen(8)
            print("listening", flush=True)
            c, _ = s.accept()
            c.sendall(b'{"v":1,"ok":true,"cmd":"pause","result":{"state":"paused"}}\\n')
            c.recv(100)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, directory.socketPath]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        defer { process.terminate() }
        let line = try await onThread { output.fileHandleForReading.availableData }
        #expect(String(decoding: line, as: UTF8.self).contains("listening"))
        let error = await #expect(throws: DaemonError.self) {
            try await onThread { try ControlClient(socketPath: directory.socketPath).send(.pause) }
        }
        #expect(error == .controlPeerUntrusted(socketPath: directory.socketPath, peerUID: 65534, ownUID: geteuid()))
        #expect(error?.description.contains("runs as uid 65534") == true)
    }

    @Test(.enabled(if: isRoot, "needs root to chown"))
    func staleSocketOfAnotherUserIsNotRemoved() async throws {
        let layout = try TrustLayout()
        try layout.makeDirectory()
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(layout.socketPath.utf8))
            raw[layout.socketPath.utf8.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        close(fd)
        try #require(bound == 0 && chown(layout.socketPath, 65534, 65534) == 0)
        await #expect(throws: DaemonError.self) {
            _ = try await ControlServer.bind(.init(location: layout.location), handler: FakeControlHandler())
        }
        var info = stat()
        #expect(lstat(layout.socketPath, &info) == 0 && info.st_uid == 65534)
    }
}
