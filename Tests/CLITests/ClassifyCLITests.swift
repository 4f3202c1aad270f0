// `gesturepad classify` and `model inspect` as a user runs them: the model by installed name or by its
// directory gives the same output (one model loader for every command), and a directory without
// gesturepad.json — no class names — is refused by classify with the command that fixes it. Needs the
// installed models (`make models`).
import Foundation
import NeuralNet
import TestSupport
import Testing

@Suite("gesturepad classify and model inspect: names or directories")
struct ClassifyCLITests {
    /// What these tests use: v1 0.25 and the cat photo (`make models`; required under `make test`).
    static var available: Bool {
        (TestFiles.modelInstalled("mobilenet_v1_0.25_224") && TestFiles.present(["chelsea.png"])) || TestFiles.required
    }

    @Test(
        "by installed name or by directory: the same model, the same top classes",
        .enabled(if: available, "v1 0.25 or chelsea.png not fetched: run `make models`"))
    func nameOrDirectory() throws {
        let name = "mobilenet_v1_0.25_224"
        let photo = TestFiles.path("chelsea.png")
        let byName = try CLI.run(["classify", photo, "--model", name, "--top", "3"])
        #expect(byName.status == 0, "\(byName.error)")
        let lines = byName.output.split(separator: "\n")
        #expect(lines.count == 3 && lines.allSatisfy { $0.contains("%") }, "\(byName.output)")
        let directory = ModelStore.userDefault().directory(of: name)
        let byDirectory = try CLI.run(["classify", photo, "--model", directory, "--top", "3"])
        #expect(byDirectory.status == 0, "\(byDirectory.error)")
        #expect(byDirectory.output == byName.output)
    }

    @Test(
        "a model directory without gesturepad.json is refused, naming the fix",
        .enabled(if: available, "v1 0.25 or chelsea.png not fetched: run `make models`"))
    func directoryWithoutMetadata() throws {
        try withTemporaryDirectory("classify-bare") { bare in
            let installed = ModelStore.userDefault().directory(of: "mobilenet_v1_0.25_224")
            for file in try FileManager.default.contentsOfDirectory(atPath: installed) where file != "gesturepad.json" {
                try FileManager.default.copyItem(atPath: installed + "/" + file, toPath: bare + "/" + file)
            }
            let run = try CLI.run(["classify", TestFiles.path("chelsea.png"), "--model", bare])
            #expect(run.status != 0)
            #expect(run.error.contains("has no gesturepad.json"), "\(run.error)")
            #expect(run.error.contains("gesturepad model import"), "\(run.error)")
        }
    }

    @Test(
        "model inspect takes an installed name as well as a directory",
        .enabled(if: available, "v1 0.25 or chelsea.png not fetched: run `make models`"))
    func inspectByName() throws {
        let name = "mobilenet_v1_0.25_224"
        let byName = try CLI.run(["model", "inspect", name])
        #expect(byName.status == 0, "\(byName.error)")
        #expect(byName.output.contains("conv_pw_13_relu"), "\(byName.output)")
        let byDirectory = try CLI.run(["model", "inspect", ModelStore.userDefault().directory(of: name)])
        #expect(byDirectory.output == byName.output)
    }
}
