// App: the window's pure state machine — which screen is up, what the keys mean there, which label
// is being recorded, the training knobs, and the game itself. Keys come in as `AppKey` (the SDL
// shell translates scancodes), gesture key events come from the DecisionFilter, and what the app
// wants done outside (record, delete, train, quit) goes out as `AppCommand`s. No threads, no clock:
// `tick()` is one 60 Hz game step, so key scripts run in tests on virtual time (ccleste's replays).
//
// On the training screen the sample browser (SampleBrowser), when open, takes the keys and clicks; its
// changes go out as `.browse` commands and its ids come back through `showBrowser`.
//
// Record keys (arrows/WASD, I/Space, 1–9) are told apart by how long they stay down, counted in ticks: held
// past `RecordKeySettings.holdTicks` (0.3 s) the label records until the key is let go (a hold); let go
// sooner (a tap) it starts a take — a countdown ("UP IN 3", 2, 1: time to get into pose, hands off the
// keyboard) and then a recording of `takeSeconds` with a progress bar. Any record key or Esc during a take
// stops it. Nothing is recorded while the key's kind is still unknown, so a tap keeps no frame of the hand
// on the keyboard.
//
// Input merge per tick: a held keyboard direction (the most recently pressed one) beats everything;
// else a tapped key since the last tick; else a gesture key-down since the last tick; else the
// gesture the filter holds. `GameInput.direction` is buffered by the rules, so a one-tick pulse
// is enough for a turn at the next open junction.
import Game
import Gestures
import NeuralNet
import Raster

/// A key the window understands, independent of SDL's key codes.
public enum AppKey: Hashable, Sendable {
    /// Cursor up (records `up`, steers up).
    case arrowUp
    /// Cursor down (records `down`, steers down).
    case arrowDown
    /// Cursor left (records `left`, steers left).
    case arrowLeft
    /// Cursor right (records `right`, steers right).
    case arrowRight
    /// A letter key, lower case (`w`, `a`, `s`, `d`, `i`, `t`, `p`, `r`, `h`, `c`, …).
    case letter(Character)
    /// Space (records idle on the training screen, pauses in play).
    case space
    /// Backspace or Delete (deletes the selected label's newest sample).
    case backspace
    /// Return or keypad Enter (play; a new game after game over).
    case enter
    /// Escape (closes help, leaves play, quits from training).
    case escape
    /// Tab (next training knob; leaves play).
    case tab
    /// F1 (help).
    case f1
    /// `+` / `=` / keypad plus.
    case plus
    /// `-` / keypad minus.
    case minus
    /// A digit key 0–9 (records the n-th label, any label of the config; relabels in the sample browser).
    case digit(Int)
    /// Page Up (previous page of the sample browser).
    case pageUp
    /// Page Down (next page of the sample browser).
    case pageDown
}

/// Which screen the window shows.
public enum AppScreen: Equatable, Sendable {
    /// Record samples, train, watch the live recognition.
    case training
    /// The maze.
    case play
}

/// Something the app asks the outside world (pipeline, trainer, window) to do.
public enum AppCommand: Equatable, Sendable {
    /// A take's countdown started (a tapped record key): check that recording can work, else `App.stopRecording`.
    case countdownStarted(label: String)
    /// Start keeping live frames as samples of `label` (until `stopRecording`).
    case startRecording(label: String)
    /// Stop recording.
    case stopRecording
    /// Delete the most recent sample of `label`.
    case deleteLastSample(label: String)
    /// Train a new head with these options in the background; it replaces the current head when done.
    case train(TrainingOptions)
    /// The training knobs changed (Tab, +/-): keep them for the next start and for `gesturepad train`.
    case keepTrainingOptions(TrainingOptions)
    /// Cancel a running training.
    case cancelTraining
    /// Open the sample browser on `label`: load its sample ids and pass them to `App.showBrowser`.
    case openBrowser(label: String)
    /// Carry out what the sample browser asked (load another label, delete, relabel), then `App.showBrowser` again.
    case browse(BrowserAction)
    /// Close the window.
    case quit
}

/// How the training screen's record keys behave: a tap starts a take of `takeSeconds` after `countdownSeconds`.
public struct RecordKeySettings: Equatable, Sendable {
    /// Seconds from the tap to the first kept sample (the config's `[recording] countdown_seconds`, or
    /// `RecordingSettings.defaultTakeCountdownSeconds` when that is 0: a tap needs time to get into pose).
    public var countdownSeconds: Double
    /// Seconds a take records after its countdown (`RecordingSettings.defaultTakeSeconds`, as `gesturepad record`).
    public var takeSeconds: Double
    /// Ticks a record key must stay down to count as a hold (0.3 s at 60 Hz); let go sooner, it is a tap.
    public static let holdTicks = 18

    /// Settings for a take of `takeSeconds` after `countdownSeconds` (both clamped to 0…600).
    public init(
        countdownSeconds: Double = RecordingSettings.defaultTakeCountdownSeconds,
        takeSeconds: Double = RecordingSettings.defaultTakeSeconds
    ) {
        self.countdownSeconds = min(max(countdownSeconds, 0), 600)
        self.takeSeconds = min(max(takeSeconds, 0.1), 600)
    }

    /// The window's take for the config's recording settings: its countdown, or the default one when it is 0.
    public init(recording: RecordingSettings) {
        self.init(
            countdownSeconds: recording.countdownSeconds > 0
                ? recording.countdownSeconds : RecordingSettings.defaultTakeCountdownSeconds)
    }
}

/// A take started by a tapped record key: a countdown, then a recording of fixed length, counted in ticks.
public struct RecordingTake: Equatable, Sendable {
    /// What the take shows.
    public enum Phase: Equatable, Sendable {
        /// Counting down: whole seconds left before samples are kept (3, 2, 1).
        case countdown(secondsLeft: Int)
        /// Recording: the fraction done (0…1) and seconds left.
        case recording(fraction: Double, secondsLeft: Double)
    }

    /// The label recorded.
    public let label: String
    /// Ticks of countdown.
    public let countdownTicks: Int
    /// Ticks of recording after it.
    public let recordingTicks: Int
    /// Ticks since the tap.
    public internal(set) var elapsedTicks = 0

    /// A take of `label` with `settings`, at 60 ticks a second.
    public init(label: String, settings: RecordKeySettings) {
        self.label = label
        countdownTicks = Int((settings.countdownSeconds * 60).rounded())
        recordingTicks = max(1, Int((settings.takeSeconds * 60).rounded()))
    }

    /// Where the take is.
    public var phase: Phase {
        if elapsedTicks < countdownTicks {
            return .countdown(secondsLeft: (countdownTicks - elapsedTicks + 59) / 60)
        }
        let done = elapsedTicks - countdownTicks
        return .recording(
            fraction: min(1, Double(done) / Double(recordingTicks)),
            secondsLeft: Double(max(0, recordingTicks - done)) / 60)
    }

    /// Whether samples are being kept.
    public var isRecording: Bool { elapsedTicks >= countdownTicks }
}

/// The training knobs the screen can change, in the order Tab visits them.
public enum HyperparameterField: Int, CaseIterable, Sendable {
    case learningRate, epochs, hiddenUnits, batchFraction

    /// The label on the training screen.
    public var title: String {
        switch self {
        case .learningRate: "LEARNING RATE"
        case .epochs: "EPOCHS"
        case .hiddenUnits: "HIDDEN UNITS"
        case .batchFraction: "BATCH FRACTION"
        }
    }

    /// The values `+`/`-` step through (a ladder keeps every value sensible and reachable).
    public var ladder: [Double] {
        switch self {
        case .learningRate: [0.00001, 0.00003, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1]
        case .epochs: [5, 10, 20, 30, 50, 100, 200]
        case .hiddenUnits: [10, 25, 50, 100, 200, 400]
        case .batchFraction: [0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0]
        }
    }

    /// This field's value in `options`.
    public func value(in options: TrainingOptions) -> Double {
        switch self {
        case .learningRate: options.learningRate
        case .epochs: Double(options.epochs)
        case .hiddenUnits: Double(options.hiddenUnits)
        case .batchFraction: options.batchSizeFraction
        }
    }

    /// The value as the screen shows it.
    public func text(in options: TrainingOptions) -> String {
        switch self {
        case .learningRate: ScreenText.learningRate(options.learningRate)
        case .epochs: "\(options.epochs)"
        case .hiddenUnits: "\(options.hiddenUnits)"
        case .batchFraction: ScreenText.fixed(options.batchSizeFraction, decimals: 2)
        }
    }

    /// `options` with this field moved `steps` rungs along the ladder (from the nearest rung, clamped).
    public func stepped(_ options: TrainingOptions, by steps: Int) -> TrainingOptions {
        let current = value(in: options)
        let nearest = ladder.indices.min { abs(ladder[$0] - current) < abs(ladder[$1] - current) } ?? 0
        let value = ladder[min(max(nearest + steps, 0), ladder.count - 1)]
        var result = options
        switch self {
        case .learningRate: result.learningRate = value
        case .epochs: result.epochs = Int(value)
        case .hiddenUnits: result.hiddenUnits = Int(value)
        case .batchFraction: result.batchSizeFraction = value
        }
        return result
    }
}

/// The window's state machine (a value; copy it to snapshot).
public struct App: Sendable {
    /// The labels whose tiles the training screen shows, in order.
    public let labels: LabelSet
    /// The screen on display.
    public private(set) var screen: AppScreen
    /// Whether the key help overlay is up (the game does not advance meanwhile).
    public private(set) var isHelpVisible = false
    /// The game.
    public internal(set) var game: GameState
    /// The label whose tile has focus on the training screen (Backspace deletes from it).
    public private(set) var selectedLabel: String
    /// The label being recorded (a record key is held, or a take is past its countdown), if any.
    public private(set) var recordingLabel: String?
    /// The take a tapped record key started (counting down or recording), if any.
    public private(set) var take: RecordingTake?
    /// How record keys behave (tap: a take after a countdown; hold: record while held).
    public let recordKeys: RecordKeySettings
    /// The knobs of the next training run.
    public private(set) var trainingOptions: TrainingOptions
    /// The knob `+`/`-` change.
    public private(set) var selectedField: HyperparameterField = .learningRate
    /// How the last game input's direction was chosen (for the play screen's corner).
    public private(set) var lastSteering: Steering = .none
    /// Whether quit was asked for.
    public private(set) var isQuitRequested = false
    /// The sample browser, when it is open (over the training screen's tiles and panels).
    public private(set) var browser: SampleBrowser?

    /// Where a tick's direction came from.
    public enum Steering: Equatable, Sendable {
        /// Nothing has steered yet.
        case none
        /// A held or tapped key.
        case keyboard
        /// A gesture key-down from the decision filter.
        case gesture
    }

    private var recordKey: AppKey?
    /// A record key that went down and is not yet a hold or a tap: its key, label and ticks held so far.
    private var pendingRecordKey: (key: AppKey, label: String, ticks: Int)?
    /// Held direction keys, oldest first (the last one steers).
    private var heldDirectionKeys: [(key: AppKey, direction: Direction)] = []
    private var tappedDirection: Direction?
    private var gestureDirection: Direction?
    private var gesturePulse: Direction?
    private var pendingPause = false
    private var pendingStart = false
    private var seed: UInt64

    /// A new app on `screen` with a fresh game seeded by `seed`.
    public init(
        labels: LabelSet = .standard, screen: AppScreen = .training, seed: UInt64 = 1, highScore: Int = 0,
        trainingOptions: TrainingOptions = TrainingOptions(seed: 1), recordKeys: RecordKeySettings = RecordKeySettings()
    ) {
        self.labels = labels
        self.recordKeys = recordKeys
        self.screen = screen
        self.seed = seed
        game = GameState(maze: .classic, seed: seed, highScore: highScore)
        selectedLabel = labels.names.first ?? LabelSet.idle
        self.trainingOptions = trainingOptions
    }

    // MARK: Keys

    /// The label a key records on the training screen: digit n the n-th label (any label of the config);
    /// arrows/WASD the directions, I or Space idle, when the labels have them.
    public func recordLabel(for key: AppKey) -> String? {
        if case .digit(let number) = key {
            return number >= 1 && number <= min(labels.count, 9) ? labels.names[number - 1] : nil
        }
        let name: String? =
            switch key {
            case .arrowUp, .letter("w"): "up"
            case .arrowDown, .letter("s"): "down"
            case .arrowLeft, .letter("a"): "left"
            case .arrowRight, .letter("d"): "right"
            case .letter("i"), .space: LabelSet.idle
            default: nil
            }
        return name.flatMap { labels.names.contains($0) ? $0 : nil }
    }

    // MARK: Sample browser

    /// Opens the sample browser on `label` with its sample `ids` (oldest first), or gives the open one new ids.
    public mutating func showBrowser(label: String, ids: [Int64]) {
        guard screen == .training else { return }
        if browser == nil {
            browser = SampleBrowser(labels: labels.names, label: label, ids: ids)
        } else {
            browser?.reload(label: label, ids: ids)
        }
        selectedLabel = label
    }

    /// Closes the sample browser.
    public mutating func closeBrowser() { browser = nil }

    /// A mouse click at logical (`x`, `y`): on a tile it opens the browser on that label; in the browser it moves
    /// the cursor or marks (see `SampleBrowser.click`).
    public mutating func click(x: Int, y: Int) -> [AppCommand] {
        guard screen == .training, !isHelpVisible else { return [] }
        let point = Point(x: x, y: y)
        if browser != nil {
            for slot in 0..<SampleBrowser.pageSize where BrowserLayout.cell(slot: slot).contains(point) {
                browser?.click(slot: slot)
                return []
            }
            for (index, label) in labels.names.enumerated()
            where BrowserLayout.labelTab(index: index, count: labels.count).contains(point) {
                return [.browse(.show(label: label))]
            }
            return []
        }
        for (index, label) in labels.names.enumerated()
        where TrainingLayout.tile(index: index, count: labels.count).contains(point) {
            let commands = stopRecordingCommands()
            selectedLabel = label
            return commands + [.openBrowser(label: label)]
        }
        return []
    }

    /// The direction a key steers in play.
    public static func direction(for key: AppKey) -> Direction? {
        switch key {
        case .arrowUp, .letter("w"): .up
        case .arrowDown, .letter("s"): .down
        case .arrowLeft, .letter("a"): .left
        case .arrowRight, .letter("d"): .right
        default: nil
        }
    }

    /// Handles a key press (`isRepeat`: the keyboard's auto-repeat while held); returns what to do outside.
    public mutating func keyDown(_ key: AppKey, isRepeat: Bool = false, shift: Bool = false) -> [AppCommand] {
        if isHelpVisible {
            // Any of these closes the help; everything else is swallowed so nothing happens unseen.
            if !isRepeat && [.escape, .f1, .letter("h"), .enter].contains(key) { isHelpVisible = false }
            return []
        }
        if key == .f1 || key == .letter("h") {
            guard !isRepeat else { return [] }
            let commands = stopRecordingCommands()
            isHelpVisible = true
            heldDirectionKeys.removeAll()
            return commands
        }
        switch screen {
        case .training: return trainingKeyDown(key, isRepeat: isRepeat, shift: shift)
        case .play: return playKeyDown(key, isRepeat: isRepeat)
        }
    }

    /// Asks to quit (the window was closed): recording stops.
    public mutating func quit() -> [AppCommand] {
        let commands = stopRecordingCommands()
        isQuitRequested = true
        return commands + [.quit]
    }

    /// Releases every held key (the window lost focus): steering keys let go, recording stops.
    public mutating func releaseAllKeys() -> [AppCommand] {
        heldDirectionKeys.removeAll()
        return stopRecordingCommands()
    }

    /// Handles a key release: a record key let go before it became a hold starts a take; a held one stops.
    public mutating func keyUp(_ key: AppKey) -> [AppCommand] {
        heldDirectionKeys.removeAll { $0.key == key }
        if let pending = pendingRecordKey, pending.key == key {
            pendingRecordKey = nil
            let take = RecordingTake(label: pending.label, settings: recordKeys)
            self.take = take
            guard take.isRecording else { return [.countdownStarted(label: pending.label)] }
            recordingLabel = pending.label
            return [.countdownStarted(label: pending.label), .startRecording(label: pending.label)]
        }
        if key == recordKey { return stopRecordingCommands() }
        return []
    }

    /// Stops any recording, hold or take (recording turned out impossible, the window asked).
    public mutating func stopRecording() -> [AppCommand] { stopRecordingCommands() }

    private mutating func trainingKeyDown(_ key: AppKey, isRepeat: Bool, shift: Bool) -> [AppCommand] {
        if browser != nil {
            // Moving may repeat; nothing that changes samples does.
            let moves: [AppKey] = [.arrowUp, .arrowDown, .arrowLeft, .arrowRight, .pageUp, .pageDown]
            guard !isRepeat || moves.contains(key) else { return [] }
            switch browser?.keyDown(key, shift: shift) {
            case .close:
                browser = nil
                return []
            case .some(let action):
                return [.browse(action)]
            case nil:
                return []
            }
        }
        if let label = recordLabel(for: key) {
            guard !isRepeat else { return [] }
            // A record key during a take stops it (and starts nothing).
            if take != nil { return stopRecordingCommands() }
            guard recordingLabel == nil, pendingRecordKey == nil else { return [] }
            pendingRecordKey = (key, label, 0)
            selectedLabel = label
            return []
        }
        guard !isRepeat || [.plus, .minus, .backspace].contains(key) else { return [] }
        if key == .escape && take != nil { return stopRecordingCommands() }
        switch key {
        case .backspace:
            return [.deleteLastSample(label: selectedLabel)]
        case .letter("t"):
            return [.train(trainingOptions)]
        case .letter("c"):
            return [.cancelTraining]
        case .letter("v"):
            return stopRecordingCommands() + [.openBrowser(label: selectedLabel)]
        case .tab:
            let fields = HyperparameterField.allCases
            selectedField = fields[(selectedField.rawValue + (shift ? fields.count - 1 : 1)) % fields.count]
            return []
        case .plus, .minus:
            let stepped = selectedField.stepped(trainingOptions, by: key == .plus ? 1 : -1)
            guard stepped != trainingOptions else { return [] }
            trainingOptions = stepped
            return [.keepTrainingOptions(stepped)]
        case .enter, .letter("p"):
            let commands = stopRecordingCommands()
            enterPlay()
            return commands
        case .escape:
            let commands = stopRecordingCommands()
            isQuitRequested = true
            return commands + [.quit]
        default:
            return []
        }
    }

    private mutating func playKeyDown(_ key: AppKey, isRepeat: Bool) -> [AppCommand] {
        if let direction = Self.direction(for: key) {
            if !isRepeat {
                heldDirectionKeys.removeAll { $0.key == key }
                heldDirectionKeys.append((key, direction))
                tappedDirection = direction
            }
            return []
        }
        guard !isRepeat else { return [] }
        switch key {
        case .space, .letter("p"):
            if game.phase == .gameOver {
                pendingStart = true
            } else {
                pendingPause = true
            }
        case .enter:
            pendingStart = true
        case .letter("r"):
            restartGame()
        case .letter("t"):
            return [.train(trainingOptions)]
        case .escape, .tab:
            leavePlay()
        default:
            break
        }
        return []
    }

    private mutating func stopRecordingCommands() -> [AppCommand] {
        pendingRecordKey = nil
        take = nil
        guard recordingLabel != nil else { return [] }
        recordingLabel = nil
        recordKey = nil
        return [.stopRecording]
    }

    /// One tick of the record keys: a pending key held long enough becomes a hold (recording starts); a take counts
    /// down, starts recording, and stops when its time is up.
    private mutating func tickRecording() -> [AppCommand] {
        if var pending = pendingRecordKey {
            pending.ticks += 1
            pendingRecordKey = pending
            if pending.ticks >= RecordKeySettings.holdTicks {
                pendingRecordKey = nil
                recordingLabel = pending.label
                recordKey = pending.key
                return [.startRecording(label: pending.label)]
            }
        }
        guard var current = take else { return [] }
        current.elapsedTicks += 1
        take = current
        if current.elapsedTicks >= current.countdownTicks + current.recordingTicks { return stopRecordingCommands() }
        if current.isRecording && recordingLabel == nil {
            recordingLabel = current.label
            return [.startRecording(label: current.label)]
        }
        return []
    }

    private mutating func enterPlay() {
        screen = .play
        browser = nil
        heldDirectionKeys.removeAll()
        tappedDirection = nil
        gesturePulse = nil
    }

    private mutating func leavePlay() {
        screen = .training
        heldDirectionKeys.removeAll()
        // A running game waits paused behind the training screen; Space resumes it on return.
        if game.phase == .playing { game.tick(input: GameInput(pausePressed: true)) }
    }

    /// Starts a new game (keeping the high score); the next game gets the next seed.
    public mutating func restartGame() {
        seed &+= 1
        game = GameState(maze: .classic, seed: seed, highScore: max(game.highScore, game.score))
        pendingPause = false
        pendingStart = false
    }

    // MARK: Gestures

    /// Takes the DecisionFilter's key events: a key-down of a direction label steers (once at the next
    /// tick, and on while it stays held); its key-up ends the hold.
    public mutating func gestureEvents(_ events: [KeyEvent]) {
        for event in events {
            guard let direction = Self.direction(forLabel: event.label) else { continue }
            switch event.kind {
            case .down:
                gestureDirection = direction
                gesturePulse = direction
            case .up:
                if gestureDirection == direction { gestureDirection = nil }
            }
        }
    }

    /// Forgets any gesture hold (the pipeline stopped, the head changed).
    public mutating func releaseGesture() {
        gestureDirection = nil
        gesturePulse = nil
    }

    /// The direction a label steers (`up`, `down`, `left`, `right`).
    public static func direction(forLabel label: String) -> Direction? {
        switch label {
        case "up": .up
        case "down": .down
        case "left": .left
        case "right": .right
        default: nil
        }
    }

    // MARK: Time

    /// The merged input for the next tick (see the file header); does not consume pulses.
    public var nextInput: GameInput {
        let (direction, _) = mergedDirection()
        return GameInput(direction: direction, pausePressed: pendingPause, startPressed: pendingStart)
    }

    private func mergedDirection() -> (Direction?, Steering) {
        if let held = heldDirectionKeys.last { return (held.direction, .keyboard) }
        if let tappedDirection { return (tappedDirection, .keyboard) }
        if let gesturePulse { return (gesturePulse, .gesture) }
        if let gestureDirection { return (gestureDirection, .gesture) }
        return (nil, .none)
    }

    /// One 60 Hz step: on the training screen the record keys' timing (hold or take) moves on; on the play screen
    /// without help, the game advances with the merged input. Returns what to do outside (recording starts and stops).
    @discardableResult
    public mutating func tick() -> [AppCommand] {
        guard screen == .play, !isHelpVisible else {
            return screen == .training && !isHelpVisible ? tickRecording() : []
        }
        let (direction, steering) = mergedDirection()
        if steering != .none { lastSteering = steering }
        game.tick(input: GameInput(direction: direction, pausePressed: pendingPause, startPressed: pendingStart))
        tappedDirection = nil
        gesturePulse = nil
        pendingPause = false
        pendingStart = false
        return []
    }
}
