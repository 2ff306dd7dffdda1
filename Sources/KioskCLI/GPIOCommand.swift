// `kioskctl gpio`: look at and exercise the door's GPIO lines in the field.
package import ArgumentParser
import DoorIO
import Foundation
import KioskCore

/// `kioskctl gpio info|get|set|pulse|watch`.
package struct GPIOCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "gpio",
        abstract: "Inspect and exercise GPIO lines (relay, LEDs, buzzer, door inputs) through libgpiod.",
        discussion: """
            LINE is a door role (relay, led-granted, led-denied, led-fault, led-idle, buzzer, \
            door-sensor, exit-button, tamper), a line name as `gpioinfo` shows it, or an offset on \
            --chip. Roles resolve through kioskd's configuration (--config, default \
            /etc/kiosk-agent/kioskd.yaml when it exists: chip, line and active-low from door.*), \
            else through the conventional line names (door-relay, led-green, led-red, led-amber, \
            led-blue, buzzer, door-sensor, exit-button, tamper). Stop kioskd first: the lines it \
            holds are busy (the error names the holder; exit 75).
            """,
        subcommands: [GPIOInfoCommand.self, GPIOGetCommand.self, GPIOSetCommand.self, GPIOPulseCommand.self, GPIOWatchCommand.self]
    )

    package init() {}
}

/// Options shared by the line commands.
struct GPIOLineOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "GPIO chip: name (gpiochip0), label (pinctrl-rp1), path or number. Default: the chip that has the named line, else gpiochip0."
    )
    var chip: String?

    @Flag(name: .long, help: "The line is active-low (on = pin low).")
    var activeLow = false

    @Option(name: .long, help: "Consumer name shown by gpioinfo while the line is held.")
    var consumer = "kioskctl"

    /// The door configuration roles resolve through, if a configuration file is in use
    /// (`--config`, else the default file when it exists).
    func doorConfiguration(_ global: GlobalOptions) async throws -> DoorIOConfiguration? {
        guard let path = global.configurationFile else { return nil }
        do {
            return try await global.loadConfiguration().doorConfiguration
        } catch {
            throw CommandFailure(
                .configuration,
                "cannot use \(path) to resolve door roles:\n\(error)\n(give --config, or --chip and a line name or offset)")
        }
    }

    /// Resolves LINE with these options.
    func resolve(_ text: String, _ global: GlobalOptions) async throws -> ResolvedLine {
        let door = ResolvedLine.role(text) != nil ? try await doorConfiguration(global) : nil
        var resolved = try ResolvedLine.resolve(text, chip: chip, door: door)
        if activeLow { resolved.activeLow = true }
        return resolved
    }
}

/// How a LINE argument was understood.
struct ResolvedLine: Equatable {
    var chip: String
    var selector: GPIOLineSelector
    /// The door role, when LINE named one.
    var role: String?
    /// Active-low from the configuration (or --active-low).
    var activeLow = false
    /// Input bias from the configuration.
    var bias: GPIOBias = .asIs

    /// Door roles accepted on the command line and the conventional line names they map to.
    static let roleLineNames: [String: String] = [
        "relay": "door-relay", "door-relay": "door-relay", "lock": "door-relay",
        "led-granted": "led-green", "granted": "led-green", "green": "led-green",
        "led-denied": "led-red", "denied": "led-red", "red": "led-red",
        "led-fault": "led-amber", "fault": "led-amber", "amber": "led-amber",
        "led-idle": "led-blue", "idle": "led-blue",
        "buzzer": "buzzer",
        "door-sensor": "door-sensor", "door": "door-sensor",
        "exit-button": "exit-button", "exit": "exit-button", "rex": "exit-button",
        "tamper": "tamper",
    ]

    /// The door role LINE names (`relay`, `exitButton`...), if any.
    static func role(_ text: String) -> String? {
        let key = String(text.lowercased().map { $0 == "_" ? "-" : $0 })
        let conventional = roleLineNames[key] ?? roleLineNames[camelToDashes(text)]
        return conventional.flatMap { name in DoorIOConfiguration.conventionalLineNames.first { $0.value == name }?.key }
    }

    /// Resolves LINE: a role (through `door` when given, else its conventional line name), a line
    /// name, or an offset; finds the chip for a name when none is given.
    static func resolve(
        _ text: String, chip: String?, door: DoorIOConfiguration? = nil,
        lookup: (String) -> (chip: String, offset: UInt32)? = GPIOInventory.findLine
    ) throws -> ResolvedLine {
        let role = role(text)
        if let role, let door {
            let outputs = Dictionary(uniqueKeysWithValues: door.outputs.map { ($0.key.rawValue, $0.value) })
            let inputs = Dictionary(uniqueKeysWithValues: door.inputs.map { ($0.key.rawValue, $0.value) })
            if let line = outputs[role] {
                return ResolvedLine(chip: chip ?? door.chip, selector: line.line, role: role, activeLow: line.activeLow)
            }
            if let line = inputs[role] {
                return ResolvedLine(chip: chip ?? door.chip, selector: line.line, role: role, activeLow: line.activeLow, bias: line.bias)
            }
            throw GPIOCommandError(description: DoorIOError.roleNotConfigured(role: role).description)
        }
        let selector: GPIOLineSelector =
            role.flatMap { DoorIOConfiguration.conventionalLineNames[$0] }.map { .name($0) }
            ?? GPIOLineSelector(parsing: text)
        if let chip { return ResolvedLine(chip: chip, selector: selector, role: role) }
        switch selector {
        case .offset:
            return ResolvedLine(chip: "gpiochip0", selector: selector, role: nil)
        case .name(let name):
            guard let found = lookup(name) else {
                throw GPIOCommandError(
                    description:
                        "no GPIO line named \"\(name)\" on any chip; give --chip and an offset (`kioskctl gpio info` lists the lines)")
            }
            return ResolvedLine(chip: found.chip, selector: selector, role: role)
        }
    }

    private static func camelToDashes(_ text: String) -> String {
        var result = ""
        for character in text {
            if character.isUppercase { result += "-" + character.lowercased() } else { result.append(character) }
        }
        return result
    }

    var label: String { role.map { "\($0) (\(selector) on \(chip))" } ?? "\(selector) on \(chip)" }

    /// The line as `--json` names it, with `fields` added: {"chip", "line", "role"?, ...}.
    func json(_ fields: [String: Any]) -> [String: Any] {
        var object = fields
        object["chip"] = chip
        object["line"] = "\(selector)"
        if let role { object["role"] = role }
        return object
    }
}

/// A failed GPIO operation: printed as `Error: <message>` with exit status 1 (no usage text,
/// because the command line was right and the hardware was not).
struct GPIOCommandError: Error, CustomStringConvertible {
    var description: String
}

/// Turns a door error into the command's failure.
func gpioFailure(_ error: DoorIOError) -> GPIOCommandError { GPIOCommandError(description: error.description) }

/// Runs a door operation, turning its typed error into the command's failure message.
func gpio<T>(_ body: () throws(DoorIOError) -> T) throws -> T {
    do { return try body() } catch { throw gpioFailure(error) }
}
