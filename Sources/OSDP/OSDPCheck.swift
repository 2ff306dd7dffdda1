// The two check characters an OSDP frame ends with: CRC-16/AUG-CCITT or the 8-bit checksum.

/// The check characters of OSDP frames (SIA OSDP v2.2, "Message Check Characters").
package enum OSDPCheck {
    /// CRC-16/AUG-CCITT as OSDP specifies it: polynomial 0x1021, initial value 0x1D0F, no bit
    /// reflection, no final XOR (the catalogue's check value for "123456789" is 0xE5CC). It goes
    /// on the wire least significant byte first.
    package static func crc16<Bytes: Sequence>(_ bytes: Bytes) -> UInt16 where Bytes.Element == UInt8 {
        var crc: UInt16 = 0x1D0F
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 {
                crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
            }
        }
        return crc
    }

    /// The 8-bit checksum: the two's complement of the sum of all bytes, so that the bytes and
    /// the checksum add up to zero (modulo 256).
    package static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt8 where Bytes.Element == UInt8 {
        var sum: UInt8 = 0
        for byte in bytes { sum &+= byte }
        return 0 &- sum
    }
}
