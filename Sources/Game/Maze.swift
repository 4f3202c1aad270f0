// Maze: the tile grid parsed from a text layout, the start markers, the ghost house, and the classic 28×31
// layout. Invariants: every row has `width` tiles; the grid wraps at its edges (a row open at both ends is a
// tunnel); the ghost house, when there is one, lies directly below its door and is closed by walls.
//
// Layout legend (one character per tile):
//   `#` wall            `.` pellet          `o` power pellet     ` ` empty floor
//   `-` ghost-house door (blocks Pac-Man and roaming ghosts)      `~` tunnel floor (ghosts slow down)
//   `P` Pac-Man's start   `1` Blinky  `2` Pinky  `3` Inky  `4` Clyde   `F` fruit spot   (all empty floor)
// A marker on two neighbouring tiles puts its start exactly between them (the arcade starts Pac-Man and the
// ghosts half a tile off the grid). Leading and trailing blank lines are ignored.

// MARK: - Tiles

/// What one maze tile holds.
public enum Tile: UInt8, Sendable, Hashable {
    /// Open floor with nothing on it.
    case empty
    /// A wall: nobody passes.
    case wall
    /// A pellet worth `Scoring.pellet`.
    case pellet
    /// A power pellet worth `Scoring.powerPellet`; frightens the ghosts.
    case powerPellet
    /// The ghost-house door: only ghosts leaving or entering the house pass.
    case door
    /// Tunnel floor: open, empty, and ghosts move at tunnel speed on it.
    case tunnel

    /// Whether Pac-Man and roaming ghosts may enter the tile.
    public var isWalkable: Bool { self != .wall && self != .door }

    /// Whether the tile still holds something Pac-Man eats to clear the level.
    public var isEdible: Bool { self == .pellet || self == .powerPellet }
}

// MARK: - Errors

/// A text layout that cannot become a maze; the description says which line and what to fix.
public enum MazeError: Error, Equatable, CustomStringConvertible {
    /// The layout has no rows.
    case emptyLayout
    /// A row is longer or shorter than the first row.
    case raggedRow(row: Int, expectedWidth: Int, foundWidth: Int)
    /// A character outside the legend.
    case unknownCharacter(Character, row: Int, column: Int)
    /// No `P` marker.
    case missingPacmanStart
    /// The area below the door reaches pellets, Pac-Man or the maze edge: the house is open.
    case ghostHouseNotClosed

    public var description: String {
        switch self {
        case .emptyLayout:
            "maze layout is empty: give at least one row of tiles"
        case .raggedRow(let row, let expectedWidth, let foundWidth):
            "maze row \(row) has \(foundWidth) tiles, expected \(expectedWidth): pad every row to the same width"
        case .unknownCharacter(let character, let row, let column):
            "maze row \(row) column \(column): unknown tile '\(character)'; use one of # . o - ~ P 1 2 3 4 F or space"
        case .missingPacmanStart:
            "maze has no Pac-Man start: put a 'P' on an open tile"
        case .ghostHouseNotClosed:
            "the ghost house below the door '-' is not closed by walls: wall it in"
        }
    }
}

// MARK: - Maze

/// The names of the four ghosts, in the order they leave the house.
public enum GhostName: Int, CaseIterable, Sendable, Hashable {
    /// Red; chases Pac-Man's tile.
    case blinky
    /// Pink; aims four tiles ahead of Pac-Man.
    case pinky
    /// Cyan; doubles the vector from Blinky to two tiles ahead of Pac-Man.
    case inky
    /// Orange; chases from afar, retreats to his corner when within eight tiles.
    case clyde
}

/// The ghost house: where ghosts wait, leave through the door, and return to as eyes.
public struct GhostHouse: Sendable, Hashable {
    /// The door tiles.
    public let doorTiles: [TilePosition]
    /// Where a ghost stands when it has just left: centred above the door.
    public let exit: Position
    /// Centre of the house interior; ghosts line up on its row before moving to the door.
    public let center: Position
    /// Interior tiles (below the door, walled in).
    public let interiorTiles: Set<TilePosition>
}

/// A maze: the tile grid, start markers and ghost house; accepts any rectangular text layout (see the legend).
public struct Maze: Sendable, Hashable {
    /// Sub-tile units per tile edge (the arcade's 8 pixels).
    public static let unitsPerTile = 8

    /// Tiles per row.
    public let width: Int
    /// Rows.
    public let height: Int
    /// Row-major tiles, `tiles[row * width + column]`; pellets disappear as they are eaten.
    public internal(set) var tiles: [Tile]
    /// Where Pac-Man starts each life.
    public let pacmanStart: Position
    /// Where each ghost starts, indexed by `GhostName.rawValue`; `nil` when the layout has no marker for it.
    public let ghostStarts: [Position?]
    /// The ghost house, if the layout has a door.
    public let house: GhostHouse?
    /// Where bonus fruit appears, if the layout has an `F`.
    public let fruitPosition: Position?
    /// Pellets plus power pellets in the full layout (what clears the level).
    public let edibleCount: Int

    /// Parses a text layout (see the legend in the file header).
    public init(layout: String) throws(MazeError) {
        var lines = layout.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
        while let first = lines.first, first.allSatisfy({ $0 == " " }) { lines.removeFirst() }
        while let last = lines.last, last.allSatisfy({ $0 == " " }) { lines.removeLast() }
        guard let firstLine = lines.first else { throw .emptyLayout }
        width = firstLine.count
        height = lines.count
        var tiles: [Tile] = []
        tiles.reserveCapacity(width * height)
        var markerTiles: [Character: [TilePosition]] = [:]
        for (row, line) in lines.enumerated() {
            guard line.count == width else {
                throw .raggedRow(row: row, expectedWidth: width, foundWidth: line.count)
            }
            for (column, character) in line.enumerated() {
                switch character {
                case "#": tiles.append(.wall)
                case ".": tiles.append(.pellet)
                case "o": tiles.append(.powerPellet)
                case " ": tiles.append(.empty)
                case "-": tiles.append(.door)
                case "~": tiles.append(.tunnel)
                case "P", "1", "2", "3", "4", "F":
                    tiles.append(.empty)
                    markerTiles[character, default: []].append(TilePosition(column: column, row: row))
                default:
                    throw .unknownCharacter(character, row: row, column: column)
                }
            }
        }
        self.tiles = tiles
        edibleCount = tiles.count(where: \.isEdible)

        func averageCenter(_ tiles: [TilePosition]?) -> Position? {
            guard let tiles, !tiles.isEmpty else { return nil }
            let centers = tiles.map { Position(centerOf: $0) }
            return Position(
                x: centers.map(\.x).reduce(0, +) / centers.count, y: centers.map(\.y).reduce(0, +) / centers.count)
        }
        guard let pacmanStart = averageCenter(markerTiles["P"]) else { throw .missingPacmanStart }
        self.pacmanStart = pacmanStart
        ghostStarts = ["1", "2", "3", "4"].map { averageCenter(markerTiles[$0]) }
        fruitPosition = averageCenter(markerTiles["F"])

        // The house: flood fill from below the door over non-wall tiles; it must stay walled in.
        var doorTiles: [TilePosition] = []
        for row in 0..<height {
            for column in 0..<width where tiles[row * width + column] == .door {
                doorTiles.append(TilePosition(column: column, row: row))
            }
        }
        if doorTiles.isEmpty {
            house = nil
        } else {
            var interior: Set<TilePosition> = []
            var frontier = doorTiles.map { $0.moved(.down) }
            while let tile = frontier.popLast() {
                guard tile.column >= 0, tile.column < width, tile.row >= 0, tile.row < height else {
                    throw .ghostHouseNotClosed
                }
                let content = tiles[tile.row * width + tile.column]
                if content == .wall || content == .door || interior.contains(tile) { continue }
                if content != .empty || tile == pacmanStart.tile { throw .ghostHouseNotClosed }
                interior.insert(tile)
                frontier.append(contentsOf: Direction.allCases.map { tile.moved($0) })
            }
            guard !interior.isEmpty else { throw .ghostHouseNotClosed }
            let doorCenter = averageCenter(doorTiles)!
            let exitRow = doorTiles.map(\.row).min()! - 1
            let columns = interior.map(\.column)
            let rows = interior.map(\.row)
            let unitsPerTile = Maze.unitsPerTile
            house = GhostHouse(
                doorTiles: doorTiles,
                exit: Position(x: doorCenter.x, y: exitRow * unitsPerTile + unitsPerTile / 2),
                center: Position(
                    x: (columns.min()! + columns.max()! + 1) * unitsPerTile / 2,
                    y: (rows.min()! + rows.max()! + 1) * unitsPerTile / 2),
                interiorTiles: interior)
        }
    }

    /// The tile at `position`, wrapping around the edges (so the tile left of column 0 is the last column).
    @inlinable public func tile(at position: TilePosition) -> Tile {
        tiles[position.row.floorModulo(height) * width + position.column.floorModulo(width)]
    }

    /// Wraps a tile position into the grid.
    public func wrapped(_ position: TilePosition) -> TilePosition {
        TilePosition(column: position.column.floorModulo(width), row: position.row.floorModulo(height))
    }

    /// Whether `position` is inside the ghost house.
    public func isInHouse(_ position: TilePosition) -> Bool {
        house?.interiorTiles.contains(wrapped(position)) ?? false
    }

    /// Replaces the tile at `position` (used when Pac-Man eats).
    mutating func setTile(_ tile: Tile, at position: TilePosition) {
        tiles[position.row.floorModulo(height) * width + position.column.floorModulo(width)] = tile
    }

    /// Number of pellets and power pellets still on the board.
    public var remainingEdibleCount: Int { tiles.count(where: \.isEdible) }

    /// The layout of the classic arcade maze: 28×31 tiles, 240 pellets, 4 power pellets, side tunnels on row 14.
    public static let classicLayout = """
        ############################
        #............##............#
        #.####.#####.##.#####.####.#
        #o####.#####.##.#####.####o#
        #.####.#####.##.#####.####.#
        #..........................#
        #.####.##.########.##.####.#
        #.####.##.########.##.####.#
        #......##....##....##......#
        ######.##### ## #####.######
        ######.##### ## #####.######
        ######.##    11    ##.######
        ######.## ###--### ##.######
        ######.## #      # ##.######
        ~~~~~~.   #332244#   .~~~~~~
        ######.## #      # ##.######
        ######.## ######## ##.######
        ######.##    FF    ##.######
        ######.## ######## ##.######
        ######.## ######## ##.######
        #............##............#
        #.####.#####.##.#####.####.#
        #.####.#####.##.#####.####.#
        #o..##.......PP.......##..o#
        ###.##.##.########.##.##.###
        ###.##.##.########.##.##.###
        #......##....##....##......#
        #.##########.##.##########.#
        #.##########.##.##########.#
        #..........................#
        ############################
        """

    /// The classic arcade maze (see `classicLayout`).
    public static let classic: Maze = {
        do { return try Maze(layout: classicLayout) } catch { fatalError("classic maze layout is invalid: \(error)") }
    }()
}
