// The systemd watchdog service via a real notify socket: pings while the heartbeat beats, stops when quiet.
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

@testable import KioskCore

#if canImport(Glibc)
import Glibc
#endif

/// A real `AF_UNIX` datagram socket standing where systemd's notification socket would be:
/// collects what `SystemdNotifier` sends, with the time each message arrived.
final class NotifySocketListener: Sendable {
    let path: String
    private let fd: Int32
    final class Inbox: Sendable {
        let messages = Mutex<[(message: String, at: ContinuousClock.Instant)]>([])
    }

    let received = Inbox()
    private let reader: Task<Void, Never>

    init() throws {
        path = try TestAssets.temporaryDirectory("kiosk-notify").appendingPathComponent("notify.sock").path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            close(fd)
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        self.fd = fd
        let received = self.received
        reader = Task.detached {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !Task.isCancelled {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 {
                    let text = String(decoding: buffer[0..<n], as: UTF8.self)
                    received.messages.withLock { $0.append((text, .now)) }
                } else {
                    try? await Task.sleep(for: .milliseconds(5))
                }
            }
        }
    }

    deinit {
        reader.cancel()
        close(fd)
    }

    /// When each `WATCHDOG=1` arrived.
    var pings: [ContinuousClock.Instant] {
        received.messages.withLock { $0.filter { $0.message == "WATCHDOG=1" }.map(\.at) }
    }
}

/// The watchdog pings systemd while the pipeline's heartbeat is fresh, and stops when it goes
/// quiet, so systemd restarts a hung daemon. Through a real notification socket.
@Suite(.serialized)
struct WatchdogServiceTests {
    @Test("pings while the heartbeat beats; no ping once it has been quiet for half the watchdog interval")
    func pingsFollowTheHeartbeat() async throws {
        let socket = try NotifySocketListener()
        // WatchdogSec=0.8 s: pings every 200 ms, the loop counts as hung after 400 ms quiet.
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "800000"])
        let heartbeat = Heartbeat()
        let service = WatchdogService(
            notifier: notifier, heartbeat: heartbeat,
            logger: Logger.quiet)
        let run = Task { try await service.run() }
        defer { run.cancel() }
        let beating = Task {
            while !Task.isCancelled {
                heartbeat.beat()
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        try await Task.sleep(for: .milliseconds(1500))
        beating.cancel()
        let stoppedAt = ContinuousClock.now
        let whileBeating = socket.pings.count
        #expect(whileBeating >= 3, "about 7 pings expected in 1.5 s, got \(whileBeating)")
        try await Task.sleep(for: .milliseconds(2000))
        // Allow the pings of the first 400 ms (the beat was still fresh) plus one in flight.
        let late = socket.pings.filter { $0 > stoppedAt + .milliseconds(600) }
        #expect(late.isEmpty, "\(late.count) pings after the heartbeat went quiet")
        // And it resumes when the loop comes back.
        heartbeat.beat()
        let resumed = await waitUntil(.seconds(3)) { socket.pings.contains { $0 > stoppedAt + .milliseconds(2000) } }
        #expect(resumed)
    }

    @Test("the stop widens the watchdog to the stop's bound: STOPPING, WATCHDOG_USEC and a ping in one message")
    func stoppingWidensTheWatchdog() async throws {
        let socket = try NotifySocketListener()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "10000000"])
        notifier.stopping(status: "stopping", watchdogTimeout: .seconds(18))
        let plain = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path])
        plain.stopping(status: "stopping without a watchdog", watchdogTimeout: .seconds(18))
        #expect(await waitUntil { socket.received.messages.withLock { $0.count } == 2 })
        let messages = socket.received.messages.withLock { $0.map(\.message) }
        #expect(messages.first == "STOPPING=1\nSTATUS=stopping\nWATCHDOG_USEC=18000000\nWATCHDOG=1")
        // No watchdog in the unit: nothing to widen.
        #expect(messages.last == "STOPPING=1\nSTATUS=stopping without a watchdog")
    }

    @Test("without WatchdogSec the service sends nothing and waits for shutdown")
    func noWatchdogConfigured() async throws {
        let socket = try NotifySocketListener()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path])
        #expect(notifier.watchdogInterval == nil)
        let service = WatchdogService(
            notifier: notifier, heartbeat: Heartbeat(),
            logger: Logger.quiet)
        let run = Task { try await service.run() }
        try await Task.sleep(for: .milliseconds(300))
        run.cancel()
        #expect(socket.pings.isEmpty)
    }
}
