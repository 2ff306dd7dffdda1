// Reads Wiegand frames from two GPIO inputs, with the kernel's edge timestamps, on a dedicated thread.
import CGPIOD
import Synchronization
import SystemPackage
import Threading

#if canImport(Glibc)
import Glibc
#endif

/// Watches a D0/D1 pair (a panel's reader port, or our own output looped back) and decodes the
/// pulses into frames. The timestamps are the kernel's (taken in the GPIO interrupt, on
/// CLOCK_MONOTONIC), so the measured widths do not include this thread's wake-up latency.
package final class WiegandReceiver: Sendable {
    /// Frames in order; finishes after `stop()` or a failure (then the last report is a failure).
    package let frames: AsyncStream<Result<WiegandReceivedFrame, DoorIOError>>
    private let stopWrite: FileDescriptor
    private let exit = ThreadExit()
    private let stopped = Mutex(false)

    /// Requests `d0` and `d1` on `chip` for both edges (`activeLow`: a pulse pulls the line low,
    /// the standard) and starts reading. `gap`: the silence that ends a frame.
    package init(
        chip chipText: String, d0: GPIOLineSelector, d1: GPIOLineSelector, activeLow: Bool = true,
        gap: Duration = .milliseconds(25), consumer: String
    ) throws(DoorIOError) {
        let chip = try GPIODChip(lookup: chipText)
        var fds: [(WiegandDataLine, Int32)] = []
        do throws(DoorIOError) {
            try chip.withHandle("request Wiegand inputs") { handle throws(DoorIOError) in
                for (role, selector) in [(WiegandDataLine.d0, d0), (.d1, d1)] {
                    let name = "wiegand \(role.rawValue)"
                    let line = try chip.line(selector, role: name, in: handle)
                    if gpiod_line_request_both_edges_events_flags(line, consumer, gpiodFlags(activeLow: activeLow)) != 0 {
                        throw chip.requestError(line, role: name, selector: selector, operation: "request for edge events", errno: errno)
                    }
                    fds.append((role, gpiod_line_event_get_fd(line)))
                }
            }
        } catch {
            chip.close()
            throw error
        }
        let pipe: (readEnd: FileDescriptor, writeEnd: FileDescriptor)
        do {
            pipe = try FileDescriptor.pipe(options: .closeOnExec)
        } catch {
            chip.close()
            throw .monitorFailed(chip: chip.name, operation: "create stop pipe", errno: error.rawValue)
        }
        stopWrite = pipe.writeEnd
        let (stream, continuation) = AsyncStream.makeStream(
            of: Result<WiegandReceivedFrame, DoorIOError>.self, bufferingPolicy: .bufferingNewest(256))
        frames = stream
        let loop = ReceiveLoop(
            chip: chip, lines: fds, stopRead: pipe.readEnd, assembler: WiegandFrameAssembler(gap: gap),
            continuation: continuation, exit: exit)
        if let code = DedicatedThread.start(loop.run) {
            loop.finish(nil)
            try? pipe.writeEnd.close()
            throw .monitorFailed(chip: chip.name, operation: "start Wiegand reading thread", errno: code)
        }
    }

    /// Stops reading and releases the lines; returns once they are released.
    package func stop() async {
        let first = stopped.withLock { done in
            defer { done = true }
            return !done
        }
        if first { try? stopWrite.close() }  // the thread wakes with POLLHUP
        await exit.wait()
    }
}

/// The reading thread's state: used only by that thread once it runs.
private final class ReceiveLoop: @unchecked Sendable {
    // @unchecked: built by the initializer, then touched only by the reading thread.
    let chip: GPIODChip
    let lines: [(WiegandDataLine, Int32)]
    let stopRead: FileDescriptor
    var assembler: WiegandFrameAssembler
    let continuation: AsyncStream<Result<WiegandReceivedFrame, DoorIOError>>.Continuation
    let exit: ThreadExit

    init(
        chip: GPIODChip, lines: [(WiegandDataLine, Int32)], stopRead: FileDescriptor, assembler: WiegandFrameAssembler,
        continuation: AsyncStream<Result<WiegandReceivedFrame, DoorIOError>>.Continuation, exit: ThreadExit
    ) {
        self.chip = chip
        self.lines = lines
        self.stopRead = stopRead
        self.assembler = assembler
        self.continuation = continuation
        self.exit = exit
    }

    func run() {
        do throws(DoorIOError) {
            try read()
            finish(nil)
        } catch {
            finish(error)
        }
    }

    private func read() throws(DoorIOError) {
        var fds = lines.map { pollfd(fd: $0.1, events: Int16(POLLIN), revents: 0) }
        fds.append(pollfd(fd: stopRead.rawValue, events: Int16(POLLIN), revents: 0))
        let stopIndex = fds.count - 1
        let timeout = Int32(max(1, assembler.gap / 1_000_000))
        var wait = timeout
        // Edges of both lines queued while this thread was not running (a slow or busy machine)
        // are drained first and fed in timestamp order, not in the order of the descriptors.
        var pending: [(time: Int64, line: WiegandDataLine, active: Bool)] = []
        while true {
            let ready = try systemCall("poll Wiegand lines", chip: chip.name) { poll(&fds, nfds_t(fds.count), wait) }
            if fds[stopIndex].revents != 0 { return }
            if ready == 0 {
                for edge in pending.sorted(by: { $0.time < $1.time }) {
                    if let frame = assembler.edge(edge.line, active: edge.active, at: edge.time) { continuation.yield(.success(frame)) }
                }
                pending.removeAll(keepingCapacity: true)
                if wait == 0 {
                    wait = timeout
                } else if let frame = assembler.flush(at: WiegandTransmitter.nowNanoseconds()) {
                    continuation.yield(.success(frame))
                }
                continue
            }
            wait = 0
            for index in 0..<stopIndex where fds[index].revents != 0 {
                if fds[index].revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 {
                    throw .monitorFailed(chip: chip.name, operation: "poll Wiegand \(lines[index].0.rawValue) (line fd error)", errno: EIO)
                }
                var event = gpiod_line_event()
                do throws(DoorIOError) {
                    try systemCall("read Wiegand edge", chip: chip.name) { gpiod_line_event_read_fd(fds[index].fd, &event) }
                } catch .monitorFailed(_, _, let code) where code == EAGAIN {
                    continue
                }
                let time = Int64(event.ts.tv_sec) * 1_000_000_000 + Int64(event.ts.tv_nsec)
                pending.append((time, lines[index].0, event.event_type == Int32(GPIOD_LINE_EVENT_RISING_EDGE)))
            }
        }
    }

    func finish(_ failure: DoorIOError?) {
        chip.close()
        try? stopRead.close()
        if let failure { continuation.yield(.failure(failure)) }
        continuation.finish()
        exit.signal()
    }
}
