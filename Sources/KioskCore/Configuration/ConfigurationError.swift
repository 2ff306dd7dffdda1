/// One thing wrong with the configuration: which key, where it came from, and what to do.
package struct ConfigurationIssue: Sendable, Equatable, CustomStringConvertible {
    /// Dotted key, e.g. `pipeline.cooldown`.
    package var key: String
    /// Where the offending value came from: the file path, `environment KIOSK_…` or `flag --set …`.
    package var source: String
    package var message: String

    package init(key: String, source: String, message: String) {
        self.key = key
        self.source = source
        self.message = message
    }

    package var description: String { "\(source): \(key): \(message)" }
}

/// The configuration could not be used. Lists every problem found, not just the first, so an
/// installer fixes the file in one pass.
package struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    package var issues: [ConfigurationIssue]
    /// Set when the file itself could not be read or parsed.
    package var fileProblem: String?

    package init(issues: [ConfigurationIssue] = [], fileProblem: String? = nil) {
        self.issues = issues
        self.fileProblem = fileProblem
    }

    package var description: String {
        var lines: [String] = []
        if let fileProblem { lines.append(fileProblem) }
        lines += issues.map(\.description)
        let count = issues.count + (fileProblem == nil ? 0 : 1)
        return "configuration has \(count) problem\(count == 1 ? "" : "s"):\n  "
            + lines.joined(separator: "\n  ")
    }
}
