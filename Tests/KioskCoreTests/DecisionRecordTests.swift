// What a decision leaves behind on real files: log lines, journal, queued items, kept images, status files.
import Foundation
import Logging
import Outbox
import Synchronization
import TestSupport
import Testing

@testable import KioskCore

#if canImport(Glibc)
import Glibc
#endif

/// What a decision leaves behind: log lines, journal records, queued items, kept images and
/// status files, each checked on real files.
@Suite(.serialized)
struct DecisionRecordTests {
    @Test("server text with newlines and escape sequences stays one escaped log line")
    func logLinesAreEscaped() {
        let lines = Mutex<[String]>([])
        let handler = KioskLogHandler(label: "t", level: .info, journald: true, output: { line in lines.withLock { $0.append(line) } })
        var logger = Logger(label: "t", factory: { _ in handler })
        logger[metadataKey: "server.message"] = "bad\nDENIED: forged\u{1B}[31m"
        logger.notice("server said: first\r\nsecond\u{2028}third")
        let out = lines.withLock { $0 }
        #expect(out.count == 1)
        let line = out.first ?? ""
        #expect(line.hasPrefix("<5>") && line.hasSuffix("\n"))
        #expect(line.dropLast().allSatisfy { !$0.isNewline })
        #expect(!line.unicodeScalars.contains { $0.value == 0x1B })
        #expect(line.contains(#"first\r\nsecond\u{2028}third"#))
        #expect(line.contains(#"server.message="bad\nDENIED: forged\u{1B}[31m""#))
        #expect(LogText.escaped("plain text, ünïcode") == "plain text, ünïcode")
    }

    @Test("kept images: one 0600 file per decision even in the same millisecond, pruned by count and age")
    func keptImages() throws {
        let directory = try TestAssets.temporaryDirectory("kiosk-images").appendingPathComponent("images").path
        let keeper = ImageKeeper(directory: directory, maxAge: .seconds(3600), maxCount: 3)
        let now = Date(timeIntervalSince1970: 1_800_000_000.5)
        let a = try keeper.keep([1, 2, 3], at: now, outcome: "granted")
        let b = try keeper.keep([4, 5, 6], at: now, outcome: "granted")
        #expect(a != b)
        #expect(FileManager.default.contents(atPath: a) == Data([1, 2, 3]))
        #expect(FileManager.default.contents(atPath: b) == Data([4, 5, 6]))
        var info = stat()
        #expect(stat(a, &info) == 0 && info.st_mode & 0o777 == 0o600)
        for second in 1...3 { try keeper.keep([9], at: now.addingTimeInterval(Double(second)), outcome: "no_match") }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(names.count == 3, "\(names)")
        #expect(!names.contains((a as NSString).lastPathComponent), "the oldest goes first")
        // Two hours later everything kept so far is past the one-hour limit.
        let later = try keeper.keep([7], at: now.addingTimeInterval(7200), outcome: "denied")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == [(later as NSString).lastPathComponent])
    }

    @Test("status files are 0640 with the configured group whatever the umask, and replaced atomically")
    func statusFileModeAndGroup() throws {
        let directory = try TestAssets.temporaryDirectory("kiosk-status")
        let status = directory.appendingPathComponent("status.json").path
        let metrics = directory.appendingPathComponent("kiosk.prom").path
        let ownGroup = try #require(getgrgid(getgid())).pointee.gr_name.map { String(cString: $0) }
        let writer = StatusFileWriter(statusPath: status, metricsPath: metrics, group: ownGroup)
        let old = umask(0o077)
        defer { umask(old) }
        var snapshot = StatusSnapshot()
        snapshot.state = "idle"
        try writer.write(snapshot)
        for path in [status, metrics] {
            var info = stat()
            #expect(stat(path, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o640, "\(path): \(String(info.st_mode & 0o777, radix: 8))")
            #expect(info.st_gid == getgid())
        }
        #expect(try StatusSnapshot.decode(Data(contentsOf: URL(fileURLWithPath: status))).state == "idle")
        #expect(try String(contentsOfFile: metrics, encoding: .utf8).contains("kiosk_state{state=\"idle\"} 1"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["kiosk.prom", "status.json"])
    }

    @Test("a status group that does not exist is an error that names the setting")
    func unknownStatusGroup() throws {
        let directory = try TestAssets.temporaryDirectory("kiosk-status")
        let writer = StatusFileWriter(
            statusPath: directory.appendingPathComponent("s.json").path, metricsPath: nil,
            group: "no-such-group-kiosk")
        #expect {
            try writer.write(StatusSnapshot())
        } throws: { error in
            "\(error)".contains("status.group") && "\(error)".contains("no-such-group-kiosk")
        }
    }

    @Test("an offline decision is journaled, queued with its image and counted; a grant is journaled, not queued")
    func recorderJournalsAndQueues() async throws {
        var c = KioskConfiguration()
        c.outbox.stateDirectory = try TestAssets.temporaryDirectory("kiosk-recorder").path
        c.outbox.keyFile = "outbox.key"
        let database = try await OutboxDatabase.open(c.outboxConfiguration())
        let journal = EventJournal(database: database)
        let store = OutboxStore(database: database)
        let board = StatusBoard()
        let woken = Atomic<Int>(0)
        let recorder = DecisionRecorder(
            journal: journal, outbox: store, status: board,
            logger: Logger.quiet,
            queued: { woken.add(1, ordering: .relaxed) })
        let policy = try DecisionPolicy(settings: c.policy)
        let offline = policy.decide(.unreachable(reason: "connect refused"), at: Date())
        #expect(offline.queueForLater && !offline.granted)
        await recorder.record(
            offline, outcome: .unreachable(reason: "connect refused"), latencies: StageLatencies(),
            jpeg: [0xFF, 0xD8, 0xFF, 0xD9], conditionJSON: #"{"group_id": 2}"#, option: 3, keepImage: false)
        let granted = policy.decide(.matched(userID: 4, status: "APPROVED", similarity: 91), at: Date())
        await recorder.record(
            granted, outcome: .matched(userID: 4, status: "APPROVED", similarity: 91),
            latencies: StageLatencies(), jpeg: nil, conditionJSON: "", option: nil, keepImage: false)

        #expect(try await store.status().items == 1)
        #expect(woken.load(ordering: .relaxed) == 1)
        let decisions = try await journal.entries(kinds: [.decision])
        #expect(decisions.count == 2)
        let outcomes = decisions.compactMap { entry -> DecisionOutcome? in
            if case .decision(let record) = entry.event { return record.outcome } else { return nil }
        }
        #expect(Set(outcomes) == [.offlineDenied, .granted])
        let s = board.snapshot
        #expect(s.decisions == ["offline": 1, "granted": 1])
        #expect(s.server.healthy == true, "the grant came after the failure")
        #expect(s.lastDecision?.userID == 4)
    }
}
