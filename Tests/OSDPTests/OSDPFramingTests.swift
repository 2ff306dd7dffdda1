// CRC-16, checksum, frame layout and the streaming parser's resynchronisation.
import Testing

@testable import OSDP

@Suite("OSDP framing")
struct OSDPFramingTests {
    @Test("CRC-16/AUG-CCITT matches the catalogue check value")
    func crcCheckValue() {
        // reveng's catalogue, CRC-16/SPI-FUJITSU (alias AUG-CCITT): check = 0xE5CC.
        #expect(OSDPCheck.crc16(Array("123456789".utf8)) == 0xE5CC)
        #expect(OSDPCheck.crc16([UInt8]()) == 0x1D0F)
    }

    @Test("the checksum makes the frame add up to zero")
    func checksum() {
        let bytes: [UInt8] = [0x53, 0x00, 0x07, 0x00, 0x00, 0x60]
        let sum = OSDPCheck.checksum(bytes)
        #expect(sum == 0x46)
        #expect((bytes + [sum]).reduce(UInt8(0), &+) == 0)
    }

    @Test("a POLL is laid out as the spec shows, with CRC and with checksum")
    func pollLayout() {
        let crc = OSDPFrame(address: 0x01, isReply: false, sequence: 1, check: .crc16, code: 0x60).encoded()
        #expect(Array(crc.prefix(6)) == [0x53, 0x01, 0x08, 0x00, 0x05, 0x60])
        let value = OSDPCheck.crc16(crc.prefix(6))
        #expect(Array(crc.suffix(2)) == [UInt8(value & 0xFF), UInt8(value >> 8)])
        let sum = OSDPFrame(address: 0x01, isReply: false, sequence: 2, check: .checksum, code: 0x60).encoded()
        #expect(sum.count == 7)
        #expect(sum[4] == 0x02)
        #expect(sum.reduce(UInt8(0), &+) == 0)
    }

    @Test("a frame LibOSDP sent decodes: address, sequence, security block, data")
    func libosdpFrame() throws {
        // osdp_CHLNG from LibOSDP 3.2.9's CP (scripts/osdp/libosdp_vectors.py).
        let bytes = [UInt8](hex: "536513000e03110176d764c8cce93255c4f105")
        let frame = try OSDPFrame.decode(bytes).get()
        #expect(frame.address == 101 && !frame.isReply && frame.sequence == 2 && frame.check == .crc16)
        #expect(frame.securityBlock == OSDPFrame.SecurityBlock(.scs11, data: [0x01]))
        #expect(frame.code == OSDPCommandCode.chlng.rawValue)
        #expect(frame.data == [UInt8](hex: "d764c8cce93255c4"))
        #expect(frame.encoded() == bytes)
    }

    @Test("reply frames set the address's top bit; MAC bytes sit before the CRC")
    func replyWithMAC() throws {
        let frame = OSDPFrame(
            address: 5, isReply: true, sequence: 3, securityBlock: .init(.scs16), code: 0x40, mac: [1, 2, 3, 4])
        let bytes = frame.encoded()
        #expect(bytes[1] == 0x85)
        #expect(Int(bytes[2]) == bytes.count)
        #expect(Array(bytes[(bytes.count - 6)..<(bytes.count - 2)]) == [1, 2, 3, 4])
        #expect(try OSDPFrame.decode(bytes).get() == frame)
    }

    @Test("the parser takes a frame split into single bytes")
    func splitInput() {
        let bytes = OSDPFrame(address: 0, isReply: false, sequence: 1, code: 0x61, data: [0]).encoded()
        var parser = OSDPFrameParser()
        var items: [OSDPParsedItem] = []
        for byte in bytes { items += parser.append([byte]) }
        #expect(items.count == 1)
        guard case .frame(let frame, let raw) = items.first else { return }
        #expect(frame.code == 0x61 && raw == bytes)
        #expect(!parser.hasPartialFrame)
    }

    @Test("noise before, between and after frames (including stray 0x53) is skipped")
    func resync() {
        let poll = OSDPFrame(address: 0, isReply: false, sequence: 1, code: 0x60).encoded()
        let id = OSDPFrame(address: 0, isReply: false, sequence: 2, check: .checksum, code: 0x61, data: [0]).encoded()
        // A stray SOM with a plausible length that would swallow the real frame after it.
        let noise: [UInt8] = [0x00, 0xFF, 0x53, 0x53, 0x00, 0x20, 0x00, 0x04, 0x12]
        var parser = OSDPFrameParser()
        var items = parser.append(noise + poll)
        items += parser.append([0x53, 0x7F] + id + [0x99])
        let codes = items.compactMap { item -> UInt8? in
            if case .frame(let frame, _) = item { return frame.code }
            return nil
        }
        #expect(codes == [0x60, 0x61])
        #expect(parser.skippedBytes > 0)
    }

    @Test("a corrupted frame is reported once, and the frame after it is still found")
    func corruption() {
        var bad = OSDPFrame(address: 3, isReply: false, sequence: 1, code: 0x60).encoded()
        bad[5] ^= 0x01
        let good = OSDPFrame(address: 3, isReply: false, sequence: 1, code: 0x60).encoded()
        var parser = OSDPFrameParser()
        let items = parser.append(bad + good)
        #expect(items.count == 2)
        #expect(items.first == .corrupted(address: 3, sequence: 1, isReply: false, problem: .checkFailed))
        if case .frame(let frame, _)? = items.last { #expect(frame.code == 0x60) } else { Issue.record("no frame after the corrupted one") }
    }

    @Test("a partial frame left by a silence is dropped, the next frame parses")
    func partialDiscarded() {
        let poll = OSDPFrame(address: 0, isReply: false, sequence: 1, code: 0x60).encoded()
        var parser = OSDPFrameParser()
        #expect(parser.append(poll.prefix(4)).isEmpty)
        #expect(parser.hasPartialFrame)
        parser.discardPartialFrame()
        #expect(parser.append(poll).count == 1)
    }
}
