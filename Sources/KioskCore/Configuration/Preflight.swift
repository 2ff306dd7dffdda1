// Preflight: `kioskd --check-config` checks beyond syntax (named files exist, secrets are private).
import Foundation

extension KioskConfiguration {
    /// Checks beyond syntax that `kioskd --check-config` runs: the files the configuration
    /// names exist and the secrets are private. Each section checks its own keys (its
    /// `preflight`); each issue names the key and what to do.
    package func preflight(file: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> [ConfigurationIssue] {
        var issues: [ConfigurationIssue] = []
        for section in sections {
            let name = type(of: section).name
            section.preflight(environment: environment) { key, message in
                issues.append(ConfigurationIssue(key: "\(name).\(key)", source: file, message: message))
            }
        }
        return issues
    }
}
