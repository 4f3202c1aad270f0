// gesturepad: the command tree. Wiring only — every command parses its options, calls a library
// and prints; errors are the libraries' typed errors, printed by ArgumentParser with exit code 1.
import ArgumentParser
import Daemon

@main
struct Gesturepad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gesturepad",
        abstract: "A webcam gesture controller: MobileNet features + a small trained head → four directions.",
        version: GesturepadVersion.description,
        subcommands: [
            Play.self, Samples.self, Train.self, Eval.self, Head.self, Embed.self, Classify.self, DevicesCommand.self,
            RecordVideo.self, SimulateSession.self, ModelCommand.self, Bench.self, ConfigCommand.self,
            DaemonCommand.self, ShareCommand.self, ControlStatus.self,
            Monitor.self, Pause.self, Resume.self, Record.self, Reload.self, Control.self,
        ])
}

/// Options shared by commands that load a model directory.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model directory holding model.json and weight shards (TF.js Layers format).")
    var model: String

    @Option(
        name: .long,
        help: "Layer whose activation is the embedding (default: conv_pw_13_relu if present, else the model output).")
    var layer: String?

    @Option(name: .long, help: "Threads for the kernels and OpenBLAS.")
    var threads: Int = 1

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }
}
