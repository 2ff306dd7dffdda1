// The doctor's queue checks: the database's integrity, depth, oldest item, free space in the state directory.
import Foundation
import KioskCore
import Outbox

enum QueueCheck {
    /// Less free space than this in the state directory is a warning.
    static let lowSpaceBytes: Int64 = 100 * 1024 * 1024

    static func run(_ context: DoctorContext) async -> [DoctorResult] {
        guard let configuration = context.configuration else {
            return [.failed("queue", "not checked: the configuration did not load", fix: "fix the configuration first")]
        }
        let directory = configuration.outbox.stateDirectory
        var results: [DoctorResult] = []
        let database: OutboxDatabase
        do {
            // As a second user next to kioskd: no key, never creates or moves a file.
            database = try await OutboxDatabase.open(
                OutboxConfiguration(stateDirectory: directory, key: OutboxKeySource.none, createIfMissing: false, recoverCorruption: false))
        } catch {
            switch error {
            case .databaseMissing:
                results.append(
                    .warning("queue.integrity", "no queue database yet in \(directory)", fix: "start kioskd once: it creates it"))
            case .databaseCorrupt:
                results.append(
                    .failed(
                        "queue.integrity", error.description,
                        fix: "kioskd moves a corrupt file aside and starts a new one at its next start: systemctl restart kioskd"))
            default:
                results.append(.failed("queue.integrity", error.description, fix: "see the message"))
            }
            results.append(space(directory))
            return results
        }
        defer { database.close() }
        do {
            let rows = try await database.integrityCheck()
            if rows == ["ok"] {
                results.append(.ok("queue.integrity", "\(database.path): integrity check passes"))
            } else {
                results.append(
                    .failed(
                        "queue.integrity", "\(database.path) is damaged: \(rows.prefix(3).joined(separator: "; "))",
                        fix: "stop kioskd, move the file aside (mv \(database.path) \(database.path).bad), start kioskd"))
            }
        } catch {
            results.append(
                .failed(
                    "queue.integrity", error.description,
                    fix: "stop kioskd, move the file aside (mv \(database.path) \(database.path).bad), start kioskd"))
        }
        do {
            let status = try await OutboxStore(database: database).status()
            let now = Date()
            var finding = "\(status.items) waiting (\(CLIFormat.bytes(status.bytes)))"
            if let oldest = status.oldestCapturedAt {
                finding += ", oldest captured \(CLIFormat.duration(now.timeIntervalSince(oldest))) ago"
            }
            let ageLimit = status.limits.maxAge.secondsValue
            if let oldest = status.oldestCapturedAt, now.timeIntervalSince(oldest) > ageLimit / 2 {
                results.append(
                    .warning(
                        "queue.depth", finding + " (items expire after \(CLIFormat.duration(ageLimit)))",
                        fix: "the server has not taken them: see server.* above and `kioskctl queue status`"))
            } else if status.items >= status.limits.maxItems * 3 / 4 {
                results.append(
                    .warning(
                        "queue.depth", finding + " (limit \(status.limits.maxItems))", fix: "see server.* above; `kioskctl queue status`"))
            } else {
                results.append(.ok("queue.depth", finding))
            }
            if let degraded = status.degradedReason {
                results.append(.failed("queue.state", "queueing is degraded: \(degraded)", fix: "see the message"))
            }
        } catch {
            results.append(.failed("queue.depth", error.description, fix: "see the message"))
        }
        results.append(space(directory))
        results.append(daemonView(statusFile: configuration.status.file))
        return results
    }

    /// What kioskd itself says about its queue (status.json `queue.available`): a state
    /// directory that went read-only or fails under the running daemon shows only there.
    static func daemonView(statusFile: String) -> DoctorResult {
        guard let data = FileManager.default.contents(atPath: statusFile), let snapshot = try? StatusSnapshot.decode(data) else {
            return .ok("queue.state", "no kioskd status file (\(statusFile)): kioskd's own view not available")
        }
        if snapshot.queue.available == false {
            return .failed(
                "queue.state", "kioskd reports the queue UNAVAILABLE: \(snapshot.queue.unavailableReason ?? "no reason given")",
                fix: "check the state directory's disk (df, dmesg for I/O errors); restart kioskd once it is writable")
        }
        return .ok("queue.state", "kioskd reports the queue available (\(snapshot.queue.depth) waiting)")
    }

    /// Free space on the state directory's file system.
    static func space(_ directory: String) -> DoctorResult {
        guard let attributes = try? FileManager.default.attributesOfFileSystem(forPath: directory),
            let free = (attributes[.systemFreeSize] as? NSNumber)?.int64Value
        else {
            return .failed("queue.space", "cannot look at \(directory)", fix: "check it exists (systemd makes it: StateDirectory=)")
        }
        let text = "\(CLIFormat.bytes(Int(clamping: free))) free in \(directory)"
        if free < lowSpaceBytes {
            return .warning("queue.space", text, fix: "free space: old logs (journalctl --vacuum-size=50M), files in \(directory)")
        }
        return .ok("queue.space", text)
    }
}
