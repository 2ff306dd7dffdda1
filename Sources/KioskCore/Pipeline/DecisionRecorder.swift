// DecisionRecorder: logs, journals, queues and shows each decision; a broken state directory never stops it.
package import Foundation
package import Logging
package import Outbox

/// Makes every decision visible and durable: one log line (with per-stage latencies), one
/// journal record, the offline queue when the policy says so, and the status board.
///
/// The journal and queue are optional so the door keeps working when the state directory is
/// unusable (full disk, corrupt file being replaced): what could not be written is logged as
/// an error, never silently dropped.
package struct DecisionRecorder: Sendable {
    package let journal: EventJournal?
    package let outbox: OutboxStore?
    package let status: StatusBoard
    package let logger: Logger
    /// Keeps uploaded crops when `privacy.keep_images` is on.
    package let imageKeeper: ImageKeeper?
    /// Wakes the drainer when an item was queued.
    package let queued: @Sendable () -> Void
    /// `outbox.ambiguous`: whether a check-in whose post got no answer is queued (posted at most
    /// once more) or only journaled.
    package let ambiguous: AmbiguousDeliveryPolicy

    package init(
        journal: EventJournal?, outbox: OutboxStore?, status: StatusBoard, logger: Logger,
        imageKeeper: ImageKeeper? = nil, queued: @escaping @Sendable () -> Void = {},
        ambiguous: AmbiguousDeliveryPolicy = .retry
    ) {
        self.ambiguous = ambiguous
        self.journal = journal
        self.outbox = outbox
        self.status = status
        self.logger = logger
        self.imageKeeper = imageKeeper
        self.queued = queued
    }

    /// Records one decision. `jpeg` is passed only when the check-in must be queued or kept.
    package func record(
        _ decision: Decision, outcome: CheckInOutcome, latencies: StageLatencies, jpeg: [UInt8]?,
        conditionJSON: String, option: Int?, keepImage: Bool, direction: String? = nil
    ) async {
        let now = Date()
        let queuedID = await queueIfDue(
            decision, outcome: outcome, jpeg: jpeg, conditionJSON: conditionJSON, option: option, capturedAt: now)
        if keepImage, let imageKeeper, let jpeg {
            do {
                try imageKeeper.keep(jpeg, at: now, outcome: decision.reason.rawValue)
            } catch {
                logger.error("\(error)")
            }
        }

        var metadata: Logger.Metadata = [
            "decision.granted": "\(decision.granted)",
            "decision.reason": "\(decision.reason.rawValue)",
        ]
        if let user = decision.userID { metadata["decision.user_id"] = "\(user)" }
        if let similarity = decision.similarity { metadata["decision.similarity"] = "\(String(format: "%.1f", similarity))" }
        if let queuedID { metadata["outbox.item"] = "\(queuedID)" }
        if let direction { metadata["door.direction"] = "\(direction)" }
        for (stage, value) in Self.stages(latencies) { metadata["latency_ms.\(stage)"] = "\(String(format: "%.1f", value))" }
        let line = "\(decision.granted ? "GRANTED" : "DENIED"): \(decision.detail)"
        if decision.fault {
            logger.warning("\(line)", metadata: metadata)
        } else {
            logger.notice("\(line)", metadata: metadata)
        }

        if let journal {
            let record = DecisionRecord(
                outcome: Self.journalOutcome(decision), userID: decision.userID.map(String.init), similarity: decision.similarity,
                reason: "\(decision.reason.rawValue): \(decision.detail)", latencies: latencies, queuedItemID: queuedID,
                direction: direction)
            do {
                try await journal.record(.decision(record), at: now)
            } catch {
                // A failed storage is said once (QueueHealth), not with every decision.
                logger.log(level: error.isStorageUnavailable ? .debug : .error, "decision not journaled: \(error)")
            }
        }
        status.update {
            $0.lastDecision = .init(
                at: now, granted: decision.granted, reason: decision.reason.rawValue,
                userID: decision.userID, similarity: decision.similarity,
                latencyMs: Self.stages(latencies))
            $0.decisions[decision.reason.rawValue, default: 0] += 1
            switch outcome {
            case .unreachable(let reason), .unanswered(let reason), .untrustedServer(let reason):
                $0.server.healthy = false
                $0.server.lastError = reason
            case .acceptedUnreadable(_, let detail):
                $0.server.healthy = true
                $0.server.lastError = "contract warning: \(detail)"
            case .matched, .noMatch, .conditionsNotMet:
                $0.server.healthy = true
                $0.server.lastSuccessAt = now
            case .rejected(_, let message), .unauthorized(let message):
                $0.server.healthy = true
                $0.server.lastError = message
            }
        }
    }

    /// Queues a check-in as its decision and outcome call for: an unanswered post only as
    /// `outbox.ambiguous` allows, any other when the policy says to queue it. The one place
    /// that decides, for live decisions and late answers alike; the item id, or nil.
    @discardableResult
    package func queueIfDue(
        _ decision: Decision, outcome: CheckInOutcome, jpeg: [UInt8]?, conditionJSON: String, option: Int?,
        capturedAt: Date
    ) async -> Int64? {
        if case .unanswered(let reason) = outcome {
            // The server may have this check-in: queue it only as outbox.ambiguous allows.
            return await queueUnanswered(
                decision.queueForLater ? jpeg : nil, conditionJSON: conditionJSON, option: option,
                capturedAt: capturedAt, reason: reason)
        }
        guard decision.queueForLater, let jpeg else { return nil }
        return await queue(
            jpeg, conditionJSON: conditionJSON, option: option, capturedAt: capturedAt, reason: decision.reason.rawValue)
    }

    /// A check-in whose post went out whole and got no answer: the server may have it. Under
    /// `outbox.ambiguous: retry` (and with a `jpeg`, i.e. queueing on) it is queued to be posted
    /// once more, journaled as `possible-duplicate`; otherwise it is journaled as an `ambiguous`
    /// drop and never sent again. Either way it is counted (`ambiguous_deliveries` in status).
    @discardableResult
    package func queueUnanswered(
        _ jpeg: [UInt8]?, conditionJSON: String, option: Int?, capturedAt: Date,
        reason: String
    ) async -> Int64? {
        if ambiguous == .retry, let jpeg {
            logger.warning("check-in got no answer; the server may have recorded it; queued to be posted once more (possible duplicate)")
            return await queue(
                jpeg, conditionJSON: conditionJSON, option: option, capturedAt: capturedAt,
                reason: "unanswered", unansweredPost: reason)
        }
        let why = ambiguous == .giveUp ? "outbox.ambiguous: give_up" : "policy.queue_offline is off"
        logger.warning("check-in got no answer; the server may have recorded it; not sent again (\(why))")
        do {
            try await outbox?.recordUnansweredLiveCheckIn(capturedAt: capturedAt, reason: reason, why: why)
        } catch {
            logger.error("unanswered check-in not journaled: \(error)")
        }
        return nil
    }

    /// Puts a check-in in the offline queue for later delivery; its item id, or nil when it
    /// could not be queued (logged, and shown in status).
    @discardableResult
    package func queue(
        _ jpeg: [UInt8], conditionJSON: String, option: Int?, capturedAt: Date,
        reason: String = "offline", unansweredPost: String? = nil
    ) async -> Int64? {
        guard let outbox else {
            // Said once at start (QueueHealth) and shown in status; not with every decision.
            logger.debug("check-in not queued: the offline queue is unavailable (see the start-up error)")
            return nil
        }
        do {
            let item = try await outbox.enqueue(
                OutboxPayload(jpeg: jpeg, conditionJSON: conditionJSON, option: option.map(String.init) ?? ""),
                capturedAt: capturedAt, unansweredPost: unansweredPost)
            queued()
            return item.id
        } catch {
            logger.log(
                level: error.isStorageUnavailable ? .debug : .error, "check-in could not be queued: \(error)",
                metadata: ["decision.reason": "\(reason)"])
            status.update { $0.queue.lastError = "\(error)" }
            return nil
        }
    }

    /// Journals a door event the pipeline saw (tailgating); a failed write is logged, never
    /// thrown: the door goes on.
    package func recordDoorEvent(_ event: DoorEventRecord) async {
        guard let journal else { return }
        do {
            try await journal.record(.door(event))
        } catch {
            logger.log(level: error.isStorageUnavailable ? .debug : .error, "door event not journaled: \(error)")
        }
    }

    /// Records the server's answer to a check-in the door had already decided without it
    /// (past `pipeline.decision_deadline`): a late-outcome journal record, a log line, status.
    package func recordLate(
        _ decision: Decision, outcome: CheckInOutcome, summary: String, capturedAt: Date,
        doorOpened: Bool
    ) async {
        var metadata: Logger.Metadata = [
            "decision.granted": "\(decision.granted)",
            "decision.reason": "\(decision.reason.rawValue)",
            "decision.late": "true",
        ]
        if let user = decision.userID { metadata["decision.user_id"] = "\(user)" }
        logger.notice("LATE ANSWER: \(summary)", metadata: metadata)
        if let journal {
            let record = LateOutcomeRecord(
                itemID: 0, uuid: UUID().uuidString, capturedAt: capturedAt, attempts: 1, delivered: true,
                status: Self.httpStatus(outcome), userID: decision.userID.map(String.init), similarity: decision.similarity,
                summary: summary)
            do {
                try await journal.record(.lateOutcome(record))
            } catch {
                logger.error("late outcome not journaled: \(error)")
            }
        }
        let now = Date()
        status.update {
            $0.lateAnswers = ($0.lateAnswers ?? 0) + 1
            if doorOpened { $0.decisions["granted_late", default: 0] += 1 }
            $0.server.healthy = true
            $0.server.lastSuccessAt = now
        }
    }

    /// The HTTP status an outcome stands for, for the journal.
    static func httpStatus(_ outcome: CheckInOutcome) -> Int {
        switch outcome {
        case .matched: 200
        case .noMatch: 404
        case .conditionsNotMet: 409
        case .rejected(let status, _): status
        case .unauthorized: 401
        case .unreachable, .unanswered, .untrustedServer: 0
        case .acceptedUnreadable(let status, _): status
        }
    }

    static func stages(_ l: StageLatencies) -> [String: Double] {
        var out: [String: Double] = [:]
        let all: [(String, Duration?)] = [
            ("capture", l.capture), ("detect", l.detect), ("select", l.select),
            ("encode", l.encode), ("upload", l.upload), ("decide", l.decide),
        ]
        for (name, value) in all { if let value { out[name] = value.milliseconds } }
        return out
    }

    static func journalOutcome(_ decision: Decision) -> DecisionOutcome {
        switch decision.reason {
        case .granted: .granted
        case .grantedOffline: .offlineGranted
        case .noMatch: .noMatch
        case .conditionsNotMet: .conditionsNotMet
        case .statusNotAllowed, .similarityTooLow, .outsideSchedule, .onePersonAtATime: .denied
        case .offline: .offlineDenied
        case .serverRejected, .unauthorized, .untrustedServer, .unreadableAnswer: .failed
        }
    }
}
