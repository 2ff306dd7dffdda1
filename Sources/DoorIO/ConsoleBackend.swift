// A backend without hardware: prints every line transition with a timestamp.
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Prints every output transition (and injected input) with a timestamp instead of driving GPIO.
///
/// For demos and development machines without GPIO. It is only used when the configuration says
/// `backend: console`; every line it prints starts with `[console-gpio]` so nobody mistakes it
/// for a working door. Inputs can be simulated with `inject(_:active:)`.
package final class ConsoleBackend: GPIOBackend {
    /// Where lines go (standard output by default).
    package typealias Sink = @Sendable (String) -> Void

    private let sink: Sink
    private let initialLevels: [DoorInputRole: Bool]
    private let monitors = Mutex<[ConsoleInputMonitor]>([])

    /// - Parameters:
    ///   - initialLevels: the simulated input levels at start (missing roles read inactive).
    ///   - sink: receives each printed line; standard output when nil.
    package init(initialLevels: [DoorInputRole: Bool] = [:], sink: Sink? = nil) {
        self.initialLevels = initialLevels
        self.sink =
            sink ?? { line in
                print(line)
                fflush(nil)  // flush every stream: `stdout` itself is not concurrency-safe to name
            }
    }

    package var summary: String { "console (no GPIO hardware: transitions are printed, nothing is driven)" }

    package func requestOutputs(_ lines: [DoorOutputRole: GPIOOutputLine], consumer: String) throws(DoorIOError) -> [DoorOutputRole:
        any GPIOOutput]
    {
        var outputs: [DoorOutputRole: any GPIOOutput] = [:]
        for (role, config) in lines {
            outputs[role] = ConsoleOutput(role: role, line: config.line, sink: sink)
        }
        for role in DoorOutputRole.allCases where lines[role] != nil {
            sink(
                "\(Self.timestamp()) [console-gpio] \(role.rawValue) (\(lines[role].map { "\($0.line)" } ?? "")) requested by \(consumer): off"
            )
        }
        return outputs
    }

    package func releaseOutputs() {
        sink("\(Self.timestamp()) [console-gpio] outputs released")
    }

    package func monitorInputs(_ lines: [DoorInputRole: GPIOInputLine], consumer: String) throws(DoorIOError) -> any GPIOInputMonitor {
        var levels: [DoorInputRole: Bool] = [:]
        for role in lines.keys { levels[role] = initialLevels[role] ?? false }
        let monitor = ConsoleInputMonitor(initialLevels: levels)
        monitors.withLock { $0.append(monitor) }
        return monitor
    }

    /// Simulates an input edge (as if the line changed to `active`), printed like any transition.
    package func inject(_ role: DoorInputRole, active: Bool) {
        sink("\(Self.timestamp()) [console-gpio] input \(role.rawValue) -> \(active ? "active" : "inactive")")
        let current = monitors.withLock { $0 }
        for monitor in current { monitor.yield(.edge(role, active: active, at: .now)) }
    }

    /// Local wall-clock time with milliseconds, e.g. `14:03:07.250`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        localtime_r(&seconds, &parts)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2)).\(pad(now.tv_nsec / 1_000_000, 3))"
    }
}

/// One console output: prints each change.
final class ConsoleOutput: GPIOOutput {
    let role: DoorOutputRole
    let line: GPIOLineSelector
    let sink: ConsoleBackend.Sink

    init(role: DoorOutputRole, line: GPIOLineSelector, sink: @escaping ConsoleBackend.Sink) {
        self.role = role
        self.line = line
        self.sink = sink
    }

    func set(active: Bool) throws(DoorIOError) {
        let state =
            switch role {
            case .relay: active ? "ENERGISED" : "de-energised"
            default: active ? "on" : "off"
            }
        sink("\(ConsoleBackend.timestamp()) [console-gpio] \(role.rawValue) (\(line)) -> \(state)")
    }
}

/// Console inputs: only what `inject` sends.
final class ConsoleInputMonitor: GPIOInputMonitor {
    let initialLevels: [DoorInputRole: Bool]
    let reports: AsyncStream<GPIOInputReport>
    private let continuation: AsyncStream<GPIOInputReport>.Continuation

    init(initialLevels: [DoorInputRole: Bool]) {
        self.initialLevels = initialLevels
        (reports, continuation) = AsyncStream.makeStream(of: GPIOInputReport.self)
    }

    func yield(_ report: GPIOInputReport) { continuation.yield(report) }

    func stop() async { continuation.finish() }
}
