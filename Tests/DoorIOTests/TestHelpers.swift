// Shared helpers for the door tests: quiet logger, event collection with timeouts.
import DoorIO
import Logging
import Synchronization

extension Logger {
    /// A logger that drops everything (tests never bootstrap logging).
    static let quiet = Logger(label: "door-test", factory: { _ in SwiftLogNoOpLogHandler() })
}

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

/// Polls a condition every 10 ms up to `timeout`; true if it became true.
func eventually(_ timeout: Duration = .seconds(3), _ condition: @Sendable () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}

extension Duration {
    var ms: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
