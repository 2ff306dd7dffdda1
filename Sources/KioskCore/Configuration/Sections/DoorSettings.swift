// `door.*`: backend, GPIO line roles, wiring, timings, the checks, and the door controller's configuration.
package import DoorIO

/// Door hardware (`door.*`); line roles map onto GPIO lines by name or offset.
package struct DoorSettings: Sendable, Equatable {
    package enum Backend: String, Sendable, CaseIterable { case gpiod, console }
    /// Where a grant goes: the terminal's relay, or an access-control panel (`panel.*`).
    package enum Mode: String, Sendable, CaseIterable { case relay, wiegand, osdp }
    package enum Kind: String, Sendable, CaseIterable { case door, turnstile }
    /// Which way the terminal checks people through (sent with the check-in and journaled).
    package enum Direction: String, Sendable, CaseIterable { case none, entry, exit }
    /// `console` prints transitions instead of driving GPIO: for demos and development only.
    package var backend: Backend = .gpiod
    package var mode: Mode = .relay
    package var kind: Kind = .door
    package var direction: Direction = .none
    /// The turnstile controller's passage output (an input here).
    package var passageLine = ""
    package var chip = "gpiochip0"
    package var relayLine = "door-relay"
    package var grantedLEDLine = ""
    package var deniedLEDLine = ""
    package var faultLEDLine = ""
    package var idleLEDLine = ""
    package var buzzerLine = ""
    package var doorSensorLine = ""
    package var exitButtonLine = ""
    package var tamperLine = ""
    /// Lines (by the names above) wired active-low.
    package var activeLowLines: [String] = []
    /// `normally_open` or `normally_closed` door sensor wiring.
    package var doorSensorWiring = "normally_open"
    package var relayPulse: Duration = .seconds(3)
    /// Keep the strike released until the door opens, up to this long (needs a door sensor);
    /// zero = a plain pulse.
    package var holdUntilOpen: Duration = .zero
    /// Re-arm the lock as soon as the door opens instead of at the end of the pulse.
    package var endPulseWhenDoorOpens = true
    package var heldOpenAlarmAfter: Duration = .seconds(30)
    package var debounce: Duration = .milliseconds(50)

    package init() {}
}

extension DoorSettings: ConfigurationSection {
    static let name = "door"

    /// The values `door.door_sensor_wiring` takes.
    static let sensorWirings = ["normally_open", "normally_closed"]

    mutating func read(from keys: SectionReader) {
        keys.choice("backend", &backend)
        keys.choice("mode", &mode)
        keys.choice("kind", &kind)
        keys.choice("direction", &direction)
        keys.string("chip", &chip)
        // The role names under `lines:` are also the names `active_low` lists.
        let lines = keys.nested("lines")
        lines.string("relay", &relayLine)
        lines.string("led_granted", &grantedLEDLine)
        lines.string("led_denied", &deniedLEDLine)
        lines.string("led_fault", &faultLEDLine)
        lines.string("led_idle", &idleLEDLine)
        lines.string("buzzer", &buzzerLine)
        lines.string("door_sensor", &doorSensorLine)
        lines.string("exit_button", &exitButtonLine)
        lines.string("tamper", &tamperLine)
        lines.string("passage", &passageLine)
        keys.stringList("active_low", &activeLowLines)
        keys.string("door_sensor_wiring", &doorSensorWiring)
        keys.duration("relay_pulse", &relayPulse, max: .seconds(60))
        keys.duration("hold_until_open", &holdUntilOpen, max: .seconds(120))
        keys.bool("end_pulse_when_door_opens", &endPulseWhenDoorOpens)
        keys.duration("held_open_alarm_after", &heldOpenAlarmAfter, max: .seconds(3600))
        keys.duration("debounce", &debounce, max: .seconds(2))
    }

    func validate(_ keys: SectionReader) {
        if backend == .gpiod, relayLine.isEmpty, mode == .relay {
            keys.issue("lines.relay", "is required with the gpiod backend and mode: relay")
        }
        if kind == .turnstile, passageLine.isEmpty {
            keys.issue("lines.passage", "is required with kind: turnstile (the controller's passage output ends a grant)")
        }
        if !Self.sensorWirings.contains(doorSensorWiring) {
            keys.issue("door_sensor_wiring", "'\(doorSensorWiring)' is not one of: \(Self.sensorWirings.joined(separator: ", "))")
        }
    }
}

extension DoorSettings {
    /// The door controller's configuration (`DoorIO`). Roles without a line are left out.
    package var doorConfiguration: DoorIOConfiguration {
        let low = Set(activeLowLines)
        func output(_ role: String, _ line: String) -> GPIOOutputLine? {
            line.isEmpty ? nil : GPIOOutputLine(GPIOLineSelector(parsing: line), activeLow: low.contains(role))
        }
        func input(_ role: String, _ line: String) -> GPIOInputLine? {
            line.isEmpty ? nil : GPIOInputLine(GPIOLineSelector(parsing: line), activeLow: low.contains(role))
        }
        return DoorIOConfiguration(
            backend: backend == .console ? .console : .gpiod,
            chip: chip,
            relay: output("relay", relayLine) ?? (mode == .relay ? GPIOOutputLine(.name("door-relay")) : nil),
            kind: kind == .turnstile ? .turnstile : .door,
            passage: input("passage", passageLine),
            ledGranted: output("led_granted", grantedLEDLine),
            ledDenied: output("led_denied", deniedLEDLine),
            ledFault: output("led_fault", faultLEDLine),
            ledIdle: output("led_idle", idleLEDLine),
            buzzer: output("buzzer", buzzerLine),
            doorSensor: input("door_sensor", doorSensorLine),
            doorSensorWiring: doorSensorWiring == "normally_closed" ? .normallyClosed : .normallyOpen,
            exitButton: input("exit_button", exitButtonLine),
            tamper: input("tamper", tamperLine),
            relayPulse: relayPulse,
            endPulseWhenDoorOpens: endPulseWhenDoorOpens,
            holdUntilOpen: holdUntilOpen > .zero ? holdUntilOpen : nil,
            heldOpenAlarmAfter: heldOpenAlarmAfter,
            debounce: debounce)
    }
}

extension KioskConfiguration {
    /// `door.*` (and `panel.*` / `osdp.*` when grants go to a panel) as the door controller's configuration.
    package var doorConfiguration: DoorIOConfiguration {
        var configuration = door.doorConfiguration
        if door.mode == .wiegand { panel.apply(to: &configuration) }
        if door.mode == .osdp {
            // The panel drives the lock; its osdp_LED and osdp_BUZ drive the terminal's LEDs and buzzer.
            configuration.grantOutput = .panel
            configuration.panelFeedbackOverLink = true
        }
        return configuration
    }
}
