// `kioskctl doctor`: every check of a door terminal in one run, one line each, with the fix.
import ArgumentParser
import Foundation
import KioskCore

struct DoctorCommand: AsyncParsableCommand, KioskctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check everything kioskd needs, one line each (✓ ok, ! warning, ✗ failed), with the fix.",
        discussion: """
            Checks the configuration (as kioskd --check-config), the credentials and outbox key \
            files, the camera (opens, format, 2 s of frames, controls), the detector (model, \
            sha256, a live frame, face size), GPIO (chip, lines free or held by kioskd, relay \
            active-low), the server (DNS, TCP, TLS certificate, HTTP, token, project), the clock \
            against the server's, the queue (integrity, depth, free space) and systemd (unit \
            state, restarts, watchdog kills). Finishes within 15 s; changes nothing (the relay \
            is pulsed only with --pulse-relay). A device kioskd holds is reported as such, not \
            as broken: stop kioskd to test it.
            Exit status: 0 nothing failed and no warning, 1 something failed, 2 only warnings.
            --json prints {"config", "checks": [{"id", "status": "ok|warning|failed", \
            "finding", "fix"}], "summary", "exit_code", "elapsed_ms"}.
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(name: .long, help: "Pulse the relay for 1 s (the lock clicks) when kioskd does not hold it.")
    var pulseRelay = false

    /// Tests point this at a unit file of their own (owner and credential names).
    @Option(name: .long, help: .private)
    var unitFile: String?

    func run() async throws {
        let unit = try InstalledUnit.load(named: unitFile)
        let config = global.configurationFile ?? ConfigurationLoader.defaultFile
        global.note("doctor: configuration \(config), unit \(unit.path ?? "not installed (defaults: User=\(unit.user))")")
        let report = await DoctorRunner.run(
            configFile: config, environment: ProcessInfo.processInfo.environment, pulseRelay: pulseRelay, unit: unit)
        print(global.json ? try report.json() : report.text())
        switch report.exitCode {
        case DoctorExit.failed: throw ExitCode(KioskctlExit.failure.rawValue)
        case DoctorExit.warningsOnly: throw ExitCode(KioskctlExit.warnings.rawValue)
        default: break
        }
    }
}
