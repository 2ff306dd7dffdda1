// `kioskctl panel send|watch`: commissioning with the access-control panel's installer.
package import ArgumentParser
import DoorIO
import Foundation
import KioskCore
import Logging

/// `kioskctl panel send|watch`.
package struct PanelCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "panel",
        abstract: "Send a credential to the access-control panel, or watch Wiegand frames (door.mode: wiegand).",
        discussion: """
            Lines, format and timing come from kioskd's configuration (--config, default \
            /etc/kiosk-agent/kioskd.yaml): panel.wiegand.d0_line/d1_line on door.chip. Stop kioskd \
            first: it holds D0/D1 while it runs. See docs/PANEL.md.
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

    mutating func run() async throws {
        // Watching needs no configuration: --chip/--d0/--d1 name the lines on a bench.
        let config = global.configurationFile == nil ? nil : try await global.loadConfiguration()
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
