// `kioskctl events`: the event journal (decisions, door events, drops, late outcomes, errors).
import ArgumentParser
import Foundation
import KioskCore
import Outbox

struct EventsCommand: AsyncParsableCommand, KioskctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Show the event journal: decisions, door events, queue drops, late outcomes, errors (oldest first)."
    ).compactUsage("kioskctl events [<options>]")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var state: StateDirectoryOptions
    @Option(
        help: ArgumentHelp(
            "Only events at or after this time: an ISO 8601 time (2026-11-29T08:00:00Z) or an age (30m, 2h, 7d).",
            valueName: "time"))
    var since: String?
    @Option(help: "Show the latest N events.") var limit = 50
    @Option(
        name: .customLong("kind"),
        help: ArgumentHelp(
            "Only these kinds (repeatable): \(JournalKind.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "kind"))
    var kinds: [String] = []

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
        if let since, Self.parseSince(since, now: Date()) == nil {
            throw ValidationError("--since: '\(since)' is neither an ISO 8601 time nor an age like 30m, 2h or 7d")
        }
        for kind in kinds where JournalKind(rawValue: kind) == nil {
            throw ValidationError(
                "--kind: unknown kind '\(kind)'; use one of \(JournalKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    static func parseSince(_ text: String, now: Date) -> Date? {
        if let seconds = CLIFormat.parseDuration(text) { return now - seconds }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle()) { return date }
        return nil
    }

    mutating func run() async throws {
        let database = try await state.open(global)
        defer { database.close() }
        let entries = try await EventJournal(database: database).entries(
            since: since.flatMap { Self.parseSince($0, now: Date()) }, limit: limit,
            kinds: kinds.isEmpty ? nil : Set(kinds.compactMap(JournalKind.init(rawValue:))))
        if global.json {
            print(try CLIFormat.json(entries.map(JSONEntry.init)))
            return
        }
        if entries.isEmpty { print("no events") }
        for entry in entries {
            // Records hold server text (summaries, reasons): never raw control characters on a terminal.
            print(
                CLIFormat.time(entry.time) + "  " + CLIFormat.columns([entry.event.kind.rawValue], widths: [13])
                    + LogText.escaped(Self.describe(entry.event)))
        }
    }

    static func describe(_ event: JournalEvent) -> String {
        func ms(_ d: Duration?) -> String? { d.map { String(format: "%.0fms", $0.secondsValue * 1000) } }
        switch event {
        case let .decision(r):
            var parts = [r.outcome.rawValue]
            if let user = r.userID { parts.append("user=\(user)") }
            if let s = r.similarity { parts.append(String(format: "similarity=%.3f", s)) }
            if let direction = r.direction { parts.append("direction=\(direction)") }
            if let reason = r.reason { parts.append("reason=\"\(reason)\"") }
            let l = r.latencies
            let stages = [
                ("capture", l.capture), ("detect", l.detect), ("select", l.select), ("encode", l.encode),
                ("upload", l.upload), ("decide", l.decide),
            ].compactMap { name, d in ms(d).map { "\(name)=\($0)" } }
            parts += stages
            if let item = r.queuedItemID { parts.append("queued=\(item)") }
            return parts.joined(separator: " ")
        case let .door(r):
            return r.kind.rawValue + (r.detail.map { " \($0)" } ?? "")
        case let .drop(r):
            var parts = [r.reason.rawValue]
            if let id = r.itemID { parts.append("item=\(id)") }
            if let captured = r.capturedAt { parts.append("captured=\(CLIFormat.time(captured))") }
            if r.attempts > 0 { parts.append("attempts=\(r.attempts)") }
            if let e = r.lastError { parts.append("last-error=\"\(e)\"") }
            if let d = r.detail { parts.append(d) }
            return parts.joined(separator: " ")
        case let .lateOutcome(r):
            var parts = [
                r.delivered ? "delivered" : "refused", "item=\(r.itemID)", "status=\(r.status)", "attempts=\(r.attempts)",
                "captured=\(CLIFormat.time(r.capturedAt))",
            ]
            if let user = r.userID { parts.append("user=\(user)") }
            if let s = r.similarity { parts.append(String(format: "similarity=%.3f", s)) }
            parts.append("\"\(r.summary)\"")
            return parts.joined(separator: " ")
        case let .error(r):
            return "\(r.component): \(r.message)"
        case let .admin(r):
            return "\(r.action): \(r.detail)"
        case let .possibleDuplicate(r):
            var parts = ["posted-once-more"]
            if let id = r.itemID { parts.append("item=\(id)") }
            if let captured = r.capturedAt { parts.append("captured=\(CLIFormat.time(captured))") }
            parts.append("attempts=\(r.attempts)")
            parts.append("reason=\"\(r.reason)\"")
            return parts.joined(separator: " ")
        }
    }
}

/// One journal entry as `--json` prints it: id, time, kind and the record's fields.
struct JSONEntry: Encodable {
    let entry: JournalEntry

    enum CodingKeys: String, CodingKey { case id, time, kind, record }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(entry.id, forKey: .id)
        try c.encode(entry.time, forKey: .time)
        try c.encode(entry.event.kind.rawValue, forKey: .kind)
        switch entry.event {
        case let .decision(r): try c.encode(r, forKey: .record)
        case let .door(r): try c.encode(r, forKey: .record)
        case let .drop(r): try c.encode(r, forKey: .record)
        case let .lateOutcome(r): try c.encode(r, forKey: .record)
        case let .error(r): try c.encode(r, forKey: .record)
        case let .admin(r): try c.encode(r, forKey: .record)
        case let .possibleDuplicate(r): try c.encode(r, forKey: .record)
        }
    }
}
