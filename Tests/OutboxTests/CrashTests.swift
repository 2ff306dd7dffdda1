// Outbox crash safety: a worker process SIGKILLed while enqueuing and draining loses no acknowledged item.
import Foundation
import GRDB
import Hummingbird
import Synchronization
import TestSupport
import Testing

@testable import Outbox

#if canImport(Glibc)
import Glibc
#endif

/// A real HTTP receiver on loopback, in the test process (so it survives the worker's
/// deaths): records every sequence number it accepted, and answers 503 to every 7th request
/// so the retry path runs too.
final class DeliveryReceiver: Sendable {
    let port: Int
    private let task: Task<Void, any Error>
    private let log: ReceiverLog

    private init(port: Int, task: Task<Void, any Error>, log: ReceiverLog) {
        self.port = port
        self.task = task
        self.log = log
    }

    var url: String { "http://127.0.0.1:\(port)/deliver" }
    var counts: [Int: Int] { log.counts }

    static func start() async throws -> DeliveryReceiver {
        let log = ReceiverLog()
        let router = Router()
        router.post("/deliver") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 16)
            let accepted = log.record(Int(String(buffer: body)) ?? -1)
            return Response(status: accepted ? .ok : .serviceUnavailable)
        }
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            })
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var port = 0
        for await value in portStream {
            port = value
            break
        }
        return DeliveryReceiver(port: port, task: task, log: log)
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

/// What the receiver accepted: sequence number -> times.
final class ReceiverLog: Sendable {
    private let state = Mutex<(counts: [Int: Int], requests: Int)>(([:], 0))

    var counts: [Int: Int] { state.withLock { $0.counts } }

    func record(_ seq: Int) -> Bool {
        state.withLock { r in
            r.requests += 1
            guard r.requests % 7 != 0 else { return false }
            r.counts[seq, default: 0] += 1
            return true
        }
    }
}

/// Finds the `outbox-crash-worker` test tool next to the test bundle.
func crashWorkerURL() -> URL {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("outbox-crash-worker")
    if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
    return TestAssets.repositoryRoot.appendingPathComponent(".build/debug/outbox-crash-worker")
}

/// Runs the worker; returns the process and the pipe carrying its output.
func launchWorker(_ arguments: [String]) throws -> (Process, Pipe) {
    let process = Process()
    process.executableURL = crashWorkerURL()
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    return (process, pipe)
}

/// The sequence numbers of the items still queued (opens the sealed payloads).
func queuedSequences(_ database: OutboxDatabase) async throws -> [Int] {
    let key = try #require(database.key)
    let rows = try await database.pool.read { db in
        try Row.fetchAll(db, sql: "SELECT id, uuid, sealed FROM outbox_item").map {
            ($0["id"] as Int64, $0["uuid"] as String, $0["sealed"] as Data)
        }
    }
    return try rows.map { id, uuid, sealed in
        let payload = try OutboxPayload(decoding: key.unseal(Array(sealed), associatedData: uuid, itemID: id), itemID: id)
        return Int(payload.conditionJSON.filter(\.isNumber)) ?? -1
    }
}

@Suite("Crash safety: SIGKILL while enqueuing and draining", .serialized)
struct CrashTests {
    @Test func everyAcknowledgedItemIsDeliveredOrQueuedAcrossKills() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: crashWorkerURL().path), "build the outbox-crash-worker target")
        let receiver = try await DeliveryReceiver.start()
        let directory = try TestAssets.temporaryDirectory("outbox-crash")
        defer { try? FileManager.default.removeItem(at: directory) }
        // The test process opens the same file as the worker: two processes, one database.
        let database = try await OutboxDatabase.open(OutboxConfiguration(stateDirectory: directory.path))
        defer { database.close() }
        let store = OutboxStore(database: database)

        let rounds = 12
        var acknowledged = Set<Int>()
        for round in 0..<rounds {
            let (process, pipe) = try launchWorker(["run", directory.path, receiver.url, String(round * 1_000_000)])
            // Kill somewhere between start-up (opening the database) and full flow.
            let lifetime = Int.random(in: 150...900)
            let deadline = Date() + Double(lifetime) / 1000
            while Date() < deadline {
                _ = try await store.status()  // a concurrent reader in another process
                try await Task.sleep(for: .milliseconds(25))
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            for line in output.split(separator: "\n") where line.hasPrefix("ACK ") {
                if let seq = Int(line.dropFirst(4)) { acknowledged.insert(seq) }
            }
        }
        #expect(acknowledged.count > 50, "the worker should have acknowledged items")

        // Every acknowledged item is delivered or still queued.
        let queued = Set(try await queuedSequences(database))
        let delivered = Set(receiver.counts.keys)
        let lost = acknowledged.subtracting(delivered).subtracting(queued)
        #expect(lost.isEmpty, "lost after kills: \(lost.sorted().prefix(20))")

        // Drain what is left; then every acknowledged item has been delivered.
        let (drain, _) = try launchWorker(["drain", directory.path, receiver.url])
        drain.waitUntilExit()
        #expect(drain.terminationStatus == 0)
        #expect(try await store.status().items == 0)
        let counts = receiver.counts
        let missing = acknowledged.filter { counts[$0] == nil }
        #expect(missing.isEmpty, "never delivered: \(missing.sorted().prefix(20))")
        // A duplicate can only be the item in flight at a kill: at most one per round.
        let duplicates = counts.values.reduce(0) { $0 + max(0, $1 - 1) }
        #expect(duplicates <= rounds)
        print(
            "outbox crash test: \(rounds) kills, \(acknowledged.count) acknowledged, \(counts.count) delivered, \(queued.count) queued before the final drain, \(duplicates) duplicates, 0 lost"
        )
        await receiver.stop()
    }

    @Test func anotherProcessEnqueuesWhileThisOneReadsAndRetries() async throws {
        let directory = try TestAssets.temporaryDirectory("outbox-two-processes")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try await OutboxDatabase.open(OutboxConfiguration(stateDirectory: directory.path))
        defer { database.close() }
        let store = OutboxStore(database: database)
        let (process, pipe) = try launchWorker(["enqueue", directory.path, "300"])
        var polls = 0
        while process.isRunning {
            _ = try await store.status()
            _ = try await store.list(limit: 20)
            _ = try await store.retry(id: nil)
            try await EventJournal(database: database).record(.door(DoorEventRecord(kind: .exitButton)))
            polls += 1
        }
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).contains("DONE 300"))
        #expect(try await store.status().items == 300)
        #expect(try await queuedSequences(database).sorted() == Array(0..<300))
        #expect(polls > 0)
        let check = try await database.pool.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        #expect(check == ["ok"])
    }
}
