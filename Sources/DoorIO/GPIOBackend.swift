// The seam between the door logic and the lines: real GPIO (libgpiod) or the console.

/// One output line, already requested. Implementations must be safe to call from any task.
package protocol GPIOOutput: Sendable {
    /// Drives the line: `true` energises the load (the active-low setting is already applied).
    func set(active: Bool) throws(DoorIOError)
}

/// Something an input monitor reports.
package enum GPIOInputReport: Sendable, Hashable {
    /// A raw (not yet debounced) edge: `active` is the new logical level of the line.
    case edge(DoorInputRole, active: Bool, at: ContinuousClock.Instant)
    /// Monitoring stopped on an error; no more edges follow.
    case failure(DoorIOError)
}

/// Watches input lines for edges on its own thread.
package protocol GPIOInputMonitor: Sendable {
    /// The logical level of each line when monitoring began.
    var initialLevels: [DoorInputRole: Bool] { get }
    /// Raw edges in the order they happened; finishes after `stop()` or a failure.
    var reports: AsyncStream<GPIOInputReport> { get }
    /// Stops watching and releases the lines; returns when they are released.
    func stop() async
}

/// A way to reach the door's lines.
package protocol GPIOBackend: Sendable {
    /// What this backend drives, for logs and `kioskctl status` (e.g. `libgpiod gpiochip0 [pinctrl-bcm2711]`).
    var summary: String { get }
    /// Requests every output line, initially inactive (relay de-energised, LEDs off).
    /// Either all lines are requested or none stay held.
    func requestOutputs(_ lines: [DoorOutputRole: GPIOOutputLine], consumer: String) throws(DoorIOError) -> [DoorOutputRole: any GPIOOutput]
    /// Releases the output lines requested by `requestOutputs` (call after driving them inactive).
    func releaseOutputs()
    /// Starts watching the input lines (both edges).
    func monitorInputs(_ lines: [DoorInputRole: GPIOInputLine], consumer: String) throws(DoorIOError) -> any GPIOInputMonitor
}

extension DoorIOConfiguration {
    /// The backend this configuration names: `GPIODBackend` on `chip`, or `ConsoleBackend`
    /// printing to standard output only when `backend: console` was configured.
    package func makeBackend() -> any GPIOBackend {
        switch backend {
        case .gpiod: GPIODBackend(chip: chip)
        // The simulated door starts closed, whatever the wiring.
        case .console: ConsoleBackend(initialLevels: [.doorSensor: doorSensorWiring == .normallyClosed])
        }
    }
}
