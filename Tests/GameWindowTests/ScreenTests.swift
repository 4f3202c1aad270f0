// Screens as pixels: the play screen shows the maze walls, Pac-Man's yellow at his position and each
// ghost's colour at its position (at the start, while playing, and frightened); the training screen
// shows the sample counts and thumbnails of a real SampleStore, the no-camera message, the REC frame,
// the loss plot; the help overlay and toasts draw over both.
import Capture
import Gestures
import Raster
import Testing

@testable import Game
@testable import GameWindow

@Suite("GameWindow: play screen pixels")
struct PlayScreenTests {
    /// The box an actor is drawn in.
    func box(around position: Position) -> Rect {
        let (x, y) = PlayLayout.point(of: position)
        return Rect(x: Int(x) - 8, y: Int(y) - 8, width: 16, height: 16)
    }

    func render(_ app: App, frameNumber: Int = 1) -> Canvas {
        var model = ScreenModel(app: app)
        model.frameNumber = frameNumber
        var renderer = ScreenRenderer()
        return renderer.render(model)
    }

    @Test("the maze area holds wall outlines and pellets; nothing of the maze leaks outside it")
    func mazeWalls() {
        let canvas = render(App(screen: .play))
        let walls = count(Palette.wall, in: PlayLayout.maze, of: canvas)
        #expect(walls > 3000, "wall pixels in the maze: \(walls)")
        #expect(count(Palette.wall, in: canvas.bounds, of: canvas) == walls)
        // 240 pellets of 3×3 plus the 4 power pellets' discs.
        #expect(count(Palette.pellet, in: PlayLayout.maze, of: canvas) >= 240 * 9)
        // The ghost-house door.
        #expect(count(Palette.door, in: PlayLayout.maze, of: canvas) > 0)
    }

    @Test("Pac-Man is yellow at his position, each ghost's colour is at its position")
    func actorsAtTheirPositions() {
        var app = App(screen: .play, seed: 3)
        // Run into the game with a steering input so the actors spread out.
        _ = app.keyDown(.arrowLeft)
        for tick in 0..<(GameTiming.readyTicksNewGame + 200) {
            if tick == GameTiming.readyTicksNewGame + 60 {
                _ = app.keyUp(.arrowLeft)
                _ = app.keyDown(.arrowUp)
            }
            app.tick()
        }
        #expect(app.game.phase == .playing)
        let canvas = render(app)
        let pacman = app.game.pacman.position
        #expect(count(Palette.pacman, in: box(around: pacman), of: canvas) >= 80)
        // Behind his mouth there is always yellow.
        let (x, y) = PlayLayout.point(of: pacman)
        let back = app.game.pacman.direction.reversed
        #expect(canvas.pixel(x: Int(x) + back.columnDelta * 3, y: Int(y) + back.rowDelta * 3) == Palette.pacman)
        for ghost in app.game.ghosts where ghost.mode != .frightened && ghost.mode != .eaten {
            let found = count(Palette.ghost(ghost.name), in: box(around: ghost.position), of: canvas)
            #expect(found >= 60, "\(ghost.name) at \(ghost.position): \(found) pixels of its colour")
        }
    }

    @Test("at the start all four ghosts show in their colours and READY! is written")
    func startPositions() {
        let app = App(screen: .play)
        let canvas = render(app)
        for ghost in app.game.ghosts {
            #expect(
                count(Palette.ghost(ghost.name), in: box(around: ghost.position), of: canvas) >= 60, "\(ghost.name)")
        }
        #expect(!findText("READY!", color: Palette.accent, in: PlayLayout.maze, of: canvas).isEmpty)
        // The score panel: score 0 at scale 2, the high score.
        #expect(!findText("SCORE", color: Palette.dimText, in: PlayLayout.leftPanel, of: canvas).isEmpty)
    }

    @Test("a frightened ghost is blue, a flashing one white, an eaten one only eyes")
    func ghostModes() {
        var app = App(screen: .play)
        var game = app.game
        game.ghosts[0].mode = .frightened
        game.ghosts[1].mode = .frightened
        game.ghosts[1].isFlashingWhite = true
        game.ghosts[2].mode = .eaten
        app.game = game
        let canvas = render(app)
        #expect(count(Palette.frightened, in: box(around: game.ghosts[0].position), of: canvas) >= 60)
        #expect(count(Palette.ghost(.blinky), in: box(around: game.ghosts[0].position), of: canvas) == 0)
        #expect(count(Palette.frightenedFlash, in: box(around: game.ghosts[1].position), of: canvas) >= 60)
        let eyes = box(around: game.ghosts[2].position)
        #expect(count(Palette.ghost(.inky), in: eyes, of: canvas) == 0)
        #expect(count(Palette.eyeWhite, in: eyes, of: canvas) > 0)
    }

    @Test("the corner shows the gesture, its confidence and the filter state")
    func gestureCorner() {
        var model = ScreenModel(app: App(screen: .play))
        model.camera = .running(source: "clip.y4m")
        model.cameraImage = RGBImage(width: 224, height: 224, pixels: [UInt8](repeating: 200, count: 224 * 224 * 3))
        model.reading.labels = ["up", "down", "left", "right", "idle"]
        model.reading.probabilities = [0.02, 0.01, 0.93, 0.02, 0.02]
        model.reading.heldLabel = "left"
        model.reading.filterState = .holding(label: "left", sinceNanoseconds: 0)
        model.headVersion = 3
        var renderer = ScreenRenderer()
        let canvas = renderer.render(model)
        let panel = PlayLayout.rightPanel
        #expect(!findText("LEFT", scale: 2, color: Palette.good, in: panel, of: canvas).isEmpty)
        #expect(!findText("93%", color: Palette.good, in: panel, of: canvas).isEmpty)
        #expect(!findText("FILTER: HOLDING LEFT", color: Palette.dimText, in: panel, of: canvas).isEmpty)
        #expect(!findText("HEAD v3 IN USE", color: Palette.good, in: panel, of: canvas).isEmpty)
        #expect(count(RGB(200, 200, 200), in: PlayLayout.camera, of: canvas) == 112 * 112)
    }

    @Test("without a camera the corner says so and how to find one")
    func noCameraCorner() {
        var model = ScreenModel(app: App(screen: .play))
        model.camera = .failed(source: "/dev/video0", reason: "no such device")
        var renderer = ScreenRenderer()
        let canvas = renderer.render(model)
        #expect(!findText("NO CAMERA", color: Palette.alert, in: PlayLayout.camera, of: canvas).isEmpty)
        #expect(!findText("gesturepad", color: Palette.text, in: PlayLayout.camera, of: canvas).isEmpty)
    }

    @Test("pausing shows PAUSED over the maze")
    func pausedBanner() {
        var app = App(screen: .play)
        _ = app.keyDown(.space)
        app.tick()
        #expect(app.game.phase == .paused)
        let canvas = render(app)
        #expect(!findText("PAUSED", scale: 2, color: Palette.accent, in: PlayLayout.maze, of: canvas).isEmpty)
    }

    @Test("wall outlines join at inner corners: every outline pixel touches another")
    func wallOutlinesConnect() {
        let layer = PlayScreen.wallLayer(.classic, color: Palette.wall)
        var isolated = 0
        for y in 0..<layer.height {
            for x in 0..<layer.width where layer.pixel(x: x, y: y) == Palette.wall {
                let neighbours = [(1, 0), (-1, 0), (0, 1), (0, -1)].filter {
                    layer.pixel(x: x + $0.0, y: y + $0.1) == Palette.wall
                }
                if neighbours.count < 2 { isolated += 1 }
            }
        }
        #expect(isolated == 0)
    }
}

@Suite("GameWindow: training screen pixels")
struct TrainingScreenTests {
    @Test("the tiles show the stored counts and thumbnails of a real SampleStore")
    func countsFromTheStore() throws {
        let colors = ["up": RGB(250, 10, 10), "left": RGB(10, 250, 10), "idle": RGB(10, 10, 250)]
        let (store, _) = try filledStore(counts: ["up": 3, "left": 12, "idle": 1], colors: colors)
        let session = GameSession(app: App(), parts: GameSessionParts(store: store))
        let canvas = session.render()
        let counts = try store.counts()
        for (index, label) in LabelSet.standard.names.enumerated() {
            let expected = "\(counts[label] ?? 0)"
            let record = try #require(session.countTexts.first { $0.label == label })
            #expect(record.text == expected)
            let color = expected == "0" ? Palette.dimText : Palette.text
            #expect(textIsDrawn(expected, at: record.origin, scale: record.scale, color: color, in: canvas), "\(label)")
            // Found by searching the tile, not just where the layout says.
            let tile = TrainingLayout.tile(index: index)
            #expect(findText(expected, scale: record.scale, color: color, in: tile, of: canvas).count == 1, "\(label)")
            // The first thumbnail slot shows the label's colour.
            if let color = colors[label] {
                let slot = TrainingLayout.thumbnail(tileIndex: index, slot: 0)
                #expect(count(color, in: slot, of: canvas) == 28 * 28, "\(label) thumbnail")
            }
        }
    }

    @Test("Backspace deletes the selected label's newest sample and the count follows")
    func deleteLast() throws {
        let (store, _) = try filledStore(counts: ["left": 12])
        let session = GameSession(app: App(), parts: GameSessionParts(store: store))
        session.keyDown(.arrowLeft)  // selects left (recording is refused: no camera)
        session.keyUp(.arrowLeft)
        session.keyDown(.backspace)
        #expect(try store.counts()["left"] == 11)
        let canvas = session.render()
        let record = try #require(session.countTexts.first { $0.label == "left" })
        #expect(record.text == "11")
        #expect(textIsDrawn("11", at: record.origin, scale: record.scale, color: Palette.text, in: canvas))
        #expect(session.model().toast?.contains("Deleted the last LEFT sample") == true)
    }

    @Test("recording without a camera is refused with a message naming what to do")
    func recordWithoutCamera() throws {
        let (store, _) = try filledStore(counts: [:])
        let session = GameSession(
            app: App(), parts: GameSessionParts(store: store, cameraUnavailableReason: "no such device"))
        session.keyDown(.arrowUp)
        session.advance(ticks: RecordKeySettings.holdTicks)
        let model = session.model()
        #expect(model.toast?.contains("gesturepad devices") == true)
        let canvas = session.render()
        #expect(!findText("NO CAMERA", scale: 2, color: Palette.alert, in: TrainingLayout.camera, of: canvas).isEmpty)
        #expect(!findText("REC: NO CAMERA", color: Palette.alert, in: TrainingLayout.camera, of: canvas).isEmpty)
    }

    @Test("the camera view shows the sample frame 1:1 with a red REC frame while recording")
    func cameraAndRecording() {
        var app = App()
        _ = app.keyDown(.arrowRight)
        _ = holdTicks(&app)
        var model = ScreenModel(app: app)
        model.camera = .running(source: "clip.y4m")
        model.cameraImage = RGBImage(width: 224, height: 224, pixels: [UInt8](repeating: 90, count: 224 * 224 * 3))
        model.recordedInSession = 7
        model.frameNumber = 1
        var renderer = ScreenRenderer()
        let canvas = renderer.render(model)
        let camera = TrainingLayout.camera
        #expect(count(RGB(90, 90, 90), in: camera, of: canvas) > 224 * 200)
        #expect(count(Palette.alert, in: camera.insetBy(-2), of: canvas) > 4 * 224)
        #expect(!findText("REC RIGHT  +7", color: Palette.alert, in: camera, of: canvas).isEmpty)
    }

    @Test("knobs, progress and the loss curve show on the training panel")
    func trainingPanel() {
        var model = ScreenModel(app: App())
        model.training = .training(epoch: 3, epochs: 20, losses: [1.5, 0.9, 0.4], accuracy: 0.8)
        var renderer = ScreenRenderer()
        let canvas = renderer.render(model)
        let panel = TrainingLayout.trainingPanel
        #expect(!findText("LEARNING RATE", color: Palette.text, in: panel, of: canvas).isEmpty)
        #expect(!findText("0.0001", color: Palette.accent, in: panel, of: canvas).isEmpty)
        #expect(!findText("Final head: epoch 3/20", color: Palette.accent, in: panel, of: canvas).isEmpty)
        // The loss curve is drawn in the accent colour on the dark panel (no white left from the chart).
        #expect(count(Palette.accent, in: TrainingLayout.lossPlot, of: canvas) > 20)
        #expect(count(.white, in: TrainingLayout.lossPlot, of: canvas) == 0)
    }

    @Test("after training: held-out accuracy, per-label figures and warnings, never the training accuracy")
    func heldOutResult() {
        var model = ScreenModel(app: App(labels: .directionsOnly))
        model.training = .finished(version: 4, losses: [0.9, 0.1], accuracy: 1, milliseconds: 2400)
        var matrix = ConfusionMatrix(labels: ["up", "down", "left", "right"])
        for (truth, predicted, count) in [(0, 0, 9), (0, 2, 1), (1, 1, 10), (2, 2, 7), (2, 0, 3), (3, 3, 10)] {
            for _ in 0..<count { matrix.add(trueLabel: truth, predicted: predicted) }
        }
        model.heldOut.report = HeldOutReport(
            matrix: matrix, accuracy: matrix.accuracy, labelFigures: matrix.labelFigures, trainingSamples: 160,
            heldOutSamples: 40, heldOutTakes: 6, trainingLosses: [1.2, 0.6, 0.2, 0.05],
            heldOutLosses: [1.3, 0.9, 0.8, 0.9])
        model.heldOut.trainingLosses = [1.2, 0.6, 0.2, 0.05]
        model.heldOut.heldOutLosses = [1.3, 0.9, 0.8, 0.9]
        model.heldOut.warnings = [.noIdleClass]
        var renderer = ScreenRenderer()
        let canvas = renderer.render(model)
        let panel = TrainingLayout.trainingPanel
        #expect(!findText("Held-out acc. 90% of 40", color: Palette.good, in: panel, of: canvas).isEmpty)
        #expect(!findText("UP 90%  DOWN 100%  LEFT 70%", color: Palette.text, in: panel, of: canvas).isEmpty)
        #expect(!findText("! NO IDLE CLASS", color: Palette.alert, in: panel, of: canvas).isEmpty)
        #expect(findText("acc. 100%", color: Palette.text, in: panel, of: canvas).isEmpty)
        // Both curves: training in the accent colour, held-out in the alert colour.
        #expect(count(Palette.accent, in: TrainingLayout.lossPlot, of: canvas) > 20)
        #expect(count(Palette.alert, in: TrainingLayout.lossPlot, of: canvas) > 20)
    }

    @Test("confidence bars and the filter state under the camera")
    func confidence() {
        var model = ScreenModel(app: App())
        model.camera = .running(source: "clip.y4m")
        model.reading.labels = ["up", "down", "left", "right", "idle"]
        model.reading.probabilities = [0.9, 0.05, 0.02, 0.02, 0.01]
        model.reading.filterState = .arming(label: "up", sinceNanoseconds: 0)
        model.headVersion = 1
        var renderer = ScreenRenderer()
        let canvas = renderer.render(model)
        let area = TrainingLayout.confidence
        #expect(!findText("90%", color: Palette.dimText, in: area, of: canvas).isEmpty)
        #expect(!findText("FILTER: ARMING UP", color: Palette.text, in: area, of: canvas).isEmpty)
        #expect(count(Palette.bar, in: area, of: canvas) > 100)
    }

    @Test("help lists the keys over either screen; a toast shows its text")
    func overlays() {
        var app = App()
        _ = app.keyDown(.f1)
        var model = ScreenModel(app: app)
        model.toast = "Training started"
        var renderer = ScreenRenderer()
        let canvas = renderer.render(model)
        #expect(!findText("KEYS", scale: 2, color: Palette.accent, in: canvas.bounds, of: canvas).isEmpty)
        #expect(!findText("BACKSPACE", color: Palette.accent, in: canvas.bounds, of: canvas).isEmpty)
        var plain = ScreenModel(app: App())
        plain.toast = "Training started"
        let toastCanvas = renderer.render(plain)
        #expect(!findText("Training started", color: Palette.text, in: toastCanvas.bounds, of: toastCanvas).isEmpty)
    }
}
