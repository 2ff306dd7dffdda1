// BackoffPolicy: exponential backoff with jitter and a cap for one queued item's retries.
import Foundation

/// Exponential backoff with jitter and a cap, for one item's retries.
///
/// The n-th failed attempt waits `min(cap, base × multiplier^(n-1))`, of which the `jitter`
/// fraction is randomised ("equal jitter"): with jitter 0.5 the wait lies between half and all
/// of the computed delay. Jitter spreads retries of many kiosks that lost the same server at
/// the same moment, so they do not return in lock-step.
package struct BackoffPolicy: Sendable, Equatable {
    /// First delay. Default 2 s.
    package var base: Duration
    /// Growth per attempt. Default 2.
    package var multiplier: Double
    /// Longest delay. Default 10 min: a recovered server is used within minutes.
    package var cap: Duration
    /// Randomised fraction of the delay, 0...1. Default 0.5.
    package var jitter: Double

    package init(base: Duration = .seconds(2), multiplier: Double = 2, cap: Duration = .seconds(600), jitter: Double = 0.5) {
        self.base = base
        self.multiplier = max(1, multiplier)
        self.cap = cap
        self.jitter = min(1, max(0, jitter))
    }

    /// The delay before the next try after `attempts` failed attempts (1 = the first failure),
    /// with `random` in 0..<1.
    package func delay(afterAttempts attempts: Int, random: Double) -> Duration {
        let exponent = Double(max(0, attempts - 1))
        let raw = min(cap.seconds, base.seconds * pow(multiplier, min(exponent, 64)))
        let seconds = raw * (1 - jitter) + raw * jitter * min(1, max(0, random))
        return .microseconds(Int64((seconds * 1_000_000).rounded()))
    }
}
