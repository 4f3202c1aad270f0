// Game: the pure Pac-Man rules. No SDL, no I/O, no clocks: a front end calls `GameState.tick(input:)` 60 times
// a second and draws what the state exposes. This file holds the design notes and the small shared vocabulary
// (directions, positions, input); the rules live in GameState.swift, the maze in Maze.swift, the ghost brains in
// GhostTargeting.swift, the per-level numbers in LevelSpecification.swift.
//
// Design (after floooh/pacman.c and the "Pac-Man Dossier" it follows; habits taken, no code):
//
// - One value type, `GameState`, holds everything: the maze with its remaining pellets, Pac-Man, the four
//   ghosts, score, lives, level, phase, timers and the random generator. Copying it snapshots the game; two
//   copies fed the same inputs stay identical forever. Nothing is global, nothing is hidden in a class.
//
// - Time is a fixed 60 Hz tick counted upward, decoupled from rendering. Every duration in the rules is a
//   number of ticks (`GameTiming`, `LevelSpecification`), every timer is a counter in the state that the tick
//   advances, so replays and tests run on virtual time: "after 420 ticks the ghosts switch to chase".
//
// - Input is one small struct, `GameInput` (a desired direction plus pause/start presses). The keyboard and
//   the gesture recogniser both fill it; the rules never know which. A direction is *buffered*: Pac-Man keeps
//   going straight and takes the buffered turn at the next tile centre where it is open (pre-turning, like the
//   arcade); the opposite direction is taken at once, mid-tile.
//
// - Space is measured in sub-tile units, `Maze.unitsPerTile` (8) per tile, like the arcade's pixels. An actor's
//   position is its centre; a tile's centre is at offset 4. Speeds are percentages of the arcade's full speed
//   (80 units per second); a fixed-point accumulator turns them into whole one-unit steps, so every step passes
//   every tile centre and decisions (turns, ghost choices) happen exactly there. Speeds differ per level and
//   mode (frightened, tunnel, eyes) without any floating point, which keeps replays bit-exact.
//
// - Ghosts follow the dossier: a global scatter/chase schedule (paused while frightened), per-ghost chase
//   targets (Blinky: Pac-Man; Pinky: 4 tiles ahead; Inky: Blinky's vector through 2 ahead, doubled; Clyde:
//   Pac-Man when farther than 8 tiles, else his corner), a greedy choice at each tile centre that never
//   reverses (ties broken up, left, down, right), reversal on every mode switch, random turns when frightened,
//   eyes that run home, and release from the house by pellet counters or an idle timer.
//
// - Randomness comes from a small SplitMix64 generator written here (`SplitMix64`), seeded by the caller.
//   Swift's `SystemRandomNumberGenerator` cannot be seeded and Foundation has no seeded generator on Linux; an
//   own 10-line generator gives the same sequence on every platform and Swift version, so a recorded replay
//   (seed + inputs) reproduces exactly, and the whole generator state is one `UInt64` inside `GameState`.
//
// - What a renderer or a sound player needs is readable and read-only: `maze`, `pacman`, `ghosts`, `score`,
//   `highScore`, `lives`, `level`, `phase`, `fruit`, `ghostScorePopup`, and `events` (what happened in the
//   last tick). Bookkeeping (accumulators, counters) stays internal. `asciiFrame()` dumps a text picture.
//
// - A tick allocates nothing: all state is fixed-size or arrays mutated in place (`maze.tiles`, `ghosts`),
//   and events are an option set, not a list.

// MARK: - Directions

/// One of the four directions an actor can move in; the case order is the arcade's tie-break order.
public enum Direction: Int, CaseIterable, Sendable, Hashable {
    case up
    case left
    case down
    case right

    /// The opposite direction.
    public var reversed: Direction {
        switch self {
        case .up: .down
        case .left: .right
        case .down: .up
        case .right: .left
        }
    }

    /// Column change of one step in this direction.
    public var columnDelta: Int {
        switch self {
        case .left: -1
        case .right: 1
        case .up, .down: 0
        }
    }

    /// Row change of one step in this direction (rows grow downwards).
    public var rowDelta: Int {
        switch self {
        case .up: -1
        case .down: 1
        case .left, .right: 0
        }
    }

    /// Whether the direction moves along a row.
    public var isHorizontal: Bool { self == .left || self == .right }
}

// MARK: - Positions

/// A tile of the maze grid: column 0 is the left edge, row 0 the top. May lie outside the maze (ghost targets).
public struct TilePosition: Hashable, Sendable, CustomStringConvertible {
    /// Column, left to right.
    public var column: Int
    /// Row, top to bottom.
    public var row: Int

    /// Creates a tile position.
    public init(column: Int, row: Int) {
        self.column = column
        self.row = row
    }

    /// The tile `distance` tiles away in `direction`.
    public func moved(_ direction: Direction, by distance: Int = 1) -> TilePosition {
        TilePosition(column: column + direction.columnDelta * distance, row: row + direction.rowDelta * distance)
    }

    /// Squared Euclidean distance in tiles (what the ghosts compare; no square root needed).
    public func squaredDistance(to other: TilePosition) -> Int {
        let columnDistance = column - other.column
        let rowDistance = row - other.row
        return columnDistance * columnDistance + rowDistance * rowDistance
    }

    public var description: String { "(\(column), \(row))" }
}

/// A point in sub-tile units (`Maze.unitsPerTile` per tile), the centre of an actor.
///
/// Invariant inside a running game: `0 <= x < maze.width * unitsPerTile` and likewise for `y` (tunnels wrap).
public struct Position: Hashable, Sendable, CustomStringConvertible {
    /// Horizontal coordinate in sub-tile units.
    public var x: Int
    /// Vertical coordinate in sub-tile units (grows downwards).
    public var y: Int

    /// Creates a position from sub-tile units.
    public init(x: Int, y: Int) {
        self.x = x
        self.y = y
    }

    /// The centre of `tile`.
    public init(centerOf tile: TilePosition) {
        x = tile.column * Maze.unitsPerTile + Maze.unitsPerTile / 2
        y = tile.row * Maze.unitsPerTile + Maze.unitsPerTile / 2
    }

    /// The tile that contains this point.
    public var tile: TilePosition {
        TilePosition(column: x.floorDivided(by: Maze.unitsPerTile), row: y.floorDivided(by: Maze.unitsPerTile))
    }

    /// Offset from the centre of `tile`, each component in `-4 ..< 4` (0, 0 = exactly on the centre).
    public var offsetFromTileCenter: (x: Int, y: Int) {
        let center = Position(centerOf: tile)
        return (x - center.x, y - center.y)
    }

    /// Whether the point is exactly on a tile centre (where turns and ghost decisions happen).
    public var isAtTileCenter: Bool {
        x.floorModulo(Maze.unitsPerTile) == Maze.unitsPerTile / 2
            && y.floorModulo(Maze.unitsPerTile) == Maze.unitsPerTile / 2
    }

    public var description: String { "(\(x), \(y))" }
}

extension Int {
    /// Division rounding towards negative infinity (tile of a negative coordinate is negative).
    @inlinable func floorDivided(by divisor: Int) -> Int {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    /// Remainder with the sign of the divisor (wraps negative coordinates into range).
    @inlinable func floorModulo(_ divisor: Int) -> Int {
        let remainder = self % divisor
        return remainder < 0 ? remainder + divisor : remainder
    }
}

// MARK: - Input

/// What a controller wants this tick; the keyboard and the gesture recogniser fill it the same way.
///
/// `direction` may be held (set every tick) or pulsed (set for one tick): either way it is buffered until
/// Pac-Man can take it or another direction replaces it. `nil` means "no new wish", not "stop".
public struct GameInput: Sendable, Hashable {
    /// The direction the player wants, or `nil` for no new wish this tick.
    public var direction: Direction?
    /// True on the tick the pause control is pressed (toggles pause during a game).
    public var pausePressed: Bool
    /// True on the tick the start control is pressed (starts a new game after game over).
    public var startPressed: Bool

    /// Creates an input sample.
    public init(direction: Direction? = nil, pausePressed: Bool = false, startPressed: Bool = false) {
        self.direction = direction
        self.pausePressed = pausePressed
        self.startPressed = startPressed
    }

    /// No wish, no presses.
    public static let none = GameInput()
}

// MARK: - Random numbers

/// SplitMix64 (Steele, Lea, Flood 2014): a seedable 64-bit generator whose whole state is one integer.
///
/// Written here rather than taken from a library so a seed gives the same game on every platform and
/// Swift version (see the design notes at the top of this file).
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    /// The generator state; advancing it by the golden-ratio constant is the whole "algorithm".
    public private(set) var state: UInt64

    /// Creates a generator; equal seeds give equal sequences.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// A value in `0 ..< bound` (modulo bias is irrelevant for the tiny bounds used here).
    public mutating func next(below bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }
}
