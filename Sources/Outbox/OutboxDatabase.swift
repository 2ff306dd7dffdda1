// OutboxDatabase: the SQLite file (GRDB, WAL, synchronous FULL) shared by the offline queue and the journal.
import Dispatch
import Foundation
import GRDB
import Synchronization

/// The SQLite file shared by the outbox and the event journal.
///
/// One file for both, on purpose: removing a queued item and journaling why (delivered, final
/// refusal, dropped for a limit) happen in one transaction, so a crash can never lose the
/// record of a drop or leave a delivered item without its late outcome. One WAL, one fsync
/// policy, one corruption and disk-full story.
///
/// Durability: WAL mode with `synchronous = FULL`, so every commit (an acknowledged enqueue)
/// fsyncs the WAL before returning and survives power loss, not only a process crash.
/// (`NORMAL`, GRDB's default in WAL, may lose the last commits on power loss.)
///
/// Deleted rows leave no image behind: payloads are sealed (ChaCha20-Poly1305) before they are
/// written, `secure_delete` zeroes freed content, and `maintenance()` truncates the WAL and
/// returns free pages (`auto_vacuum = INCREMENTAL`).
///
/// Several processes may open the same file (kioskd and kioskctl): each uses a `DatabasePool`
/// with a busy timeout, and writes take the write lock up front (`BEGIN IMMEDIATE`) so a writer
/// never fails on a stale snapshot.
package final class OutboxDatabase: Sendable {
    /// The configuration it was opened with.
    package let configuration: OutboxConfiguration
    /// The database file path.
    package let path: String
    /// Set when opening found the file corrupt and moved it aside; also journaled.
    package let recoveredCorruption: OutboxError?
    /// The connections and the payload key; the connections are replaced when the storage failed
    /// and the file opens again (a file system checked and mounted again after the kernel made it
    /// read-only). Nil until the first open worked (``openRetrying(_:clock:)``).
    private let opened: Mutex<Opened?>
    /// When a reopen was last tried, so a dead card costs one attempt per `reopenInterval`
    /// (``OutboxConfiguration/reopenInterval``).
    private let lastReopen = Mutex<ContinuousClock.Instant?>(nil)
    /// Set while the connections are closed after a storage failure (so nothing of ours keeps the
    /// failed file system busy: it can be unmounted, checked and mounted again); what to throw
    /// until a reopen works.
    private let closedAfter = Mutex<OutboxError?>(nil)
    let clock: any OutboxClock
    /// The last write failure (e.g. disk full) until a write succeeds again: queueing degraded.
    private let degradation = Mutex<String?>(nil)
    /// Journal records written since the last prune by this process.
    let journalWrites = Mutex<Int>(0)

    private init(configuration: OutboxConfiguration, opened: Opened?, clock: any OutboxClock) {
        self.configuration = configuration
        self.path = configuration.databasePath
        self.opened = Mutex(opened)
        self.clock = clock
        self.recoveredCorruption = opened?.recoveredCorruption
    }

    /// The payload key; nil when opened without one (`kioskctl` reads metadata only), or while
    /// the database has not been opened yet.
    var key: PayloadKey? { opened.withLock { $0?.key } }

    /// The payload key for `operation`. A database not opened yet tries to open first (at most
    /// once per ``OutboxConfiguration/reopenInterval``), so a queued check-in is what brings it back.
    func payloadKey(for operation: String) async throws(OutboxError) -> PayloadKey {
        if opened.withLock({ $0 == nil }) { try await reopenIfClosed() }
        guard let key else { throw .keyUnavailable(operation: operation) }
        return key
    }

    /// While the connections are closed (never opened, or let go after a storage failure):
    /// opens them if a reopen is due, else throws the reason still in force.
    private func reopenIfClosed() async throws(OutboxError) {
        guard let closed = closedAfter.withLock({ $0 }) else { return }
        guard await reopenIfDue() else { throw closedAfter.withLock { $0 } ?? closed }
    }

    /// The connections (tests read pragmas through them); throws while there are none.
    var pool: DatabasePool {
        get throws(OutboxError) { try currentPool() }
    }

    /// The connections, or what to throw while there are none (never opened yet, or let go after
    /// a storage failure).
    private func currentPool() throws(OutboxError) -> DatabasePool {
        if let closed = closedAfter.withLock({ $0 }) { throw closed }
        guard let pool = opened.withLock({ $0?.pool }) else {
            throw OutboxError.notOpenedYet(path: path, reason: "not opened")
        }
        return pool
    }

    /// Opens (and if configured creates) the database, loads the payload key, and moves a
    /// corrupt file aside when `recoverCorruption` is set.
    ///
    /// Opening touches files and runs SQLite checks, so it runs on a dedicated queue, not on
    /// Swift's cooperative pool.
    package static func open(
        _ configuration: OutboxConfiguration, clock: any OutboxClock = SystemOutboxClock()
    ) async throws(OutboxError) -> OutboxDatabase {
        let opened = try await openOffPool(configuration, clock: clock)
        return OutboxDatabase(configuration: configuration, opened: opened, clock: clock)
    }

    /// For the daemon: opens like ``open(_:clock:)``, but a database that cannot be opened now
    /// (state directory missing or read-only, failing card, unreadable key) is returned unopened
    /// and unavailable, with the reason in ``degradedReason``. It opens by itself on the first
    /// write or ``recheck()`` after the cause is fixed (at most one attempt per 5 s), so kioskd
    /// queues again without a restart.
    package static func openRetrying(
        _ configuration: OutboxConfiguration, clock: any OutboxClock = SystemOutboxClock()
    ) async -> OutboxDatabase {
        do {
            let opened = try await openOffPool(configuration, clock: clock)
            return OutboxDatabase(configuration: configuration, opened: opened, clock: clock)
        } catch {
            let database = OutboxDatabase(configuration: configuration, opened: nil, clock: clock)
            database.markNotOpened(error)
            return database
        }
    }

    /// What an open yields: the connections, the key, and a corrupt file moved aside on the way
    /// (a reopen after a storage failure keeps the key and replaces the connections).
    private struct Opened: Sendable {
        let pool: DatabasePool
        let key: PayloadKey?
        let recoveredCorruption: OutboxError?
    }

    /// Opening touches files and runs SQLite checks: on a dedicated queue, not Swift's pool.
    private static func openOffPool(_ configuration: OutboxConfiguration, clock: any OutboxClock) async throws(OutboxError)
        -> Opened
    {
        do {
            return try await withCheckedThrowingContinuation { continuation in
                DispatchQueue(label: "outbox.open").async {
                    continuation.resume(with: Result { try openBlocking(configuration, clock: clock) })
                }
            }
        } catch let error as OutboxError {
            throw error
        } catch {
            throw OutboxError.wrap(error, operation: "open the database", path: configuration.databasePath)
        }
    }

    private func markNotOpened(_ error: OutboxError) {
        let unavailable = OutboxError.notOpenedYet(path: path, reason: error.description)
        closedAfter.withLock { $0 = unavailable }
        degradation.withLock { $0 = unavailable.description }
    }

    /// Closes the connections. Further use throws.
    package func close() {
        try? opened.withLock { $0?.pool }?.close()
    }

    /// Nil while writes work; otherwise the reason queueing is degraded (disk full, read-only
    /// file system, I/O errors): the queue is unavailable until a write succeeds again.
    package var degradedReason: String? { degradation.withLock { $0 } }

    /// While degraded, tries one small write (reopening the file if due), so availability comes
    /// back without waiting for a check-in. The reason still in force, or nil when writes work.
    @discardableResult
    package func recheck() async -> String? {
        guard degradedReason != nil else { return nil }
        let now = clock.now()
        _ = try? await write("check that the storage takes writes again") { db in
            try Self.setState(db, "storage-probe", "ok", at: now)
        }
        return degradedReason
    }

    // MARK: - Opening

    private static func openBlocking(_ configuration: OutboxConfiguration, clock: any OutboxClock) throws -> Opened {
        let path = configuration.databasePath
        try ensureDirectory(configuration)
        let key = try PayloadKey.load(configuration.key)
        if !FileManager.default.fileExists(atPath: path) {
            guard configuration.createIfMissing else { throw OutboxError.databaseMissing(path: path) }
            try createFresh(path)
        }
        do {
            let pool = try openPool(configuration)
            try publishLimits(pool, configuration, clock: clock)
            return Opened(pool: pool, key: key, recoveredCorruption: nil)
        } catch let error as OutboxError {
            guard case let .databaseCorrupt(_, _, reason) = error, configuration.recoverCorruption else { throw error }
            let movedTo = try moveAside(path, at: clock.now())
            try createFresh(path)
            let pool = try openPool(configuration)
            let recovered = OutboxError.databaseCorrupt(path: path, movedTo: movedTo, reason: reason)
            try pool.write { db in
                try insertJournal(db, .error(ErrorRecord(component: "outbox", message: recovered.description)), at: clock.now())
            }
            try publishLimits(pool, configuration, clock: clock)
            return Opened(pool: pool, key: key, recoveredCorruption: recovered)
        }
    }

    /// The owner (the daemon, which creates the file) records the limits it enforces, so that
    /// `kioskctl queue status`, which does not read the daemon's configuration, shows the real ones.
    private static func publishLimits(_ pool: DatabasePool, _ configuration: OutboxConfiguration, clock: any OutboxClock) throws {
        guard configuration.createIfMissing else { return }
        let json = String(decoding: try JSONEncoder.outbox.encode(configuration.limits), as: UTF8.self)
        do {
            try pool.write { db in try setState(db, "limits", json, at: clock.now()) }
        } catch {
            throw OutboxError.wrap(error, operation: "record the queue limits", path: configuration.databasePath)
        }
    }

    private static func ensureDirectory(_ configuration: OutboxConfiguration) throws {
        let dir = configuration.stateDirectory
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw OutboxError.stateDirectoryUnavailable(path: dir, reason: "not a directory")
            }
            return
        }
        guard configuration.createIfMissing else {
            throw OutboxError.stateDirectoryUnavailable(path: dir, reason: "does not exist")
        }
        do {
            // 0700: the directory holds biometric data (sealed) and the key.
            try FileManager.default.createDirectory(
                atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw OutboxError.stateDirectoryUnavailable(path: dir, reason: error.localizedDescription)
        }
    }

    /// Creates the file in rollback mode first, because `auto_vacuum` can only be chosen before
    /// the first table exists (and GRDB's WAL set-up creates one), then switches it to WAL.
    ///
    /// The file is made under a temporary name and linked into place when complete: a reader
    /// (`kioskctl events`, a support script) that opened the path half-way through would lock it
    /// or switch it to WAL under the creator, whose next statement then failed with "database is
    /// locked", and kioskd started without its queue and journal.
    private static func createFresh(_ path: String) throws {
        let temporary = path + ".creating-\(getpid())"
        func placeFailed(_ code: Int32) -> OutboxError {
            .io(operation: "put the new database in place", path: path, reason: String(cString: strerror(code)))
        }
        func removeTemporary() {
            for suffix in ["", "-journal", "-wal", "-shm"] { unlink(temporary + suffix) }
        }
        removeTemporary()
        defer { removeTemporary() }
        do {
            let queue = try DatabaseQueue(path: temporary)
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
            }
            try migrator.migrate(queue)
            try queue.writeWithoutTransaction { db in
                _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            }
            try queue.close()
        } catch {
            throw OutboxError.wrap(error, operation: "create the database", path: path)
        }
        // link(2) never replaces: if another process put a database there meanwhile, that one is
        // used. File systems without hard links (vfat on an SD card) take a rename instead.
        if link(temporary, path) != 0 {
            let failure = errno
            switch failure {
            case EEXIST: break
            case EPERM, EOPNOTSUPP, ENOSYS, EMLINK:
                guard rename(temporary, path) == 0 else { throw placeFailed(errno) }
            default: throw placeFailed(failure)
            }
        }
        // The new name must survive a power cut like the commits that will follow it.
        let directory = Glibc.open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY)
        if directory >= 0 {
            fsync(directory)
            Glibc.close(directory)
        }
    }

    private static func openPool(_ configuration: OutboxConfiguration) throws -> DatabasePool {
        let path = configuration.databasePath
        var config = Configuration()
        config.label = "outbox"
        config.busyMode = .timeout(configuration.busyTimeout.seconds)
        config.maximumReaderCount = 2  // a small device; reads are short
        let maxPageCount = configuration.maxPageCount
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA secure_delete = ON")
            if let maxPageCount {
                _ = try Int.fetchOne(db, sql: "PRAGMA max_page_count = \(maxPageCount)")
            }
        }
        do {
            let pool = try DatabasePool(path: path, configuration: config)
            do {
                // After GRDB's WAL set-up, which selects NORMAL: FULL makes each commit durable.
                try pool.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA synchronous = FULL")
                }
                if configuration.createIfMissing {
                    let check = try pool.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
                    guard check == ["ok"] else {
                        throw OutboxError.databaseCorrupt(
                            path: path, movedTo: nil, reason: check.prefix(3).joined(separator: "; "))
                    }
                    try migrator.migrate(pool)
                } else if try !pool.read({ try migrator.hasCompletedMigrations($0) }) {
                    try migrator.migrate(pool)
                }
                // A view (kioskctl, a support script) neither checks the whole file nor takes the
                // write lock: quick_check reads every page (a 150,000-event journal is 37 MB,
                // seconds from a cold SD card) and the daemon, which owns the file, has checked
                // it at its start and migrated it.
            } catch {
                try? pool.close()
                throw error
            }
            return pool
        } catch {
            throw OutboxError.wrap(error, operation: "open the database", path: path)
        }
    }

    /// Renames the file and its WAL/SHM companions to `<name>.corrupt-<UTC time>` for support.
    private static func moveAside(_ path: String, at time: Date) throws -> String {
        let stamp = Date.ISO8601FormatStyle(timeZone: .gmt)
            .year().month().day().time(includingFractionalSeconds: false)
            .dateSeparator(.omitted).timeSeparator(.omitted)
            .format(time)
        let target = path + ".corrupt-" + stamp
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            do {
                try? FileManager.default.removeItem(atPath: target + suffix)
                try FileManager.default.moveItem(atPath: path + suffix, toPath: target + suffix)
            } catch {
                throw OutboxError.io(operation: "move corrupt database aside", path: path + suffix, reason: error.localizedDescription)
            }
        }
        return target
    }

    // MARK: - Schema

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            // Times are integer milliseconds since 1970 (UTC).
            try db.execute(
                sql: """
                    CREATE TABLE outbox_item (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,   -- creation order, never reused
                        uuid TEXT NOT NULL UNIQUE,              -- idempotency key for the server
                        created_at INTEGER NOT NULL,
                        captured_at INTEGER NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at INTEGER NOT NULL,
                        last_error TEXT,
                        size INTEGER NOT NULL,                  -- sealed bytes, counted against the limit
                        key_id TEXT NOT NULL,                   -- fingerprint of the sealing key
                        sealed BLOB NOT NULL                    -- ChaCha20-Poly1305(payload), AAD = uuid
                    );
                    CREATE INDEX outbox_item_due ON outbox_item(next_attempt_at, id);
                    CREATE TABLE journal (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        at INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        body TEXT NOT NULL                      -- JSON of the record; never an image
                    );
                    CREATE INDEX journal_at ON journal(at);
                    CREATE TABLE counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
                    CREATE TABLE state (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v2-unanswered-posts") { db in
            // How many posts of the item went out without an answer: bounds re-posts that may
            // duplicate a check-in on the server (AmbiguousDeliveryPolicy).
            try db.execute(sql: "ALTER TABLE outbox_item ADD COLUMN unanswered_posts INTEGER NOT NULL DEFAULT 0")
        }
        return migrator
    }

    // MARK: - Helpers for the store and the journal

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction on GRDB's writer queue (never on the
    /// cooperative pool), mapping errors and tracking disk-full degradation.
    func write<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(OutboxError) -> T {
        try await reopenIfClosed()
        do {
            let result = try await transaction(operation, body)
            degradation.withLock { $0 = nil }
            return result
        } catch {
            guard error.isStorageUnavailable else { throw error }
            if case .storageFailed = error {
                // Maybe already back (remounted read-write): new connections, once more.
                if await reopenIfDue(), let result = try? await transaction(operation, body) {
                    degradation.withLock { $0 = nil }
                    return result
                }
                // Still failing: let go of the file, so that an operator (or the next boot) can
                // check the file system and mount it again; reopened from the next write on.
                closedAfter.withLock { $0 = error }
                close()
            }
            degradation.withLock { $0 = error.description }
            throw error
        }
    }

    private func transaction<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(OutboxError) -> T {
        do {
            return try await currentPool().writeWithoutTransaction { db -> T in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                guard let result else { throw OutboxError.database(operation: operation, path: "", code: -1, message: "no result") }
                return result
            }
        } catch {
            throw OutboxError.wrap(error, operation: operation, path: path)
        }
    }

    /// Opens new connections to the file (on a dedicated queue: file work, SQLite checks) at most
    /// once per `reopenInterval`; true when they work and replaced the old ones. The old pool is
    /// not closed here: operations still running on it finish or fail, and it goes with its last user.
    /// A database never opened takes the whole first open (directory, key, creation).
    private func reopenIfDue() async -> Bool {
        let now = ContinuousClock.now
        let configuration = self.configuration
        let due = lastReopen.withLock { last -> Bool in
            if let last, now - last < configuration.reopenInterval { return false }
            last = now
            return true
        }
        guard due else { return false }
        guard let key = opened.withLock({ $0.map(\.key) }) else {
            do {
                let first = try await Self.openOffPool(configuration, clock: clock)
                opened.withLock { $0 = first }
                closedAfter.withLock { $0 = nil }
                return true
            } catch {
                markNotOpened(error)
                return false
            }
        }
        let fresh: DatabasePool? = await withCheckedContinuation { continuation in
            DispatchQueue(label: "outbox.reopen").async {
                continuation.resume(returning: try? Self.openPool(configuration))
            }
        }
        guard let fresh else { return false }
        opened.withLock { $0 = Opened(pool: fresh, key: key, recoveredCorruption: nil) }
        closedAfter.withLock { $0 = nil }
        return true
    }

    /// Runs `body` outside a transaction on the writer (pragmas such as checkpoints).
    func writeWithoutTransaction<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(OutboxError) -> T {
        do {
            return try await currentPool().writeWithoutTransaction(body)
        } catch {
            throw noted(OutboxError.wrap(error, operation: operation, path: path))
        }
    }

    /// Runs `body` on a reader connection (a consistent snapshot).
    func read<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(OutboxError) -> T {
        do {
            return try await currentPool().read(body)
        } catch {
            throw noted(OutboxError.wrap(error, operation: operation, path: path))
        }
    }

    /// A failing storage seen outside `write` also makes the queue unavailable (only a
    /// successful write clears it).
    private func noted(_ error: OutboxError) -> OutboxError {
        if error.isStorageUnavailable { degradation.withLock { $0 = error.description } }
        return error
    }

    static func insertJournal(_ db: Database, _ event: JournalEvent, at time: Date) throws {
        try db.execute(
            sql: "INSERT INTO journal (at, kind, body) VALUES (?, ?, ?)",
            arguments: [time.unixMilliseconds, event.kind.rawValue, try event.encodedBody()])
    }

    static func bump(_ db: Database, _ counter: OutboxCounter, by amount: Int = 1) throws {
        try db.execute(
            sql: """
                INSERT INTO counter (name, value) VALUES (?, ?)
                ON CONFLICT(name) DO UPDATE SET value = value + excluded.value
                """,
            arguments: [counter.rawValue, amount])
    }

    static func setState(_ db: Database, _ name: String, _ value: String, at time: Date) throws {
        try db.execute(
            sql: """
                INSERT INTO state (name, value, updated_at) VALUES (?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                """,
            arguments: [name, value, time.unixMilliseconds])
    }
}

/// The persistent counters shown by `kioskctl queue status`.
enum OutboxCounter: String, CaseIterable {
    case enqueued
    case delivered
    case finalOutcome = "final"
    case droppedExpired = "dropped.expired"
    case droppedItemLimit = "dropped.item-limit"
    case droppedByteLimit = "dropped.byte-limit"
    case refused
    case purged
    /// Posts that went out and got no answer (live or queued): the server may have them.
    case ambiguous
    case droppedAmbiguous = "dropped.ambiguous"

    static func forDrop(_ reason: DropReason) -> OutboxCounter {
        switch reason {
        case .expired: .droppedExpired
        case .itemLimit: .droppedItemLimit
        case .byteLimit: .droppedByteLimit
        case .refused: .refused
        case .purged: .purged
        case .ambiguous: .droppedAmbiguous
        }
    }
}
