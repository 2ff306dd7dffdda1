// The PD on a serial line: a thread reads bytes, the protocol answers, events go out as an async stream.
import Synchronization
import Threading

#if canImport(Glibc)
import Glibc
#endif

/// What the reader's line reports to its owner (kioskd's OSDPDoor, the tests, kioskctl).
package enum OSDPReaderEvent: Sendable, Equatable {
    /// osdp_LED from the panel.
    case led(OSDPLEDCommand)
    /// osdp_BUZ from the panel.
    case buzzer(OSDPBuzzerCommand)
    /// The control panel talks to this reader (first command after a silence).
    case controlPanelOnline
    /// No command for longer than the offline threshold (8 s by default).
    case controlPanelOffline(silence: Duration)
    /// The Secure Channel is up (`SCBK` or `SCBK-D`).
    case secureChannelEstablished(key: String)
    /// A Secure Channel attempt failed, or an established one ended; the reason says what to do.
    case secureChannelFailed(reason: String)
    /// osdp_KEYSET: the new key was stored (where) or could not be (why).
    case keyStored(path: String)
    case keyNotStored(reason: String)
    /// osdp_COMSET: the line now uses these settings.
    case communicationSettingsChanged(OSDPCommunicationSettings)
    /// A command answered with osdp_NAK.
    case refused(command: UInt8, reason: OSDPNakReason, detail: String)
    /// A queued card read went to the panel.
    case cardDelivered(OSDPCardRead)
    /// The line failed; the thread reopens it every second until it works again.
    case lineFailed(OSDPSerialError)
    /// The line works again after a failure.
    case lineRecovered
}

/// The link's state as the status board shows it.
package struct OSDPReaderStatus: Sendable, Equatable {
    package var controlPanelOnline = false
    package var secureChannel = false
    package var pendingCardReads = 0

    package init() {}
}

/// Where a key set by osdp_KEYSET goes (`osdp.scbk_file`); returns the path or throws why not.
package typealias OSDPKeyStore = @Sendable (OSDPKey) throws -> String

/// A PD on one serial line. `start()` opens the line and starts its thread; `events` says what
/// the panel asks and how the link is; `enqueueCardRead` queues a credential for the next poll.
package final class OSDPReaderService: Sendable {
    package let port: String
    private let baud: Int
    private let configuration: OSDPPeripheralConfiguration
    private let offlineAfter: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let keyStore: OSDPKeyStore?
    private let randomBytes: (@Sendable (Int) -> [UInt8])?
    private let continuation: AsyncStream<OSDPReaderEvent>.Continuation
    /// Everything the line reports, in order. One consumer.
    package let events: AsyncStream<OSDPReaderEvent>

    private struct Shared {
        var queued: [OSDPCardRead] = []
        var status = OSDPReaderStatus()
        var stopping = false
        var started = false
    }
    private let shared = Mutex(Shared())
    private let exit = ThreadExit()

    /// - Parameters:
    ///   - offlineAfter: the silence after which the CP counts as offline (OSDP CPs poll every
    ///     few hundred milliseconds; 8 s rides out retries and restarts).
    ///   - now: the clock the silence is measured on (tests advance it).
    ///   - keyStore: stores a key set by osdp_KEYSET; nil refuses to keep it beyond this run.
    package init(
        port: String, configuration: OSDPPeripheralConfiguration, offlineAfter: Duration = .seconds(8),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }, keyStore: OSDPKeyStore? = nil,
        randomBytes: (@Sendable (Int) -> [UInt8])? = nil
    ) {
        self.port = port
        self.baud = configuration.baud
        self.configuration = configuration
        self.offlineAfter = offlineAfter
        self.now = now
        self.keyStore = keyStore
        self.randomBytes = randomBytes
        (events, continuation) = AsyncStream.makeStream(of: OSDPReaderEvent.self, bufferingPolicy: .bufferingNewest(256))
    }

    /// The link's state now.
    package var status: OSDPReaderStatus { shared.withLock { $0.status } }

    /// Queues a card read for the next osdp_POLL.
    package func enqueueCardRead(_ card: OSDPCardRead) {
        shared.withLock { state in
            state.queued.append(card)
            state.status.pendingCardReads += 1
        }
    }

    /// Opens the line (so a wrong port or a busy one fails here, clearly) and starts its thread.
    package func start() throws(OSDPSerialError) {
        let line = try OSDPSerialPort(path: port, baud: baud)
        shared.withLock { $0.started = true }
        let worker = LineWorker(service: self, line: line)
        if let code = DedicatedThread.start({ worker.run() }) {
            shared.withLock { $0.started = false }
            throw .threadFailed(errno: code)
        }
    }

    /// Stops the thread and closes the line; returns when both are done.
    package func stop() async {
        let started = shared.withLock { state in
            state.stopping = true
            return state.started
        }
        if started { await exit.wait() }
        continuation.finish()
    }

    // MARK: The line's thread

    /// Everything the thread owns; only the thread touches it after `start`.
    private final class LineWorker: @unchecked Sendable {
        // @unchecked: created by start(), then used by the line's thread alone.
        let service: OSDPReaderService
        var line: OSDPSerialPort?
        var parser = OSDPFrameParser()
        var peripheral: OSDPPeripheral
        var lastCommand: ContinuousClock.Instant?
        var lastByte: ContinuousClock.Instant
        var online = false
        var lineBroken = false

        init(service: OSDPReaderService, line: OSDPSerialPort) {
            self.service = service
            self.line = line
            if let random = service.randomBytes {
                peripheral = OSDPPeripheral(configuration: service.configuration, randomBytes: random)
            } else {
                peripheral = OSDPPeripheral(configuration: service.configuration)
            }
            lastByte = service.now()
        }

        func run() {
            defer {
                line = nil
                service.exit.signal()
            }
            while !service.shared.withLock({ $0.stopping }) {
                guard let line = openLine() else { continue }
                let bytes: [UInt8]
                do {
                    bytes = try line.read(timeout: .milliseconds(50))
                } catch {
                    fail(error)
                    continue
                }
                let time = service.now()
                if bytes.isEmpty {
                    // OSDP's inter-character timeout: a frame's bytes come back to back.
                    if parser.hasPartialFrame && time - lastByte > .milliseconds(50) { parser.discardPartialFrame() }
                    checkSilence(at: time)
                    continue
                }
                lastByte = time
                takeQueuedCards()
                for item in parser.append(bytes) { answer(item, on: line, at: time) }
                checkSilence(at: time)
                publishStatus()
            }
        }

        private func openLine() -> OSDPSerialPort? {
            if let line { return line }
            do {
                line = try OSDPSerialPort(path: service.port, baud: peripheral.configuration.baud)
                lineBroken = false
                service.continuation.yield(.lineRecovered)
                return line
            } catch {
                fail(error)
                return nil
            }
        }

        private func fail(_ error: OSDPSerialError) {
            line = nil
            if !lineBroken { service.continuation.yield(.lineFailed(error)) }
            lineBroken = true
            // Retry once a second, still answering stop() within 100 ms.
            for _ in 0..<10 where !service.shared.withLock({ $0.stopping }) { usleepMilliseconds(100) }
        }

        private func takeQueuedCards() {
            let cards = service.shared.withLock { state in
                let cards = state.queued
                state.queued = []
                return cards
            }
            for card in cards { peripheral.enqueue(card) }
        }

        private func answer(_ item: OSDPParsedItem, on line: OSDPSerialPort, at time: ContinuousClock.Instant) {
            let (reply, events) = peripheral.handle(item)
            if case .frame(let frame, _) = item, !frame.isReply {
                lastCommand = time
                if !online {
                    online = true
                    service.continuation.yield(.controlPanelOnline)
                }
            }
            if let reply {
                do {
                    try line.write(reply)
                } catch {
                    fail(error)
                    return
                }
            }
            for event in events { deliver(event, on: line) }
        }

        private func deliver(_ event: OSDPPeripheralEvent, on line: OSDPSerialPort) {
            let out = service.continuation
            switch event {
            case .led(let command): out.yield(.led(command))
            case .buzzer(let command): out.yield(.buzzer(command))
            case .secureChannelEstablished(let key): out.yield(.secureChannelEstablished(key: key))
            case .secureChannelFailed(let reason): out.yield(.secureChannelFailed(reason: reason))
            case .refused(let command, let reason, let detail): out.yield(.refused(command: command, reason: reason, detail: detail))
            case .cardDelivered(let card): out.yield(.cardDelivered(card))
            case .keySet(let key):
                guard let store = service.keyStore else {
                    out.yield(.keyNotStored(reason: "no osdp.scbk_file to keep it in; the key lasts until kioskd restarts"))
                    return
                }
                do {
                    out.yield(.keyStored(path: try store(key)))
                } catch {
                    out.yield(.keyNotStored(reason: "\(error)"))
                }
            case .communicationSettings(let settings):
                peripheral.apply(settings)
                do {
                    try line.setBaud(settings.baud)
                    out.yield(.communicationSettingsChanged(settings))
                } catch {
                    fail(error)
                }
            }
        }

        private func checkSilence(at time: ContinuousClock.Instant) {
            guard online, let lastCommand, time - lastCommand > service.offlineAfter else { return }
            online = false
            service.continuation.yield(.controlPanelOffline(silence: time - lastCommand))
            publishStatus()
        }

        private func publishStatus() {
            let secure = peripheral.isSecure
            let pending = peripheral.pendingCardReads
            let online = self.online
            service.shared.withLock { state in
                state.status.controlPanelOnline = online
                state.status.secureChannel = secure
                state.status.pendingCardReads = pending + state.queued.count
            }
        }
    }
}

/// Sleeps the calling (dedicated) thread.
private func usleepMilliseconds(_ milliseconds: Int) {
    var request = timespec(tv_sec: 0, tv_nsec: milliseconds * 1_000_000)
    var remaining = timespec()
    while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
}
