// Outbox encryption at rest, key files, corrupt databases, a full disk and concurrent access.
import Foundation
import GRDB
import TestSupport
import Testing

@testable import Outbox

@Suite("Encryption at rest, keys, corrupt files, full disk, concurrent access")
struct EncryptionAndRecoveryTests {
    @Test func rawFilesHoldNoJPEGMarkerNorPlainPayload() async throws {
        let fx = try await OutboxFixture.make()
        defer { fx.cleanUp() }
        let jpeg = sampleJPEG()
        let marker = "condition-marker-7f3a"
        for _ in 0..<3 {
            try await fx.store.enqueue(OutboxPayload(jpeg: jpeg, conditionJSON: #"{"tag":"\#(marker)"}"#), capturedAt: Date())
        }
        // Both before and after a checkpoint: the WAL holds the fresh pages first, then the
        // truncating checkpoint moves them into the main file and empties the WAL.
        for checkpoint in [false, true] {
            if checkpoint {
                try await fx.database.pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
            }
            // Both files exist while the database is open in WAL mode; one that cannot be read
            // fails the test rather than being skipped.
            let main = Array(try Data(contentsOf: URL(fileURLWithPath: fx.database.path)))
            let wal = Array(try Data(contentsOf: URL(fileURLWithPath: fx.database.path + "-wal")))
            // What is scanned must hold the three sealed items (each at least as long as the JPEG).
            if checkpoint {
                #expect(wal.isEmpty, "the truncating checkpoint left \(wal.count) bytes in the WAL")
                #expect(main.count >= 3 * jpeg.count, "main file \(main.count) bytes after the checkpoint")
            } else {
                #expect(!wal.isEmpty, "nothing in the WAL before the checkpoint")
                #expect(main.count + wal.count >= 3 * jpeg.count, "\(main.count) + \(wal.count) bytes before the checkpoint")
            }
            for (path, bytes) in [(fx.database.path, main), (fx.database.path + "-wal", wal)] {
                // The bare 3-byte SOI (FF D8 FF) turns up by chance in random ciphertext about
                // once per 16 MB, so the test looks for the SOI with the image's own header
                // after it, and for windows of the image's body.
                #expect(!bytes.contains(sequence: Array(jpeg.prefix(16))), "JPEG SOI + header in \(path)")
                for offset in [100, jpeg.count / 2, jpeg.count - 40] {
                    #expect(!bytes.contains(sequence: Array(jpeg[offset..<(offset + 32)])), "plain JPEG bytes in \(path)")
                }
                #expect(!bytes.contains(sequence: Array(marker.utf8)), "plain condition in \(path)")
            }
        }
        // No stored blob starts with a JPEG marker: what is stored is the sealed box.
        let blobs = try await fx.database.pool.read { db in try Data.fetchAll(db, sql: "SELECT sealed FROM outbox_item") }
        #expect(blobs.count == 3)
        for blob in blobs {
            #expect(!Array(blob.prefix(3)).elementsEqual([0xFF, 0xD8, 0xFF]))
            #expect(!Array(blob).contains(sequence: Array(jpeg.prefix(16))))
        }
        let due = try #require(try await fx.store.nextDue(at: Date()))
        #expect(due.payload.jpeg == jpeg)
    }

    @Test func keyFileIsGeneratedWithMode0600AndInsecureFilesAreRejected() async throws {
        let fx = try await OutboxFixture.make()
        defer { fx.cleanUp() }
        let path = fx.directory.path + "/outbox.key"
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect((attributes[.size] as? Int) == 32)
        let first = try #require(try PayloadKey.load(.file(path: path, generateIfMissing: false)))
        #expect(first.id == fx.database.key?.id)

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(throws: OutboxError.keyFileInsecure(path: path, mode: 0o644)) {
            try PayloadKey.load(.file(path: path, generateIfMissing: false))
        }
        let missing = fx.directory.path + "/nope.key"
        #expect(throws: OutboxError.keyFileMissing(path: missing)) {
            try PayloadKey.load(.file(path: missing, generateIfMissing: false))
        }
        let hex = fx.directory.path + "/hex.key"
        try (String(repeating: "ab", count: 32) + "\n").write(toFile: hex, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: hex)
        #expect(try PayloadKey.load(.file(path: hex, generateIfMissing: false)) != nil)
        try "short".write(toFile: hex, atomically: false, encoding: .utf8)
        #expect(throws: OutboxError.self) { try PayloadKey.load(.file(path: hex, generateIfMissing: false)) }
        #expect(throws: OutboxError.self) { try PayloadKey.load(.credential(name: "outbox-key-that-is-not-there")) }
    }

    @Test func itemSealedWithAnotherKeyIsReportedNotLost() async throws {
        let fx = try await OutboxFixture.make()
        let item = try await fx.store.enqueue(OutboxPayload(jpeg: [1, 2, 3]), capturedAt: Date())
        fx.database.close()
        defer { try? FileManager.default.removeItem(at: fx.directory) }
        let other = fx.directory.path + "/other.key"
        var config = OutboxFixture.configuration(fx.directory)
        config.key = .file(path: other, generateIfMissing: true)
        let reopened = try await OutboxDatabase.open(config)
        defer { reopened.close() }
        await #expect(throws: OutboxError.self) { try await OutboxStore(database: reopened).nextDue(at: Date()) }
        #expect(try await OutboxStore(database: reopened).list().map(\.id) == [item.id])
    }

    @Test func corruptDatabaseIsMovedAsideAndJournaled() async throws {
        let fx = try await OutboxFixture.make()
        try await fx.store.enqueue(OutboxPayload(jpeg: [1]), capturedAt: Date())
        // Move every page into the main file first, so the damage is not masked by the WAL.
        try await fx.database.pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        fx.database.close()
        defer { try? FileManager.default.removeItem(at: fx.directory) }
        let path = fx.database.path
        // Overwrite the header and the first pages with garbage.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.write(contentsOf: Data(repeating: 0x5A, count: 8192))
        try handle.close()

        // kioskctl (no recovery) reports it and leaves the file alone.
        var cli = OutboxFixture.configuration(fx.directory)
        cli.recoverCorruption = false
        cli.createIfMissing = false
        cli.key = .none
        do {
            _ = try await OutboxDatabase.open(cli)
            Issue.record("expected databaseCorrupt")
        } catch {
            guard case .databaseCorrupt(_, nil, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
        }
        #expect(FileManager.default.fileExists(atPath: path))

        // The daemon moves it aside, starts a new one and journals the error.
        let database = try await OutboxDatabase.open(OutboxFixture.configuration(fx.directory))
        defer { database.close() }
        guard case let .databaseCorrupt(_, movedTo?, _) = database.recoveredCorruption else {
            Issue.record("no recovery reported")
            return
        }
        #expect(FileManager.default.fileExists(atPath: movedTo))
        #expect(movedTo.hasPrefix(path + ".corrupt-"))
        #expect(try await OutboxStore(database: database).status().items == 0)
        let errors = try await EventJournal(database: database).entries(kinds: [.error])
        #expect(errors.count == 1)
        try await OutboxStore(database: database).enqueue(OutboxPayload(jpeg: [2]), capturedAt: Date())
    }

    @Test func fullDiskDegradesQueueingWithClearErrorAndRecovers() async throws {
        let fx = try await OutboxFixture.make(maxPageCount: 40)  // 40 × 4 KiB pages
        defer { fx.cleanUp() }
        var failure: OutboxError?
        for _ in 0..<100 {
            do {
                try await fx.store.enqueue(OutboxPayload(jpeg: [UInt8](repeating: 9, count: 8000)), capturedAt: Date())
            } catch {
                failure = error
                break
            }
        }
        let error = try #require(failure)
        #expect(error.isDiskFull)
        #expect(error.description.contains("door keeps working"))
        #expect(fx.database.degradedReason != nil)
        #expect(try await fx.store.status().degradedReason != nil)
        // Reads still work, and freeing space (purge) lets queueing resume.
        #expect(try await fx.store.list().count > 0)
        try await fx.store.purge()
        try await fx.store.enqueue(OutboxPayload(jpeg: [1]), capturedAt: Date())
        #expect(fx.database.degradedReason == nil)
    }

    /// kioskd's open of a state directory that is a regular file (opening really fails, as root
    /// too), retried at every chance; `fix` removes the file.
    struct BlockedStart {
        let root: URL
        let stateDirectory: URL
        let config: OutboxConfiguration
        let database: OutboxDatabase

        static func make(_ name: String) async throws -> BlockedStart {
            let root = try TestAssets.temporaryDirectory(name)
            let stateDirectory = root.appendingPathComponent("state")
            #expect(FileManager.default.createFile(atPath: stateDirectory.path, contents: Data()))
            var config = OutboxFixture.configuration(stateDirectory)
            config.reopenInterval = .zero
            return BlockedStart(
                root: root, stateDirectory: stateDirectory, config: config, database: await OutboxDatabase.openRetrying(config))
        }

        func fix() throws { try FileManager.default.removeItem(at: stateDirectory) }

        func cleanUp() {
            database.close()
            try? FileManager.default.removeItem(at: root)
        }
    }

    @Test("a state directory that cannot be used at start: unavailable, then open without a restart once fixed")
    func unopenableAtStartOpensOnceFixed() async throws {
        let blocked = try await BlockedStart.make("outbox-late")
        defer { blocked.cleanUp() }
        let database = blocked.database, config = blocked.config
        let store = OutboxStore(database: database)
        let journal = EventJournal(database: database)
        #expect(database.degradedReason?.contains("not a directory") == true, "\(database.degradedReason ?? "nil")")
        #expect(database.degradedReason?.contains("no restart needed") == true)
        await #expect(throws: OutboxError.self) { try await store.enqueue(OutboxPayload(jpeg: [1]), capturedAt: Date()) }
        do {
            try await journal.record(.error(ErrorRecord(component: "test", message: "before")))
            Issue.record("journaled without a database")
        } catch {
            #expect(error.isStorageUnavailable, "said once by QueueHealth, not at every write: \(error)")
        }
        #expect(await database.recheck() != nil, "still unusable")

        // The operator fixes it: the next recheck (kioskd's drainer polls every 2 s) opens it.
        try blocked.fix()
        #expect(await database.recheck() == nil)
        #expect(database.degradedReason == nil)
        try await store.enqueue(OutboxPayload(jpeg: [2]), capturedAt: Date())
        try await journal.record(.error(ErrorRecord(component: "test", message: "after")))
        #expect(try await store.status().items == 1)
        #expect(FileManager.default.fileExists(atPath: config.databasePath))
        #expect(FileManager.default.fileExists(atPath: config.stateDirectory + "/outbox.key"), "the key is made on the late open too")
    }

    @Test("a queued check-in is what opens a database that could not be opened at start")
    func enqueueOpensLateDatabase() async throws {
        let blocked = try await BlockedStart.make("outbox-late-enqueue")
        defer { blocked.cleanUp() }
        let database = blocked.database
        try blocked.fix()
        let item = try await OutboxStore(database: database).enqueue(OutboxPayload(jpeg: [3]), capturedAt: Date())
        #expect(try await OutboxStore(database: database).list().map(\.id) == [item.id])
        #expect(database.degradedReason == nil)
    }

    @Test func twoPoolsOnOneFileWriteConcurrently() async throws {
        let fx = try await OutboxFixture.make()
        defer { fx.cleanUp() }
        var cliConfig = OutboxFixture.configuration(fx.directory)
        cliConfig.createIfMissing = false
        let second = try await OutboxDatabase.open(cliConfig)
        defer { second.close() }
        let storeA = fx.store
        let storeB = OutboxStore(database: second)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for store in [storeA, storeB] {
                group.addTask {
                    for i in 0..<40 {
                        try await store.enqueue(OutboxPayload(jpeg: [UInt8(i)]), capturedAt: Date())
                        if i % 10 == 0 { _ = try await store.retry(id: nil) }
                        _ = try await store.status()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await storeA.status().items == 80)
        #expect(try await storeB.list().count == 80)
    }
}
