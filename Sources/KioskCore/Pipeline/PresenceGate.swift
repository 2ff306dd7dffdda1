/// Decides when a new check-in may start, so one person standing at the door is checked in
/// once. Pure and clock-free: every call passes the time.
///
/// Rules (docs/KIOSKD.md): after a decision the gate is closed. It opens again when the scene
/// has been empty for `absenceToReset` (the person left), or, after a denial only, when
/// `cooldown` has passed (a second chance with a better frame). A granted person who stays in
/// view is never checked in twice.
public struct PresenceGate: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        /// Ready for the next person.
        case open
        /// A decision was made at `decidedAt`; `granted` says which kind.
        case closed(decidedAt: ContinuousClock.Instant, granted: Bool)
    }

    public private(set) var state: State = .open
    public private(set) var lastFaceSeen: ContinuousClock.Instant?
    public var cooldown: Duration
    public var absenceToReset: Duration

    public init(cooldown: Duration, absenceToReset: Duration) {
        self.cooldown = cooldown
        self.absenceToReset = absenceToReset
    }

    /// Feeds one frame's observation; returns whether a check-in may start now.
    public mutating func observe(faceInView: Bool, at now: ContinuousClock.Instant) -> Bool {
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
    public mutating func decided(granted: Bool, at now: ContinuousClock.Instant) {
        state = .closed(decidedAt: now, granted: granted)
    }

    /// Whether a check-in may start (without feeding a frame).
    public var isOpen: Bool { state == .open }
}
