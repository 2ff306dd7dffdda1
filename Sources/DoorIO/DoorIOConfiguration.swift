// The door I/O configuration: which chip, which lines, and how the door behaves.

/// Which backend drives the door lines.
///
/// There is no automatic fallback: a kiosk that silently printed relay pulses instead of driving
/// the lock would look healthy while the door never opened, so `console` must be asked for.
package enum DoorIOBackendKind: String, Sendable, Codable, CaseIterable {
    /// Real GPIO lines through libgpiod 1.6 on the GPIO character device (`/dev/gpiochipN`).
    case gpiod
    /// No hardware: every line transition is printed with a timestamp (demo and development).
    case console
}

/// How a line is found on its chip: by offset or by the line name the kernel reports.
package enum GPIOLineSelector: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The line's offset on the chip (on a Raspberry Pi header chip, the BCM GPIO number).
    case offset(UInt32)
    /// The line name from the device tree or driver (`gpioinfo` shows them), e.g. `door-relay`.
    case name(String)

    /// Parses `"17"` as an offset and anything else as a line name.
    package init(parsing text: String) {
        if let number = UInt32(text) { self = .offset(number) } else { self = .name(text) }
    }

    package var description: String {
        switch self {
        case .offset(let offset): "offset \(offset)"
        case .name(let name): "\"\(name)\""
        }
    }
}

/// The internal pull resistor requested for an input (libgpiod 1.6 bias flags).
package enum GPIOBias: String, Sendable, Codable, CaseIterable {
    /// Leave the pull configuration as the board or boot firmware set it.
    case asIs
    /// Disable the internal pull resistors (an external resistor is fitted).
    case disabled
    /// Internal pull-up: the usual choice for a switch wired between the pin and ground.
    case pullUp
    /// Internal pull-down: for a switch wired between the pin and 3.3 V.
    case pullDown
}

/// One output line (relay, LED or buzzer).
package struct GPIOOutputLine: Sendable, Hashable, Codable {
    /// The line on the configured chip.
    package var line: GPIOLineSelector
    /// True when the load is on while the pin is low (many relay boards are active-low).
    package var activeLow: Bool

    /// An output on `line`, active-high unless told otherwise.
    package init(_ line: GPIOLineSelector, activeLow: Bool = false) {
        self.line = line
        self.activeLow = activeLow
    }
}

/// One input line (door sensor, exit button, tamper switch).
package struct GPIOInputLine: Sendable, Hashable, Codable {
    /// The line on the configured chip.
    package var line: GPIOLineSelector
    /// True when the contact being closed pulls the pin low (switch to ground with a pull-up).
    package var activeLow: Bool
    /// The internal pull resistor to request.
    package var bias: GPIOBias

    /// An input on `line`; the bias is left as the board set it unless told otherwise.
    package init(_ line: GPIOLineSelector, activeLow: Bool = false, bias: GPIOBias = .asIs) {
        self.line = line
        self.activeLow = activeLow
        self.bias = bias
    }
}

/// How the door contact (reed switch) is wired.
package enum DoorSensorWiring: String, Sendable, Codable, CaseIterable {
    /// The contact is closed (line active) while the door is closed. Opening the door or a cut
    /// wire both read as "open", so tampering with the sensor cannot hide an opening. Recommended.
    case normallyClosed
    /// The contact is closed (line active) while the door is open.
    case normallyOpen
}

/// The output roles the controller drives.
package enum DoorOutputRole: String, Sendable, Hashable, Codable, CaseIterable {
    /// The lock relay: energised = door released.
    case relay
    /// Green: granted.
    case ledGranted
    /// Red: denied, alarms.
    case ledDenied
    /// Amber: offline (blinking), fault (steady).
    case ledFault
    /// Ready (steady) or checking (blinking).
    case ledIdle
    /// Beeps and the alarm pattern.
    case buzzer
    /// Wiegand D0 to the access-control panel (pulses send zeros).
    case wiegandD0
    /// Wiegand D1 to the access-control panel (pulses send ones).
    case wiegandD1
}

/// The input roles the controller watches.
package enum DoorInputRole: String, Sendable, Hashable, Codable, CaseIterable {
    /// Door contact (see `DoorSensorWiring`).
    case doorSensor
    /// Request-to-exit button: active while pressed.
    case exitButton
    /// Enclosure tamper switch: active while the enclosure is open.
    case tamper
    /// The panel's LED line to the reader: active while the panel shows "granted".
    case panelLED
    /// The panel's beeper line to the reader: active while the panel sounds the beeper.
    case panelBeeper
    /// The turnstile controller's passage signal: active when a person went through.
    case passage
}

/// Where a grant goes.
package enum DoorGrantOutput: String, Sendable, Hashable, Codable, CaseIterable {
    /// The terminal pulses its own relay.
    case relay
    /// An access-control panel decides: the credential is sent (``DoorController/sendCredential(_:)``)
    /// and the relay, if any, is left alone.
    case panel
}

/// What the grant opens.
package enum DoorKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// A door: the grant lasts the relay pulse (or until the door opens).
    case door
    /// A turnstile: one grant lets one person through; the grant lasts until the passage input
    /// (or the pulse length, when nobody went through).
    case turnstile
}

/// Everything `DoorController` needs: the chip, the lines by role, and the door's timing.
///
/// Only the relay is required; every other line is optional so a two-wire install (relay only)
/// works. The defaults are the values an installer would pick for an electric strike with a
/// door contact; each one says why in `docs/DOORIO.md`.
package struct DoorIOConfiguration: Sendable, Hashable, Codable {
    /// The backend; `console` only when asked for.
    package var backend: DoorIOBackendKind
    /// The GPIO chip: a name (`gpiochip0`), a label (`pinctrl-rp1`), a path (`/dev/gpiochip4`)
    /// or a number; resolved with `gpiod_chip_open_lookup`.
    package var chip: String
    /// The consumer name the kernel shows for our lines (`gpioinfo`).
    package var consumer: String

    /// The lock relay; required unless grants go to a panel.
    package var relay: GPIOOutputLine?
    /// Where a grant goes: the relay (default) or an access-control panel.
    package var grantOutput: DoorGrantOutput
    /// A door or a turnstile.
    package var kind: DoorKind
    /// Wiegand output to a panel.
    package var wiegand: WiegandLines?
    /// The panel's LED line: when set, the green/red feedback for a sent credential follows it.
    package var panelLED: GPIOInputLine?
    /// The panel's beeper line: when set, the buzzer follows it.
    package var panelBeeper: GPIOInputLine?
    /// The panel sends its LED and buzzer commands over a serial link (OSDP) instead of lines:
    /// the green LED and the buzzer follow ``DoorController/panelIndication(green:)`` and
    /// ``DoorController/panelBuzzer(_:)``, as they would follow `panelLED` and `panelBeeper`.
    package var panelFeedbackOverLink = false
    /// The turnstile controller's passage input (needed for `kind: turnstile`).
    package var passage: GPIOInputLine?
    /// Green LED: access granted.
    package var ledGranted: GPIOOutputLine?
    /// Red LED: access denied, alarms.
    package var ledDenied: GPIOOutputLine?
    /// Amber LED: offline (blinking) or fault (steady).
    package var ledFault: GPIOOutputLine?
    /// Idle/ready LED (steady while ready, blinking while a check-in is in progress).
    package var ledIdle: GPIOOutputLine?
    /// Buzzer (active buzzer module: on = sound).
    package var buzzer: GPIOOutputLine?

    /// Door contact.
    package var doorSensor: GPIOInputLine?
    /// How the door contact is wired.
    package var doorSensorWiring: DoorSensorWiring
    /// Request-to-exit button (inside): opens the door locally.
    package var exitButton: GPIOInputLine?
    /// Enclosure tamper switch: active means the enclosure is open.
    package var tamper: GPIOInputLine?

    /// How long the relay stays energised for a grant or an exit request (default 3 s).
    package var relayPulse: Duration
    /// Cut the relay as soon as the door opens, instead of at the end of the pulse (default on):
    /// the lock re-arms while the door is still open, so it latches when the door closes.
    package var endPulseWhenDoorOpens: Bool
    /// When set, a grant keeps the relay energised until the door opens, up to this long;
    /// `relayPulse` is then the minimum. Needs a door sensor.
    package var holdUntilOpen: Duration?
    /// A door open longer than this raises the held-open alarm (default 30 s).
    package var heldOpenAlarmAfter: Duration
    /// An opening within this time after the relay pulse ends still counts as authorised
    /// (people push the door a moment late; default 2 s).
    package var openGrace: Duration
    /// An input must hold its new level this long before it counts (default 50 ms).
    package var debounce: Duration
    /// How long the granted/denied LED and feedback stay on (default 2 s).
    package var feedbackDuration: Duration

    /// A configuration with the documented defaults for everything not given.
    package init(
        backend: DoorIOBackendKind = .gpiod,
        chip: String = "gpiochip0",
        consumer: String = "kioskd",
        relay: GPIOOutputLine?,
        grantOutput: DoorGrantOutput = .relay,
        kind: DoorKind = .door,
        wiegand: WiegandLines? = nil,
        panelLED: GPIOInputLine? = nil,
        panelBeeper: GPIOInputLine? = nil,
        passage: GPIOInputLine? = nil,
        ledGranted: GPIOOutputLine? = nil,
        ledDenied: GPIOOutputLine? = nil,
        ledFault: GPIOOutputLine? = nil,
        ledIdle: GPIOOutputLine? = nil,
        buzzer: GPIOOutputLine? = nil,
        doorSensor: GPIOInputLine? = nil,
        doorSensorWiring: DoorSensorWiring = .normallyClosed,
        exitButton: GPIOInputLine? = nil,
        tamper: GPIOInputLine? = nil,
        relayPulse: Duration = .seconds(3),
        endPulseWhenDoorOpens: Bool = true,
        holdUntilOpen: Duration? = nil,
        heldOpenAlarmAfter: Duration = .seconds(30),
        openGrace: Duration = .seconds(2),
        debounce: Duration = .milliseconds(50),
        feedbackDuration: Duration = .seconds(2)
    ) {
        self.backend = backend
        self.chip = chip
        self.consumer = consumer
        self.relay = relay
        self.grantOutput = grantOutput
        self.kind = kind
        self.wiegand = wiegand
        self.panelLED = panelLED
        self.panelBeeper = panelBeeper
        self.passage = passage
        self.ledGranted = ledGranted
        self.ledDenied = ledDenied
        self.ledFault = ledFault
        self.ledIdle = ledIdle
        self.buzzer = buzzer
        self.doorSensor = doorSensor
        self.doorSensorWiring = doorSensorWiring
        self.exitButton = exitButton
        self.tamper = tamper
        self.relayPulse = relayPulse
        self.endPulseWhenDoorOpens = endPulseWhenDoorOpens
        self.holdUntilOpen = holdUntilOpen
        self.heldOpenAlarmAfter = heldOpenAlarmAfter
        self.openGrace = openGrace
        self.debounce = debounce
        self.feedbackDuration = feedbackDuration
    }

    /// The conventional line names used by our pin maps (`hardware/pinmaps/`) and by the
    /// virtual-hardware harness; boards whose device tree names the lines can use them as is.
    package static let conventionalLineNames: [String: String] = [
        "relay": "door-relay", "ledGranted": "led-green", "ledDenied": "led-red",
        "ledFault": "led-amber", "ledIdle": "led-blue", "buzzer": "buzzer",
        "doorSensor": "door-sensor", "exitButton": "exit-button", "tamper": "tamper",
    ]

    /// A configuration that finds every line by its conventional name on `chip`.
    package static func conventional(chip: String, backend: DoorIOBackendKind = .gpiod) -> DoorIOConfiguration {
        DoorIOConfiguration(
            backend: backend, chip: chip,
            relay: GPIOOutputLine(.name("door-relay")),
            ledGranted: GPIOOutputLine(.name("led-green")),
            ledDenied: GPIOOutputLine(.name("led-red")),
            buzzer: GPIOOutputLine(.name("buzzer")),
            doorSensor: GPIOInputLine(.name("door-sensor")),
            exitButton: GPIOInputLine(.name("exit-button")))
    }

    /// The configured output lines by role.
    package var outputs: [DoorOutputRole: GPIOOutputLine] {
        var result: [DoorOutputRole: GPIOOutputLine] = [:]
        if let relay { result[.relay] = relay }
        if let wiegand {
            result[.wiegandD0] = GPIOOutputLine(wiegand.d0, activeLow: wiegand.activeLow)
            result[.wiegandD1] = GPIOOutputLine(wiegand.d1, activeLow: wiegand.activeLow)
        }
        if let ledGranted { result[.ledGranted] = ledGranted }
        if let ledDenied { result[.ledDenied] = ledDenied }
        if let ledFault { result[.ledFault] = ledFault }
        if let ledIdle { result[.ledIdle] = ledIdle }
        if let buzzer { result[.buzzer] = buzzer }
        return result
    }

    /// The configured input lines by role.
    package var inputs: [DoorInputRole: GPIOInputLine] {
        var result: [DoorInputRole: GPIOInputLine] = [:]
        if let doorSensor { result[.doorSensor] = doorSensor }
        if let exitButton { result[.exitButton] = exitButton }
        if let tamper { result[.tamper] = tamper }
        if let panelLED { result[.panelLED] = panelLED }
        if let panelBeeper { result[.panelBeeper] = panelBeeper }
        if let passage { result[.passage] = passage }
        return result
    }

    /// Checks values that would make the door misbehave; the error names the key.
    package func validate() throws(DoorIOError) {
        func positive(_ value: Duration, _ key: String) throws(DoorIOError) {
            if value <= .zero { throw .invalidConfiguration(key: key, reason: "must be greater than zero") }
        }
        try positive(relayPulse, "relayPulse")
        try positive(heldOpenAlarmAfter, "heldOpenAlarmAfter")
        try positive(feedbackDuration, "feedbackDuration")
        if debounce < .zero { throw .invalidConfiguration(key: "debounce", reason: "must not be negative") }
        if openGrace < .zero { throw .invalidConfiguration(key: "openGrace", reason: "must not be negative") }
        if relayPulse > .seconds(60) {
            throw .invalidConfiguration(key: "relayPulse", reason: "over 60 s; most lock coils are not rated for it (typical: 1-10 s)")
        }
        if let hold = holdUntilOpen {
            if doorSensor == nil {
                throw .invalidConfiguration(key: "holdUntilOpen", reason: "needs a doorSensor line to know when the door opened")
            }
            if hold < relayPulse {
                throw .invalidConfiguration(key: "holdUntilOpen", reason: "must be at least relayPulse")
            }
        }
        if relay == nil && grantOutput == .relay {
            throw .invalidConfiguration(key: "relay", reason: "is required unless grants go to an access-control panel")
        }
        if let wiegand { try wiegand.timing.validate() }
        if kind == .turnstile && passage == nil {
            throw .invalidConfiguration(key: "passage", reason: "a turnstile needs the controller's passage line to end a grant")
        }
        if consumer.isEmpty { throw .invalidConfiguration(key: "consumer", reason: "must not be empty") }
        if backend == .gpiod && chip.isEmpty {
            throw .invalidConfiguration(key: "chip", reason: "name the GPIO chip (gpiodetect lists them)")
        }
        var seen: [GPIOLineSelector: String] = [:]
        let all: [(String, GPIOLineSelector)] =
            outputs.map { ($0.key.rawValue, $0.value.line) }
            + inputs.map { ($0.key.rawValue, $0.value.line) }
        for (role, line) in all.sorted(by: { $0.0 < $1.0 }) {
            if let other = seen[line] {
                throw .invalidConfiguration(key: role, reason: "uses line \(line), already used by \(other)")
            }
            seen[line] = role
        }
    }
}
