// `kioskctl status`: what kioskd reports about itself (status.json), for people on site.
import ArgumentParser
import Foundation
import KioskCore

struct StatusCommand: AsyncParsableCommand, KioskctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show kioskd's state: pipeline, last decision, camera, detector, queue, server and token.",
        discussion: """
            Reads the status file kioskd writes every few seconds (status.file in the \
            configuration; --file overrides it). --json prints the file's JSON as it is. Exit 69 \
            when there is no status file (kioskd not running), 65 when it cannot be read as one.
            """
    ).compactUsage("kioskctl status [<options>]")

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("file"), help: ArgumentHelp("The status file (default: status.file).", valueName: "path"))
    var file: String?

    @Flag(help: "Print Prometheus text metrics (as the textfile collector would read them).")
    var metrics = false

    func run() async throws {
        var file = self.file ?? ""
        if self.file == nil { file = try await global.loadConfiguration().status.file }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw CommandFailure(
                .unavailable,
                "cannot read \(file): is kioskd running? (systemctl status kioskd); a different path is set by status.file in kioskd.yaml and --file here"
            )
        }
        let snapshot: StatusSnapshot
        do {
            snapshot = try StatusSnapshot.decode(data)
        } catch {
            throw CommandFailure(.dataError, "\(file) is not a kioskd status file: \(error)")
        }
        if global.json {
            print(String(decoding: try snapshot.jsonData(), as: UTF8.self))
            return
        }
        if metrics {
            print(snapshot.prometheusText(), terminator: "")
            return
        }
        print(Self.render(snapshot, now: Date()))
    }

    static func render(_ s: StatusSnapshot, now: Date) -> String {
        var lines: [String] = []
        let age = now.timeIntervalSince(s.updatedAt)
        let stale = age > 30 ? "  (STALE: last update \(Int(age)) s ago; is kioskd running?)" : ""
        lines.append("kioskd \(s.version), pid \(s.pid), up since \(s.startedAt.formatted(date: .abbreviated, time: .standard))\(stale)")
        lines.append("state:     \(s.state)\(s.stateDetail.map { " (\($0))" } ?? "")")
        if let d = s.lastDecision {
            let who = d.userID.map { " user \($0)" } ?? ""
            let sim = d.similarity.map { String(format: " %.1f%%", $0) } ?? ""
            let stages = d.latencyMs.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.0f", $0.value))" }.joined(
                separator: ", ")
            lines.append(
                "last:      \(d.granted ? "GRANTED" : "DENIED") \(d.reason)\(who)\(sim) at \(d.at.formatted(date: .omitted, time: .standard)) [ms: \(stages)]"
            )
        } else {
            lines.append("last:      no decision yet")
        }
        if !s.decisions.isEmpty {
            lines.append("decisions: " + s.decisions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        let c = s.camera
        lines.append(
            "camera:    \(c.source): \(c.connected ? String(format: "%.1f fps", c.fps) : "NOT DELIVERING FRAMES"), \(c.framesCaptured) captured, \(c.framesDropped) dropped, \(c.framesCorrupt) corrupt\(c.lastError.map { "; \($0)" } ?? "")"
        )
        if let ms = s.detectorMs { lines.append(String(format: "detector:  %.1f ms per frame", ms)) }
        let q = s.queue
        lines.append(
            "queue:     \(q.depth) waiting (\(q.bytes) bytes), \(q.delivered) delivered late, \(q.dropped) dropped\(q.lastError.map { "; \($0)" } ?? "")"
        )
        let v = s.server
        let health = v.healthy.map { $0 ? "reachable" : "UNREACHABLE" } ?? "not contacted yet"
        lines.append("server:    \(v.url): \(health)\(v.lastError.map { "; last error: \($0)" } ?? "")")
        if let warning = s.insecureTransport {
            lines.append("SECURITY:  \(warning)")
        }
        if let ambiguous = s.ambiguousDeliveries, ambiguous > 0 {
            lines.append(
                "unanswered: \(ambiguous) check-ins got no answer after they were sent (possible duplicates; kioskctl events --kind possible-duplicate --kind drop)"
            )
        }
        if let expiry = v.tokenExpiresAt {
            lines.append(
                "token:     expires \(expiry.formatted(date: .abbreviated, time: .standard)) (in \(Int(expiry.timeIntervalSince(now))) s)")
        }
        lines.append("door:      \(s.door)")
        return lines.joined(separator: "\n")
    }
}
