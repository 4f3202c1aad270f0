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
