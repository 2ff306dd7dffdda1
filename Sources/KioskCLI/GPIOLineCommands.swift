// `kioskctl gpio get|set|pulse|watch`: one-off line operations for installers.
import ArgumentParser
import DoorIO
import Foundation

struct GPIOGetCommand: AsyncParsableCommand, KioskctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Read an input's logical level once (1 = active)."
    ).compactUsage("kioskctl gpio get <line> [<options>]")

    @Argument(help: "Door role, line name or offset.") var line: String
    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: GPIOLineOptions
    @Option(help: "Internal pull resistor: asIs, disabled, pullUp, pullDown (default: the configuration's, else asIs).") var bias: GPIOBias?

    mutating func run() async throws {
        let resolved = try await options.resolve(line, global)
        let line = GPIOInputLine(resolved.selector, activeLow: resolved.activeLow, bias: bias ?? resolved.bias)
        let consumer = options.consumer
        let active = try gpio { () throws(DoorIOError) in try GPIOInventory.read(chip: resolved.chip, line: line, consumer: consumer) }
        if global.json {
            JSONOutput.print(resolved.json(["value": active ? 1 : 0, "active": active]))
        } else {
            print("\(resolved.label): \(active ? 1 : 0) (\(active ? "active" : "inactive"))")
        }
    }
}

extension GPIOBias: ExpressibleByArgument {}

struct GPIOSetCommand: AsyncParsableCommand, KioskctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Drive an output on or off and hold it (until --for elapses or Ctrl-C).",
        discussion: "When the command ends the line is released; what the pin does then depends on the GPIO driver (see docs/DOORIO.md)."
    ).compactUsage("kioskctl gpio set <line> <value> [<options>]")

    @Argument(help: "Door role, line name or offset.") var line: String
    @Argument(help: "on|off (or 1|0).") var value: String
    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: GPIOLineOptions
    @Option(name: .customLong("for"), help: "Hold for this many seconds, then release (default: until interrupted).")
    var seconds: Double?

    func validate() throws {
        guard ["on", "off", "1", "0"].contains(value.lowercased()) else { throw ValidationError("value must be on, off, 1 or 0") }
        if let seconds, seconds <= 0 || seconds > 3600 { throw ValidationError("--for must be between 0 and 3600 seconds") }
    }

    mutating func run() async throws {
        let resolved = try await options.resolve(line, global)
        let active = ["on", "1"].contains(value.lowercased())
        let line = GPIOOutputLine(resolved.selector, activeLow: resolved.activeLow)
        let consumer = options.consumer
        let held = try gpio { () throws(DoorIOError) in
            try GPIOHeldOutput(chip: resolved.chip, line: line, consumer: consumer, active: active)
        }
        if global.json {
            var object = resolved.json(["active": active])
            object["hold_seconds"] = seconds ?? NSNull()
            JSONOutput.print(object)
        } else {
            print("\(resolved.label): \(active ? "on" : "off"), held \(seconds.map { "for \($0) s" } ?? "until Ctrl-C")")
        }
        try await Task.sleep(for: .seconds(seconds ?? 365 * 86400))
        held.release()
    }
}

struct GPIOPulseCommand: AsyncParsableCommand, KioskctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "pulse", abstract: "Switch an output on for a time, then off (e.g. `kioskctl gpio pulse relay --ms 500`)."
    ).compactUsage("kioskctl gpio pulse <line> [<options>]")

    @Argument(help: "Door role, line name or offset.") var line: String
    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: GPIOLineOptions
    @Option(help: "Pulse length in milliseconds.") var ms = 500

    func validate() throws {
        guard (1...60_000).contains(ms) else { throw ValidationError("--ms must be between 1 and 60000") }
    }

    mutating func run() async throws {
        let resolved = try await options.resolve(line, global)
        let line = GPIOOutputLine(resolved.selector, activeLow: resolved.activeLow)
        let consumer = options.consumer
        let held = try gpio { () throws(DoorIOError) in
            try GPIOHeldOutput(chip: resolved.chip, line: line, consumer: consumer, active: false)
        }
        let clock = ContinuousClock()
        let start = clock.now
        try gpio { () throws(DoorIOError) in try held.set(active: true) }
        // Whatever happens while waiting (Ctrl-C ends the process: the kernel releases the line),
        // the relay is switched off before the line is released.
        var interrupted: (any Error)?
        do { try await Task.sleep(for: .milliseconds(ms)) } catch { interrupted = error }
        try gpio { () throws(DoorIOError) in try held.set(active: false) }
        let took = clock.now - start
        held.release()
        if let interrupted { throw interrupted }
        let (seconds, attoseconds) = took.components
        let measured = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        if global.json {
            JSONOutput.print(resolved.json(["pulse_ms": ms, "measured_ms": measured]))
        } else {
            print("\(resolved.label): pulsed \(ms) ms (measured \(measured) ms)")
        }
    }
}

struct GPIOWatchCommand: AsyncParsableCommand, KioskctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch", abstract: "Print input edges live (raw, not debounced) until Ctrl-C, --count or --timeout."
    ).compactUsage("kioskctl gpio watch [<lines> ...] [<options>]")

    @Argument(help: "Door roles, line names or offsets (default: door-sensor, exit-button, tamper where present).")
    var lines: [String] = []
    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: GPIOLineOptions
    @Option(help: "Internal pull resistor: asIs, disabled, pullUp, pullDown (default: the configuration's, else asIs).") var bias: GPIOBias?
    @Option(help: "Stop after this many edges.") var count: Int?
    @Option(help: "Stop after this many seconds.") var timeout: Double?

    mutating func run() async throws {
        var requested = lines
        if requested.isEmpty {
            if let door = try await options.doorConfiguration(global) {
                requested = DoorInputRole.allCases.filter { door.inputs[$0] != nil }.map(\.rawValue)
            } else {
                requested = ["door-sensor", "exit-button", "tamper"].filter {
                    GPIOInventory.findLine(named: $0) != nil || options.chip != nil
                }
            }
            if requested.isEmpty {
                throw ValidationError("no door-sensor, exit-button or tamper line configured or found by name; name the lines to watch")
            }
        }
        var resolved: [ResolvedLine] = []
        for text in requested { resolved.append(try await options.resolve(text, global)) }
        guard let chip = resolved.first?.chip, resolved.allSatisfy({ $0.chip == chip }) else {
            throw ValidationError("watch lines of one chip at a time (give --chip)")
        }
        var config: [String: GPIOInputLine] = [:]
        var labels: [String: String] = [:]
        for (index, line) in resolved.enumerated() {
            let key = "\(index)"
            config[key] = GPIOInputLine(line.selector, activeLow: line.activeLow, bias: bias ?? line.bias)
            labels[key] = line.role ?? "\(line.selector)"
        }
        let consumer = options.consumer
        let lineConfig = config
        let watcher = try gpio { () throws(DoorIOError) in
            try GPIODLineWatcher(chip: chip, lines: lineConfig, consumer: consumer)
        }
        // --json: one object per line (JSON Lines): the start levels, then one per edge.
        if global.json {
            for key in config.keys.sorted() {
                JSONOutput.print([
                    "line": labels[key] ?? key, "chip": watcher.chipName, "active": watcher.initialLevels[key] == true, "ms": 0,
                ])
            }
        } else {
            print(
                "watching \(labels.sorted { $0.key < $1.key }.map(\.value).joined(separator: ", ")) on \(watcher.chipName) (Ctrl-C to stop)"
            )
            for key in config.keys.sorted() {
                print("  \(labels[key] ?? key): \(watcher.initialLevels[key] == true ? "active" : "inactive") at start")
            }
        }
        let start = ContinuousClock.now
        let limit = count
        let stopper = timeout.map { seconds in
            Task {
                try? await Task.sleep(for: .seconds(seconds))
                await watcher.stop()
            }
        }
        var seen = 0
        for await report in watcher.edges {
            switch report {
            case .edge(let key, let active, let at):
                let (seconds, attoseconds) = (at - start).components
                let ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
                if global.json {
                    JSONOutput.print(["line": labels[key] ?? key, "chip": watcher.chipName, "active": active, "ms": ms])
                } else {
                    print("+\(ms) ms  \(labels[key] ?? key) -> \(active ? "active (rising)" : "inactive (falling)")")
                }
                seen += 1
                if let limit, seen >= limit { await watcher.stop() }
            case .failure(let error):
                stopper?.cancel()
                throw gpioFailure(error)
            }
        }
        stopper?.cancel()
        await watcher.stop()
    }
}
