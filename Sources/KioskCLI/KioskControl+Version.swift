// `kioskctl --version`: the same build and library versions as `kioskd --version`.
import ArgumentParser
import KioskCore

extension KioskControl {
    /// Runs when no subcommand is given: `--version` prints the versions, anything else the help.
    package func run() async throws {
        guard version else { throw CleanExit.helpRequest(self) }
        print(KioskVersion.report(program: "kioskctl"))
    }
}
