// OutboxStore: the durable offline queue of check-ins; enqueue within limits, list, next due, complete.
package import Foundation
import GRDB

/// The durable offline queue of check-ins waiting to reach the server.
///
/// Every method runs its SQLite work on GRDB's own serial queues (never on Swift's cooperative
/// pool). An `enqueue` that returns has been committed with `synchronous = FULL`: the item
/// survives a crash or a power cut. Limits are enforced in the same transaction as the insert,
/// and every item removed for a limit is counted and journaled in that transaction too.
package struct OutboxStore: Sendable {
    /// The database shared with the journal.
    package let database: OutboxDatabase

    package init(database: OutboxDatabase) {
        self.database = database
    }

    private var limits: OutboxLimits { database.configuration.limits }

    // MARK: - Enqueue

    /// Queues a check-in for later delivery, durably, and returns its metadata.
    ///
    /// Expired items are dropped first; then, if the new item would exceed the item or byte
    /// limit, the oldest items are dropped (`dropOldest`) or the new one is refused
    /// (`refuseNew`, throws `queueFull`; the refusal is counted and journaled). A full disk
    /// throws `diskFull`: the caller (the door) carries on, and `degradedReason` says why.
    ///
    /// `unansweredPost` is set for a live check-in whose post went out and got no answer: the
    /// item then starts with one unanswered post (so the drainer posts it at most once more), and
    /// a `possible-duplicate` record with that reason is journaled in the same transaction.
    @discardableResult
    package func enqueue(
        _ payload: OutboxPayload, capturedAt: Date, unansweredPost: String? = nil
    ) async throws(OutboxError) -> OutboxItemSummary {
        let key = try await database.payloadKey(for: "queue a check-in")
        let uuid = UUID().uuidString.lowercased()
        // Sealing is CPU work on a ~50 KB buffer (tens of microseconds): fine on the caller's task.
        let sealed = try key.seal(payload.encoded(), associatedData: uuid)
        let now = database.clock.now()
        let limits = self.limits
        if sealed.count > limits.maxBytes {
            let detail = "payload \(sealed.count) bytes > max bytes \(limits.maxBytes)"
            try? await recordRefusal(detail: detail, capturedAt: capturedAt, now: now)
            throw .payloadTooLarge(bytes: sealed.count, limit: limits.maxBytes)
        }
        let keyID = key.id
        let outcome = try await database.write("queue a check-in") { db -> EnqueueOutcome in
            try Self.dropExpired(db, limits: limits, now: now)
            var (count, bytes) = try Self.totals(db)
            while count + 1 > limits.maxItems || bytes + sealed.count > limits.maxBytes {
                let reason: DropReason = count + 1 > limits.maxItems ? .itemLimit : .byteLimit
                guard limits.fullPolicy == .dropOldest else {
                    let detail =
                        reason == .itemLimit
                        ? "max items \(limits.maxItems)" : "max bytes \(limits.maxBytes)"
                    try Self.journalDrop(db, DropRecord(reason: .refused, capturedAt: capturedAt, detail: detail), now: now)
                    return .refused(detail)
                }
                guard let oldest = try Row.fetchOne(db, sql: "SELECT \(Self.summaryColumns) FROM outbox_item ORDER BY id LIMIT 1") else {
                    break
                }
                let item = Self.summary(oldest)
                try db.execute(sql: "DELETE FROM outbox_item WHERE id = ?", arguments: [item.id])
                try Self.journalDrop(db, Self.dropRecord(item, reason: reason), now: now)
                count -= 1
                bytes -= item.size
            }
            try db.execute(
                sql: """
                    INSERT INTO outbox_item (uuid, created_at, captured_at, attempts, next_attempt_at, size, key_id, sealed,
                                             unanswered_posts, last_error)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    uuid, now.unixMilliseconds, capturedAt.unixMilliseconds, unansweredPost == nil ? 0 : 1,
                    now.unixMilliseconds, sealed.count, keyID, Data(sealed), unansweredPost == nil ? 0 : 1,
                    unansweredPost.map { String($0.prefix(500)) },
                ])
            let id = db.lastInsertedRowID
            try OutboxDatabase.bump(db, .enqueued)
            if let unansweredPost {
                try OutboxDatabase.bump(db, .ambiguous)
                try OutboxDatabase.insertJournal(
                    db,
                    .possibleDuplicate(
                        PossibleDuplicateRecord(
                            itemID: id, uuid: uuid, capturedAt: Date(unixMilliseconds: capturedAt.unixMilliseconds), attempts: 1,
                            reason: unansweredPost)), at: now)
            }
            return .queued(
                OutboxItemSummary(
                    id: id, uuid: uuid, createdAt: Date(unixMilliseconds: now.unixMilliseconds),
                    capturedAt: Date(unixMilliseconds: capturedAt.unixMilliseconds), attempts: unansweredPost == nil ? 0 : 1,
                    nextAttemptAt: Date(unixMilliseconds: now.unixMilliseconds), lastError: unansweredPost, size: sealed.count,
                    unansweredPosts: unansweredPost == nil ? 0 : 1))
        }
        switch outcome {
        case let .queued(item): return item
        case let .refused(detail): throw .queueFull(limit: detail)
        }
    }

    private enum EnqueueOutcome: Sendable {
        case queued(OutboxItemSummary)
        case refused(String)
    }

    private func recordRefusal(detail: String, capturedAt: Date, now: Date) async throws(OutboxError) {
        try await database.write("record a refused check-in") { db in
            try Self.journalDrop(db, DropRecord(reason: .refused, capturedAt: capturedAt, detail: detail), now: now)
        }
    }

    // MARK: - Reading

    /// Queued items in creation order (metadata only, never the payload).
    package func list(limit: Int = 1000) async throws(OutboxError) -> [OutboxItemSummary] {
        try await database.read("list queued items") { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.summaryColumns) FROM outbox_item ORDER BY id LIMIT ?", arguments: [limit])
                .map(Self.summary)
        }
    }

    /// One item's metadata, or nil.
    package func item(id: Int64) async throws(OutboxError) -> OutboxItemSummary? {
        try await database.read("read a queued item") { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.summaryColumns) FROM outbox_item WHERE id = ?", arguments: [id])
                .map(Self.summary)
        }
    }

    /// The queue's size, limits, counters and the sender's last known state.
    package func status() async throws(OutboxError) -> OutboxStatus {
        let limits = self.limits
        let degraded = database.degradedReason
        return try await database.read("read the queue status") { db in
            let (count, bytes) = try Self.totals(db)
            let oldest = try Int64.fetchOne(db, sql: "SELECT MIN(captured_at) FROM outbox_item")
            let next = try Int64.fetchOne(db, sql: "SELECT MIN(next_attempt_at) FROM outbox_item")
            var counters: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT name, value FROM counter") {
                counters[row["name"]] = row["value"]
            }
            var limits = limits
            if let json = try String.fetchOne(db, sql: "SELECT value FROM state WHERE name = 'limits'"),
                let published = try? JSONDecoder.outbox.decode(OutboxLimits.self, from: Data(json.utf8))
            {
                limits = published
            }
            var sender: SenderState?
            if let json = try String.fetchOne(db, sql: "SELECT value FROM state WHERE name = 'sender'") {
                sender = try? JSONDecoder.outbox.decode(SenderState.self, from: Data(json.utf8))
            }
            return OutboxStatus(
                items: count, bytes: bytes, limits: limits,
                oldestCapturedAt: oldest.map(Date.init(unixMilliseconds:)),
                nextAttemptAt: next.map(Date.init(unixMilliseconds:)),
                counters: OutboxCounters(counters), sender: sender, degradedReason: degraded)
        }
    }

    /// The oldest item due at `now` (creation order among due items), opened for sending.
    ///
    /// An item in backoff does not block younger due items, so one item the server keeps
    /// failing cannot hold the whole queue until it expires.
    package func nextDue(at now: Date) async throws(OutboxError) -> OutboxDelivery? {
        let key = try await database.payloadKey(for: "read a queued payload")
        let found = try await database.read("read the next due item") { db -> (OutboxItemSummary, String, Data)? in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: "SELECT \(Self.summaryColumns), key_id, sealed FROM outbox_item WHERE next_attempt_at <= ? ORDER BY id LIMIT 1",
                    arguments: [now.unixMilliseconds])
            else { return nil }
            return (Self.summary(row), row["key_id"], row["sealed"])
        }
        guard let (item, keyID, sealed) = found else { return nil }
        guard keyID == key.id else {
            throw .payloadUnreadable(itemID: item.id, reason: "sealed with key \(keyID), the current key is \(key.id)")
        }
        let plain = try key.unseal(Array(sealed), associatedData: item.uuid, itemID: item.id)
        return OutboxDelivery(item: item, payload: try OutboxPayload(decoding: plain, itemID: item.id))
    }

    /// When the next item becomes due, or nil when the queue is empty.
    package func nextAttemptTime() async throws(OutboxError) -> Date? {
        try await database.read("read the next attempt time") { db in
            try Int64.fetchOne(db, sql: "SELECT MIN(next_attempt_at) FROM outbox_item").map(Date.init(unixMilliseconds:))
        }
    }

    // MARK: - Delivery bookkeeping

    /// Removes a delivered or finally refused item and journals its late outcome, in one
    /// transaction, right after the server answered: this keeps the duplicate window (a crash
    /// between the answer and this commit) as small as it can be.
    package func complete(_ item: OutboxItemSummary, outcome: LateOutcomeRecord) async throws(OutboxError) {
        let now = database.clock.now()
        try await database.write("remove a delivered item") { db in
            try db.execute(sql: "DELETE FROM outbox_item WHERE id = ?", arguments: [item.id])
            guard db.changesCount == 1 else { return }  // purged meanwhile by kioskctl: nothing to record twice
            try OutboxDatabase.insertJournal(db, .lateOutcome(outcome), at: now)
            try OutboxDatabase.bump(db, outcome.delivered ? .delivered : .finalOutcome)
        }
    }

    /// Records a failed attempt: one more attempt, the error, and when to try again.
    package func reschedule(id: Int64, attempts: Int, nextAttemptAt: Date, error: String) async throws(OutboxError) {
        try await database.write("reschedule a queued item") { db in
            try db.execute(
                sql: "UPDATE outbox_item SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
                arguments: [attempts, nextAttemptAt.unixMilliseconds, String(error.prefix(500)), id])
        }
    }

    /// Records a post of `item` that went out and got no answer, and will be sent once more:
    /// one more attempt and unanswered post, the next attempt time, and a `possible-duplicate`
    /// journal record, in one transaction.
    package func recordUnansweredPost(
        _ item: OutboxItemSummary, attempts: Int, nextAttemptAt: Date, reason: String
    ) async throws(OutboxError) {
        let now = database.clock.now()
        try await database.write("record a post without an answer") { db in
            try db.execute(
                sql: """
                    UPDATE outbox_item SET attempts = ?, next_attempt_at = ?, last_error = ?,
                        unanswered_posts = unanswered_posts + 1 WHERE id = ?
                    """,
                arguments: [attempts, nextAttemptAt.unixMilliseconds, String(reason.prefix(500)), item.id])
            guard db.changesCount == 1 else { return }  // purged meanwhile
            try OutboxDatabase.bump(db, .ambiguous)
            try OutboxDatabase.insertJournal(
                db,
                .possibleDuplicate(
                    PossibleDuplicateRecord(
                        itemID: item.id, uuid: item.uuid, capturedAt: item.capturedAt, attempts: attempts, reason: reason)), at: now)
        }
    }

    /// Removes `item` after a post that got no answer and may not be repeated
    /// (`AmbiguousDeliveryPolicy.giveUp`, or its second unanswered post): a `drop` record with
    /// reason `ambiguous`, counted, in one transaction.
    package func dropUnanswered(_ item: OutboxItemSummary, attempts: Int, reason: String) async throws(OutboxError) {
        let now = database.clock.now()
        try await database.write("drop an item whose post got no answer") { db in
            try db.execute(sql: "DELETE FROM outbox_item WHERE id = ?", arguments: [item.id])
            guard db.changesCount == 1 else { return }
            try OutboxDatabase.bump(db, .ambiguous)
            try Self.journalDrop(
                db,
                DropRecord(
                    reason: .ambiguous, itemID: item.id, uuid: item.uuid, capturedAt: item.capturedAt, attempts: attempts,
                    lastError: String(reason.prefix(500)),
                    detail: "no answer after the whole request was sent: the server may have recorded it; not sent again"),
                now: now)
        }
    }

    /// Journals a live check-in whose post got no answer and that is not queued
    /// (`outbox.ambiguous: give_up`, or queueing is off): a `drop` record with reason
    /// `ambiguous` and `why` as its detail, counted.
    package func recordUnansweredLiveCheckIn(capturedAt: Date, reason: String, why: String) async throws(OutboxError) {
        let now = database.clock.now()
        try await database.write("record a check-in without an answer") { db in
            try OutboxDatabase.bump(db, .ambiguous)
            try Self.journalDrop(
                db,
                DropRecord(
                    reason: .ambiguous, capturedAt: capturedAt, attempts: 1, lastError: String(reason.prefix(500)),
                    detail: "live check-in: no answer after the whole request was sent; not queued (\(why))"),
                now: now)
        }
    }

    // MARK: - Operator actions

    /// Makes one item (or all, when `id` is nil) due now. Returns how many were changed.
    @discardableResult
    package func retry(id: Int64?) async throws(OutboxError) -> Int {
        let now = database.clock.now()
        return try await database.write("retry queued items") { db in
            if let id {
                try db.execute(sql: "UPDATE outbox_item SET next_attempt_at = ? WHERE id = ?", arguments: [now.unixMilliseconds, id])
                guard db.changesCount == 1 else { throw OutboxError.itemNotFound(id: id) }
            } else {
                try db.execute(sql: "UPDATE outbox_item SET next_attempt_at = ?", arguments: [now.unixMilliseconds])
            }
            let changed = db.changesCount
            try OutboxDatabase.insertJournal(
                db, .admin(AdminRecord(action: "retry", detail: id.map { "item \($0)" } ?? "all items (\(changed))")), at: now)
            return changed
        }
    }

    /// Removes items captured before `now - olderThan` (all items when nil), journaling each
    /// as `purged`. Returns how many were removed.
    @discardableResult
    package func purge(olderThan: Duration? = nil) async throws(OutboxError) -> Int {
        let now = database.clock.now()
        let cutoff = olderThan.map { now.unixMilliseconds - $0.milliseconds } ?? Int64.max
        return try await database.write("purge queued items") { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT \(Self.summaryColumns) FROM outbox_item WHERE captured_at < ? ORDER BY id", arguments: [cutoff])
            for row in rows {
                let item = Self.summary(row)
                try db.execute(sql: "DELETE FROM outbox_item WHERE id = ?", arguments: [item.id])
                try Self.journalDrop(db, Self.dropRecord(item, reason: .purged), now: now)
            }
            return rows.count
        }
    }

    // MARK: - Maintenance

    /// Drops expired items, prunes the journal, returns free pages to the file system and
    /// truncates the WAL, so deleted (sealed) payloads do not linger in old WAL frames.
    /// Call periodically (the drainer does, every few minutes) and at idle.
    package func maintenance() async throws(OutboxError) {
        let now = database.clock.now()
        let limits = self.limits
        try await database.write("drop expired items") { db in
            try Self.dropExpired(db, limits: limits, now: now)
        }
        try await EventJournal(database: database).prune()
        try await database.writeWithoutTransaction("vacuum and checkpoint") { db in
            try db.execute(sql: "PRAGMA incremental_vacuum")
            // TRUNCATE needs no reader in the way; another process reading makes it a partial
            // checkpoint, which is harmless: the next maintenance finishes the job.
            _ = try? db.checkpoint(.truncate)
        }
    }

    // MARK: - Internals (run inside write transactions)

    static let summaryColumns = "id, uuid, created_at, captured_at, attempts, next_attempt_at, last_error, size, unanswered_posts"

    static func summary(_ row: Row) -> OutboxItemSummary {
        OutboxItemSummary(
            id: row["id"], uuid: row["uuid"],
            createdAt: Date(unixMilliseconds: row["created_at"]), capturedAt: Date(unixMilliseconds: row["captured_at"]),
            attempts: row["attempts"], nextAttemptAt: Date(unixMilliseconds: row["next_attempt_at"]),
            lastError: row["last_error"], size: row["size"], unansweredPosts: row["unanswered_posts"])
    }

    static func totals(_ db: Database) throws -> (count: Int, bytes: Int) {
        let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS b FROM outbox_item")
        return (row?["n"] ?? 0, row?["b"] ?? 0)
    }

    static func dropRecord(_ item: OutboxItemSummary, reason: DropReason) -> DropRecord {
        DropRecord(
            reason: reason, itemID: item.id, uuid: item.uuid, capturedAt: item.capturedAt,
            attempts: item.attempts, lastError: item.lastError)
    }

    static func journalDrop(_ db: Database, _ record: DropRecord, now: Date) throws {
        try OutboxDatabase.insertJournal(db, .drop(record), at: now)
        try OutboxDatabase.bump(db, OutboxCounter.forDrop(record.reason))
    }

    static func dropExpired(_ db: Database, limits: OutboxLimits, now: Date) throws {
        let cutoff = now.unixMilliseconds - limits.maxAge.milliseconds
        let rows = try Row.fetchAll(
            db, sql: "SELECT \(summaryColumns) FROM outbox_item WHERE captured_at < ? ORDER BY id", arguments: [cutoff])
        for row in rows {
            let item = summary(row)
            try db.execute(sql: "DELETE FROM outbox_item WHERE id = ?", arguments: [item.id])
            try journalDrop(db, dropRecord(item, reason: .expired), now: now)
        }
    }
}

extension JSONDecoder {
    static var outbox: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }
}

extension JSONEncoder {
    static var outbox: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
