// StatusFileWriter: writes status.json and the metrics file atomically, with an explicit mode and group.
package import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Writes status files atomically (temporary file + rename), so a reader never sees half a
/// file: `kioskctl status` and node_exporter read them while kioskd writes.
///
/// The files get an explicit mode and group rather than whatever the umask leaves: the unit's
/// `UMask=0077` would make them 0600, unreadable to the monitoring agent. Default 0640, group
/// `kiosk-monitor` (docs/KIOSKD.md: add node_exporter's user to that group).
package struct StatusFileWriter: Sendable {
    package var statusPath: String
    package var metricsPath: String?
    package var mode: mode_t
    /// The group the files are given; nil keeps the service's own group.
    package var group: String?

    package init(statusPath: String, metricsPath: String?, mode: mode_t = 0o640, group: String? = nil) {
        self.statusPath = statusPath
        self.metricsPath = metricsPath.flatMap { $0.isEmpty ? nil : $0 }
        self.mode = mode
        self.group = group.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Writes both files; throws an error naming the path that failed.
    package func write(_ snapshot: StatusSnapshot) throws(StatusWriteError) {
        let json: Data
        do {
            json = try snapshot.jsonData()
        } catch {
            throw StatusWriteError(path: statusPath, reason: "cannot encode status: \(error)")
        }
        let gid = try groupID()
        try Self.atomicWrite(json, to: statusPath, mode: mode, group: gid)
        if let metricsPath {
            try Self.atomicWrite(Data(snapshot.prometheusText().utf8), to: metricsPath, mode: mode, group: gid)
        }
    }

    func groupID() throws(StatusWriteError) -> gid_t? {
        guard let group else { return nil }
        guard let entry = getgrnam(group) else {
            throw StatusWriteError(
                path: statusPath,
                reason:
                    "group '\(group)' (status.group) does not exist; create it (the package's sysusers file does) or set status.group to \"\""
            )
        }
        return entry.pointee.gr_gid
    }

    static func atomicWrite(_ data: Data, to path: String, mode: mode_t, group: gid_t?) throws(StatusWriteError) {
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory.isEmpty ? "." : directory, withIntermediateDirectories: true)
        } catch {
            throw StatusWriteError(
                path: path,
                reason:
                    "\(error.localizedDescription); check that the directory exists and the service may write it (RuntimeDirectory=kiosk-agent in the unit)"
            )
        }
        let temporary = "\(path).\(getpid()).tmp"
        let file: FileDescriptor
        do {
            file = try FileDescriptor.open(
                FilePath(temporary), .writeOnly, options: [.create, .truncate, .closeOnExec],
                permissions: FilePermissions(rawValue: mode))
        } catch {
            throw StatusWriteError(path: path, reason: "create \(temporary): \(error)")
        }
        // The step under way, for the message: each failure says what it was doing.
        var step = "chmod"
        do {
            try file.closeAfter {
                try systemCall { fchmod(file.rawValue, mode) }
                if let group {
                    step = "chgrp to gid \(group) (the service must be a member: SupplementaryGroups= in the unit)"
                    try systemCall { fchown(file.rawValue, uid_t.max, group) }
                }
                step = "write"
                try file.writeAll(data)
            }
            step = "rename over \(path)"
            try systemCall { rename(temporary, path) }
        } catch {
            // Errno's description is strerror's text.
            unlink(temporary)
            throw StatusWriteError(path: path, reason: "\(step): \(error)")
        }
    }
}

/// A status file could not be written.
package struct StatusWriteError: Error, Sendable, CustomStringConvertible {
    package var path: String
    package var reason: String
    package var description: String { "cannot write \(path): \(reason)" }
}
