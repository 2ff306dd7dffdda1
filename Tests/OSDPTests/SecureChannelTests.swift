// Secure Channel against LibOSDP's own recorded conversation: session keys, cryptograms, RMAC_I, MACs, data encryption.
import Testing

@testable import OSDP

/// Recorded with LibOSDP 3.2.9 (PyPI `libosdp`): its CP and its PD talking over an in-memory
/// line, SCBK 0x40...0x4F (`scripts/osdp/libosdp_vectors.py`, output pasted here). Each pair is
/// a CP command and the LibOSDP PD's reply: osdp_CHLNG/CCRYPT, osdp_SCRYPT/RMAC_I, two secured
/// osdp_POLL/ACK, and an encrypted osdp_LED (permanent green) with its ACK.
enum LibOSDPRecording {
    static let scbk = OSDPKey([UInt8](hex: "404142434445464748494a4b4c4d4e4f"))!
    static let pdRandom = [UInt8](hex: "478d7aa05d83f3ea")
    static let conversation: [(command: String, reply: String)] = [
        (
            "536513000e03110176d764c8cce93255c4f105",
            "53e52b000e03120176beba0100afbeadde478d7aa05d83f3ea60c9d83342525a7037031d0d5d46976386c8"
        ),
        ("53651b000f03130177c035ebad737c77629975932b7e5cd0ac4315", "53e51b000f03140178eded1349f639e5e462b79d17e4c298ce5a36"),
        ("53650e000d021560e60e7977ad6a", "53e50e000d0216407a1e6022265c"),
        ("53650e000e021560bd3a578e468b", "53e50e000e02164063ad829dc8fb"),
        ("53651e000f0217694ed53f3555e4c100add59cd2a74ed0607b461c0dba07", "53e50e000f02164064694e8c2846"),
    ]
    static let cpRandom = [UInt8](hex: "d764c8cce93255c4")
    /// The client cryptogram in LibOSDP's osdp_CCRYPT (after cUID and RND.B).
    static let clientCryptogram = [UInt8](hex: "60c9d83342525a7037031d0d5d469763")
    static let serverCryptogram = [UInt8](hex: "c035ebad737c77629975932b7e5cd0ac")
    static let initialReplyMAC = [UInt8](hex: "eded1349f639e5e462b79d17e4c298ce")
}

@Suite("OSDP Secure Channel")
struct SecureChannelTests {
    @Test("session keys give LibOSDP's cryptograms and RMAC_I (known vector)")
    func keyDerivation() throws {
        let keys = try OSDPSessionKeys(scbk: LibOSDPRecording.scbk, cpRandom: LibOSDPRecording.cpRandom)
        #expect(
            try OSDPCipher.clientCryptogram(keys, cpRandom: LibOSDPRecording.cpRandom, pdRandom: LibOSDPRecording.pdRandom)
                == LibOSDPRecording.clientCryptogram)
        #expect(
            try OSDPCipher.serverCryptogram(keys, cpRandom: LibOSDPRecording.cpRandom, pdRandom: LibOSDPRecording.pdRandom)
                == LibOSDPRecording.serverCryptogram)
        #expect(
            try OSDPCipher.initialReplyMAC(keys, serverCryptogram: LibOSDPRecording.serverCryptogram) == LibOSDPRecording.initialReplyMAC)
    }

    @Test("replaying LibOSDP's CP: the same handshake, the same MACs, the encrypted LED decoded")
    func replayConversation() {
        var pd = OSDPPeripheral(
            configuration: OSDPPeripheralConfiguration(address: 101, security: .required, scbk: LibOSDPRecording.scbk),
            randomBytes: { _ in LibOSDPRecording.pdRandom })
        var events: [OSDPPeripheralEvent] = []
        for (index, step) in LibOSDPRecording.conversation.enumerated() {
            let answer = exchange(&pd, [UInt8](hex: step.command))
            events += answer.events
            let expected = [UInt8](hex: step.reply)
            if index == 0 {
                // osdp_CCRYPT: our cUID differs from LibOSDP's PD (and so the CRC); RND.B and the
                // client cryptogram match.
                #expect(answer.raw.map { Array($0.dropLast(2).suffix(24)) } == Array(expected.dropLast(2).suffix(24)))
            } else {
                #expect(answer.raw == expected, "reply \(index)")
            }
        }
        #expect(pd.isSecure)
        #expect(events.contains(.secureChannelEstablished(key: "SCBK")))
        let led = events.compactMap { event -> OSDPLEDCommand? in
            if case .led(let command) = event { return command }
            return nil
        }
        #expect(led.first?.shownColor == .green)
    }

    @Test("a wrong key fails the channel with a reason, and the PD keeps answering")
    func wrongKey() {
        var pd = OSDPPeripheral(
            configuration: OSDPPeripheralConfiguration(address: 101, security: .required, scbk: OSDPKey([UInt8](repeating: 7, count: 16))),
            randomBytes: { _ in LibOSDPRecording.pdRandom })
        _ = exchange(&pd, [UInt8](hex: LibOSDPRecording.conversation[0].command))
        let scrypt = exchange(&pd, [UInt8](hex: LibOSDPRecording.conversation[1].command))
        #expect(scrypt.reply?.nakReason == .securityConditions)
        let failure = scrypt.events.compactMap { event -> String? in
            if case .secureChannelFailed(let reason) = event { return reason }
            return nil
        }
        #expect(failure.first?.contains("differs") == true)
        #expect(!pd.isSecure)
        // Still usable: the CP starts over and is answered.
        let id = exchange(&pd, command(.id, [0], address: 101, sequence: 0))
        #expect(id.reply?.code == OSDPReplyCode.pdid.rawValue)
    }

    @Test("a CP that gives up after CCRYPT (it could not verify us) is reported as a key mismatch")
    func cpRejectsCryptogram() {
        var pd = OSDPPeripheral(
            configuration: OSDPPeripheralConfiguration(address: 101, security: .required, scbk: OSDPKey([UInt8](repeating: 7, count: 16))))
        _ = exchange(&pd, [UInt8](hex: LibOSDPRecording.conversation[0].command))
        let restart = exchange(&pd, command(.id, [0], address: 101, sequence: 0))
        #expect(restart.reply?.code == OSDPReplyCode.pdid.rawValue)
        #expect(restart.events.contains(.secureChannelFailed(reason: OSDPPeripheral.cryptogramNotAccepted)))
    }

    @Test("install mode: SCBK-D only when enabled; KEYSET only over the channel, then SCBK-D is refused")
    func installMode() throws {
        var closed = OSDPPeripheral(configuration: OSDPPeripheralConfiguration(address: 0, security: .required, scbk: nil))
        let refused = exchange(
            &closed, command(.chlng, [UInt8](repeating: 1, count: 8), sequence: 0, securityBlock: .init(.scs11, data: [0])))
        #expect(refused.reply?.nakReason == .securityConditions)
        #expect(refused.events.contains { if case .secureChannelFailed(let r) = $0 { r.contains("install_mode") } else { false } })

        var pd = OSDPPeripheral(
            configuration: OSDPPeripheralConfiguration(address: 0, security: .required, scbk: nil, installMode: true),
            randomBytes: { _ in [UInt8](repeating: 9, count: 8) })
        let cpRandom = [UInt8](repeating: 1, count: 8)
        let keys = try OSDPSessionKeys(scbk: .installDefault, cpRandom: cpRandom)
        let ccrypt = exchange(&pd, command(.chlng, cpRandom, sequence: 0, securityBlock: .init(.scs11, data: [0])))
        #expect(ccrypt.reply?.code == OSDPReplyCode.ccrypt.rawValue)
        let pdRandom = [UInt8](repeating: 9, count: 8)
        #expect(
            ccrypt.reply?.data.suffix(16).elementsEqual(try OSDPCipher.clientCryptogram(keys, cpRandom: cpRandom, pdRandom: pdRandom))
                == true)
        let server = try OSDPCipher.serverCryptogram(keys, cpRandom: cpRandom, pdRandom: pdRandom)
        let rmac = exchange(&pd, command(.scrypt, server, sequence: 1, securityBlock: .init(.scs13, data: [0])))
        #expect(rmac.events.contains(.secureChannelEstablished(key: "SCBK-D")))
        var replyMAC = try #require(rmac.reply?.data)

        // KEYSET, encrypted and MACed as a CP does it.
        let newKey = [UInt8](repeating: 0xA5, count: 16)
        var keyset = OSDPFrame(address: 0, isReply: false, sequence: 2, securityBlock: .init(.scs17), code: OSDPCommandCode.keyset.rawValue)
        keyset.data = try OSDPCipher.encryptData([1, 16] + newKey, lastMAC: replyMAC, keys: keys)
        let commandMAC = try OSDPCipher.mac(keyset.bytesBeforeMAC(), iv: replyMAC, keys: keys)
        keyset.mac = Array(commandMAC.prefix(4))
        let ack = exchange(&pd, keyset.encoded())
        #expect(ack.reply?.code == OSDPReplyCode.ack.rawValue)
        #expect(ack.events.contains(.keySet(OSDPKey(newKey)!)))
        let expectedMAC = try OSDPCipher.mac(try #require(ack.reply).bytesBeforeMAC(), iv: commandMAC, keys: keys)
        #expect(ack.reply?.mac == Array(expectedMAC.prefix(4)))
        replyMAC = expectedMAC
        #expect(pd.configuration.scbk == OSDPKey(newKey) && !pd.configuration.installMode)
        let again = exchange(&pd, command(.chlng, cpRandom, sequence: 0, securityBlock: .init(.scs11, data: [0])))
        #expect(again.reply?.nakReason == .securityConditions)
    }

    @Test("the key file: 32 hex digits, mode 0600, the key never in descriptions")
    func keyFile() throws {
        let folder = "/tmp/osdp-key-\(getpidValue())"
        _ = mkdirValue(folder)
        defer { removeTree(folder) }
        let path = folder + "/scbk"
        let key = try #require(OSDPKey(hex: "000102030405060708090a0b0c0d0e0f"))
        try OSDPKeyFile.store(key, path: path)
        #expect(try OSDPKeyFile.load(path: path) == key)
        #expect(!"\(key)".contains("0001"))
        chmodValue(path, 0o644)
        #expect(throws: OSDPKeyFileError.self) { try OSDPKeyFile.load(path: path) }
        #expect(OSDPKey(hex: "00") == nil)
    }
}
