// Wiegand pulse timing: the defaults, the ranges panels accept, and the lines' polarity.

/// How long each pulse lasts and how far apart pulses start, in microseconds.
///
/// The SIA AC-01 Wiegand interface (and the panels built to it) accepts pulses of 20-100 µs,
/// spaced 200 µs to 20 ms apart; the common reader default is 50 µs every 2 ms, so that is ours.
package struct WiegandTiming: Sendable, Hashable, Codable {
    /// Pulse width (the line held low for a bit), µs.
    package var pulseWidth: Int
    /// From the start of one pulse to the start of the next, µs.
    package var interval: Int

    /// The accepted pulse widths, µs.
    package static let pulseWidthRange = 20...100
    /// The accepted intervals, µs.
    package static let intervalRange = 200...20_000

    /// `pulseWidth` µs pulses, `interval` µs apart (defaults 50 µs, 2 ms).
    package init(pulseWidth: Int = 50, interval: Int = 2000) {
        self.pulseWidth = pulseWidth
        self.interval = interval
    }

    /// A frame of `bits` bits takes about this long.
    package func frameDuration(bits: Int) -> Duration {
        .microseconds(max(0, bits - 1) * interval + pulseWidth)
    }

    /// Range checks; the error names the configuration key.
    package func validate() throws(DoorIOError) {
        if !Self.pulseWidthRange.contains(pulseWidth) {
            throw .invalidConfiguration(
                key: "wiegand.pulse_width_us",
                reason: "\(pulseWidth) µs is outside \(Self.pulseWidthRange.lowerBound)-\(Self.pulseWidthRange.upperBound) µs (SIA AC-01)")
        }
        if !Self.intervalRange.contains(interval) {
            throw .invalidConfiguration(
                key: "wiegand.interval_us",
                reason: "\(interval) µs is outside \(Self.intervalRange.lowerBound)-\(Self.intervalRange.upperBound) µs (SIA AC-01)")
        }
        if interval < pulseWidth * 4 {
            throw .invalidConfiguration(
                key: "wiegand.interval_us", reason: "must be at least 4 × pulse_width_us so the panel sees the line idle between bits")
        }
    }
}

/// The two Wiegand data lines to a panel.
package struct WiegandLines: Sendable, Hashable, Codable {
    /// D0: a pulse on it sends a 0.
    package var d0: GPIOLineSelector
    /// D1: a pulse on it sends a 1.
    package var d1: GPIOLineSelector
    /// True (the standard): the lines idle high and pulse low.
    package var activeLow: Bool
    /// Pulse width and spacing.
    package var timing: WiegandTiming

    /// Lines `d0` and `d1`, idling high by default, with the default timing.
    package init(d0: GPIOLineSelector, d1: GPIOLineSelector, activeLow: Bool = true, timing: WiegandTiming = WiegandTiming()) {
        self.d0 = d0
        self.d1 = d1
        self.activeLow = activeLow
        self.timing = timing
    }
}
