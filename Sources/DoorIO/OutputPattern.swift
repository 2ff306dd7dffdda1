// How an output is driven over time: steady, blinking, or a one-shot sequence of beeps.

/// A time pattern for one output line.
enum OutputPattern: Sendable, Hashable {
    /// Inactive.
    case off
    /// Active, steady.
    case on
    /// Repeats on/off until replaced.
    case blink(on: Duration, off: Duration)
    /// Plays steps of (level, how long) once, then stays off.
    case once([Step])

    struct Step: Sendable, Hashable {
        var active: Bool
        var duration: Duration
    }

    /// A short beep: "accepted".
    static let shortBeep = once([Step(active: true, duration: .milliseconds(150))])
    /// A long beep.
    static let longBeep = once([Step(active: true, duration: .milliseconds(800))])
    /// Three short beeps: "denied".
    static let tripleBeep = once([
        Step(active: true, duration: .milliseconds(120)), Step(active: false, duration: .milliseconds(120)),
        Step(active: true, duration: .milliseconds(120)), Step(active: false, duration: .milliseconds(120)),
        Step(active: true, duration: .milliseconds(120)),
    ])
    /// Alarm: half a second on, half a second off, until cleared.
    static let alarm = blink(on: .milliseconds(500), off: .milliseconds(500))
    /// Slow blink: offline.
    static let slowBlink = blink(on: .milliseconds(500), off: .milliseconds(500))
    /// Fast blink: attention (one person at a time, check-in in progress, alarm on the red LED).
    static let fastBlink = blink(on: .milliseconds(150), off: .milliseconds(150))

    /// True for patterns that keep running until replaced (re-applying them must not restart them).
    var isPersistent: Bool {
        if case .once = self { return false }
        return true
    }
}
