// Real lines through libgpiod 1.6 (the v1 API Debian bookworm and Raspberry Pi OS ship).
import CGPIOD
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Drives the door's lines on a GPIO character device through libgpiod 1.6.
///
/// Outputs are requested through one chip handle, inputs through another owned by the input
/// thread, so the thread that waits for edges never shares libgpiod state with the callers that
/// set outputs.
package final class GPIODBackend: GPIOBackend {
    /// The chip as configured: name, label, path or number.
    package let chip: String
    private let outputChip = Mutex<GPIODChip?>(nil)

    /// A backend for `chip` (name, label, path or number); nothing is opened until lines are requested.
    package init(chip: String) { self.chip = chip }

    package var summary: String {
        let opened = outputChip.withLock { $0?.summary }
        return "libgpiod \(String(cString: gpiod_version_string())) \(opened ?? chip)"
    }

    package func requestOutputs(_ lines: [DoorOutputRole: GPIOOutputLine], consumer: String) throws(DoorIOError) -> [DoorOutputRole:
        any GPIOOutput]
    {
        let handle = try GPIODChip(lookup: chip)
        var outputs: [DoorOutputRole: any GPIOOutput] = [:]
        do throws(DoorIOError) {
            for role in DoorOutputRole.allCases {
                guard let config = lines[role] else { continue }
                outputs[role] = try GPIODOutput(
                    chip: handle, role: role.rawValue, config: config, consumer: consumer, initiallyActive: false)
            }
        } catch {
            handle.close()  // releases whatever was requested before the failure
            throw error
        }
        let previous = outputChip.withLock { slot in
            let old = slot
            slot = handle
            return old
        }
        previous?.close()
        return outputs
    }

    package func releaseOutputs() {
        let handle = outputChip.withLock { slot in
            let old = slot
            slot = nil
            return old
        }
        handle?.close()
    }

    package func monitorInputs(_ lines: [DoorInputRole: GPIOInputLine], consumer: String) throws(DoorIOError) -> any GPIOInputMonitor {
        let keyed = Dictionary(uniqueKeysWithValues: lines.map { ($0.key.rawValue, $0.value) })
        let watcher = try GPIODLineWatcher(chip: chip, lines: keyed, consumer: consumer)
        return GPIODInputMonitor(watcher: watcher)
    }
}

/// One requested output line. Setting it goes through the chip's lock.
final class GPIODOutput: GPIOOutput, @unchecked Sendable {
    // @unchecked: `line` belongs to `chip` and is only used inside `chip.withHandle`.
    private let chip: GPIODChip
    private let line: OpaquePointer
    private let description: GPIOLineDescription

    init(chip: GPIODChip, role: String, config: GPIOOutputLine, consumer: String, initiallyActive: Bool) throws(DoorIOError) {
        self.chip = chip
        let (line, description) = try chip.withHandle("request output") { handle throws(DoorIOError) in
            let line = try chip.line(config.line, role: role, in: handle)
            let flags = gpiodFlags(activeLow: config.activeLow)
            if gpiod_line_request_output_flags(line, consumer, flags, initiallyActive ? 1 : 0) != 0 {
                throw chip.requestError(line, role: role, selector: config.line, operation: "request as output", errno: errno)
            }
            return (line, chip.describe(line, role: role, selector: config.line))
        }
        self.line = line
        self.description = description
    }

    func set(active: Bool) throws(DoorIOError) {
        try chip.withHandle("set \(description)") { _ throws(DoorIOError) in
            if gpiod_line_set_value(line, active ? 1 : 0) != 0 {
                throw .lineOperationFailed(chip: chip.name, line: description, operation: "set value", errno: errno)
            }
        }
    }

    /// Reads back the logical value this process drives.
    func get() throws(DoorIOError) -> Bool {
        try chip.withHandle("read \(description)") { _ throws(DoorIOError) in
            let value = gpiod_line_get_value(line)
            if value < 0 {
                throw .lineOperationFailed(chip: chip.name, line: description, operation: "read value", errno: errno)
            }
            return value == 1
        }
    }
}

/// Adapts the string-keyed watcher to the door's input roles.
final class GPIODInputMonitor: GPIOInputMonitor {
    private let watcher: GPIODLineWatcher
    let initialLevels: [DoorInputRole: Bool]
    let reports: AsyncStream<GPIOInputReport>

    init(watcher: GPIODLineWatcher) {
        self.watcher = watcher
        var levels: [DoorInputRole: Bool] = [:]
        for (key, level) in watcher.initialLevels {
            if let role = DoorInputRole(rawValue: key) { levels[role] = level }
        }
        initialLevels = levels
        let (stream, continuation) = AsyncStream.makeStream(of: GPIOInputReport.self, bufferingPolicy: .bufferingNewest(1024))
        reports = stream
        let edges = watcher.edges
        Task.detached {
            for await edge in edges {
                switch edge {
                case .edge(let key, let active, let instant):
                    if let role = DoorInputRole(rawValue: key) { continuation.yield(.edge(role, active: active, at: instant)) }
                case .failure(let error):
                    continuation.yield(.failure(error))
                }
            }
            continuation.finish()
        }
    }

    func stop() async { await watcher.stop() }
}
