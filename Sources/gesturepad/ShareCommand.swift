// `gesturepad share setup`: prints (or with --apply, as root, writes atomically) the v4l2loopback
// module options and the modules-load.d entry the camera share needs. Wiring only: the text is
// `LoopbackSetup` (Capture), the atomic write is NeuralNet's FileIO.writeAtomically.
import ArgumentParser
import Capture
import Foundation
import NeuralNet

struct ShareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "share",
        abstract: "Share the camera with video calls through v4l2loopback while gestures run.",
        subcommands: [ShareSetup.self])
}

struct ShareSetup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup",
        abstract: "Print (or with --apply as root, write) the v4l2loopback set-up for the camera share.",
        discussion: """
            Install the module first: `sudo apt-get install v4l2loopback-dkms`. Then `sudo gesturepad share setup \
            --apply` writes \(LoopbackSetup.modprobePath) and \(LoopbackSetup.modulesLoadPath); load it now with \
            `sudo modprobe -r v4l2loopback; sudo modprobe v4l2loopback` (or reboot) and set [camera] share = \
            "v4l2loopback" with share_device = "/dev/videoN".
            """)

    @Option(name: .long, help: "The /dev/videoN number of the loopback device.")
    var videoNumber = 10

    @Option(name: .long, help: "The camera name video-call apps show.")
    var cardLabel = LoopbackSetup.defaultCardLabel

    @Flag(name: .long, help: "Write the two files (needs root) instead of printing them.")
    var apply = false

    func run() throws {
        let setup = LoopbackSetup(videoNumber: videoNumber, cardLabel: cardLabel)
        if let problem = setup.problems.first { throw ValidationError(problem) }
        let files = [
            (LoopbackSetup.modprobePath, setup.modprobeConfiguration),
            (LoopbackSetup.modulesLoadPath, setup.modulesLoadConfiguration),
        ]
        guard apply else {
            for (path, text) in files { print("# \(path)\n\(text)") }
            print(
                """
                # Then: sudo gesturepad share setup --apply   (writes both files)
                #       sudo modprobe -r v4l2loopback; sudo modprobe v4l2loopback
                # and in ~/.config/gesturepad/config.toml, [camera]:
                #       share = "v4l2loopback"
                #       share_device = "\(setup.devicePath)"
                """)
            return
        }
        guard geteuid() == 0 else {
            throw ValidationError(
                "--apply writes \(LoopbackSetup.modprobePath) and \(LoopbackSetup.modulesLoadPath): run it as root "
                    + "(sudo gesturepad share setup --apply), or copy the printed text there yourself")
        }
        for (path, text) in files {
            do throws(NeuralNetError) { try FileIO.writeAtomically(Array(text.utf8), to: path) } catch {
                throw ValidationError("\(error)")
            }
            print("wrote \(path)")
        }
        print("load it now: modprobe -r v4l2loopback; modprobe v4l2loopback   (the device: \(setup.devicePath))")
    }
}
