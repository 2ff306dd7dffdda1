// `kioskctl gpio`: argument parsing, validation and how LINE resolves (no hardware needed).
import ArgumentParser
import Testing

@testable import DoorIO
@testable import KioskCLI

@Suite("kioskctl gpio arguments")
struct GPIOCommandTests {
    /// A stand-in for the chip scan: only `door-relay` and `exit-button` exist, on gpiochip0.
    static func lookup(_ name: String) -> (chip: String, offset: UInt32)? {
        ["door-relay": ("gpiochip0", UInt32(17)), "exit-button": ("gpiochip0", UInt32(6))][name]
    }

    @Test func pulseParsesRoleAndLength() throws {
        let command = try GPIOCommand.parseAsRoot(["pulse", "relay", "--ms", "500"])
        let pulse = try #require(command as? GPIOPulseCommand)
        #expect(pulse.line == "relay")
        #expect(pulse.ms == 500)
        #expect(pulse.options.consumer == "kioskctl")
    }

    @Test func invalidValuesAreRejectedBeforeTouchingHardware() {
        #expect(throws: (any Error).self) { try GPIOCommand.parseAsRoot(["pulse", "relay", "--ms", "0"]) }
        #expect(throws: (any Error).self) { try GPIOCommand.parseAsRoot(["pulse", "relay", "--ms", "60001"]) }
        #expect(throws: (any Error).self) { try GPIOCommand.parseAsRoot(["set", "relay", "maybe"]) }
        #expect(throws: (any Error).self) { try GPIOCommand.parseAsRoot(["set", "relay", "on", "--for", "0"]) }
        #expect(throws: (any Error).self) { try GPIOCommand.parseAsRoot(["get", "door-sensor", "--bias", "sideways"]) }
    }

    @Test func rolesMapToConventionalNamesWithoutAConfiguration() throws {
        let relay = try ResolvedLine.resolve("relay", chip: nil, lookup: Self.lookup)
        #expect(relay == ResolvedLine(chip: "gpiochip0", selector: .name("door-relay"), role: "relay"))
        for spelling in ["exit-button", "exit_button", "exitButton", "EXIT", "rex"] {
            let exit = try ResolvedLine.resolve(spelling, chip: nil, lookup: Self.lookup)
            #expect(exit.selector == .name("exit-button"), "\(spelling)")
            #expect(exit.role == "exitButton", "\(spelling)")
        }
    }

    @Test func offsetsAndPlainNames() throws {
        #expect(
            try ResolvedLine.resolve("17", chip: "pinctrl-rp1", lookup: Self.lookup)
                == ResolvedLine(chip: "pinctrl-rp1", selector: .offset(17), role: nil))
        #expect(try ResolvedLine.resolve("17", chip: nil, lookup: Self.lookup).chip == "gpiochip0")
        #expect(throws: GPIOCommandError.self) { try ResolvedLine.resolve("GPIO99", chip: nil, lookup: Self.lookup) }
    }

    @Test func rolesResolveThroughTheConfiguration() throws {
        let door = DoorIOConfiguration(
            chip: "pinctrl-rp1", relay: GPIOOutputLine(.offset(17), activeLow: true),
            exitButton: GPIOInputLine(.offset(6), activeLow: true, bias: .pullUp))
        let relay = try ResolvedLine.resolve("relay", chip: nil, door: door, lookup: Self.lookup)
        #expect(relay == ResolvedLine(chip: "pinctrl-rp1", selector: .offset(17), role: "relay", activeLow: true))
        let exit = try ResolvedLine.resolve("exit-button", chip: "gpiochip9", door: door, lookup: Self.lookup)
        #expect(exit == ResolvedLine(chip: "gpiochip9", selector: .offset(6), role: "exitButton", activeLow: true, bias: .pullUp))
        #expect { try ResolvedLine.resolve("tamper", chip: nil, door: door, lookup: Self.lookup) } throws: { error in
            "\(error)".contains("door.lines.tamper")
        }
        // A plain line name is not a role: the configuration is not consulted.
        #expect(try ResolvedLine.resolve("GPIO17", chip: "gpiochip0", door: door).selector == .name("GPIO17"))
    }

    @Test func infoLineFormatShowsHolderAndRole() {
        let line = GPIOLineInfo(offset: 17, name: "door-relay", consumer: "kioskd", used: true, isOutput: true, activeLow: true, bias: nil)
        let text = GPIOInfoCommand.format(line, role: "relay")
        #expect(text.contains("17"))
        #expect(text.contains("\"door-relay\""))
        #expect(text.contains("output,active-low"))
        #expect(text.contains("held by \"kioskd\""))
        #expect(text.contains("role: relay"))
    }
}
