// OutboxDrainer: sends queued check-ins oldest due first, with per-item backoff and a circuit breaker.
package import Foundation
package import Logging

/// How the drainer paces itself.
package struct DrainConfiguration: Sendable {
    /// Per-item retry delays.
    package var backoff: BackoffPolicy
    /// The breaker's thresholds (its state starts closed).
    package var breaker: CircuitBreaker
    /// Longest sleep when idle. Default 5 s: picks up items retried by `kioskctl` (another
    /// process, which cannot nudge this one) within seconds, at the cost of one tiny read.
    package var idlePoll: Duration
    /// Pause after a database error before trying again. Default 5 s.
    package var errorPause: Duration
    /// Retry delay for an item that cannot be opened (key replaced). Default 1 h: the item stays
    /// (an operator may restore the key) until it expires or is purged, without busy-looping.
    package var unreadableRetry: Duration
    /// How often `OutboxStore.maintenance()` runs. Default 5 min.
    package var maintenanceInterval: Duration
    /// What happens to an item whose post got no answer. Default `.retry` (one more post).
    package var ambiguous: AmbiguousDeliveryPolicy

    package init(
        backoff: BackoffPolicy = BackoffPolicy(), breaker: CircuitBreaker = CircuitBreaker(),
        idlePoll: Duration = .seconds(5), errorPause: Duration = .seconds(5),
        unreadableRetry: Duration = .seconds(3600), maintenanceInterval: Duration = .seconds(300),
        ambiguous: AmbiguousDeliveryPolicy = .retry
    ) {
        self.ambiguous = ambiguous
        self.backoff = backoff
        self.breaker = breaker
        self.idlePoll = idlePoll
        self.errorPause = errorPause
        self.unreadableRetry = unreadableRetry
        self.maintenanceInterval = maintenanceInterval
    }
}

/// What one step of the drainer did.
package enum DrainStep: Sendable, Equatable {
    /// An item reached the server and was removed.
    case delivered(itemID: Int64)
    /// The server refused an item for good; journaled and removed.
    case finalOutcome(itemID: Int64, status: Int)
    /// The attempt failed; the item waits until `at`.
    case retryScheduled(itemID: Int64, at: Date)
    /// The post got no answer and may not be repeated (`AmbiguousDeliveryPolicy`): journaled and removed.
    case droppedUnanswered(itemID: Int64)
    /// Nothing due; `nextDue` is the earliest next attempt (nil: queue empty).
    case idle(nextDue: Date?)
    /// The breaker is open; the next probe is at `probeAt`.
    case breakerOpen(probeAt: Date)
    /// The database failed (e.g. disk full); the drainer pauses and tries again.
    case storeError(OutboxError)
}

/// Sends queued items one at a time, oldest due first, with per-item backoff and a circuit
/// breaker; resumes by itself when the server comes back.
///
/// Duplicates are bounded and journaled. The API has no idempotency key, so only two things can
/// make the server record an item twice: a post that went out whole and got no answer
/// (``DeliveryResult/ambiguous(reason:)``), which is posted at most once more and journaled as
/// `possible-duplicate` (or dropped, ``AmbiguousDeliveryPolicy/giveUp``); and the process dying
/// between the server's answer and `OutboxStore.complete` (one SQLite commit long).
/// A 2xx answer is a delivery even when it cannot be read: it is never posted again.
package actor OutboxDrainer {
    private let store: OutboxStore
    private let journal: EventJournal
    private let sender: any OutboxSender
    private let configuration: DrainConfiguration
    private let clock: any OutboxClock
    private let random: @Sendable () -> Double
    private let logger: Logger
    private var breaker: CircuitBreaker
    private var lastPersistedState: String?
    private var lastError: String?
    private var lastDeliveryAt: Date?
    private var lastMaintenance: Date?
    private var wakeContinuation: CheckedContinuation<Void, Never>?
    private var wakeTimer: Task<Void, Never>?
    private var pendingNudge = false

    /// - Parameters:
    ///   - random: a source of numbers in 0..<1 for the jitter; injected by tests.
    ///   - logger: the daemon's logger (failures at debug, database errors at error); silent by default.
    package init(
        store: OutboxStore, sender: any OutboxSender, configuration: DrainConfiguration = DrainConfiguration(),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        logger: Logger = Logger(label: "outbox", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.store = store
        self.journal = EventJournal(database: store.database)
        self.sender = sender
        self.configuration = configuration
        self.clock = store.database.clock
        self.random = random
        self.logger = logger
        self.breaker = configuration.breaker
    }

    /// The breaker's current state.
    package var breakerState: CircuitBreaker.State { breaker.state }

    /// Tries to send the oldest due item, once. The building block of `run()`, and what tests drive.
    package func drainOnce() async -> DrainStep {
        let now = clock.now()
        guard breaker.allowsRequest(at: now) else {
            if case let .open(probeAt) = breaker.state { return .breakerOpen(probeAt: probeAt) }
            return .idle(nextDue: nil)
        }
        let delivery: OutboxDelivery?
        do {
            delivery = try await store.nextDue(at: now)
        } catch let error {
            if case let .payloadUnreadable(itemID, _) = error { return await setAsideUnreadable(itemID, error, now: now) }
            return await storeFailure(error)
        }
        guard let delivery else {
            await persistState()
            do {
                return .idle(nextDue: try await store.nextAttemptTime())
            } catch {
                return await storeFailure(error)
            }
        }
        let item = delivery.item
        let result = await send(delivery)
        let answeredAt = clock.now()
        do {
            switch result {
            case let .delivered(outcome):
                let summary =
                    item.unansweredPosts > 0
                    ? outcome.summary + " (possible duplicate: an earlier post got no answer)" : outcome.summary
                try await store.complete(
                    item,
                    outcome: LateOutcomeRecord(
                        itemID: item.id, uuid: item.uuid, capturedAt: item.capturedAt, attempts: item.attempts + 1,
                        delivered: true, status: outcome.status, userID: outcome.userID, similarity: outcome.similarity,
                        summary: summary))
                breaker.recordSuccess()
                lastError = nil
                lastDeliveryAt = answeredAt
                await persistState()
                return .delivered(itemID: item.id)
            case let .final(status, reason):
                try await store.complete(
                    item,
                    outcome: LateOutcomeRecord(
                        itemID: item.id, uuid: item.uuid, capturedAt: item.capturedAt, attempts: item.attempts + 1,
                        delivered: false, status: status, summary: reason))
                breaker.recordSuccess()  // the server is alive and answering
                lastError = nil
                await persistState()
                return .finalOutcome(itemID: item.id, status: status)
            case let .ambiguous(reason):
                let attempts = item.attempts + 1
                breaker.recordFailure(at: answeredAt)
                lastError = reason
                if configuration.ambiguous == .retry && item.unansweredPosts == 0 {
                    let next = answeredAt + configuration.backoff.delay(afterAttempts: attempts, random: random()).seconds
                    try await store.recordUnansweredPost(item, attempts: attempts, nextAttemptAt: next, reason: reason)
                    logger.warning(
                        "outbox post got no answer; the server may have it; posting once more",
                        metadata: [
                            "outbox.item": "\(item.id)", "outbox.attempts": "\(attempts)", "outbox.reason": "\(reason)",
                        ])
                    await persistState()
                    return .retryScheduled(itemID: item.id, at: Date(unixMilliseconds: next.unixMilliseconds))
                }
                try await store.dropUnanswered(item, attempts: attempts, reason: reason)
                logger.warning(
                    "outbox post got no answer; the server may have it; not sent again",
                    metadata: [
                        "outbox.item": "\(item.id)", "outbox.attempts": "\(attempts)", "outbox.reason": "\(reason)",
                        "outbox.ambiguous": "\(configuration.ambiguous.rawValue)",
                    ])
                await persistState()
                return .droppedUnanswered(itemID: item.id)
            case let .retryable(reason), let .authentication(reason):
                let attempts = item.attempts + 1
                let next = answeredAt + configuration.backoff.delay(afterAttempts: attempts, random: random()).seconds
                try await store.reschedule(id: item.id, attempts: attempts, nextAttemptAt: next, error: reason)
                breaker.recordFailure(at: answeredAt)
                lastError = reason
                logger.debug(
                    "outbox delivery failed",
                    metadata: [
                        "outbox.item": "\(item.id)", "outbox.attempts": "\(attempts)", "outbox.reason": "\(reason)",
                        "outbox.breaker": "\(breaker.state.name)",
                    ])
                await persistState()
                return .retryScheduled(itemID: item.id, at: Date(unixMilliseconds: next.unixMilliseconds))
            }
        } catch {
            return await storeFailure(error)
        }
    }

    /// Sends, handling a 401 by renewing the token and retrying once.
    private func send(_ delivery: OutboxDelivery) async -> DeliveryResult {
        let first = await sender.deliver(delivery)
        guard case .authentication = first else { return first }
        do {
            try await sender.renewAuthentication()
        } catch {
            return .retryable(reason: "token renewal failed: \(error)")
        }
        let second = await sender.deliver(delivery)
        if case let .authentication(reason) = second {
            return .retryable(reason: "rejected again after token renewal: \(reason)")
        }
        return second
    }

    private func setAsideUnreadable(_ itemID: Int64, _ error: OutboxError, now: Date) async -> DrainStep {
        logger.error("outbox item cannot be opened", metadata: ["outbox.item": "\(itemID)", "outbox.error": "\(error)"])
        let next = now + configuration.unreadableRetry.seconds
        do {
            let attempts = try await store.item(id: itemID)?.attempts ?? 0
            try await store.reschedule(id: itemID, attempts: attempts, nextAttemptAt: next, error: error.description)
            try await journal.record(.error(ErrorRecord(component: "outbox", message: error.description)))
        } catch {
            return await storeFailure(error)
        }
        return .retryScheduled(itemID: itemID, at: Date(unixMilliseconds: next.unixMilliseconds))
    }

    private func storeFailure(_ error: OutboxError) async -> DrainStep {
        // GRDB throws CancellationError when the loop is being stopped: not a database fault.
        if Task.isCancelled { return .idle(nextDue: nil) }
        // A storage that is down is said once, by whoever watches availability (kioskd's
        // QueueHealth), not at every poll.
        logger.log(
            level: error.isStorageUnavailable ? .debug : .error, "outbox database error while draining",
            metadata: ["outbox.error": "\(error)"])
        return .storeError(error)
    }

    /// Writes the sender state for `kioskctl queue status` when it changed in a way that matters.
    private func persistState() async {
        let key = "\(breaker.state.name)|\(breaker.consecutiveFailures > 0)|\(lastDeliveryAt?.unixMilliseconds ?? 0)"
        guard key != lastPersistedState else { return }
        var probeAt: Date?
        if case let .open(at) = breaker.state { probeAt = at }
        let state = SenderState(
            breaker: breaker.state.name, consecutiveFailures: breaker.consecutiveFailures, probeAt: probeAt,
            lastError: lastError, lastDeliveryAt: lastDeliveryAt, updatedAt: clock.now())
        guard let data = try? JSONEncoder.outbox.encode(state) else { return }
        let json = String(decoding: data, as: UTF8.self)
        let now = clock.now()
        do {
            try await store.database.write("record the sender state") { db in
                try OutboxDatabase.setState(db, "sender", json, at: now)
            }
            lastPersistedState = key
        } catch {
            logger.warning("outbox could not record the sender state", metadata: ["outbox.error": "\(error)"])
        }
    }

    // MARK: - The loop

    /// Drains until the task is cancelled: sends what is due, sleeps until the next item is due,
    /// the breaker's probe time, `idlePoll`, or a `nudge()`; runs maintenance periodically.
    package func run() async {
        logger.info("outbox drainer started")
        while !Task.isCancelled {
            let step = await drainOnce()
            let now = clock.now()
            if lastMaintenance.map({ now.timeIntervalSince($0) >= configuration.maintenanceInterval.seconds }) ?? true {
                lastMaintenance = now
                do {
                    try await store.maintenance()
                } catch {
                    logger.warning("outbox maintenance failed", metadata: ["outbox.error": "\(error)"])
                }
            }
            switch step {
            case .delivered, .finalOutcome, .retryScheduled, .droppedUnanswered:
                continue
            case let .idle(nextDue):
                await wait(until: nextDue, now: now)
            case let .breakerOpen(probeAt):
                await wait(until: probeAt, now: now)
            case .storeError:
                await wait(for: configuration.errorPause)
            }
        }
        logger.info("outbox drainer stopped")
    }

    /// Wakes the loop now (call after an enqueue, so a reachable server gets it at once).
    package func nudge() {
        if let continuation = wakeContinuation {
            wakeContinuation = nil
            wakeTimer?.cancel()
            continuation.resume()
        } else {
            pendingNudge = true
        }
    }

    private func timerFired() {
        wakeContinuation?.resume()
        wakeContinuation = nil
    }

    private func wait(until date: Date?, now: Date) async {
        var duration = configuration.idlePoll
        if let date {
            let until = Duration.milliseconds(max(0, Int64((date.timeIntervalSince(now) * 1000).rounded(.up))))
            duration = min(duration, until)
        }
        await wait(for: duration)
    }

    private func wait(for duration: Duration) async {
        if pendingNudge {
            pendingNudge = false
            return
        }
        guard duration > .zero, !Task.isCancelled else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                wakeContinuation = continuation
                wakeTimer = Task { [clock] in
                    do { try await clock.sleep(for: duration) } catch { return }  // cancelled by a nudge
                    self.timerFired()  // this task runs on the actor
                }
            }
        } onCancel: {
            Task { await self.nudge() }
        }
        pendingNudge = false
    }
}
