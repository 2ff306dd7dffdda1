// OutboxDatabase+Integrity: the full `PRAGMA integrity_check`, for the power-cut stage and diagnostics.
import GRDB

extension OutboxDatabase {
    /// Runs SQLite's full `PRAGMA integrity_check` (every page, index and constraint; slower than
    /// the `quick_check` done at open): `["ok"]`, or the problems found (at most 100 lines).
    package func integrityCheck() async throws(OutboxError) -> [String] {
        try await read("check the database's integrity") { db in
            try String.fetchAll(db, sql: "PRAGMA integrity_check")
        }
    }
}
