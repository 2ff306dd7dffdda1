// SystemdNotifier: sd_notify messages (READY, STATUS, WATCHDOG) without libsystemd; a no-op outside systemd.
import Foundation

// timespec and clock_gettime are declared through CoreFoundation on Linux toolchains.
#if canImport(CoreFoundation)
import CoreFoundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Talks to systemd's notification socket (`sd_notify(3)` protocol) without libsystemd:
/// one datagram per message to `$NOTIFY_SOCKET`. Outside systemd (no `NOTIFY_SOCKET`) every
/// call is a no-op, so the daemon runs the same way from a terminal.
package struct SystemdNotifier: Sendable {
    /// The socket path; an abstract socket starts with `@`.
    package let socketPath: String?
    /// `WATCHDOG_USEC` converted, when the unit has `WatchdogSec=` and it is meant for us.
    package let watchdogInterval: Duration?

    package init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        // WATCHDOG_PID, when set, names the process the watchdog is for.
        let forUs = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
        if forUs, let usec = environment["WATCHDOG_USEC"].flatMap(Int64.init), usec > 0 {
            watchdogInterval = .microseconds(usec)
        } else {
            watchdogInterval = nil
        }
    }

    /// Whether systemd is listening.
    package var isActive: Bool { socketPath != nil }

    package func ready(status: String) { send("READY=1\nSTATUS=\(Self.clean(status))") }
    package func status(_ text: String) { send("STATUS=\(Self.clean(text))") }
    package func watchdog() { send("WATCHDOG=1") }
    package func stopping(status: String) { send("STOPPING=1\nSTATUS=\(Self.clean(status))") }
    /// Says the service is stopping and, with a watchdog, sets its timeout to `watchdogTimeout`
    /// (systemd 236+) with a ping: the stop is bounded by kioskd and by `TimeoutStopSec=`, and a
    /// pipeline finishing a slow frame must not look hung while it does.
    package func stopping(status: String, watchdogTimeout: Duration) {
        guard watchdogInterval != nil else { return stopping(status: status) }
        let usec = watchdogTimeout.components.seconds * 1_000_000 + watchdogTimeout.components.attoseconds / 1_000_000_000_000
        send("STOPPING=1\nSTATUS=\(Self.clean(status))\nWATCHDOG_USEC=\(usec)\nWATCHDOG=1")
    }
    package func reloading() { send("RELOADING=1\nMONOTONIC_USEC=\(Self.monotonicMicroseconds())") }

    /// Sends one notification. Failures are ignored on purpose: a lost STATUS line must never
    /// stop the door, and systemd reports a missing READY or watchdog ping itself.
    package func send(_ message: String) {
        guard let socketPath else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count + (pathBytes.first == 0 ? 0 : 1))
        let bytes = Array(message.utf8)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
                bytes.withUnsafeBytes { buffer in
                    sendto(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), sockaddrPointer, length)
                }
            }
        }
    }

    /// One line of visible text: STATUS= carries error text from the camera, the server and
    /// the configuration, and a newline in it would start a new notify assignment.
    static func clean(_ text: String) -> String {
        LogText.escaped(text)
    }

    static func monotonicMicroseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
    }
}
