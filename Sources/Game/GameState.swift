// GameState: the whole game as one value and its fixed 60 Hz `tick(input:)`. Owns phases (ready → playing →
// dying / levelClear → …), Pac-Man's buffered steering, ghost movement and house logic, eating, scoring, lives
// and levels. Invariants: `pelletsRemaining` equals the edible tiles left in `maze`; positions stay inside the
// grid (tunnels wrap); every timer is a tick counter advanced only here; `events` describe the last tick only.
// Design notes: Game.swift. Numbers: LevelSpecification.swift. Ghost brains: GhostTargeting.swift.

// MARK: - Public vocabulary for renderers and sound

/// The top-level state of a game.
public enum GamePhase: Sendable, Hashable {
    /// "READY!": everyone stands at the start; a buffered direction is still taken.
    case ready
    /// The game runs.
    case playing
    /// Pac-Man was caught: a freeze, then the death animation (see `GameTiming.dyingTicks`).
    case dying
    /// All pellets eaten: the maze flashes before the next, faster level.
    case levelClear
    /// No lives left; `GameInput.startPressed` starts a new game.
    case gameOver
    /// Paused by `GameInput.pausePressed`; the same press resumes.
    case paused
}

/// What happened during the last tick (for sounds and effects); empty when nothing did.
public struct GameEvents: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Pac-Man ate a pellet.
    public static let pelletEaten = GameEvents(rawValue: 1 << 0)
    /// Pac-Man ate a power pellet; the ghosts are frightened.
    public static let powerPelletEaten = GameEvents(rawValue: 1 << 1)
    /// Pac-Man ate a frightened ghost; the points are in `GameState.lastGhostPoints`.
    public static let ghostEaten = GameEvents(rawValue: 1 << 2)
    /// A ghost caught Pac-Man.
    public static let pacmanDied = GameEvents(rawValue: 1 << 3)
    /// The last pellet was eaten.
    public static let levelCleared = GameEvents(rawValue: 1 << 4)
    /// The score passed `Scoring.extraLifeScore`.
    public static let extraLife = GameEvents(rawValue: 1 << 5)
    /// Pac-Man ate the bonus fruit; the points are in `GameState.lastFruitPoints`.
    public static let fruitEaten = GameEvents(rawValue: 1 << 6)
    /// The death sequence of the last life ended.
    public static let gameOver = GameEvents(rawValue: 1 << 7)
}

/// One event with its payload (a convenience list built from `GameState.events`).
public enum GameEvent: Sendable, Hashable {
    case pelletEaten
    case powerPelletEaten
    case ghostEaten(points: Int)
    case pacmanDied
    case levelCleared
    case extraLife
    case fruitEaten(points: Int)
    case gameOver
}

/// What a ghost is doing, as a renderer draws it.
public enum GhostMode: Sendable, Hashable {
    /// Waiting in the house, bobbing.
    case inHouse
    /// On the way out through the door.
    case leavingHouse
    /// Heading for its corner.
    case scatter
    /// Hunting Pac-Man.
    case chase
    /// Blue, slow, random, edible (see `Ghost.isFlashingWhite` for the end of the period).
    case frightened
    /// Eaten: eyes running back to the house.
    case eaten
    /// Eyes going down into the house to revive.
    case enteringHouse
}

/// Pac-Man as the renderer sees him.
public struct Pacman: Sendable, Hashable {
    /// Centre, in sub-tile units.
    public internal(set) var position: Position
    /// Current heading (also the facing when stopped).
    public internal(set) var direction: Direction
    /// The wished direction, taken at the next tile centre where it is open.
    public internal(set) var bufferedDirection: Direction?
    /// Whether he moved during the last tick (the mouth stops when he does not).
    public internal(set) var isMoving: Bool
    /// Units moved since the start of the life (drives the mouth).
    var distanceMoved: Int
    /// Fixed-point speed accumulator (see `Speed`).
    var speedAccumulator: Int
    /// Ticks he still stands after eating.
    var pauseTicks: Int

    init(position: Position, direction: Direction) {
        self.position = position
        self.direction = direction
        bufferedDirection = nil
        isMoving = false
        distanceMoved = 0
        speedAccumulator = 0
        pauseTicks = 0
    }

    /// The tile he is on.
    public var tile: TilePosition { position.tile }

    /// Mouth animation frame: 0 closed, 1 half open, 2 open, 3 half open (advances every 2 units moved).
    public var mouthPhase: Int { (distanceMoved / 2) % 4 }
}

/// What a ghost does internally; `GhostMode` is the renderer's view of it.
enum GhostActivity: Sendable, Hashable {
    case inHouse, leavingHouse, roaming, eyes, enteringHouse
}

/// One ghost as the renderer sees it.
public struct Ghost: Sendable, Hashable {
    /// Which ghost.
    public let name: GhostName
    /// Centre, in sub-tile units.
    public internal(set) var position: Position
    /// Current heading (eyes look this way).
    public internal(set) var direction: Direction
    /// What it is doing (refreshed at the end of every tick).
    public internal(set) var mode: GhostMode
    /// Frightened and in the white half of a flash near the end of the power period.
    public internal(set) var isFlashingWhite: Bool
    /// The tile it aimed for at its last decision (handy for debug overlays).
    public internal(set) var target: TilePosition
    var activity: GhostActivity
    var isFrightened: Bool
    /// Start position; home in the house for ghosts that start inside.
    let homePosition: Position
    /// Where the ghost revives after being eaten: its home if inside the house, else the house centre.
    let revivePosition: Position
    /// Pellets counted while waiting in the house (personal counter, reset per level).
    var houseDotCounter: Int
    var speedAccumulator: Int

    /// The tile it is on.
    public var tile: TilePosition { position.tile }
}

/// A bonus fruit waiting on the board.
public struct FruitOnBoard: Sendable, Hashable {
    /// Which fruit (its points are `kind.points`).
    public let kind: Fruit
    /// Where it is drawn and eaten.
    public let position: Position
    /// Ticks until it disappears.
    public internal(set) var ticksLeft: Int
}

/// The points shown where a ghost was just eaten, while the game freezes.
public struct GhostScorePopup: Sendable, Hashable {
    /// 200, 400, 800 or 1600.
    public let points: Int
    /// Where the ghost was eaten.
    public let position: Position
    /// Ticks of freeze left.
    public internal(set) var ticksLeft: Int
}

// MARK: - Game state

/// The whole game: maze, actors, score, timers, random generator. Advance it with `tick(input:)` at 60 Hz.
public struct GameState: Sendable, Hashable {
    // Renderer-facing state.

    /// The maze with the pellets still on it.
    public internal(set) var maze: Maze
    /// Pac-Man.
    public internal(set) var pacman: Pacman
    /// The ghosts present in the layout, in `GhostName` order.
    public internal(set) var ghosts: [Ghost]
    /// Points this game.
    public internal(set) var score: Int
    /// Best score seen (starts at the value given to `init`).
    public internal(set) var highScore: Int
    /// Lives left, including the one being played; 0 after the last death.
    public internal(set) var lives: Int
    /// Level number, 1-based.
    public internal(set) var level: Int
    /// Top-level phase.
    public internal(set) var phase: GamePhase
    /// Ticks spent in the current phase (drives ready text, death animation, maze flashing).
    public internal(set) var phaseTicks: Int
    /// Ticks since this state was created (pauses included).
    public internal(set) var tickCount: Int
    /// What happened during the last tick.
    public internal(set) var events: GameEvents
    /// Points of the ghost eaten most recently (valid with `.ghostEaten`).
    public internal(set) var lastGhostPoints: Int
    /// Points of the fruit eaten most recently (valid with `.fruitEaten`).
    public internal(set) var lastFruitPoints: Int
    /// The bonus fruit on the board, if any.
    public internal(set) var fruit: FruitOnBoard?
    /// The eaten-ghost points on display; the game is frozen while this is set.
    public internal(set) var ghostScorePopup: GhostScorePopup?
    /// Pellets and power pellets left in this level.
    public internal(set) var pelletsRemaining: Int
    /// Ticks of the current power period left (0 when no ghost is frightened).
    public internal(set) var frightenedTicksLeft: Int
    /// The mode the schedule currently gives roaming, unfrightened ghosts.
    public internal(set) var scheduledMode: ScheduledGhostMode
    /// This level's numbers.
    public internal(set) var levelSpecification: LevelSpecification

    // Bookkeeping.

    /// The full layout, restored at each new level.
    let originalMaze: Maze
    /// `maze.house?.exit` and `.center`, copied out as plain values so the tick never copies the house.
    let houseExit: Position?
    let houseCenter: Position?
    /// The seeded generator (frightened ghosts' turns).
    var random: SplitMix64
    /// Ticks of unfrightened play in this life (drives the scatter/chase schedule).
    var scheduleTicks: Int
    /// Length of the current ready phase.
    var readyDuration: Int
    /// Phase to return to when unpausing.
    var phaseBeforePause: GamePhase
    /// Pellets eaten in this level (fruit appears at `Scoring.fruitPelletCounts`).
    var pelletsEatenThisLevel: Int
    /// Ghosts eaten in the current power period (doubles the points).
    var ghostsEatenThisPowerPeriod: Int
    /// Ticks since Pac-Man last ate (idle release from the house).
    var ticksSinceLastPellet: Int
    /// After a death, one shared pellet counter releases the ghosts (nil: personal counters in use).
    var globalHouseCounter: Int?
    /// Whether the extra life was given this game.
    var extraLifeAwarded: Bool

    /// Global counter values that release each ghost after a death (indexed by `GhostName.rawValue`).
    static let globalHouseCounterLimits = [0, 7, 17, 32]

    /// Starts a new game on `maze` in the ready phase; `seed` fixes every random choice.
    public init(maze: Maze = .classic, seed: UInt64, highScore: Int = 0) {
        self.maze = maze
        originalMaze = maze
        houseExit = maze.house?.exit
        houseCenter = maze.house?.center
        pacman = Pacman(position: maze.pacmanStart, direction: .left)
        ghosts = GhostName.allCases.compactMap { name in
            maze.ghostStarts[name.rawValue].map { start in
                Ghost(
                    name: name, position: start, direction: .left, mode: .scatter, isFlashingWhite: false,
                    target: start.tile, activity: .roaming, isFrightened: false, homePosition: start,
                    revivePosition: maze.isInHouse(start.tile) ? start : (maze.house?.center ?? start),
                    houseDotCounter: 0, speedAccumulator: 0)
            }
        }
        score = 0
        self.highScore = highScore
        lives = Scoring.startingLives
        level = 1
        phase = .ready
        phaseTicks = 0
        tickCount = 0
        events = []
        lastGhostPoints = 0
        lastFruitPoints = 0
        fruit = nil
        ghostScorePopup = nil
        pelletsRemaining = maze.edibleCount
        frightenedTicksLeft = 0
        scheduledMode = .scatter
        levelSpecification = .forLevel(1)
        random = SplitMix64(seed: seed)
        scheduleTicks = 0
        readyDuration = GameTiming.readyTicksNewGame
        phaseBeforePause = .ready
        pelletsEatenThisLevel = 0
        ghostsEatenThisPowerPeriod = 0
        ticksSinceLastPellet = 0
        globalHouseCounter = nil
        extraLifeAwarded = false
        startNewGame()
    }

    // MARK: - Tick

    /// Advances the game by one 60 Hz tick with this tick's input; `events` then tells what happened.
    public mutating func tick(input: GameInput) {
        events = []
        tickCount += 1
        if phase == .paused {
            if input.pausePressed { phase = phaseBeforePause }
            return
        }
        if input.pausePressed && phase != .gameOver {
            phaseBeforePause = phase
            phase = .paused
            return
        }
        if let direction = input.direction, phase == .ready || phase == .playing {
            pacman.bufferedDirection = direction
        }
        phaseTicks += 1
        switch phase {
        case .ready:
            if phaseTicks >= readyDuration { enter(.playing) }
        case .playing:
            updatePlaying()
        case .dying:
            if phaseTicks >= GameTiming.dyingTicks {
                if lives == 0 {
                    events.insert(.gameOver)
                    enter(.gameOver)
                } else {
                    resetActors()
                    readyDuration = GameTiming.readyTicks
                    enter(.ready)
                }
            }
        case .levelClear:
            if phaseTicks >= GameTiming.levelClearTicks {
                startLevel(level + 1)
                readyDuration = GameTiming.readyTicks
            }
        case .gameOver:
            if input.startPressed { startNewGame() }
        case .paused:
            break
        }
        refreshGhostModes()
    }

    /// The events of the last tick as a list with payloads (allocates; `events` does not).
    public var eventList: [GameEvent] {
        var list: [GameEvent] = []
        if events.contains(.pelletEaten) { list.append(.pelletEaten) }
        if events.contains(.powerPelletEaten) { list.append(.powerPelletEaten) }
        if events.contains(.ghostEaten) { list.append(.ghostEaten(points: lastGhostPoints)) }
        if events.contains(.fruitEaten) { list.append(.fruitEaten(points: lastFruitPoints)) }
        if events.contains(.extraLife) { list.append(.extraLife) }
        if events.contains(.pacmanDied) { list.append(.pacmanDied) }
        if events.contains(.levelCleared) { list.append(.levelCleared) }
        if events.contains(.gameOver) { list.append(.gameOver) }
        return list
    }

    /// Whether the power period is in its final, flashing part.
    public var isFrightenedEnding: Bool {
        frightenedTicksLeft > 0 && frightenedTicksLeft <= levelSpecification.frightenedFlashTicks
    }

    // MARK: - Phases and resets

    private mutating func enter(_ newPhase: GamePhase) {
        phase = newPhase
        phaseTicks = 0
    }

    private mutating func startNewGame() {
        score = 0
        lives = Scoring.startingLives
        extraLifeAwarded = false
        startLevel(1)
        readyDuration = GameTiming.readyTicksNewGame
    }

    /// Restores the pellets, sets the level's numbers, resets the house counters and the actors.
    mutating func startLevel(_ newLevel: Int) {
        level = newLevel
        levelSpecification = .forLevel(newLevel)
        maze = originalMaze
        pelletsRemaining = maze.edibleCount
        pelletsEatenThisLevel = 0
        globalHouseCounter = nil
        for index in ghosts.indices { ghosts[index].houseDotCounter = 0 }
        resetActors()
        enter(.ready)
    }

    /// Puts Pac-Man and the ghosts at their starts and clears the per-life timers (pellets stay).
    mutating func resetActors() {
        pacman = Pacman(position: maze.pacmanStart, direction: .left)
        for index in ghosts.indices {
            let home = ghosts[index].homePosition
            let startsInHouse = maze.isInHouse(home.tile)
            ghosts[index].position = home
            ghosts[index].activity = startsInHouse ? .inHouse : .roaming
            ghosts[index].direction = startsInHouse ? (ghosts[index].name == .pinky ? .down : .up) : .left
            ghosts[index].isFrightened = false
            ghosts[index].speedAccumulator = 0
            ghosts[index].target = home.tile
        }
        frightenedTicksLeft = 0
        scheduleTicks = 0
        scheduledMode = .scatter
        ghostsEatenThisPowerPeriod = 0
        ticksSinceLastPellet = 0
        fruit = nil
        ghostScorePopup = nil
        refreshGhostModes()
    }

    // MARK: - Playing

    private mutating func updatePlaying() {
        // An eaten ghost's points are on show: everything waits.
        if var popup = ghostScorePopup {
            popup.ticksLeft -= 1
            ghostScorePopup = popup.ticksLeft > 0 ? popup : nil
            return
        }
        updateTimers()
        movePacman()
        if pelletsRemaining == 0 {
            events.insert(.levelCleared)
            enter(.levelClear)
            return
        }
        if resolveCollisions() { return }
        moveGhosts()
        resolveCollisions()
    }

    /// Power period, scatter/chase schedule, house release, fruit lifetime.
    private mutating func updateTimers() {
        if frightenedTicksLeft > 0 {
            frightenedTicksLeft -= 1
            if frightenedTicksLeft == 0 { endFrightenedPeriod() }
        } else {
            scheduleTicks += 1
            let mode = levelSpecification.scheduledMode(afterTicks: scheduleTicks)
            if mode != scheduledMode {
                scheduledMode = mode
                reverseRoamingGhosts()
            }
        }
        ticksSinceLastPellet += 1
        if ticksSinceLastPellet >= levelSpecification.houseIdleReleaseTicks {
            ticksSinceLastPellet = 0
            if let index = Self.firstGhostInHouse(ghosts) { ghosts[index].activity = .leavingHouse }
        }
        releaseGhostByCounter()
        if var shownFruit = fruit {
            shownFruit.ticksLeft -= 1
            fruit = shownFruit.ticksLeft > 0 ? shownFruit : nil
        }
    }

    private mutating func addScore(_ points: Int) {
        score += points
        if !extraLifeAwarded && score >= Scoring.extraLifeScore {
            extraLifeAwarded = true
            lives += 1
            events.insert(.extraLife)
        }
        highScore = max(highScore, score)
    }

    // MARK: - Pac-Man

    private mutating func movePacman() {
        if pacman.pauseTicks > 0 {
            pacman.pauseTicks -= 1
            pacman.isMoving = false
            return
        }
        let percent =
            frightenedTicksLeft > 0
            ? levelSpecification.pacmanFrightenedSpeedPercent : levelSpecification.pacmanSpeedPercent
        pacman.speedAccumulator += percent * Speed.accumulatorPerPercent
        var moved = false
        while pacman.speedAccumulator >= Speed.accumulatorPerStep {
            pacman.speedAccumulator -= Speed.accumulatorPerStep
            if stepPacman() { moved = true }
            if eatAtPacman() { break }
        }
        pacman.isMoving = moved
    }

    /// One unit of Pac-Man movement; returns false when a wall stops him.
    ///
    /// Reversal is taken anywhere; other buffered turns only at a tile centre and only into an open tile,
    /// otherwise he keeps straight on (the wish stays buffered for the next junction).
    private mutating func stepPacman() -> Bool {
        if let wish = pacman.bufferedDirection, wish == pacman.direction.reversed {
            pacman.direction = wish
        }
        if pacman.position.isAtTileCenter {
            let tile = pacman.position.tile
            if let wish = pacman.bufferedDirection, wish != pacman.direction,
                maze.tile(at: tile.moved(wish)).isWalkable
            {
                pacman.direction = wish
            }
            if !maze.tile(at: tile.moved(pacman.direction)).isWalkable { return false }
        }
        pacman.position = Self.advanced(
            pacman.position, pacman.direction, mazeWidth: maze.width, mazeHeight: maze.height)
        pacman.distanceMoved += 1
        return true
    }

    /// Eats what lies on Pac-Man's tile; returns true when he ate a pellet (he then pauses).
    private mutating func eatAtPacman() -> Bool {
        let tile = pacman.position.tile
        switch maze.tile(at: tile) {
        case .pellet:
            maze.setTile(.empty, at: tile)
            addScore(Scoring.pellet)
            events.insert(.pelletEaten)
            pacman.pauseTicks = GameTiming.pelletPauseTicks
            countEatenPellet()
            return true
        case .powerPellet:
            maze.setTile(.empty, at: tile)
            addScore(Scoring.powerPellet)
            events.insert(.powerPelletEaten)
            pacman.pauseTicks = GameTiming.powerPelletPauseTicks
            startFrightenedPeriod()
            countEatenPellet()
            return true
        default:
            break
        }
        if let shownFruit = fruit,
            abs(pacman.position.x - shownFruit.position.x) < Maze.unitsPerTile / 2,
            abs(pacman.position.y - shownFruit.position.y) < Maze.unitsPerTile / 2
        {
            lastFruitPoints = shownFruit.kind.points
            addScore(shownFruit.kind.points)
            events.insert(.fruitEaten)
            fruit = nil
        }
        return false
    }

    private mutating func countEatenPellet() {
        pelletsRemaining -= 1
        pelletsEatenThisLevel += 1
        ticksSinceLastPellet = 0
        if let counter = globalHouseCounter {
            globalHouseCounter = counter + 1
        } else if let index = Self.firstGhostInHouse(ghosts) {
            ghosts[index].houseDotCounter += 1
        }
        if let position = maze.fruitPosition, Scoring.fruitPelletCounts.contains(pelletsEatenThisLevel) {
            fruit = FruitOnBoard(kind: levelSpecification.fruit, position: position, ticksLeft: GameTiming.fruitTicks)
        }
    }

    // MARK: - Frightened mode, collisions

    private mutating func startFrightenedPeriod() {
        ghostsEatenThisPowerPeriod = 0
        frightenedTicksLeft = levelSpecification.frightenedTicks
        for index in ghosts.indices {
            switch ghosts[index].activity {
            case .roaming:
                ghosts[index].direction = ghosts[index].direction.reversed
                ghosts[index].isFrightened = frightenedTicksLeft > 0
            case .inHouse, .leavingHouse:
                ghosts[index].isFrightened = frightenedTicksLeft > 0
            case .eyes, .enteringHouse:
                break
            }
        }
    }

    private mutating func endFrightenedPeriod() {
        ghostsEatenThisPowerPeriod = 0
        for index in ghosts.indices { ghosts[index].isFrightened = false }
    }

    private mutating func reverseRoamingGhosts() {
        for index in ghosts.indices where ghosts[index].activity == .roaming {
            ghosts[index].direction = ghosts[index].direction.reversed
        }
    }

    /// Pac-Man meets a roaming ghost on the same tile: he eats it if frightened, else he dies.
    /// Returns true when the tick's play must stop (freeze or death).
    @discardableResult
    private mutating func resolveCollisions() -> Bool {
        let pacmanTile = pacman.position.tile
        for index in ghosts.indices where ghosts[index].activity == .roaming && ghosts[index].tile == pacmanTile {
            if ghosts[index].isFrightened {
                ghostsEatenThisPowerPeriod += 1
                let points = Scoring.firstGhost << (min(ghostsEatenThisPowerPeriod, 4) - 1)
                lastGhostPoints = points
                addScore(points)
                events.insert(.ghostEaten)
                ghosts[index].activity = .eyes
                ghosts[index].isFrightened = false
                ghostScorePopup = GhostScorePopup(
                    points: points, position: ghosts[index].position, ticksLeft: GameTiming.ghostEatenFreezeTicks)
            } else {
                lives -= 1
                events.insert(.pacmanDied)
                globalHouseCounter = 0
                enter(.dying)
            }
            return true
        }
        return false
    }

    // MARK: - Ghosts

    // Helpers called from the tick are static and take plain values: a non-mutating method called on `self`
    // inside a mutating one can make the optimiser copy the whole state (measured: most of a tick's cost).

    private static func firstGhostInHouse(_ ghosts: [Ghost]) -> Int? {
        for index in ghosts.indices where ghosts[index].activity == .inHouse { return index }
        return nil
    }

    /// Releases the first waiting ghost once its pellet counter (or, after a death, the shared one) is reached.
    private mutating func releaseGhostByCounter() {
        guard let index = Self.firstGhostInHouse(ghosts) else { return }
        let name = ghosts[index].name
        if let counter = globalHouseCounter {
            if counter >= Self.globalHouseCounterLimits[name.rawValue] {
                ghosts[index].activity = .leavingHouse
                if name == .clyde { globalHouseCounter = nil }
            }
        } else if ghosts[index].houseDotCounter >= levelSpecification.houseDotLimits[name.rawValue] {
            ghosts[index].activity = .leavingHouse
        }
    }

    private mutating func moveGhosts() {
        for index in ghosts.indices {
            let percent: Int
            switch ghosts[index].activity {
            case .eyes, .enteringHouse:
                percent = Speed.eyesPercent
            case .inHouse, .leavingHouse:
                percent = Speed.housePercent
            case .roaming:
                if maze.tile(at: ghosts[index].tile) == .tunnel {
                    percent = levelSpecification.ghostTunnelSpeedPercent
                } else if ghosts[index].isFrightened {
                    percent = levelSpecification.ghostFrightenedSpeedPercent
                } else {
                    percent = levelSpecification.ghostSpeedPercent
                }
            }
            ghosts[index].speedAccumulator += percent * Speed.accumulatorPerPercent
            while ghosts[index].speedAccumulator >= Speed.accumulatorPerStep {
                ghosts[index].speedAccumulator -= Speed.accumulatorPerStep
                stepGhost(index)
            }
        }
    }

    /// The tile a roaming, unfrightened ghost aims for in `mode`.
    static func currentTarget(
        of ghost: Ghost, mode: ScheduledGhostMode, pacman: Pacman, blinkyTile: TilePosition, mazeWidth: Int,
        mazeHeight: Int
    ) -> TilePosition {
        let corner = GhostTargeting.scatterTarget(of: ghost.name, mazeWidth: mazeWidth, mazeHeight: mazeHeight)
        if mode == .scatter { return corner }
        return GhostTargeting.chaseTarget(
            of: ghost.name, ghostTile: ghost.tile, pacmanTile: pacman.tile, pacmanDirection: pacman.direction,
            blinkyTile: blinkyTile, scatterCorner: corner)
    }

    /// One unit of ghost movement.
    private mutating func stepGhost(_ index: Int) {
        var ghost = ghosts[index]
        defer { ghosts[index] = ghost }
        switch ghost.activity {
        case .inHouse:
            // Bob half a tile up and down around the home spot.
            let bob = Maze.unitsPerTile / 2
            if ghost.position.y <= ghost.homePosition.y - bob {
                ghost.direction = .down
            } else if ghost.position.y >= ghost.homePosition.y + bob || ghost.direction.isHorizontal {
                ghost.direction = .up
            }
            ghost.position.y += ghost.direction.rowDelta
        case .leavingHouse:
            // Line up on the house's middle row, slide to below the door, rise through it.
            guard let exit = houseExit, let center = houseCenter else {
                ghost.activity = .roaming
                return
            }
            if ghost.position.x != exit.x {
                if ghost.position.y != center.y {
                    ghost.direction = ghost.position.y > center.y ? .up : .down
                } else {
                    ghost.direction = ghost.position.x < exit.x ? .right : .left
                }
                ghost.position = Position(
                    x: ghost.position.x + ghost.direction.columnDelta, y: ghost.position.y + ghost.direction.rowDelta)
            } else if ghost.position.y > exit.y {
                ghost.direction = .up
                ghost.position.y -= 1
            } else {
                ghost.activity = .roaming
                ghost.direction = .left
            }
        case .roaming, .eyes:
            if ghost.position.isAtTileCenter {
                let tile = ghost.tile
                if ghost.activity == .roaming && ghost.isFrightened {
                    ghost.direction = GhostTargeting.randomDirection(
                        at: tile, heading: ghost.direction, maze: maze, generator: &random)
                } else {
                    if ghost.activity == .eyes {
                        ghost.target = (houseExit ?? ghost.homePosition).tile
                    } else {
                        var blinkyTile = pacman.tile
                        for other in ghosts where other.name == .blinky { blinkyTile = other.tile }
                        ghost.target = Self.currentTarget(
                            of: ghost, mode: scheduledMode, pacman: pacman, blinkyTile: blinkyTile,
                            mazeWidth: maze.width, mazeHeight: maze.height)
                    }
                    ghost.direction = GhostTargeting.greedyDirection(
                        at: tile, heading: ghost.direction, target: ghost.target, maze: maze)
                }
            }
            ghost.position = Self.advanced(
                ghost.position, ghost.direction, mazeWidth: maze.width, mazeHeight: maze.height)
            if ghost.activity == .eyes {
                let goal = houseExit ?? ghost.homePosition
                if ghost.position.y == goal.y && abs(ghost.position.x - goal.x) <= Maze.unitsPerTile / 2 {
                    ghost.activity = houseExit == nil ? .roaming : .enteringHouse
                }
            }
        case .enteringHouse:
            // Slide to the door, sink to the middle row, slide home, revive and leave again.
            guard let exit = houseExit, let center = houseCenter else {
                ghost.activity = .roaming
                return
            }
            let home = ghost.revivePosition
            if ghost.position.y == exit.y && ghost.position.x != exit.x {
                ghost.direction = ghost.position.x < exit.x ? .right : .left
            } else if ghost.position.y < center.y {
                ghost.direction = .down
            } else if ghost.position.x != home.x {
                ghost.direction = ghost.position.x < home.x ? .right : .left
            } else {
                ghost.activity = .leavingHouse
                ghost.isFrightened = false
                return
            }
            ghost.position = Position(
                x: ghost.position.x + ghost.direction.columnDelta, y: ghost.position.y + ghost.direction.rowDelta)
        }
    }

    /// The renderer-facing mode and flash state of every ghost.
    private mutating func refreshGhostModes() {
        let flashHalfPeriod = GameTiming.frightenedFlashPeriodTicks / 2
        let isEnding = frightenedTicksLeft > 0 && frightenedTicksLeft <= levelSpecification.frightenedFlashTicks
        let flashingWhite = isEnding && (frightenedTicksLeft / flashHalfPeriod) % 2 == 1
        for index in ghosts.indices {
            let ghost = ghosts[index]
            let mode: GhostMode =
                switch ghost.activity {
                case .eyes: .eaten
                case .enteringHouse: .enteringHouse
                case _ where ghost.isFrightened: .frightened
                case .inHouse: .inHouse
                case .leavingHouse: .leavingHouse
                case .roaming: scheduledMode == .scatter ? .scatter : .chase
                }
            ghosts[index].mode = mode
            ghosts[index].isFlashingWhite = ghost.isFrightened && flashingWhite
        }
    }

    // MARK: - Geometry

    /// `position` moved one unit in `direction`, wrapped around the maze edges (tunnels).
    private static func advanced(
        _ position: Position, _ direction: Direction, mazeWidth: Int, mazeHeight: Int
    ) -> Position {
        Position(
            x: (position.x + direction.columnDelta).floorModulo(mazeWidth * Maze.unitsPerTile),
            y: (position.y + direction.rowDelta).floorModulo(mazeHeight * Maze.unitsPerTile))
    }
}
