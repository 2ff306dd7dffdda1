// Journal records: the event kinds, their stored record types and outcomes, and per-stage latencies.
package import Foundation

/// The kinds of journal records, as stored and as filtered by `kioskctl events --kind`.
package enum JournalKind: String, Sendable, Codable, CaseIterable {
    case decision
    case door
    case drop
    case lateOutcome = "late-outcome"
    case error
    case admin
    /// A check-in that may reach the server twice: a post got no answer and it is sent once more.
    case possibleDuplicate = "possible-duplicate"
}

/// One record for the event journal. The journal never holds images: no case carries pixels.
package enum JournalEvent: Sendable, Equatable {
    /// A check-in decision at the door.
    case decision(DecisionRecord)
    /// A door event (exit button, forced open, held open, tamper...).
    case door(DoorEventRecord)
    /// A queued item removed without being delivered (limit, age, purge) or a refused enqueue.
    case drop(DropRecord)
    /// The server's answer for a queued item, reported late (delivered, or a final refusal).
    case lateOutcome(LateOutcomeRecord)
    /// An error worth keeping (corrupt database moved aside, disk full, key problems...).
    case error(ErrorRecord)
    /// An operator action from `kioskctl` (retry, purge).
    case admin(AdminRecord)
    /// A post went out and got no answer, and the check-in will be posted once more: the server
    /// may record it twice (`outbox.ambiguous: retry`).
    case possibleDuplicate(PossibleDuplicateRecord)

    /// The kind under which the record is stored.
    package var kind: JournalKind {
        switch self {
        case .decision: .decision
        case .door: .door
        case .drop: .drop
        case .lateOutcome: .lateOutcome
        case .error: .error
        case .admin: .admin
        case .possibleDuplicate: .possibleDuplicate
        }
    }
}

/// A journal record as read back: its id, time and event.
package struct JournalEntry: Sendable, Equatable {
    /// Row id, increasing with time of writing.
    package var id: Int64
    /// When the event happened.
    package var time: Date
    /// What happened.
    package var event: JournalEvent
}

/// How a check-in at the door ended.
package enum DecisionOutcome: String, Sendable, Codable, CaseIterable {
    /// Recognised and allowed: the door opened.
    case granted
    /// Recognised but not allowed (status or similarity below the minimum).
    case denied
    /// The server found no match (404).
    case noMatch = "no-match"
    /// The server's conditions were not met (409).
    case conditionsNotMet = "conditions-not-met"
    /// The server was unreachable and the offline policy opened the door.
    case offlineGranted = "offline-granted"
    /// The server was unreachable and the offline policy kept the door shut (fail-secure).
    case offlineDenied = "offline-denied"
    /// The check-in failed for another reason (see `reason`).
    case failed
}

/// Time spent in each stage of one check-in. Stored in milliseconds.
package struct StageLatencies: Sendable, Equatable, Codable {
    package var capture: Duration?
    package var detect: Duration?
    package var select: Duration?
    package var encode: Duration?
    package var upload: Duration?
    package var decide: Duration?

    package init(
        capture: Duration? = nil, detect: Duration? = nil, select: Duration? = nil,
        encode: Duration? = nil, upload: Duration? = nil, decide: Duration? = nil
    ) {
        self.capture = capture
        self.detect = detect
        self.select = select
        self.encode = encode
        self.upload = upload
        self.decide = decide
    }

    enum CodingKeys: String, CodingKey { case capture, detect, select, encode, upload, decide }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func read(_ key: CodingKeys) throws -> Duration? {
            try c.decodeIfPresent(Double.self, forKey: key).map { .microseconds(Int64(($0 * 1000).rounded())) }
        }
        capture = try read(.capture)
        detect = try read(.detect)
        select = try read(.select)
        encode = try read(.encode)
        upload = try read(.upload)
        decide = try read(.decide)
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        // Milliseconds with microsecond resolution: readable in `kioskctl events --json`.
        func write(_ value: Duration?, _ key: CodingKeys) throws {
            guard let value else { return }
            try c.encode((value.seconds * 1_000_000).rounded() / 1000, forKey: key)
        }
        try write(capture, .capture)
        try write(detect, .detect)
        try write(select, .select)
        try write(encode, .encode)
        try write(upload, .upload)
        try write(decide, .decide)
    }
}

/// A check-in decision.
package struct DecisionRecord: Sendable, Equatable, Codable {
    package var outcome: DecisionOutcome
    /// The recognised user's id, when there is one.
    package var userID: String?
    /// The similarity the server reported, when there is one.
    package var similarity: Double?
    /// Why: the server's status, the policy rule, the error.
    package var reason: String?
    /// Time per stage.
    package var latencies: StageLatencies
    /// The outbox item id when the check-in was queued for later delivery.
    package var queuedItemID: Int64?
    /// `door.direction` (entry or exit) when the terminal is configured with one.
    package var direction: String?

    package init(
        outcome: DecisionOutcome, userID: String? = nil, similarity: Double? = nil, reason: String? = nil,
        latencies: StageLatencies = StageLatencies(), queuedItemID: Int64? = nil, direction: String? = nil
    ) {
        self.outcome = outcome
        self.userID = userID
        self.similarity = similarity
        self.reason = reason
        self.latencies = latencies
        self.queuedItemID = queuedItemID
        self.direction = direction
    }
}

/// A door event.
package struct DoorEventRecord: Sendable, Equatable, Codable {
    package enum Kind: String, Sendable, Codable, CaseIterable {
        case exitButton = "exit-button"
        case forcedOpen = "forced-open"
        case heldOpen = "held-open"
        case tamper
        case tamperCleared = "tamper-cleared"
        case opened
        case closed
        case relayPulse = "relay-pulse"
        /// A credential went to the access-control panel (Wiegand, or OSDP's osdp_RAW).
        case credentialSent = "credential-sent"
        /// The turnstile controller reported a person through.
        case passage
        /// A second face came into view while a turnstile grant was open.
        case tailgating
        /// The OSDP control panel started polling this reader, or stopped (no poll for 8 s).
        case panelOnline = "panel-online"
        case panelOffline = "panel-offline"
        /// The OSDP Secure Channel came up, or an attempt failed (the detail says why).
        case secureChannel = "secure-channel"
        case secureChannelFailed = "secure-channel-failed"
    }

    package var kind: Kind
    /// Extra context (duration held open, which input...).
    package var detail: String?

    package init(kind: Kind, detail: String? = nil) {
        self.kind = kind
        self.detail = detail
    }
}

/// Why a queued item left the queue without being delivered.
package enum DropReason: String, Sendable, Codable, CaseIterable {
    /// Older than the maximum age.
    case expired
    /// Removed to make room under the item limit (`dropOldest`).
    case itemLimit = "item-limit"
    /// Removed to make room under the byte limit (`dropOldest`).
    case byteLimit = "byte-limit"
    /// A new item refused because the queue was full (`refuseNew`) or too large.
    case refused
    /// Removed by an operator (`kioskctl queue purge`).
    case purged
    /// A post went out and got no answer; it is not sent again (`outbox.ambiguous: give_up`, or
    /// a second post without an answer). The server has it once or not at all.
    case ambiguous
}

/// A dropped item (metadata only).
package struct DropRecord: Sendable, Equatable, Codable {
    package var reason: DropReason
    /// The item's id; nil for a refused item, which never got one.
    package var itemID: Int64?
    package var uuid: String?
    package var capturedAt: Date?
    package var attempts: Int
    package var lastError: String?
    /// For refusals: which limit.
    package var detail: String?

    package init(
        reason: DropReason, itemID: Int64? = nil, uuid: String? = nil, capturedAt: Date? = nil,
        attempts: Int = 0, lastError: String? = nil, detail: String? = nil
    ) {
        self.reason = reason
        self.itemID = itemID
        self.uuid = uuid
        self.capturedAt = capturedAt
        self.attempts = attempts
        self.lastError = lastError
        self.detail = detail
    }
}

/// The server's late answer for a queued item.
package struct LateOutcomeRecord: Sendable, Equatable, Codable {
    package var itemID: Int64
    package var uuid: String
    package var capturedAt: Date
    /// Attempts including the one that got this answer.
    package var attempts: Int
    /// True when the server accepted the check-in; false for a final refusal (400/403/404/409).
    package var delivered: Bool
    /// HTTP status of the answer.
    package var status: Int
    package var userID: String?
    package var similarity: Double?
    /// A short human summary (status text, error reason).
    package var summary: String

    package init(
        itemID: Int64, uuid: String, capturedAt: Date, attempts: Int, delivered: Bool, status: Int,
        userID: String? = nil, similarity: Double? = nil, summary: String
    ) {
        self.itemID = itemID
        self.uuid = uuid
        self.capturedAt = capturedAt
        self.attempts = attempts
        self.delivered = delivered
        self.status = status
        self.userID = userID
        self.similarity = similarity
        self.summary = summary
    }
}

/// A check-in whose post got no answer and that will be posted once more (metadata only).
package struct PossibleDuplicateRecord: Sendable, Equatable, Codable {
    /// The queued item's id; nil when the live check-in could not be queued.
    package var itemID: Int64?
    package var uuid: String?
    package var capturedAt: Date?
    /// Posts so far, including the one without an answer.
    package var attempts: Int
    /// What happened to the post (timeout, connection closed...).
    package var reason: String

    package init(itemID: Int64? = nil, uuid: String? = nil, capturedAt: Date? = nil, attempts: Int, reason: String) {
        self.itemID = itemID
        self.uuid = uuid
        self.capturedAt = capturedAt
        self.attempts = attempts
        self.reason = reason
    }
}

/// An error kept in the journal.
package struct ErrorRecord: Sendable, Equatable, Codable {
    /// Which part: "outbox", "camera", "api"...
    package var component: String
    package var message: String

    package init(component: String, message: String) {
        self.component = component
        self.message = message
    }
}

/// An operator action.
package struct AdminRecord: Sendable, Equatable, Codable {
    /// "retry", "purge"...
    package var action: String
    package var detail: String

    package init(action: String, detail: String) {
        self.action = action
        self.detail = detail
    }
}

extension JournalEvent {
    /// The JSON body stored in the `journal.body` column.
    func encodedBody() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .millisecondsSince1970
        let data: Data
        switch self {
        case let .decision(r): data = try encoder.encode(r)
        case let .door(r): data = try encoder.encode(r)
        case let .drop(r): data = try encoder.encode(r)
        case let .lateOutcome(r): data = try encoder.encode(r)
        case let .error(r): data = try encoder.encode(r)
        case let .admin(r): data = try encoder.encode(r)
        case let .possibleDuplicate(r): data = try encoder.encode(r)
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Rebuilds an event from its stored kind and body; nil for a kind this version does not know.
    static func decode(kind: String, body: String) -> JournalEvent? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        let data = Data(body.utf8)
        guard let kind = JournalKind(rawValue: kind) else { return nil }
        do {
            switch kind {
            case .decision: return .decision(try decoder.decode(DecisionRecord.self, from: data))
            case .door: return .door(try decoder.decode(DoorEventRecord.self, from: data))
            case .drop: return .drop(try decoder.decode(DropRecord.self, from: data))
            case .lateOutcome: return .lateOutcome(try decoder.decode(LateOutcomeRecord.self, from: data))
            case .error: return .error(try decoder.decode(ErrorRecord.self, from: data))
            case .admin: return .admin(try decoder.decode(AdminRecord.self, from: data))
            case .possibleDuplicate: return .possibleDuplicate(try decoder.decode(PossibleDuplicateRecord.self, from: data))
            }
        } catch {
            return nil
        }
    }
}
