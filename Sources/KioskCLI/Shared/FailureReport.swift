// FailureReport: how every kioskctl failure reaches the user: stderr text, --json object, exit status.
import ArgumentParser
import Foundation

/// Prints a failure the one way kioskctl does: the message on stderr (`kioskctl: …`), and with
/// `--json` also the error object on stdout, so a fleet tool always gets one JSON document.
enum FailureReport {
    static func print(_ failure: CommandFailure, json: Bool) {
        if json { JSONOutput.print(failure.jsonObject) }
        FileHandle.standardError.write(Data("kioskctl: \(failure.message)\n".utf8))
    }

    /// Parses `arguments`, runs the chosen command, and exits with its ``KioskctlExit`` status.
    static func run(_ arguments: [String]) async -> Never {
        var command: any ParsableCommand
        do {
            command = try KioskControl.parseAsRoot(arguments)
        } catch {
            // Help, version and usage errors: the parser's own text; usage is 64 like ours.
            KioskControl.exit(withError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ExitCode {
            // A command that has printed its own outcome (doctor's checks).
            exit(error.rawValue)
        } catch let error as CleanExit {
            // The root command without a subcommand: its help.
            KioskControl.exit(withError: error)
        } catch {
            // `kioskctl SUB --help` parses to the parser's own help command, which "fails" with
            // a help request: the parser prints it and exits 0.
            if KioskControl.exitCode(for: error) == .success {
                KioskControl.exit(withError: error)
            }
            let failure = CommandFailure.classify(error)
            print(failure, json: (command as? any KioskctlCommand)?.global.json ?? false)
            exit(failure.exit.rawValue)
        }
        exit(KioskctlExit.success.rawValue)
    }
}

/// JSON printing shared by the commands: sorted keys, slashes unescaped, one document per line.
enum JSONOutput {
    /// Prints a `JSONSerialization` object (dictionaries, arrays, strings, numbers, booleans).
    static func print(_ object: Any) {
        guard JSONSerialization.isValidJSONObject(object),
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else {
            Swift.print("{}")
            return
        }
        Swift.print(String(decoding: data, as: UTF8.self))
    }
}
