// ProcessProbe: CPU time and resident memory of a process, read from /proc (kioskd or the bench itself).
import Foundation

/// Reads a process's CPU time and resident memory from `/proc/<pid>/` (`self` for this one).
struct ProcessProbe {
    let pid: String

    static let current = ProcessProbe(pid: "self")

    /// User + system CPU seconds so far (`/proc/<pid>/stat` fields 14 and 15, in clock ticks).
    func cpuSeconds() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name (which may hold spaces) start at field 3.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident memory in MB (`VmRSS` of `/proc/<pid>/status`).
    func residentMB() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let digits = line.split(separator: " ").compactMap { Double($0) }
            return digits.first.map { $0 / 1024 }
        }
        return nil
    }
}
