// Bounded: run a piece of work with a time limit, blocking C calls on a thread of their own.
import Dispatch
import Synchronization

/// Resumes a continuation exactly once: with whichever of the work and the timer ends first.
private final class FirstOf<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T?, Never>?>

    init(_ continuation: CheckedContinuation<T?, Never>) { self.continuation = Mutex(continuation) }

    func finish(_ value: T?) {
        let waiting = continuation.withLock { stored -> CheckedContinuation<T?, Never>? in
            let taken = stored
            stored = nil
            return taken
        }
        waiting?.resume(returning: value)
    }
}

/// Time limits for the doctor's checks. A check that hangs in a device or network call
/// (a wedged USB camera, a GPIO driver, a black-holed server) must not hold up the run: the
/// caller gets `nil` when the limit passes, and the late result is dropped.
enum Bounded {
    /// Runs blocking `work` on a serial queue of its own (libdispatch gives it a thread outside
    /// Swift's cooperative pool), or returns nil after `limit`.
    static func blocking<T: Sendable>(_ label: String, within limit: Duration, _ work: @escaping @Sendable () -> T) async -> T? {
        await withCheckedContinuation { continuation in
            let once = FirstOf(continuation)
            DispatchQueue(label: "kioskctl.doctor.\(label)").async { once.finish(work()) }
            DispatchQueue.global().asyncAfter(deadline: .now() + limit.secondsValue) { once.finish(nil) }
        }
    }

    /// Runs async `work` in a task, or cancels it and returns nil after `limit`.
    static func task<T: Sendable>(within limit: Duration, _ work: @escaping @Sendable () async -> T) async -> T? {
        await withCheckedContinuation { continuation in
            let once = FirstOf(continuation)
            let task = Task { once.finish(await work()) }
            DispatchQueue.global().asyncAfter(deadline: .now() + limit.secondsValue) {
                task.cancel()
                once.finish(nil)
            }
        }
    }
}
