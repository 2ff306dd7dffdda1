// `kioskctl queue status|list|retry|purge`: the offline queue, from the same database kioskd uses.
import ArgumentParser
import Foundation
import KioskCore
import Outbox

/// Options shared by the queue and events commands: where the state directory is.
struct StateDirectoryOptions: ParsableArguments {
    @Option(
        name: .customLong("state-dir"),
        help: ArgumentHelp(
            "kioskd's state directory (default: $KIOSK_STATE_DIRECTORY, else outbox.state_directory from the configuration).",
            valueName: "dir"))
    var stateDirectory: String?

    /// `--state-dir`, else `KIOSK_STATE_DIRECTORY` (what systemd's StateDirectory= gives
    /// kioskd), else `outbox.state_directory` as kioskd reads it (file, KIOSK_OUTBOX_* variables,
    /// default).
    func resolve(_ global: GlobalOptions, environment: [String: String] = ProcessInfo.processInfo.environment) async throws
        -> String
    {
        if let stateDirectory { return stateDirectory }
        if let env = environment["KIOSK_STATE_DIRECTORY"], !env.isEmpty {
            // systemd may pass several directories separated by ':'; the first is ours.
            return String(env.split(separator: ":").first ?? Substring(env))
        }
        let directory = try await global.loadConfiguration(environment: environment).outbox.stateDirectory
        global.note("state directory: \(directory) (outbox.state_directory)")
        return directory
    }

    /// Opens the database as a second user next to kioskd: no key (metadata only), never
    /// creates a file, never moves a corrupt one (kioskd owns it).
    func open(_ global: GlobalOptions) async throws -> OutboxDatabase {
        try await OutboxDatabase.open(
            OutboxConfiguration(
                stateDirectory: resolve(global), key: OutboxKeySource.none, createIfMissing: false, recoverCorruption: false))
    }
}

struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Inspect and manage the offline queue of check-ins waiting for the server.",
        subcommands: [QueueStatusCommand.self, QueueListCommand.self, QueueRetryCommand.self, QueuePurgeCommand.self],
        defaultSubcommand: QueueStatusCommand.self)
}

struct QueueStatusCommand: AsyncParsableCommand, KioskctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Items and bytes queued, limits, drops by reason, and the sender's state (circuit breaker)."
    ).compactUsage("kioskctl queue status [<options>]")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var state: StateDirectoryOptions

    mutating func run() async throws {
        let database = try await state.open(global)
        defer { database.close() }
        let status = try await OutboxStore(database: database).status()
        if global.json {
            print(try CLIFormat.json(status))
            return
        }
        let now = Date()
        let l = status.limits
        print(
            "queue: \(status.items) item(s), \(CLIFormat.bytes(status.bytes))"
                + "  (limits: \(l.maxItems) items, \(CLIFormat.bytes(l.maxBytes)), \(CLIFormat.duration(l.maxAge.secondsValue)); when full: \(l.fullPolicy.rawValue))"
        )
        if let oldest = status.oldestCapturedAt {
            print("oldest: captured \(CLIFormat.time(oldest)) (\(CLIFormat.duration(now.timeIntervalSince(oldest))) ago)")
        }
        if let next = status.nextAttemptAt {
            let wait = next.timeIntervalSince(now)
            print("next attempt: \(wait <= 0 ? "due now" : "in \(CLIFormat.duration(wait))")")
        }
        if let sender = status.sender {
            var line = "sender: breaker \(sender.breaker)"
            if let probe = sender.probeAt { line += ", next probe \(CLIFormat.time(probe))" }
            if sender.consecutiveFailures > 0 { line += ", \(sender.consecutiveFailures) failure(s) in a row" }
            if let error = sender.lastError { line += ", last error: \(error)" }
            if let last = sender.lastDeliveryAt { line += ", last delivery \(CLIFormat.time(last))" }
            print(line + "  (as of \(CLIFormat.time(sender.updatedAt)))")
        } else {
            print("sender: no drain has run yet")
        }
        let c = status.counters
        print("counters: enqueued \(c.enqueued), delivered \(c.delivered), refused by server (final) \(c.finalOutcome)")
        print(
            "dropped: \(c.dropped)  (expired \(c.droppedExpired), item limit \(c.droppedItemLimit), byte limit \(c.droppedByteLimit), refused when full \(c.refused), purged \(c.purged))"
        )
        if c.dropped > 0 { print("  details: kioskctl events --kind drop") }
    }
}

struct QueueListCommand: AsyncParsableCommand, KioskctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Queued items, oldest first (metadata only; images are never shown)."
    ).compactUsage("kioskctl queue list [<options>]")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var state: StateDirectoryOptions
    @Option(help: "At most this many items.") var limit = 100

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
    }

    mutating func run() async throws {
        let database = try await state.open(global)
        defer { database.close() }
        let items = try await OutboxStore(database: database).list(limit: limit)
        if global.json {
            print(try CLIFormat.json(items))
            return
        }
        guard !items.isEmpty else {
            print("queue empty")
            return
        }
        let now = Date()
        print(CLIFormat.columns(["ID", "CAPTURED", "ATTEMPTS", "NEXT", "SIZE", "LAST ERROR"], widths: [8, 26, 9, 12, 10]))
        for item in items {
            let wait = item.nextAttemptAt.timeIntervalSince(now)
            print(
                CLIFormat.columns(
                    [
                        "\(item.id)", CLIFormat.time(item.capturedAt), "\(item.attempts)",
                        wait <= 0 ? "due" : "in " + CLIFormat.duration(wait), CLIFormat.bytes(item.size), item.lastError ?? "-",
                    ], widths: [8, 26, 9, 12, 10]))
        }
    }
}

struct QueueRetryCommand: AsyncParsableCommand, KioskctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Make an item (or all) due now; kioskd sends it within seconds (its idle poll)."
    ).compactUsage("kioskctl queue retry [<id>] [<options>]")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var state: StateDirectoryOptions
    @Argument(help: "The item id (see kioskctl queue list).") var id: Int64?
    @Flag(help: "Retry every queued item.") var all = false

    func validate() throws {
        guard (id != nil) != all else { throw ValidationError("give an item ID or --all (not both)") }
    }

    mutating func run() async throws {
        let database = try await state.open(global)
        defer { database.close() }
        let changed = try await OutboxStore(database: database).retry(id: all ? nil : id)
        if global.json {
            JSONOutput.print(["retried": changed])
        } else {
            print(all ? "\(changed) item(s) due now" : "item \(id ?? 0) due now")
        }
    }
}

struct QueuePurgeCommand: AsyncParsableCommand, KioskctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Delete queued items (all, or those captured before a given age); each is journaled as purged."
    ).compactUsage("kioskctl queue purge [<options>]")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var state: StateDirectoryOptions
    @Option(
        name: .customLong("older-than"),
        help: ArgumentHelp(
            "Only items captured longer ago than this: 90s, 15m, 2h, 7d.", valueName: "duration"))
    var olderThan: String?

    func validate() throws {
        if let olderThan, CLIFormat.parseDuration(olderThan) == nil {
            throw ValidationError("--older-than: '\(olderThan)' is not a duration like 90s, 15m, 2h or 7d")
        }
    }

    mutating func run() async throws {
        let database = try await state.open(global)
        defer { database.close() }
        let age = olderThan.flatMap(CLIFormat.parseDuration).map { Duration.milliseconds(Int64($0 * 1000)) }
        let removed = try await OutboxStore(database: database).purge(olderThan: age)
        if global.json {
            JSONOutput.print(["purged": removed])
        } else {
            print("\(removed) item(s) purged")
        }
    }
}

/// Formatting shared by the queue and events commands.
enum CLIFormat {
    static func time(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
    }

    static func bytes(_ n: Int) -> String {
        if n < 10_000 { return "\(n) B" }
        if n < 10_000_000 { return "\(n / 1000) kB" }
        return "\(n / 1_000_000) MB"
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 120 { return "\(s)s" }
        if s < 7200 { return "\(s / 60)m" }
        if s < 172_800 { return "\(s / 3600)h\(s % 3600 / 60 > 0 ? " \(s % 3600 / 60)m" : "")" }
        return "\(s / 86_400)d"
    }

    /// "90s", "15m", "2h", "7d", or plain seconds.
    static func parseDuration(_ text: String) -> Double? {
        let text = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        if let last = text.last, let unit = units[last], let value = Double(text.dropLast()), value >= 0 {
            return value * unit
        }
        if let value = Double(text), value >= 0 { return value }
        return nil
    }

    static func columns(_ values: [String], widths: [Int]) -> String {
        var line = ""
        for (i, value) in values.enumerated() {
            if i < widths.count, value.count < widths[i] {
                line += value + String(repeating: " ", count: widths[i] - value.count)
            } else {
                line += value + (i < values.count - 1 ? " " : "")
            }
        }
        return line
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // ISO 8601 with milliseconds, UTC: events a few ms apart stay distinguishable.
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(time(date))
        }
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

extension Duration {
    var secondsValue: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
