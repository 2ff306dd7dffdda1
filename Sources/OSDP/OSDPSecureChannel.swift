// The Secure Channel's cryptography (OSDP v2.2 annex D): session keys, cryptograms, the MAC chain, payload encryption.
import Crypto
import _CryptoExtras

/// A failure inside AES; with 16-byte keys and whole blocks this does not happen, but swift-crypto
/// reports it typed and the PD answers such a command with osdp_NAK 0x06 instead of crashing.
package struct OSDPCryptoError: Error, Sendable, CustomStringConvertible {
    package var operation: String
    package var message: String

    package var description: String { "AES failed in \(operation): \(message)" }
}

/// A 16-byte Secure Channel Base Key. Its description never shows the key.
package struct OSDPKey: Sendable, Equatable, CustomStringConvertible {
    package let bytes: [UInt8]

    /// SCBK-D, the default key of install mode (0x30 ... 0x3F).
    package static let installDefault = OSDPKey(unchecked: Array(0x30...0x3F))

    private init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// A key of exactly 16 bytes; nil otherwise.
    package init?(_ bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// A key written as 32 hex digits (surrounding white space ignored); nil otherwise.
    package init?(hex: String) {
        let text = hex.filter { !$0.isWhitespace }
        guard text.count == 32 else { return nil }
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }

    package var description: String { "OSDPKey(redacted)" }

    /// The key as 32 lowercase hex digits (to store it; never to log it).
    package var hex: String {
        bytes.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }
}

/// The three session keys one osdp_CHLNG derives from the SCBK and the CP's random number.
package struct OSDPSessionKeys: Sendable {
    package let encryption: [UInt8]
    package let mac1: [UInt8]
    package let mac2: [UInt8]

    /// S-ENC, S-MAC1, S-MAC2 = AES-128(SCBK, 0x01 ‖ {0x82, 0x01, 0x02} ‖ RND.A[0..<6] ‖ 8 × 0x00).
    package init(scbk: OSDPKey, cpRandom: [UInt8]) throws(OSDPCryptoError) {
        func derive(_ tag: UInt8) throws(OSDPCryptoError) -> [UInt8] {
            let block: [UInt8] = [0x01, tag] + cpRandom.prefix(6) + [UInt8](repeating: 0, count: 8)
            return try OSDPCipher.encryptBlock(block, key: scbk.bytes, operation: "session key derivation")
        }
        encryption = try derive(0x82)
        mac1 = try derive(0x01)
        mac2 = try derive(0x02)
    }
}

/// AES-128 as the Secure Channel uses it, through swift-crypto (`AES.permute`, `AES._CBC`).
package enum OSDPCipher {
    /// AES-128 of one 16-byte block (ECB).
    package static func encryptBlock(_ block: [UInt8], key: [UInt8], operation: String) throws(OSDPCryptoError) -> [UInt8] {
        var output = block
        do {
            try AES.permute(&output, key: SymmetricKey(data: key))
        } catch {
            throw OSDPCryptoError(operation: operation, message: "\(error)")
        }
        return output
    }

    static func cbc(_ data: [UInt8], key: [UInt8], iv: [UInt8], decrypt: Bool, operation: String) throws(OSDPCryptoError) -> [UInt8] {
        do {
            let vector = try AES._CBC.IV(ivBytes: iv)
            let output =
                decrypt
                ? try AES._CBC.decrypt(data, using: SymmetricKey(data: key), iv: vector, noPadding: true)
                : try AES._CBC.encrypt(data, using: SymmetricKey(data: key), iv: vector, noPadding: true)
            return Array(output)
        } catch {
            throw OSDPCryptoError(operation: operation, message: "\(error)")
        }
    }

    /// The client cryptogram (osdp_CCRYPT): AES(S-ENC, RND.A ‖ RND.B).
    package static func clientCryptogram(_ keys: OSDPSessionKeys, cpRandom: [UInt8], pdRandom: [UInt8]) throws(OSDPCryptoError) -> [UInt8] {
        try encryptBlock(cpRandom + pdRandom, key: keys.encryption, operation: "client cryptogram")
    }

    /// The server cryptogram (osdp_SCRYPT): AES(S-ENC, RND.B ‖ RND.A).
    package static func serverCryptogram(_ keys: OSDPSessionKeys, cpRandom: [UInt8], pdRandom: [UInt8]) throws(OSDPCryptoError) -> [UInt8] {
        try encryptBlock(pdRandom + cpRandom, key: keys.encryption, operation: "server cryptogram")
    }

    /// The initial reply MAC (osdp_RMAC_I): AES(S-MAC2, AES(S-MAC1, server cryptogram)).
    package static func initialReplyMAC(_ keys: OSDPSessionKeys, serverCryptogram: [UInt8]) throws(OSDPCryptoError) -> [UInt8] {
        let first = try encryptBlock(serverCryptogram, key: keys.mac1, operation: "RMAC_I")
        return try encryptBlock(first, key: keys.mac2, operation: "RMAC_I")
    }

    /// The full 16-byte MAC of `message` (SOM up to the MAC): CBC-MAC chained from `iv` (the
    /// other side's last MAC), every block but the last with S-MAC1 and the last with S-MAC2.
    /// The message is padded with 0x80 and zeros unless it already ends on a block boundary.
    /// The first 4 bytes go on the wire; all 16 chain into the next message.
    package static func mac(_ message: [UInt8], iv: [UInt8], keys: OSDPSessionKeys) throws(OSDPCryptoError) -> [UInt8] {
        var padded = message
        if padded.count % 16 != 0 || padded.isEmpty {
            padded.append(0x80)
            while padded.count % 16 != 0 { padded.append(0) }
        }
        var chain = iv
        if padded.count > 16 {
            let head = try cbc(Array(padded[..<(padded.count - 16)]), key: keys.mac1, iv: iv, decrypt: false, operation: "MAC")
            chain = Array(head.suffix(16))
        }
        return try cbc(Array(padded.suffix(16)), key: keys.mac2, iv: chain, decrypt: false, operation: "MAC")
    }

    /// Encrypts message data: AES-CBC with S-ENC, the IV being the bitwise inverse of the other
    /// side's last MAC; 0x80 and zeros pad it to whole blocks (always at least the 0x80).
    package static func encryptData(_ data: [UInt8], lastMAC: [UInt8], keys: OSDPSessionKeys) throws(OSDPCryptoError) -> [UInt8] {
        var padded = data + [0x80]
        while padded.count % 16 != 0 { padded.append(0) }
        return try cbc(padded, key: keys.encryption, iv: lastMAC.map { ~$0 }, decrypt: false, operation: "data encryption")
    }

    /// Decrypts message data and strips the 0x80 padding; nil when the length or padding is wrong.
    package static func decryptData(_ data: [UInt8], lastMAC: [UInt8], keys: OSDPSessionKeys) throws(OSDPCryptoError) -> [UInt8]? {
        guard !data.isEmpty, data.count % 16 == 0 else { return nil }
        var plain = try cbc(data, key: keys.encryption, iv: lastMAC.map { ~$0 }, decrypt: true, operation: "data decryption")
        while plain.last == 0 { plain.removeLast() }
        guard plain.last == 0x80 else { return nil }
        plain.removeLast()
        return plain
    }
}
