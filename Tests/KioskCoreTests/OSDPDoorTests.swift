// OSDPDoor: a grant's credential queued for the panel's poll; the panel's LED and buzzer on the door controller (console backend).
import DoorIO
import Logging
import OSDP
import TestSupport
import Testing

@testable import KioskCore

@Suite("OSDP door (panel LED and buzzer, queued card reads)")
struct OSDPDoorTests {
    /// A door controller on the console backend with the terminal's green LED and buzzer, grants
    /// routed to the panel the OSDP way, and a reader that is never started (no port needed).
    func makeDoor() async throws -> (OSDPDoor, DoorController) {
        var configuration = DoorIOConfiguration(
            backend: .console, relay: nil, grantOutput: .panel, ledGranted: GPIOOutputLine(.name("green")),
            ledDenied: GPIOOutputLine(.name("red")), buzzer: GPIOOutputLine(.name("buzzer")))
        configuration.panelFeedbackOverLink = true
        let controller = DoorController(configuration: configuration, backend: ConsoleBackend(sink: { _ in }), logger: .quiet)
        try await controller.start()
        let reader = OSDPReaderService(port: "/dev/null", configuration: OSDPPeripheralConfiguration(address: 0, scbk: nil))
        let mapper = CredentialMapper(format: .h10301, facility: 13, source: .userID, deniedCard: nil)
        return (OSDPDoor(door: controller, reader: reader, mapper: mapper, logger: .quiet), controller)
    }

    static func led(_ color: OSDPColor) -> OSDPLEDCommand {
        OSDPLEDCommand([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 5, 0, color.rawValue, 0][...])!
    }

    @Test("a grant queues the mapped credential and waits for the panel's green; no beep of its own")
    func grantQueuesCardRead() async throws {
        let (door, controller) = try await makeDoor()
        await door.show(
            Decision(granted: true, reason: .granted, detail: "test", userID: 13067), signals: [.granted(pulse: nil)])
        #expect(door.reader.status.pendingCardReads == 1)
        let state = await controller.state()
        #expect(state.outputs[.ledGranted] != true, "green only when the panel says so")
        #expect(state.outputs[.buzzer] != true, "the panel beeps, not the terminal")
        await door.show(Decision(granted: false, reason: .noMatch, detail: "test"), signals: [.denied(reason: "no match")])
        #expect(door.reader.status.pendingCardReads == 1, "send_denied: none")
        await controller.shutdown()
    }

    @Test("the panel's osdp_LED green lights the green LED, another colour puts it out; osdp_BUZ sounds the buzzer")
    func panelDrivesLEDAndBuzzer() async throws {
        let (door, controller) = try await makeDoor()
        let status = StatusBoard()
        await door.handle(.led(Self.led(.green)), journal: nil, status: status)
        #expect(await controller.state().outputs[.ledGranted] == true)
        await door.handle(.led(Self.led(.red)), journal: nil, status: status)
        #expect(await controller.state().outputs[.ledGranted] == false)
        await door.handle(.buzzer(try #require(OSDPBuzzerCommand([0, 2, 1, 0, 0]))), journal: nil, status: status)
        #expect(await controller.state().outputs[.buzzer] == true)
        await door.handle(.buzzer(try #require(OSDPBuzzerCommand([0, 1, 0, 0, 0]))), journal: nil, status: status)
        #expect(await controller.state().outputs[.buzzer] == false)
        await door.handle(.secureChannelFailed(reason: "test"), journal: nil, status: status)
        #expect(status.snapshot.door.contains("secure channel failed"))
        await controller.shutdown()
    }
}
