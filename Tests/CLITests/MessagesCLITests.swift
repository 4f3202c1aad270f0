// Issue 17 items 7, 9 and 10 as a user meets them, each through the built `gesturepad` binary: the
// message a mistake gets (the unknown model named, --from/--to without --source or backwards, a
// directory given as a photo, rolling back from the oldest head), data errors without a `Usage:` line,
// `--version`, `head list` with sample counts and accuracy, `head use vN`, and `eval`'s timing tolerance,
// readable event lines and progress. Tests needing no model run everywhere; the rest need `make models`.
import Capture
import Foundation
import Gestures
import Paths
import TestSupport
import Testing

@Suite("gesturepad messages (issue 17)")
struct MessagesCLITests {
    @Test func versionIsPrinted() throws {
        let run = try CLI.run(["--version"])
        #expect(run.status == 0)
        #expect(run.output.hasPrefix("gesturepad 0.1 (kernels for "), "\(run.output)")
    }

    @Test func fromAndToWithoutASourceSayWhatIsMissing() throws {
        let run = try CLI.run(["samples", "add", "down", "--from", "5", "--to", "6"])
        #expect(run.status != 0)
        #expect(
            run.error.contains("--from and --to pick a stretch of a recording: give it with --source clip.y4m"),
            "\(run.error)")
        #expect(!run.error.contains("not both"))
        let nothing = try CLI.run(["samples", "add", "down"])
        #expect(nothing.error.contains("give photo files, or --source clip.y4m"), "\(nothing.error)")
    }

    @Test func aBackwardsStretchIsRefused() throws {
        let run = try CLI.run(["samples", "add", "down", "--source", "clip.y4m", "--from", "5", "--to", "2"])
        #expect(run.status != 0)
        #expect(run.error.contains("--to (2.0 s) must be after --from (5.0 s)"), "\(run.error)")
    }

    @Test func dataErrorsCarryNoUsageLineButUsageErrorsDo() throws {
        try withTemporaryDirectory("cli-usage") { data in
            let missing = try CLI.run(["samples", "delete", "--id", "12345", "--data-dir", data])
            #expect(missing.status == 1)
            #expect(missing.error.contains("no sample with id #12345"), "\(missing.error)")
            #expect(!missing.error.contains("Usage:"), "\(missing.error)")
            let noFile = try CLI.run(["eval", "--keys", data + "/none.keys", "--truth", data + "/none.truth"])
            #expect(noFile.status == 1)
            #expect(noFile.error.contains("none.truth") || noFile.error.contains("none.keys"), "\(noFile.error)")
            #expect(!noFile.error.contains("Usage:"), "\(noFile.error)")
            let usage = try CLI.run(["samples", "delete", "--data-dir", data])
            #expect(usage.error.contains("Usage:"), "a mistake in the command line shows the usage: \(usage.error)")
        }
    }

    @Test func playNamesTheUnknownModel() throws {
        try withTemporaryDirectory("cli-play-model") { directory in
            let clip = directory + "/clip.y4m"
            try writeFlatClip(clip, colour: (90, 90, 200), seconds: 0.5)
            let run = try CLI.run([
                "play", "--model", "mobilnet", "--source", clip, "--screenshot", directory + "/shot.png",
                "--data-dir", directory,
            ])
            #expect(run.status == 1)
            #expect(run.error.contains("no model named mobilnet"), "\(run.error)")
            #expect(!run.error.contains("Camera off") && !run.output.contains("wrote"))
        }
    }

    /// Truth 0 idle · 2 left · 3 idle · 5 up · 6 idle; the presses are 0.4 s early (left) and 0.2 s late (up).
    @Test func evalKeysCountsPressesNearABoundaryForTheGestureAndReadsWell() throws {
        try withTemporaryDirectory("cli-tolerance") { directory in
            let truth = directory + "/clip.truth"
            let keys = directory + "/clip.keys"
            try "0 idle\n2 left\n3 idle\n5 up\n6 idle\n".write(toFile: truth, atomically: true, encoding: .utf8)
            try "1.6 down left\n2.5 up left\n6.2 down up\n6.4 up up\n".write(
                toFile: keys, atomically: true, encoding: .utf8)
            let arguments = ["eval", "--keys", keys, "--truth", truth, "--duration", "8"]
            let tolerant = try CLI.run(arguments)
            #expect(tolerant.status == 0, "\(tolerant.error)")
            #expect(tolerant.output.contains("gestures          2, missed 0"), "\(tolerant.output)")
            #expect(tolerant.output.contains("key presses       2, false 0"), "\(tolerant.output)")
            #expect(tolerant.output.contains("presses within ±500 ms of a gesture count for it"))

            let strict = try CLI.run(arguments + ["--tolerance", "0"])
            #expect(strict.status == 0, "\(strict.error)")
            #expect(strict.output.contains("gestures          2, missed 2"), "\(strict.output)")
            #expect(strict.output.contains("1.60 s pressed LEFT (truth: idle)"), "\(strict.output)")
            #expect(strict.output.contains("6.20 s pressed UP (truth: idle)"), "\(strict.output)")
            #expect(strict.output.contains("2.00 s–3.00 s LEFT never pressed"), "\(strict.output)")

            let bad = try CLI.run(arguments + ["--tolerance", "11"])
            #expect(bad.status != 0 && bad.error.contains("--tolerance must be 0 to 10 seconds"), "\(bad.error)")
        }
    }
}

/// The messages that need the real model (training a head, embedding photos).
@Suite(
    "gesturepad messages with a model (issue 17)", .serialized,
    .enabled(if: CLI.modelsAvailable || TestFiles.required, "models/photos not fetched: run `make models`"))
struct ModelMessagesCLITests {
    @Test func aDirectoryGivenAsAPhotoIsNamedAsOne() throws {
        try withTemporaryDirectory("cli-dir-photo") { data in
            let folder = data + "/photos"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let run = try CLI.run(["samples", "add", "up", folder, "--data-dir", data])
            #expect(run.status == 1)
            #expect(
                run.error.contains("\(folder)") && run.error.contains("is a directory, not an image file"),
                "\(run.error)")
            #expect(!run.error.contains("permission denied"))
        }
    }

    @Test func headListRollbackAndUse() throws {
        try withTemporaryDirectory("cli-heads") { data in
            let common = ["--data-dir", data, "--labels", "up,down,idle"]
            try SampleSeed.fill(data, [("up", 3), ("down", 3), ("idle", 2)])
            #expect(try CLI.run(["train", "--epochs", "2"] + common).status == 0)
            let oldest = try CLI.run(["head", "rollback"] + common)
            #expect(oldest.status == 1)
            #expect(
                oldest.error.contains(
                    "v1 is the oldest stored head, there is none before it to roll back to (stored: v1)"),
                "\(oldest.error)")
            #expect(!oldest.error.contains("version 0") && !oldest.error.contains("Usage:"))

            #expect(try CLI.run(["train", "--epochs", "2"] + common).status == 0)
            let list = try CLI.run(["head", "list"] + common)
            #expect(
                list.output.contains("* v2  up,down,idle  8 samples (up 3, down 3, idle 2)  training accuracy "),
                "\(list.output)")
            #expect(list.output.contains("  v1  up,down,idle  8 samples"), "\(list.output)")

            let use = try CLI.run(["head", "use", "v1"] + common)
            #expect(use.status == 0, "\(use.error)")
            #expect(use.output.contains("current head: v2 → v1"), "\(use.output)")
            #expect(try CLI.run(["head", "list"] + common).output.contains("* v1"))
            let missing = try CLI.run(["head", "use", "7"] + common)
            #expect(
                missing.status == 1 && missing.error.contains("head v7 does not exist; stored versions: v1, v2"),
                "\(missing.error)")
            let rolled = try CLI.run(["head", "use", "v2"] + common)
            #expect(rolled.status == 0)
            #expect(try CLI.run(["head", "rollback"] + common).output.contains("current head is now v1 (was v2)"))
        }
    }

    @Test func trainSaysWhichLabelsItLeavesOut() throws {
        try withTemporaryDirectory("cli-train-extra") { data in
            let common = ["--data-dir", data, "--labels", "up,down,idle"]
            try SampleSeed.fill(data, [("up", 2), ("down", 2), ("idle", 2), ("lefft", 3)])
            let trained = try CLI.run(["train", "--epochs", "1"] + common)
            #expect(trained.status == 0, "\(trained.error)")
            #expect(trained.output.contains("not trained (not a configured label): lefft 3"), "\(trained.output)")
        }
    }

    @Test func replayProgressAndTolerance() throws {
        try withTemporaryDirectory("cli-replay") { data in
            let common = ["--data-dir", data, "--labels", "up,idle"]
            for (label, photo) in [("up", "astronaut.png"), ("idle", "chelsea.png")] {
                let added = try CLI.run(["samples", "add", label, TestFiles.path(photo)] + common)
                #expect(added.status == 0, "\(added.error)")
            }
            #expect(try CLI.run(["train", "--epochs", "10"] + common).status == 0)
            let truth = data + "/clip.truth"
            try "0 idle\n1 up\n2 idle\n".write(toFile: truth, atomically: true, encoding: .utf8)
            let clip = data + "/clip.y4m"
            let written = try CLI.run([
                "simulate-session", clip, "--truth", truth, "--labels", "up,idle", "--seconds", "3", "--fps", "10",
                "--photo", "up=" + TestFiles.path("astronaut.png"), "--photo", "idle=" + TestFiles.path("chelsea.png"),
            ])
            #expect(written.status == 0, "\(written.error)")
            let replay = try CLI.run(["eval", "--replay", clip, "--truth", truth, "--progress"] + common)
            #expect(replay.status == 0, "\(replay.error)")
            #expect(replay.error.contains("replay: 100% (30/30 frames"), "\(replay.error)")
            #expect(replay.error.contains("replay:  10% (3/30 frames"), "\(replay.error)")
            #expect(replay.output.contains("presses within ±500 ms of a gesture count for it"), "\(replay.output)")
            let quiet = try CLI.run(["eval", "--replay", clip, "--truth", truth, "--no-progress"] + common)
            #expect(quiet.status == 0 && !quiet.error.contains("replay:"), "\(quiet.error)")
        }
    }
}
