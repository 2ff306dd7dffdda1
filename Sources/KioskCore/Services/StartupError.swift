// StartupError: what kioskd cannot start without, the setting involved, what to do, and its exit status.
import Foundation

/// Something `kioskd` cannot start without: which part, the setting involved, the underlying
/// error as it was thrown (for logs and tests), and what to do about it. `kioskd` derives its
/// exit status and its last log line from it.
package struct StartupError: Error, Sendable, CustomStringConvertible {
    /// The part that failed, with a stable code for support and fleet tools.
    package enum Part: String, Sendable, CaseIterable {
        case door
        case detector
        case camera
        case credentials
        case apiClient = "api-client"
        case policy

        /// `KIOSK-START-DOOR` …: quoted by support, grep-able in the journal.
        package var code: String { "KIOSK-START-" + rawValue.uppercased().replacingOccurrences(of: "-", with: "_") }

        var title: String {
            switch self {
            case .door: "door I/O"
            case .detector: "face detector"
            case .camera: "camera"
            case .credentials: "API credentials"
            case .apiClient: "API client"
            case .policy: "decision policy"
            }
        }

        /// The first thing to check.
        var fix: String {
            switch self {
            case .door: "check door.chip and door.lines.* with 'kioskctl gpio info'"
            case .detector: "check detection.model (the package installs it under /usr/share/kiosk-agent/models)"
            case .camera: "check camera.* with 'kioskctl camera list'"
            case .credentials: "check api.credentials_file (key= and secret= lines, mode 0600)"
            case .apiClient: "check api.url, api.ca_file and api.condition"
            case .policy: "check policy.schedule (examples in config/kioskd.yaml)"
            }
        }

        /// Configuration mistakes exit 1, like `--check-config`; parts that exist outside the
        /// file (devices, model, credentials) exit 2.
        var exitStatus: Int32 {
            switch self {
            case .policy, .apiClient: 1
            case .door, .detector, .camera, .credentials: 2
            }
        }
    }

    package var part: Part
    /// The setting involved, when one is (`policy.schedule`, `camera.replay.path`).
    package var setting: String?
    /// The error as its module threw it.
    package var underlying: any Error

    package init(_ part: Part, setting: String? = nil, _ underlying: any Error) {
        self.part = part
        self.setting = setting
        self.underlying = underlying
    }

    /// The process exit status `kioskd` uses for this failure.
    package var exitStatus: Int32 { part.exitStatus }

    package var description: String {
        "\(part.title)\(setting.map { " (\($0))" } ?? ""): \(underlying); \(part.fix) [\(part.code)]"
    }
}

/// A start-up problem that is only a sentence (no error was thrown underneath).
struct StartupProblem: Error, Sendable, CustomStringConvertible {
    var description: String
}
