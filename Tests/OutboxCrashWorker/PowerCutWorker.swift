// PowerCutWorker: the writer of the VM power-cut stage (scripts/vhw/powercut.sh), also usable on a real terminal.
//
//   outbox-crash-worker powercut <state-dir> <report-file> <first-seq>
//       opens the queue like kioskd (corrupt file moved aside and reported), writes what it found
//       to <report-file>, prints "READY <uptime>", then writes at full speed until the power goes:
//         A <seq> <uuid12>   a check-in whose enqueue returned (durable)
//         J <seq>            a journal event whose record returned (durable)
//         D <uuid12>         a check-in "delivered": printed and drained to the wire before the
//                            drainer removes the row, so what the host saw is what the server got
//         P n / p n          before / after a journal prune
//         C n / c n          before / after maintenance (expiry, prune, vacuum, WAL checkpoint)
//         E <text>           an error (the stage fails on any)
//   outbox-crash-worker powercut-check <state-dir> <report-file>
//       the same report, then exits: the last boot of a run, or a site's check after pulling the plug.
//   outbox-crash-worker storage <state-dir> <first-seq>
//       enqueues every 100 ms and says once when the queue becomes unavailable ("U <reason>") and
//       once when it works again ("W"); for the failing-card test (scripts/vhw/tests/storage-failure.sh).
import Foundation
import Logging
import Outbox

#if canImport(Glibc)
import Glibc
#endif

enum PowerCutWorker {
    /// Short enough to keep serial lines short; 48 random bits cannot collide among a run's items.
    static func short(_ uuid: String) -> String { String(uuid.replacingOccurrences(of: "-", with: "").prefix(12)) }

    /// Small journal so pruning runs often and deletes many rows at a time (the cut must land in it).
    static func configuration(_ stateDirectory: String) -> OutboxConfiguration {
        OutboxConfiguration(stateDirectory: stateDirectory, journalRetention: JournalRetention(maxRows: 400))
    }

    static let logger = Logger(label: "outbox-powercut", factory: { _ in SwiftLogNoOpLogHandler() })

    static func uptime() -> String {
        let text = (try? String(contentsOfFile: "/proc/uptime", encoding: .utf8)) ?? "0 0"
        return String(text.split(separator: " ").first ?? "0")
    }

    /// Writes a line to stdout (the guest's second serial port) with write(2); with `drain`, waits
    /// until the tty has sent it (tcdrain), so the host has the line before the caller goes on.
    static func emit(_ line: String, drain: Bool = false) {
        let bytes = Array((line + "\n").utf8)
        bytes.withUnsafeBytes { _ = write(1, $0.baseAddress, $0.count) }
        if drain { _ = tcdrain(1) }
    }

    static func main(_ arguments: [String]) async -> Int32 {
        switch (arguments.first, arguments.count) {
        case ("powercut", 4):
            guard let first = Int(arguments[3]) else { return usage() }
            guard let database = await openAndReport(arguments[1], report: arguments[2]) else { return 1 }
            await writeUntilCut(database, first: first)
            return 0
        case ("powercut-check", 3):
            return await openAndReport(arguments[1], report: arguments[2]) == nil ? 1 : 0
        case ("storage", 3):
            guard let first = Int(arguments[2]) else { return usage() }
            await storage(arguments[1], first: first)
            return 0
        default:
            return usage()
        }
    }

    static func usage() -> Int32 {
        FileHandle.standardError.write(
            Data(
                "usage: outbox-crash-worker powercut <state-dir> <report> <first-seq> | powercut-check <state-dir> <report> | storage <state-dir> <first-seq>\n"
                    .utf8))
        return 2
    }

    /// Opens like the daemon and writes what survived to `report`:
    /// `open ok|recovered <why>`, `integrity <result>`, `Q <uuid12>` per queued item, `J <seq>`
    /// per journal event of this tool still kept, `dropped <n>`, `ready_uptime <s>`.
    static func openAndReport(_ stateDirectory: String, report: String) async -> OutboxDatabase? {
        var lines: [String] = []
        let database: OutboxDatabase
        do {
            database = try await OutboxDatabase.open(configuration(stateDirectory))
        } catch {
            lines.append("open failed \(error)")
            FileManager.default.createFile(atPath: report, contents: Data((lines.joined(separator: "\n") + "\n").utf8))
            emit("E open: \(error)")
            return nil
        }
        lines.append(database.recoveredCorruption.map { "open recovered \($0)" } ?? "open ok")
        do {
            let check = try await database.integrityCheck()
            lines.append("integrity " + check.joined(separator: "; "))
            let store = OutboxStore(database: database)
            for item in try await store.list(limit: 1_000_000) { lines.append("Q \(short(item.uuid))") }
            let journal = EventJournal(database: database)
            for entry in try await journal.entries(limit: 1_000_000, kinds: [.error]) {
                if case .error(let record) = entry.event, record.component == "powercut" { lines.append("J \(record.message)") }
            }
            let status = try await store.status()
            lines.append("dropped \(status.counters.dropped)")
        } catch {
            lines.append("read failed \(error)")
        }
        lines.append("ready_uptime \(uptime())")
        FileManager.default.createFile(atPath: report, contents: Data((lines.joined(separator: "\n") + "\n").utf8))
        emit("READY \(uptime())")
        return database
    }

    /// Check-ins and journal events at full speed, a delivering drainer beside them, a prune every
    /// 20 rounds and maintenance (with its WAL checkpoint) every 30: the power can go in any of them.
    static func writeUntilCut(_ database: OutboxDatabase, first: Int) async {
        let store = OutboxStore(database: database)
        let journal = EventJournal(database: database)
        let drainer = OutboxDrainer(
            store: store, sender: SerialSender(),
            configuration: DrainConfiguration(
                backoff: BackoffPolicy(base: .milliseconds(20), multiplier: 2, cap: .milliseconds(200), jitter: 0.5),
                breaker: CircuitBreaker(failureThreshold: 1000), idlePoll: .milliseconds(50),
                maintenanceInterval: .seconds(1_000_000)),
            logger: logger)
        let loop = Task { await drainer.run() }
        defer { loop.cancel() }
        var seq = first
        var round = 0
        while true {
            do {
                let item = try await store.enqueue(payload(seq), capturedAt: Date())
                emit("A \(seq) \(short(item.uuid))")
                await drainer.nudge()
            } catch {
                emit("E enqueue \(seq): \(error)")
            }
            do {
                try await journal.record(.error(ErrorRecord(component: "powercut", message: "\(seq)")))
                emit("J \(seq)")
            } catch {
                emit("E journal \(seq): \(error)")
            }
            round += 1
            if round % 20 == 0 {
                emit("P \(round)")
                do { try await journal.prune() } catch { emit("E prune: \(error)") }
                emit("p \(round)")
            }
            if round % 30 == 0 {
                emit("C \(round)")
                do { try await store.maintenance() } catch { emit("E maintenance: \(error)") }
                emit("c \(round)")
            }
            seq += 1
        }
    }

    /// Enqueues every 100 ms; reports availability transitions once each.
    static func storage(_ stateDirectory: String, first: Int) async {
        let database: OutboxDatabase
        do {
            database = try await OutboxDatabase.open(configuration(stateDirectory))
        } catch {
            emit("E open: \(error)")
            return
        }
        let store = OutboxStore(database: database)
        emit("READY \(uptime())")
        var seq = first
        var unavailable = false
        while true {
            do {
                let item = try await store.enqueue(payload(seq), capturedAt: Date())
                emit("A \(seq) \(short(item.uuid))")
            } catch {
                if !error.isStorageUnavailable { emit("E enqueue \(seq): \(error)") }
            }
            if let reason = database.degradedReason {
                if !unavailable { emit("U \(reason)") }
                unavailable = true
            } else if unavailable {
                emit("W")
                unavailable = false
            }
            seq += 1
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    static func payload(_ seq: Int) -> OutboxPayload {
        var jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0]
        jpeg += (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ seq) }
        return OutboxPayload(jpeg: jpeg + [0xFF, 0xD9], conditionJSON: "{\"seq\":\(seq)}")
    }
}

/// The "server" of the power-cut stage: the serial line. A delivery counts once its line has left
/// the guest; the drainer removes the row only after this returns.
struct SerialSender: OutboxSender {
    func deliver(_ delivery: OutboxDelivery) async -> DeliveryResult {
        PowerCutWorker.emit("D \(PowerCutWorker.short(delivery.item.uuid))", drain: true)
        // Slower than the writer, so the queue holds items when the power goes.
        try? await Task.sleep(for: .milliseconds(40))
        return .delivered(DeliveredOutcome(status: 200))
    }

    func renewAuthentication() async throws {}
}
