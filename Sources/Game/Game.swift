// Game: the pure Pac-Man rules (see GameState). No SDL, no I/O, no clocks: a fixed 60 Hz tick.
