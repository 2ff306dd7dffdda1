// `outbox.*`: the offline queue and journal's limits, key and retry policy, and the Outbox configuration.
import Foundation
package import Outbox

/// The offline queue and journal (`outbox.*`).
package struct OutboxSettings: Sendable, Equatable {
    package var stateDirectory = "/var/lib/kiosk-agent"
    package var maxItems = 1000
    package var maxBytes = 64 * 1024 * 1024
    package var maxAge: Duration = .seconds(7 * 86400)
    package enum WhenFull: String, Sendable, CaseIterable {
        case dropOldest = "drop_oldest"
        case refuseNew = "refuse_new"
    }
    package var whenFull: WhenFull = .dropOldest
    /// A check-in whose post went out and got no answer may be on the server already (the API
    /// has no idempotency key). `retry` posts it once more (journaled `possible-duplicate`);
    /// `give_up` journals it and never sends it again.
    package enum Ambiguous: String, Sendable, CaseIterable {
        case retry
        case giveUp = "give_up"
    }
    package var ambiguous: Ambiguous = .retry
    /// Key for encrypting queued images at rest; a relative name is looked up in
    /// `$CREDENTIALS_DIRECTORY` first.
    package var keyFile = "/etc/kiosk-agent/outbox.key"
    package var journalMaxRows = 100_000
    package var journalMaxAge: Duration = .seconds(90 * 86400)

    package init() {}
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
    package var ambiguousDeliveryPolicy: AmbiguousDeliveryPolicy {
        ambiguous == .giveUp ? .giveUp : .retry
    }

    /// The queue and journal's configuration (`Outbox`). A key file named without a path that
    /// is not a systemd credential lives in the state directory and is made on first use.
    package func outboxConfiguration() -> OutboxConfiguration {
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
    package var ambiguousDeliveryPolicy: AmbiguousDeliveryPolicy { outbox.ambiguousDeliveryPolicy }

    /// `outbox.*` as the queue and journal's configuration.
    package func outboxConfiguration() -> OutboxConfiguration { outbox.outboxConfiguration() }
}
