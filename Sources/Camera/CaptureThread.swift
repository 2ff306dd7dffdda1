// CaptureThread: the capture threads' stoppable sleep, their stop flag and a locked value.
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Blocking capture work runs on a dedicated OS thread (`DedicatedThread`), never on Swift's
/// cooperative pool (a blocked `poll`/`VIDIOC_DQBUF` there would starve every other task).
enum CaptureThread {
    /// Sleeps in short steps so a stop request is noticed quickly.
    static func sleep(_ duration: Duration, unless stop: borrowing Atomic<Bool>) {
        var remaining = duration
        let step = Duration.milliseconds(50)
        while remaining > .zero && !stop.load(ordering: .acquiring) {
            let slice = min(step, remaining)
            let (seconds, attoseconds) = slice.components
            var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
            nanosleep(&request, nil)
            remaining -= slice
        }
    }
}

/// A stop flag shared between a stream's termination handler and its capture thread.
final class StopFlag: Sendable {
    let flag = Atomic<Bool>(false)
    func stop() { flag.store(true, ordering: .releasing) }
    var isStopped: Bool { flag.load(ordering: .acquiring) }
}

/// A value behind a lock, shareable across threads.
final class LockedValue<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>
    init(_ value: Value) { storage = Mutex(value) }
    var value: Value {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}
