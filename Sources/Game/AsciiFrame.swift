// AsciiFrame: a rendering-free text picture of a GameState for debugging, logs and test failure messages.
// Read-only; allocates freely (never called from the tick).

extension GameState {
    /// A text picture: one status line, then one line per maze row.
    ///
    /// Legend: the maze legend (`#` `.` `o` `-` `~`, space), `@` Pac-Man, ghosts `B` Blinky, `P` Pinky, `I` Inky,
    /// `C` Clyde (lower case while frightened, `"` as eyes), `%` fruit. Actors are drawn on the tile that holds
    /// their centre; a later ghost hides an earlier one and Pac-Man is drawn last.
    public func asciiFrame() -> String {
        var grid: [[Character]] = (0..<maze.height).map { row in
            (0..<maze.width).map { column in
                switch maze.tile(at: TilePosition(column: column, row: row)) {
                case .empty: " "
                case .wall: "#"
                case .pellet: "."
                case .powerPellet: "o"
                case .door: "-"
                case .tunnel: "~"
                }
            }
        }
        func draw(_ character: Character, at position: Position) {
            let tile = maze.wrapped(position.tile)
            grid[tile.row][tile.column] = character
        }
        if let fruit { draw("%", at: fruit.position) }
        for ghost in ghosts {
            let letter: Character =
                switch ghost.name {
                case .blinky: "B"
                case .pinky: "P"
                case .inky: "I"
                case .clyde: "C"
                }
            let character: Character =
                switch ghost.mode {
                case .eaten, .enteringHouse: "\""
                case .frightened: Character(letter.lowercased())
                default: letter
                }
            draw(character, at: ghost.position)
        }
        draw("@", at: pacman.position)
        let status =
            "tick \(tickCount) \(phase) level \(level) score \(score) high \(highScore) lives \(lives) "
            + "pellets \(pelletsRemaining) mode \(scheduledMode)"
            + (frightenedTicksLeft > 0 ? " frightened \(frightenedTicksLeft)" : "")
        return ([status] + grid.map { String($0) }).joined(separator: "\n")
    }
}
