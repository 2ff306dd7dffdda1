// DoctorContext: what every check may look at: the loaded configuration, the environment, the
// running kioskd (if any) and the installed unit's credentials and user.
import Foundation
import KioskCore

/// The facts the checks share, gathered once per run.
struct DoctorContext: Sendable {
    var configFile: String
    /// Nil when the configuration could not be loaded (the config check says why).
    var configuration: KioskConfiguration?
    var environment: [String: String]
    /// `--pulse-relay`: the only check allowed to change anything.
    var pulseRelay: Bool
    /// Process ids of running `kioskd` processes.
    var kioskdPIDs: [Int32]
    /// The installed unit (or the defaults the project ships).
    var unit: InstalledUnit

    var kioskdRunning: Bool { !kioskdPIDs.isEmpty }

    /// "kioskd (pid 123) is running" or "kioskd is not running", for findings.
    var kioskdText: String {
        kioskdPIDs.isEmpty ? "kioskd is not running" : "kioskd (pid \(kioskdPIDs.map(String.init).joined(separator: ", "))) is running"
    }
}

/// Running `kioskd` processes, from /proc (no tool needed, works without systemd).
enum KioskdProcesses {
    static func pids(procRoot: String = "/proc") -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: procRoot) else { return [] }
        let me = ProcessInfo.processInfo.processIdentifier
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), pid != me,
                let comm = try? String(contentsOfFile: "\(procRoot)/\(entry)/comm", encoding: .utf8)
            else { return nil }
            return comm.trimmingCharacters(in: .whitespacesAndNewlines) == "kioskd" ? pid : nil
        }.sorted()
    }
}

/// What the installed kioskd unit says about users and secrets: `User=` and `LoadCredential=`.
struct InstalledUnit: Sendable, Equatable {
    static let name = "kioskd.service"
    /// Where systemd looks for unit files, most specific first.
    static let searchPaths = ["/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"]

    /// The unit file read, if any.
    var path: String?
    /// `User=`; the shipped unit's `kiosk` when no unit is installed.
    var user: String
    /// `LoadCredential=NAME:PATH` pairs.
    var credentials: [String: String]

    static func load(searchPaths: [String] = InstalledUnit.searchPaths) -> InstalledUnit {
        for directory in searchPaths {
            let path = "\(directory)/\(name)"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            return parse(text, path: path)
        }
        return InstalledUnit(path: nil, user: "kiosk", credentials: [:])
    }

    /// The unit `--unit-file` names, else the installed one. A named file that cannot be read is an
    /// error, not a quiet fall back to the installed unit.
    static func load(named file: String?) throws(CommandFailure) -> InstalledUnit {
        guard let file else { return load() }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw CommandFailure(.inputFile, "cannot read the unit file \(file); check the path given with --unit-file")
        }
        return parse(text, path: file)
    }

    static func parse(_ text: String, path: String?) -> InstalledUnit {
        var unit = InstalledUnit(path: path, user: "kiosk", credentials: [:])
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("User=") {
                unit.user = String(line.dropFirst(5))
            } else if line.hasPrefix("LoadCredential=") {
                let value = line.dropFirst("LoadCredential=".count)
                if let colon = value.firstIndex(of: ":") {
                    unit.credentials[String(value[..<colon])] = String(value[value.index(after: colon)...])
                }
            }
        }
        return unit
    }
}
