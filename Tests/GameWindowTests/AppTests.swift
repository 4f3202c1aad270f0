// App: key scripts on virtual time — screen changes, record start/stop per held key, delete and
// train commands, the hyperparameter ladder, the keyboard/gesture input merge, pause, restart,
// the help overlay freezing the game, focus loss and quit.
import Game
import Gestures
import NeuralNet
import Testing

@testable import GameWindow

@Suite("GameWindow: app state machine")
struct AppTests {
    @Test("Enter plays, Esc goes back to training, Esc on training quits")
    func screenChanges() {
        var app = App()
        #expect(app.screen == .training)
        #expect(app.keyDown(.enter).isEmpty)
        #expect(app.screen == .play)
        #expect(app.keyDown(.escape).isEmpty)
        #expect(app.screen == .training)
        #expect(!app.isQuitRequested)
        #expect(app.keyDown(.letter("p")).isEmpty)
        #expect(app.screen == .play)
        _ = app.keyDown(.tab)
        #expect(app.screen == .training)
        #expect(app.keyDown(.escape) == [.quit])
        #expect(app.isQuitRequested)
    }

    @Test(
        "holding a record key records its label until that key is released",
        arguments: [
            (AppKey.arrowUp, "up"), (.letter("w"), "up"), (.arrowDown, "down"), (.letter("s"), "down"),
            (.arrowLeft, "left"),
            (.letter("a"), "left"), (.arrowRight, "right"), (.letter("d"), "right"), (.letter("i"), "idle"),
            (.space, "idle"),
        ])
    func recordWhileHeld(key: AppKey, label: String) {
        var app = App()
        #expect(app.keyDown(key).isEmpty, "nothing is kept until the key is known to be held")
        #expect(app.selectedLabel == label)
        for _ in 1..<RecordKeySettings.holdTicks {
            #expect(app.tick().isEmpty)
            #expect(app.keyDown(key, isRepeat: true).isEmpty)
        }
        #expect(app.tick() == [.startRecording(label: label)])
        #expect(app.take == nil)
        #expect(app.recordingLabel == label)
        #expect(app.selectedLabel == label)
        // Auto-repeat while held changes nothing.
        #expect(app.keyDown(key, isRepeat: true).isEmpty)
        #expect(app.keyUp(key) == [.stopRecording])
        #expect(app.recordingLabel == nil)
        #expect(app.keyUp(key).isEmpty)
    }

    @Test("a second record key while recording is ignored; only the first key's release stops")
    func oneRecordingAtATime() {
        var app = App()
        _ = app.keyDown(.arrowLeft)
        #expect(app.keyDown(.arrowUp).isEmpty, "a second key while the first is pending")
        #expect(holdTicks(&app) == [.startRecording(label: "left")])
        #expect(app.keyDown(.arrowUp).isEmpty)
        #expect(holdTicks(&app).isEmpty)
        #expect(app.keyUp(.arrowUp).isEmpty)
        #expect(app.recordingLabel == "left")
        #expect(app.keyUp(.arrowLeft) == [.stopRecording])
    }

    @Test("a tapped record key counts down 3, 2, 1 in ticks, then records the take for its seconds and stops")
    func tapStartsATake() {
        var app = App(recordKeys: RecordKeySettings(countdownSeconds: 3, takeSeconds: 5))
        #expect(app.keyDown(.arrowUp).isEmpty)
        for _ in 0..<5 { #expect(app.tick().isEmpty) }
        #expect(app.keyUp(.arrowUp) == [.countdownStarted(label: "up")])
        #expect(app.take?.phase == .countdown(secondsLeft: 3))
        #expect(app.recordingLabel == nil, "nothing is kept during the countdown")
        var commands: [(tick: Int, command: AppCommand)] = []
        var phases: [RecordingTake.Phase] = []
        for tick in 1...(9 * 60) {
            commands += app.tick().map { (tick, $0) }
            if let phase = app.take?.phase, tick % 60 == 30 { phases.append(phase) }
        }
        #expect(commands.map(\.command) == [.startRecording(label: "up"), .stopRecording])
        #expect(commands.map(\.tick) == [180, 480], "recording starts after 3 s and lasts 5 s")
        #expect(
            Array(phases.prefix(3)) == [
                .countdown(secondsLeft: 3), .countdown(secondsLeft: 2), .countdown(secondsLeft: 1),
            ])
        #expect(phases[3] == .recording(fraction: 0.1, secondsLeft: 4.5))
        #expect(app.take == nil && app.recordingLabel == nil)
    }

    @Test(
        "a record key or Esc during a take stops it; Esc does not quit then; a config without countdown records at once"
    )
    func takeStops() {
        var app = App()
        _ = app.keyDown(.letter("d"))
        _ = app.keyUp(.letter("d"))
        #expect(app.keyDown(.escape).isEmpty, "stopped during the countdown: nothing was recording")
        #expect(app.take == nil && !app.isQuitRequested)
        _ = app.keyDown(.letter("d"))
        _ = app.keyUp(.letter("d"))
        for _ in 0..<(3 * 60) { _ = app.tick() }
        #expect(app.recordingLabel == "right")
        #expect(app.keyDown(.arrowLeft) == [.stopRecording], "another record key stops the take")
        #expect(app.keyUp(.arrowLeft).isEmpty, "and starts nothing")
        #expect(app.take == nil && app.recordingLabel == nil)
        #expect(RecordKeySettings(recording: RecordingSettings(countdownSeconds: 0)).countdownSeconds == 3)
        #expect(RecordKeySettings(recording: RecordingSettings(countdownSeconds: 1.5)).countdownSeconds == 1.5)
        var instant = App(recordKeys: RecordKeySettings(countdownSeconds: 0, takeSeconds: 1))
        _ = instant.keyDown(.space)
        #expect(instant.keyUp(.space) == [.countdownStarted(label: "idle"), .startRecording(label: "idle")])
        var ticks = 0
        while instant.take != nil && ticks < 1000 {
            ticks += 1
            _ = instant.tick()
        }
        #expect(ticks == 60)
    }

    @Test("a label missing from the label set has no record key")
    func labelsWithoutIdle() {
        var app = App(labels: .directionsOnly)
        #expect(app.keyDown(.letter("i")).isEmpty)
        #expect(app.recordingLabel == nil)
    }

    @Test("Backspace deletes from the selected tile; T trains with the shown options; C cancels")
    func deleteTrainCancel() {
        var app = App()
        _ = app.keyDown(.letter("d"))
        _ = app.keyUp(.letter("d"))
        #expect(app.keyDown(.backspace) == [.deleteLastSample(label: "right")])
        #expect(app.keyDown(.backspace, isRepeat: true) == [.deleteLastSample(label: "right")])
        #expect(app.keyDown(.letter("t")) == [.train(app.trainingOptions)])
        #expect(app.keyDown(.letter("c")) == [.cancelTraining])
    }

    @Test("Tab selects a knob, +/- walk its ladder and stop at the ends")
    func hyperparameters() {
        var app = App(
            trainingOptions: TrainingOptions(learningRate: 0.0001, batchSizeFraction: 0.4, epochs: 20, hiddenUnits: 100)
        )
        #expect(app.selectedField == .learningRate)
        _ = app.keyDown(.plus)
        #expect(app.trainingOptions.learningRate == 0.0003)
        _ = app.keyDown(.tab)
        #expect(app.selectedField == .epochs)
        _ = app.keyDown(.minus)
        #expect(app.trainingOptions.epochs == 10)
        _ = app.keyDown(.tab)
        _ = app.keyDown(.plus)
        #expect(app.trainingOptions.hiddenUnits == 200)
        _ = app.keyDown(.tab)
        for _ in 0..<20 { _ = app.keyDown(.plus, isRepeat: true) }
        #expect(app.trainingOptions.batchSizeFraction == 1.0)
        _ = app.keyDown(.tab)
        #expect(app.selectedField == .learningRate)
        _ = app.keyDown(.tab, shift: true)
        #expect(app.selectedField == .batchFraction)
        for _ in 0..<20 { _ = app.keyDown(.minus) }
        #expect(app.trainingOptions.batchSizeFraction == 0.05)
        #expect(HyperparameterField.learningRate.text(in: app.trainingOptions) == "0.0003")
        #expect(HyperparameterField.batchFraction.text(in: app.trainingOptions) == "0.05")
    }

    @Test("in play a held key steers every tick, and beats a held gesture")
    func keyboardBeatsGesture() {
        var app = App(screen: .play)
        app.gestureEvents([.down("left", atNanoseconds: 1)])
        #expect(app.nextInput.direction == .left)
        app.tick()
        #expect(app.lastSteering == .gesture)
        // Held gesture keeps steering after the pulse.
        #expect(app.nextInput.direction == .left)
        _ = app.keyDown(.arrowUp)
        #expect(app.nextInput.direction == .up)
        app.tick()
        #expect(app.lastSteering == .keyboard)
        #expect(app.nextInput.direction == .up)
        _ = app.keyUp(.arrowUp)
        #expect(app.nextInput.direction == .left)
        app.gestureEvents([.up("left", atNanoseconds: 2)])
        #expect(app.nextInput.direction == nil)
    }

    @Test("the most recently pressed of two held keys steers; a tap shorter than a tick still counts")
    func heldOrderAndTaps() {
        var app = App(screen: .play)
        _ = app.keyDown(.arrowLeft)
        _ = app.keyDown(.letter("s"))
        #expect(app.nextInput.direction == .down)
        _ = app.keyUp(.letter("s"))
        #expect(app.nextInput.direction == .left)
        _ = app.keyUp(.arrowLeft)
        _ = app.keyDown(.arrowRight)
        _ = app.keyUp(.arrowRight)
        #expect(app.nextInput.direction == .right)
        app.tick()
        #expect(app.nextInput.direction == nil)
    }

    @Test("a gesture press and release between two ticks still turns once")
    func gesturePulse() {
        var app = App(screen: .play)
        app.gestureEvents([.down("right", atNanoseconds: 1), .up("right", atNanoseconds: 2)])
        #expect(app.nextInput.direction == .right)
        app.tick()
        #expect(app.nextInput.direction == nil)
        // Idle and unknown labels never steer.
        app.gestureEvents([.down("idle", atNanoseconds: 3)])
        #expect(app.nextInput.direction == nil)
    }

    @Test("T retrains from the play screen without leaving it")
    func retrainInPlay() {
        var app = App(screen: .play)
        #expect(app.keyDown(.letter("t")) == [.train(app.trainingOptions)])
        #expect(app.screen == .play)
        // Record keys steer in play; they never record there.
        #expect(app.keyDown(.letter("w")).isEmpty)
        #expect(app.recordingLabel == nil)
    }

    @Test("Space pauses and resumes; the game does not advance on the training screen")
    func pause() {
        var app = App(screen: .play)
        for _ in 0..<(GameTiming.readyTicksNewGame + 5) { app.tick() }
        #expect(app.game.phase == .playing)
        _ = app.keyDown(.space)
        app.tick()
        #expect(app.game.phase == .paused)
        _ = app.keyDown(.letter("p"))
        app.tick()
        #expect(app.game.phase == .playing)
        // Leaving play pauses a running game; it stays paused on return.
        _ = app.keyDown(.escape)
        #expect(app.game.phase == .paused)
        let ticks = app.game.tickCount
        app.tick()
        #expect(app.game.tickCount == ticks)
        _ = app.keyDown(.enter)
        app.tick()
        #expect(app.game.phase == .paused)
        _ = app.keyDown(.space)
        app.tick()
        #expect(app.game.phase == .playing)
    }

    @Test("R restarts with a new game and keeps the high score")
    func restart() {
        var app = App(screen: .play, highScore: 1234)
        _ = app.keyDown(.arrowLeft)
        for _ in 0..<(GameTiming.readyTicksNewGame + 120) { app.tick() }
        #expect(app.game.score > 0)
        let score = app.game.score
        _ = app.keyDown(.letter("r"))
        #expect(app.game.score == 0)
        #expect(app.game.phase == .ready)
        #expect(app.game.highScore == max(1234, score))
    }

    @Test("the help overlay freezes the game and swallows keys; Esc closes it without leaving play")
    func help() {
        var app = App(screen: .play)
        _ = app.keyDown(.letter("h"))
        #expect(app.isHelpVisible)
        let ticks = app.game.tickCount
        app.tick()
        #expect(app.game.tickCount == ticks)
        #expect(app.keyDown(.letter("r")).isEmpty)
        _ = app.keyDown(.escape)
        #expect(!app.isHelpVisible)
        #expect(app.screen == .play)
        app.tick()
        #expect(app.game.tickCount == ticks + 1)
    }

    @Test("opening help, losing focus or quitting stops a recording")
    func recordingStops() {
        var app = App()
        _ = app.keyDown(.arrowUp)
        _ = holdTicks(&app)
        #expect(app.keyDown(.f1) == [.stopRecording])
        _ = app.keyDown(.f1)
        _ = app.keyDown(.arrowUp)
        _ = holdTicks(&app)
        #expect(app.releaseAllKeys() == [.stopRecording])
        _ = app.keyDown(.arrowUp)
        _ = holdTicks(&app)
        #expect(app.quit() == [.stopRecording, .quit])
        #expect(app.isQuitRequested)
    }

    @Test("after game over Enter starts a new game")
    func gameOverAndStart() {
        var app = App(screen: .play, seed: 7)
        var ticks = 0
        // Standing still, Pac-Man loses every life.
        while app.game.phase != .gameOver && ticks < 60 * 60 * 5 {
            app.tick()
            ticks += 1
        }
        #expect(app.game.phase == .gameOver)
        _ = app.keyDown(.enter)
        app.tick()
        #expect(app.game.phase == .ready)
        #expect(app.game.lives == Scoring.startingLives)
    }
}

@Suite("GameWindow: small formats")
struct FormatTests {
    @Test func percentages() {
        #expect(ScreenText.percent(0.934) == "93%")
        #expect(ScreenText.percent(1.5) == "100%")
        #expect(ScreenText.percent(.nan) == "-")
    }

    @Test func learningRates() {
        #expect(ScreenText.learningRate(0.0001) == "0.0001")
        #expect(ScreenText.learningRate(0.003) == "0.003")
        #expect(ScreenText.learningRate(0.00003) == "0.00003")
        #expect(ScreenText.fixed(1.25, decimals: 1) == "1.3")
        #expect(ScreenText.fixed(12, decimals: 0) == "12")
        #expect(ScreenText.fixed(0.4, decimals: 2) == "0.40")
    }

    @Test func wrapping() {
        #expect(TextWrap.lines("one two three four", columns: 9) == ["one two", "three", "four"])
        #expect(TextWrap.lines("abcdefghij", columns: 4) == ["abcd", "efgh", "ij"])
        #expect(TextWrap.lines("a b c d e f", columns: 3, maximumLines: 2) == ["a b", "..."])
    }

    @Test func windowSizes() throws {
        let size = try WindowOptions.parseSize("1920x1080")
        #expect(size.width == 1920 && size.height == 1080)
        #expect(throws: GameWindowError.invalidWindowSize("100x100")) { try WindowOptions.parseSize("100x100") }
        #expect(throws: GameWindowError.invalidWindowSize("wide")) { try WindowOptions.parseSize("wide") }
    }
}

/// Ticks until a pending record key becomes a hold; the commands of those ticks.
func holdTicks(_ app: inout App) -> [AppCommand] {
    (0..<RecordKeySettings.holdTicks).flatMap { _ in app.tick() }
}
