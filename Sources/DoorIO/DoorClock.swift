/// Where the door controller reads time and waits: pulses, blinking, debounce, feedback and the
/// held-open alarm. The system's continuous clock in the product; tests drive a manual one so
/// they advance time instead of sleeping, and can deliver a timer's wake-up in any order.
package protocol DoorClock: Sendable {
    /// The current instant.
    var now: ContinuousClock.Instant { get }
    /// Suspends until `deadline`; throws when the calling task is cancelled. Timers pass a
    /// deadline computed when they were set, so a task that starts late does not stretch them.
    func sleep(until deadline: ContinuousClock.Instant) async throws
}

/// The system's continuous clock (the product's).
package struct SystemDoorClock: DoorClock {
    package init() {}

    package var now: ContinuousClock.Instant { ContinuousClock.now }

    package func sleep(until deadline: ContinuousClock.Instant) async throws {
        try await Task.sleep(until: deadline, clock: .continuous)
    }
}
