import FaceAiDee
import Foundation

extension KioskConfiguration {
    /// Checks beyond syntax that `kioskd --check-config` runs: the files the configuration
    /// names exist and the secrets are private. Each issue names the key and what to do.
    public func preflight(file: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> [ConfigurationIssue] {
        var issues: [ConfigurationIssue] = []
        func issue(_ key: String, _ message: String) {
            issues.append(ConfigurationIssue(key: key, source: file, message: message))
        }
        let fm = FileManager.default
        if !fm.isReadableFile(atPath: detection.model) {
            issue("detection.model", "\(detection.model) is missing or unreadable; install the package's models or run scripts/fetch-assets.sh and point this key at .assets/models/")
        }
        let credentials = Self.resolveSecretPath(api.credentialsFile, environment: environment)
        do {
            _ = try APICredentials.load(from: credentials)
        } catch {
            issue("api.credentials_file", "\(error)")
        }
        if let ca = api.caFile, !fm.isReadableFile(atPath: ca) {
            issue("api.ca_file", "\(ca) is missing or unreadable")
        }
        if camera.source == .v4l2, !camera.device.hasPrefix("/dev/"), !fm.fileExists(atPath: "/dev/v4l/by-id/\(camera.device)") {
            issue("camera.device", "\(camera.device) is neither a /dev path nor a /dev/v4l/by-id name; list cameras with 'kioskctl camera list'")
        }
        if camera.source == .replay, !fm.fileExists(atPath: camera.replayPath) {
            issue("camera.replay.path", "\(camera.replayPath) does not exist")
        }
        return issues
    }
}
