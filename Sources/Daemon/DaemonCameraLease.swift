// DaemonCameraLease: lets another gesturepad program (the game window) use the camera while a
// daemon runs — pause the daemon (it releases its keys and closes the camera), and resume it when
// done. No daemon, or no runtime directory: nothing to do.
import Foundation

/// A paused daemon, to be resumed with `release()`.
public struct DaemonCameraLease: Sendable {
    public let socketPath: String

    /// Pauses the daemon listening on the standard socket (or `socketPath`); nil when none answers.
    public static func acquire(
        socketPath: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> DaemonCameraLease? {
        guard let location = try? ControlSocketLocation.resolve(socketPath, environment: environment),
            FileManager.default.fileExists(atPath: location.socketPath)
        else { return nil }
        let client = ControlClient(location: location, timeout: .seconds(3))
        guard let status = try? client.send(.status).result(DaemonStatus.self), status.state != .paused else {
            return nil
        }
        guard (try? client.send(.pause).check()) != nil else { return nil }
        return DaemonCameraLease(socketPath: location.socketPath)
    }

    /// Resumes the daemon (best effort: it may have stopped meanwhile).
    public func release() {
        _ = try? ControlClient(socketPath: socketPath, timeout: .seconds(3)).send(.resume)
    }
}
