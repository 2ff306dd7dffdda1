// EventJournal: writes, reads and prunes the journal (decisions, door events, drops, errors; no images).
package import Foundation
import GRDB
import Synchronization

/// The event journal: every decision, door event, drop, late outcome and notable error.
///
/// It lives in the outbox's database file (see `OutboxDatabase` for why) and never holds an
/// image. It is bounded by `JournalRetention` (rows and age): each process prunes every few
/// hundred records it writes, and `OutboxStore.maintenance()` prunes too.
package struct EventJournal: Sendable {
    package let database: OutboxDatabase

    package init(database: OutboxDatabase) {
        self.database = database
    }

    /// Writes one record, durably. `time` defaults to now.
    ///
    /// A failure (disk full) is thrown; the daemon logs it and carries on: the journal must
    /// never stop the door.
    package func record(_ event: JournalEvent, at time: Date? = nil) async throws(OutboxError) {
        let time = time ?? database.clock.now()
        try await database.write("write a journal record") { db in
            try OutboxDatabase.insertJournal(db, event, at: time)
        }
        let due = database.journalWrites.withLock { count -> Bool in
            count += 1
            if count >= 256 {
                count = 0
                return true
            }
            return false
        }
        if due { try await prune() }
    }

    /// Records, oldest first: the latest `limit` records at or after `since`, of the given
    /// kinds (all kinds when nil). Records of a kind this version does not know are skipped.
    package func entries(
        since: Date? = nil, limit: Int = 100, kinds: Set<JournalKind>? = nil
    ) async throws(OutboxError) -> [JournalEntry] {
        var sql = "SELECT id, at, kind, body FROM journal WHERE at >= ?"
        var arguments: [DatabaseValue] = [(since?.unixMilliseconds ?? Int64.min).databaseValue]
        if let kinds {
            guard !kinds.isEmpty else { return [] }
            sql += " AND kind IN (" + kinds.map { _ in "?" }.joined(separator: ",") + ")"
            arguments += kinds.map(\.rawValue.databaseValue)
        }
        sql += " ORDER BY id DESC LIMIT ?"
        arguments.append(max(0, limit).databaseValue)
        let finalSQL = sql
        let finalArguments = arguments
        let rows = try await database.read("read the journal") { db in
            try Row.fetchAll(db, sql: finalSQL, arguments: StatementArguments(finalArguments)).map {
                (id: $0["id"] as Int64, at: $0["at"] as Int64, kind: $0["kind"] as String, body: $0["body"] as String)
            }
        }
        return rows.reversed().compactMap { row in
            JournalEvent.decode(kind: row.kind, body: row.body).map {
                JournalEntry(id: row.id, time: Date(unixMilliseconds: row.at), event: $0)
            }
        }
    }

    /// Number of records in the journal.
    package func count() async throws(OutboxError) -> Int {
        try await database.read("count journal records") { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM journal") ?? 0
        }
    }

    /// Removes records beyond the row bound or older than the age bound. Returns how many.
    @discardableResult
    package func prune() async throws(OutboxError) -> Int {
        let retention = database.configuration.journalRetention
        let cutoff = database.clock.now().unixMilliseconds - retention.maxAge.milliseconds
        return try await database.write("prune the journal") { db in
            try db.execute(sql: "DELETE FROM journal WHERE at < ?", arguments: [cutoff])
            var removed = db.changesCount
            try db.execute(
                sql: "DELETE FROM journal WHERE id <= (SELECT MAX(id) FROM journal) - ?",
                arguments: [retention.maxRows])
            removed += db.changesCount
            return removed
        }
    }
}
