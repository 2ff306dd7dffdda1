// QueueHealth: says once when the offline queue and journal stop (or start again) taking writes: log, status, fault LED.
import DoorIO
import Logging
import Synchronization

/// Reports the queue's availability on every channel a technician looks at, once per change: one
/// log line (error when it stops, notice when it comes back), `queue.available` and
/// `queue.unavailable_reason` in status (and so the metrics and the STATUS= line), and the door's
/// fault LED. The door keeps deciding by policy either way; this only makes the state visible.
///
/// Fed by the drainer service's poll (which also asks the database to recheck a failed storage)
/// and by a queue that could not be opened at start.
final class QueueHealth: Sendable {
    let status: StatusBoard
    let door: DoorController
    let logger: Logger
    /// The reason last reported; nil while available.
    private let reported = Mutex<String?>(nil)

    init(status: StatusBoard, door: DoorController, logger: Logger) {
        self.status = status
        self.door = door
        self.logger = logger
        status.update { $0.queue.available = true }
    }

    /// Reports `reason` (nil: available). Only a change between available and unavailable is
    /// logged and shown on the LED: the reason's text names the operation that failed last, which
    /// varies while the storage stays down, so it only refreshes the status.
    func report(unavailable reason: String?) async {
        let changed = reported.withLock { last -> Bool in
            defer { last = reason }
            return (last == nil) != (reason == nil)
        }
        status.update {
            $0.queue.available = reason == nil
            $0.queue.unavailableReason = reason
        }
        guard changed else { return }
        await door.setQueueFault(reason != nil)
        if let reason {
            logger.error(
                "offline queue and journal UNAVAILABLE: the door decides by policy, but check-ins are not queued and events not journaled until writes work again: \(reason)"
            )
        } else {
            logger.notice("offline queue and journal available again: queueing resumed without a restart")
        }
    }
}
