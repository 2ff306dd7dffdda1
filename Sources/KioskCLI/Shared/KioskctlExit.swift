// KioskctlExit: the one table of kioskctl exit statuses, shared by every command (docs/KIOSKCTL.md).

/// The exit status of every `kioskctl` command: one value per failure class, the same class
/// for the same kind of failure whichever command meets it. Documented once, in
/// docs/KIOSKCTL.md ("Exit statuses"); the values above 63 follow BSD `sysexits.h`.
package enum KioskctlExit: Int32, CaseIterable, Sendable {
    /// Done; for checks: nothing failed and nothing to warn about.
    case success = 0
    /// The command ran and found something broken: a device missing or failing, a check that
    /// failed (doctor), a detector that cannot run.
    case failure = 1
    /// Only warnings (doctor): works, but something should be looked at.
    case warnings = 2
    /// What was asked for does not exist: no such user, face, queue item; no match (HTTP 404).
    case notFound = 3
    /// The request's conditions are not met (HTTP 409): e.g. no face in the image.
    case conflict = 4
    /// The server rejected the input (HTTP 400).
    case rejected = 5
    /// Bad command line: unknown option, missing or invalid value.
    case usage = 64
    /// Data is damaged: a corrupt queue database, an undecodable status file.
    case dataError = 65
    /// An input file cannot be read or is not what it should be (image, state directory).
    case inputFile = 66
    /// A service is not there or failing: server error (5xx, 429, unreadable answer), kioskd
    /// not running (no status file).
    case unavailable = 69
    /// A bug in kioskctl itself (an error no class covers); please report it.
    case software = 70
    /// An output file cannot be written, or exists already (give --force to replace it).
    case outputFile = 73
    /// Worth retrying: network, timeout, TLS; a device or line busy (held by kioskd).
    case temporary = 75
    /// Not allowed: credentials refused (HTTP 401/403), no permission on a device or file.
    case permission = 77
    /// The configuration (file, credentials file, URL) is missing or invalid.
    case configuration = 78

    /// The class's name as `--json` error objects carry it (`error.class`).
    package var name: String {
        switch self {
        case .success: "success"
        case .failure: "failure"
        case .warnings: "warnings"
        case .notFound: "not_found"
        case .conflict: "conflict"
        case .rejected: "rejected"
        case .usage: "usage"
        case .dataError: "data"
        case .inputFile: "input_file"
        case .unavailable: "unavailable"
        case .software: "software"
        case .outputFile: "output_file"
        case .temporary: "temporary"
        case .permission: "permission"
        case .configuration: "configuration"
        }
    }

    /// One line for the documentation table and `kioskctl --help`.
    package var meaning: String {
        switch self {
        case .success: "success (doctor: every check passed)"
        case .failure: "something is broken: device missing or failing, a check failed"
        case .warnings: "only warnings (doctor)"
        case .notFound: "not found or no match (HTTP 404, no such item)"
        case .conflict: "conditions not met (HTTP 409)"
        case .rejected: "input rejected by the server (HTTP 400)"
        case .usage: "bad command line"
        case .dataError: "damaged data (corrupt database, unreadable status file)"
        case .inputFile: "input file or folder unreadable or of the wrong kind"
        case .unavailable: "service unavailable (server 5xx/429, kioskd not running)"
        case .software: "internal error in kioskctl (please report)"
        case .outputFile: "output file not writable, or exists (use --force)"
        case .temporary: "retry later: network, timeout, TLS, device busy"
        case .permission: "refused: credentials (401/403) or file/device permissions"
        case .configuration: "configuration, credentials file or URL invalid"
        }
    }
}
