// The line's own POSIX thread (blocking poll/read never run on Swift's cooperative pool) and a way to await its end.
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Lets async callers wait for a thread to end without blocking a cooperative thread.
final class OSDPThreadExit: Sendable {
    private struct State: ~Copyable {
        var done = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    func signal() {
        let waiters = state.withLock { state in
            state.done = true
            let waiting = state.waiters
            state.waiters = []
            return waiting
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
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

/// Starts a detached POSIX thread.
enum OSDPDedicatedThread {
    private final class Box: @unchecked Sendable {
        // @unchecked: handed over to the new thread, never touched by the creator afterwards.
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Returns nil on success, or the error code from `pthread_create`.
    static func start(_ body: @escaping @Sendable () -> Void) -> Int32? {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let code = pthread_create(
            &thread, nil,
            { raw in
                guard let raw else { return nil }
                let box = Unmanaged<Box>.fromOpaque(raw).takeRetainedValue()
                box.body()
                return nil
            }, box)
        if code != 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            return code
        }
        pthread_detach(thread)
        return nil
    }
}
