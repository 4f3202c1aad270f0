// PlayScreen: the maze screen at 640×360 — the 28×31 maze at 11 logical pixels per tile in the
// middle, score / high score / level / lives on the left, the camera, the current gesture with its
// confidence, the filter's state and the training status on the right. Walls are drawn once per
// colour into a cached layer (outlines inset into the wall tiles like the arcade's, corners joined);
// pellets, fruit, Pac-Man and the ghosts are drawn procedurally every frame from `GameState`.
import Capture
import Foundation
import Game
import Gestures
import Raster

/// Where the play screen puts things, in logical pixels.
public enum PlayLayout {
    /// Logical pixels per maze tile.
    public static let tileSize = 11
    /// Columns and rows of the classic maze.
    static let mazeColumns = 28
    static let mazeRows = 31
    /// The maze's rectangle.
    public static let maze = Rect(
        x: (LogicalScreen.width - mazeColumns * tileSize) / 2, y: (LogicalScreen.height - mazeRows * tileSize) / 2,
        width: mazeColumns * tileSize, height: mazeRows * tileSize)
    /// The score panel (left).
    public static let leftPanel = Rect(x: 6, y: 9, width: maze.x - 14, height: LogicalScreen.height - 18)
    /// The gesture panel (right).
    public static let rightPanel = Rect(
        x: maze.maxX + 8, y: 9, width: LogicalScreen.width - maze.maxX - 14, height: LogicalScreen.height - 18)
    /// The camera preview inside the right panel (the 224×224 sample at half size: crisp).
    public static let camera = Rect(
        x: rightPanel.x + (rightPanel.width - 112) / 2, y: rightPanel.y + 6, width: 112, height: 112)

    /// The screen point of a game position (sub-tile units, 8 per tile), as exact coordinates.
    public static func point(of position: Position) -> (x: Double, y: Double) {
        (
            Double(maze.x) + Double(position.x) * Double(tileSize) / Double(Maze.unitsPerTile),
            Double(maze.y) + Double(position.y) * Double(tileSize) / Double(Maze.unitsPerTile)
        )
    }

    /// The screen rectangle of a maze tile.
    public static func rect(of tile: TilePosition) -> Rect {
        Rect(x: maze.x + tile.column * tileSize, y: maze.y + tile.row * tileSize, width: tileSize, height: tileSize)
    }
}

/// Draws the play screen.
struct PlayScreen {
    private var wallLayers: [RGB: Canvas] = [:]

    /// Radius of Pac-Man and half the size of a ghost, in logical pixels.
    static let actorRadius = 7.0

    mutating func draw(_ model: ScreenModel, into canvas: inout Canvas) {
        let game = model.app.game
        canvas.fillArea(canvas.bounds, color: Palette.background)
        drawWalls(game, into: &canvas)
        drawPellets(game, frameNumber: model.frameNumber, into: &canvas)
        if let fruit = game.fruit { drawFruit(fruit.kind, at: PlayLayout.point(of: fruit.position), into: &canvas) }
        drawActors(game, frameNumber: model.frameNumber, into: &canvas)
        drawMazeMessages(game, frameNumber: model.frameNumber, into: &canvas)
        // Actors half inside a side tunnel must not show outside the maze.
        canvas.fillArea(
            Rect(x: 0, y: 0, width: PlayLayout.maze.x, height: LogicalScreen.height), color: Palette.background)
        canvas.fillArea(
            Rect(
                x: PlayLayout.maze.maxX, y: 0, width: LogicalScreen.width - PlayLayout.maze.maxX,
                height: LogicalScreen.height),
            color: Palette.background)
        drawScorePanel(model, into: &canvas)
        drawGesturePanel(model, into: &canvas)
    }

    // MARK: Maze

    private mutating func drawWalls(_ game: GameState, into canvas: inout Canvas) {
        // The maze flashes white while a cleared level waits for the next.
        let flashing = game.phase == .levelClear && (game.phaseTicks / 12) % 2 == 1
        let color = flashing ? Palette.eyeWhite : Palette.wall
        if wallLayers[color] == nil { wallLayers[color] = Self.wallLayer(game.maze, color: color) }
        canvas.blit(wallLayers[color]!, at: Point(x: PlayLayout.maze.x, y: PlayLayout.maze.y))
    }

    /// The walls of `maze` on black, maze-sized: each wall tile filled inside an outline drawn `inset`
    /// pixels into it on every side that faces open floor; inner corners joined by a small L.
    static func wallLayer(_ maze: Maze, color: RGB) -> Canvas {
        let size = PlayLayout.tileSize
        let inset = 3
        let thickness = 2
        var layer = Canvas(width: maze.width * size, height: maze.height * size, background: Palette.background)
        func isWall(_ column: Int, _ row: Int) -> Bool {
            // Outside the grid counts as wall, except beside a tunnel row (the tunnel runs off the edge).
            guard column >= 0, column < maze.width, row >= 0, row < maze.height else {
                guard row >= 0, row < maze.height else { return true }
                let edgeColumn = column < 0 ? 0 : maze.width - 1
                return maze.tile(at: TilePosition(column: edgeColumn, row: row)) == .wall
            }
            let tile = maze.tile(at: TilePosition(column: column, row: row))
            return tile == .wall || tile == .door
        }
        for row in 0..<maze.height {
            for column in 0..<maze.width {
                let x = column * size
                let y = row * size
                let tile = maze.tile(at: TilePosition(column: column, row: row))
                if tile == .door {
                    layer.fill(rect: Rect(x: x, y: y + size / 2 - 1, width: size, height: 2), color: Palette.door)
                    continue
                }
                guard tile == .wall else { continue }
                let openUp = !isWall(column, row - 1)
                let openDown = !isWall(column, row + 1)
                let openLeft = !isWall(column - 1, row)
                let openRight = !isWall(column + 1, row)
                // Interior fill, inside the outline.
                let left = openLeft ? inset + thickness : 0
                let top = openUp ? inset + thickness : 0
                let right = openRight ? size - inset - thickness : size
                let bottom = openDown ? size - inset - thickness : size
                layer.fill(
                    rect: Rect(x: x + left, y: y + top, width: right - left, height: bottom - top),
                    color: Palette.wallFill)
                // Straight outline segments, shortened where the neighbouring side is open too (outer corners).
                if openUp {
                    let from = openLeft ? inset : 0
                    let to = openRight ? size - inset : size
                    layer.fill(rect: Rect(x: x + from, y: y + inset, width: to - from, height: thickness), color: color)
                }
                if openDown {
                    let from = openLeft ? inset : 0
                    let to = openRight ? size - inset : size
                    layer.fill(
                        rect: Rect(x: x + from, y: y + size - inset - thickness, width: to - from, height: thickness),
                        color: color)
                }
                if openLeft {
                    let from = openUp ? inset : 0
                    let to = openDown ? size - inset : size
                    layer.fill(rect: Rect(x: x + inset, y: y + from, width: thickness, height: to - from), color: color)
                }
                if openRight {
                    let from = openUp ? inset : 0
                    let to = openDown ? size - inset : size
                    layer.fill(
                        rect: Rect(x: x + size - inset - thickness, y: y + from, width: thickness, height: to - from),
                        color: color)
                }
                // Inner corners: both sides are wall but the diagonal is open; clear the corner and join with an L.
                for (dx, dy) in [(-1, -1), (1, -1), (-1, 1), (1, 1)] {
                    guard isWall(column + dx, row), isWall(column, row + dy), !isWall(column + dx, row + dy) else {
                        continue
                    }
                    let cornerX = dx < 0 ? x : x + size - inset - thickness
                    let cornerY = dy < 0 ? y : y + size - inset - thickness
                    layer.fill(
                        rect: Rect(x: cornerX, y: cornerY, width: inset + thickness, height: inset + thickness),
                        color: Palette.background)
                    // The L: the part of the corner square that lies on the two outline lines.
                    let lineX = dx < 0 ? x + inset : x + size - inset - thickness
                    let lineY = dy < 0 ? y + inset : y + size - inset - thickness
                    let verticalY = dy < 0 ? y : lineY
                    layer.fill(
                        rect: Rect(x: lineX, y: verticalY, width: thickness, height: inset + thickness), color: color)
                    let horizontalX = dx < 0 ? x : lineX
                    layer.fill(
                        rect: Rect(x: horizontalX, y: lineY, width: inset + thickness, height: thickness), color: color)
                }
            }
        }
        return layer
    }

    private func drawPellets(_ game: GameState, frameNumber: Int, into canvas: inout Canvas) {
        let maze = game.maze
        // Power pellets blink while the game runs, as in the arcade.
        let powerVisible = game.phase != .playing || (frameNumber / 12) % 2 == 0
        for row in 0..<maze.height {
            for column in 0..<maze.width {
                let tile = maze.tiles[row * maze.width + column]
                let rect = PlayLayout.rect(of: TilePosition(column: column, row: row))
                switch tile {
                case .pellet:
                    canvas.fill(rect: Rect(x: rect.x + 4, y: rect.y + 4, width: 3, height: 3), color: Palette.pellet)
                case .powerPellet where powerVisible:
                    canvas.fillCircle(
                        centerX: Double(rect.x) + 5.5, centerY: Double(rect.y) + 5.5, radius: 5, color: Palette.pellet)
                default:
                    break
                }
            }
        }
    }

    private func drawFruit(_ fruit: Fruit, at point: (x: Double, y: Double), into canvas: inout Canvas) {
        let (body, leaf): (RGB, RGB) =
            switch fruit {
            case .cherries, .strawberry, .apple: (RGB(230, 20, 40), RGB(60, 200, 60))
            case .peach: (RGB(255, 160, 60), RGB(60, 200, 60))
            case .grapes: (RGB(120, 220, 60), RGB(200, 140, 60))
            case .galaxian: (RGB(255, 230, 0), RGB(40, 80, 255))
            case .bell: (RGB(255, 230, 0), RGB(120, 220, 255))
            case .key: (RGB(120, 220, 255), RGB(230, 230, 230))
            }
        canvas.fillCircle(centerX: point.x, centerY: point.y + 1, radius: 5, color: body)
        canvas.fill(rect: Rect(x: Int(point.x), y: Int(point.y) - 6, width: 2, height: 3), color: leaf)
        canvas.fill(rect: Rect(x: Int(point.x) + 2, y: Int(point.y) - 7, width: 3, height: 2), color: leaf)
    }

    // MARK: Actors

    private func drawActors(_ game: GameState, frameNumber: Int, into canvas: inout Canvas) {
        let dying = game.phase == .dying
        // After the freeze of a death the ghosts vanish and Pac-Man folds up.
        let deathAnimation = dying && game.phaseTicks >= GameTiming.deathFreezeTicks
        if !deathAnimation && game.phase != .levelClear {
            for ghost in game.ghosts {
                drawGhost(ghost, frameNumber: frameNumber, into: &canvas)
            }
        }
        if game.phase == .gameOver { return }
        let (x, y) = PlayLayout.point(of: game.pacman.position)
        if let popup = game.ghostScorePopup {
            let (popupX, popupY) = PlayLayout.point(of: popup.position)
            let text = "\(popup.points)"
            let width = PixelFont.measure(text: text).width
            canvas.draw(
                text: text, at: Point(x: Int(popupX) - width / 2, y: Int(popupY) - 4), color: Palette.ghost(.inky))
            return
        }
        if deathAnimation {
            let span = Double(GameTiming.dyingTicks - GameTiming.deathFreezeTicks)
            let progress = min(1, Double(game.phaseTicks - GameTiming.deathFreezeTicks) / (span * 0.8))
            if progress < 1 {
                Self.drawPacman(
                    into: &canvas, x: x, y: y, direction: .up, mouthHalfAngle: 0.05 + progress * Double.pi)
            }
            return
        }
        let halfAngles = [0.0, 0.38, 0.78, 0.38]
        let angle = game.phase == .ready ? 0 : halfAngles[game.pacman.mouthPhase]
        Self.drawPacman(into: &canvas, x: x, y: y, direction: game.pacman.direction, mouthHalfAngle: angle)
    }

    /// Pac-Man: a yellow disc with a wedge of half-angle `mouthHalfAngle` (radians) cut out towards `direction`.
    static func drawPacman(
        into canvas: inout Canvas, x: Double, y: Double, direction: Direction, mouthHalfAngle: Double
    ) {
        let (unitX, unitY) = (Double(direction.columnDelta), Double(direction.rowDelta))
        canvas.fillDisc(centerX: x, centerY: y, radius: actorRadius, color: Palette.pacman) { dx, dy in
            guard mouthHalfAngle > 0 else { return true }
            let along = dx * unitX + dy * unitY
            let across = abs(dx * unitY - dy * unitX)
            return atan2(across, along) > mouthHalfAngle
        }
    }

    private func drawGhost(_ ghost: Ghost, frameNumber: Int, into canvas: inout Canvas) {
        let (x, y) = PlayLayout.point(of: ghost.position)
        let left = Int((x - Self.actorRadius).rounded())
        let top = Int((y - Self.actorRadius).rounded())
        let size = Int(Self.actorRadius * 2)
        let eyesOnly = ghost.mode == .eaten || ghost.mode == .enteringHouse
        let frightened = ghost.mode == .frightened
        let body: RGB =
            frightened
            ? (ghost.isFlashingWhite ? Palette.frightenedFlash : Palette.frightened) : Palette.ghost(ghost.name)
        if !eyesOnly {
            // Dome, then the straight body, then feet that shuffle every 8 frames.
            canvas.fillDisc(
                centerX: Double(left) + Self.actorRadius, centerY: Double(top) + Self.actorRadius,
                radius: Self.actorRadius, color: body
            ) {
                _, dy in dy <= 0
            }
            canvas.fill(rect: Rect(x: left, y: top + size / 2, width: size, height: size / 2 - 2), color: body)
            let shift = (frameNumber / 8) % 2 == 0 ? 0 : 2
            for column in 0..<size where ((column + shift) / 2) % 2 == 0 {
                canvas.fill(rect: Rect(x: left + column, y: top + size - 2, width: 1, height: 2), color: body)
            }
        }
        if frightened {
            let face = ghost.isFlashingWhite ? RGB(230, 30, 30) : RGB(255, 200, 170)
            canvas.fill(rect: Rect(x: left + 4, y: top + 5, width: 2, height: 2), color: face)
            canvas.fill(rect: Rect(x: left + size - 6, y: top + 5, width: 2, height: 2), color: face)
            for column in stride(from: 2, to: size - 2, by: 1) {
                let wave = (column / 2) % 2 == 0 ? 0 : 1
                canvas.fill(rect: Rect(x: left + column, y: top + 9 + wave, width: 1, height: 1), color: face)
            }
            return
        }
        // Eyes: white ovals with pupils looking where the ghost goes.
        let lookX = ghost.direction.columnDelta
        let lookY = ghost.direction.rowDelta
        for eyeX in [left + 2, left + size - 6] {
            canvas.fill(rect: Rect(x: eyeX + lookX, y: top + 3 + lookY, width: 4, height: 5), color: Palette.eyeWhite)
            canvas.fill(
                rect: Rect(x: eyeX + 1 + lookX * 2, y: top + 5 + lookY * 2, width: 2, height: 2), color: Palette.pupil)
        }
    }

    private func drawMazeMessages(_ game: GameState, frameNumber: Int, into canvas: inout Canvas) {
        // READY! and GAME OVER sit in the row below the ghost house, as in the arcade.
        let messageRow = Rect(
            x: PlayLayout.maze.x, y: PlayLayout.maze.y + 17 * PlayLayout.tileSize + 1,
            width: PlayLayout.maze.width, height: PlayLayout.tileSize)
        switch game.phase {
        case .ready:
            canvas.draw(text: "READY!", centeredIn: messageRow, y: messageRow.y, color: Palette.accent)
        case .gameOver:
            canvas.draw(text: "GAME  OVER", centeredIn: messageRow, y: messageRow.y, color: Palette.alert)
            let hint = Rect(
                x: messageRow.x, y: messageRow.y + 6 * PlayLayout.tileSize, width: messageRow.width, height: 10)
            if (frameNumber / 30) % 2 == 0 {
                canvas.fill(
                    rect: Rect(x: hint.x + 60, y: hint.y - 3, width: hint.width - 120, height: 15),
                    color: Palette.background)
                canvas.draw(text: "ENTER: NEW GAME", centeredIn: hint, y: hint.y, color: Palette.text)
            }
        case .paused:
            let box = Rect(
                x: PlayLayout.maze.x + 54, y: PlayLayout.maze.y + 134, width: PlayLayout.maze.width - 108, height: 52)
            canvas.blend(rect: box, color: Palette.background, alpha: 0.8)
            canvas.strokeRect(box, color: Palette.accent)
            canvas.draw(text: "PAUSED", centeredIn: box, y: box.y + 9, color: Palette.accent, scale: 2)
            canvas.draw(text: "SPACE: CONTINUE", centeredIn: box, y: box.y + 33, color: Palette.text)
        default:
            break
        }
    }

    // MARK: Panels

    private func drawScorePanel(_ model: ScreenModel, into canvas: inout Canvas) {
        let game = model.app.game
        let panel = PlayLayout.leftPanel
        let x = panel.x + 4
        var y = panel.y + 4
        canvas.draw(text: "SCORE", at: Point(x: x, y: y), color: Palette.dimText)
        canvas.draw(text: "\(game.score)", at: Point(x: x, y: y + 12), color: Palette.text, scale: 2)
        y += 40
        canvas.draw(text: "HIGH SCORE", at: Point(x: x, y: y), color: Palette.dimText)
        canvas.draw(
            text: "\(max(game.highScore, game.score))", at: Point(x: x, y: y + 12), color: Palette.text, scale: 2)
        y += 40
        canvas.draw(text: "LEVEL", at: Point(x: x, y: y), color: Palette.dimText)
        canvas.draw(text: "\(game.level)", at: Point(x: x, y: y + 12), color: Palette.text, scale: 2)
        drawFruit(game.levelSpecification.fruit, at: (Double(x + 40), Double(y + 20)), into: &canvas)
        y += 40
        canvas.draw(text: "LIVES", at: Point(x: x, y: y), color: Palette.dimText)
        for life in 0..<min(game.lives, 6) {
            Self.drawPacman(
                into: &canvas, x: Double(x + 7 + life * 18), y: Double(y + 20), direction: .left, mouthHalfAngle: 0.6)
        }
        // Keys, at the bottom.
        let keys = [
            ("ARROWS/WASD", "STEER"), ("SPACE", "PAUSE"), ("R", "RESTART"), ("T", "RETRAIN"), ("ESC", "TRAINING"),
            ("H", "HELP"),
        ]
        var keyY = panel.maxY - keys.count * 12 - 2
        for (key, action) in keys {
            canvas.draw(text: key, at: Point(x: x, y: keyY), color: Palette.accent)
            canvas.draw(text: action, rightAlignedAt: panel.maxX - 4, y: keyY, color: Palette.dimText)
            keyY += 12
        }
    }

    private func drawGesturePanel(_ model: ScreenModel, into canvas: inout Canvas) {
        let panel = PlayLayout.rightPanel
        let camera = PlayLayout.camera
        drawCamera(model, in: camera, into: &canvas)
        let x = panel.x + 4
        var y = camera.maxY + 8
        canvas.draw(text: "GESTURE", at: Point(x: x, y: y), color: Palette.dimText)
        y += 12
        let reading = model.reading
        if let top = reading.top {
            let held = reading.heldLabel != nil
            let color = held ? Palette.good : (top.label == LabelSet.idle ? Palette.dimText : Palette.text)
            canvas.draw(text: top.label.uppercased(), at: Point(x: x, y: y), color: color, scale: 2)
            canvas.draw(
                text: ScreenText.percent(top.probability), rightAlignedAt: panel.maxX - 4, y: y + 5, color: color)
            y += 24
            ConfidenceBars.draw(
                labels: reading.labels, probabilities: reading.probabilities, held: reading.heldLabel,
                in: Rect(x: x, y: y, width: panel.width - 8, height: 11 * reading.labels.count), rowHeight: 11,
                into: &canvas)
            y += 11 * reading.labels.count + 4
            canvas.draw(text: FilterText.describe(reading.filterState), at: Point(x: x, y: y), color: Palette.dimText)
        } else {
            let reason = GestureText.unavailableReason(model)
            var lineY = y
            for line in reason {
                canvas.draw(text: line, at: Point(x: x, y: lineY), color: Palette.dimText)
                lineY += 11
            }
        }
        // Steering source and training status, at the bottom.
        let bottom = panel.maxY - 26
        let steering: String =
            switch model.app.lastSteering {
            case .none: "STEER: -"
            case .keyboard: "STEER: KEYBOARD"
            case .gesture: "STEER: GESTURE"
            }
        canvas.draw(text: steering, at: Point(x: x, y: bottom), color: Palette.dimText)
        canvas.draw(
            text: GestureText.trainingLine(model), at: Point(x: x, y: bottom + 13),
            color: GestureText.trainingColor(model))
    }

    private func drawCamera(_ model: ScreenModel, in rect: Rect, into canvas: inout Canvas) {
        if let image = model.cameraImage, model.camera.isRunning {
            canvas.drawImage(image, in: rect)
            canvas.strokeRect(rect.insetBy(-1), color: Palette.panelBorder)
        } else {
            canvas.panel(rect)
            let lines = CameraText.lines(for: model.camera, compact: true)
            var y = rect.y + (rect.height - lines.count * 12) / 2
            for (index, line) in lines.enumerated() {
                canvas.draw(
                    text: line, centeredIn: rect, y: y,
                    color: index == 0 ? CameraText.titleColor(for: model.camera) : Palette.text)
                y += 12
            }
        }
    }
}
