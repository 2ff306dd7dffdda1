// The daemon's services: pipeline, door, queue drainer, token refresh, status files, systemd watchdog.
import DoorIO
import Foundation
import Logging
import OSDP
import Outbox
import ServiceLifecycle

/// The check-in pipeline as a service: stops at the first graceful-shutdown signal.
struct PipelineService: Service {
    let pipeline: CheckInPipeline
    let notifier: SystemdNotifier
    /// How long the whole stop may take: the group's graceful and cancellation limits.
    let stopBound: Duration

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await cancelWhenGracefulShutdown {
                try await pipeline.run()
            }
        } onGracefulShutdown: { [notifier, stopBound] in
            // The pipeline is the first to stop and may be inside a frame's analysis (seconds on
            // a slow board); the heartbeat then goes quiet while the watchdog service still
            // waits for its turn to stop. The watchdog is widened to the stop's bound instead.
            notifier.stopping(status: "stopping: finishing the person in progress", watchdogTimeout: stopBound + .seconds(5))
        }
    }
}

/// Door I/O: started before anything else, shut down last, so the relay is de-energised and
/// the LEDs are off on every way out. Door events go to the journal.
struct DoorService: Service {
    let door: DoorController
    let journal: EventJournal?
    let status: StatusBoard
    let logger: Logger

    func run() async throws {
        await withGracefulShutdownHandler {
            for await event in door.events {
                await record(event)
            }
        } onGracefulShutdown: { [door] in
            // ServiceGroup shuts services down in reverse order and this one is first in the
            // list, so this runs after the pipeline has stopped: safe state, lines released,
            // which also ends `events` and the loop above.
            Task { await door.shutdown() }
        }
        await door.shutdown()
    }

    func record(_ event: DoorEvent) async {
        let mapped: (DoorEventRecord.Kind, String?)?
        switch event.kind {
        case .pulseStarted(let reason, let length): mapped = (.relayPulse, "\(reason.rawValue), \(length)")
        case .exitButtonPressed: mapped = (.exitButton, nil)
        case .forcedOpen: mapped = (.forcedOpen, nil)
        case .heldOpen(let after): mapped = (.heldOpen, "after \(after)")
        case .tamper(let active): mapped = (active ? .tamper : .tamperCleared, nil)
        case .doorOpened(let authorised): mapped = (.opened, authorised ? "authorised" : "unauthorised")
        case .doorClosed: mapped = (.closed, nil)
        case .credentialSent(let bits): mapped = (.credentialSent, "\(bits) bits")
        case .passage(let duringGrant): mapped = (.passage, duringGrant ? "grant used" : "no grant open")
        case .pulseEnded, .inputFailure, .outputFailure: mapped = nil
        }
        switch event.kind {
        case .forcedOpen, .heldOpen, .tamper(active: true), .inputFailure, .outputFailure:
            logger.warning("door: \(event)")
        default:
            logger.info("door: \(event)")
        }
        status.update { $0.door = "\(event)" }
        guard let (kind, detail) = mapped, let journal else { return }
        do {
            try await journal.record(.door(DoorEventRecord(kind: kind, detail: detail)))
        } catch {
            // A failed storage is said once, by QueueHealth; not for every event.
            logger.log(level: error.isStorageUnavailable ? .debug : .error, "door event not journaled: \(error)")
        }
    }
}

/// The OSDP reader's line (`door.mode: osdp`): follows the panel's commands and the link's
/// state until shutdown, then stops the line's thread and closes the port.
struct OSDPLinkService: Service {
    let door: OSDPDoor
    let journal: EventJournal?
    let status: StatusBoard

    func run() async throws {
        let reader = door.reader
        await withGracefulShutdownHandler {
            await door.run(journal: journal, status: status)
        } onGracefulShutdown: {
            // Ends the reader's events, which ends the loop above.
            Task { await reader.stop() }
        }
        await reader.stop()
    }
}

/// Delivers queued check-ins in the background; reports queue depth to status.
struct DrainerService: Service {
    let drainer: OutboxDrainer
    let store: OutboxStore
    let status: StatusBoard
    var health: QueueHealth?
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await drainer.run() }
                group.addTask {
                    while !Task.isCancelled {
                        // A failed storage is retried here too, so the queue comes back by itself
                        // even when nobody comes to the door and nothing is queued.
                        await health?.report(unavailable: await store.database.recheck())
                        if let s = try? await store.status() {
                            status.update {
                                $0.queue.depth = s.items
                                $0.queue.bytes = s.bytes
                                $0.queue.dropped = s.counters.dropped
                                $0.queue.delivered = s.counters.delivered
                                $0.ambiguousDeliveries = s.counters.ambiguous
                                $0.queue.lastError = s.degradedReason ?? s.sender?.lastError
                                // A late delivery proves the server is back even when nobody
                                // has come to the door since.
                                if let delivered = s.sender?.lastDeliveryAt,
                                    delivered > ($0.server.lastSuccessAt ?? .distantPast)
                                {
                                    $0.server.healthy = true
                                    $0.server.lastSuccessAt = delivered
                                    $0.server.lastError = nil
                                }
                            }
                        }
                        try? await Task.sleep(for: .seconds(2))
                    }
                }
                await group.waitForAll()
            }
        }
    }
}

/// Keeps the API token fresh while idle (so a check-in never waits for one) and revokes it on
/// shutdown.
struct TokenService: Service {
    let gateway: any CheckInGateway
    let status: StatusBoard

    func run() async throws {
        // The loop is cancelled at the shutdown signal, so a sleep never holds up the stop.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await gateway.refreshToken()
                let expiry = await gateway.tokenExpiry()
                status.update { $0.server.tokenExpiresAt = expiry }
                try await Task.sleep(for: .seconds(15))
            }
        }
        // Revoke the token, but never hold up the stop for an unreachable server.
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await gateway.shutdown() }
            group.addTask { try? await Task.sleep(for: .seconds(1.5)) }
            await group.next()
            group.cancelAll()
        }
    }
}

/// Writes status.json and the metrics file, and the STATUS= line for `systemctl status`.
struct StatusService: Service {
    let board: StatusBoard
    let writer: StatusFileWriter
    let notifier: SystemdNotifier
    let interval: Duration
    let camera: @Sendable () -> StatusSnapshot.CameraStatus
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var lastError: String?
            while !Task.isCancelled {
                let cam = camera()
                board.update {
                    $0.camera = cam
                    $0.updatedAt = Date()
                }
                do {
                    try writer.write(board.snapshot)
                    lastError = nil
                } catch {
                    // Say it once, not every few seconds.
                    let text = "\(error)"
                    if lastError != text { logger.error("\(text)") }
                    lastError = text
                }
                notifier.status(board.summaryLine)
                try await Task.sleep(for: interval)
            }
        }
        board.update { $0.state = "stopping" }
        try? writer.write(board.snapshot)
    }
}

/// Pings the systemd watchdog while the pipeline loop is alive. A hung pipeline stops the
/// pings and systemd restarts the service (WatchdogSec= in the unit).
struct WatchdogService: Service {
    let notifier: SystemdNotifier
    let heartbeat: Heartbeat
    let logger: Logger

    func run() async throws {
        guard let interval = notifier.watchdogInterval else {
            try await gracefulShutdown()
            return
        }
        // Ping at a quarter of the interval; a loop quiet for more than half of it is hung
        // (the loop wakes at least every tick even without frames).
        let stale = interval / 2
        // From the start of the stop, PipelineService has widened the watchdog to the stop's
        // bound; this loop pings until its own turn to stop comes, then once more and returns.
        var warned = false
        while !Task.isCancelled {
            if let age = heartbeat.age, age < stale || Task.isShuttingDownGracefully {
                notifier.watchdog()
                warned = false
            } else if !warned {
                logger.critical(
                    "pipeline loop silent for \(heartbeat.age.map { "\($0)" } ?? "ever"): withholding watchdog pings so systemd restarts the service"
                )
                warned = true
            }
            if Task.isShuttingDownGracefully { return }
            try? await Task.sleep(for: interval / 4)
        }
    }
}
