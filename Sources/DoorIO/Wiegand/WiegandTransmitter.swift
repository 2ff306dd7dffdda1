// Sends one Wiegand frame at a time on a dedicated thread, timing pulses on the monotonic clock.
import CGPIOD
import Synchronization
import Threading

#if canImport(Glibc)
import Glibc
#endif

/// What the sending thread measured on its own clock for one frame (the kernel's view of the
/// pin is what the VM test measures; this is what the log shows on a real board).
package struct WiegandSendReport: Sendable, Hashable {
    /// Bits sent.
    package var bits: Int
    /// The shortest and longest pulse, µs (from the call that drove the line active to the one
    /// that released it).
    package var pulseWidth: ClosedRange<Double>
    /// The shortest and longest start-to-start interval, µs (empty frame: 0...0).
    package var interval: ClosedRange<Double>
    /// The whole frame, µs.
    package var total: Double
}

/// Sends Wiegand frames on two outputs, each frame start to end on one dedicated thread, so no
/// task switch of the cooperative pool can stretch a pulse; frames never interleave.
///
/// The waits between pulses sleep with `clock_nanosleep` until shortly before the next pulse
/// and spin for the rest; a pulse itself is spun (50 µs is below the kernel's default timer
/// slack). Intervals never shrink below the configured one: a preempted pulse delays the rest. The outputs are requested and owned by ``DoorController`` like the relay.
package final class WiegandTransmitter: Sendable {
    private let d0: any GPIOOutput
    private let d1: any GPIOOutput
    package let timing: WiegandTiming
    /// Held by the sending thread for a whole frame.
    private let sending = Mutex(())

    /// A transmitter on outputs already requested inactive (idle).
    package init(d0: any GPIOOutput, d1: any GPIOOutput, timing: WiegandTiming) {
        self.d0 = d0
        self.d1 = d1
        self.timing = timing
    }

    /// Sends `frame` (most significant bit first) and returns when the last pulse has ended.
    package func send(_ frame: [Bool]) async throws(DoorIOError) -> WiegandSendReport {
        let result: Result<WiegandSendReport, DoorIOError> = await withCheckedContinuation { continuation in
            let code = DedicatedThread.start { [self] in
                continuation.resume(returning: sending.withLock { _ in transmit(frame) })
            }
            if let code {
                continuation.resume(returning: .failure(.monitorFailed(chip: "wiegand", operation: "start sending thread", errno: code)))
            }
        }
        return try result.get()
    }

    /// The frame on the calling thread (the dedicated one). On an error both lines go idle.
    func transmit(_ frame: [Bool]) -> Result<WiegandSendReport, DoorIOError> {
        let pulse = Int64(timing.pulseWidth) * 1000
        let interval = Int64(timing.interval) * 1000
        var next = Self.nowNanoseconds() + 100_000  // a moment to settle before the first bit
        var widths: [Int64] = []
        var starts: [Int64] = []
        widths.reserveCapacity(frame.count)
        starts.reserveCapacity(frame.count)
        for bit in frame {
            let line = bit ? d1 : d0
            Self.wait(until: next)
            let began = Self.nowNanoseconds()
            do throws(DoorIOError) {
                try line.set(active: true)
                Self.spin(until: began + pulse)
                try line.set(active: false)
            } catch {
                try? d0.set(active: false)
                try? d1.set(active: false)
                return .failure(error)
            }
            let ended = Self.nowNanoseconds()
            widths.append(ended - began)
            starts.append(began)
            // A late pulse (the thread was preempted) moves the rest of the frame later rather
            // than sending the next bits in a burst: the panel never sees less than the idle
            // time between pulses, only a longer frame.
            next = max(began + interval, ended + interval - pulse)
        }
        let end = Self.nowNanoseconds()
        let gaps = zip(starts.dropFirst(), starts).map { $0 - $1 }
        func micro(_ values: [Int64]) -> ClosedRange<Double> {
            guard let low = values.min(), let high = values.max() else { return 0...0 }
            return Double(low) / 1000...Double(high) / 1000
        }
        return .success(
            WiegandSendReport(
                bits: frame.count, pulseWidth: micro(widths), interval: micro(gaps),
                total: Double(end - (starts.first ?? end)) / 1000))
    }

    static func nowNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// Sleeps until 300 µs before `deadline` (timer slack and wake-up latency), then spins.
    static func wait(until deadline: Int64) {
        let early = deadline - 300_000
        if nowNanoseconds() < early {
            var target = timespec(tv_sec: Int(early / 1_000_000_000), tv_nsec: Int(early % 1_000_000_000))
            while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, nil) == EINTR {}
        }
        spin(until: deadline)
    }

    static func spin(until deadline: Int64) {
        while nowNanoseconds() < deadline {}
    }
}
