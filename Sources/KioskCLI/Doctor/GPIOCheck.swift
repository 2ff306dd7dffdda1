// The doctor's GPIO checks: the chip, every configured line (present, free or held by kioskd),
// the relay's idle level against active_low; a relay pulse only with --pulse-relay.
import DoorIO
import Foundation
import KioskCore

enum GPIOCheck {
    static func run(_ context: DoctorContext) async -> [DoctorResult] {
        guard let configuration = context.configuration else {
            return [.failed("gpio", "not checked: the configuration did not load", fix: "fix the configuration first")]
        }
        let door = configuration.doorConfiguration
        guard door.backend == .gpiod else {
            return [.warning("gpio", "door.backend is console: no relay is driven", fix: "set door.backend: gpiod for a real door")]
        }
        let chipName = door.chip
        let listed = await Bounded.blocking("gpio-chip", within: .seconds(3)) {
            Result { () throws(DoorIOError) in try GPIOInventory.chip(chipName) }
        }
        guard let listed else {
            return [.failed("gpio.chip", "reading \(chipName) took over 3 s", fix: "check the GPIO driver (dmesg)")]
        }
        let chip: GPIOChipInfo
        switch listed {
        case .failure(let error):
            return [.failed("gpio.chip", error.description, fix: "set door.chip to a chip `kioskctl gpio info` lists")]
        case .success(let info):
            chip = info
        }
        var results: [DoctorResult] = [.ok("gpio.chip", "\(chip.name) [\(chip.label)], \(chip.lines.count) lines")]

        var lines: [(role: String, selector: GPIOLineSelector, activeLow: Bool, isOutput: Bool)] = []
        for (role, line) in door.outputs.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            lines.append((role.rawValue, line.line, line.activeLow, true))
        }
        for (role, line) in door.inputs.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            lines.append((role.rawValue, line.line, line.activeLow, false))
        }
        var relayInfo: GPIOLineInfo?
        for entry in lines {
            let key = configurationKey(entry.role)
            let id = "gpio.\(snake(entry.role))"
            guard let info = find(entry.selector, in: chip) else {
                results.append(
                    .failed(
                        id, "\(chip.name) has no line \(entry.selector) (\(key))",
                        fix: "fix \(key); `kioskctl gpio info \(chip.name)` lists the lines"))
                continue
            }
            if entry.role == DoorOutputRole.relay.rawValue { relayInfo = info }
            let where_ = "\(entry.selector) = offset \(info.offset)"
            if let consumer = info.consumer ?? (info.used ? "the kernel" : nil) {
                if consumer == door.consumer && context.kioskdRunning {
                    results.append(.ok(id, "\(where_) is held by kioskd (consumer \"\(consumer)\")"))
                } else if consumer == door.consumer {
                    results.append(
                        .warning(
                            id, "\(where_) is held by consumer \"\(consumer)\" but \(context.kioskdText)",
                            fix: "another process uses kioskd's consumer name: find it (gpioinfo, ps) and stop it"))
                } else {
                    results.append(
                        .failed(
                            id, "\(where_) is busy: held by \"\(consumer)\"",
                            fix: "stop that program or free the line in the device tree; kioskd cannot start while it is held"))
                }
            } else {
                results.append(.ok(id, "\(where_) is free"))
            }
        }
        // The relay is optional when a panel decides (door.grant_output: panel).
        let configuredRelay: GPIOOutputLine? = door.relay
        if let relayInfo, let relay = configuredRelay {
            results.append(await relayIdle(relayInfo, relay: relay, door: door, context: context))
        }
        return results
    }

    /// The relay held by kioskd must be requested with the configured active-low flag (the
    /// kernel reports the request's flags); a free relay is not touched unless `--pulse-relay`.
    static func relayIdle(
        _ info: GPIOLineInfo, relay: GPIOOutputLine, door: DoorIOConfiguration, context: DoctorContext
    ) async -> DoctorResult {
        let configured = relay.activeLow
        let id = "gpio.relay_idle"
        if info.consumer == door.consumer {
            guard info.isOutput else {
                return .failed(id, "kioskd holds the relay line as an input", fix: "restart kioskd; report it if it persists")
            }
            if info.activeLow != configured {
                return .failed(
                    id, "kioskd drives the relay with active_low \(info.activeLow), the configuration says \(configured)",
                    fix: "restart kioskd so it uses the configuration (systemctl restart kioskd)")
            }
            return .ok(id, "kioskd drives the relay active-\(configured ? "low" : "high") as configured; idle = released")
        }
        guard info.consumer == nil, !info.used else {
            return .warning(id, "not checked: the relay line is held by another program", fix: "free the line first")
        }
        guard context.pulseRelay else {
            return .ok(
                id, "relay free; kioskd drives it active-\(configured ? "low" : "high") (door.active_low); not pulsed")
        }
        let chip = door.chip
        let pulsed = await Bounded.blocking("gpio-pulse", within: .seconds(4)) { () -> PulseOutcome in
            do throws(DoorIOError) {
                let held = try GPIOHeldOutput(chip: chip, line: relay, role: "relay", consumer: "kioskctl-doctor", active: false)
                try held.set(active: true)
                usleep(1_000_000)
                try held.set(active: false)
                held.release()
                return .pulsed
            } catch {
                return .failed(error.description)
            }
        }
        switch pulsed {
        case nil:
            return .failed(id, "the relay pulse took over 4 s", fix: "check the GPIO driver (dmesg)")
        case .pulsed?:
            return .ok(id, "relay pulsed for 1 s (--pulse-relay): the lock should have clicked; idle level restored")
        case .failed(let message)?:
            return .failed(id, "relay pulse failed: \(message)", fix: "see the message")
        }
    }

    enum PulseOutcome: Sendable {
        case pulsed
        case failed(String)
    }

    static func find(_ selector: GPIOLineSelector, in chip: GPIOChipInfo) -> GPIOLineInfo? {
        switch selector {
        case .offset(let offset): chip.lines.first { $0.offset == offset }
        case .name(let name): chip.lines.first { $0.name == name }
        }
    }

    /// `ledGranted` → `led_granted`.
    static func snake(_ role: String) -> String {
        var result = ""
        for character in role {
            if character.isUppercase { result += "_" + character.lowercased() } else { result.append(character) }
        }
        return result
    }

    /// `ledGranted` → `door.lines.led_granted` (DoorIO's own helper is internal to it).
    static func configurationKey(_ role: String) -> String { "door.lines.\(snake(role))" }
}
