// The built `gesturepad` executable, for the suites that run it as a user or systemd would. The test
// runner is .build/<config>/gesturepadPackageTests.xctest (or a file inside it); the binary sits in
// the same build folder, so the search walks up from the runner until it finds it.
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
