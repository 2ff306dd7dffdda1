// kioskd's entry point: parses arguments, sets up logging, loads the configuration and runs KioskAgent.
public import ArgumentParser
import Foundation
import KioskCore
public import Logging
import Threading

/// `kioskd`: the face check-in daemon. Wiring only: parse arguments, set up logging, load the
/// configuration, run `KioskAgent`.
@main
struct Kioskd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kioskd",
        abstract: "The kiosk agent: face check-in at the door (runs under systemd, Type=notify).",
        discussion: """
            Configuration: one YAML file (default \(ConfigurationLoader.defaultFile)); every key can be \
            overridden by an environment variable (KIOSK_ + key in capitals, dots as underscores) \
            or by --set key=value. See config/kioskd.yaml for every key.
            Exit status: 0 on a clean stop; 1 on a configuration error (including a bad schedule, \
            URL or condition found at start); 2 when a part outside the file cannot start (GPIO, \
            detector model, camera, credentials). The last log line names the part and a code \
            (KIOSK-START-…).
            """)

    // Not CommandConfiguration.version: that text is built on every start, and reading each
    // library's version (dpkg's status file for libv4l2) is only worth doing when asked.
    @Flag(help: "Print the version, git commit, Swift compiler and each system library's version, and exit.")
    var version = false

    @Option(name: .shortAndLong, help: "The configuration file.")
    var config: String = ConfigurationLoader.defaultFile

    @Option(
        name: .customLong("set"),
        help: ArgumentHelp("Override one key, e.g. --set pipeline.cooldown=8s (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    @Flag(help: "Validate the configuration (keys, values, referenced files) and exit 0 or 1.")
    var checkConfig = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        if version {
            print(KioskVersion.report(program: "kioskd"))
            return
        }
        let environment = ProcessInfo.processInfo.environment
        // Before the agent starts its threads (MallocTuning says why; the environment's wins).
        let malloc = MallocTuning.apply(environment: environment)
        let level = logLevel
        let journald = KioskLogHandler.underJournald
        LoggingSystem.bootstrap { label in KioskLogHandler(label: label, level: level, journald: journald) }
        let logger = Logger(label: "kioskd")
        logger.debug("malloc: \(malloc.isEmpty ? "as the environment sets it" : malloc)")

        let file = config
        let pairs: [String: String]
        do {
            pairs = try ConfigurationLoader.parseOverrides(overrides)
        } catch {
            FileHandle.standardError.write(Data("kioskd: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let loader = ConfigurationLoader(file: file, environment: environment, overrides: pairs)
        let configuration: KioskConfiguration
        do {
            configuration = try await loader.load()
        } catch {
            FileHandle.standardError.write(Data("kioskd: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if checkConfig {
            let issues = configuration.preflight(file: file, environment: environment)
            if issues.isEmpty {
                print("kioskd: \(file) is valid")
                return
            }
            FileHandle.standardError.write(Data(("kioskd: \(ConfigurationError(issues: issues))\n").utf8))
            throw ExitCode(1)
        }

        var agent = KioskAgent(configuration: configuration, logger: logger, environment: environment)
        agent.reload = { try await loader.load() }
        do {
            try await agent.run()
        } catch let error as StartupError {
            logger.critical(
                "cannot start: \(error)",
                metadata: [
                    "startup.part": "\(error.part.rawValue)",
                    "startup.code": "\(error.part.code)",
                ])
            throw ExitCode(error.exitStatus)
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
