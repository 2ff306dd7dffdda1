// aidee-sim: a local Face AiDee-compatible server (wiring only; the logic is in AiDeeSimulator).
import AiDeeSimulator
public import ArgumentParser
import Foundation
public import Logging

@main
struct AiDeeSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aidee-sim",
        abstract: "A local Face AiDee-compatible server with real face matching (see docs/SIMULATOR.md).")

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one and prints it).")
    var port = 8080

    @Option(help: "Folder for simulator.sqlite (state kept across restarts). Without it, state lives in memory.")
    var data: String?

    @Option(help: "Folder with the YuNet and dlib model files (default: $KIOSK_ASSETS/models or ./.assets/models).")
    var models: String?

    @Option(
        name: .customLong("account"), help: "An account: user:password, or user:password:nokeys (POST /auth/key answers 403). Repeatable.")
    var accounts: [String] = []

    @Option(name: .customLong("project"), help: "A project: ID:NAME, or ID:NAME:user1,user2 to limit it to those accounts. Repeatable.")
    var projects: [String] = []

    @Option(help: "Token lifetime in seconds.")
    var tokenTTL: Double = 3600

    @Option(help: "Largest request body in bytes (bigger answers 400).")
    var maxBodyBytes = 10 * 1024 * 1024

    @Option(
        name: .customLong("fault"),
        help:
            "A fault rule: OPERATION:status=CODE[:rate=R], OPERATION:drop[:rate=R], OPERATION:latency=MS[:rate=R] or OPERATION:date-offset=SECONDS[:rate=R] (shifted Date header); OPERATION is an operationId or *. Repeatable."
    )
    var faults: [String] = []

    @Option(help: "Seed for fault rates (repeatable runs).")
    var faultSeed: UInt64?

    @Flag(help: "Load the face models at start instead of on the first image.")
    var warmUp = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        for a in accounts where SimulatorAccount(argument: a) == nil {
            throw ValidationError("--account '\(a)': use user:password or user:password:nokeys")
        }
        for p in projects where SimulatorProject(argument: p) == nil {
            throw ValidationError("--project '\(p)': use ID:NAME or ID:NAME:user1,user2 with a positive integer ID")
        }
        for f in faults {
            do { _ = try FaultRule(argument: f) } catch { throw ValidationError("--fault: \(error.description)") }
        }
    }

    func run() async throws {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "aidee-sim")
        let configuration = SimulatorConfiguration(
            host: host, port: port, dataDirectory: data.map { URL(fileURLWithPath: $0) },
            modelsDirectory: models.map { URL(fileURLWithPath: $0) } ?? SimulatorConfiguration.defaultModelsDirectory(),
            accounts: accounts.compactMap(SimulatorAccount.init(argument:)),
            projects: projects.compactMap(SimulatorProject.init(argument:)),
            tokenTTL: tokenTTL, maxBodyBytes: maxBodyBytes,
            faults: try faults.map { try FaultRule(argument: $0) }, faultSeed: faultSeed)
        let server: AiDeeSimulatorServer
        do {
            server = try await AiDeeSimulatorServer.start(configuration, handleSignals: true, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        }
        if warmUp { try await server.warmUp() }
        // One machine-readable line on stdout so scripts can find the port when --port 0.
        FileHandle.standardOutput.write(Data("aidee-sim listening on http://\(server.host):\(server.port)/api/v1\n".utf8))
        try await server.waitUntilStopped()
        logger.info("aidee-sim stopped")
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
