// door.mode / panel.*: defaults, range checks against the format, the lookup file's errors, OSDP refused.
import DoorIO
import Foundation
import TestSupport
import Testing

@testable import KioskCore

@Suite("Panel configuration")
struct PanelConfigurationTests {
    func write(_ text: String, name: String = "kioskd.yaml") throws -> String {
        let dir = try TestAssets.temporaryDirectory("kiosk-panel-config")
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func issues(_ yaml: String) async throws -> [ConfigurationIssue] {
        let path = try write(yaml)
        let error = await #expect(throws: ConfigurationError.self) { try await ConfigurationLoader(file: path).load() }
        return try #require(error).issues
    }

    @Test("relay stays the default; the panel is not involved")
    func defaults() async throws {
        let config = try await ConfigurationLoader(file: nil).load()
        #expect(config.door.mode == .relay)
        #expect(config.door.kind == .door)
        #expect(config.doorConfiguration.grantOutput == .relay)
        #expect(config.doorConfiguration.wiegand == nil)
        #expect(config.panel.wiegandFormat == .h10301)
    }

    @Test("wiegand mode routes grants to the panel with the configured lines and timing; no relay needed")
    func wiegandMode() async throws {
        let path = try write(
            """
            door:
              mode: wiegand
              lines:
                relay: ""
            panel:
              format: h10306
              facility_code: 4000
              send_denied: fixed 65535
              wiegand:
                d0_line: "20"
                d1_line: wd1
                pulse_width_us: 80
                interval_us: 1000
              led_line: panel-led
            """)
        let config = try await ConfigurationLoader(file: path).load()
        let door = config.doorConfiguration
        #expect(door.grantOutput == .panel)
        #expect(door.relay == nil)
        #expect(
            door.wiegand
                == WiegandLines(d0: .offset(20), d1: .name("wd1"), activeLow: true, timing: WiegandTiming(pulseWidth: 80, interval: 1000)))
        #expect(door.panelLED == GPIOInputLine(.name("panel-led"), activeLow: true))
        #expect(door.outputs[.wiegandD0] == GPIOOutputLine(.offset(20), activeLow: true))
        #expect(config.panel.deniedCard() == .success(65535))
        #expect(throws: Never.self) { try door.validate() }
    }

    @Test("facility code, denied card and timing are checked against the format, naming key and file")
    func ranges() async throws {
        let found = try await issues(
            """
            door:
              mode: wiegand
            panel:
              format: h10301
              facility_code: 300
              send_denied: fixed 70000
              wiegand:
                pulse_width_us: 500
            """)
        let byKey = Dictionary(found.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(byKey["panel.facility_code"]?.message.contains("0-255") == true)
        #expect(byKey["panel.send_denied"]?.message.contains("70000") == true)
        #expect(byKey["panel.wiegand.pulse_width_us"]?.message.contains("20…100") == true)
        #expect(byKey["panel.facility_code"]?.source.hasSuffix("kioskd.yaml") == true)
    }

    @Test("unknown format and a malformed send_denied are refused")
    func badNames() async throws {
        let found = try await issues(
            """
            panel:
              format: h99999
              send_denied: always
            """)
        #expect(Set(found.map(\.key)) == ["panel.format"])
        let denied = try await issues("panel:\n  send_denied: always\n")
        #expect(denied.first?.key == "panel.send_denied")
        #expect(denied.first?.message.contains("fixed CARD") == true)
    }

    @Test("the lookup file's problems name the file and the line")
    func lookupFile() async throws {
        let csv = try write("user_id,card_number\n12,4001\n\n# a comment\n13,70000\n", name: "cards.csv")
        let found = try await issues(
            """
            door:
              mode: wiegand
            panel:
              credential: lookup
              lookup_file: \(csv)
            """)
        let issue = try #require(found.first { $0.key == "panel.lookup_file" })
        #expect(issue.message.contains("\(csv) line 5"))
        #expect(issue.message.contains("70000 does not fit h10301"))
        let missing = try await issues("door:\n  mode: wiegand\npanel:\n  credential: lookup\n  lookup_file: /nonexistent/cards.csv\n")
        #expect(missing.first { $0.key == "panel.lookup_file" }?.message.contains("/nonexistent/cards.csv") == true)
        let table = try CardTable.parse("user_id,card_number\n12,4001\n 7 , 9 \n", path: "x.csv", format: .h10301)
        #expect(table.cards == [12: 4001, 7: 9])
        #expect(throws: CardTableError.self) { try CardTable.parse("1,2\n1,3\n", path: "x.csv", format: .h10301) }
    }

    @Test("osdp is refused at configuration time as not supported yet")
    func osdpRefused() async throws {
        let found = try await issues("door:\n  mode: osdp\n")
        #expect(found.first { $0.key == "door.mode" }?.message.contains("not supported yet") == true)
    }

    @Test("a turnstile needs its passage line")
    func turnstileNeedsPassage() async throws {
        let found = try await issues("door:\n  kind: turnstile\n")
        #expect(found.first { $0.key == "door.lines.passage" } != nil)
        let path = try write("door:\n  kind: turnstile\n  direction: entry\n  lines:\n    passage: turnstile-passage\n")
        let config = try await ConfigurationLoader(file: path).load()
        #expect(config.doorConfiguration.kind == .turnstile)
        #expect(config.doorConfiguration.passage == GPIOInputLine(.name("turnstile-passage")))
        #expect(config.door.direction == .entry)
    }
}
