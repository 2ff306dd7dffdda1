// OutboxConfiguration: the outbox's state directory, key source, queue limits and journal retention.
import Foundation

/// Where the payload key comes from.
package enum OutboxKeySource: Sendable, Equatable {
    /// A file holding 32 bytes (raw, or 64 hex digits). It must not be readable by group or
    /// others (mode 0600 or stricter). With `generateIfMissing`, a missing file is created with
    /// fresh random bytes and mode 0600, so a new kiosk works on first start.
    case file(path: String, generateIfMissing: Bool)
    /// A systemd credential: `$CREDENTIALS_DIRECTORY/<name>` (`LoadCredential=` in the unit).
    case credential(name: String)
    /// No key: only metadata can be read (what `kioskctl queue status|list` needs). Enqueueing
    /// and draining throw `OutboxError.keyUnavailable`.
    case none
}

/// What to do when a new item would exceed a limit.
package enum OutboxFullPolicy: String, Sendable, Codable, CaseIterable {
    /// Drop the oldest items until the new one fits (the newest check-ins are the most useful).
    case dropOldest
    /// Keep what is queued and refuse the new item (`OutboxError.queueFull`).
    case refuseNew
}

/// Limits of the queue. Every item removed for a limit is counted and journaled.
package struct OutboxLimits: Sendable, Equatable, Codable {
    /// Maximum number of queued items. Default 5,000: a day of a busy door offline.
    package var maxItems: Int
    /// Maximum total sealed payload bytes. Default 256 MiB: ~5,000 crops of ~50 KB, small next
    /// to a typical 8–32 GB SD card, so the queue cannot starve the system of disk.
    package var maxBytes: Int
    /// Items captured longer ago than this are dropped (`expired`). Default 72 h: a check-in
    /// reported days late is of little use and the image should not be kept longer than needed.
    package var maxAge: Duration
    /// Policy when a limit of items or bytes is reached. Default `dropOldest`.
    package var fullPolicy: OutboxFullPolicy

    package init(
        maxItems: Int = 5_000, maxBytes: Int = 256 << 20, maxAge: Duration = .seconds(72 * 3600),
        fullPolicy: OutboxFullPolicy = .dropOldest
    ) {
        self.maxItems = maxItems
        self.maxBytes = maxBytes
        self.maxAge = maxAge
        self.fullPolicy = fullPolicy
    }

    enum CodingKeys: String, CodingKey { case maxItems, maxBytes, maxAgeSeconds, fullPolicy }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxItems = try c.decode(Int.self, forKey: .maxItems)
        maxBytes = try c.decode(Int.self, forKey: .maxBytes)
        maxAge = .milliseconds(Int64((try c.decode(Double.self, forKey: .maxAgeSeconds) * 1000).rounded()))
        fullPolicy = try c.decode(OutboxFullPolicy.self, forKey: .fullPolicy)
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(maxItems, forKey: .maxItems)
        try c.encode(maxBytes, forKey: .maxBytes)
        try c.encode(maxAge.seconds, forKey: .maxAgeSeconds)  // seconds: readable in `--json`
        try c.encode(fullPolicy, forKey: .fullPolicy)
    }
}

/// How long the event journal keeps records. The older of the two bounds wins.
package struct JournalRetention: Sendable, Equatable, Codable {
    /// Maximum number of records. Default 200,000 (a few tens of MB of small JSON rows).
    package var maxRows: Int
    /// Records older than this are removed. Default 90 days, a common audit horizon.
    package var maxAge: Duration

    package init(maxRows: Int = 200_000, maxAge: Duration = .seconds(90 * 86_400)) {
        self.maxRows = maxRows
        self.maxAge = maxAge
    }
}

/// Configuration of the outbox database, read once at start.
package struct OutboxConfiguration: Sendable {
    /// The state directory, default `/var/lib/kiosk-agent` (systemd `StateDirectory=`).
    package var stateDirectory: String
    /// The database file name inside the state directory. Default `outbox.sqlite`.
    package var databaseFileName: String
    /// Where the payload key comes from. Default: `outbox.key` in the state directory, generated
    /// on first start.
    package var key: OutboxKeySource
    /// Queue limits and the policy when full.
    package var limits: OutboxLimits
    /// How long the journal keeps records.
    package var journalRetention: JournalRetention
    /// Create the state directory and database when missing. The daemon does; `kioskctl` does
    /// not (it reports `databaseMissing` instead of creating an empty queue in the wrong place).
    package var createIfMissing: Bool
    /// Move a corrupt database aside and start a new one. Only the daemon (the file's owner)
    /// should: `kioskctl` reports the corruption instead of pulling the file from under kioskd.
    package var recoverCorruption: Bool
    /// How long a connection waits for another process's write lock before failing. Default
    /// 5 s: writes here take milliseconds, so a longer wait means something is stuck.
    package var busyTimeout: Duration
    /// How often a storage that failed (or a database that could not be opened at start) is
    /// tried again, at most: a dead card costs one attempt per interval. Default 5 s.
    package var reopenInterval: Duration = .seconds(5)
    /// Test hook: caps the database size in pages (SQLite `max_page_count`) so a full disk can
    /// be produced without filling a file system. `nil` in production.
    package var maxPageCount: Int?

    /// The default state directory of the service.
    package static let defaultStateDirectory = "/var/lib/kiosk-agent"

    package init(
        stateDirectory: String = OutboxConfiguration.defaultStateDirectory,
        databaseFileName: String = "outbox.sqlite",
        key: OutboxKeySource? = nil,
        limits: OutboxLimits = OutboxLimits(),
        journalRetention: JournalRetention = JournalRetention(),
        createIfMissing: Bool = true,
        recoverCorruption: Bool = true,
        busyTimeout: Duration = .seconds(5),
        maxPageCount: Int? = nil
    ) {
        self.stateDirectory = stateDirectory
        self.databaseFileName = databaseFileName
        self.key = key ?? .file(path: stateDirectory + "/outbox.key", generateIfMissing: true)
        self.limits = limits
        self.journalRetention = journalRetention
        self.createIfMissing = createIfMissing
        self.recoverCorruption = recoverCorruption
        self.busyTimeout = busyTimeout
        self.maxPageCount = maxPageCount
    }

    /// The full path of the database file.
    package var databasePath: String { stateDirectory + "/" + databaseFileName }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// The duration in whole milliseconds (rounded down).
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}

extension Date {
    /// Milliseconds since 1970, the unit of every time column in the database.
    var unixMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

    init(unixMilliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(unixMilliseconds) / 1000)
    }
}
