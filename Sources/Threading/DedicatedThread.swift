// DedicatedThread: a detached POSIX thread for loops that block in poll/read, off Swift's cooperative pool.
#if canImport(Glibc)
import Glibc
#endif

/// Starts a detached POSIX thread running a closure.
///
/// For loops that block in `poll(2)` or `read(2)` (camera capture, GPIO line events, Wiegand,
/// the OSDP serial line): on Swift's cooperative pool such a loop would hold one of its few
/// threads for good.
package enum DedicatedThread {
    private final class Box: @unchecked Sendable {
        // @unchecked: handed over to the new thread, never touched by the creator afterwards.
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Starts `body` on a new detached thread.
    /// - Returns: nil on success, or the error code from `pthread_create` (the thread did not start).
    package static func start(_ body: @escaping @Sendable () -> Void) -> Int32? {
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
