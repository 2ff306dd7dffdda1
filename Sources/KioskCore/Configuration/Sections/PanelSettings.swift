// `panel.*`: the credential sent to an access-control panel and the Wiegand lines, checked against the format.
package import DoorIO
import Foundation

/// An access-control panel (`panel.*`), used when `door.mode` is `wiegand`: which number goes to
/// the panel for a granted face, in which format, on which lines and with which timing.
package struct PanelSettings: Sendable, Equatable {
    /// Where the card number comes from.
    package enum Credential: String, Sendable, CaseIterable {
        /// The Face AiDee user id is the card number, with `facility_code`.
        case userID = "user_id"
        /// `lookup_file` maps user ids to card numbers.
        case lookup
    }

    /// `h10301` (26-bit), `h10306` (34-bit) or `raw` (`raw_bits` bits, no parity).
    package var format = "h10301"
    package var rawBits = 32
    package var facilityCode = 0
    package var credential: Credential = .userID
    package var lookupFile = ""
    /// `none`, or `fixed N`: the card sent for a denied face (panels that log refusals).
    package var sendDenied = "none"
    package var d0Line = "wiegand-d0"
    package var d1Line = "wiegand-d1"
    /// The standard: lines idle high, pulses pull them low.
    package var activeLow = true
    package var pulseWidthMicroseconds = 50
    package var intervalMicroseconds = 2000
    /// The panel's LED and beeper lines to the reader (inputs here); empty: not wired.
    package var ledLine = ""
    package var beeperLine = ""
    /// The panel pulls its LED/beeper lines low to turn them on (open collector), the usual case.
    package var inputsActiveLow = true

    package init() {}

    /// The format, when `format` (and `raw_bits`) name one.
    package var wiegandFormat: WiegandFormat? { WiegandFormat(name: format, rawBits: rawBits) }

    /// The card for denied faces: nil for `none`, the number for `fixed N`, or a parse failure.
    package func deniedCard() -> Result<UInt64?, PanelSettingsProblem> {
        let text = sendDenied.trimmingCharacters(in: .whitespaces)
        if text == "none" { return .success(nil) }
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0] == "fixed", let card = UInt64(parts[1]) else {
            return .failure(PanelSettingsProblem(message: "'\(sendDenied)' is not 'none' or 'fixed CARD' (e.g. fixed 65535)"))
        }
        return .success(card)
    }
}

/// A panel setting that cannot be used.
package struct PanelSettingsProblem: Error, Sendable, Equatable {
    package var message: String
}

extension PanelSettings: ConfigurationSection {
    static let name = "panel"

    mutating func read(from keys: SectionReader) {
        keys.string("format", &format)
        keys.int("raw_bits", &rawBits, range: WiegandFormat.rawBitRange)
        keys.int("facility_code", &facilityCode, range: 0...65_535)
        keys.choice("credential", &credential)
        keys.string("lookup_file", &lookupFile)
        keys.string("send_denied", &sendDenied)
        let wiegand = keys.nested("wiegand")
        wiegand.string("d0_line", &d0Line)
        wiegand.string("d1_line", &d1Line)
        wiegand.bool("active_low", &activeLow)
        wiegand.int("pulse_width_us", &pulseWidthMicroseconds, range: WiegandTiming.pulseWidthRange)
        wiegand.int("interval_us", &intervalMicroseconds, range: WiegandTiming.intervalRange)
        keys.string("led_line", &ledLine)
        keys.string("beeper_line", &beeperLine)
        keys.bool("inputs_active_low", &inputsActiveLow)
    }

    func validate(_ keys: SectionReader) {
        guard let format = wiegandFormat else {
            keys.issue("format", "'\(self.format)' is not one of: h10301, h10306, raw")
            return
        }
        do throws(WiegandFormatError) {
            try format.check(WiegandCredential(facility: UInt64(facilityCode), card: 0))
        } catch {
            keys.issue("facility_code", "\(error)")
        }
        switch deniedCard() {
        case .failure(let problem): keys.issue("send_denied", problem.message)
        case .success(let card?) where card > format.maxCard:
            keys.issue("send_denied", "card \(card) does not fit \(format) (0-\(format.maxCard))")
        case .success: break
        }
        if credential == .lookup && lookupFile.isEmpty {
            keys.issue("lookup_file", "is required with credential: lookup (a user_id,card_number CSV file)")
        }
        if wiegandTiming.interval < wiegandTiming.pulseWidth * 4 {
            keys.issue("wiegand.interval_us", "must be at least 4 × pulse_width_us so the panel sees the line idle between bits")
        }
    }

    var wiegandTiming: WiegandTiming { WiegandTiming(pulseWidth: pulseWidthMicroseconds, interval: intervalMicroseconds) }

    /// Checks made only when a panel is in use (`door.mode: wiegand`): the lines are named and
    /// the lookup file reads and fits the format, the error naming its file and line.
    func validateInUse(_ keys: SectionReader) {
        if d0Line.isEmpty { keys.issue("wiegand.d0_line", "is required with door.mode: wiegand") }
        if d1Line.isEmpty { keys.issue("wiegand.d1_line", "is required with door.mode: wiegand") }
        if !d0Line.isEmpty && d0Line == d1Line { keys.issue("wiegand.d1_line", "is the same line as d0_line") }
        if credential == .lookup, !lookupFile.isEmpty, let format = wiegandFormat {
            do throws(CardTableError) {
                _ = try CardTable.load(path: lookupFile, format: format)
            } catch {
                keys.issue("lookup_file", "\(error)")
            }
        }
    }
}

extension PanelSettings {
    /// Adds the panel's lines and grant routing to the door controller's configuration.
    package func apply(to door: inout DoorIOConfiguration) {
        door.grantOutput = .panel
        door.wiegand = WiegandLines(
            d0: GPIOLineSelector(parsing: d0Line), d1: GPIOLineSelector(parsing: d1Line), activeLow: activeLow, timing: wiegandTiming)
        if !ledLine.isEmpty { door.panelLED = GPIOInputLine(GPIOLineSelector(parsing: ledLine), activeLow: inputsActiveLow) }
        if !beeperLine.isEmpty { door.panelBeeper = GPIOInputLine(GPIOLineSelector(parsing: beeperLine), activeLow: inputsActiveLow) }
    }
}

extension KioskConfiguration {
    /// With OSDP the lookup file is read the same way as with Wiegand; returns whether it failed.
    private func credentialMappingProblem(_ reader: Reader) -> Bool {
        guard panel.credential == .lookup, !panel.lookupFile.isEmpty, let format = panel.wiegandFormat else { return false }
        do throws(CardTableError) {
            _ = try CardTable.load(path: panel.lookupFile, format: format)
            return false
        } catch {
            reader.section(PanelSettings.name).issue("lookup_file", "\(error)")
            return true
        }
    }

    /// The rules joining `door.mode`, `panel.*` and `osdp.*`.
    func validatePanel(_ reader: Reader) {
        if door.mode == .wiegand { panel.validateInUse(reader.section(PanelSettings.name)) }
        if door.mode == .osdp {
            osdp.validateInUse(reader.section(OSDPSettings.name))
            if credentialMappingProblem(reader) { return }
        }
    }
}
