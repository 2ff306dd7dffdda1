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

/// `--config`, shared by the panel commands.
struct PanelOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("kioskd configuration (default: \(ConfigurationLoader.defaultFile)).", valueName: "file"))
    var config: String?

    func load() async throws -> KioskConfiguration {
        let path = config ?? ConfigurationLoader.defaultFile
        guard FileManager.default.fileExists(atPath: path) else {
            throw PanelCommandError(description: "no configuration at \(path); give --config FILE")
        }
        do {
            return try await ConfigurationLoader(file: path, environment: ProcessInfo.processInfo.environment).load()
        } catch {
            throw PanelCommandError(description: "cannot use \(path):\n\(error)")
        }
    }
}

/// A panel command failed; the text says what to do.
struct PanelCommandError: Error, CustomStringConvertible {
    var description: String
}

struct PanelSendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send one credential the configured way (format, lines, timing), e.g. `kioskctl panel send --card 4001`.")

    @OptionGroup var options: PanelOptions
    @Option(help: "Card number.") var card: UInt64
    @Option(help: "Facility code (default: panel.facility_code).") var facility: UInt64?

    mutating func run() async throws {
        let config = try await options.load()
        guard let format = config.panel.wiegandFormat else {
            throw PanelCommandError(description: "panel.format '\(config.panel.format)' is not a format")
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
            throw PanelCommandError(description: "\(error)")
        }
        await controller.shutdown()
        print("sent \(format) \(credential): \(String(frame.map { $0 ? "1" : "0" }))")
        print(
            String(
                format: "pulse %.0f-%.0f us, interval %.0f-%.0f us, frame %.1f ms (sender's clock)", report.pulseWidth.lowerBound,
                report.pulseWidth.upperBound, report.interval.lowerBound, report.interval.upperBound, report.total / 1000))
    }
}

struct PanelWatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print Wiegand frames read from two input lines, decoded, with their timing, until Ctrl-C, --count or --timeout.")

    @OptionGroup var options: PanelOptions
    @Option(help: "GPIO chip (default: door.chip).") var chip: String?
    @Option(help: "D0 line name or offset (default: panel.wiegand.d0_line).") var d0: String?
    @Option(help: "D1 line name or offset (default: panel.wiegand.d1_line).") var d1: String?
    @Flag(help: "The lines idle low and pulse high (default: the configuration's active_low).") var activeHigh = false
    @Option(help: "Stop after this many frames.") var count: Int?
    @Option(help: "Stop after this many seconds.") var timeout: Double?

    mutating func run() async throws {
        let config = try? await options.load()
        let panel = config?.panel ?? PanelSettings()
        let chip = self.chip ?? config?.door.chip ?? "gpiochip0"
        let receiver: WiegandReceiver
        do {
            receiver = try WiegandReceiver(
                chip: chip, d0: GPIOLineSelector(parsing: d0 ?? panel.d0Line), d1: GPIOLineSelector(parsing: d1 ?? panel.d1Line),
                activeLow: activeHigh ? false : panel.activeLow, consumer: "kioskctl")
        } catch {
            throw PanelCommandError(description: "\(error)")
        }
        let configured = panel.wiegandFormat
        let limit = count
        let stopper = timeout.map { seconds in
            Task {
                try? await Task.sleep(for: .seconds(seconds))
                await receiver.stop()
            }
        }
        print("watching Wiegand D0/D1 on \(chip); Ctrl-C to stop")
        var seen = 0
        for await result in receiver.frames {
            switch result {
            case .failure(let error):
                stopper?.cancel()
                throw PanelCommandError(description: "\(error)")
            case .success(let frame):
                print(Self.describe(frame, configured: configured))
                seen += 1
            }
            if let limit, seen >= limit { break }
        }
        stopper?.cancel()
        await receiver.stop()
    }

    /// One line per frame: bits, the decoding for its length, timing.
    static func describe(_ frame: WiegandReceivedFrame, configured: WiegandFormat?) -> String {
        let candidates = [configured, .h10301, .h10306].compactMap { $0 }.filter { $0.bitCount == frame.bits.count }
        var decoded = "no known format for \(frame.bits.count) bits"
        if let format = candidates.first {
            do {
                decoded = "\(format) \(try format.decode(frame.bits))"
            } catch {
                decoded = "\(error)"
            }
        }
        let widths = frame.pulseWidths.compactMap { $0 }.map { Double($0) / 1000 }
        let intervals = frame.intervals.map { Double($0) / 1000 }
        let timing = String(
            format: "pulse %.0f-%.0f us, interval %.0f-%.0f us", widths.min() ?? 0, widths.max() ?? 0, intervals.min() ?? 0,
            intervals.max() ?? 0)
        let glitches = frame.glitches > 0 ? ", \(frame.glitches) glitch(es)" : ""
        return "\(frame.bits.count) bits \(frame.bitText): \(decoded); \(timing)\(glitches)"
    }
}
