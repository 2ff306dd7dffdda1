import Foundation

/// Persistent counters of what left the queue and how. Never reset by the software.
public struct OutboxCounters: Sendable, Equatable, Codable {
    public var enqueued: Int
    public var delivered: Int
    /// Items the server refused for good (400/403/404/409), journaled as late outcomes.
    public var finalOutcome: Int
    public var droppedExpired: Int
    public var droppedItemLimit: Int
    public var droppedByteLimit: Int
    /// New items refused (`refuseNew` at a limit, or larger than the byte limit).
    public var refused: Int
    public var purged: Int
    /// Posts (live or queued) that went out whole and got no answer: the server may have them.
    public var ambiguous: Int
    /// Items dropped after a post without an answer (`outbox.ambiguous`): maybe recorded, maybe not.
    public var droppedAmbiguous: Int

    /// All items lost without delivery, whatever the reason. Items dropped after an unanswered
    /// post are counted too: the device cannot know whether the server has them.
    public var dropped: Int { droppedExpired + droppedItemLimit + droppedByteLimit + refused + purged + droppedAmbiguous }

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
public struct SenderState: Sendable, Equatable, Codable {
    /// "closed", "open" or "half-open".
    public var breaker: String
    /// Consecutive retryable failures.
    public var consecutiveFailures: Int
    /// When the open breaker lets a probe through.
    public var probeAt: Date?
    /// The last delivery error, if the last attempt failed.
    public var lastError: String?
    /// When the last item was delivered.
    public var lastDeliveryAt: Date?
    /// When this state was written.
    public var updatedAt: Date
}

/// What `kioskctl queue status` shows.
public struct OutboxStatus: Sendable, Equatable, Codable {
    public var items: Int
    /// Sealed bytes queued.
    public var bytes: Int
    public var limits: OutboxLimits
    public var oldestCapturedAt: Date?
    public var nextAttemptAt: Date?
    public var counters: OutboxCounters
    /// Nil when no drainer has run yet.
    public var sender: SenderState?
    /// Set (in this process) while writes fail, e.g. disk full.
    public var degradedReason: String?
}
