// What the pipeline tells the door (signals) and what the door tells the pipeline (events).

/// An instruction from the pipeline. Signals return at once; their patterns run on the
/// controller's own clock.
package enum DoorSignal: Sendable, Hashable {
    /// Access granted: relay pulse (the configured one when `pulse` is nil), green LED, short beep.
    case granted(pulse: Duration? = nil)
    /// Access denied: red LED and a triple beep. `reason` is for the log and the console backend.
    case denied(reason: String)
    /// More than one face in view: red LED blinks, short beep, no decision.
    case onePersonAtATime
    /// A check-in is in progress: the idle LED blinks until the next signal.
    case checking
    /// Ready for the next person: idle LED steady, offline/fault cleared.
    case idle
    /// The API is unreachable and the offline policy applies: amber LED blinks until `idle`.
    case offline
    /// Something needs a technician (camera lost, configuration): amber LED steady until `idle`.
    case fault
}

/// Why the relay was energised.
package enum DoorOpenReason: String, Sendable, Hashable {
    /// A `granted` signal from the pipeline.
    case granted
    /// The request-to-exit button.
    case exitButton
}

/// Something that happened at the door.
package struct DoorEvent: Sendable, Hashable, CustomStringConvertible {
    /// What happened.
    package enum Kind: Sendable, Hashable {
        /// The relay was energised.
        case pulseStarted(reason: DoorOpenReason, length: Duration)
        /// The relay was de-energised; `early` when the door opening ended it.
        case pulseEnded(early: Bool)
        /// The door contact reported open; `authorised` when a grant or exit request covered it.
        case doorOpened(authorised: Bool)
        /// The door contact reported closed.
        case doorClosed
        /// The door opened without a grant or exit request (also reported as `doorOpened`).
        case forcedOpen
        /// The door stayed open longer than `heldOpenAlarmAfter`; the alarm runs until it closes.
        case heldOpen(after: Duration)
        /// The exit button was pressed (the door was opened locally).
        case exitButtonPressed
        /// The tamper switch changed: `active` means the enclosure is open.
        case tamper(active: Bool)
        /// Input monitoring stopped on an error: door inputs are no longer watched.
        case inputFailure(String)
        /// An output could not be driven (the message names the line and the error).
        case outputFailure(role: DoorOutputRole, message: String)
        /// A credential frame of `bits` bits went to the panel.
        case credentialSent(bits: Int)
        /// The turnstile controller reported a passage; `duringGrant` when a grant was open.
        case passage(duringGrant: Bool)
    }

    /// What happened.
    package var kind: Kind
    /// When it happened on the monotonic clock (for durations and ordering).
    package var instant: ContinuousClock.Instant

    /// An event of `kind` that happened at `instant`.
    package init(_ kind: Kind, at instant: ContinuousClock.Instant) {
        self.kind = kind
        self.instant = instant
    }

    package var description: String {
        switch kind {
        case .pulseStarted(let reason, let length): "relay pulse started (\(reason.rawValue), \(length.doorIOText))"
        case .pulseEnded(let early): early ? "relay pulse ended early (door opened)" : "relay pulse ended"
        case .doorOpened(let authorised): authorised ? "door opened" : "door opened without authorisation"
        case .doorClosed: "door closed"
        case .forcedOpen: "door forced open"
        case .heldOpen(let after): "door held open longer than \(after.doorIOText)"
        case .exitButtonPressed: "exit button pressed"
        case .tamper(let active): active ? "tamper switch active (enclosure open)" : "tamper switch cleared"
        case .inputFailure(let message): "input monitoring failed: \(message)"
        case .outputFailure(let role, let message): "output \(role.rawValue) failed: \(message)"
        case .credentialSent(let bits): "\(bits)-bit credential sent to the panel"
        case .passage(let duringGrant): duringGrant ? "passage (grant used)" : "passage without a grant"
        }
    }
}

extension Duration {
    /// "3 s", "500 ms": how door durations are printed.
    var doorIOText: String {
        let ms = milliseconds
        if ms % 1000 == 0 { return "\(ms / 1000) s" }
        return "\(ms) ms"
    }

    /// Whole milliseconds (rounded toward zero).
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
