// One OSDP frame: header, optional security control block, code, data, MAC and check characters.

/// An OSDP message as it travels on the line (SIA OSDP v2.2, "Packet Structure"):
/// `SOM 0x53 | ADDR | LEN (2 bytes LE, whole frame) | CTRL | [SCB] | CODE | DATA | [MAC 4] | CHECK`.
/// `data` is what is on the wire: ciphertext when the security block says the data is encrypted.
package struct OSDPFrame: Sendable, Equatable {
    /// Start of message.
    package static let som: UInt8 = 0x53
    /// The broadcast address every PD answers.
    package static let broadcastAddress: UInt8 = 0x7F
    /// The addresses a PD may have.
    package static let addressRange: ClosedRange<UInt8> = 0...0x7E
    /// The longest frame this PD accepts or sends; longer length fields are taken for noise.
    package static let maximumLength = 1024

    /// How the frame's integrity is checked.
    package enum Check: Sendable, Equatable {
        /// CRC-16/AUG-CCITT, 2 bytes.
        case crc16
        /// The 8-bit checksum, 1 byte.
        case checksum

        var length: Int { self == .crc16 ? 2 : 1 }
    }

    /// The security control block: its type and its data (0 or 1 byte in practice).
    package struct SecurityBlock: Sendable, Equatable {
        package var type: UInt8
        package var data: [UInt8]

        package init(type: UInt8, data: [UInt8] = []) {
            self.type = type
            self.data = data
        }

        package init(_ type: OSDPSecurityBlockType, data: [UInt8] = []) { self.init(type: type.rawValue, data: data) }

        /// Whether a 4-byte MAC follows the data.
        package var carriesMAC: Bool { OSDPSecurityBlockType(rawValue: type)?.carriesMAC ?? false }
    }

    /// The PD's address, without the reply bit.
    package var address: UInt8
    /// Set on frames from the PD (the address's top bit on the wire).
    package var isReply: Bool
    /// 0-3; 0 restarts the conversation.
    package var sequence: UInt8
    package var check: Check
    package var securityBlock: SecurityBlock?
    /// The command or reply code.
    package var code: UInt8
    package var data: [UInt8]
    /// The 4 MAC bytes, when the security block type carries a MAC.
    package var mac: [UInt8]

    package init(
        address: UInt8, isReply: Bool, sequence: UInt8, check: Check = .crc16, securityBlock: SecurityBlock? = nil, code: UInt8,
        data: [UInt8] = [], mac: [UInt8] = []
    ) {
        self.address = address
        self.isReply = isReply
        self.sequence = sequence & 0x03
        self.check = check
        self.securityBlock = securityBlock
        self.code = code
        self.data = data
        self.mac = mac
    }

    /// The bytes from SOM up to (not including) the MAC, with the length field already counting
    /// the MAC and the check characters: the input of the secure channel's MAC.
    package func bytesBeforeMAC() -> [UInt8] {
        let macLength = securityBlock?.carriesMAC == true ? 4 : 0
        let scbLength = securityBlock.map { 2 + $0.data.count } ?? 0
        let total = 5 + scbLength + 1 + data.count + macLength + check.length
        var control = sequence & 0x03
        if check == .crc16 { control |= 0x04 }
        if securityBlock != nil { control |= 0x08 }
        var bytes: [UInt8] = [Self.som, address | (isReply ? 0x80 : 0), UInt8(total & 0xFF), UInt8(total >> 8), control]
        bytes.reserveCapacity(total)
        if let securityBlock {
            bytes += [UInt8(2 + securityBlock.data.count), securityBlock.type] + securityBlock.data
        }
        bytes.append(code)
        bytes += data
        return bytes
    }

    /// The whole frame as sent: `mac` (4 bytes when the security block asks for one) and the
    /// check characters appended.
    package func encoded() -> [UInt8] {
        var bytes = bytesBeforeMAC()
        if securityBlock?.carriesMAC == true { bytes += mac.prefix(4) + Array(repeating: 0, count: max(0, 4 - mac.count)) }
        switch check {
        case .crc16:
            let crc = OSDPCheck.crc16(bytes)
            bytes += [UInt8(crc & 0xFF), UInt8(crc >> 8)]
        case .checksum:
            bytes.append(OSDPCheck.checksum(bytes))
        }
        return bytes
    }
}

/// Why a frame that looked like one was not accepted.
package enum OSDPFrameProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// The CRC or checksum did not match.
    case checkFailed
    /// The security block's length does not fit the frame.
    case badSecurityBlock
    /// Fewer bytes than the smallest frame, or no SOM first.
    case notAFrame

    package var description: String {
        switch self {
        case .checkFailed: "CRC/checksum mismatch"
        case .badSecurityBlock: "security block length does not fit the frame"
        case .notAFrame: "shorter than a frame, or no SOM"
        }
    }
}

extension OSDPFrame {
    /// Decodes one complete frame (exactly `bytes`, SOM first, check verified).
    package static func decode(_ bytes: [UInt8]) -> Result<OSDPFrame, OSDPFrameProblem> {
        guard bytes.count >= 7, bytes[0] == som else { return .failure(.notAFrame) }
        let control = bytes[4]
        let check: Check = control & 0x04 != 0 ? .crc16 : .checksum
        let body = bytes[..<(bytes.count - check.length)]
        switch check {
        case .crc16:
            let received = UInt16(bytes[bytes.count - 2]) | UInt16(bytes[bytes.count - 1]) << 8
            guard OSDPCheck.crc16(body) == received else { return .failure(.checkFailed) }
        case .checksum:
            guard OSDPCheck.checksum(body) == bytes[bytes.count - 1] else { return .failure(.checkFailed) }
        }
        var position = 5
        var securityBlock: SecurityBlock?
        if control & 0x08 != 0 {
            let length = Int(bytes[5])
            guard length >= 2, position + length < body.count else { return .failure(.badSecurityBlock) }
            securityBlock = SecurityBlock(type: bytes[6], data: Array(bytes[7..<(5 + length)]))
            position += length
        }
        let macLength = securityBlock?.carriesMAC == true ? 4 : 0
        guard position + 1 + macLength <= body.count else { return .failure(.badSecurityBlock) }
        let code = bytes[position]
        let dataEnd = body.count - macLength
        return .success(
            OSDPFrame(
                address: bytes[1] & 0x7F, isReply: bytes[1] & 0x80 != 0, sequence: control & 0x03, check: check,
                securityBlock: securityBlock, code: code, data: Array(bytes[(position + 1)..<dataEnd]),
                mac: Array(bytes[dataEnd..<body.count])))
    }
}
