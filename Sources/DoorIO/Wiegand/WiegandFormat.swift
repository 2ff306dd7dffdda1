// Wiegand credential formats: H10301 (26-bit), H10306 (34-bit) and raw N-bit; encoding, decoding, ranges.

/// A card credential as an access-control panel knows it: a facility (site) code and a card number.
package struct WiegandCredential: Sendable, Hashable, CustomStringConvertible {
    /// The facility (site) code; 0 for formats without one.
    package var facility: UInt64
    /// The card number.
    package var card: UInt64

    /// A credential of `card` at `facility`.
    package init(facility: UInt64 = 0, card: UInt64) {
        self.facility = facility
        self.card = card
    }

    package var description: String { "facility \(facility) card \(card)" }
}

/// The bit layout the panel expects. Bits go out most significant first.
package enum WiegandFormat: Sendable, Hashable, CustomStringConvertible {
    /// HID H10301, 26 bits: even parity over bits 1-13, 8-bit facility, 16-bit card, odd parity over bits 14-26.
    case h10301
    /// HID H10306, 34 bits: even parity over bits 1-17, 16-bit facility, 16-bit card, odd parity over bits 18-34.
    case h10306
    /// `bits` bits of card number, no facility and no parity, for panels with a custom layout.
    case raw(bits: Int)

    /// The bit counts `raw` accepts.
    package static let rawBitRange = 1...64

    /// Total bits in a frame.
    package var bitCount: Int {
        switch self {
        case .h10301: 26
        case .h10306: 34
        case .raw(let bits): bits
        }
    }

    /// Bits of facility code (0 for raw).
    package var facilityBits: Int {
        switch self {
        case .h10301: 8
        case .h10306: 16
        case .raw: 0
        }
    }

    /// Bits of card number.
    package var cardBits: Int {
        switch self {
        case .h10301, .h10306: 16
        case .raw(let bits): bits
        }
    }

    /// The largest facility code the format carries.
    package var maxFacility: UInt64 { Self.maxValue(bits: facilityBits) }
    /// The largest card number the format carries.
    package var maxCard: UInt64 { Self.maxValue(bits: cardBits) }

    static func maxValue(bits: Int) -> UInt64 {
        bits >= 64 ? .max : (UInt64(1) << UInt64(bits)) - 1
    }

    package var description: String {
        switch self {
        case .h10301: "h10301 (26-bit)"
        case .h10306: "h10306 (34-bit)"
        case .raw(let bits): "raw \(bits)-bit"
        }
    }

    /// Parses the configuration spelling: `h10301` (or `26bit`), `h10306` (or `34bit`), `raw`
    /// with `rawBits`. Nil for anything else.
    package init?(name: String, rawBits: Int) {
        switch name {
        case "h10301", "26bit": self = .h10301
        case "h10306", "34bit": self = .h10306
        case "raw":
            guard Self.rawBitRange.contains(rawBits) else { return nil }
            self = .raw(bits: rawBits)
        default: return nil
        }
    }

    /// Checks that `credential` fits; the error says which field and the range.
    package func check(_ credential: WiegandCredential) throws(WiegandFormatError) {
        if facilityBits == 0 {
            if credential.facility != 0 { throw .facilityNotCarried(format: self) }
        } else if credential.facility > maxFacility {
            throw .facilityOutOfRange(credential.facility, format: self)
        }
        if credential.card > maxCard { throw .cardOutOfRange(credential.card, format: self) }
    }

    /// The frame for `credential`, most significant bit first (the order on the wire).
    package func encode(_ credential: WiegandCredential) throws(WiegandFormatError) -> [Bool] {
        try check(credential)
        switch self {
        case .raw(let bits):
            return Self.bits(of: credential.card, count: bits)
        case .h10301, .h10306:
            let payload = Self.bits(of: credential.facility, count: facilityBits) + Self.bits(of: credential.card, count: cardBits)
            let half = payload.count / 2
            let leading = payload[..<half].filter { $0 }.count
            let trailing = payload[half...].filter { $0 }.count
            // Even parity makes the first half's ones even; odd parity makes the second half's odd.
            return [leading % 2 == 1] + payload + [trailing % 2 == 0]
        }
    }

    /// Reads a frame back; throws when the length or a parity bit is wrong.
    package func decode(_ frame: [Bool]) throws(WiegandFormatError) -> WiegandCredential {
        guard frame.count == bitCount else { throw .wrongLength(frame.count, format: self) }
        switch self {
        case .raw:
            return WiegandCredential(card: Self.value(of: frame[...]))
        case .h10301, .h10306:
            let payload = frame[1..<(frame.count - 1)]
            let half = payload.count / 2
            let first = payload.startIndex
            let evenOnes = frame[0...half].filter { $0 }.count
            let oddOnes = frame[(first + half)...].filter { $0 }.count
            if evenOnes % 2 != 0 { throw .parity(which: "leading even", format: self) }
            if oddOnes % 2 != 1 { throw .parity(which: "trailing odd", format: self) }
            let facility = Self.value(of: payload[first..<(first + facilityBits)])
            let card = Self.value(of: payload[(first + facilityBits)...])
            return WiegandCredential(facility: facility, card: card)
        }
    }

    static func bits(of value: UInt64, count: Int) -> [Bool] {
        (0..<count).map { index in
            let shift = UInt64(count - 1 - index)
            return (value >> shift) & 1 == 1
        }
    }

    static func value(of bits: ArraySlice<Bool>) -> UInt64 {
        bits.reduce(UInt64(0)) { ($0 << 1) | ($1 ? 1 : 0) }
    }
}

/// A credential that does not fit its format, or a frame that does not read back.
package enum WiegandFormatError: Error, Sendable, Hashable, CustomStringConvertible {
    case facilityOutOfRange(UInt64, format: WiegandFormat)
    case cardOutOfRange(UInt64, format: WiegandFormat)
    case facilityNotCarried(format: WiegandFormat)
    case wrongLength(Int, format: WiegandFormat)
    case parity(which: String, format: WiegandFormat)

    package var description: String {
        switch self {
        case .facilityOutOfRange(let value, let format):
            "facility code \(value) does not fit \(format) (0-\(format.maxFacility))"
        case .cardOutOfRange(let value, let format):
            "card number \(value) does not fit \(format) (0-\(format.maxCard))"
        case .facilityNotCarried(let format):
            "\(format) carries no facility code; set it to 0 or choose h10301/h10306"
        case .wrongLength(let count, let format):
            "\(count) bits received, \(format) has \(format.bitCount)"
        case .parity(let which, let format):
            "\(which) parity bit wrong for \(format) (a bit was lost or the wires D0/D1 are swapped)"
        }
    }
}
