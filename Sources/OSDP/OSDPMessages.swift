// The payloads of the commands and replies this PD handles: identity, capabilities, LED, buzzer, COMSET, card data.

/// What osdp_PDID reports about this reader.
package struct OSDPIdentity: Sendable, Equatable {
    /// IEEE OUI of the vendor (3 bytes).
    package var vendorCode: UInt32
    package var model: UInt8
    package var version: UInt8
    package var serialNumber: UInt32
    package var firmware: (major: UInt8, minor: UInt8, build: UInt8)

    package init(vendorCode: UInt32, model: UInt8, version: UInt8, serialNumber: UInt32, firmware: (UInt8, UInt8, UInt8)) {
        self.vendorCode = vendorCode & 0xFF_FFFF
        self.model = model
        self.version = version
        self.serialNumber = serialNumber
        self.firmware = firmware
    }

    package static func == (lhs: Self, rhs: Self) -> Bool { lhs.payload == rhs.payload }

    /// osdp_PDID's 12 data bytes: vendor code (3, LE), model, version, serial number (4, LE),
    /// firmware major, minor, build.
    package var payload: [UInt8] {
        [
            UInt8(vendorCode & 0xFF), UInt8(vendorCode >> 8 & 0xFF), UInt8(vendorCode >> 16 & 0xFF), model, version,
            UInt8(serialNumber & 0xFF), UInt8(serialNumber >> 8 & 0xFF), UInt8(serialNumber >> 16 & 0xFF), UInt8(serialNumber >> 24),
            firmware.major, firmware.minor, firmware.build,
        ]
    }

    /// The 8-byte client UID sent in osdp_CCRYPT: vendor code, model, version, serial number.
    package var clientUID: [UInt8] { Array(payload[0..<8]) }
}

/// One osdp_PDCAP entry: a function code, its compliance level and how many items.
package struct OSDPCapability: Sendable, Equatable {
    package var function: UInt8
    package var compliance: UInt8
    package var count: UInt8

    package init(function: UInt8, compliance: UInt8, count: UInt8) {
        self.function = function
        self.compliance = compliance
        self.count = count
    }

    /// What this reader can do: card data as a bit array, one reader LED (on/off colours,
    /// timed), one buzzer (on/off), CRC-16, AES-128 secure channel, a 1024-byte receive buffer.
    package static func reader(secure: Bool) -> [OSDPCapability] {
        [
            OSDPCapability(function: 3, compliance: 1, count: 0),  // card data format: array of bits
            OSDPCapability(function: 4, compliance: 1, count: 1),  // reader LED control
            OSDPCapability(function: 5, compliance: 1, count: 1),  // audible output
            OSDPCapability(function: 8, compliance: 1, count: 0),  // check character: CRC-16
            OSDPCapability(function: 9, compliance: secure ? 1 : 0, count: secure ? 1 : 0),  // communication security: AES-128
            OSDPCapability(function: 10, compliance: UInt8(OSDPFrame.maximumLength & 0xFF), count: UInt8(OSDPFrame.maximumLength >> 8)),
        ]
    }
}

/// The colours of osdp_LED.
package enum OSDPColor: UInt8, Sendable, CaseIterable {
    case black = 0
    case red, green, amber, blue, magenta, cyan, white
}

/// One record of osdp_LED (14 bytes): a temporary and a permanent setting for one LED.
package struct OSDPLEDCommand: Sendable, Equatable {
    /// One of the two settings of the record.
    package struct Setting: Sendable, Equatable {
        /// Temporary: 0 no change, 1 cancel temporary, 2 set and start the timer. Permanent: 0 no
        /// change, 1 set.
        package var control: UInt8
        /// On and off times of a flash, in 100 ms units.
        package var onTime: UInt8
        package var offTime: UInt8
        package var onColor: UInt8
        package var offColor: UInt8
        /// How long the temporary setting lasts, in 100 ms units (temporary only).
        package var timer: UInt16
    }

    package var reader: UInt8
    package var led: UInt8
    package var temporary: Setting
    package var permanent: Setting

    /// The record at the start of `bytes` (14 bytes).
    package init?(_ bytes: ArraySlice<UInt8>) {
        guard bytes.count >= 14 else { return nil }
        let b = Array(bytes.prefix(14))
        reader = b[0]
        led = b[1]
        temporary = Setting(
            control: b[2], onTime: b[3], offTime: b[4], onColor: b[5], offColor: b[6], timer: UInt16(b[7]) | UInt16(b[8]) << 8)
        permanent = Setting(control: b[9], onTime: b[10], offTime: b[11], onColor: b[12], offColor: b[13], timer: 0)
    }

    /// The colour shown now: the temporary one while it is set, else the permanent one; nil
    /// when the record changes neither.
    package var shownColor: OSDPColor? {
        if temporary.control == 2 { return OSDPColor(rawValue: temporary.onColor) ?? .black }
        if permanent.control == 1 { return OSDPColor(rawValue: permanent.onColor) ?? .black }
        return nil
    }

    /// How long the temporary colour lasts before the permanent one returns (nil: no timer).
    package var temporaryDuration: Duration? {
        temporary.control == 2 && temporary.timer > 0 ? .milliseconds(Int(temporary.timer) * 100) : nil
    }
}

/// osdp_BUZ (5 bytes): tone, on/off times in 100 ms units, repeat count (0: until told otherwise).
package struct OSDPBuzzerCommand: Sendable, Equatable {
    package var reader: UInt8
    /// 0 or 1: off; 2: the default tone.
    package var tone: UInt8
    package var onTime: UInt8
    package var offTime: UInt8
    package var count: UInt8

    package init?(_ bytes: [UInt8]) {
        guard bytes.count == 5 else { return nil }
        reader = bytes[0]
        tone = bytes[1]
        onTime = bytes[2]
        offTime = bytes[3]
        count = bytes[4]
    }

    /// Whether the buzzer sounds at all.
    package var sounds: Bool { tone >= 2 && onTime > 0 }
}

/// osdp_COMSET / osdp_COM (5 bytes): the address and baud rate to use from now on.
package struct OSDPCommunicationSettings: Sendable, Equatable {
    /// The baud rates a PD may be told to use.
    package static let baudRates = [9600, 19200, 38400, 57600, 115_200, 230_400]

    package var address: UInt8
    package var baud: Int

    package init(address: UInt8, baud: Int) {
        self.address = address
        self.baud = baud
    }

    package init?(_ bytes: [UInt8]) {
        guard bytes.count == 5 else { return nil }
        address = bytes[0]
        baud = Int(bytes[1]) | Int(bytes[2]) << 8 | Int(bytes[3]) << 16 | Int(bytes[4]) << 24
    }

    package var payload: [UInt8] {
        [address, UInt8(baud & 0xFF), UInt8(baud >> 8 & 0xFF), UInt8(baud >> 16 & 0xFF), UInt8(baud >> 24 & 0xFF)]
    }
}

/// A card read as osdp_RAW carries it: bits, most significant first, with a format code.
package struct OSDPCardRead: Sendable, Equatable {
    /// osdp_RAW's format code.
    package enum Format: UInt8, Sendable {
        /// Raw bits, format not specified.
        case unspecified = 0x00
        /// A Wiegand frame with its parity bits (P/data/P).
        case wiegand = 0x01
    }

    package var reader: UInt8
    package var format: Format
    /// The bits in wire order (first bit first).
    package var bits: [Bool]

    package init(reader: UInt8 = 0, format: Format, bits: [Bool]) {
        self.reader = reader
        self.format = format
        self.bits = bits
    }

    /// osdp_RAW's data: reader number, format code, bit count (2 bytes LE), then the bits packed
    /// most significant first, the last byte padded with zeros.
    package var payload: [UInt8] {
        var packed = [UInt8](repeating: 0, count: (bits.count + 7) / 8)
        for (index, bit) in bits.enumerated() where bit {
            packed[index / 8] |= 0x80 >> UInt8(index % 8)
        }
        return [reader, format.rawValue, UInt8(bits.count & 0xFF), UInt8(bits.count >> 8)] + packed
    }
}
