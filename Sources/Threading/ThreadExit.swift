// ThreadExit: async callers wait for a dedicated thread to end without blocking the cooperative pool.
import Synchronization

/// Lets async callers wait for a thread to end without blocking a cooperative thread.
///
/// The thread calls ``signal()`` as its last act; ``wait()`` returns at once when that has
/// already happened, so a caller that comes late never hangs.
package final class ThreadExit: Sendable {
    private struct State: ~Copyable {
        var done = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    package init() {}

    /// The thread has ended: every waiter, present and future, goes on.
    package func signal() {
        let waiters = state.withLock { state in
            state.done = true
            let waiting = state.waiters
            state.waiters = []
            return waiting
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once ``signal()`` has been called.
    package func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state in
                if state.done { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
