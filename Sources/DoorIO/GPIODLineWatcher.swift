// Edge monitoring on a dedicated thread: poll(2) on the line event fds plus a stop pipe.
import CGPIOD
import Synchronization
import SystemPackage
import Threading

#if canImport(Glibc)
import Glibc
#endif

/// Watches input lines for both edges on its own thread (never on Swift's cooperative pool,
/// because waiting for an edge blocks for as long as nobody touches the door).
///
/// Lines are keyed by any string (the door's role names, or line names for `kioskctl gpio watch`).
/// Edges are not debounced here: the door logic debounces on its own clock.
package final class GPIODLineWatcher: Sendable {
    /// A report from the watching thread.
    package enum Report: Sendable, Hashable {
        /// A line changed: `active` is its new logical level (active-low applied by the kernel).
        case edge(String, active: Bool, at: ContinuousClock.Instant)
        /// Watching stopped on an error; the stream finishes after this.
        case failure(DoorIOError)
    }

    /// The logical level of each line when watching began.
    package let initialLevels: [String: Bool]
    /// Edges in order; finishes after `stop()` or a failure.
    package let edges: AsyncStream<Report>
    /// The chip's kernel name, for messages.
    package let chipName: String

    /// The stop pipe's write end; the watcher is its only owner.
    private let stopSignal: PipeEnd
    private let exit: ThreadExit
    private let stopped = Mutex(false)

    /// Requests each line for both-edge events and starts the watching thread.
    package init(chip chipText: String, lines: [String: GPIOInputLine], consumer: String) throws(DoorIOError) {
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
                        throw .lineOperationFailed(
                            chip: chip.name, line: chip.describe(line, role: key, selector: config.line),
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

        // Close-on-exec: not inherited by programs the daemon might start.
        let stopPipe: (readEnd: FileDescriptor, writeEnd: FileDescriptor)
        do {
            stopPipe = try FileDescriptor.pipe(options: .closeOnExec)
        } catch {
            chip.close()
            throw .monitorFailed(chip: chip.name, operation: "create stop pipe", errno: error.rawValue)
        }
        stopSignal = PipeEnd(stopPipe.writeEnd)
        let (stream, continuation) = AsyncStream.makeStream(of: Report.self, bufferingPolicy: .bufferingNewest(1024))
        edges = stream
        exit = ThreadExit()

        let work = WatchLoop(
            chip: chip, watched: watched, stopReader: PipeEnd(stopPipe.readEnd),
            continuation: continuation, exit: exit)
        if let code = DedicatedThread.start(work.run) {
            // The loop's end releases the lines; the write end closes with `stopSignal` as
            // this half-built watcher is destroyed.
            work.finish(failure: .monitorFailed(chip: chip.name, operation: "start watching thread", errno: code))
            throw .monitorFailed(chip: chip.name, operation: "start watching thread", errno: code)
        }
    }

    /// Stops the thread and releases the lines; returns once they are released.
    package func stop() async {
        let first = stopped.withLock { done in
            defer { done = true }
            return !done
        }
        if first {
            // One byte into an empty pipe: it cannot block, and if it failed the thread still
            // wakes with POLLHUP when the write end closes.
            _ = try? stopSignal.descriptor.writeAll(CollectionOfOne(UInt8(1)))
        }
        await exit.wait()
    }

    // No deinit: `stopSignal` closes the write end when the watcher goes away, which wakes the
    // thread with POLLHUP, so a watcher dropped without `stop()` still ends its thread and
    // releases its lines.
}

/// One end of the stop pipe, closed exactly once, by whoever holds it, when it goes away:
/// the write end by the watcher (also when its initializer throws), the read end by the loop.
private struct PipeEnd: ~Copyable, Sendable {
    let descriptor: FileDescriptor

    init(_ descriptor: FileDescriptor) { self.descriptor = descriptor }

    // Nothing to do about a failed close: the descriptor is released either way (Linux).
    deinit { try? descriptor.close() }
}

/// The thread's state: owned by the thread alone once it runs.
private final class WatchLoop: @unchecked Sendable {
    // @unchecked: created on the caller's thread, then used only by the watching thread.
    let chip: GPIODChip
    let watched: [(key: String, fd: Int32)]
    /// The stop pipe's read end; closed when the loop goes away (after `finish`).
    let stopReader: PipeEnd
    let continuation: AsyncStream<GPIODLineWatcher.Report>.Continuation
    let exit: ThreadExit

    init(
        chip: GPIODChip, watched: [(key: String, fd: Int32)], stopReader: consuming PipeEnd,
        continuation: AsyncStream<GPIODLineWatcher.Report>.Continuation, exit: ThreadExit
    ) {
        self.chip = chip
        self.watched = watched
        self.stopReader = stopReader
        self.continuation = continuation
        self.exit = exit
    }

    func run() {
        do throws(DoorIOError) {
            try watch()
            finish(failure: nil)
        } catch {
            finish(failure: error)
        }
    }

    /// Waits for edges until the stop pipe wakes it; throws on the first failure.
    private func watch() throws(DoorIOError) {
        var fds = watched.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        fds.append(pollfd(fd: stopReader.descriptor.rawValue, events: Int16(POLLIN), revents: 0))
        let stopIndex = fds.count - 1
        let bad = Int16(POLLERR | POLLHUP | POLLNVAL)
        while true {
            try systemCall("poll", chip: chip.name) { poll(&fds, nfds_t(fds.count), -1) }
            if fds[stopIndex].revents != 0 { return }
            for index in 0..<stopIndex where fds[index].revents != 0 {
                let key = watched[index].key
                if fds[index].revents & bad != 0 {
                    throw .monitorFailed(chip: chip.name, operation: "poll \(key) (line fd error)", errno: EIO)
                }
                let fd = fds[index].fd
                var event = gpiod_line_event()
                do throws(DoorIOError) {
                    try systemCall("read event for \(key)", chip: chip.name) { gpiod_line_event_read_fd(fd, &event) }
                } catch .monitorFailed(_, _, let code) where code == EAGAIN {
                    continue  // nothing to read after all: poll again
                }
                let active = event.event_type == Int32(GPIOD_LINE_EVENT_RISING_EDGE)
                continuation.yield(.edge(key, active: active, at: .now))
            }
        }
    }

    /// Releases the lines, ends the stream and wakes whoever waits in `stop()`. Called once:
    /// when the loop ends, or instead of it when its thread cannot start.
    func finish(failure: DoorIOError?) {
        chip.close()
        if let failure { continuation.yield(.failure(failure)) }
        continuation.finish()
        exit.signal()
    }
}
