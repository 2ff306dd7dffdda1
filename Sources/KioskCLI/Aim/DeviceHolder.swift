// DeviceHolder: which process has a device node open (the camera kioskd streams), from /proc.
import Foundation

/// A process that has a device open.
struct DeviceHolder: Sendable, Equatable, CustomStringConvertible {
    var pid: Int32
    var name: String

    var description: String { "\(name) (pid \(pid))" }

    /// The processes other than this one with `device` open, found through /proc/PID/fd (what
    /// `fuser` does). Processes of other users are invisible without root: an empty answer
    /// then means "none that we may see".
    static func holders(of device: String, proc: String = "/proc") -> [DeviceHolder] {
        let target = URL(fileURLWithPath: device).resolvingSymlinksInPath().path
        let own = ProcessInfo.processInfo.processIdentifier
        let fm = FileManager.default
        guard let entries = try? fm.contentsOfDirectory(atPath: proc) else { return [] }
        var found: [DeviceHolder] = []
        for entry in entries {
            guard let pid = Int32(entry), pid != own else { continue }
            guard let fds = try? fm.contentsOfDirectory(atPath: "\(proc)/\(entry)/fd") else { continue }
            let holds = fds.contains { fd in
                (try? fm.destinationOfSymbolicLink(atPath: "\(proc)/\(entry)/fd/\(fd)")) == target
            }
            guard holds else { continue }
            let comm = (try? String(contentsOfFile: "\(proc)/\(entry)/comm", encoding: .utf8)) ?? "?"
            found.append(DeviceHolder(pid: pid, name: comm.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        return found.sorted { $0.pid < $1.pid }
    }

    /// What to tell the person when the camera is busy: who holds it and how to free it.
    static func busyMessage(device: String, holders: [DeviceHolder]) -> String {
        let why =
            "a camera streams to one program at a time, and kioskctl aim does not read kioskd's frames"
        if let kioskd = holders.first(where: { $0.name == "kioskd" }) {
            return
                "camera \(device) is held by kioskd (pid \(kioskd.pid)): \(why); run `systemctl stop kioskd` first, and `systemctl start kioskd` when done"
        }
        if let other = holders.first {
            return "camera \(device) is held by \(other): \(why); stop that program first"
        }
        return
            "camera \(device) is busy (another program streams it, probably kioskd): \(why); run `systemctl stop kioskd` first (as root, `fuser -v \(device)` names the holder)"
    }
}
