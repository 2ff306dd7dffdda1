// DoorSignals: the pipeline's seam to the door (DoorController), so tests can record signals instead.
package import DoorIO

/// The pipeline's seam to the door: what it shows and does for a person. The real one is
/// ``DoorIO/DoorController``; the pipeline's unit tests record the signals instead.
package protocol DoorSignals: Sendable {
    /// Shows `signal` (LEDs, buzzer) and, for a grant, pulses the relay.
    func signal(_ signal: DoorSignal) async
}

extension DoorController: DoorSignals {}
