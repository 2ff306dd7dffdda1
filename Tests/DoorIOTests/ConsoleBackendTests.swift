// The console backend: named as such, prints every transition, and drives the door logic.
import Synchronization
import TestSupport
import Testing

@testable import DoorIO

@Suite("Console backend")
struct ConsoleBackendTests {
    final class Lines: Sendable {
        let storage = Mutex<[String]>([])
        var all: [String] { storage.withLock { $0 } }
        func append(_ line: String) { storage.withLock { $0.append(line) } }
    }

    @Test func printsEveryTransitionWithATimestamp() async throws {
        let lines = Lines()
        let backend = ConsoleBackend(initialLevels: [.doorSensor: true], sink: { lines.append($0) })
        #expect(backend.summary.contains("console"))
        let door = DoorController(configuration: fastConfiguration(relayPulse: .milliseconds(100)), backend: backend, logger: .quiet)
        try await door.start()
        await door.signal(.granted())
        #expect(await waitUntil { lines.all.contains { $0.contains("relay (offset 0) -> de-energised") } })
        let relay = lines.all.filter { $0.contains("relay (offset 0) ->") }
        #expect(relay.count == 2)
        #expect(relay.first?.contains("ENERGISED") == true)
        for line in lines.all {
            #expect(line.contains("[console-gpio]"))
            // HH:MM:SS.mmm at the start of every line.
            #expect(line.prefix(12).filter { $0 == ":" }.count == 2 && line.prefix(12).contains("."), "\(line)")
        }
        await door.shutdown()
    }

    @Test func injectedInputsDriveTheDoorLogic() async throws {
        let lines = Lines()
        let backend = ConsoleBackend(initialLevels: [.doorSensor: true], sink: { lines.append($0) })
        let door = DoorController(configuration: fastConfiguration(), backend: backend, logger: .quiet)
        try await door.start()
        let events = EventRecorder(door.events)
        backend.inject(.doorSensor, active: false)
        #expect(await events.waitFor { $0 == .forcedOpen } != nil)
        #expect(lines.all.contains { $0.contains("input doorSensor -> inactive") })
        await door.shutdown()
    }

    @Test func consoleIsUsedOnlyWhenConfigured() {
        var configuration = fastConfiguration()
        configuration.backend = .gpiod
        #expect(configuration.makeBackend() is GPIODBackend)
        configuration.backend = .console
        #expect(configuration.makeBackend() is ConsoleBackend)
    }
}

@Suite("Door configuration")
struct DoorIOConfigurationTests {
    @Test func defaultsAreTheDocumentedOnes() {
        let configuration = DoorIOConfiguration(relay: GPIOOutputLine(.name("door-relay")))
        #expect(configuration.backend == .gpiod)
        #expect(configuration.consumer == "kioskd")
        #expect(configuration.relayPulse == .seconds(3))
        #expect(configuration.debounce == .milliseconds(50))
        #expect(configuration.heldOpenAlarmAfter == .seconds(30))
        #expect(configuration.doorSensorWiring == .normallyClosed)
        #expect(configuration.endPulseWhenDoorOpens)
        #expect(configuration.holdUntilOpen == nil)
        #expect(configuration.outputs.keys.sorted { $0.rawValue < $1.rawValue } == [.relay])
    }

    @Test func validationNamesTheKey() {
        var configuration = fastConfiguration()
        configuration.relayPulse = .zero
        #expect(throws: DoorIOError.invalidConfiguration(key: "relayPulse", reason: "must be greater than zero")) {
            try configuration.validate()
        }

        configuration = fastConfiguration(holdUntilOpen: .seconds(5))
        configuration.doorSensor = nil
        #expect { try configuration.validate() } throws: { error in
            (error as? DoorIOError).map { if case .invalidConfiguration(key: "holdUntilOpen", _) = $0 { true } else { false } } ?? false
        }

        configuration = fastConfiguration()
        configuration.buzzer = GPIOOutputLine(.offset(0))  // same as the relay
        #expect { try configuration.validate() } throws: { error in
            "\(error)".contains("already used by")
        }
    }

    @Test func lineSelectorParsing() {
        #expect(GPIOLineSelector(parsing: "17") == .offset(17))
        #expect(GPIOLineSelector(parsing: "door-relay") == .name("door-relay"))
        #expect(GPIOLineSelector(parsing: "GPIO17") == .name("GPIO17"))
    }

    @Test func errorMessagesSayWhatToDo() {
        let busy = DoorIOError.lineBusy(
            chip: "gpiochip0", line: GPIOLineDescription(role: "relay", selector: .name("door-relay"), offset: 17), consumer: "gpioset")
        #expect(busy.description.contains("\"gpioset\""))
        #expect(busy.description.contains("offset 17"))
        let missing = DoorIOError.chipNotFound(chip: "gpiochip4", errno: 2, available: ["gpiochip0 [pinctrl-bcm2711] (58 lines)"])
        #expect(missing.description.contains("pinctrl-bcm2711"))
        #expect(missing.description.contains("ENOENT"))
        // Keys are named as they are written in kioskd.yaml.
        #expect(DoorIOError.invalidConfiguration(key: "relayPulse", reason: "x").description.contains("door.relay_pulse"))
        #expect(DoorIOError.roleNotConfigured(role: "ledGranted").description.contains("door.lines.led_granted"))
        let denied = DoorIOError.chipNotFound(chip: "gpiochip0", errno: 13, available: [])
        #expect(denied.description.contains("group gpio"))
    }

    @Test func startFailsCleanlyOnAMissingChip() async {
        let door = DoorController(
            configuration: DoorIOConfiguration(chip: "no-such-chip-here", relay: GPIOOutputLine(.offset(0))), logger: .quiet)
        await #expect { try await door.start() } throws: { error in
            if case .chipNotFound(chip: "no-such-chip-here", _, _)? = error as? DoorIOError { true } else { false }
        }
        #expect(await door.state().running == false)
    }
}
