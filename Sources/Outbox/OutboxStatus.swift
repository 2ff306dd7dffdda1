// Outbox status: persistent delivery and drop counters, the drainer's last state, `kioskctl queue status`.
package import Foundation

/// Persistent counters of what left the queue and how. Never reset by the software.
package struct OutboxCounters: Sendable, Equatable, Codable {
    package var enqueued: Int
    package var delivered: Int
    /// Items the server refused for good (400/403/404/409), journaled as late outcomes.
    package var finalOutcome: Int
    package var droppedExpired: Int
    package var droppedItemLimit: Int
    package var droppedByteLimit: Int
    /// New items refused (`refuseNew` at a limit, or larger than the byte limit).
    package var refused: Int
    package var purged: Int
    /// Posts (live or queued) that went out whole and got no answer: the server may have them.
    package var ambiguous: Int
    /// Items dropped after a post without an answer (`outbox.ambiguous`): maybe recorded, maybe not.
    package var droppedAmbiguous: Int

    /// All items lost without delivery, whatever the reason. Items dropped after an unanswered
    /// post are counted too: the device cannot know whether the server has them.
    package var dropped: Int { droppedExpired + droppedItemLimit + droppedByteLimit + refused + purged + droppedAmbiguous }

    init(_ values: [String: Int]) {
        func v(_ c: OutboxCounter) -> Int { values[c.rawValue] ?? 0 }
        enqueued = v(.enqueued)
        delivered = v(.delivered)
        finalOutcome = v(.finalOutcome)
        droppedExpired = v(.droppedExpired)
        droppedItemLimit = v(.droppedItemLimit)
        droppedByteLimit = v(.droppedByteLimit)
        refused = v(.refused)
        purged = v(.purged)
        ambiguous = v(.ambiguous)
        droppedAmbiguous = v(.droppedAmbiguous)
    }
}

/// The drainer's last known state, persisted so `kioskctl` (another process) can show it.
package struct SenderState: Sendable, Equatable, Codable {
    /// "closed", "open" or "half-open".
    package var breaker: String
    /// Consecutive retryable failures.
    package var consecutiveFailures: Int
    /// When the open breaker lets a probe through.
    package var probeAt: Date?
    /// The last delivery error, if the last attempt failed.
    package var lastError: String?
    /// When the last item was delivered.
    package var lastDeliveryAt: Date?
    /// When this state was written.
    package var updatedAt: Date
}

/// What `kioskctl queue status` shows.
package struct OutboxStatus: Sendable, Equatable, Codable {
    package var items: Int
    /// Sealed bytes queued.
    package var bytes: Int
    package var limits: OutboxLimits
    package var oldestCapturedAt: Date?
    package var nextAttemptAt: Date?
    package var counters: OutboxCounters
    /// Nil when no drainer has run yet.
    package var sender: SenderState?
    /// Set (in this process) while writes fail, e.g. disk full.
    package var degradedReason: String?
}
