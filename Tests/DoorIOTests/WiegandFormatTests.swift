// Wiegand encoding against published H10301 frames, parity and bit order, ranges, and frame assembly.
import Testing

@testable import DoorIO

@Suite("Wiegand formats")
struct WiegandFormatTests {
    /// A frame as the number it spells, first bit most significant (how frames are published).
    static func number(_ bits: [Bool]) -> UInt64 { bits.reduce(0) { ($0 << 1) | ($1 ? 1 : 0) } }

    static func text(_ bits: [Bool]) -> String { String(bits.map { $0 ? "1" : "0" }) }

    /// Published H10301 frames: facility 13 card 13067 is 0x21A6616 (HID's format guide as worked
    /// through on r/AskElectronics); facility 2 card 26040 reads 1000 0001 0011 0010 1101 1100 01
    /// (a BLEKey issue report, 0x204CB71).
    @Test(
        "H10301 frames match published examples",
        arguments: [
            (UInt64(13), UInt64(13067), UInt64(0x21A_6616)),
            (UInt64(2), UInt64(26040), UInt64(0x204_CB71)),
        ])
    func publishedH10301(facility: UInt64, card: UInt64, frame: UInt64) throws {
        let bits = try WiegandFormat.h10301.encode(WiegandCredential(facility: facility, card: card))
        #expect(bits.count == 26)
        #expect(Self.number(bits) == frame)
        #expect(try WiegandFormat.h10301.decode(bits) == WiegandCredential(facility: facility, card: card))
    }

    @Test("H10301 layout: even parity first, facility, card MSB first, odd parity last")
    func h10301Layout() throws {
        // facility 1 (one 1 in the first half) → even parity bit 1; card 1 (one 1) → odd parity 0.
        let bits = try WiegandFormat.h10301.encode(WiegandCredential(facility: 1, card: 1))
        let expected = "1" + "00000001" + "0000000000000001" + "0"
        #expect(Self.text(bits) == expected)
        let zero = try WiegandFormat.h10301.encode(WiegandCredential(facility: 0, card: 0))
        #expect(zero.first == false && zero.last == true, "no ones: even parity 0, odd parity 1")
        // Every frame: ones in bits 1-13 even, in bits 14-26 odd.
        for (facility, card) in [(255, 65535), (170, 43690), (85, 21845), (128, 32768), (7, 12345)] {
            let frame = try WiegandFormat.h10301.encode(WiegandCredential(facility: UInt64(facility), card: UInt64(card)))
            #expect(frame[0..<13].filter { $0 }.count % 2 == 0)
            #expect(frame[13..<26].filter { $0 }.count % 2 == 1)
        }
    }

    @Test("H10306 (34-bit): 16-bit facility and card, parity over each half")
    func h10306() throws {
        let credential = WiegandCredential(facility: 65535, card: 1)
        let bits = try WiegandFormat.h10306.encode(credential)
        #expect(bits.count == 34)
        let expected = "0" + String(repeating: "1", count: 16) + "0000000000000001" + "0"
        #expect(Self.text(bits) == expected)
        #expect(try WiegandFormat.h10306.decode(bits) == credential)
    }

    @Test("raw N-bit: the card number alone, MSB first, no parity")
    func raw() throws {
        let bits = try WiegandFormat.raw(bits: 8).encode(WiegandCredential(card: 0xA5))
        #expect(bits == [true, false, true, false, false, true, false, true])
        #expect(try WiegandFormat.raw(bits: 8).decode(bits).card == 0xA5)
        #expect(throws: WiegandFormatError.cardOutOfRange(256, format: .raw(bits: 8))) {
            try WiegandFormat.raw(bits: 8).encode(WiegandCredential(card: 256))
        }
        #expect(throws: WiegandFormatError.facilityNotCarried(format: .raw(bits: 8))) {
            try WiegandFormat.raw(bits: 8).encode(WiegandCredential(facility: 1, card: 1))
        }
        #expect(WiegandFormat(name: "raw", rawBits: 0) == nil)
        #expect(WiegandFormat(name: "raw", rawBits: 64) == .raw(bits: 64))
        #expect(WiegandFormat.raw(bits: 64).maxCard == .max)
    }

    @Test("values that do not fit are refused with the range")
    func ranges() {
        #expect(throws: WiegandFormatError.facilityOutOfRange(256, format: .h10301)) {
            try WiegandFormat.h10301.encode(WiegandCredential(facility: 256, card: 1))
        }
        #expect(throws: WiegandFormatError.cardOutOfRange(65536, format: .h10301)) {
            try WiegandFormat.h10301.encode(WiegandCredential(facility: 1, card: 65536))
        }
        #expect(WiegandFormatError.cardOutOfRange(65536, format: .h10301).description.contains("0-65535"))
    }

    @Test("a flipped bit or a lost bit is caught by parity or length")
    func corruptFrames() throws {
        var bits = try WiegandFormat.h10301.encode(WiegandCredential(facility: 13, card: 13067))
        bits[3].toggle()
        #expect(throws: WiegandFormatError.parity(which: "leading even", format: .h10301)) { try WiegandFormat.h10301.decode(bits) }
        bits[3].toggle()
        bits[20].toggle()
        #expect(throws: WiegandFormatError.parity(which: "trailing odd", format: .h10301)) { try WiegandFormat.h10301.decode(bits) }
        #expect(throws: WiegandFormatError.wrongLength(25, format: .h10301)) { try WiegandFormat.h10301.decode(Array(bits.dropLast())) }
    }

    @Test("the assembler turns timestamped pulses into frames with widths and intervals")
    func assembler() throws {
        var assembler = WiegandFrameAssembler(gap: .milliseconds(25))
        let frame = try WiegandFormat.h10301.encode(WiegandCredential(facility: 13, card: 13067))
        var time: Int64 = 1_000_000_000
        for bit in frame {
            let line: WiegandDataLine = bit ? .d1 : .d0
            let started = assembler.edge(line, active: true, at: time)
            let ended = assembler.edge(line, active: false, at: time + 50_000)
            #expect(started == nil && ended == nil)
            time += 2_000_000
        }
        let early = assembler.flush(at: time)
        #expect(early == nil, "not yet 25 ms of silence")
        let flushed = assembler.flush(at: time + 25_000_000)
        let received = try #require(flushed)
        #expect(received.bits == frame)
        #expect(received.pulseWidths.allSatisfy { $0 == 50_000 })
        #expect(received.intervals.allSatisfy { $0 == 2_000_000 })
        #expect(received.glitches == 0)
        #expect(try WiegandFormat.h10301.decode(received.bits) == WiegandCredential(facility: 13, card: 13067))
        // The next edge after the silence starts a new frame.
        let next = assembler.edge(.d0, active: true, at: time + 30_000_000)
        #expect(next == nil)
    }

    @Test("timing outside SIA AC-01 ranges is refused naming the key")
    func timingRanges() {
        #expect(throws: DoorIOError.self) { try WiegandTiming(pulseWidth: 10, interval: 2000).validate() }
        #expect(throws: DoorIOError.self) { try WiegandTiming(pulseWidth: 50, interval: 30_000).validate() }
        #expect(throws: DoorIOError.self) { try WiegandTiming(pulseWidth: 100, interval: 300).validate() }
        #expect(throws: Never.self) { try WiegandTiming().validate() }
        #expect(WiegandTiming().frameDuration(bits: 26) == .microseconds(25 * 2000 + 50))
    }
}
