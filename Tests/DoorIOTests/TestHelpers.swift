// Helpers for the door tests: event collection with timeouts. The quiet logger and `waitUntil`
// come from TestSupport.
import DoorIO
import Synchronization

/// Collects a controller's events in the background so tests can wait for one.
final class EventRecorder: Sendable {
    private let box = SeenBox()
    private let task: Task<Void, Never>

    init(_ stream: AsyncStream<DoorEvent>) {
        let box = self.box
        task = Task {
            for await event in stream { box.append(event) }
        }
    }

    var events: [DoorEvent] { box.all }
    var kinds: [DoorEvent.Kind] { events.map(\.kind) }

    /// Waits (polling every 10 ms) until an event matches, up to `timeout`.
    @discardableResult
    func waitFor(_ timeout: Duration = .seconds(3), _ match: @Sendable (DoorEvent.Kind) -> Bool) async -> DoorEvent? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let event = events.first(where: { match($0.kind) }) { return event }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return events.first(where: { match($0.kind) })
    }

    deinit { task.cancel() }
}

final class SeenBox: Sendable {
    private let storage = Mutex<[DoorEvent]>([])
    func append(_ event: DoorEvent) { storage.withLock { $0.append(event) } }
    var all: [DoorEvent] { storage.withLock { $0 } }
}

extension Duration {
    var ms: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
