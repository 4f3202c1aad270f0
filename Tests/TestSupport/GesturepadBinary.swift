// The built `gesturepad` executable, for the suites that run it as a user or systemd would. The test
// runner is .build/<config>/gesturepadPackageTests.xctest (or a file inside it); the binary sits in
// the same build folder, so the search walks up from the runner until it finds it. `run` starts it
// with given arguments and environment and collects its exit status and both output streams.
import Foundation

/// The `gesturepad` binary built beside the test runner.
public enum GesturepadBinary {
    /// Its path (the runner's own folder's `gesturepad` when none is found, so the error names a path).
    public static let path: String = {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("gesturepad").path),
            directory.path != "/"
        {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("gesturepad").path
    }()
}

/// What one run of `gesturepad` left: exit status and both output streams.
public struct GesturepadRun: Sendable {
    public var status: Int32
    public var standardOutput: String
    public var standardError: String
}

extension GesturepadBinary {
    /// Runs `gesturepad arguments…` with exactly `environment` and waits for it to exit.
    public static func run(_ arguments: [String], environment: [String: String]) throws -> GesturepadRun {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestSupportError("no gesturepad binary at \(path); build with `swift build --build-tests` first")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = environment
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        // Both pipes drained before waiting: a child filling one pipe buffer would otherwise never exit.
        // stdout is read to its end first; the child can block on a full stderr meanwhile only if it writes
        // over 64 KiB there, which no command under test does.
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return GesturepadRun(
            status: process.terminationStatus, standardOutput: String(decoding: outputData, as: UTF8.self),
            standardError: String(decoding: errorData, as: UTF8.self))
    }
}
