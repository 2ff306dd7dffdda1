// ConfigurationLoader: reads flags, KIOSK_* variables, YAML and defaults, reporting every bad key at once.
import Configuration
import Foundation
import SystemPackage
import Yams

/// Reads ``KioskConfiguration`` from its layered sources, highest priority first:
/// `--set key=value` flags, `KIOSK_*` environment variables, the YAML file, built-in defaults.
///
/// Nothing falls back silently: a value that is present but wrong (a typo in a duration, an
/// unknown enum case, a key the agent does not know) is reported with its key and source, and
/// every problem is collected so the installer can fix them in one pass.
package struct ConfigurationLoader: Sendable {
    /// Default location of the main file.
    package static let defaultFile = "/etc/kiosk-agent/kioskd.yaml"
    /// Prefix of the environment variables that override keys: `api.url` ← `KIOSK_API_URL`.
    package static let environmentPrefix = "KIOSK_"

    package var file: String?
    package var environment: [String: String]
    /// `key=value` pairs from the command line.
    package var overrides: [String: String]

    /// - Parameters:
    ///   - file: the YAML file; `nil` runs on defaults, environment and flags only.
    ///   - environment: usually `ProcessInfo.processInfo.environment`.
    ///   - overrides: from repeated `--set key=value` flags.
    package init(file: String?, environment: [String: String] = [:], overrides: [String: String] = [:]) {
        self.file = file
        self.environment = environment
        self.overrides = overrides
    }

    /// Parses `key=value` flag arguments, reporting malformed ones.
    package static func parseOverrides(_ arguments: [String]) throws(ConfigurationError) -> [String: String] {
        var result: [String: String] = [:]
        var issues: [ConfigurationIssue] = []
        for argument in arguments {
            guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
                issues.append(.init(key: argument, source: "flag --set", message: "expected key=value, e.g. --set pipeline.cooldown=5s"))
                continue
            }
            result[String(argument[..<equals])] = String(argument[argument.index(after: equals)...])
        }
        if !issues.isEmpty { throw ConfigurationError(issues: issues) }
        return result
    }

    /// Reads and validates everything.
    package func load() async throws(ConfigurationError) -> KioskConfiguration {
        var providers: [any ConfigProvider] = []
        // Flags and the environment share one key encoding (API_PROJECT_ID ← api.project_id).
        providers.append(EnvironmentVariablesProvider(environmentVariables: Self.environmentStyle(overrides)))
        var stripped: [String: String] = [:]
        for (name, value) in environment where name.hasPrefix(Self.environmentPrefix) {
            stripped[String(name.dropFirst(Self.environmentPrefix.count))] = value
        }
        providers.append(EnvironmentVariablesProvider(environmentVariables: stripped))

        var fileKeys: [String: Int] = [:]
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ConfigurationError(
                    fileProblem:
                        "\(file): cannot read the configuration file (\(Self.reason(error))); check the path given to --config and its permissions"
                )
            }
            do {
                fileKeys = try Self.leafKeys(ofYAML: text)
                providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(file)))
            } catch {
                throw ConfigurationError(fileProblem: "\(file): not valid YAML: \(error)")
            }
        }

        let reader = Reader(
            config: ConfigReader(providers: providers), overrides: overrides,
            environment: environment, file: file ?? "defaults")
        var configuration = KioskConfiguration()
        configuration.read(from: reader)

        // Keys nobody reads are typos or settings from another version: say so.
        for (key, line) in fileKeys.sorted(by: { $0.key < $1.key }) where !reader.knownKeys.contains(key) {
            reader.issues.append(
                .init(
                    key: key, source: "\(file ?? "file"):\(line)",
                    message: "unknown key\(Self.suggestion(for: key, among: reader.knownKeys))"))
        }
        for key in overrides.keys.sorted() where !reader.knownKeys.contains(key) {
            reader.issues.append(
                .init(key: key, source: "flag --set", message: "unknown key\(Self.suggestion(for: key, among: reader.knownKeys))"))
        }
        configuration.validate(in: reader)
        if !reader.issues.isEmpty { throw ConfigurationError(issues: reader.issues) }
        return configuration
    }

    /// Every key this version understands, with its environment variable (for docs and `--help`):
    /// the keys the sections read, collected by reading them from nothing. (An empty provider,
    /// not an empty list: `ConfigReader` requires at least one.)
    package static var knownKeys: [String] {
        let nothing = InMemoryProvider(values: [:])
        let reader = Reader(config: ConfigReader(providers: [nothing]), overrides: [:], environment: [:], file: "")
        var scratch = KioskConfiguration()
        scratch.read(from: reader)
        return reader.knownKeys.sorted()
    }

    /// The environment variable that overrides `key`.
    package static func environmentName(for key: String) -> String {
        environmentPrefix + key.replacingOccurrences(of: ".", with: "_").uppercased()
    }

    static func environmentStyle(_ pairs: [String: String]) -> [String: String] {
        var result: [String: String] = [:]
        for (key, value) in pairs {
            result[key.replacingOccurrences(of: ".", with: "_").uppercased()] = value
        }
        return result
    }

    /// Dotted paths of the scalar and sequence leaves of a YAML mapping, with the (1-based) line
    /// of each leaf's key.
    static func leafKeys(ofYAML text: String) throws -> [String: Int] {
        guard let root = try Yams.compose(yaml: text) else { return [:] }
        var keys: [String: Int] = [:]
        func walk(_ node: Node, prefix: String, line: Int) {
            guard let mapping = node.mapping else {
                keys[prefix] = line
                return
            }
            for (key, value) in mapping {
                let name = key.string ?? "?"
                walk(value, prefix: prefix.isEmpty ? name : "\(prefix).\(name)", line: key.mark?.line ?? 0)
            }
        }
        if root.mapping != nil { walk(root, prefix: "", line: 0) }
        return keys
    }

    static func suggestion(for key: String, among known: Set<String>) -> String {
        let leaf = key.split(separator: ".").last.map(String.init) ?? key
        let close = known.filter { $0.hasSuffix(".\(leaf)") || $0 == leaf }.sorted()
        if let first = close.first { return "; did you mean '\(first)'?" }
        return "; see config/kioskd.yaml for the keys this version reads"
    }

    static func reason(_ error: any Error) -> String {
        (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
    }
}

/// Typed reads with provenance. A class because it accumulates issues and known keys while the
/// sections are read; it never leaves `load()`. Sections see it through ``SectionReader``.
final class Reader {
    let config: ConfigReader
    let overrides: [String: String]
    let environment: [String: String]
    let file: String
    var issues: [ConfigurationIssue] = []
    var knownKeys: Set<String> = []

    init(config: ConfigReader, overrides: [String: String], environment: [String: String], file: String) {
        self.config = config
        self.overrides = overrides
        self.environment = environment
        self.file = file
    }

    func source(of key: String) -> String {
        if overrides[key] != nil { return "flag --set \(key)" }
        let env = ConfigurationLoader.environmentName(for: key)
        if environment[env] != nil { return "environment \(env)" }
        return file
    }

    private func present(_ key: String) -> String? {
        knownKeys.insert(key)
        if let text = config.string(forKey: ConfigKey(key)) { return text }
        if config.stringArray(forKey: ConfigKey(key)) != nil {
            fail(key, "expected a single value, found a list")
        }
        return nil
    }

    /// Records a problem with `key`, naming where its value came from.
    func report(_ key: String, _ message: String) {
        issues.append(.init(key: key, source: source(of: key), message: message))
    }

    private func fail(_ key: String, _ message: String) { report(key, message) }

    func string(_ key: String, _ value: inout String) {
        if let text = present(key) { value = text }
    }

    func optionalString(_ key: String, _ value: inout String?) {
        if let text = present(key) { value = text.isEmpty ? nil : text }
    }

    func int(_ key: String, _ value: inout Int, range: ClosedRange<Int>) {
        guard let text = present(key) else { return }
        guard let parsed = Int(text.trimmingCharacters(in: .whitespaces)) else {
            return fail(key, "'\(text)' is not a whole number")
        }
        guard range.contains(parsed) else {
            return fail(key, "\(parsed) is outside \(range.lowerBound)…\(range.upperBound)")
        }
        value = parsed
    }

    func optionalInt(_ key: String, _ value: inout Int?) {
        guard let text = present(key) else { return }
        if text.isEmpty {
            value = nil
            return
        }
        guard let parsed = Int(text.trimmingCharacters(in: .whitespaces)) else {
            return fail(key, "'\(text)' is not a whole number")
        }
        value = parsed
    }

    func double(_ key: String, _ value: inout Double, range: ClosedRange<Double>) {
        guard let text = present(key) else { return }
        guard let parsed = Double(text.trimmingCharacters(in: .whitespaces)), parsed.isFinite else {
            return fail(key, "'\(text)' is not a number")
        }
        guard range.contains(parsed) else {
            return fail(key, "\(parsed) is outside \(range.lowerBound)…\(range.upperBound)")
        }
        value = parsed
    }

    func bool(_ key: String, _ value: inout Bool) {
        guard let text = present(key) else { return }
        switch text.lowercased() {
        case "true", "yes", "on", "1": value = true
        case "false", "no", "off", "0": value = false
        default: fail(key, "'\(text)' is not true or false")
        }
    }

    func duration(_ key: String, _ value: inout Duration, max: Duration = .seconds(365 * 86400)) {
        guard let text = present(key) else { return }
        guard let parsed = ConfigDuration.parse(text) else {
            return fail(key, "'\(text)' is not a duration (examples: 600ms, 3s, 5m, 2h, 7d)")
        }
        guard parsed <= max else { return fail(key, "\(text) is longer than \(ConfigDuration.format(max))") }
        value = parsed
    }

    func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ value: inout T) where T.RawValue == String {
        guard let text = present(key) else { return }
        guard let parsed = T(rawValue: text) else {
            return fail(key, "'\(text)' is not one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        value = parsed
    }

    func stringList(_ key: String, _ value: inout [String]) {
        knownKeys.insert(key)
        if let list = config.stringArray(forKey: ConfigKey(key)) {
            value = list.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        } else if let text = config.string(forKey: ConfigKey(key)) {
            value = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }
}
