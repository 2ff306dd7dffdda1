// The service on a real tty (a pseudo-terminal): termios, the line thread, online/offline on an injected clock, the port lock.
import Synchronization
import TestSupport
import Testing

@testable import OSDP

#if canImport(Glibc)
import Glibc
#endif

/// The master side of a pty: the test plays the control panel on it.
final class PseudoTerminal: @unchecked Sendable {
    // @unchecked: used by one test task at a time.
    let master: Int32
    private let slave: Int32
    let slavePath: String

    init() throws {
        var master: Int32 = -1
        var slave: Int32 = -1
        guard openpty(&master, &slave, nil, nil, nil) == 0, let name = ttyname(slave) else {
            throw OSDPSerialError.openFailed(path: "openpty", errno: errno)
        }
        self.master = master
        self.slave = slave
        slavePath = String(cString: name)
    }

    deinit {
        close(master)
        close(slave)
    }

    func write(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { Glibc.write(master, $0.baseAddress, $0.count) } }

    /// One reply frame, waiting up to 2 s.
    func readFrame() -> OSDPFrame? {
        var parser = OSDPFrameParser()
        for _ in 0..<40 {
            var request = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            guard poll(&request, 1, 50) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 256)
            let count = buffer.withUnsafeMutableBytes { Glibc.read(master, $0.baseAddress, $0.count) }
            guard count > 0 else { continue }
            for item in parser.append(buffer[..<count]) {
                if case .frame(let frame, _) = item { return frame }
            }
        }
        return nil
    }
}

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let offset = Mutex<Duration>(.zero)
    private let start = ContinuousClock.now
    var now: ContinuousClock.Instant { start + offset.withLock { $0 } }
    func advance(_ by: Duration) { offset.withLock { $0 += by } }
}

@Suite("OSDP reader service on a pty", .serialized)
struct OSDPReaderServiceTests {
    @Test("answers over termios, reports the panel online and, on the injected clock, offline; the port is locked")
    func onlineOffline() async throws {
        let pty = try PseudoTerminal()
        let clock = ManualClock()
        let reader = OSDPReaderService(
            port: pty.slavePath, configuration: OSDPPeripheralConfiguration(address: 3, security: .off, scbk: nil),
            now: { clock.now })
        try reader.start()
        let log = EventLog()
        let collector = Task { for await event in reader.events { log.append(event) } }

        #expect(throws: OSDPSerialError.busy(path: pty.slavePath)) { _ = try OSDPSerialPort(path: pty.slavePath, baud: 9600) }

        pty.write(command(.poll, address: 3, sequence: 0))
        #expect(pty.readFrame()?.code == OSDPReplyCode.ack.rawValue)
        #expect(await waitUntil(.seconds(2)) { log.all.contains(.controlPanelOnline) })
        #expect(reader.status.controlPanelOnline)

        reader.enqueueCardRead(OSDPCardRead(format: .unspecified, bits: [true]))
        pty.write(command(.poll, address: 3, sequence: 1))
        #expect(pty.readFrame()?.code == OSDPReplyCode.raw.rawValue)

        clock.advance(.seconds(9))
        #expect(await waitUntil(.seconds(2)) { log.all.contains { if case .controlPanelOffline = $0 { true } else { false } } })
        await reader.stop()
        await collector.value
    }

    @Test("a port that does not exist fails with the path and what to check")
    func missingPort() {
        #expect(throws: OSDPSerialError.openFailed(path: "/dev/ttyNOPE9", errno: ENOENT)) {
            try OSDPReaderService(port: "/dev/ttyNOPE9", configuration: OSDPPeripheralConfiguration(address: 0, scbk: nil)).start()
        }
        #expect("\(OSDPSerialError.openFailed(path: "/dev/ttyNOPE9", errno: ENOENT))".contains("osdp.port"))
        #expect(throws: OSDPSerialError.unsupportedBaud(1200)) { _ = try OSDPSerialPort(path: "/dev/null", baud: 1200) }
    }
}
