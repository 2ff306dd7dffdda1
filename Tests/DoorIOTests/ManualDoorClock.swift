// A manual clock for the door controller: time moves only when a test advances it.
import DoorIO
import Synchronization

/// Test clock: `now` stands still until `advance(by:)`, which wakes every sleeper whose time has
/// come, earliest first.
///
/// A sleeper is woken even if its task was cancelled meanwhile: that is the interleaving a real
/// clock produces when a sleep has already ended as its task is cancelled, and the one a
/// controller must survive (a stale timer's wake-up arriving after a newer pulse started).
final class ManualDoorClock: DoorClock {
    private struct State {
        var now: ContinuousClock.Instant
        var sleepers: [(deadline: ContinuousClock.Instant, wake: CheckedContinuation<Void, Never>)] = []
    }

    private let state: Mutex<State>

    init(start: ContinuousClock.Instant = .now) {
        state = Mutex(State(now: start))
    }

    var now: ContinuousClock.Instant { state.withLock { $0.now } }

    /// Sleepers not yet woken.
    var pending: Int { state.withLock { $0.sleepers.count } }

    func sleep(until deadline: ContinuousClock.Instant) async throws {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let due = state.withLock { state -> Bool in
                if deadline <= state.now { return true }
                state.sleepers.append((deadline, continuation))
                return false
            }
            if due { continuation.resume() }
        }
    }

    /// Moves time on by `duration` and wakes the sleepers that are due.
    func advance(by duration: Duration) {
        let due = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.now += duration
            let now = state.now
            let ready = state.sleepers.filter { $0.deadline <= now }.sorted { $0.deadline < $1.deadline }
            state.sleepers.removeAll { $0.deadline <= now }
            return ready.map(\.wake)
        }
        for continuation in due { continuation.resume() }
    }
}
