// OutboxSender: the seam that sends queued check-ins, and how the server's answers are classified.
import Foundation

/// What the server said about a queued check-in, as classified by the sender.
package enum DeliveryResult: Sendable, Equatable {
    /// Accepted (2xx). The late outcome is journaled and the item removed.
    case delivered(DeliveredOutcome)
    /// Try again later: network error, timeout, 5xx, 429.
    case retryable(reason: String)
    /// The token was rejected (401): the drainer asks the sender to renew, then retries once.
    case authentication(reason: String)
    /// Refused for good: 400, 403, 404 (no match), 409 (conditions not met). Journaled as the
    /// late outcome and removed; never retried.
    case final(status: Int, reason: String)
    /// The whole request went out and no answer came (timeout or connection lost after the
    /// upload): the server may have recorded the check-in. Sent again at most once, or dropped,
    /// by ``AmbiguousDeliveryPolicy``; journaled either way.
    case ambiguous(reason: String)
}

/// What the drainer does with an item whose post got no answer (``DeliveryResult/ambiguous(reason:)``).
package enum AmbiguousDeliveryPolicy: String, Sendable, CaseIterable {
    /// Post it once more (journaled as `possible-duplicate`: the server may now have it twice);
    /// a second post without an answer drops it. Default: a lost check-in is worse than a
    /// duplicate one, which the server's records show with the same face and time.
    case retry
    /// Journal it and drop it at once: the server has it once or not at all.
    case giveUp = "give_up"
}

/// The server's answer for a delivered check-in, for the journal.
package struct DeliveredOutcome: Sendable, Equatable {
    package var status: Int
    package var userID: String?
    package var similarity: Double?
    /// A short human summary, e.g. the API's status text.
    package var summary: String

    package init(status: Int = 200, userID: String? = nil, similarity: Double? = nil, summary: String = "delivered") {
        self.status = status
        self.userID = userID
        self.similarity = similarity
        self.summary = summary
    }
}

/// Sends queued check-ins. KioskCore adapts the Face AiDee client to this, so Outbox does not
/// depend on the API module.
package protocol OutboxSender: Sendable {
    /// Sends one item and classifies the answer. Must not throw: every failure is a result.
    /// `delivery.item.uuid` is stable across attempts and can serve as an idempotency key.
    func deliver(_ delivery: OutboxDelivery) async -> DeliveryResult
    /// Renews the API token after a 401. Throwing makes the attempt a retryable failure.
    func renewAuthentication() async throws
}

/// An `OutboxSender` made of two closures.
package struct ClosureOutboxSender: OutboxSender {
    private let deliverBody: @Sendable (OutboxDelivery) async -> DeliveryResult
    private let renewBody: @Sendable () async throws -> Void

    package init(
        deliver: @escaping @Sendable (OutboxDelivery) async -> DeliveryResult,
        renewAuthentication: @escaping @Sendable () async throws -> Void = {}
    ) {
        deliverBody = deliver
        renewBody = renewAuthentication
    }

    package func deliver(_ delivery: OutboxDelivery) async -> DeliveryResult { await deliverBody(delivery) }
    package func renewAuthentication() async throws { try await renewBody() }
}
