// StatusBoard: the daemon's live status behind a mutex, updated by every component, read by the writer.
import Foundation
import Synchronization

/// The daemon's live status, updated by every component and read by the status writer and
/// the systemd STATUS line. A mutex, not an actor: updates come from the per-frame path and
/// must never wait behind a slow file write.
package final class StatusBoard: Sendable {
    private let state: Mutex<StatusSnapshot>

    package init(_ initial: StatusSnapshot = StatusSnapshot()) {
        state = Mutex(initial)
    }

    package var snapshot: StatusSnapshot {
        state.withLock { $0 }
    }

    package func update(_ body: (inout StatusSnapshot) -> Void) {
        state.withLock { body(&$0) }
    }

    /// One line a person can read in `systemctl status`.
    package var summaryLine: String {
        let s = snapshot
        var parts = [s.state]
        if let detail = s.stateDetail { parts[0] += " (\(detail))" }
        parts.append(s.camera.connected ? String(format: "camera %.0f fps", s.camera.fps) : "camera DOWN")
        if let healthy = s.server.healthy { parts.append(healthy ? "server ok" : "server UNREACHABLE") }
        if s.queue.depth > 0 { parts.append("\(s.queue.depth) queued") }
        if s.queue.available == false { parts.append("queue UNAVAILABLE") }
        if let last = s.lastDecision {
            parts.append("last: \(last.reason)\(last.userID.map { " user \($0)" } ?? "")")
        }
        return parts.joined(separator: ", ")
    }
}
