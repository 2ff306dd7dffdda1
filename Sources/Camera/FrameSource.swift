// FrameSource: where frames come from (newest frame wins), with the capture counters every source keeps.
import Synchronization

/// Counters every frame source keeps, readable at any time (status page, `kioskctl camera fps`).
package struct CaptureStatistics: Sendable, Equatable {
    /// Frames the source produced (captured from the device, or read from the replay).
    package var captured: UInt64 = 0
    /// Frames handed to the consumer.
    package var delivered: UInt64 = 0
    /// Frames replaced by a newer one before the consumer took them (or dropped from the
    /// driver's ring because newer ones were waiting): the consumer was busy, by design.
    package var dropped: UInt64 = 0
    /// Frames skipped as damaged (driver error flag, missing JPEG markers, or reported by the
    /// consumer after a failed decode).
    package var corrupt: UInt64 = 0
    /// Times no frame arrived within the stall timeout.
    package var stalls: UInt64 = 0
    /// Times the device vanished (unplug, driver reload) or was reopened after a stall.
    package var reopens: UInt64 = 0
    /// Frames per second over the last few seconds of capture.
    package var framesPerSecond: Double = 0
    /// When the last frame was produced.
    package var lastFrameAt: MonotonicTime?
    /// Human-readable state ("streaming", "waiting for /dev/video0", "stalled", "finished").
    package var state: String = "idle"

    package init() {}
}

/// Where frames come from: a V4L2 camera, or a replay of files for demos, tests and
/// reproducing a customer's recording.
///
/// The stream always yields the NEWEST frame: a consumer slower than the camera sees fewer
/// frames, never older ones, so the pipeline can never fall behind the door.
package protocol FrameSource: Sendable {
    /// A short name for logs and status ("/dev/video0", "replay of 12 files").
    var name: String { get }

    /// Starts producing frames. The stream buffers only the newest frame; cancelling the
    /// consuming task (or dropping the stream) stops capture and releases the device.
    /// Call once per source at a time.
    func frames() -> AsyncThrowingStream<Frame, any Error>

    /// The counters so far.
    var statistics: CaptureStatistics { get }

    /// Tells the source a delivered frame could not be decoded, so it is counted as corrupt.
    func reportCorrupt()
}

/// Shared, lock-protected counters (the capture thread writes, any thread reads).
final class StatisticsBox: Sendable {
    private let state = Mutex(CaptureStatistics())
    private let window = Mutex(FPSWindow())

    var snapshot: CaptureStatistics { state.withLock { $0 } }

    func update(_ body: (inout CaptureStatistics) -> Void) {
        state.withLock { body(&$0) }
    }

    func setState(_ text: String) { update { $0.state = text } }

    /// Records a produced frame and refreshes the frame rate.
    func recordCaptured(at time: MonotonicTime) {
        let fps = window.withLock { $0.add(time) }
        update {
            $0.captured += 1
            $0.lastFrameAt = time
            $0.framesPerSecond = fps
        }
    }

    /// Records the result of yielding to a `.bufferingNewest(1)` continuation.
    func recordYield(_ result: AsyncThrowingStream<Frame, any Error>.Continuation.YieldResult) {
        update {
            switch result {
            case .enqueued: $0.delivered += 1
            // The new frame replaced an older one that was never taken.
            case .dropped: $0.dropped += 1
            case .terminated: break
            @unknown default: break
            }
        }
    }
}

/// Frame rate over a sliding window of recent frame times.
struct FPSWindow {
    private var times: [MonotonicTime] = []
    private let span: UInt64 = 3_000_000_000

    mutating func add(_ time: MonotonicTime) -> Double {
        times.append(time)
        while let first = times.first, time.nanoseconds > first.nanoseconds + span { times.removeFirst() }
        guard times.count >= 2, let first = times.first else { return 0 }
        let seconds = Double(time.nanoseconds - first.nanoseconds) / 1e9
        return seconds > 0 ? Double(times.count - 1) / seconds : 0
    }
}
