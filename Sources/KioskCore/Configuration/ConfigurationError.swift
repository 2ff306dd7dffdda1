/// One thing wrong with the configuration: which key, where it came from, and what to do.
public struct ConfigurationIssue: Sendable, Equatable, CustomStringConvertible {
    /// Dotted key, e.g. `pipeline.cooldown`.
    public var key: String
    /// Where the offending value came from: the file path, `environment KIOSK_…` or `flag --set …`.
    public var source: String
    public var message: String

    public init(key: String, source: String, message: String) {
        self.key = key
        self.source = source
        self.message = message
    }

    public var description: String { "\(source): \(key): \(message)" }
}

/// The configuration could not be used. Lists every problem found, not just the first, so an
/// installer fixes the file in one pass.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var issues: [ConfigurationIssue]
    /// Set when the file itself could not be read or parsed.
    public var fileProblem: String?

    public init(issues: [ConfigurationIssue] = [], fileProblem: String? = nil) {
        self.issues = issues
        self.fileProblem = fileProblem
    }

    public var description: String {
        var lines: [String] = []
        if let fileProblem { lines.append(fileProblem) }
        lines += issues.map(\.description)
        let count = issues.count + (fileProblem == nil ? 0 : 1)
        return "configuration has \(count) problem\(count == 1 ? "" : "s"):\n  "
            + lines.joined(separator: "\n  ")
    }
}
