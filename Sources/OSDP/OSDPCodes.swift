// OSDP v2.2 command and reply codes, NAK reasons and security block types, by name.

/// Command codes (control panel to reader) this PD knows.
package enum OSDPCommandCode: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case poll = 0x60
    case id = 0x61
    case cap = 0x62
    case lstat = 0x64
    case istat = 0x65
    case ostat = 0x66
    case rstat = 0x67
    case out = 0x68
    case led = 0x69
    case buz = 0x6A
    case text = 0x6B
    case comset = 0x6E
    case keyset = 0x75
    case chlng = 0x76
    case scrypt = 0x77
    case acurxsize = 0x7B
    case mfg = 0x80
    case keepactive = 0xA7

    package var description: String { "osdp_\(String(describing: self).uppercased())" }
}

/// Reply codes (reader to control panel).
package enum OSDPReplyCode: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case ack = 0x40
    case nak = 0x41
    case pdid = 0x45
    case pdcap = 0x46
    case lstatr = 0x48
    case istatr = 0x49
    case ostatr = 0x4A
    case rstatr = 0x4B
    case raw = 0x50
    case fmt = 0x51
    case keypad = 0x53
    case com = 0x54
    case ccrypt = 0x76
    case rmacI = 0x78
    case busy = 0x79

    package var description: String { self == .rmacI ? "osdp_RMAC_I" : "osdp_\(String(describing: self).uppercased())" }
}

/// Why a PD refuses a command (the data byte of osdp_NAK).
package enum OSDPNakReason: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// The checksum or CRC did not match.
    case checkCharacter = 0x01
    /// The command's length is wrong for its code.
    case commandLength = 0x02
    /// The command code is not one this PD knows.
    case unknownCommand = 0x03
    /// The sequence number is neither a repeat, the next one, nor 0.
    case unexpectedSequence = 0x04
    /// The security block type is not one this PD supports.
    case unsupportedSecurityBlock = 0x05
    /// Encrypted communication is required (or the secure channel's conditions were not met).
    case securityConditions = 0x06
    /// The biometric type is not supported.
    case bioTypeUnsupported = 0x07
    /// The biometric format is not supported.
    case bioFormatUnsupported = 0x08
    /// The command is understood but cannot be processed (its record is not acceptable).
    case unableToProcess = 0x09

    package var description: String {
        switch self {
        case .checkCharacter: "0x01 check character (CRC/checksum) error"
        case .commandLength: "0x02 command length error"
        case .unknownCommand: "0x03 unknown command code"
        case .unexpectedSequence: "0x04 unexpected sequence number"
        case .unsupportedSecurityBlock: "0x05 security block not supported"
        case .securityConditions: "0x06 encrypted communication required"
        case .bioTypeUnsupported: "0x07 biometric type not supported"
        case .bioFormatUnsupported: "0x08 biometric format not supported"
        case .unableToProcess: "0x09 unable to process command record"
        }
    }
}

/// Security control block types (SEC_BLK_TYPE).
package enum OSDPSecurityBlockType: UInt8, Sendable, CaseIterable {
    /// osdp_CHLNG: the CP's random number; data: which key (0 SCBK-D, 1 SCBK).
    case scs11 = 0x11
    /// osdp_CCRYPT: the PD's identity, random number and client cryptogram.
    case scs12 = 0x12
    /// osdp_SCRYPT: the CP's server cryptogram.
    case scs13 = 0x13
    /// osdp_RMAC_I: the initial reply MAC; data 0x01 when the server cryptogram was accepted.
    case scs14 = 0x14
    /// A command with a MAC, data not encrypted.
    case scs15 = 0x15
    /// A reply with a MAC, data not encrypted.
    case scs16 = 0x16
    /// A command with a MAC and encrypted data.
    case scs17 = 0x17
    /// A reply with a MAC and encrypted data.
    case scs18 = 0x18

    /// Whether a 4-byte MAC follows the message data.
    package var carriesMAC: Bool { rawValue >= 0x15 }
}

extension UInt8 {
    /// `0x4F`: how OSDP codes are written in logs and the spec.
    package var osdpHex: String {
        let digits = String(self, radix: 16, uppercase: true)
        return "0x" + (digits.count == 1 ? "0" + digits : digits)
    }
}
