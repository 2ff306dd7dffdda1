// The outbox store: durability settings, order, item and byte limits, expiry, journal, maintenance, kioskctl.
import Foundation
import GRDB
import Synchronization
import TestSupport
import Testing

@testable import Outbox

@Suite("Outbox store: durability, order, limits, journal")
struct OutboxStoreTests {
    @Test func enqueueKeepsMetadataAndPayloadInCreationOrder() async throws {
        let clock = ManualClock()
        let fx = try await OutboxFixture.make(clock: clock)
        defer { fx.cleanUp() }
        let captured = clock.now() - 3
        let jpeg = sampleJPEG()
        let first = try await fx.store.enqueue(
            OutboxPayload(jpeg: jpeg, conditionJSON: #"{"group":"staff"}"#, option: "fast"), capturedAt: captured)
        clock.advance(by: .seconds(1))
        let second = try await fx.store.enqueue(OutboxPayload(jpeg: [0xFF, 0xD8, 0xFF, 1]), capturedAt: clock.now())
        #expect(second.id > first.id)
        let listed = try await fx.store.list()
        #expect(listed.map(\.id) == [first.id, second.id])
        #expect(listed[0].capturedAt == Date(unixMilliseconds: captured.unixMilliseconds))
        #expect(listed[0].attempts == 0 && listed[0].lastError == nil)

        let due = try #require(try await fx.store.nextDue(at: clock.now()))
        #expect(due.item.id == first.id)
        #expect(due.payload == OutboxPayload(jpeg: jpeg, conditionJSON: #"{"group":"staff"}"#, option: "fast"))

        let status = try await fx.store.status()
        #expect(status.items == 2)
        #expect(status.counters.enqueued == 2)
    }

    @Test func databaseIsWALWithFullSyncSecureDeleteAndIncrementalVacuum() async throws {
        let fx = try await OutboxFixture.make()
        defer { fx.cleanUp() }
        let (mode, sync, secure, vacuum) = try await fx.database.pool.writeWithoutTransaction { db in
            (
                try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"),
                try Int.fetchOne(db, sql: "PRAGMA secure_delete"), try Int.fetchOne(db, sql: "PRAGMA auto_vacuum")
            )
        }
        #expect(mode == "wal")
        #expect(sync == 2)  // FULL
        #expect(secure == 1)
        #expect(vacuum == 2)  // INCREMENTAL
    }

    @Test func dropOldestAtItemLimitCountsAndJournalsEveryDrop() async throws {
        let fx = try await OutboxFixture.make(limits: OutboxLimits(maxItems: 3, fullPolicy: .dropOldest))
        defer { fx.cleanUp() }
        var ids: [Int64] = []
        for i in 0..<5 {
            ids.append(try await fx.store.enqueue(OutboxPayload(jpeg: [UInt8(i)]), capturedAt: Date()).id)
        }
        #expect(try await fx.store.list().map(\.id) == Array(ids.suffix(3)))
        let status = try await fx.store.status()
        #expect(status.counters.droppedItemLimit == 2)
        #expect(status.counters.dropped == 2)
        let drops = try await fx.journal.entries(kinds: [.drop])
        #expect(drops.count == 2)
        guard case let .drop(record) = drops.first?.event else {
            Issue.record("no drop record")
            return
        }
        #expect(record.reason == .itemLimit && record.itemID == ids[0])
    }

    @Test func byteLimitDropsOldestAndOversizeIsRefused() async throws {
        // Each sealed item is payload + 13 framing + 28 AEAD bytes.
        let fx = try await OutboxFixture.make(limits: OutboxLimits(maxBytes: 3 * 1041 + 10, fullPolicy: .dropOldest))
        defer { fx.cleanUp() }
        for _ in 0..<4 {
            try await fx.store.enqueue(OutboxPayload(jpeg: [UInt8](repeating: 7, count: 1000)), capturedAt: Date())
        }
        let status = try await fx.store.status()
        #expect(status.items == 3)
        #expect(status.bytes <= status.limits.maxBytes)
        #expect(status.counters.droppedByteLimit == 1)
        await #expect(throws: OutboxError.self) {
            try await fx.store.enqueue(OutboxPayload(jpeg: [UInt8](repeating: 1, count: 5000)), capturedAt: Date())
        }
        #expect(try await fx.store.status().counters.refused == 1)
    }

    @Test func refuseNewKeepsQueueAndRecordsRefusal() async throws {
        let fx = try await OutboxFixture.make(limits: OutboxLimits(maxItems: 2, fullPolicy: .refuseNew))
        defer { fx.cleanUp() }
        let a = try await fx.store.enqueue(OutboxPayload(jpeg: [1]), capturedAt: Date())
        let b = try await fx.store.enqueue(OutboxPayload(jpeg: [2]), capturedAt: Date())
        do {
            try await fx.store.enqueue(OutboxPayload(jpeg: [3]), capturedAt: Date())
            Issue.record("expected queueFull")
        } catch {
            guard case .queueFull = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(error.description.contains("refuseNew"))
        }
        #expect(try await fx.store.list().map(\.id) == [a.id, b.id])
        let status = try await fx.store.status()
        #expect(status.counters.refused == 1)
        let drops = try await fx.journal.entries(kinds: [.drop])
        guard case let .drop(record) = drops.last?.event else {
            Issue.record("no refusal journaled")
            return
        }
        #expect(record.reason == .refused && record.itemID == nil)
    }

    @Test func expiredItemsAreDroppedByMaintenanceAndPurgeIsJournaled() async throws {
        let clock = ManualClock()
        let fx = try await OutboxFixture.make(clock: clock, limits: OutboxLimits(maxAge: .seconds(3600)))
        defer { fx.cleanUp() }
        try await fx.store.enqueue(OutboxPayload(jpeg: [1]), capturedAt: clock.now() - 7200)  // already too old
        try await fx.store.enqueue(OutboxPayload(jpeg: [2]), capturedAt: clock.now())
        try await fx.store.enqueue(OutboxPayload(jpeg: [3]), capturedAt: clock.now())
        // The expired item went at the next enqueue (same transaction as the insert).
        #expect(try await fx.store.status().counters.droppedExpired == 1)
        clock.advance(by: .seconds(1800))
        #expect(try await fx.store.purge(olderThan: .seconds(1000)) == 2)
        #expect(try await fx.store.list().isEmpty)
        let status = try await fx.store.status()
        #expect(status.counters.purged == 2)
        #expect(try await fx.journal.entries(kinds: [.drop]).count == 3)
        try await fx.store.maintenance()
    }

    @Test func retryMakesItemsDueAgain() async throws {
        let clock = ManualClock()
        let fx = try await OutboxFixture.make(clock: clock)
        defer { fx.cleanUp() }
        let item = try await fx.store.enqueue(OutboxPayload(jpeg: [1]), capturedAt: clock.now())
        try await fx.store.reschedule(id: item.id, attempts: 3, nextAttemptAt: clock.now() + 600, error: "HTTP 503")
        #expect(try await fx.store.nextDue(at: clock.now()) == nil)
        #expect(try await fx.store.retry(id: item.id) == 1)
        let due = try #require(try await fx.store.nextDue(at: clock.now()))
        #expect(due.item.attempts == 3 && due.item.lastError == "HTTP 503")
        await #expect(throws: OutboxError.itemNotFound(id: 999)) { try await fx.store.retry(id: 999) }
        #expect(try await fx.journal.entries(kinds: [.admin]).count == 1)
    }

    @Test func journalRecordsQueriesAndPrunes() async throws {
        let clock = ManualClock()
        let fx = try await OutboxFixture.make(clock: clock, retention: JournalRetention(maxRows: 5, maxAge: .seconds(86_400)))
        defer { fx.cleanUp() }
        let decision = DecisionRecord(
            outcome: .granted, userID: "u-42", similarity: 0.93, reason: "status 200",
            latencies: StageLatencies(capture: .milliseconds(12), detect: .milliseconds(14), upload: .milliseconds(180)))
        try await fx.journal.record(.decision(decision))
        clock.advance(by: .seconds(10))
        try await fx.journal.record(.door(DoorEventRecord(kind: .heldOpen, detail: "35 s")))
        let all = try await fx.journal.entries()
        #expect(all.map(\.event) == [.decision(decision), .door(DoorEventRecord(kind: .heldOpen, detail: "35 s"))])
        #expect(try await fx.journal.entries(since: clock.now() - 5).count == 1)
        #expect(try await fx.journal.entries(kinds: [.decision]).count == 1)
        #expect(try await fx.journal.entries(limit: 1).map(\.event) == [.door(DoorEventRecord(kind: .heldOpen, detail: "35 s"))])
        for i in 0..<8 { try await fx.journal.record(.error(ErrorRecord(component: "test", message: "\(i)"))) }
        try await fx.journal.prune()
        #expect(try await fx.journal.count() == 5)
        clock.advance(by: .seconds(2 * 86_400))
        try await fx.journal.prune()
        #expect(try await fx.journal.count() == 0)
    }
}

@Suite("Outbox maintenance and the kioskctl view")
struct OutboxMaintenanceTests {
    @Test func maintenanceReturnsFreedPagesAndTruncatesTheWAL() async throws {
        let fx = try await OutboxFixture.make()
        defer { fx.cleanUp() }
        for _ in 0..<20 {
            try await fx.store.enqueue(OutboxPayload(jpeg: [UInt8](repeating: 0xAB, count: 40_000)), capturedAt: Date())
        }
        try await fx.database.pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        let before = try FileManager.default.attributesOfItem(atPath: fx.database.path)[.size] as? Int ?? 0
        try await fx.store.purge()
        try await fx.store.maintenance()
        let after = try FileManager.default.attributesOfItem(atPath: fx.database.path)[.size] as? Int ?? 0
        let wal = try FileManager.default.attributesOfItem(atPath: fx.database.path + "-wal")[.size] as? Int ?? 0
        let free = try await fx.database.pool.read { db in try Int.fetchOne(db, sql: "PRAGMA freelist_count") }
        #expect(free == 0)
        #expect(after < before / 4, "file should shrink after purge + maintenance: \(before) -> \(after)")
        #expect(wal == 0)
    }

    @Test func kioskctlViewReadsMetadataWithoutKeyAndNeverCreates() async throws {
        let fx = try await OutboxFixture.make(limits: OutboxLimits(maxItems: 7))
        defer { fx.cleanUp() }
        try await fx.store.enqueue(OutboxPayload(jpeg: [1]), capturedAt: Date())
        var cli = OutboxConfiguration(
            stateDirectory: fx.directory.path, key: OutboxKeySource.none, createIfMissing: false, recoverCorruption: false)
        let view = try await OutboxDatabase.open(cli)
        defer { view.close() }
        let store = OutboxStore(database: view)
        let status = try await store.status()
        #expect(status.items == 1)
        #expect(status.limits.maxItems == 7)  // the daemon's limits, not the CLI's defaults
        await #expect(throws: OutboxError.keyUnavailable(operation: "queue a check-in")) {
            try await store.enqueue(OutboxPayload(jpeg: [2]), capturedAt: Date())
        }
        cli.databaseFileName = "absent.sqlite"
        await #expect(throws: OutboxError.databaseMissing(path: fx.directory.path + "/absent.sqlite")) {
            try await OutboxDatabase.open(cli)
        }
        #expect(!FileManager.default.fileExists(atPath: fx.directory.path + "/absent.sqlite"))
    }

    /// Seen in the VM stage on a slow machine: `kioskctl events` (or a test polling the journal)
    /// opened the file while kioskd was creating it, and kioskd started without its queue.
    @Test func aReaderPollingWhileTheDaemonCreatesTheFileNeverBreaksTheCreation() async throws {
        for round in 0..<15 {
            let directory = try TestAssets.temporaryDirectory("outbox-race")
            defer { try? FileManager.default.removeItem(at: directory) }
            let reader = OutboxConfiguration(
                stateDirectory: directory.path, key: OutboxKeySource.none, createIfMissing: false, recoverCorruption: false)
            let stop = Mutex(false)
            let polling = Task.detached {
                var opened = 0
                while !stop.withLock({ $0 }) {
                    if let view = try? await OutboxDatabase.open(reader) {
                        _ = try? await EventJournal(database: view).entries(limit: 1)
                        view.close()
                        opened += 1
                    }
                }
                return opened
            }
            let daemon = try await OutboxDatabase.open(OutboxFixture.configuration(directory))
            try await EventJournal(database: daemon).record(.door(DoorEventRecord(kind: .exitButton)))
            stop.withLock { $0 = true }
            _ = await polling.value
            #expect(try await EventJournal(database: daemon).entries().count == 1, "round \(round)")
            daemon.close()
            let left = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".creating-") }
            #expect(left.isEmpty, "temporary files left: \(left)")
        }
    }

    @Test func journalPrunesItselfAsItWrites() async throws {
        let fx = try await OutboxFixture.make(retention: JournalRetention(maxRows: 10))
        defer { fx.cleanUp() }
        for i in 0..<300 {
            try await fx.journal.record(.door(DoorEventRecord(kind: .exitButton, detail: "\(i)")))
        }
        #expect(try await fx.journal.count() < 100)
        let last = try await fx.journal.entries(limit: 1)
        #expect(last.first?.event == .door(DoorEventRecord(kind: .exitButton, detail: "299")))
    }
}
