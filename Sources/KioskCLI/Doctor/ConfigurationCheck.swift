// The doctor's configuration check: kioskd's own loader and `--check-config` pre-flight, same messages.
import Foundation
import KioskCore

enum ConfigurationCheck {
    /// Loads the file as kioskd does; the result says what `kioskd --check-config` would.
    static func run(file: String, environment: [String: String]) async -> (KioskConfiguration?, DoctorResult) {
        let id = "config"
        guard FileManager.default.fileExists(atPath: file) else {
            return (
                nil,
                .failed(
                    id, "\(file) does not exist",
                    fix: "install the package's sample (config/kioskd.yaml) there, or give --config FILE")
            )
        }
        let configuration: KioskConfiguration
        do {
            configuration = try await ConfigurationLoader(file: file, environment: environment).load()
        } catch {
            return (nil, .failed(id, Self.oneLine(error.description), fix: "fix the keys named; `kioskd --check-config` lists the same"))
        }
        let issues = configuration.preflight(file: file, environment: environment)
        guard issues.isEmpty else {
            let text = ConfigurationError(issues: issues).description
            return (configuration, .failed(id, Self.oneLine(text), fix: "fix the files named; `kioskd --check-config` lists the same"))
        }
        return (configuration, .ok(id, "\(file) is valid (kioskd --check-config passes)"))
    }

    static func oneLine(_ text: String) -> String {
        text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "; ")
            .replacingOccurrences(of: ":;", with: ":")
    }
}
