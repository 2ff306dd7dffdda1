// The PD's answers: ID and CAP, sequence numbers and repeats, NAK reasons, LED/BUZ/COMSET, card reads in osdp_RAW.
import Testing

@testable import OSDP

@Suite("OSDP peripheral (PD) protocol")
struct OSDPPeripheralTests {
    static func plainPD(security: OSDPSecurityMode = .off) -> OSDPPeripheral {
        OSDPPeripheral(configuration: OSDPPeripheralConfiguration(address: 0, security: security, scbk: nil))
    }

    @Test("ID and CAP answer PDID and PDCAP, in the command's check mode")
    func identityAndCapabilities() {
        var pd = Self.plainPD()
        let id = exchange(&pd, command(.id, [0], sequence: 0, check: .checksum))
        #expect(id.reply?.code == OSDPReplyCode.pdid.rawValue)
        #expect(id.reply?.data == OSDPIdentity.kioskAgent.payload)
        #expect(id.reply?.check == .checksum)
        #expect(id.reply?.isReply == true && id.reply?.address == 0)
        let cap = exchange(&pd, command(.cap, [0], sequence: 1))
        #expect(cap.reply?.code == OSDPReplyCode.pdcap.rawValue)
        #expect((cap.reply?.data.count ?? 0) % 3 == 0)
        #expect(cap.reply?.data.starts(with: [3, 1, 0]) == true)
    }

    @Test("another PD's address and replies on the bus are not answered; broadcast is")
    func addressing() {
        var pd = Self.plainPD()
        #expect(exchange(&pd, command(.poll, address: 9, sequence: 0)).raw == nil)
        let echo = OSDPFrame(address: 0, isReply: true, sequence: 0, code: 0x40).encoded()
        #expect(exchange(&pd, echo).raw == nil)
        #expect(exchange(&pd, command(.poll, address: 0x7F, sequence: 0)).reply?.code == OSDPReplyCode.ack.rawValue)
    }

    @Test("a repeated sequence number gets the same reply bytes, not a second action")
    func repeatLastReply() {
        var pd = Self.plainPD()
        _ = exchange(&pd, command(.poll, sequence: 0))
        pd.enqueue(OSDPCardRead(format: .unspecified, bits: [true, false]))
        let first = exchange(&pd, command(.poll, sequence: 1))
        #expect(first.reply?.code == OSDPReplyCode.raw.rawValue)
        let again = exchange(&pd, command(.poll, sequence: 1))
        #expect(again.raw == first.raw)
        #expect(again.events.isEmpty)
        #expect(exchange(&pd, command(.poll, sequence: 2)).reply?.code == OSDPReplyCode.ack.rawValue)
    }

    @Test("sequence numbers run 1, 2, 3, 1; a jump is NAK 0x04; 0 starts over")
    func sequenceNumbers() {
        var pd = Self.plainPD()
        for sequence: UInt8 in [0, 1, 2, 3, 1, 2] {
            #expect(exchange(&pd, command(.poll, sequence: sequence)).reply?.code == OSDPReplyCode.ack.rawValue)
        }
        let jump = exchange(&pd, command(.poll, sequence: 1))
        #expect(jump.reply?.nakReason == .unexpectedSequence)
        #expect(exchange(&pd, command(.poll, sequence: 0)).reply?.code == OSDPReplyCode.ack.rawValue)
        #expect(exchange(&pd, command(.poll, sequence: 1)).reply?.code == OSDPReplyCode.ack.rawValue)
    }

    @Test("NAK reasons: check character, length, unknown command, security block, security required")
    func nakReasons() {
        var pd = Self.plainPD()
        var bad = command(.poll, sequence: 0)
        bad[bad.count - 1] ^= 0xFF
        #expect(exchange(&pd, bad).reply?.nakReason == .checkCharacter)
        #expect(exchange(&pd, command(.poll, [1], sequence: 0)).reply?.nakReason == .commandLength)
        #expect(exchange(&pd, command(.id, [], sequence: 1)).reply?.nakReason == .commandLength)
        let unknown = OSDPFrame(address: 0, isReply: false, sequence: 2, code: 0x99).encoded()
        #expect(exchange(&pd, unknown).reply?.nakReason == .unknownCommand)
        let chlng = command(.chlng, [1, 2, 3, 4, 5, 6, 7, 8], sequence: 3, securityBlock: .init(.scs11, data: [1]))
        #expect(exchange(&pd, chlng).reply?.nakReason == .unsupportedSecurityBlock)

        var secure = Self.plainPD(security: .required)
        #expect(exchange(&secure, command(.id, [0], sequence: 0)).reply?.code == OSDPReplyCode.pdid.rawValue)
        #expect(exchange(&secure, command(.cap, [0], sequence: 1)).reply?.code == OSDPReplyCode.pdcap.rawValue)
        #expect(exchange(&secure, command(.poll, sequence: 2)).reply?.nakReason == .securityConditions)
        let comset = OSDPCommunicationSettings(address: 0, baud: 9600).payload
        #expect(exchange(&secure, command(.comset, comset, sequence: 3)).reply?.code == OSDPReplyCode.com.rawValue)
        #expect(exchange(&secure, command(.led, [UInt8](repeating: 0, count: 14), sequence: 1)).reply?.nakReason == .securityConditions)
    }

    @Test("LED and BUZ reach the owner; status queries answer")
    func ledBuzzerStatus() {
        var pd = Self.plainPD()
        let record: [UInt8] = [0, 0, 2, 3, 3, 2, 0, 30, 0, 1, 0, 0, 1, 0]
        let led = exchange(&pd, command(.led, record + record, sequence: 0))
        #expect(led.reply?.code == OSDPReplyCode.ack.rawValue)
        let colors = led.events.compactMap { event -> OSDPColor? in
            if case .led(let command) = event { return command.shownColor }
            return nil
        }
        #expect(colors == [.green, .green])
        if case .led(let command)? = led.events.first { #expect(command.temporaryDuration == .seconds(3)) }
        let buz = exchange(&pd, command(.buz, [0, 2, 1, 1, 3], sequence: 1))
        #expect(buz.events.contains { if case .buzzer(let b) = $0 { b.sounds && b.count == 3 } else { false } })
        #expect(exchange(&pd, command(.lstat, sequence: 2)).reply?.data == [0, 0])
        #expect(exchange(&pd, command(.istat, sequence: 3)).reply?.code == OSDPReplyCode.istatr.rawValue)
        #expect(exchange(&pd, command(.ostat, sequence: 1)).reply?.code == OSDPReplyCode.ostatr.rawValue)
        #expect(exchange(&pd, command(.led, [0, 0, 1], sequence: 2)).reply?.nakReason == .commandLength)
    }

    @Test("COMSET answers COM with the new settings, or the old ones when they are not usable")
    func comset() {
        var pd = Self.plainPD()
        let good = OSDPCommunicationSettings(address: 5, baud: 38400)
        let reply = exchange(&pd, command(.comset, good.payload, sequence: 0))
        #expect(reply.reply?.code == OSDPReplyCode.com.rawValue)
        #expect(reply.reply?.data == good.payload)
        #expect(reply.reply?.address == 0)  // still the old address
        #expect(reply.events.contains(.communicationSettings(good)))
        pd.apply(good)
        let bad = exchange(&pd, command(.comset, OSDPCommunicationSettings(address: 200, baud: 1200).payload, address: 5, sequence: 1))
        #expect(bad.reply?.data == good.payload)
    }

    @Test("an H10301 credential goes out as osdp_RAW: reader, format, bit count, bits MSB first")
    func rawH10301() {
        // Facility 13 card 13067 is the published H10301 frame 0x21A6616 (26 bits, parity included).
        let value: UInt32 = 0x21A_6616
        let bits = (0..<26).map { value >> (25 - UInt32($0)) & 1 == 1 }
        let card = OSDPCardRead(format: .wiegand, bits: bits)
        #expect(card.payload == [0x00, 0x01, 26, 0x00, 0x86, 0x99, 0x85, 0x80])
        var pd = Self.plainPD()
        pd.enqueue(card)
        let reply = exchange(&pd, command(.poll, sequence: 0))
        #expect(reply.reply?.code == OSDPReplyCode.raw.rawValue)
        #expect(reply.reply?.data == card.payload)
        #expect(reply.events.contains(.cardDelivered(card)))
        #expect(exchange(&pd, command(.poll, sequence: 1)).reply?.code == OSDPReplyCode.ack.rawValue)
    }
}
