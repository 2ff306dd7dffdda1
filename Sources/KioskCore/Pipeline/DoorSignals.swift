// DoorSignals: the pipeline's seam to the door (DoorController), so tests can record signals instead.
package import DoorIO

/// The pipeline's seam to the door: what it shows and does for a person. The real one is
/// ``DoorIO/DoorController``; the pipeline's unit tests record the signals instead.
package protocol DoorSignals: Sendable {
    /// Shows `signal` (LEDs, buzzer) and, for a grant, pulses the relay.
    func signal(_ signal: DoorSignal) async
    /// Shows a decision about a person: `signals` (from the decision) in order. A panel door
    /// also sends the decision's credential to the access-control panel.
    func show(_ decision: Decision, signals: [DoorSignal]) async
    /// Whether a grant is still open (a turnstile's, until the passage input).
    func grantOpen() async -> Bool
}

extension DoorSignals {
    package func show(_ decision: Decision, signals: [DoorSignal]) async {
        for signal in signals { await self.signal(signal) }
    }

    package func grantOpen() async -> Bool { false }
}

extension DoorController: DoorSignals {
    package func grantOpen() async -> Bool { isGrantOpen() }
}
