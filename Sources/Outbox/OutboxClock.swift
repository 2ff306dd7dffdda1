// OutboxClock: the outbox's wall clock and sleep, injected so tests can drive backoff without waiting.
package import Foundation

/// The time source of the outbox: wall-clock time for the stored timestamps and a sleep for the
/// drain loop. Injected so tests can drive backoff and the circuit breaker without waiting.
package protocol OutboxClock: Sendable {
    /// The current wall-clock time.
    func now() -> Date
    /// Suspends for `duration` (throws `CancellationError` when the task is cancelled).
    func sleep(for duration: Duration) async throws
}

/// The real clock: `Date()` and `Task.sleep`.
package struct SystemOutboxClock: OutboxClock {
    package init() {}
    package func now() -> Date { Date() }
    package func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}
