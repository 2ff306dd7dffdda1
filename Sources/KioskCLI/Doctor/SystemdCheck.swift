// The doctor's systemd checks: is systemd running, the unit's state, restarts in the last hour, the last watchdog kill.
import Foundation

enum SystemdCheck {
    static let systemctlPaths = ["/usr/bin/systemctl", "/bin/systemctl"]
    static let journalctlPaths = ["/usr/bin/journalctl", "/bin/journalctl"]

    /// True when PID 1 is systemd (sd_booted(3)'s test).
    static var booted: Bool { FileManager.default.fileExists(atPath: "/run/systemd/system") }

    static func run(_ context: DoctorContext) async -> [DoctorResult] {
        guard booted, let systemctl = CommandRunner.find(systemctlPaths) else {
            let init1 = (try? String(contentsOfFile: "/proc/1/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            return [
                .warning(
                    "systemd", "systemd is not running here (PID 1 is \(init1 ?? "unknown")): no unit, no watchdog; \(context.kioskdText)",
                    fix: "on the terminal kioskd runs under systemd (docs/KIOSKD.md); in a container, start it by hand")
            ]
        }
        var results: [DoctorResult] = [.ok("systemd", "systemd is PID 1")]
        let show = await CommandRunner.run(
            systemctl,
            ["show", InstalledUnit.name, "--no-pager", "-p", "LoadState,ActiveState,SubState,NRestarts,Result,ExecMainStatus"],
            within: .seconds(3))
        guard let show, show.status == 0, !show.timedOut else {
            results.append(.warning("systemd.unit", "systemctl show did not answer", fix: "check systemd: systemctl status"))
            return results
        }
        let properties = parseProperties(show.stdout)
        let load = properties["LoadState"] ?? "?"
        let active = properties["ActiveState"] ?? "?"
        let sub = properties["SubState"] ?? "?"
        if load != "loaded" {
            results.append(
                .failed(
                    "systemd.unit", "\(InstalledUnit.name) is \(load)",
                    fix: "install the package (or systemd/kioskd.service) and `systemctl enable --now kioskd`"))
        } else if active == "active" {
            results.append(.ok("systemd.unit", "\(InstalledUnit.name) is active (\(sub))"))
        } else if active == "activating" {
            results.append(
                .warning(
                    "systemd.unit", "\(InstalledUnit.name) is \(active) (\(sub)): starting or restarting",
                    fix: "journalctl -u kioskd -n 50 shows why it restarts"))
        } else {
            results.append(
                .failed(
                    "systemd.unit", "\(InstalledUnit.name) is \(active) (\(sub), result \(properties["Result"] ?? "?"))",
                    fix: "journalctl -u kioskd -n 50 shows why; start it with systemctl start kioskd"))
        }
        results += await journal()
        return results
    }

    /// Restarts in the last hour and the last watchdog kill, from the unit's journal.
    static func journal() async -> [DoctorResult] {
        guard let journalctl = CommandRunner.find(journalctlPaths) else {
            return [.warning("systemd.restarts", "journalctl is not installed", fix: "")]
        }
        let hour = await CommandRunner.run(
            journalctl, ["-u", InstalledUnit.name, "--since", "1 hour ago", "--no-pager", "-o", "cat"], within: .seconds(3))
        var results: [DoctorResult] = []
        if let hour, hour.status == 0, !hour.timedOut {
            let restarts = hour.stdout.split(separator: "\n").filter { $0.contains("Scheduled restart job") }.count
            if restarts == 0 {
                results.append(.ok("systemd.restarts", "no restart in the last hour"))
            } else {
                results.append(
                    .warning(
                        "systemd.restarts", "\(restarts) restart(s) in the last hour",
                        fix: "journalctl -u kioskd --since '1 hour ago' shows why (look for KIOSK-START- codes)"))
            }
        } else {
            results.append(
                .warning(
                    "systemd.restarts", "cannot read the unit's journal",
                    fix: "run doctor as root or as a member of the systemd-journal group"))
        }
        let recent = await CommandRunner.run(
            journalctl, ["-u", InstalledUnit.name, "-n", "5000", "--no-pager", "-o", "short-iso"], within: .seconds(3))
        if let recent, recent.status == 0, !recent.timedOut {
            if let last = recent.stdout.split(separator: "\n").last(where: { $0.contains("Watchdog timeout") }) {
                let when = last.split(separator: " ").first.map(String.init) ?? "?"
                results.append(
                    .warning(
                        "systemd.watchdog", "last watchdog kill at \(when)",
                        fix: "the pipeline hung: journalctl -u kioskd around that time; report it with `kioskctl report`"))
            } else {
                results.append(.ok("systemd.watchdog", "no watchdog kill in the unit's journal"))
            }
        }
        return results
    }

    static func parseProperties(_ text: String) -> [String: String] {
        var properties: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            properties[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return properties
    }
}
