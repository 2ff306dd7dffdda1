// GlobalOptions: --config, --json and --verbose, the options every kioskctl command takes.
package import ArgumentParser
import Foundation
package import KioskCore

/// The options every `kioskctl` leaf command takes, through one `@OptionGroup var global:
/// GlobalOptions`. A command that has them conforms to ``KioskctlCommand`` so that its
/// failures are reported the same way (text on stderr, `--json` error object on stdout, the
/// status of ``KioskctlExit``).
package struct GlobalOptions: ParsableArguments, Sendable {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "kioskd's configuration file (default: \(ConfigurationLoader.defaultFile) when it exists).", valueName: "file"))
    package var config: String?

    @Flag(name: .long, help: "Print JSON (one object; shapes in docs/KIOSKCTL.md).")
    package var json = false

    @Flag(name: [.customShort("v"), .long], help: "Say more on stderr: which files were read, timings.")
    package var verbose = false

    package init() {}

    /// The configuration file to read: `--config`, else the default file when it exists, else
    /// none (defaults and `KIOSK_*` environment variables only).
    package var configurationFile: String? {
        if let config { return config }
        return FileManager.default.fileExists(atPath: ConfigurationLoader.defaultFile) ? ConfigurationLoader.defaultFile : nil
    }

    /// kioskd's configuration, read by kioskd's own loader (same layers: environment > file >
    /// defaults), so every command sees what the daemon sees.
    package func loadConfiguration(environment: [String: String] = ProcessInfo.processInfo.environment) async throws(CommandFailure)
        -> KioskConfiguration
    {
        let file = configurationFile
        note("configuration: \(file ?? "none (defaults and KIOSK_* environment)")")
        do {
            return try await ConfigurationLoader(file: file, environment: environment).load()
        } catch {
            throw CommandFailure(.configuration, "\(error)")
        }
    }

    /// A line on stderr when `--verbose` is given (never on stdout: JSON stays parseable).
    package func note(_ message: @autoclosure () -> String) {
        guard verbose else { return }
        FileHandle.standardError.write(Data("kioskctl: \(message())\n".utf8))
    }
}

/// A command whose failures go through ``CommandFailure`` reporting at the root; it has the
/// global options.
package protocol KioskctlCommand: ParsableCommand {
    var global: GlobalOptions { get }
}
