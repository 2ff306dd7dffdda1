// The outbox drainer: backoff and circuit breaker on an injected clock, classification, 401 renewal.
import Foundation
import Logging
import Synchronization
import Testing

@testable import Outbox

/// A sender that answers from a script and records what it was asked.
final class ScriptedSender: OutboxSender {
    private let state = Mutex<(answers: [DeliveryResult], sent: [Int64], renewals: Int)>(([], [], 0))
    private let fallback: DeliveryResult

    init(_ answers: [DeliveryResult] = [], otherwise fallback: DeliveryResult = .delivered(DeliveredOutcome())) {
        self.fallback = fallback
        state.withLock { $0.answers = answers }
    }

    func deliver(_ delivery: OutboxDelivery) async -> DeliveryResult {
        state.withLock { s in
            s.sent.append(delivery.item.id)
            return s.answers.isEmpty ? fallback : s.answers.removeFirst()
        }
    }

    func renewAuthentication() async throws { state.withLock { $0.renewals += 1 } }

    var sent: [Int64] { state.withLock { $0.sent } }
    var renewals: Int { state.withLock { $0.renewals } }
}

@Suite("Backoff and circuit breaker (injected clock)")
struct BackoffAndBreakerTests {
    @Test func backoffGrowsExponentiallyWithJitterAndCap() {
        let policy = BackoffPolicy(base: .seconds(2), multiplier: 2, cap: .seconds(60), jitter: 0.5)
        #expect(policy.delay(afterAttempts: 1, random: 1) == .seconds(2))
        #expect(policy.delay(afterAttempts: 1, random: 0) == .seconds(1))
        #expect(policy.delay(afterAttempts: 3, random: 1) == .seconds(8))
        #expect(policy.delay(afterAttempts: 3, random: 0.5) == .seconds(6))
        #expect(policy.delay(afterAttempts: 10, random: 1) == .seconds(60))  // capped
        #expect(policy.delay(afterAttempts: 1000, random: 0) == .seconds(30))  // no overflow
        #expect(BackoffPolicy(jitter: 0).delay(afterAttempts: 2, random: 0.9) == .seconds(4))
    }

    @Test func breakerOpensProbesAndCloses() {
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        var breaker = CircuitBreaker(failureThreshold: 3, openDuration: .seconds(30), maxOpenDuration: .seconds(100))
        for i in 0..<2 { breaker.recordFailure(at: t0 + Double(i)) }
        #expect(breaker.state == .closed)
        breaker.recordFailure(at: t0 + 2)
        #expect(breaker.state == .open(probeAt: t0 + 32))
        let early = breaker.allowsRequest(at: t0 + 31.9)
        #expect(!early)
        let probe = breaker.allowsRequest(at: t0 + 32)
        #expect(probe)
        #expect(breaker.state == .halfOpen)
        breaker.recordFailure(at: t0 + 33)  // failed probe: open twice as long
        #expect(breaker.state == .open(probeAt: t0 + 93))
        _ = breaker.allowsRequest(at: t0 + 93)
        breaker.recordFailure(at: t0 + 93)
        #expect(breaker.state == .open(probeAt: t0 + 193))  // capped at 100 s
        _ = breaker.allowsRequest(at: t0 + 193)
        breaker.recordSuccess()
        #expect(breaker.state == .closed && breaker.consecutiveFailures == 0)
    }
}

@Suite("Drainer: classification, backoff, breaker, 401 renewal")
struct DrainerTests {
    let logger = Logger(label: "test.outbox")

    func drainer(_ fx: OutboxFixture, _ sender: any OutboxSender, threshold: Int = 3) -> OutboxDrainer {
        OutboxDrainer(
            store: fx.store, sender: sender,
            configuration: DrainConfiguration(
                backoff: BackoffPolicy(base: .seconds(2), multiplier: 2, cap: .seconds(60), jitter: 0.5),
                breaker: CircuitBreaker(failureThreshold: threshold, openDuration: .seconds(30), maxOpenDuration: .seconds(120))),
            random: { 1.0 }, logger: logger)
    }

    @Test func deliversInCreationOrderAndJournalsLateOutcomes() async throws {
        let clock = ManualClock()
        let fx = try await OutboxFixture.make(clock: clock)
        defer { fx.cleanUp() }
        let a = try await fx.store.enqueue(OutboxPayload(jpeg: [1]), capturedAt: clock.now())
        let b = try await fx.store.enqueue(OutboxPayload(jpeg: [2]), capturedAt: clock.now())
        let sender = ScriptedSender([
            .delivered(DeliveredOutcome(status: 200, userID: "u1", similarity: 0.9, summary: "ok")),
            .final(status: 404, reason: "no match"),
        ])
        let d = drainer(fx, sender)
        #expect(await d.drainOnce() == .delivered(itemID: a.id))
        #expect(await d.drainOnce() == .finalOutcome(itemID: b.id, status: 404))
        #expect(await d.drainOnce() == .idle(nextDue: nil))
        #expect(sender.sent == [a.id, b.id])
        let outcomes = try await fx.journal.entries(kinds: [.lateOutcome]).compactMap { entry -> LateOutcomeRecord? in
            if case let .lateOutcome(r) = entry.event { return r } else { return nil }
        }
        #expect(outcomes.map(\.delivered) == [true, false])
        #expect(outcomes[0].userID == "u1" && outcomes[1].status == 404 && outcomes[1].summary == "no match")
        let status = try await fx.store.status()
        #expect(status.items == 0 && status.counters.delivered == 1 && status.counters.finalOutcome == 1)
        #expect(status.sender?.breaker == "closed")
    }

    @Test func retryableFailuresBackOffThenBreakerOpensProbesAndResumes() async throws {
        let clock = ManualClock()
        let fx = try await OutboxFixture.make(clock: clock)
        defer { fx.cleanUp() }
        let item = try await fx.store.enqueue(OutboxPayload(jpeg: [1]), capturedAt: clock.now())
        let sender = ScriptedSender(
            [
                .retryable(reason: "HTTP 503"), .retryable(reason: "timeout"), .retryable(reason: "connection refused"),
                .retryable(reason: "connection refused"),
            ])
        let d = drainer(fx, sender, threshold: 3)

        // Attempt 1 fails: next try 2 s later (random = 1 → full delay).
        let t0 = clock.now()
        #expect(await d.drainOnce() == .retryScheduled(itemID: item.id, at: t0 + 2))
        #expect(await d.drainOnce() == .idle(nextDue: t0 + 2))
        clock.advance(by: .seconds(2))
        // Attempt 2: 4 s.
        #expect(await d.drainOnce() == .retryScheduled(itemID: item.id, at: t0 + 6))
        clock.advance(by: .seconds(4))
        // Attempt 3: 8 s, and the third failure in a row opens the breaker for 30 s.
        #expect(await d.drainOnce() == .retryScheduled(itemID: item.id, at: t0 + 14))
        #expect(await d.breakerState == .open(probeAt: t0 + 36))
        let listed = try await fx.store.list()
        #expect(listed.first?.attempts == 3 && listed.first?.lastError == "connection refused")
        #expect(try await fx.store.status().sender?.breaker == "open")
        clock.advance(by: .seconds(20))  // item due, breaker still open: nothing is sent
        #expect(await d.drainOnce() == .breakerOpen(probeAt: t0 + 36))
        #expect(sender.sent.count == 3)
        clock.advance(by: .seconds(10))  // t0+36: probe, fails → open for 60 s
        #expect(await d.drainOnce() == .retryScheduled(itemID: item.id, at: t0 + 36 + 16))
        #expect(await d.breakerState == .open(probeAt: t0 + 96))
        clock.advance(by: .seconds(60))  // server back: the probe succeeds, the breaker closes
        #expect(await d.drainOnce() == .delivered(itemID: item.id))
        #expect(await d.breakerState == .closed)
        #expect(sender.sent.count == 5)
    }

    @Test func unauthorizedRenewsTokenAndRetriesOnce() async throws {
        let clock = ManualClock()
        let fx = try await OutboxFixture.make(clock: clock)
        defer { fx.cleanUp() }
        let a = try await fx.store.enqueue(OutboxPayload(jpeg: [1]), capturedAt: clock.now())
        let sender = ScriptedSender([.authentication(reason: "401"), .delivered(DeliveredOutcome())])
        let d = drainer(fx, sender)
        #expect(await d.drainOnce() == .delivered(itemID: a.id))
        #expect(sender.renewals == 1 && sender.sent == [a.id, a.id])

        let b = try await fx.store.enqueue(OutboxPayload(jpeg: [2]), capturedAt: clock.now())
        let stubborn = ScriptedSender([], otherwise: .authentication(reason: "401"))
        let d2 = drainer(fx, stubborn)
        guard case .retryScheduled(b.id, _) = await d2.drainOnce() else {
            Issue.record("expected a retry")
            return
        }
        #expect(stubborn.renewals == 1)
        #expect(try await fx.store.item(id: b.id)?.lastError?.contains("after token renewal") == true)
    }

    @Test func backedOffItemDoesNotBlockYoungerItems() async throws {
        let clock = ManualClock()
        let fx = try await OutboxFixture.make(clock: clock)
        defer { fx.cleanUp() }
        let a = try await fx.store.enqueue(OutboxPayload(jpeg: [1]), capturedAt: clock.now())
        let b = try await fx.store.enqueue(OutboxPayload(jpeg: [2]), capturedAt: clock.now())
        let sender = ScriptedSender([.retryable(reason: "HTTP 500")])
        let d = drainer(fx, sender, threshold: 5)
        guard case .retryScheduled(a.id, _) = await d.drainOnce() else {
            Issue.record("expected a retry")
            return
        }
        #expect(await d.drainOnce() == .delivered(itemID: b.id))
        clock.advance(by: .seconds(2))
        #expect(await d.drainOnce() == .delivered(itemID: a.id))
    }

    @Test func runLoopDrainsAndStopsOnCancel() async throws {
        let fx = try await OutboxFixture.make()
        defer { fx.cleanUp() }
        let sender = ScriptedSender()
        let d = OutboxDrainer(
            store: fx.store, sender: sender, configuration: DrainConfiguration(idlePoll: .milliseconds(50)), logger: logger)
        let loop = Task { await d.run() }
        for i in 0..<5 { try await fx.store.enqueue(OutboxPayload(jpeg: [UInt8(i)]), capturedAt: Date()) }
        await d.nudge()
        let deadline = Date() + 10
        while try await fx.store.status().items > 0, Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await fx.store.status().items == 0)
        loop.cancel()
        await loop.value
        #expect(sender.sent.count == 5)
    }
}
