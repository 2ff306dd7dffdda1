// Which credential a decision sends to the panel: user id with facility code, or the lookup file's card.
package import DoorIO
import Foundation
package import Logging
import Synchronization

/// Turns a decision into the credential sent to the panel (`panel.credential`,
/// `panel.send_denied`), or says why nothing is sent.
package struct CredentialMapper: Sendable, Equatable {
    package enum Source: Sendable, Equatable {
        /// The user id is the card number.
        case userID
        /// Card numbers from the lookup file.
        case table(CardTable)
    }

    package var format: WiegandFormat
    package var facility: UInt64
    package var source: Source
    /// The card sent for a denied face; nil sends nothing.
    package var deniedCard: UInt64?

    package init(format: WiegandFormat, facility: UInt64, source: Source, deniedCard: UInt64?) {
        self.format = format
        self.facility = facility
        self.source = source
        self.deniedCard = deniedCard
    }

    /// The mapper `panel.*` describes, reading the lookup file when there is one.
    package init(settings: PanelSettings) throws(CardTableError) {
        guard let format = settings.wiegandFormat else {
            throw CardTableError(path: "panel.format", line: nil, message: "'\(settings.format)' is not a format")
        }
        self.format = format
        facility = format.facilityBits == 0 ? 0 : UInt64(settings.facilityCode)
        switch settings.credential {
        case .userID: source = .userID
        case .lookup: source = .table(try CardTable.load(path: settings.lookupFile, format: format))
        }
        deniedCard = (try? settings.deniedCard().get()) ?? nil
    }

    /// What to send for a decision.
    package enum Outcome: Sendable, Equatable {
        /// Send this credential.
        case send(WiegandCredential)
        /// Send nothing; `reason` says why (nil: nothing is sent for such decisions by design).
        case nothing(reason: String?)
    }

    package func credential(for decision: Decision) -> Outcome {
        guard decision.granted else {
            guard let deniedCard else { return .nothing(reason: nil) }
            return .send(WiegandCredential(facility: facility, card: deniedCard))
        }
        guard let user = decision.userID else {
            return .nothing(reason: "granted without a user id (\(decision.reason.rawValue)): no card number to send")
        }
        let card: UInt64
        switch source {
        case .userID:
            guard user >= 0, UInt64(user) <= format.maxCard else {
                return .nothing(
                    reason: "user \(user) does not fit \(format) card numbers (0-\(format.maxCard)); use panel.credential: lookup")
            }
            card = UInt64(user)
        case .table(let table):
            guard let found = table.cards[user] else {
                return .nothing(reason: "user \(user) has no card in panel.lookup_file")
            }
            card = found
        }
        return .send(WiegandCredential(facility: facility, card: card))
    }
}

/// The running ``CredentialMapper`` of a panel door (Wiegand or OSDP), replaced whole on SIGHUP.
package final class PanelCredentials: Sendable {
    private let mapper: Mutex<CredentialMapper>
    private let logger: Logger

    package init(_ mapper: CredentialMapper, logger: Logger) {
        self.mapper = Mutex(mapper)
        self.logger = logger
    }

    /// The credential to send for `decision` and its format, or nil when nothing is sent (the
    /// reason, if it is one the installer must hear, is logged).
    package func credential(for decision: Decision) -> (credential: WiegandCredential, format: WiegandFormat)? {
        let mapper = self.mapper.withLock { $0 }
        switch mapper.credential(for: decision) {
        case .nothing(let reason?):
            logger.warning("nothing sent to the panel: \(reason)")
            return nil
        case .nothing(nil):
            return nil
        case .send(let credential):
            return (credential, mapper.format)
        }
    }

    /// Re-reads `panel.*` (the lookup file) on SIGHUP; on an error the running mapping stays.
    package func reload(_ settings: PanelSettings) throws(CardTableError) {
        let fresh = try CredentialMapper(settings: settings)
        mapper.withLock { $0 = fresh }
        if case .table(let table) = fresh.source {
            logger.notice("panel lookup file reloaded", metadata: ["panel.cards": "\(table.cards.count)"])
        }
    }
}
