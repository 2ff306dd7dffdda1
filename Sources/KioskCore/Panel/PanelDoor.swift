// The door seam when an access-control panel decides: the grant's credential goes out as a Wiegand frame.
package import DoorIO
package import Logging

/// ``DoorSignals`` for `door.mode: wiegand`: LEDs, buzzer and inputs stay with the
/// ``DoorIO/DoorController``, which sends a granted face's credential to the panel instead of
/// pulsing the relay. The rest of the pipeline does not know the difference.
package final class PanelDoor: DoorSignals {
    package let door: DoorController
    private let credentials: PanelCredentials
    private let logger: Logger

    package init(door: DoorController, mapper: CredentialMapper, logger: Logger) {
        self.door = door
        credentials = PanelCredentials(mapper, logger: logger)
        self.logger = logger
    }

    package func signal(_ signal: DoorSignal) async { await door.signal(signal) }

    package func grantOpen() async -> Bool { await door.isGrantOpen() }

    /// Shows the decision, then sends its credential (if any) and returns when the frame is out.
    package func show(_ decision: Decision, signals: [DoorSignal]) async {
        for signal in signals { await door.signal(signal) }
        guard let (credential, format) = credentials.credential(for: decision) else { return }
        await send(credential, format: format, granted: decision.granted)
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
        try credentials.reload(settings)
    }
}
