// The door seam when an access-control panel decides: the grant's credential goes out as a Wiegand frame.
package import DoorIO
package import Logging
import Synchronization

/// ``DoorSignals`` for `door.mode: wiegand`: LEDs, buzzer and inputs stay with the
/// ``DoorIO/DoorController``, which sends a granted face's credential to the panel instead of
/// pulsing the relay. The rest of the pipeline does not know the difference.
package final class PanelDoor: DoorSignals {
    package let door: DoorController
    private let mapper: Mutex<CredentialMapper>
    private let logger: Logger

    package init(door: DoorController, mapper: CredentialMapper, logger: Logger) {
        self.door = door
        self.mapper = Mutex(mapper)
        self.logger = logger
    }

    package func signal(_ signal: DoorSignal) async { await door.signal(signal) }

    package func grantOpen() async -> Bool { await door.isGrantOpen() }

    /// Shows the decision, then sends its credential (if any) and returns when the frame is out.
    package func show(_ decision: Decision, signals: [DoorSignal]) async {
        for signal in signals { await door.signal(signal) }
        let mapper = self.mapper.withLock { $0 }
        switch mapper.credential(for: decision) {
        case .nothing(let reason?):
            logger.warning("nothing sent to the panel: \(reason)")
        case .nothing(nil):
            break
        case .send(let credential):
            await send(credential, format: mapper.format, granted: decision.granted)
        }
    }

    /// Sends one credential (also `kioskctl panel send`); failures are logged, not thrown: the
    /// person is at the door and nothing else can be done about it now.
    @discardableResult
    package func send(_ credential: WiegandCredential, format: WiegandFormat, granted: Bool) async -> Bool {
        do {
            let frame = try format.encode(credential)
            let report = try await door.sendCredential(frame)
            logger.info(
                "credential sent to the panel",
                metadata: [
                    "panel.format": "\(format)", "panel.facility": "\(credential.facility)", "panel.card": "\(credential.card)",
                    "panel.granted": "\(granted)",
                    "wiegand.pulse_us_max": "\(Int(report.pulseWidth.upperBound))",
                ])
            return true
        } catch {
            logger.error("credential not sent to the panel: \(error)", metadata: ["panel.format": "\(format)"])
            return false
        }
    }

    /// Re-reads `panel.*` (the lookup file) on SIGHUP; on an error the running mapping stays.
    package func reload(_ settings: PanelSettings) throws(CardTableError) {
        let fresh = try CredentialMapper(settings: settings)
        mapper.withLock { $0 = fresh }
        if case .table(let table) = fresh.source {
            logger.notice("panel lookup file reloaded", metadata: ["panel.cards": "\(table.cards.count)"])
        }
    }
}
