// CaptureThread: blocking capture on its own OS thread, off Swift's pool; a stop flag and a locked value.
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking capture work on a dedicated OS thread, never on Swift's cooperative pool
/// (a blocked `poll`/`VIDIOC_DQBUF` there would starve every other task).
enum CaptureThread {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Starts `body` on a new detached thread. Returns false if the system refused a thread.
    static func start(_ body: @escaping @Sendable () -> Void) -> Bool {
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(
            &thread, nil,
            { argument in
                guard let argument else { return nil }
                Unmanaged<Body>.fromOpaque(argument).takeRetainedValue().run()
                return nil
            }, box)
        guard rc == 0 else {
            Unmanaged<Body>.fromOpaque(box).release()
            return false
        }
        pthread_detach(thread)
        return true
    }

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
