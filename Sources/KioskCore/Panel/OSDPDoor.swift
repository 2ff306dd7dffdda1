// The door seam when the terminal is an OSDP reader: a granted face's credential is queued as a card read for the panel's next poll.
package import DoorIO
package import Logging
package import OSDP
package import Outbox
import Synchronization

/// ``DoorSignals`` for `door.mode: osdp`: LEDs, buzzer and inputs stay with the
/// ``DoorIO/DoorController``; a decision's credential (mapped by `panel.*` like Wiegand's) is
/// queued on the ``OSDP/OSDPReaderService`` and goes out in osdp_RAW on the panel's next poll.
/// The panel's osdp_LED and osdp_BUZ come back through ``run(journal:status:)`` and drive the
/// terminal's green LED and buzzer.
package final class OSDPDoor: DoorSignals {
    package let door: DoorController
    package let reader: OSDPReaderService
    private let credentials: PanelCredentials
    private let logger: Logger
    /// The colour the panel set permanently, shown again when a temporary one ends.
    private let permanentGreen = Mutex(false)
    private let temporaryTimer = Mutex<Task<Void, Never>?>(nil)
    /// Whether the "panel talks in the clear" warning was given since the channel was last up.
    private let warnedClear = Mutex(false)

    package init(door: DoorController, reader: OSDPReaderService, mapper: CredentialMapper, logger: Logger) {
        self.door = door
        self.reader = reader
        credentials = PanelCredentials(mapper, logger: logger)
        self.logger = logger
    }

    package func signal(_ signal: DoorSignal) async { await door.signal(signal) }

    package func grantOpen() async -> Bool { await door.isGrantOpen() }

    /// Shows the decision, then queues its credential (if any) for the panel's next poll.
    package func show(_ decision: Decision, signals: [DoorSignal]) async {
        for signal in signals { await door.signal(signal) }
        guard let (credential, format) = credentials.credential(for: decision) else { return }
        queue(credential, format: format, granted: decision.granted)
    }

    /// Queues one credential as osdp_RAW (also `kioskctl panel send`); false when it does not
    /// fit the format (logged).
    @discardableResult
    package func queue(_ credential: WiegandCredential, format: WiegandFormat, granted: Bool) -> Bool {
        do throws(WiegandFormatError) {
            let card = try Self.cardRead(credential, format: format)
            reader.enqueueCardRead(card)
            logger.info(
                "credential queued for the panel's next poll",
                metadata: [
                    "panel.format": "\(format)", "panel.facility": "\(credential.facility)", "panel.card": "\(credential.card)",
                    "panel.granted": "\(granted)", "osdp.bits": "\(card.bits.count)",
                ])
            return true
        } catch {
            logger.error("credential not sent to the panel: \(error)", metadata: ["panel.format": "\(format)"])
            return false
        }
    }

    /// The osdp_RAW card read of a credential: the Wiegand frame's bits (parity included) with
    /// format code 0x01 for H10301/H10306, or the bare bits (format 0x00) for `raw`.
    package static func cardRead(_ credential: WiegandCredential, format: WiegandFormat) throws(WiegandFormatError) -> OSDPCardRead {
        let bits = try format.encode(credential)
        if case .raw = format { return OSDPCardRead(format: .unspecified, bits: bits) }
        return OSDPCardRead(format: .wiegand, bits: bits)
    }

    /// Re-reads `panel.*` (the lookup file) on SIGHUP; on an error the running mapping stays.
    package func reload(_ settings: PanelSettings) throws(CardTableError) {
        try credentials.reload(settings)
    }

    /// Follows the reader's events until they end (the reader stopped): the panel's LED and
    /// buzzer commands drive the door; link changes are logged, journaled and shown in status.
    package func run(journal: EventJournal?, status: StatusBoard) async {
        for await event in reader.events {
            await handle(event, journal: journal, status: status)
        }
    }

    func handle(_ event: OSDPReaderEvent, journal: EventJournal?, status: StatusBoard) async {
        switch event {
        case .led(let command):
            guard command.led == 0, let color = command.shownColor else { return }
            await showPanelColor(color, for: command.temporaryDuration, permanent: command.permanent.control == 1 ? command.permanent : nil)
        case .buzzer(let command):
            await door.panelBuzzer(
                on: command.sounds ? .milliseconds(Int(command.onTime) * 100) : .zero, off: .milliseconds(Int(command.offTime) * 100),
                count: Int(command.count))
        case .controlPanelOnline:
            logger.notice("OSDP: the panel is polling this reader", metadata: ["osdp.port": "\(reader.port)"])
            status.update { $0.door = "osdp: panel online" }
            await record(.panelOnline, nil, journal)
        case .controlPanelOffline(let silence):
            logger.warning(
                "OSDP: the panel stopped polling this reader (no command for \(silence)); check the RS-485 wiring, the panel's reader port and address",
                metadata: ["osdp.port": "\(reader.port)"])
            status.update { $0.door = "osdp: panel offline" }
            await record(.panelOffline, "no poll for \(silence)", journal)
        case .secureChannelEstablished(let key):
            warnedClear.withLock { $0 = false }
            logger.notice("OSDP: secure channel established", metadata: ["osdp.key": "\(key)"])
            status.update { $0.door = "osdp: panel online, secure channel up" }
            await record(.secureChannel, key, journal)
        case .secureChannelFailed(let reason):
            logger.error("OSDP: secure channel failed: \(reason)")
            status.update { $0.door = "osdp: secure channel failed" }
            await record(.secureChannelFailed, reason, journal)
        case .keyStored(let path):
            logger.notice("OSDP: the panel set a new SCBK; stored in \(path). Set osdp.install_mode: false")
        case .keyNotStored(let reason):
            logger.error("OSDP: the panel set a new SCBK but it was not stored: \(reason)")
        case .communicationSettingsChanged(let settings):
            logger.warning(
                "OSDP: the panel moved this reader to address \(settings.address) at \(settings.baud) baud until kioskd restarts; set osdp.address and osdp.baud to keep them"
            )
        case .refused(let command, let reason, let detail):
            // A panel without the Secure Channel is refused at every poll: say so once, not each time.
            let first =
                reason == .securityConditions
                && warnedClear.withLock { warned in
                    defer { warned = true }
                    return !warned
                }
            if first {
                logger.warning(
                    "OSDP: the panel sends \(command.osdpHex) in the clear and is refused (\(detail)); turn on the secure channel for this reader on the panel with the same SCBK, or set osdp.secure"
                )
            } else {
                logger.debug("OSDP: refused \(command.osdpHex): \(reason) (\(detail))")
            }
        case .cardDelivered(let card):
            logger.info("OSDP: card read delivered to the panel", metadata: ["osdp.bits": "\(card.bits.count)"])
            await record(.credentialSent, "osdp \(card.bits.count) bits", journal)
        case .lineFailed(let error):
            logger.error("OSDP: \(error)")
            status.update { $0.door = "osdp: line failed" }
        case .lineRecovered:
            logger.notice("OSDP: the line works again", metadata: ["osdp.port": "\(reader.port)"])
        }
    }

    /// The panel's colour on the terminal: green lights the green LED; any other colour (red,
    /// amber, off) leaves it dark, and the door controller's own red shows a refusal.
    private func showPanelColor(_ color: OSDPColor, for temporary: Duration?, permanent: OSDPLEDCommand.Setting?) async {
        if let permanent { permanentGreen.withLock { $0 = permanent.onColor == OSDPColor.green.rawValue } }
        temporaryTimer.withLock { $0?.cancel() }
        await door.panelIndication(green: color == .green)
        guard let temporary else { return }
        let door = self.door
        let back = permanentGreen.withLock { $0 }
        let timer = Task {
            try? await Task.sleep(for: temporary)
            guard !Task.isCancelled else { return }
            await door.panelIndication(green: back)
        }
        temporaryTimer.withLock { $0 = timer }
    }

    private func record(_ kind: DoorEventRecord.Kind, _ detail: String?, _ journal: EventJournal?) async {
        guard let journal else { return }
        do {
            try await journal.record(.door(DoorEventRecord(kind: kind, detail: detail)))
        } catch {
            logger.log(level: error.isStorageUnavailable ? .debug : .error, "OSDP event not journaled: \(error)")
        }
    }
}
