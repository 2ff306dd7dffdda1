import Foundation
import Outbox

/// The offline queue and journal (`outbox.*`).
public struct OutboxSettings: Sendable, Equatable {
    public var stateDirectory = "/var/lib/kiosk-agent"
    public var maxItems = 1000
    public var maxBytes = 64 * 1024 * 1024
    public var maxAge: Duration = .seconds(7 * 86400)
    public enum WhenFull: String, Sendable, CaseIterable {
        case dropOldest = "drop_oldest"
        case refuseNew = "refuse_new"
    }
    public var whenFull: WhenFull = .dropOldest
    /// A check-in whose post went out and got no answer may be on the server already (the API
    /// has no idempotency key). `retry` posts it once more (journaled `possible-duplicate`);
    /// `give_up` journals it and never sends it again.
    public enum Ambiguous: String, Sendable, CaseIterable {
        case retry
        case giveUp = "give_up"
    }
    public var ambiguous: Ambiguous = .retry
    /// Key for encrypting queued images at rest; a relative name is looked up in
    /// `$CREDENTIALS_DIRECTORY` first.
    public var keyFile = "/etc/kiosk-agent/outbox.key"
    public var journalMaxRows = 100_000
    public var journalMaxAge: Duration = .seconds(90 * 86400)

    public init() {}
}

extension OutboxSettings: ConfigurationSection {
    static let name = "outbox"

    mutating func read(from keys: SectionReader) {
        keys.string("state_directory", &stateDirectory)
        keys.int("max_items", &maxItems, range: 1...1_000_000)
        keys.int("max_bytes", &maxBytes, range: 1024...(16 << 30))
        keys.duration("max_age", &maxAge)
        keys.choice("when_full", &whenFull)
        keys.choice("ambiguous", &ambiguous)
        keys.string("key_file", &keyFile)
        keys.int("journal_max_rows", &journalMaxRows, range: 100...100_000_000)
        keys.duration("journal_max_age", &journalMaxAge, max: .seconds(10 * 365 * 86400))
    }
}

extension OutboxSettings {
    /// `outbox.ambiguous` in the outbox module's terms.
    public var ambiguousDeliveryPolicy: AmbiguousDeliveryPolicy {
        ambiguous == .giveUp ? .giveUp : .retry
    }

    /// The queue and journal's configuration (`Outbox`). A key file named without a path that
    /// is not a systemd credential lives in the state directory and is made on first use.
    public func outboxConfiguration() -> OutboxConfiguration {
        let keyPath = KioskConfiguration.resolveSecretPath(keyFile)
        let key: OutboxKeySource
        if keyPath.contains("/") {
            key = .file(path: keyPath, generateIfMissing: false)
        } else {
            key = .file(path: stateDirectory + "/" + keyPath, generateIfMissing: true)
        }
        return OutboxConfiguration(
            stateDirectory: stateDirectory,
            key: key,
            limits: OutboxLimits(
                maxItems: maxItems, maxBytes: maxBytes, maxAge: maxAge,
                fullPolicy: whenFull == .refuseNew ? .refuseNew : .dropOldest),
            journalRetention: JournalRetention(maxRows: journalMaxRows, maxAge: journalMaxAge))
    }
}

extension KioskConfiguration {
    /// `outbox.ambiguous` in the outbox module's terms.
    public var ambiguousDeliveryPolicy: AmbiguousDeliveryPolicy { outbox.ambiguousDeliveryPolicy }

    /// `outbox.*` as the queue and journal's configuration.
    public func outboxConfiguration() -> OutboxConfiguration { outbox.outboxConfiguration() }
}
