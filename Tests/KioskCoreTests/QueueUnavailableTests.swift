// A state directory that cannot be opened: kioskd starts degraded, still decides, and says why once.
import DoorIO
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

@testable import KioskCore

/// What a technician sees when the queue's storage is unusable. The failing card itself (read-only
/// remount, EIO) is only real in the VM: `scripts/vhw/powercut.sh --storage`.
@Suite(
    "Queue unavailable: degraded start, status, metrics, fault LED", .serialized,
    .enabled(if: TestAssets.available, "assets missing: run scripts/fetch-assets.sh"))
struct QueueUnavailableTests {
    /// Collects log messages (the test's own handler, to count what was said).
    final class LogCollector: Sendable {
        let messages = Mutex<[(Logger.Level, String)]>([])

        struct Handler: LogHandler {
            let collector: LogCollector
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .debug
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(event: LogEvent) {
                collector.messages.withLock { $0.append((event.level, "\(event.message)")) }
            }
        }

        var logger: Logger { Logger(label: "kiosk-test", factory: { _ in Handler(collector: self) }) }

        func count(level: Logger.Level, containing text: String) -> Int {
            messages.withLock { $0.filter { $0.0 == level && $0.1.contains(text) }.count }
        }
    }

    @Test("a state directory that cannot be opened: the door still grants, status, metrics and LED say so, the log once")
    func unopenableStateDirectory() async throws {
        try await WholePathTests.Site.with { site in
            let door = WholePathTests.DoorLog()
            var config = site.configuration(
                script: try site.script([("empty", 0.5), ("images/facerec/obama2.jpg", 3), ("empty", 1)]))
            // A regular file where the directory should be: opening really fails, as root too.
            let blocked = site.directory.appendingPathComponent("not-a-directory").path
            #expect(FileManager.default.createFile(atPath: blocked, contents: Data()))
            config.outbox.stateDirectory = blocked
            config.status.metricsFile = site.directory.appendingPathComponent("kiosk.prom").path
            config.door.faultLEDLine = "led-amber"
            let log = LogCollector()
            var agent = KioskAgent(configuration: config, logger: log.logger, environment: [:])
            agent.doorBackend = ConsoleBackend(sink: door.sink)
            // Not an exit: the agent runs the whole scene and ends when the replay does.
            try await agent.run()

            #expect(door.relayPulses == 1, "the enrolled person was granted without a queue")
            #expect(try await site.sim.checkIns(projectID: 1).count == 1)
            let status = try StatusSnapshot.decode(Data(contentsOf: URL(fileURLWithPath: config.status.file)))
            #expect(status.queue.available == false)
            #expect(status.queue.unavailableReason?.contains("not a directory") == true, "\(status.queue)")
            let metrics = try String(contentsOfFile: config.status.metricsFile, encoding: .utf8)
            #expect(metrics.contains("kiosk_queue_available 0"))
            #expect(door.lines.withLock { $0.contains { $0.contains("ledFault") && $0.hasSuffix("-> on") } }, "fault LED on")
            #expect(log.count(level: .error, containing: "offline queue and journal UNAVAILABLE") == 1)
            #expect(log.count(level: .error, containing: "check-in not queued") == 0, "not repeated per decision")
            #expect(log.count(level: .error, containing: "decision not journaled") == 0, "not repeated per decision")
        }
    }

    @Test("status line and metrics: available 1, unavailable 0 and UNAVAILABLE; older files decode")
    func statusFields() throws {
        let board = StatusBoard()
        board.update { $0.queue.available = true }
        #expect(board.snapshot.prometheusText().contains("kiosk_queue_available 1"))
        #expect(!board.summaryLine.contains("UNAVAILABLE"))
        board.update {
            $0.queue.available = false
            $0.queue.unavailableReason = "outbox: the storage of /var/lib/kiosk-agent/outbox.sqlite failed"
        }
        #expect(board.snapshot.prometheusText().contains("kiosk_queue_available 0"))
        #expect(board.summaryLine.contains("queue UNAVAILABLE"))
        let json = String(decoding: try board.snapshot.jsonData(), as: UTF8.self)
        #expect(json.contains("\"available\" : false") && json.contains("\"unavailable_reason\""))
        // A status file from before the field: decodes, availability unknown, no metric.
        var old = StatusSnapshot()
        old.queue.available = nil
        let decoded = try StatusSnapshot.decode(try old.jsonData())
        #expect(decoded.queue.available == nil)
        #expect(!decoded.prometheusText().contains("kiosk_queue_available"))
    }
}
