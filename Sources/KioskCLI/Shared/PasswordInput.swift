// PasswordInput: the account password from stdin or a prompt with echo off, never from argv.
import Foundation

/// Reads the account password without it ever being on the command line (where `ps` and the
/// shell history would keep it): from standard input with `--password-stdin`, else from a
/// prompt on the terminal with echo off.
enum PasswordInput {
    /// The reason `--password VALUE` is refused.
    static let onCommandLineRefused =
        "--password VALUE is no longer accepted: a password on the command line is visible in `ps` and the shell history; pipe it with --password-stdin (e.g. `kioskctl api key issue --username U --password-stdin < file`) or leave both out to be asked"

    static func read(fromStandardInput: Bool) throws(CommandFailure) -> String {
        if fromStandardInput {
            return try parse(FileHandle.standardInput.readDataToEndOfFile())
        }
        guard isatty(STDIN_FILENO) == 1 else {
            throw CommandFailure(.usage, "no password: give --password-stdin and pipe it in, or run on a terminal to be asked")
        }
        return try prompt("Password: ")
    }

    /// The password from what was piped in: one line, its line end removed; empty is refused.
    static func parse(_ data: Data) throws(CommandFailure) -> String {
        // Bytes, not Characters: "\r\n" is one Character in Swift and would hide the line end.
        var bytes = [UInt8](data)
        if bytes.last == 0x0A { bytes.removeLast() }
        if bytes.last == 0x0D { bytes.removeLast() }
        guard !bytes.isEmpty else { throw CommandFailure(.usage, "--password-stdin: standard input was empty") }
        guard !bytes.contains(0x0A), !bytes.contains(0x0D) else {
            throw CommandFailure(.usage, "--password-stdin: expected one line, got several")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Asks on the terminal with echo off (termios), restoring the terminal's settings after.
    private static func prompt(_ text: String) throws(CommandFailure) -> String {
        FileHandle.standardError.write(Data(text.utf8))
        var saved = termios()
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else {
            throw CommandFailure(.usage, "cannot read the terminal's settings to ask for the password; use --password-stdin")
        }
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        silent.c_lflag |= tcflag_t(ECHONL)
        // Ctrl-C (or a hang-up, or a kill) at the prompt must not leave the technician's terminal
        // without echo: the handlers put the saved settings back, then let the signal do what it
        // would have done.
        TerminalRestore.arm(saved)
        defer { TerminalRestore.disarm() }
        guard tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent) == 0 else {
            throw CommandFailure(.usage, "cannot turn off echo to ask for the password; use --password-stdin")
        }
        let line = Swift.readLine(strippingNewline: true)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
        guard let line, !line.isEmpty else { throw CommandFailure(.usage, "no password given") }
        return line
    }
}

/// The terminal settings to put back if a signal ends the process while echo is off. A C signal
/// handler cannot capture context, hence the process-wide storage; it is written only before the
/// handlers are installed and after they are removed.
private enum TerminalRestore {
    nonisolated(unsafe) static var saved = termios()
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

    static func arm(_ settings: termios) {
        saved = settings
        for number in signals {
            signal(number) { number in
                // Only async-signal-safe calls here: tcsetattr, signal, raise.
                tcsetattr(STDIN_FILENO, TCSAFLUSH, &TerminalRestore.saved)
                signal(number, SIG_DFL)
                raise(number)
            }
        }
    }

    static func disarm() {
        for number in signals { signal(number, SIG_DFL) }
    }
}
