// The reader's side of OSDP: sequence numbers, repeats, commands, replies, NAKs and the Secure Channel handshake.

/// How the PD treats the Secure Channel (`osdp.secure`).
package enum OSDPSecurityMode: String, Sendable, CaseIterable {
    /// Only osdp_ID, osdp_CAP, osdp_COMSET and the handshake (osdp_CHLNG, osdp_SCRYPT) are
    /// answered in the clear; anything else gets osdp_NAK 0x06 until the channel is up.
    case required
    /// The channel is offered; plain commands are answered too.
    case optional
    /// No Secure Channel: osdp_CHLNG gets osdp_NAK 0x05 and PDCAP says so.
    case off
}

/// What the PD is.
package struct OSDPPeripheralConfiguration: Sendable {
    /// 0-126.
    package var address: UInt8
    package var baud: Int
    package var security: OSDPSecurityMode
    /// The SCBK (`osdp.scbk_file`); nil: only install mode (SCBK-D) can set up the channel.
    package var scbk: OSDPKey?
    /// Accept SCBK-D and osdp_KEYSET.
    package var installMode: Bool
    package var identity: OSDPIdentity

    package init(
        address: UInt8, baud: Int = 9600, security: OSDPSecurityMode = .required, scbk: OSDPKey?, installMode: Bool = false,
        identity: OSDPIdentity = .kioskAgent
    ) {
        self.address = address
        self.baud = baud
        self.security = security
        self.scbk = scbk
        self.installMode = installMode
        self.identity = identity
    }
}

extension OSDPIdentity {
    /// What kiosk-agent reports in osdp_PDID: no IEEE OUI of its own (vendor 0), model 1.
    package static let kioskAgent = OSDPIdentity(vendorCode: 0, model: 1, version: 1, serialNumber: 1, firmware: (1, 0, 0))
}

/// What the PD tells its owner while answering.
package enum OSDPPeripheralEvent: Sendable, Equatable {
    /// osdp_LED from the panel, one record.
    case led(OSDPLEDCommand)
    /// osdp_BUZ from the panel.
    case buzzer(OSDPBuzzerCommand)
    /// The Secure Channel is up; `key` says which (`SCBK` or `SCBK-D`).
    case secureChannelEstablished(key: String)
    /// A Secure Channel attempt failed or an established one ended; `reason` says why and what to do.
    case secureChannelFailed(reason: String)
    /// osdp_KEYSET gave a new SCBK (store it; never log it).
    case keySet(OSDPKey)
    /// osdp_COMSET: use these settings once the reply is out.
    case communicationSettings(OSDPCommunicationSettings)
    /// A command answered with osdp_NAK.
    case refused(command: UInt8, reason: OSDPNakReason, detail: String)
    /// A card read went out in osdp_RAW.
    case cardDelivered(OSDPCardRead)
}

/// One OSDP peripheral device's protocol state: give it what the parser found, send back the
/// bytes it returns. Pure apart from the random numbers of the handshake (injected), so the
/// tests drive it frame by frame; one owner (the line's thread) at a time.
package struct OSDPPeripheral: Sendable {
    package private(set) var configuration: OSDPPeripheralConfiguration
    private let randomBytes: @Sendable (Int) -> [UInt8]
    private var lastSequence: UInt8?
    private var lastReply: [UInt8]?
    private var cardReads: [OSDPCardRead] = []

    private struct Handshake {
        var keys: OSDPSessionKeys
        var cpRandom: [UInt8]
        var pdRandom: [UInt8]
        var keyName: String
    }

    private struct Session {
        var keys: OSDPSessionKeys
        /// The last MAC this PD sent (16 bytes): the IV of the next command's MAC.
        var replyMAC: [UInt8]
        /// The last MAC the CP sent: the IV of this reply's MAC.
        var commandMAC: [UInt8]
    }

    private var handshake: Handshake?
    private var session: Session?

    /// `randomBytes` gives the handshake's RND.B (tests pass fixed bytes).
    package init(
        configuration: OSDPPeripheralConfiguration,
        randomBytes: @escaping @Sendable (Int) -> [UInt8] = { count in
            var generator = SystemRandomNumberGenerator()
            return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
        }
    ) {
        self.configuration = configuration
        self.randomBytes = randomBytes
    }

    /// Whether the Secure Channel is up.
    package var isSecure: Bool { session != nil }

    /// Card reads waiting for the next osdp_POLL.
    package var pendingCardReads: Int { cardReads.count }

    /// Queues a card read; the next osdp_POLL (over the Secure Channel when it is required) is
    /// answered with it in osdp_RAW.
    package mutating func enqueue(_ card: OSDPCardRead) { cardReads.append(card) }

    /// The reply (bytes to send) to one parsed item, if any, and what happened.
    package mutating func handle(_ item: OSDPParsedItem) -> (reply: [UInt8]?, events: [OSDPPeripheralEvent]) {
        switch item {
        case .corrupted(let address, let sequence, let isReply, let problem):
            guard !isReply, isForUs(address) else { return (nil, []) }
            let nak = plainReply(.nak, [OSDPNakReason.checkCharacter.rawValue], sequence: sequence, check: .crc16)
            return (nak, [.refused(command: 0, reason: .checkCharacter, detail: "\(problem)")])
        case .frame(let frame, let bytes):
            guard !frame.isReply, isForUs(frame.address) else { return (nil, []) }
            return handle(frame, bytes: bytes)
        }
    }

    private func isForUs(_ address: UInt8) -> Bool {
        address == configuration.address || address == OSDPFrame.broadcastAddress
    }

    // MARK: Sequence numbers

    private mutating func handle(_ frame: OSDPFrame, bytes: [UInt8]) -> (reply: [UInt8]?, events: [OSDPPeripheralEvent]) {
        var events: [OSDPPeripheralEvent] = []
        if frame.sequence == 0 {
            // The CP starts over (after a timeout or its own restart): so does the channel.
            if handshake != nil {
                events.append(.secureChannelFailed(reason: Self.cryptogramNotAccepted))
            } else if session != nil {
                events.append(.secureChannelFailed(reason: "the CP restarted the conversation (sequence 0); it sets up a new channel"))
            }
            handshake = nil
            session = nil
            lastReply = nil
        } else if let last = lastSequence {
            if frame.sequence == last, let lastReply {
                // The CP did not get our reply: the same bytes again, nothing processed twice.
                return (lastReply, [])
            }
            let expected = last % 3 + 1
            if frame.sequence != expected {
                let nak = plainReply(.nak, [OSDPNakReason.unexpectedSequence.rawValue], sequence: frame.sequence, check: frame.check)
                return (
                    nak,
                    [.refused(command: frame.code, reason: .unexpectedSequence, detail: "sequence \(frame.sequence), expected \(expected)")]
                )
            }
        }
        lastSequence = frame.sequence
        let reply = respond(to: frame, bytes: bytes, events: &events)
        lastReply = reply
        return (reply, events)
    }

    /// What a fully secured PD may answer outside a secure session (OSDP 2.2.1, "Secure Channel":
    /// ID and capability reports and communication configuration, next to the handshake itself).
    static let allowedInClear: Set<UInt8> = [OSDPCommandCode.id.rawValue, OSDPCommandCode.cap.rawValue, OSDPCommandCode.comset.rawValue]

    static let cryptogramNotAccepted =
        "the CP did not accept this reader's cryptogram: the CP's SCBK and osdp.scbk_file differ "
        + "(or the CP expects install mode); the reader keeps answering for the next attempt"

    // MARK: Security

    private mutating func respond(to frame: OSDPFrame, bytes: [UInt8], events: inout [OSDPPeripheralEvent]) -> [UInt8] {
        guard let block = frame.securityBlock else {
            if handshake != nil {
                handshake = nil
                events.append(.secureChannelFailed(reason: Self.cryptogramNotAccepted))
            }
            if session != nil {
                session = nil
                events.append(
                    .secureChannelFailed(reason: "a command came in the clear while the channel was up; the CP must set it up again"))
            }
            if configuration.security == .required && !Self.allowedInClear.contains(frame.code) {
                return refuse(
                    frame, .securityConditions, "osdp.secure is required: only ID, CAP and COMSET are answered in the clear", &events)
            }
            if frame.code == OSDPCommandCode.chlng.rawValue || frame.code == OSDPCommandCode.scrypt.rawValue {
                return refuse(frame, .securityConditions, "the handshake needs its security block", &events)
            }
            let (code, data) = process(frame.code, frame.data, secure: false, events: &events)
            return plainReply(code, data, sequence: frame.sequence, check: frame.check)
        }
        guard configuration.security != .off else {
            return refuse(frame, .unsupportedSecurityBlock, "osdp.secure is off", &events)
        }
        switch OSDPSecurityBlockType(rawValue: block.type) {
        case .scs11 where frame.code == OSDPCommandCode.chlng.rawValue:
            return challenge(frame, keySelect: block.data.first ?? 1, events: &events)
        case .scs13 where frame.code == OSDPCommandCode.scrypt.rawValue:
            return serverCryptogram(frame, keySelect: block.data.first ?? 1, events: &events)
        case .scs15, .scs17:
            return secured(frame, bytes: bytes, encrypted: block.type == OSDPSecurityBlockType.scs17.rawValue, events: &events)
        default:
            return refuse(frame, .unsupportedSecurityBlock, "security block type \(block.type.osdpHex)", &events)
        }
    }

    private mutating func challenge(_ frame: OSDPFrame, keySelect: UInt8, events: inout [OSDPPeripheralEvent]) -> [UInt8] {
        // A new challenge instead of osdp_SCRYPT: the CP could not verify our cryptogram.
        if handshake != nil { events.append(.secureChannelFailed(reason: Self.cryptogramNotAccepted)) }
        session = nil
        handshake = nil
        guard frame.data.count == 8 else { return refuse(frame, .commandLength, "osdp_CHLNG carries 8 random bytes", &events) }
        let key: OSDPKey
        let keyName: String
        if keySelect == 0 {
            guard configuration.installMode else {
                events.append(
                    .secureChannelFailed(
                        reason: "the CP asked for the install-mode key SCBK-D but osdp.install_mode is off; "
                            + "give the CP this reader's SCBK, or enable install_mode to let it set one"))
                return refuse(frame, .securityConditions, "SCBK-D outside install mode", &events)
            }
            key = .installDefault
            keyName = "SCBK-D"
        } else {
            guard let scbk = configuration.scbk else {
                events.append(
                    .secureChannelFailed(
                        reason: "the CP asked for the SCBK but this reader has none (osdp.scbk_file); "
                            + "write one, or enable osdp.install_mode so the CP can set it with osdp_KEYSET"))
                return refuse(frame, .securityConditions, "no SCBK", &events)
            }
            key = scbk
            keyName = "SCBK"
        }
        do throws(OSDPCryptoError) {
            let keys = try OSDPSessionKeys(scbk: key, cpRandom: frame.data)
            let pdRandom = randomBytes(8)
            let cryptogram = try OSDPCipher.clientCryptogram(keys, cpRandom: frame.data, pdRandom: pdRandom)
            handshake = Handshake(keys: keys, cpRandom: frame.data, pdRandom: pdRandom, keyName: keyName)
            let reply = OSDPFrame(
                address: configuration.address, isReply: true, sequence: frame.sequence, check: frame.check,
                securityBlock: .init(.scs12, data: [keySelect]), code: OSDPReplyCode.ccrypt.rawValue,
                data: configuration.identity.clientUID + pdRandom + cryptogram)
            return reply.encoded()
        } catch {
            events.append(.secureChannelFailed(reason: "\(error)"))
            return refuse(frame, .securityConditions, "\(error)", &events)
        }
    }

    private mutating func serverCryptogram(_ frame: OSDPFrame, keySelect: UInt8, events: inout [OSDPPeripheralEvent]) -> [UInt8] {
        guard let pending = handshake else {
            return refuse(frame, .securityConditions, "osdp_SCRYPT without osdp_CHLNG", &events)
        }
        handshake = nil
        guard frame.data.count == 16 else { return refuse(frame, .commandLength, "osdp_SCRYPT carries 16 bytes", &events) }
        do throws(OSDPCryptoError) {
            let expected = try OSDPCipher.serverCryptogram(pending.keys, cpRandom: pending.cpRandom, pdRandom: pending.pdRandom)
            guard Self.constantTimeEqual(expected, frame.data) else {
                events.append(
                    .secureChannelFailed(
                        reason: "the CP's server cryptogram does not match: the CP's \(pending.keyName) differs from this reader's "
                            + "(osdp.scbk_file); the reader keeps answering for the next attempt"))
                return refuse(frame, .securityConditions, "server cryptogram mismatch", &events)
            }
            let initialMAC = try OSDPCipher.initialReplyMAC(pending.keys, serverCryptogram: frame.data)
            session = Session(keys: pending.keys, replyMAC: initialMAC, commandMAC: initialMAC)
            events.append(.secureChannelEstablished(key: pending.keyName))
            let reply = OSDPFrame(
                address: configuration.address, isReply: true, sequence: frame.sequence, check: frame.check,
                securityBlock: .init(.scs14, data: [0x01]), code: OSDPReplyCode.rmacI.rawValue, data: initialMAC)
            return reply.encoded()
        } catch {
            events.append(.secureChannelFailed(reason: "\(error)"))
            return refuse(frame, .securityConditions, "\(error)", &events)
        }
    }

    private mutating func secured(_ frame: OSDPFrame, bytes: [UInt8], encrypted: Bool, events: inout [OSDPPeripheralEvent]) -> [UInt8] {
        guard var current = session else {
            return refuse(frame, .securityConditions, "a secured command but no channel is set up", &events)
        }
        do throws(OSDPCryptoError) {
            let macInput = Array(bytes[..<(bytes.count - frame.check.length - 4)])
            let mac = try OSDPCipher.mac(macInput, iv: current.replyMAC, keys: current.keys)
            guard Self.constantTimeEqual(Array(mac.prefix(4)), frame.mac) else {
                session = nil
                events.append(
                    .secureChannelFailed(reason: "a command's MAC did not verify; the channel is closed and the CP must set it up again"))
                return refuse(frame, .securityConditions, "MAC mismatch", &events)
            }
            current.commandMAC = mac
            var data = frame.data
            if encrypted {
                guard let plain = try OSDPCipher.decryptData(frame.data, lastMAC: current.replyMAC, keys: current.keys) else {
                    session = nil
                    events.append(.secureChannelFailed(reason: "a command's encrypted data did not decrypt; the channel is closed"))
                    return refuse(frame, .securityConditions, "bad encrypted data", &events)
                }
                data = plain
            }
            session = current
            let (code, replyData) = process(frame.code, data, secure: true, events: &events)
            return try securedReply(code, replyData, to: frame)
        } catch {
            session = nil
            events.append(.secureChannelFailed(reason: "\(error)"))
            return refuse(frame, .securityConditions, "\(error)", &events)
        }
    }

    private mutating func securedReply(_ code: OSDPReplyCode, _ data: [UInt8], to frame: OSDPFrame) throws(OSDPCryptoError) -> [UInt8] {
        guard var current = session else { return plainReply(code, data, sequence: frame.sequence, check: frame.check) }
        var reply = OSDPFrame(
            address: configuration.address, isReply: true, sequence: frame.sequence, check: frame.check,
            securityBlock: .init(data.isEmpty ? .scs16 : .scs18), code: code.rawValue)
        if !data.isEmpty { reply.data = try OSDPCipher.encryptData(data, lastMAC: current.commandMAC, keys: current.keys) }
        let mac = try OSDPCipher.mac(reply.bytesBeforeMAC(), iv: current.commandMAC, keys: current.keys)
        reply.mac = Array(mac.prefix(4))
        current.replyMAC = mac
        session = current
        return reply.encoded()
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    private func plainReply(_ code: OSDPReplyCode, _ data: [UInt8], sequence: UInt8, check: OSDPFrame.Check) -> [UInt8] {
        OSDPFrame(address: configuration.address, isReply: true, sequence: sequence, check: check, code: code.rawValue, data: data)
            .encoded()
    }

    /// osdp_NAK in the clear (a refusal is not a secured conversation).
    private func refuse(_ frame: OSDPFrame, _ reason: OSDPNakReason, _ detail: String, _ events: inout [OSDPPeripheralEvent]) -> [UInt8] {
        events.append(.refused(command: frame.code, reason: reason, detail: detail))
        return plainReply(.nak, [reason.rawValue], sequence: frame.sequence, check: frame.check)
    }

    // MARK: Commands

    /// The reply code and data to a command whose security has been dealt with.
    private mutating func process(
        _ code: UInt8, _ data: [UInt8], secure: Bool, events: inout [OSDPPeripheralEvent]
    ) -> (OSDPReplyCode, [UInt8]) {
        func nak(_ reason: OSDPNakReason, _ detail: String) -> (OSDPReplyCode, [UInt8]) {
            events.append(.refused(command: code, reason: reason, detail: detail))
            return (.nak, [reason.rawValue])
        }
        guard let command = OSDPCommandCode(rawValue: code) else {
            return nak(.unknownCommand, "command \(code.osdpHex)")
        }
        switch command {
        case .poll:
            guard data.isEmpty else { return nak(.commandLength, "osdp_POLL has no data") }
            if !cardReads.isEmpty {
                let card = cardReads.removeFirst()
                events.append(.cardDelivered(card))
                return (.raw, card.payload)
            }
            return (.ack, [])
        case .id:
            guard data.count == 1 else { return nak(.commandLength, "osdp_ID has 1 data byte") }
            return (.pdid, configuration.identity.payload)
        case .cap:
            guard data.count == 1 else { return nak(.commandLength, "osdp_CAP has 1 data byte") }
            let capabilities = OSDPCapability.reader(secure: configuration.security != .off)
            return (.pdcap, capabilities.flatMap { [$0.function, $0.compliance, $0.count] })
        case .lstat:
            guard data.isEmpty else { return nak(.commandLength, "osdp_LSTAT has no data") }
            return (.lstatr, [0, 0])  // no tamper, power normal
        case .istat:
            guard data.isEmpty else { return nak(.commandLength, "osdp_ISTAT has no data") }
            return (.istatr, [])  // no inputs reported to the panel
        case .ostat:
            guard data.isEmpty else { return nak(.commandLength, "osdp_OSTAT has no data") }
            return (.ostatr, [])  // no outputs controlled by the panel
        case .led:
            guard !data.isEmpty, data.count % 14 == 0 else { return nak(.commandLength, "osdp_LED records are 14 bytes") }
            for start in stride(from: 0, to: data.count, by: 14) {
                if let record = OSDPLEDCommand(data[start..<(start + 14)]) { events.append(.led(record)) }
            }
            return (.ack, [])
        case .buz:
            guard let buzzer = OSDPBuzzerCommand(data) else { return nak(.commandLength, "osdp_BUZ has 5 data bytes") }
            events.append(.buzzer(buzzer))
            return (.ack, [])
        case .comset:
            guard let requested = OSDPCommunicationSettings(data) else { return nak(.commandLength, "osdp_COMSET has 5 data bytes") }
            guard OSDPFrame.addressRange.contains(requested.address), OSDPCommunicationSettings.baudRates.contains(requested.baud) else {
                // The spec's answer to settings a PD cannot use: osdp_COM with the ones it keeps.
                let current = OSDPCommunicationSettings(address: configuration.address, baud: configuration.baud)
                events.append(
                    .refused(
                        command: code, reason: .unableToProcess,
                        detail: "COMSET address \(requested.address) baud \(requested.baud) not usable"))
                return (.com, current.payload)
            }
            events.append(.communicationSettings(requested))
            // The reply still goes out under the old address; the owner switches after sending.
            let reply = requested.payload
            return (.com, reply)
        case .keyset:
            guard secure else { return nak(.securityConditions, "osdp_KEYSET only over the Secure Channel") }
            guard configuration.installMode else {
                return nak(.securityConditions, "osdp_KEYSET refused: osdp.install_mode is off")
            }
            guard data.count == 18, data[0] == 0x01, data[1] == 16, let key = OSDPKey(Array(data[2...])) else {
                return nak(.unableToProcess, "osdp_KEYSET: expected key type 1 (SCBK) with 16 bytes")
            }
            configuration.scbk = key
            // A key is set once per install: SCBK-D is no longer accepted after this.
            configuration.installMode = false
            events.append(.keySet(key))
            return (.ack, [])
        case .chlng, .scrypt:
            return nak(.securityConditions, "the handshake needs its security block")
        case .rstat, .out, .text, .acurxsize, .mfg, .keepactive:
            return nak(.unknownCommand, "\(command) is not supported by this reader")
        }
    }

    /// Applies osdp_COMSET's address after its reply went out.
    package mutating func apply(_ settings: OSDPCommunicationSettings) {
        configuration.address = settings.address
        configuration.baud = settings.baud
    }
}
