/// Decides when a new check-in may start, so one person standing at the door is checked in
/// once. Pure and clock-free: every call passes the time.
///
/// Rules (docs/KIOSKD.md): after a decision the gate is closed. It opens again when the scene
/// has been empty for `absenceToReset` (the person left), or, after a denial only, when
/// `cooldown` has passed (a second chance with a better frame). A granted person who stays in
/// view is never checked in twice.
package struct PresenceGate: Sendable, Equatable {
    package enum State: Sendable, Equatable {
        /// Ready for the next person.
        case open
        /// A decision was made at `decidedAt`; `granted` says which kind.
        case closed(decidedAt: ContinuousClock.Instant, granted: Bool)
    }

    package private(set) var state: State = .open
    package private(set) var lastFaceSeen: ContinuousClock.Instant?
    package var cooldown: Duration
    package var absenceToReset: Duration

    package init(cooldown: Duration, absenceToReset: Duration) {
        self.cooldown = cooldown
        self.absenceToReset = absenceToReset
    }

    /// Feeds one frame's observation; returns whether a check-in may start now.
    package mutating func observe(faceInView: Bool, at now: ContinuousClock.Instant) -> Bool {
        if faceInView { lastFaceSeen = now }
        guard case .closed(let decidedAt, let granted) = state else { return true }
        // The scene must have been empty for a while *after* the decision, not before it.
        let emptyFrom = max(lastFaceSeen ?? decidedAt, decidedAt)
        let personLeft = !faceInView && now - emptyFrom >= absenceToReset
        if personLeft || (!granted && now - decidedAt >= cooldown) {
            state = .open
            return true
        }
        return false
    }

    /// Records a decision: the gate closes.
    package mutating func decided(granted: Bool, at now: ContinuousClock.Instant) {
        state = .closed(decidedAt: now, granted: granted)
    }

    /// Whether a check-in may start (without feeding a frame).
    package var isOpen: Bool { state == .open }
}
