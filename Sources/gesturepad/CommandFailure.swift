// CommandFailure: an error about the user's data or state (no such sample, nothing to undo, a file that
// is a directory), printed as `Error: …` with exit code 1 and no `Usage:` line. ArgumentParser adds the
// usage only to `ValidationError`, which stays for mistakes in the command line itself. Also the
// confirmation asked before a bulk change (`--yes`).
import ArgumentParser
import Foundation

/// A failure caused by data or state rather than by how the command was typed.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}

enum Confirmation {
    /// Proceeds when `yes` (the --yes flag); else asks "`question` [y/N]" on a terminal, and without a terminal to
    /// ask on (a script, a pipe) refuses: `refusal` says what would happen and that nothing was done.
    static func require(_ yes: Bool, question: String, refusal: String) throws {
        if yes { return }
        guard isatty(STDIN_FILENO) == 1 else {
            throw CommandFailure(
                "\(refusal); nothing done. Add --yes to confirm (standard input is not a terminal to ask on).")
        }
        FileHandle.standardError.write(Data("\(question) [y/N] ".utf8))
        let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        guard answer == "y" || answer == "yes" else { throw CommandFailure("not confirmed; nothing done") }
    }
}
