// Secret file names: a name without a path is looked up in `$CREDENTIALS_DIRECTORY` (systemd) first.
import Foundation

extension KioskConfiguration {
    /// A secret file named without a path is a systemd credential (`LoadCredential=`): look in
    /// `$CREDENTIALS_DIRECTORY` first, then relative to the working directory. Used for
    /// `api.credentials_file` and `outbox.key_file`.
    package static func resolveSecretPath(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        guard !name.contains("/"), let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else {
            return name
        }
        let candidate = directory + "/" + name
        return FileManager.default.fileExists(atPath: candidate) ? candidate : name
    }
}
