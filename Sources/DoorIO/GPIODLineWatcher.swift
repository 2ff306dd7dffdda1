// Edge monitoring on a dedicated thread: poll(2) on the line event fds plus a stop pipe.
import CGPIOD
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Watches input lines for both edges on its own thread (never on Swift's cooperative pool,
/// because waiting for an edge blocks for as long as nobody touches the door).
///
/// Lines are keyed by any string (the door's role names, or line names for `kioskctl gpio watch`).
/// Edges are not debounced here: the door logic debounces on its own clock.
public final class GPIODLineWatcher: Sendable {
    /// A report from the watching thread.
    public enum Report: Sendable, Hashable {
        /// A line changed: `active` is its new logical level (active-low applied by the kernel).
        case edge(String, active: Bool, at: ContinuousClock.Instant)
        /// Watching stopped on an error; the stream finishes after this.
        case failure(DoorIOError)
    }

    /// The logical level of each line when watching began.
    public let initialLevels: [String: Bool]
    /// Edges in order; finishes after `stop()` or a failure.
    public let edges: AsyncStream<Report>
    /// The chip's kernel name, for messages.
    public let chipName: String

    private let stopWriteFD: Int32
    private let exit: ThreadExit
    private let stopped = Mutex(false)

    /// Requests each line for both-edge events and starts the watching thread.
    public init(chip chipText: String, lines: [String: GPIOInputLine], consumer: String) throws(DoorIOError) {
        let chip = try GPIODChip(lookup: chipText)
        chipName = chip.name
        let keys = lines.keys.sorted()
        var watched: [(key: String, fd: Int32)] = []
        var levels: [String: Bool] = [:]
        do throws(DoorIOError) {
            try chip.withHandle("request inputs") { handle throws(DoorIOError) in
                for key in keys {
                    guard let config = lines[key] else { continue }
                    let line = try chip.line(config.line, role: key, in: handle)
                    let flags = gpiodFlags(activeLow: config.activeLow, bias: config.bias)
                    if gpiod_line_request_both_edges_events_flags(line, consumer, flags) != 0 {
                        throw chip.requestError(line, role: key, selector: config.line, operation: "request for edge events", errno: errno)
                    }
                    let value = gpiod_line_get_value(line)
                    if value < 0 {
                        throw .lineOperationFailed(chip: chip.name, line: chip.describe(line, role: key, selector: config.line),
                                                   operation: "read initial value", errno: errno)
                    }
                    levels[key] = value == 1
                    watched.append((key, gpiod_line_event_get_fd(line)))
                }
            }
        } catch {
            chip.close()
            throw error
        }
        initialLevels = levels

        var pipeFDs: [Int32] = [-1, -1]
        if pipe(&pipeFDs) != 0 {
            let code = errno
            chip.close()
            throw .monitorFailed(chip: chip.name, operation: "create stop pipe", errno: code)
        }
        // Not inherited by programs the daemon might start.
        _ = fcntl(pipeFDs[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipeFDs[1], F_SETFD, FD_CLOEXEC)
        stopWriteFD = pipeFDs[1]
        let (stream, continuation) = AsyncStream.makeStream(of: Report.self, bufferingPolicy: .bufferingNewest(1024))
        edges = stream
        exit = ThreadExit()

        let work = WatchLoop(chip: chip, watched: watched, stopReadFD: pipeFDs[0], continuation: continuation, exit: exit)
        if let code = DedicatedThread.start(work.run) {
            work.finish(failure: .monitorFailed(chip: chip.name, operation: "start watching thread", errno: code))
            close(pipeFDs[1])
            throw .monitorFailed(chip: chip.name, operation: "start watching thread", errno: code)
        }
    }

    /// Stops the thread and releases the lines; returns once they are released.
    public func stop() async {
        let first = stopped.withLock { done in
            defer { done = true }
            return !done
        }
        if first {
            var byte: UInt8 = 1
            _ = write(stopWriteFD, &byte, 1)
        }
        await exit.wait()
    }

    // Closing the write end wakes the thread with POLLHUP, so a watcher dropped without `stop()`
    // still ends its thread and releases its lines.
    deinit { close(stopWriteFD) }
}

/// The thread's state: owned by the thread alone once it runs.
private final class WatchLoop: @unchecked Sendable {
    // @unchecked: created on the caller's thread, then used only by the watching thread.
    let chip: GPIODChip
    let watched: [(key: String, fd: Int32)]
    let stopReadFD: Int32
    let continuation: AsyncStream<GPIODLineWatcher.Report>.Continuation
    let exit: ThreadExit

    init(chip: GPIODChip, watched: [(key: String, fd: Int32)], stopReadFD: Int32,
         continuation: AsyncStream<GPIODLineWatcher.Report>.Continuation, exit: ThreadExit) {
        self.chip = chip
        self.watched = watched
        self.stopReadFD = stopReadFD
        self.continuation = continuation
        self.exit = exit
    }

    func run() {
        var fds = watched.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        fds.append(pollfd(fd: stopReadFD, events: Int16(POLLIN), revents: 0))
        let stopIndex = fds.count - 1
        let bad = Int16(POLLERR | POLLHUP | POLLNVAL)
        var failure: DoorIOError?
        loop: while true {
            let ready = poll(&fds, nfds_t(fds.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                failure = .monitorFailed(chip: chip.name, operation: "poll", errno: errno)
                break
            }
            if fds[stopIndex].revents != 0 { break }
            for index in 0..<stopIndex where fds[index].revents != 0 {
                if fds[index].revents & bad != 0 {
                    failure = .monitorFailed(chip: chip.name, operation: "poll \(watched[index].key) (line fd error)", errno: EIO)
                    break loop
                }
                var event = gpiod_line_event()
                if gpiod_line_event_read_fd(fds[index].fd, &event) != 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    failure = .monitorFailed(chip: chip.name, operation: "read event for \(watched[index].key)", errno: errno)
                    break loop
                }
                let active = event.event_type == Int32(GPIOD_LINE_EVENT_RISING_EDGE)
                continuation.yield(.edge(watched[index].key, active: active, at: .now))
            }
        }
        finish(failure: failure)
    }

    /// Releases the lines, ends the stream and wakes whoever waits in `stop()`.
    func finish(failure: DoorIOError?) {
        chip.close()
        close(stopReadFD)
        if let failure { continuation.yield(.failure(failure)) }
        continuation.finish()
        exit.signal()
    }
}

/// Lets async callers wait for a thread to end without blocking a cooperative thread.
final class ThreadExit: Sendable {
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

/// Starts a detached POSIX thread running `body`.
enum DedicatedThread {
    private final class Box: @unchecked Sendable {
        // @unchecked: handed over to the new thread, never touched by the creator afterwards.
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Returns nil on success, or the error code from `pthread_create`.
    static func start(_ body: @escaping @Sendable () -> Void) -> Int32? {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let code = pthread_create(&thread, nil, { raw in
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
