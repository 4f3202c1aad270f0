// LevelSpecification: every number that changes with the level (speeds, fright time, scatter/chase schedule,
// house release limits, bonus fruit), plus the fixed durations and scores. Values follow the "Pac-Man Dossier"
// tables (Jamey Pittman) for levels 1, 2–4, 5–20 and 21+; durations are in 60 Hz ticks.

// MARK: - Fixed timing and scores

/// Durations in ticks (60 per second) that do not depend on the level.
public enum GameTiming {
    /// Ticks per second of the fixed game clock.
    public static let ticksPerSecond = 60
    /// "READY!" before the first life of a game.
    public static let readyTicksNewGame = 4 * 60
    /// "READY!" after a death or a cleared level.
    public static let readyTicks = 2 * 60
    /// Everything freezes while a just-eaten ghost's points are shown.
    public static let ghostEatenFreezeTicks = 60
    /// Whole death sequence: `deathFreezeTicks` of stillness, then the shrinking animation.
    public static let dyingTicks = 150
    /// Part of `dyingTicks` before the death animation starts (ghosts vanish then).
    public static let deathFreezeTicks = 60
    /// The cleared maze flashes this long before the next level.
    public static let levelClearTicks = 2 * 60
    /// The frightened ghosts flash white and blue in periods of this many ticks (half white, half blue).
    public static let frightenedFlashPeriodTicks = 28
    /// How long a bonus fruit stays on the board.
    public static let fruitTicks = 570
    /// Pac-Man stands still this many ticks after eating a pellet.
    public static let pelletPauseTicks = 1
    /// Pac-Man stands still this many ticks after eating a power pellet.
    public static let powerPelletPauseTicks = 3
}

/// Points and lives.
public enum Scoring {
    /// A pellet.
    public static let pellet = 10
    /// A power pellet.
    public static let powerPellet = 50
    /// The first ghost eaten in one power period; each further one doubles (200, 400, 800, 1600).
    public static let firstGhost = 200
    /// Lives at the start of a game.
    public static let startingLives = 3
    /// The score that awards the one extra life.
    public static let extraLifeScore = 10_000
    /// Pellets eaten (in a level) when the first and second fruit appear.
    public static let fruitPelletCounts = [70, 170]
}

// MARK: - Movement units

/// Fixed-point speed: a percentage of full speed becomes whole one-unit steps through an accumulator.
public enum Speed {
    /// Units per second at 100 %: the arcade's 80 pixels per second (about 10 tiles per second).
    public static let fullSpeedUnitsPerSecond = 80
    /// Accumulator gain per tick for 1 %: 80 units/s spread over 60 ticks and 100 %.
    static let accumulatorPerPercent = fullSpeedUnitsPerSecond
    /// Accumulator value that makes one step (60 ticks × 100 %).
    static let accumulatorPerStep = GameTiming.ticksPerSecond * 100
    /// Eyes returning home.
    public static let eyesPercent = 150
    /// Ghosts inside the house (bobbing, leaving, entering).
    public static let housePercent = 50
}

// MARK: - Bonus fruit

/// The bonus fruit of a level.
public enum Fruit: Int, Sendable, Hashable, CaseIterable {
    case cherries, strawberry, peach, apple, grapes, galaxian, bell, key

    /// Points for eating it.
    public var points: Int {
        switch self {
        case .cherries: 100
        case .strawberry: 300
        case .peach: 500
        case .apple: 700
        case .grapes: 1000
        case .galaxian: 2000
        case .bell: 3000
        case .key: 5000
        }
    }
}

// MARK: - Ghost modes of the schedule

/// The two modes the global schedule alternates between.
public enum ScheduledGhostMode: Sendable, Hashable {
    /// Ghosts head for their home corners.
    case scatter
    /// Ghosts hunt Pac-Man, each by its own rule.
    case chase
}

// MARK: - Level specification

/// The numbers of one level.
public struct LevelSpecification: Sendable, Hashable {
    /// Level number, 1-based.
    public let level: Int
    /// Pac-Man's normal speed, percent of full.
    public let pacmanSpeedPercent: Int
    /// Pac-Man's speed while ghosts are frightened.
    public let pacmanFrightenedSpeedPercent: Int
    /// Ghost speed in scatter and chase.
    public let ghostSpeedPercent: Int
    /// Frightened ghost speed.
    public let ghostFrightenedSpeedPercent: Int
    /// Ghost speed on tunnel tiles.
    public let ghostTunnelSpeedPercent: Int
    /// Length of a power period; 0 means ghosts only reverse.
    public let frightenedTicks: Int
    /// White/blue flashes at the end of a power period.
    public let frightenedFlashCount: Int
    /// Alternating scatter, chase, scatter, … durations; chase lasts forever after the last entry.
    public let scatterChaseDurations: [Int]
    /// Pellets each ghost waits for in the house, indexed by `GhostName.rawValue`.
    public let houseDotLimits: [Int]
    /// Without a pellet eaten for this long, the next ghost leaves the house.
    public let houseIdleReleaseTicks: Int
    /// This level's bonus fruit.
    public let fruit: Fruit

    /// Ticks of the flashing part at the end of a power period.
    public var frightenedFlashTicks: Int {
        min(frightenedTicks, frightenedFlashCount * GameTiming.frightenedFlashPeriodTicks)
    }

    /// The scheduled mode after `elapsedTicks` of (unfrightened) play in this life.
    public func scheduledMode(afterTicks elapsedTicks: Int) -> ScheduledGhostMode {
        var remaining = elapsedTicks
        for (index, duration) in scatterChaseDurations.enumerated() {
            if remaining < duration { return index % 2 == 0 ? .scatter : .chase }
            remaining -= duration
        }
        return scatterChaseDurations.count % 2 == 0 ? .scatter : .chase
    }

    /// The numbers for `level` (1-based; levels past 21 repeat level 21).
    public static func forLevel(_ level: Int) -> LevelSpecification {
        let level = max(1, level)
        let second = GameTiming.ticksPerSecond
        let speeds: (pacman: Int, pacmanFrightened: Int, ghost: Int, ghostFrightened: Int, tunnel: Int) =
            switch level {
            case 1: (80, 90, 75, 50, 40)
            case 2...4: (90, 95, 85, 55, 45)
            case 5...20: (100, 100, 95, 60, 50)
            default: (90, 90, 95, 60, 50)
            }
        // Fright seconds and flash counts by level (dossier table); from 19 on ghosts only reverse.
        let frightSeconds = [6, 5, 4, 3, 2, 5, 2, 2, 1, 5, 2, 1, 1, 3, 1, 1, 0, 1]
        let flashCounts = [5, 5, 5, 5, 5, 5, 5, 5, 3, 5, 5, 3, 3, 5, 3, 3, 0, 3]
        let frightIndex = level - 1
        let frightenedTicks = frightIndex < frightSeconds.count ? frightSeconds[frightIndex] * second : 0
        let flashCount = frightIndex < flashCounts.count ? flashCounts[frightIndex] : 0
        let durations: [Int] =
            switch level {
            case 1: [7 * second, 20 * second, 7 * second, 20 * second, 5 * second, 20 * second, 5 * second]
            case 2...4: [7 * second, 20 * second, 7 * second, 20 * second, 5 * second, 1033 * second, 1]
            default: [5 * second, 20 * second, 5 * second, 20 * second, 5 * second, 1037 * second, 1]
            }
        let houseDotLimits: [Int] =
            switch level {
            case 1: [0, 0, 30, 60]
            case 2: [0, 0, 0, 50]
            default: [0, 0, 0, 0]
            }
        let fruit: Fruit =
            switch level {
            case 1: .cherries
            case 2: .strawberry
            case 3...4: .peach
            case 5...6: .apple
            case 7...8: .grapes
            case 9...10: .galaxian
            case 11...12: .bell
            default: .key
            }
        return LevelSpecification(
            level: level,
            pacmanSpeedPercent: speeds.pacman,
            pacmanFrightenedSpeedPercent: speeds.pacmanFrightened,
            ghostSpeedPercent: speeds.ghost,
            ghostFrightenedSpeedPercent: speeds.ghostFrightened,
            ghostTunnelSpeedPercent: speeds.tunnel,
            frightenedTicks: frightenedTicks,
            frightenedFlashCount: flashCount,
            scatterChaseDurations: durations,
            houseDotLimits: houseDotLimits,
            houseIdleReleaseTicks: level < 5 ? 4 * second : 3 * second,
            fruit: fruit)
    }
}
