// `kioskctl report`: a support bundle (.tar.gz) without images, tokens, keys or secrets.
import ArgumentParser
import Foundation
import KioskCore

struct ReportCommand: AsyncParsableCommand, KioskctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a support bundle (.tar.gz): configuration (redacted), doctor, status, events, logs, versions.",
        discussion: """
            The bundle holds: the configuration file and KIOSK_* variables with secret values \
            redacted, doctor's JSON, kioskd's status, the last 500 journal events, the last 300 \
            lines of the unit's system journal, the versions of the agent, Swift and the system \
            libraries, the kernel and the camera and GPIO devices. Never an image, a token, a \
            key or a secret: every file is scanned for the secrets this machine holds. The file \
            is written mode 0600 and an existing one is replaced only with --force. Run as root \
            (or the service user) to include what only kioskd can read.
            """
    ).compactUsage("kioskctl report --out <file.tar.gz> [<options>]")

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("Where to write the bundle.", valueName: "file.tar.gz"))
    var out: String

    @Flag(name: .long, help: "Replace the file if it exists.")
    var force = false

    /// Tests point this at a unit file of their own (owner and credential names).
    @Option(name: .long, help: .private)
    var unitFile: String?

    func run() async throws {
        let unit = try InstalledUnit.load(named: unitFile)
        if !force, FileManager.default.fileExists(atPath: out) {
            throw CommandFailure(.outputFile, "\(out) exists; give --force to replace it, or another --out")
        }
        let config = global.configurationFile ?? ConfigurationLoader.defaultFile
        let bundle = ReportBundle(
            configFile: config, environment: ProcessInfo.processInfo.environment, unit: unit, doctor: nil)
        let files = await bundle.files()
        let (out, force) = (self.out, self.force)
        let written = await Bounded.blocking("report-write", within: .seconds(60)) { () -> ReportError? in
            do throws(ReportError) {
                try ReportBundle.write(files, to: out, force: force)
                return nil
            } catch {
                return error
            }
        }
        switch written {
        case nil:
            throw CommandFailure(.outputFile, "writing \(out) took over 60 s; check the disk")
        case .some(let error?):
            throw CommandFailure(.outputFile, error.description)
        case .some(nil):
            if global.json {
                JSONOutput.print(["out": out, "files": files.keys.sorted(), "mode": "0600"])
            } else {
                print("\(out): \(files.count) files (\(files.keys.sorted().joined(separator: ", "))), mode 0600")
            }
        }
    }
}
