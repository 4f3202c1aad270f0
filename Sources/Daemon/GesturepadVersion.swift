// GesturepadVersion: the one version string — `gesturepad --version` prints it and the daemon's control
// `version` command reports it.
import NeuralNet

/// The software version.
public enum GesturepadVersion {
    /// The release number.
    public static let number = "0.1"

    /// `gesturepad 0.1 (kernels for …)`: the number and how the kernels were built.
    public static var description: String { "gesturepad \(number) (kernels for \(BuildInfo.targetCPU))" }
}
