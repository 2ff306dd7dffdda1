// The doctor's secret-file checks: the API credentials and the outbox key exist, are 0600 and have the right owner.
import Foundation
import KioskCore

enum SecretFileCheck {
    /// Where a secret named in the configuration really is, and who must own it.
    struct Location: Equatable {
        var path: String
        /// "root" when systemd reads it (LoadCredential=), else the service user.
        var owner: String
        /// How the path was found, for the finding.
        var via: String
    }

    /// A name without a path is a systemd credential when the unit loads one of that name
    /// (PID 1 reads the source as root); otherwise it is what kioskd would open itself.
    static func locate(_ name: String, fallbackDirectory: String?, context: DoctorContext) -> Location {
        if !name.contains("/") {
            if let directory = context.environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty,
                FileManager.default.fileExists(atPath: "\(directory)/\(name)")
            {
                return Location(path: "\(directory)/\(name)", owner: context.unit.user, via: "$CREDENTIALS_DIRECTORY")
            }
            if let source = context.unit.credentials[name] {
                return Location(path: source, owner: "root", via: "LoadCredential=\(name) in \(context.unit.path ?? InstalledUnit.name)")
            }
            if let fallbackDirectory {
                return Location(path: "\(fallbackDirectory)/\(name)", owner: context.unit.user, via: "the state directory")
            }
        }
        return Location(path: name, owner: context.unit.user, via: "the configuration")
    }

    static func credentials(_ context: DoctorContext) -> DoctorResult {
        guard let configuration = context.configuration else {
            return .failed("credentials", "not checked: the configuration did not load", fix: "fix the configuration first")
        }
        let location = locate(configuration.api.credentialsFile, fallbackDirectory: nil, context: context)
        return check(
            id: "credentials", what: "API credentials", location: location, missingIsWarning: false,
            create: "kioskctl api key issue --username USER --save \(location.path)")
    }

    static func outboxKey(_ context: DoctorContext) -> DoctorResult {
        guard let configuration = context.configuration else {
            return .failed("outbox.key", "not checked: the configuration did not load", fix: "fix the configuration first")
        }
        let name = configuration.outbox.keyFile
        let location = locate(name, fallbackDirectory: configuration.outbox.stateDirectory, context: context)
        // A bare name that is no credential is made by kioskd in its state directory on first start.
        let generated = !name.contains("/") && location.via == "the state directory"
        return check(
            id: "outbox.key", what: "outbox key", location: location, missingIsWarning: generated,
            create: generated ? "start kioskd once: it creates the key" : "head -c 32 /dev/urandom > \(location.path)")
    }

    static func check(id: String, what: String, location: Location, missingIsWarning: Bool, create: String) -> DoctorResult {
        let path = location.path
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            let finding = "\(what) \(path) (from \(location.via)) is missing or cannot be looked at"
            return missingIsWarning
                ? .warning(id, finding, fix: create) : .failed(id, finding, fix: "\(create); if it exists, run doctor as root")
        }
        let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0
        let owner = attributes[.ownerAccountName] as? String ?? "uid \((attributes[.ownerAccountID] as? NSNumber)?.intValue ?? -1)"
        var problems: [String] = []
        var fixes: [String] = []
        if mode & 0o077 != 0 {
            problems.append("mode \(String(format: "%04o", mode)) lets others read it")
            fixes.append("chmod 600 \(path)")
        }
        if owner != location.owner {
            problems.append("owned by \(owner), not \(location.owner)")
            fixes.append("chown \(location.owner): \(path)")
        }
        guard problems.isEmpty else {
            return .failed(id, "\(what) \(path): " + problems.joined(separator: ", "), fix: fixes.joined(separator: "; "))
        }
        return .ok(id, "\(what) \(path): mode \(String(format: "%04o", mode)), owner \(owner)")
    }
}
