// Typed errors for door I/O: each names the chip, line and operation, and says what to do next.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a line is, for error messages: the role it plays and how it was asked for.
package struct GPIOLineDescription: Sendable, Hashable, CustomStringConvertible {
    /// The role (`relay`, `doorSensor`...) or `line` for a raw CLI request.
    package var role: String
    /// How the line was selected.
    package var selector: GPIOLineSelector
    /// The offset once resolved.
    package var offset: UInt32?
    /// The kernel's name for the line, if it has one.
    package var name: String?

    /// Describes a line for a message; offset and name once known.
    package init(role: String, selector: GPIOLineSelector, offset: UInt32? = nil, name: String? = nil) {
        self.role = role
        self.selector = selector
        self.offset = offset
        self.name = name
    }

    package var description: String {
        // "line" is what a raw `kioskctl gpio` request is called: no role to name.
        var text = role == "line" ? "line \(selector)" : "\(role) line \(selector)"
        if case .name = selector, let offset { text += " (offset \(offset))" }
        if case .offset = selector, let name { text += " (\"\(name)\")" }
        return text
    }
}

/// Errors from door I/O. Every case carries enough context to act on without a debugger.
package enum DoorIOError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The GPIO chip could not be opened; `available` lists the chips that exist.
    case chipNotFound(chip: String, errno: Int32, available: [String])
    /// The chip exists but has no such line; `available` lists its named lines.
    case lineNotFound(chip: String, line: GPIOLineSelector, role: String, lineCount: Int, available: [String])
    /// Another consumer holds the line (EBUSY); `consumer` is what the kernel reports, if anything.
    case lineBusy(chip: String, line: GPIOLineDescription, consumer: String?)
    /// A request or value operation failed for another reason.
    case lineOperationFailed(chip: String, line: GPIOLineDescription, operation: String, errno: Int32)
    /// The input monitoring thread could not be started or failed.
    case monitorFailed(chip: String, operation: String, errno: Int32)
    /// A configuration value is wrong; `key` is the key under `door:` in the configuration file.
    case invalidConfiguration(key: String, reason: String)
    /// The controller was used after `shutdown()` or before `start()`.
    case notRunning(operation: String)
    /// The role has no line configured.
    case roleNotConfigured(role: String)

    package var description: String {
        switch self {
        case .chipNotFound(let chip, let code, let available):
            if code == EACCES || code == EPERM {
                return
                    "cannot open GPIO chip \"\(chip)\": \(errnoText(code)). Run as root, or give the service user access to /dev/gpiochip* (group gpio on Raspberry Pi OS; SupplementaryGroups= in the systemd unit)."
            }
            let list =
                available.isEmpty
                ? "no GPIO chips found under /dev (is this the right machine? use `backend: console` for a demo)"
                : "chips present: \(available.joined(separator: ", "))"
            return
                "cannot open GPIO chip \"\(chip)\": \(errnoText(code)); \(list). Set door.chip to one of them (`kioskctl gpio info` or `gpiodetect` lists them)."
        case .lineNotFound(let chip, let line, let role, let count, let available):
            let names =
                available.isEmpty
                ? "its lines have no names; use an offset 0-\(max(count - 1, 0))"
                : "named lines: \(available.joined(separator: ", "))"
            let fix = role == "line" ? "Check the line name or offset" : "Fix \(configurationKey(role))"
            return
                "GPIO chip \(chip) (\(count) lines) has no line \(line)\(role == "line" ? "" : " for \(role)"); \(names). \(fix) (`kioskctl gpio info \(chip)` lists them)."
        case .lineBusy(let chip, let line, let consumer):
            let who = consumer.map { "held by consumer \"\($0)\"" } ?? "in use (the kernel does not say by whom)"
            return
                "\(line) on \(chip) is busy: \(who). Stop that process or service (another kioskd? a `gpioset`?), or free it in the device tree, then retry."
        case .lineOperationFailed(let chip, let line, let operation, let code):
            return
                "\(operation) failed for \(line) on \(chip): \(errnoText(code)). Check the line exists and supports it (`kioskctl gpio info \(chip)`); for bias errors set bias to asIs."
        case .monitorFailed(let chip, let operation, let code):
            return
                "input monitoring on \(chip) failed during \(operation): \(errnoText(code)). Door sensor, exit button and tamper are not watched; restart the service."
        case .invalidConfiguration(let key, let reason):
            return "invalid door configuration: \(configurationKey(key)) \(reason)."
        case .notRunning(let operation):
            return "door controller is not running (\(operation)); call start() first and do not use it after shutdown()."
        case .roleNotConfigured(let role):
            return
                "no line is configured for \(role); add \(configurationKey(role)) to the configuration or name a line with --chip and an offset or line name."
        }
    }
}

/// The key as it is written in `kioskd.yaml`: line roles under `door.lines.`, everything in
/// snake_case (`ledGranted` → `door.lines.led_granted`, `relayPulse` → `door.relay_pulse`).
func configurationKey(_ name: String) -> String {
    var snake = ""
    for character in name {
        if character.isUppercase { snake += "_" + character.lowercased() } else { snake.append(character) }
    }
    let isLine = DoorOutputRole(rawValue: name) != nil || DoorInputRole(rawValue: name) != nil
    return isLine ? "door.lines.\(snake)" : "door.\(snake)"
}

/// `strerror` text with the symbolic errno name for the codes operators meet.
func errnoText(_ code: Int32) -> String {
    let names: [Int32: String] = [1: "EPERM", 2: "ENOENT", 13: "EACCES", 16: "EBUSY", 19: "ENODEV", 22: "EINVAL", 95: "EOPNOTSUPP"]
    let text = String(cString: strerror(code))
    if let name = names[code] { return "\(text) (\(name))" }
    return "\(text) (errno \(code))"
}
