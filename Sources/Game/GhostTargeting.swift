// GhostTargeting: the ghosts' brains as pure functions of tiles: each ghost's chase target, its scatter corner,
// and the greedy direction choice at a tile centre. No state here; GameState feeds in positions and applies
// the answer. Rules after the "Pac-Man Dossier"; Pinky's and Inky's "up also shifts left" overflow bug of the
// arcade is deliberately not reproduced (4 tiles ahead means 4 tiles ahead).

/// Where ghosts aim and how they pick a direction.
public enum GhostTargeting {
    /// Clyde chases only while his squared distance to Pac-Man is above this (8 tiles).
    public static let clydeShyDistanceSquared = 8 * 8

    /// The home corner a ghost heads for in scatter mode, outside the maze so it circles the nearest block.
    ///
    /// For the classic 28×31 maze: Blinky (25, −3), Pinky (2, −3), Inky (27, 31), Clyde (0, 31).
    public static func scatterTarget(of ghost: GhostName, mazeWidth: Int, mazeHeight: Int) -> TilePosition {
        switch ghost {
        case .blinky: TilePosition(column: mazeWidth - 3, row: -3)
        case .pinky: TilePosition(column: 2, row: -3)
        case .inky: TilePosition(column: mazeWidth - 1, row: mazeHeight)
        case .clyde: TilePosition(column: 0, row: mazeHeight)
        }
    }

    /// The tile a ghost aims for in chase mode.
    ///
    /// - Blinky: Pac-Man's tile.
    /// - Pinky: 4 tiles ahead of Pac-Man.
    /// - Inky: take the tile 2 ahead of Pac-Man, double the vector from Blinky to it.
    /// - Clyde: Pac-Man's tile while farther than 8 tiles, else his scatter corner.
    public static func chaseTarget(
        of ghost: GhostName, ghostTile: TilePosition, pacmanTile: TilePosition, pacmanDirection: Direction,
        blinkyTile: TilePosition, scatterCorner: TilePosition
    ) -> TilePosition {
        switch ghost {
        case .blinky:
            return pacmanTile
        case .pinky:
            return pacmanTile.moved(pacmanDirection, by: 4)
        case .inky:
            let pivot = pacmanTile.moved(pacmanDirection, by: 2)
            return TilePosition(
                column: 2 * pivot.column - blinkyTile.column, row: 2 * pivot.row - blinkyTile.row)
        case .clyde:
            return ghostTile.squaredDistance(to: pacmanTile) > clydeShyDistanceSquared ? pacmanTile : scatterCorner
        }
    }

    /// The direction a ghost takes at the centre of `tile`: never back the way it came, never into a wall or
    /// door, the open neighbour closest to `target` (ties: up, left, down, right); reverses only in a dead end.
    public static func greedyDirection(
        at tile: TilePosition, heading: Direction, target: TilePosition, maze: Maze
    ) -> Direction {
        var best: Direction?
        var bestDistance = Int.max
        for direction in Direction.allCases where direction != heading.reversed {
            let next = tile.moved(direction)
            guard maze.tile(at: next).isWalkable else { continue }
            let distance = next.squaredDistance(to: target)
            if distance < bestDistance {
                bestDistance = distance
                best = direction
            }
        }
        return best ?? heading.reversed
    }

    /// The direction a frightened ghost takes at the centre of `tile`: starting from a random direction, the
    /// first open one in the order up, left, down, right that does not reverse (reverses only in a dead end).
    public static func randomDirection(
        at tile: TilePosition, heading: Direction, maze: Maze, generator: inout SplitMix64
    ) -> Direction {
        let start = generator.next(below: Direction.allCases.count)
        for offset in 0..<Direction.allCases.count {
            let direction = Direction(rawValue: (start + offset) % Direction.allCases.count)!
            if direction != heading.reversed && maze.tile(at: tile.moved(direction)).isWalkable {
                return direction
            }
        }
        return heading.reversed
    }
}
