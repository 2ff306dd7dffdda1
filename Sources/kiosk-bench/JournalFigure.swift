// JournalFigure: 150,000 journal events, then `kioskctl events --limit 50` and `--since 1h` timed as a user runs them.
import Foundation
import KioskCore
import Outbox

/// Writes 2,000 events through `EventJournal.record` (decisions with latencies, door events,
/// errors: real bodies), copies them to 150,000 in one SQL transaction with times spread over
/// the last 48 hours (Python's sqlite3: the product has no bulk writer, and 150,000 durable
/// single writes take minutes), then runs the release `kioskctl events` as a process, as a user
/// would: `--limit 50` and `--since 1h --limit 50`, 5 times each, median.
struct JournalFigure {
    let directory: URL
    let total = 150_000
    let runs = 5

    func measure() async throws -> BenchFigure {
        let state = directory.appendingPathComponent("journal-state")
        let configuration = OutboxConfiguration(stateDirectory: state.path)
        let database = try await OutboxDatabase.open(configuration)
        let journal = EventJournal(database: database)
        let written = 2_000
        for n in 0..<written {
            let event: JournalEvent
            switch n % 4 {
            case 0, 1:
                event = .decision(
                    DecisionRecord(
                        outcome: n % 8 == 0 ? .noMatch : .granted, userID: "\(n % 300)", similarity: 91.5, reason: "APPROVED",
                        latencies: StageLatencies(
                            capture: .milliseconds(3), detect: .milliseconds(9), select: .milliseconds(40), encode: .milliseconds(4),
                            upload: .milliseconds(180), decide: .milliseconds(1))))
            case 2:
                event = .decision(DecisionRecord(outcome: .offlineDenied, reason: "no answer within 1.5 s", queuedItemID: Int64(n)))
            default:
                event = .error(ErrorRecord(component: "camera", message: "frame \(n) could not be decoded; skipped"))
            }
            try await journal.record(event)
        }
        let databasePath = state.appendingPathComponent(configuration.databaseFileName).path
        try copyRows(database: databasePath, to: total)
        // The query alone, in this process (the database is open already): what an index could change.
        var queryTimes: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            _ = try await journal.entries(limit: 50)
            _ = try await journal.entries(since: Date().addingTimeInterval(-3600), limit: 50)
            queryTimes.append((ContinuousClock.now - start).seconds * 1000 / 2)
        }
        database.close()

        let kioskctl = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("kioskctl")
        guard FileManager.default.isExecutableFile(atPath: kioskctl.path) else {
            throw BenchError("no kioskctl next to this binary; build it: swift build -c release --product kioskctl")
        }
        var limitTimes: [Double] = [], sinceTimes: [Double] = [], helpTimes: [Double] = []
        for _ in 0..<runs {
            helpTimes.append(try time(kioskctl, ["events", "--help"]))
            limitTimes.append(try time(kioskctl, ["events", "--state-dir", state.path, "--limit", "50"]))
            sinceTimes.append(try time(kioskctl, ["events", "--state-dir", state.path, "--since", "1h", "--limit", "50"]))
        }
        let l = BenchStats(limitTimes), s = BenchStats(sinceTimes)
        let worst = max(l.median, s.median)
        let (v, m) = underOrOver(worst, goal: 200, unit: "ms")
        return BenchFigure(
            name: "journal: 150,000 events; `kioskctl events --limit 50` and `--since 1h --limit 50` (whole process)",
            measured: "\(fmt(l.median)) ms and \(fmt(s.median)) ms median", goal: "≤ 200 ms each", verdict: v, margin: m,
            reference:
                "the query alone (EventJournal.entries, in process): \(fmt(BenchStats(queryTimes).median, 2)) ms; `kioskctl events --help` (process start, no database): \(fmt(BenchStats(helpTimes).median)) ms",
            samples:
                "\(runs) runs each; ranges \(fmt(l.min))–\(fmt(l.max)) ms and \(fmt(s.min))–\(fmt(s.max)) ms; \(written) events written by EventJournal.record, copied to \(total) with SQL",
            limit: v == .miss ? "kioskctl's process start and database open, not the query (see the reference)" : nil,
            values: [
                "limit_ms": l.median, "since_ms": s.median, "query_ms": BenchStats(queryTimes).median,
                "help_ms": BenchStats(helpTimes).median,
            ])
    }

    private func copyRows(database: String, to total: Int) throws {
        let code = """
            import sqlite3, sys, time
            db = sqlite3.connect(sys.argv[1])
            rows = db.execute("SELECT kind, body FROM journal ORDER BY id").fetchall()
            now = int(time.time() * 1000)
            total = int(sys.argv[2])
            missing = total - len(rows)
            span = 48 * 3600 * 1000
            with db:
                db.execute("DELETE FROM journal")
                db.executemany(
                    "INSERT INTO journal (at, kind, body) VALUES (?, ?, ?)",
                    ((now - span + i * span // total, *rows[i % len(rows)]) for i in range(total)))
            print(db.execute("SELECT COUNT(*) FROM journal").fetchone()[0])
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", code, database, "\(total)"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let count = Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        guard process.terminationStatus == 0, count == total else {
            throw BenchError(
                "could not fill the journal to \(total) rows (python3 sqlite3 exit \(process.terminationStatus), \(count) rows)")
        }
    }

    private func time(_ executable: URL, _ arguments: [String]) throws -> Double {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let start = ContinuousClock.now
        try process.run()
        process.waitUntilExit()
        let elapsed = (ContinuousClock.now - start).seconds * 1000
        guard process.terminationStatus == 0 else {
            throw BenchError("\(executable.lastPathComponent) \(arguments.joined(separator: " ")) failed (\(process.terminationStatus))")
        }
        return elapsed
    }
}
