// SimulatorConfiguration: everything `aidee-sim` and the in-process launcher are told at start.
package import Foundation

/// The simulator's settings, read once at start.
package struct SimulatorConfiguration: Sendable {
    /// Address to bind. Default `127.0.0.1`: the simulator has no TLS and is for local use.
    package var host: String
    /// Port to bind; 0 (the default) lets the kernel choose, and the server reports the real one.
    package var port: Int
    /// Folder of `simulator.sqlite`; `nil` keeps state in memory (gone at shutdown).
    package var dataDirectory: URL?
    /// Folder holding the YuNet and dlib model files.
    package var modelsDirectory: URL
    /// Accounts to create or update at start (existing ones in the database stay).
    package var accounts: [SimulatorAccount]
    /// Projects to create or update at start.
    package var projects: [SimulatorProject]
    /// Token lifetime in seconds. Default 3600.
    package var tokenTTL: TimeInterval
    /// Largest accepted request body in bytes; bigger bodies answer 400. Default 10 MiB: a
    /// base64 JPEG from a 5-megapixel phone camera fits, anything bigger is not a face photo.
    package var maxBodyBytes: Int
    /// Largest accepted image in pixels (width × height), to refuse decompression bombs. Default 40 M.
    package var maxImagePixels: Int
    /// Users per project before `POST /users` answers 409. Default 100 000.
    package var maxUsersPerProject: Int
    /// Fault rules in force from the start (see `FaultRule`).
    package var faults: [FaultRule]
    /// Seed for fault-rate decisions; `nil` for a random seed.
    package var faultSeed: UInt64?

    package init(
        host: String = "127.0.0.1", port: Int = 0, dataDirectory: URL? = nil,
        modelsDirectory: URL = SimulatorConfiguration.defaultModelsDirectory(),
        accounts: [SimulatorAccount] = [], projects: [SimulatorProject] = [],
        tokenTTL: TimeInterval = 3600, maxBodyBytes: Int = 10 * 1024 * 1024, maxImagePixels: Int = 40_000_000,
        maxUsersPerProject: Int = 100_000, faults: [FaultRule] = [], faultSeed: UInt64? = nil
    ) {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.modelsDirectory = modelsDirectory
        self.accounts = accounts
        self.projects = projects
        self.tokenTTL = tokenTTL
        self.maxBodyBytes = maxBodyBytes
        self.maxImagePixels = maxImagePixels
        self.maxUsersPerProject = maxUsersPerProject
        self.faults = faults
        self.faultSeed = faultSeed
    }

    /// File names the simulator needs in `modelsDirectory`.
    package static let modelFiles = [
        "face_detection_yunet_2023mar.onnx", FaceMatcher.shapePredictorFile, FaceMatcher.descriptorFile,
    ]

    /// `$KIOSK_ASSETS/models` when set, else `.assets/models` under the current directory (a
    /// development checkout), else the aidee-sim package's `/usr/share/aidee-sim/models`, else
    /// `/usr/share/kiosk-agent/models`.
    package static func defaultModelsDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let assets = environment["KIOSK_ASSETS"], !assets.isEmpty {
            return URL(fileURLWithPath: assets).appendingPathComponent("models")
        }
        let local = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".assets/models")
        if FileManager.default.fileExists(atPath: local.path) { return local }
        let packaged = URL(fileURLWithPath: "/usr/share/aidee-sim/models")
        if FileManager.default.fileExists(atPath: packaged.path) { return packaged }
        return URL(fileURLWithPath: "/usr/share/kiosk-agent/models")
    }

    /// Checks values and that every model file exists; the error names the file and the fix.
    package func validate() throws(SimulatorConfigurationError) {
        guard (0...65535).contains(port) else { throw .invalid(key: "port", reason: "must be 0...65535, got \(port)") }
        guard tokenTTL >= 1 else { throw .invalid(key: "token-ttl", reason: "must be at least 1 second, got \(tokenTTL)") }
        guard maxBodyBytes >= 1024 else { throw .invalid(key: "max-body-bytes", reason: "must be at least 1024") }
        guard maxImagePixels >= 1 else { throw .invalid(key: "max-image-pixels", reason: "must be positive") }
        for file in Self.modelFiles {
            let path = modelsDirectory.appendingPathComponent(file).path
            guard FileManager.default.fileExists(atPath: path) else { throw .modelMissing(path: path) }
        }
        for rule in faults {
            do { try rule.validate() } catch { throw .invalid(key: "fault", reason: error.description) }
        }
        let ids = projects.map(\.id)
        guard Set(ids).count == ids.count else { throw .invalid(key: "project", reason: "project ids must be unique") }
    }
}

/// A configuration the simulator cannot start with.
package enum SimulatorConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(key: String, reason: String)
    case modelMissing(path: String)

    package var description: String {
        switch self {
        case .invalid(let key, let reason): "--\(key): \(reason)"
        case .modelMissing(let path):
            "model file missing: \(path). Run scripts/fetch-assets.sh (it fetches the models into .assets/models), or pass --models DIR."
        }
    }
}
