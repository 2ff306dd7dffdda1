// A test stand-in for GPIO: records every output transition and lets tests drive inputs.
import DoorIO
import Synchronization

/// Test stand-in backend: no hardware, every output write is recorded with its time.
final class RecordingBackend: GPIOBackend {
    struct Transition: Sendable, Equatable {
        var role: DoorOutputRole
        var active: Bool
        var at: ContinuousClock.Instant
    }

    private let log = Mutex<[Transition]>([])
    private let inputs = Mutex<RecordingInputMonitor?>(nil)
    private let initialLevels: [DoorInputRole: Bool]
    let released = Mutex(false)

    init(initialLevels: [DoorInputRole: Bool] = [:]) { self.initialLevels = initialLevels }

    var summary: String { "recording test stand-in" }

    func requestOutputs(_ lines: [DoorOutputRole: GPIOOutputLine], consumer: String) throws(DoorIOError) -> [DoorOutputRole: any GPIOOutput]
    {
        var result: [DoorOutputRole: any GPIOOutput] = [:]
        for role in lines.keys {
            result[role] = RecordingOutput(role: role, backend: self)
        }
        return result
    }

    func releaseOutputs() { released.withLock { $0 = true } }

    func monitorInputs(_ lines: [DoorInputRole: GPIOInputLine], consumer: String) throws(DoorIOError) -> any GPIOInputMonitor {
        var levels: [DoorInputRole: Bool] = [:]
        for role in lines.keys { levels[role] = initialLevels[role] ?? false }
        let monitor = RecordingInputMonitor(initialLevels: levels)
        inputs.withLock { $0 = monitor }
        return monitor
    }

    fileprivate func record(_ role: DoorOutputRole, _ active: Bool) {
        log.withLock { $0.append(Transition(role: role, active: active, at: .now)) }
    }

    /// Every transition so far.
    var transitions: [Transition] { log.withLock { $0 } }

    /// Transitions of one output.
    func transitions(of role: DoorOutputRole) -> [Transition] { transitions.filter { $0.role == role } }

    /// The last level written to an output (false if never written).
    func level(_ role: DoorOutputRole) -> Bool { transitions(of: role).last?.active ?? false }

    /// A raw edge, as the input thread would report it.
    func edge(_ role: DoorInputRole, active: Bool) {
        inputs.withLock { $0 }?.yield(.edge(role, active: active, at: .now))
    }

    /// An input monitoring failure.
    func fail(_ error: DoorIOError) {
        inputs.withLock { $0 }?.yield(.failure(error))
    }
}

final class RecordingOutput: GPIOOutput {
    let role: DoorOutputRole
    let backend: RecordingBackend

    init(role: DoorOutputRole, backend: RecordingBackend) {
        self.role = role
        self.backend = backend
    }

    func set(active: Bool) throws(DoorIOError) {
        backend.record(role, active)
    }
}

final class RecordingInputMonitor: GPIOInputMonitor {
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
