// door.mode / panel.* / osdp.*: defaults, range checks against the format, the lookup file's errors, OSDP's keys.
import DoorIO
import Foundation
import OSDP
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

    @Test("osdp: defaults, keys checked at load with errors naming them, the key file read but never shown")
    func osdpSettings() async throws {
        let missingKey = try await issues("door:\n  mode: osdp\n")
        #expect(missingKey.first { $0.key == "osdp.scbk_file" }?.message.contains("install_mode") == true)

        let ranges = try await issues("door:\n  mode: osdp\nosdp:\n  address: 127\n  baud: 1200\n  secure: maybe\n  port: \"\"\n")
        #expect(ranges.contains { $0.key == "osdp.address" })
        #expect(ranges.contains { $0.key == "osdp.baud" })
        #expect(ranges.contains { $0.key == "osdp.secure" })
        #expect(ranges.contains { $0.key == "osdp.port" })
        let odd = try await issues("door:\n  mode: osdp\nosdp:\n  baud: 14400\n  secure: off\n")
        #expect(odd.first { $0.key == "osdp.baud" }?.message.contains("9600") == true)

        let dir = try TestAssets.temporaryDirectory("kiosk-osdp-key")
        let keyPath = dir.appendingPathComponent("scbk").path
        try "00112233445566778899aabbccddeeff\n".write(toFile: keyPath, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keyPath)
        let open = try await issues("door:\n  mode: osdp\nosdp:\n  scbk_file: \(keyPath)\n")
        let openIssue = try #require(open.first { $0.key == "osdp.scbk_file" })
        #expect(openIssue.message.contains("chmod 600"))
        #expect(!openIssue.message.contains("0011223344"))

        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyPath)
        let path = try write(
            "door:\n  mode: osdp\n  lines:\n    relay: \"\"\nosdp:\n  port: /dev/ttyS9\n  address: 12\n  scbk_file: \(keyPath)\n")
        let config = try await ConfigurationLoader(file: path).load()
        #expect(config.osdp.address == 12 && config.osdp.baud == 9600 && config.osdp.secure == .required)
        #expect(config.doorConfiguration.grantOutput == .panel)
        #expect(config.doorConfiguration.panelFeedbackOverLink)
        let peripheral = try config.osdp.peripheralConfiguration()
        #expect(peripheral.address == 12 && peripheral.scbk?.hex == "00112233445566778899aabbccddeeff")

        // Install mode: no key file yet is fine, the panel sets the key.
        let install = try write("door:\n  mode: osdp\nosdp:\n  install_mode: true\n  scbk_file: \(dir.path)/new-key\n")
        let installed = try await ConfigurationLoader(file: install).load()
        #expect(try installed.osdp.peripheralConfiguration().scbk == nil)
    }

    @Test("an H10301 credential becomes osdp_RAW with the Wiegand bits, parity included")
    func osdpCardRead() throws {
        let card = try OSDPDoor.cardRead(WiegandCredential(facility: 13, card: 13067), format: .h10301)
        #expect(card.format == .wiegand)
        #expect(card.payload == [0x00, 0x01, 26, 0x00, 0x86, 0x99, 0x85, 0x80])
        #expect(try OSDPDoor.cardRead(WiegandCredential(card: 5), format: .raw(bits: 8)).payload == [0, 0, 8, 0, 0x05])
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
