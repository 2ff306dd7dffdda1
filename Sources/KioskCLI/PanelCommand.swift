// `kioskctl panel send|watch`: commissioning with the access-control panel's installer.
package import ArgumentParser
import DoorIO
import Foundation
import KioskCore
import Logging
import OSDP

/// `kioskctl panel send|watch`.
package struct PanelCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "panel",
        abstract: "Send a credential to the access-control panel, or watch Wiegand or OSDP frames (door.mode: wiegand | osdp).",
        discussion: """
            Lines, format and timing come from kioskd's configuration (--config, default \
            /etc/kiosk-agent/kioskd.yaml): panel.wiegand.d0_line/d1_line on door.chip, or osdp.port \
            with door.mode: osdp. Stop kioskd first: it holds D0/D1 or the OSDP port while it runs. \
            See docs/PANEL.md.
            """,
        subcommands: [PanelSendCommand.self, PanelWatchCommand.self])

    package init() {}
}

/// The panel's settings failed to load or a line could not be used; the text says what to do.
extension CommandFailure {
    init(panel error: any Error) {
        if let door = error as? DoorIOError {
            self.init(door: door)
        } else {
            self.init(.failure, "\(error)")
        }
    }
}

struct PanelSendCommand: AsyncParsableCommand, KioskctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send one credential the configured way (format, lines, timing), e.g. `kioskctl panel send --card 4001`."
    ).compactUsage("kioskctl panel send --card <card> [<options>]")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Card number.") var card: UInt64
    @Option(help: "Facility code (default: panel.facility_code).") var facility: UInt64?
    @Option(help: "OSDP: seconds to wait for the panel's next poll to collect the card read.") var timeout: Double = 10

    mutating func run() async throws {
        let config = try await global.loadConfiguration()
        guard let format = config.panel.wiegandFormat else {
            throw CommandFailure(.configuration, "panel.format '\(config.panel.format)' is not a Wiegand format")
        }
        let credential = WiegandCredential(
            facility: facility ?? (format.facilityBits == 0 ? 0 : UInt64(config.panel.facilityCode)), card: card)
        let frame: [Bool]
        do {
            frame = try format.encode(credential)
        } catch {
            throw ValidationError("\(error)")
        }
        if config.door.mode == .osdp {
            try await sendOverOSDP(config, credential: credential, format: format)
            return
        }
        var door = config.doorConfiguration
        config.panel.apply(to: &door)
        // Only D0/D1: the relay, LEDs and inputs are left alone.
        let lines = DoorIOConfiguration(
            backend: door.backend, chip: door.chip, consumer: "kioskctl", relay: nil, grantOutput: .panel, wiegand: door.wiegand)
        // The command prints its own result; the controller's log lines would only repeat it.
        let quiet = Logger(label: "kioskctl.panel", factory: { _ in SwiftLogNoOpLogHandler() })
        let controller = DoorController(configuration: lines, logger: quiet)
        let report: WiegandSendReport
        do {
            try await controller.start()
            report = try await controller.sendCredential(frame)
        } catch {
            await controller.shutdown()
            throw CommandFailure(panel: error)
        }
        await controller.shutdown()
        let bits = String(frame.map { $0 ? "1" : "0" })
        if global.json {
            JSONOutput.print([
                "format": "\(format)", "facility": credential.facility, "card": credential.card, "bits": bits,
                "pulse_us": [report.pulseWidth.lowerBound, report.pulseWidth.upperBound],
                "interval_us": [report.interval.lowerBound, report.interval.upperBound], "frame_ms": report.total / 1000,
            ])
            return
        }
        print("sent \(format) \(credential): \(bits)")
        print(
            String(
                format: "pulse %.0f-%.0f us, interval %.0f-%.0f us, frame %.1f ms (sender's clock)", report.pulseWidth.lowerBound,
                report.pulseWidth.upperBound, report.interval.lowerBound, report.interval.upperBound, report.total / 1000))
    }
}

extension PanelSendCommand {
    /// `door.mode: osdp`: a short-lived PD on osdp.port answers the panel until its next poll
    /// has collected the card read (or `--timeout` passes). The port is busy while kioskd runs.
    func sendOverOSDP(_ config: KioskConfiguration, credential: WiegandCredential, format: WiegandFormat) async throws {
        let peripheral: OSDPPeripheralConfiguration
        do {
            peripheral = try config.osdp.peripheralConfiguration()
        } catch {
            throw CommandFailure(.configuration, "osdp.scbk_file: \(error)")
        }
        let card: OSDPCardRead
        do {
            card = try OSDPDoor.cardRead(credential, format: format)
        } catch {
            throw ValidationError("\(error)")
        }
        let reader = OSDPReaderService(port: config.osdp.port, configuration: peripheral)
        do {
            try reader.start()
        } catch {
            throw CommandFailure(.failure, "osdp.port: \(error)")
        }
        reader.enqueueCardRead(card)
        global.note("waiting for the panel to poll \(config.osdp.port) (address \(config.osdp.address)); up to \(timeout) s")
        let deadline = Task {
            try? await Task.sleep(for: .seconds(timeout))
            await reader.stop()
        }
        var delivered = false
        var problems: [String] = []
        for await event in reader.events {
            switch event {
            case .cardDelivered:
                delivered = true
            case .secureChannelFailed(let reason):
                problems.append("secure channel failed: \(reason)")
            case .lineFailed(let error):
                problems.append("\(error)")
            case .refused(_, .securityConditions, let detail):
                if !problems.contains(detail) { problems.append(detail) }
            default:
                break
            }
            if delivered { break }
        }
        deadline.cancel()
        await reader.stop()
        let bits = String(card.bits.map { $0 ? "1" : "0" })
        if global.json {
            JSONOutput.print([
                "format": "\(format)", "facility": credential.facility, "card": credential.card, "bits": bits, "delivered": delivered,
                "problems": problems,
            ])
        } else if delivered {
            print("sent \(format) \(credential) in osdp_RAW: \(bits)")
        }
        guard delivered else {
            let why =
                problems.isEmpty
                ? "the panel did not poll address \(config.osdp.address) on \(config.osdp.port)" : problems.joined(separator: "; ")
            throw CommandFailure(.failure, "card read not collected within \(timeout) s: \(why)")
        }
    }
}

struct PanelWatchCommand: AsyncParsableCommand, KioskctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print Wiegand frames read from two input lines, decoded, with their timing, until Ctrl-C, --count or --timeout."
    ).compactUsage("kioskctl panel watch [<options>]")

    @OptionGroup var global: GlobalOptions
    @Option(help: "GPIO chip (default: door.chip).") var chip: String?
    @Option(help: "D0 line name or offset (default: panel.wiegand.d0_line).") var d0: String?
    @Option(help: "D1 line name or offset (default: panel.wiegand.d1_line).") var d1: String?
    @Flag(help: "The lines idle low and pulse high (default: the configuration's active_low).") var activeHigh = false
    @Option(help: "Stop after this many frames.") var count: Int?
    @Option(help: "Stop after this many seconds.") var timeout: Double?
    @Option(
        help: "OSDP: listen on this serial port, never answering (a second adapter on the bus; default osdp.port with door.mode: osdp).")
    var osdpPort: String?
    @Option(help: "OSDP: the bus's baud rate (default osdp.baud).") var baud: Int?

    mutating func run() async throws {
        // Watching needs no configuration: --chip/--d0/--d1 name the lines on a bench.
        let config = global.configurationFile == nil ? nil : try await global.loadConfiguration()
        if osdpPort != nil || config?.door.mode == .osdp {
            try await watchOSDP(port: osdpPort ?? config?.osdp.port ?? "/dev/ttyUSB0", baud: baud ?? config?.osdp.baud ?? 9600)
            return
        }
        let panel = config?.panel ?? PanelSettings()
        let chip = self.chip ?? config?.door.chip ?? "gpiochip0"
        let receiver: WiegandReceiver
        do {
            receiver = try WiegandReceiver(
                chip: chip, d0: GPIOLineSelector(parsing: d0 ?? panel.d0Line), d1: GPIOLineSelector(parsing: d1 ?? panel.d1Line),
                activeLow: activeHigh ? false : panel.activeLow, consumer: "kioskctl")
        } catch {
            throw CommandFailure(panel: error)
        }
        let configured = panel.wiegandFormat
        let limit = count
        let stopper = timeout.map { seconds in
            Task {
                try? await Task.sleep(for: .seconds(seconds))
                await receiver.stop()
            }
        }
        global.note("watching Wiegand D0/D1 on \(chip); Ctrl-C to stop")
        if !global.json { print("watching Wiegand D0/D1 on \(chip); Ctrl-C to stop") }
        var seen = 0
        for await result in receiver.frames {
            switch result {
            case .failure(let error):
                stopper?.cancel()
                throw CommandFailure(panel: error)
            case .success(let frame):
                if global.json {
                    JSONOutput.print(Self.object(frame, configured: configured))
                } else {
                    print(Self.describe(frame, configured: configured))
                }
                seen += 1
            }
            if let limit, seen >= limit { break }
        }
        stopper?.cancel()
        await receiver.stop()
    }

    /// The frame decoded by the first format of its length (the configured one first), or why not.
    static func decoding(_ frame: WiegandReceivedFrame, configured: WiegandFormat?) -> (format: WiegandFormat?, result: String) {
        let candidates = [configured, .h10301, .h10306].compactMap { $0 }.filter { $0.bitCount == frame.bits.count }
        guard let format = candidates.first else { return (nil, "no known format for \(frame.bits.count) bits") }
        do {
            return (format, "\(try format.decode(frame.bits))")
        } catch {
            return (format, "\(error)")
        }
    }

    /// Pulse widths and intervals in µs.
    static func timing(_ frame: WiegandReceivedFrame) -> (widths: [Double], intervals: [Double]) {
        (frame.pulseWidths.compactMap { $0 }.map { Double($0) / 1000 }, frame.intervals.map { Double($0) / 1000 })
    }

    /// One line per frame: bits, the decoding for its length, timing.
    static func describe(_ frame: WiegandReceivedFrame, configured: WiegandFormat?) -> String {
        let decoded = decoding(frame, configured: configured)
        let (widths, intervals) = timing(frame)
        let timing = String(
            format: "pulse %.0f-%.0f us, interval %.0f-%.0f us", widths.min() ?? 0, widths.max() ?? 0, intervals.min() ?? 0,
            intervals.max() ?? 0)
        let glitches = frame.glitches > 0 ? ", \(frame.glitches) glitch(es)" : ""
        let text = decoded.format.map { "\($0) \(decoded.result)" } ?? decoded.result
        return "\(frame.bits.count) bits \(frame.bitText): \(text); \(timing)\(glitches)"
    }

    /// The same frame for `--json` (one object per line): docs/KIOSKCTL.md, "panel".
    static func object(_ frame: WiegandReceivedFrame, configured: WiegandFormat?) -> [String: Any] {
        let decoded = decoding(frame, configured: configured)
        let (widths, intervals) = timing(frame)
        return [
            "bit_count": frame.bits.count, "bits": frame.bitText, "format": decoded.format.map { "\($0)" } ?? NSNull(),
            "decoded": decoded.result, "pulse_us": [widths.min() ?? 0, widths.max() ?? 0],
            "interval_us": [intervals.min() ?? 0, intervals.max() ?? 0], "glitches": frame.glitches,
        ]
    }
}

extension PanelWatchCommand {
    /// Prints every OSDP frame on the bus, commands and replies, decoded (encrypted data stays
    /// ciphertext: a listener has no session keys).
    func watchOSDP(port: String, baud: Int) async throws {
        let sniffer: OSDPLineSniffer
        do {
            sniffer = try OSDPLineSniffer(path: port, baud: baud)
        } catch {
            throw CommandFailure(.failure, "\(error)")
        }
        let stopper = timeout.map { seconds in
            Task {
                try? await Task.sleep(for: .seconds(seconds))
                await sniffer.stop()
            }
        }
        if !global.json { print("listening to OSDP on \(port) at \(baud) baud; Ctrl-C to stop") }
        var seen = 0
        for await result in sniffer.items {
            switch result {
            case .failure(let error):
                stopper?.cancel()
                throw CommandFailure(.failure, "\(error)")
            case .success(.frame(let frame, let bytes)):
                if global.json {
                    JSONOutput.print([
                        "reply": frame.isReply, "address": Int(frame.address), "sequence": Int(frame.sequence), "code": Int(frame.code),
                        "summary": frame.summary, "bytes": bytes.map { String($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(),
                    ])
                } else {
                    print(frame.summary)
                }
                seen += 1
            case .success(.corrupted(let address, let sequence, let isReply, let problem)):
                if !global.json { print("\(isReply ? "PD→CP" : "CP→PD") addr \(address) seq \(sequence): \(problem)") }
            }
            if let count, seen >= count { break }
        }
        stopper?.cancel()
        await sniffer.stop()
    }
}
