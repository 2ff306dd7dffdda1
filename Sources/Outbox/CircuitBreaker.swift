// CircuitBreaker: stops the drainer calling a failing server for a while, then lets one probe through.
package import Foundation

/// A circuit breaker for the drainer: after repeated retryable failures it stops calling the
/// server for a while, then lets one probe through.
///
/// - `closed`: requests flow; consecutive retryable failures are counted.
/// - `open`: after `failureThreshold` failures in a row, nothing is sent until `probeAt`.
/// - `halfOpen`: at `probeAt` one request is a probe. Success (any answer from the server,
///   even a final refusal) closes the breaker; failure opens it again for twice as long, up to
///   `maxOpenDuration`.
///
/// A value type driven by explicit times, so tests step it with an injected clock.
package struct CircuitBreaker: Sendable, Equatable {
    package enum State: Sendable, Equatable {
        case closed
        case open(probeAt: Date)
        case halfOpen

        /// "closed", "open" or "half-open".
        package var name: String {
            switch self {
            case .closed: "closed"
            case .open: "open"
            case .halfOpen: "half-open"
            }
        }
    }

    /// Failures in a row that open the breaker. Default 5.
    package var failureThreshold: Int
    /// First open period. Default 30 s.
    package var openDuration: Duration
    /// Longest open period after repeated failed probes. Default 5 min.
    package var maxOpenDuration: Duration

    package private(set) var state: State = .closed
    package private(set) var consecutiveFailures = 0
    private var currentOpenDuration: Duration

    package init(failureThreshold: Int = 5, openDuration: Duration = .seconds(30), maxOpenDuration: Duration = .seconds(300)) {
        self.failureThreshold = max(1, failureThreshold)
        self.openDuration = openDuration
        self.maxOpenDuration = max(openDuration, maxOpenDuration)
        self.currentOpenDuration = openDuration
    }

    /// Whether a request may go out at `now`; moves `open` to `halfOpen` when the probe is due.
    package mutating func allowsRequest(at now: Date) -> Bool {
        switch state {
        case .closed, .halfOpen:
            return true
        case let .open(probeAt):
            guard now >= probeAt else { return false }
            state = .halfOpen
            return true
        }
    }

    /// The server answered (delivered or final): close and reset.
    package mutating func recordSuccess() {
        state = .closed
        consecutiveFailures = 0
        currentOpenDuration = openDuration
    }

    /// A retryable failure at `now`.
    package mutating func recordFailure(at now: Date) {
        consecutiveFailures += 1
        switch state {
        case .halfOpen:
            // The probe failed: stay away longer, up to the maximum.
            currentOpenDuration = min(maxOpenDuration, currentOpenDuration * 2)
            state = .open(probeAt: now + currentOpenDuration.seconds)
        case .closed:
            if consecutiveFailures >= failureThreshold {
                currentOpenDuration = openDuration
                state = .open(probeAt: now + openDuration.seconds)
            }
        case .open:
            break
        }
    }
}
