import Testing
@testable import Game
