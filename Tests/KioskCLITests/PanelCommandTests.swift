// `kioskctl panel`: parsing, the range check of --card/--facility, and how watched frames are printed.
import DoorIO
import Testing

@testable import KioskCLI

@Suite("kioskctl panel")
struct PanelCommandTests {
    @Test("send and watch parse their options")
    func parsing() throws {
        let send = try #require(try KioskControl.parseAsRoot(["panel", "send", "--card", "4001", "--facility", "13"]) as? PanelSendCommand)
        #expect(send.card == 4001 && send.facility == 13)
        let watch = try #require(
            try KioskControl.parseAsRoot(["panel", "watch", "--chip", "gpiochip1", "--d0", "5", "--count", "2"]) as? PanelWatchCommand)
        #expect(watch.chip == "gpiochip1" && watch.d0 == "5" && watch.count == 2)
        #expect(throws: (any Error).self) { try KioskControl.parseAsRoot(["panel", "send"]) }
    }

    @Test("a watched frame prints its bits, its decoding and its timing")
    func describeFrame() throws {
        let bits = try WiegandFormat.h10301.encode(WiegandCredential(facility: 13, card: 13067))
        let frame = WiegandReceivedFrame(
            bits: bits, pulseWidths: bits.map { _ in 52_000 }, starts: bits.indices.map { Int64($0) * 2_000_000 }, glitches: 0)
        let line = PanelWatchCommand.describe(frame, configured: .h10301)
        #expect(line.hasPrefix("26 bits 10000110100110011000010110: h10301 (26-bit) facility 13 card 13067"))
        #expect(line.contains("pulse 52-52 us, interval 2000-2000 us"))
        var flipped = frame
        flipped.bits[5].toggle()
        #expect(PanelWatchCommand.describe(flipped, configured: nil).contains("parity"))
        let object = PanelWatchCommand.object(frame, configured: .h10301)
        #expect(object["bit_count"] as? Int == 26 && object["bits"] as? String == "10000110100110011000010110")
        #expect((object["decoded"] as? String)?.contains("card 13067") == true)
        #expect(object["pulse_us"] as? [Double] == [52, 52] && object["interval_us"] as? [Double] == [2000, 2000])
    }

    @Test("send and watch take the shared --config, --json and --verbose")
    func globalOptions() throws {
        let send = try #require(
            try KioskControl.parseAsRoot(["panel", "send", "--card", "1", "--config", "/tmp/k.yaml", "--json", "-v"]) as? PanelSendCommand)
        #expect(send.global.config == "/tmp/k.yaml" && send.global.json && send.global.verbose)
    }
}
