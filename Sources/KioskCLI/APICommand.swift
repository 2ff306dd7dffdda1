// `kioskctl api …`: one subcommand per Face AiDee operation, for enrolment and support.

import ArgumentParser
import FaceAiDee
import Foundation
import KioskCore

/// `kioskctl api`: talk to the Face AiDee API (or aidee-sim) directly.
struct APICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Call the Face AiDee API directly: keys, tokens, projects, users, faces, check-in, search.",
        discussion: """
            Server URL, project and credentials come from flags, then the environment \
            (KIOSK_API_URL, KIOSK_PROJECT_ID, KIOSK_CREDENTIALS), then kioskd's configuration file \
            (--config, default \(ConfigurationLoader.defaultFile) when it exists: api.url, \
            api.project_id, api.credentials_file, api.ca_file, api.verify_tls, timeouts).

            Exit status: 0 success, 64 usage, 66 input file unreadable, 73 output file not \
            writable, 77 authentication refused (401/403), 3 not found or no match (404), \
            4 conditions not met (409), 5 input rejected by the server (400), 69 server error \
            (5xx, 429, unreadable answer), 75 network, timeout or TLS, 78 configuration \
            (config file, credentials file, URL). See docs/API.md.
            """,
        subcommands: [
            APIKeyCommand.self, APITokenCommand.self, APIProjectsCommand.self, APIUsersCommand.self,
            APIFacesCommand.self, APICheckInCommand.self, APISearchCommand.self,
        ]
    )
}

/// Options every `kioskctl api` leaf command takes.
struct APIOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "Server root, e.g. https://api.example.com (env KIOSK_API_URL; default from the config file, else http://127.0.0.1:8080).")
    var url: String?

    @Option(name: .long, help: "Project id (env KIOSK_PROJECT_ID; default from the config file).")
    var project: Int?

    @Option(name: .long, help: "API credentials file, mode 0600 (env KIOSK_CREDENTIALS; default from the config file).")
    var credentials: String?

    @Option(name: .long, help: "PEM CA file to trust instead of the system store.")
    var caFile: String?

    @Flag(name: .long, help: "Do not verify the server's TLS certificate (lab servers only).")
    var insecure = false

    @Option(name: .long, help: "Whole-request timeout in seconds (default from the config file, else 15).")
    var timeout: Double?

    @OptionGroup var global: GlobalOptions

    var json: Bool { global.json }
}

/// How `kioskctl api` failures map onto the shared exit classes (``KioskctlExit``).
enum APIExit {
    /// The status for a failed API call.
    static func code(for error: FaceAiDeeError) -> KioskctlExit {
        switch error {
        // A check-in with no answer may have been recorded: the network class, but its own kind.
        case .network, .timeout, .tls, .cancelled, .noAnswer: return .temporary
        case .undecodableBody: return .unavailable
        case .configuration, .credentials: return .configuration
        case .http(_, let status, _):
            switch status {
            case 401, 403: return .permission
            case 404: return .notFound
            case 409: return .conflict
            case 429, 500...599: return .unavailable
            case 400...499: return .rejected
            default: return .unavailable
            }
        }
    }

    /// The failure's class name in `--json` output.
    static func kind(for error: FaceAiDeeError) -> String {
        switch error {
        case .network: return "network"
        case .timeout: return "timeout"
        case .noAnswer: return "no_answer"
        case .tls: return "tls"
        case .cancelled: return "cancelled"
        case .undecodableBody: return "undecodable"
        case .configuration: return "configuration"
        case .credentials: return "credentials"
        case .http(_, let status, _):
            switch status {
            case 401, 403: return "auth"
            case 404: return "not_found"
            case 409: return "conflict"
            case 400...499: return "bad_request"
            default: return "server"
            }
        }
    }
}

/// Where the settings come from, resolved once per command.
struct ResolvedAPISettings {
    var configuration: FaceAiDeeConfiguration
    var projectID: Int?
    var credentialsFile: String

    /// Flags > environment > configuration file > defaults.
    static func resolve(_ options: APIOptions, environment: [String: String] = ProcessInfo.processInfo.environment) async throws
        -> ResolvedAPISettings
    {
        // The config file is read only when named or present at the default place; without it the
        // loader still supplies defaults and its own KIOSK_API_* variables.
        let file = options.global.configurationFile
        let settings: APISettings
        do {
            settings = try await ConfigurationLoader(file: file, environment: environment).load().api
        } catch {
            throw CommandFailure(.configuration, "\(error)")
        }
        var configuration = FaceAiDeeConfiguration(
            baseURL: settings.url, connectTimeout: settings.connectTimeout,
            requestTimeout: max(settings.requestTimeout, .seconds(15)),
            caFile: settings.caFile, verifyTLS: settings.verifyTLS, renewalMargin: settings.tokenRenewMargin,
            userAgent: "kioskctl")
        var projectID: Int? = file == nil && environment["KIOSK_API_PROJECT_ID"] == nil ? nil : settings.projectID
        var credentials = KioskConfiguration.resolveSecretPath(settings.credentialsFile, environment: environment)

        if let url = environment["KIOSK_API_URL"], !url.isEmpty { configuration.baseURL = url }
        if let text = environment["KIOSK_PROJECT_ID"], !text.isEmpty {
            guard let value = Int(text), value > 0 else {
                throw CommandFailure(.usage, "KIOSK_PROJECT_ID='\(text)' is not a project id (a positive integer)")
            }
            projectID = value
        }
        if let path = environment["KIOSK_CREDENTIALS"], !path.isEmpty { credentials = path }

        if let url = options.url { configuration.baseURL = url }
        if let project = options.project { projectID = project }
        if let path = options.credentials { credentials = path }
        if let caFile = options.caFile { configuration.caFile = caFile }
        if options.insecure { configuration.verifyTLS = false }
        if let timeout = options.timeout {
            guard timeout > 0 else {
                throw CommandFailure(.usage, "--timeout must be positive")
            }
            configuration.requestTimeout = .milliseconds(Int(timeout * 1000))
            configuration.connectTimeout = min(configuration.connectTimeout, configuration.requestTimeout)
        }
        return ResolvedAPISettings(configuration: configuration, projectID: projectID, credentialsFile: credentials)
    }

    func requireProject() throws -> Int {
        guard let projectID else {
            throw CommandFailure(
                .usage,
                "no project: give --project N, set KIOSK_PROJECT_ID, or set api.project_id in the config file (list them with `kioskctl api projects`)"
            )
        }
        return projectID
    }
}

/// Runs one API action with resolved settings, prints its result, and maps failures to exit codes.
enum APIRunner {
    /// - Parameters:
    ///   - needsCredentials: false only for `key issue`.
    ///   - action: the call; returns the human text and the JSON object to print.
    static func run(
        _ options: APIOptions, needsCredentials: Bool = true,
        _ action: (FaceAiDeeClient, ResolvedAPISettings) async throws -> (text: String, json: [String: Any])
    ) async throws {
        do {
            let settings = try await ResolvedAPISettings.resolve(options)
            let credentials = needsCredentials ? try APICredentials.load(from: settings.credentialsFile) : nil
            let client = try FaceAiDeeClient(configuration: settings.configuration, credentials: credentials)
            let result: (text: String, json: [String: Any])
            do {
                result = try await action(client, settings)
            } catch {
                // One-shot commands do not leave tokens behind on the server.
                await client.shutdown()
                throw error
            }
            await client.shutdown()
            if options.json {
                printJSON(result.json)
            } else if !result.text.isEmpty {
                print(result.text)
            }
        } catch {
            // Reported by the root command, like every kioskctl failure (KioskctlExit).
            throw CommandFailure.classify(error)
        }
    }

    static func printJSON(_ object: [String: Any]) { JSONOutput.print(object) }

    /// Reads an image file (JPEG or PNG, sent as-is).
    static func readImage(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandFailure(.inputFile, "cannot read image file \(path); check the path and its permissions")
        }
        let bytes = [UInt8](data)
        let isJPEG = bytes.starts(with: [0xFF, 0xD8, 0xFF])
        let isPNG = bytes.starts(with: [0x89, 0x50, 0x4E, 0x47])
        guard isJPEG || isPNG else {
            throw CommandFailure(.inputFile, "\(path) is not a JPEG or PNG file")
        }
        return bytes
    }

    /// Parses `--condition` JSON, e.g. `{"group_id": 2, "properties": {"site": "seoul"}}`.
    static func parseCondition(_ text: String?) throws -> CheckInCondition {
        guard let text, !text.isEmpty else { return CheckInCondition() }
        do {
            return try JSONDecoder().decode(CheckInCondition.self, from: Data(text.utf8))
        } catch {
            throw CommandFailure(
                .usage,
                "--condition is not a condition object like {\"group_id\": 2, \"properties\": {\"site\": \"seoul\"}} (property values are strings): \(error)"
            )
        }
    }

    /// Parses repeated `--property key=value` flags.
    static func parseProperties(_ items: [String]) throws -> [String: String]? {
        guard !items.isEmpty else { return nil }
        var result: [String: String] = [:]
        for item in items {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw CommandFailure(.usage, "--property '\(item)' is not key=value")
            }
            result[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        return result
    }
}
