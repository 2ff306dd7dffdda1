// Our PD against LibOSDP's control panel (PyPI libosdp 3.2.9) over a pseudo-terminal pair.
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import OSDP

/// LibOSDP's CP, run by `scripts/osdp/libosdp_cp_driver.py` in the venv that
/// `scripts/setup-osdp-venv.sh` makes (`make setup` runs it). A missing venv fails the test with
/// that instruction, like the FaceDetectorYN reference: interop is not optional.
final class LibOSDPDriver: @unchecked Sendable {
    // @unchecked: the process and pipes are used from the test's task only; lines arrive
    // through the AsyncStream, fed by one reading thread.
    struct Failure: Error, CustomStringConvertible { let description: String }

    static var python: URL { TestAssets.cacheDirectory.appendingPathComponent("venv-libosdp/bin/python") }

    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    /// LibOSDP's own log (stderr), quoted when something is missing.
    let logPath: String
    /// Lines read so far, not yet taken by `next`; fed by one reading thread.
    private let received = LineBuffer()

    final class LineBuffer: Sendable {
        let state = Mutex<(lines: [Data], ended: Bool)>(([], false))
    }

    init(arguments: [String]) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python.path) else {
            throw Failure(
                description: "LibOSDP is not set up (no \(Self.python.path)): run scripts/setup-osdp-venv.sh (make setup does)")
        }
        logPath = try TestAssets.temporaryDirectory("libosdp-cp").appendingPathComponent("stderr").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = Self.python
        process.arguments = [TestAssets.repositoryRoot.appendingPathComponent("scripts/osdp/libosdp_cp_driver.py").path] + arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try process.run()
        let handle = output.fileHandleForReading
        let received = self.received
        Thread.detachNewThread {
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = Data(pending[..<newline])
                    pending = Data(pending[(newline + 1)...])
                    received.state.withLock { $0.lines.append(line) }
                }
            }
            received.state.withLock { $0.ended = true }
        }
    }

    /// The next line with `key`, or a failure (with LibOSDP's log) after `timeout`.
    func next(_ key: String, timeout: Duration = .seconds(30)) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (line, ended) = received.state.withLock { state -> (Data?, Bool) in
                state.lines.isEmpty ? (nil, state.ended) : (state.lines.removeFirst(), state.ended)
            }
            if let line {
                if let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any], object[key] != nil { return object }
                continue
            }
            if ended { throw Failure(description: "the LibOSDP driver ended before '\(key)'; its log: \(logTail)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw Failure(description: "no '\(key)' from the LibOSDP driver within \(timeout); its log: \(logTail)")
    }

    var logTail: String { String(((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").suffix(1500)) }

    func send() { input.fileHandleForWriting.write(Data("go\n".utf8)) }

    /// Ends the driver. SIGKILL, because the test runner's ignored SIGTERM is inherited by the
    /// child (an ignored signal survives exec), so `terminate()` would leave it waiting on stdin.
    func finish() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

@Suite("LibOSDP interop (CP over a pty)", .serialized)
struct LibOSDPInteropTests {
    static let key = OSDPKey([UInt8](hex: "00112233445566778899aabbccddeeff"))!

    /// Runs the driver and a PD on its pty; `body` gets both.
    func withPeripheral(
        driverArguments: [String], configuration: OSDPPeripheralConfiguration = .init(address: 0, security: .required, scbk: key),
        keyStore: OSDPKeyStore? = nil, _ body: (LibOSDPDriver, OSDPReaderService, EventLog) async throws -> Void
    ) async throws {
        let driver = try LibOSDPDriver(arguments: ["--address", "0", "--scbk", Self.key.hex] + driverArguments)
        defer { driver.finish() }
        let tty = try await driver.next("tty")["tty"] as? String ?? ""
        let reader = OSDPReaderService(port: tty, configuration: configuration, keyStore: keyStore)
        try reader.start()
        let log = EventLog()
        let collector = Task { for await event in reader.events { log.append(event) } }
        do {
            try await body(driver, reader, log)
        } catch {
            await reader.stop()
            collector.cancel()
            throw error
        }
        await reader.stop()
        await collector.value
    }

    @Test("LibOSDP discovers the PD, sets up the secure channel, reads the card, and drives the LED")
    func discoveryCardAndLED() async throws {
        try await withPeripheral(driverArguments: []) { driver, reader, log in
            let phase = try await driver.next("phase")
            #expect(phase["secure"] as? Bool == true, "secure channel with the known SCBK")
            let discovered = try await driver.next("pd_id")
            let id = try #require(discovered["pd_id"] as? [String: Any])
            #expect(id["model"] as? Int == Int(OSDPIdentity.kioskAgent.model))
            #expect(id["serial_number"] as? Int == Int(OSDPIdentity.kioskAgent.serialNumber))
            let caps = try #require(discovered["caps"] as? [String: [Int]])
            #expect(caps["CommunicationSecurity"]?.first == 1)
            #expect(caps["LEDControl"] == [1, 1])
            #expect(log.all.contains(.secureChannelEstablished(key: "SCBK")))
            #expect(log.all.contains(.controlPanelOnline))

            _ = try await driver.next("ready")
            // Facility 13 card 13067, H10301: the published frame 0x21A6616.
            let value: UInt32 = 0x21A_6616
            reader.enqueueCardRead(OSDPCardRead(format: .wiegand, bits: (0..<26).map { value >> (25 - UInt32($0)) & 1 == 1 }))
            driver.send()
            let card = try #require(try await driver.next("card")["card"] as? [String: Any])
            #expect(card["length"] as? Int == 26)
            #expect(card["format"] as? Int == 1)
            #expect(card["data"] as? String == "86998580")

            _ = try await driver.next("led_sent")
            let green = await waitUntil(.seconds(5)) {
                log.all.contains { if case .led(let command) = $0 { command.shownColor == .green } else { false } }
            }
            #expect(green, "the CP's osdp_LED reached the PD's stream")
            driver.send()
            _ = try await driver.next("done")
        }
    }

    @Test("a wrong SCBK fails the channel with a clear reason; the PD answers the next CP with the right key")
    func wrongKeyThenRight() async throws {
        let wrong = OSDPKey([UInt8](repeating: 0x5A, count: 16))!
        try await withPeripheral(driverArguments: ["--wrong-scbk", wrong.hex]) { driver, _, log in
            let first = try await driver.next("phase")
            #expect(first["phase"] as? String == "wrong-key")
            #expect(first["secure"] as? Bool == false)
            let failures = log.all.compactMap { event -> String? in
                if case .secureChannelFailed(let reason) = event { return reason }
                return nil
            }
            #expect(failures.contains { $0.contains("SCBK") && $0.contains("osdp.scbk_file") }, "failures: \(failures)")
            let second = try await driver.next("phase")
            #expect(second["phase"] as? String == "right-key")
            #expect(second["secure"] as? Bool == true, "the PD stayed usable")
            #expect(log.all.filter { $0 == .secureChannelEstablished(key: "SCBK") }.count == 1)
        }
    }

    @Test("install mode: LibOSDP opens the channel with SCBK-D and sets the SCBK with osdp_KEYSET; the key file gets it")
    func installMode() async throws {
        let keyPath = try TestAssets.temporaryDirectory("osdp-install").appendingPathComponent("scbk").path
        let configuration = OSDPPeripheralConfiguration(address: 0, security: .required, scbk: nil, installMode: true)
        let store: OSDPKeyStore = { key in
            try OSDPKeyFile.store(key, path: keyPath)
            return keyPath
        }
        try await withPeripheral(driverArguments: ["--install"], configuration: configuration, keyStore: store) { driver, _, log in
            let install = try await driver.next("phase")
            #expect(install["phase"] as? String == "install")
            #expect(install["secure"] as? Bool == true, "channel with SCBK-D")
            #expect(log.all.contains(.secureChannelEstablished(key: "SCBK-D")))
            #expect(await waitUntil(.seconds(10)) { log.all.contains(.keyStored(path: keyPath)) })
            // The install-mode CP stays until the key is stored, then the next CP uses that key.
            driver.send()
            let second = try await driver.next("phase")
            #expect(second["secure"] as? Bool == true, "channel with the key KEYSET gave")
            #expect(log.all.contains(.secureChannelEstablished(key: "SCBK")))
            #expect(try OSDPKeyFile.load(path: keyPath) == Self.key)
        }
    }
}
