// AiDeeTimestamp: the API's RFC 3339 timestamps, kept exactly (nanoseconds and UTC offset).
//
// The Face AiDee API writes timestamps like `2020-01-01T12:00:00.000000000+09:00`. Foundation's
// `Date` is a Double of seconds since 2001, which cannot hold nanoseconds at today's magnitude
// (its resolution is about 0.1 µs) and forgets the offset, so the contract maps its `Timestamp`
// schema to this type (see openapi-generator-config.yaml) and parses it by hand.

package import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An RFC 3339 date-time as the Face AiDee API writes it: an instant with nanosecond precision
/// plus the UTC offset it was written with.
///
/// Parsing accepts 0 to 9 fractional digits and `Z` or `±hh:mm` offsets (`t`/`z` in either case,
/// as RFC 3339 allows); formatting always writes nine fractional digits and the stored offset, so
/// a server value survives a decode/encode round trip unchanged.
///
/// Equality compares the written form (instant and offset); use ``isSameInstant(as:)`` or the
/// `Comparable` operators, which order by instant, to compare moments.
package struct AiDeeTimestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Whole seconds since 1970-01-01T00:00:00Z (may be negative).
    package let secondsSinceEpoch: Int64
    /// Nanoseconds within the second, 0 ..< 1_000_000_000.
    package let nanoseconds: Int32
    /// The offset from UTC the timestamp was written with, in seconds (+09:00 is 32400).
    package let utcOffsetSeconds: Int32

    /// Creates a timestamp from its parts; `nanoseconds` outside 0 ..< 1e9 carries into seconds.
    package init(secondsSinceEpoch: Int64, nanoseconds: Int64 = 0, utcOffsetSeconds: Int32 = 0) {
        let carry = nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : (nanoseconds - 999_999_999) / 1_000_000_000
        self.secondsSinceEpoch = secondsSinceEpoch + carry
        self.nanoseconds = Int32(nanoseconds - carry * 1_000_000_000)
        self.utcOffsetSeconds = utcOffsetSeconds
    }

    /// Creates a timestamp from a `Date` (rounded to the microsecond, the most a `Date` holds
    /// reliably today), written with the given offset.
    package init(_ date: Date, utcOffsetSeconds: Int32 = 0) {
        let interval = date.timeIntervalSince1970
        let whole = interval.rounded(.down)
        let micros = ((interval - whole) * 1_000_000).rounded()
        self.init(
            secondsSinceEpoch: Int64(whole), nanoseconds: Int64(micros) * 1_000,
            utcOffsetSeconds: utcOffsetSeconds)
    }

    /// The current time from the system's real-time clock, at full nanosecond precision.
    package static func now(utcOffsetSeconds: Int32 = 0) -> AiDeeTimestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return AiDeeTimestamp(
            secondsSinceEpoch: Int64(spec.tv_sec), nanoseconds: Int64(spec.tv_nsec),
            utcOffsetSeconds: utcOffsetSeconds)
    }

    /// The instant as a `Date` (loses precision below about 0.1 µs and the offset).
    package var date: Date {
        Date(timeIntervalSince1970: TimeInterval(secondsSinceEpoch) + TimeInterval(nanoseconds) / 1e9)
    }

    /// The same instant written with another offset.
    package func withOffset(_ utcOffsetSeconds: Int32) -> AiDeeTimestamp {
        AiDeeTimestamp(
            secondsSinceEpoch: secondsSinceEpoch, nanoseconds: Int64(nanoseconds),
            utcOffsetSeconds: utcOffsetSeconds)
    }

    /// Adds a number of nanoseconds (negative to subtract).
    package func adding(nanoseconds delta: Int64) -> AiDeeTimestamp {
        AiDeeTimestamp(
            secondsSinceEpoch: secondsSinceEpoch, nanoseconds: Int64(nanoseconds) + delta,
            utcOffsetSeconds: utcOffsetSeconds)
    }

    /// Adds a number of seconds (negative to subtract), kept to the nanosecond.
    package func adding(seconds delta: Double) -> AiDeeTimestamp {
        adding(nanoseconds: Int64((delta * 1e9).rounded()))
    }

    /// Seconds from `self` to `other` (positive when `other` is later), as a Double.
    package func seconds(until other: AiDeeTimestamp) -> Double {
        Double(other.secondsSinceEpoch - secondsSinceEpoch)
            + Double(Int64(other.nanoseconds) - Int64(nanoseconds)) / 1e9
    }

    /// True when both denote the same instant, whatever offsets they were written with.
    package func isSameInstant(as other: AiDeeTimestamp) -> Bool {
        secondsSinceEpoch == other.secondsSinceEpoch && nanoseconds == other.nanoseconds
    }

    package static func < (lhs: AiDeeTimestamp, rhs: AiDeeTimestamp) -> Bool {
        (lhs.secondsSinceEpoch, lhs.nanoseconds) < (rhs.secondsSinceEpoch, rhs.nanoseconds)
    }

    // MARK: Text form

    /// Parses an RFC 3339 date-time; returns nil when `text` is not one (the reason is in
    /// ``parse(_:)``'s error).
    package init?(rfc3339 text: String) {
        guard let value = try? AiDeeTimestamp.parse(text) else { return nil }
        self = value
    }

    /// Why a string is not an RFC 3339 date-time.
    package struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The text that failed.
        package let text: String
        /// What is wrong with it.
        package let reason: String
        package var description: String {
            "'\(text)' is not an RFC 3339 date-time (\(reason)); expected e.g. 2020-01-01T12:00:00.000000000+09:00"
        }
    }

    /// Parses an RFC 3339 date-time such as `2020-01-01T12:00:00.000000000+09:00`, keeping every
    /// fractional digit (up to nine) and the offset.
    package static func parse(_ text: String) throws(ParseError) -> AiDeeTimestamp {
        let bytes = Array(text.utf8)
        var index = 0
        func fail(_ reason: String) -> ParseError { ParseError(text: text, reason: reason) }
        func digits(_ count: Int, _ field: String) throws(ParseError) -> Int {
            guard index + count <= bytes.count else { throw fail("\(field) is cut short") }
            var value = 0
            for offset in 0..<count {
                let byte = bytes[index + offset]
                guard byte >= 0x30, byte <= 0x39 else { throw fail("\(field) must be \(count) digits") }
                value = value * 10 + Int(byte - 0x30)
            }
            index += count
            return value
        }
        func expect(_ allowed: [UInt8], _ what: String) throws(ParseError) {
            guard index < bytes.count, allowed.contains(bytes[index]) else { throw fail("expected \(what)") }
            index += 1
        }
        let year = try digits(4, "year")
        try expect([0x2D], "'-' after the year")
        let month = try digits(2, "month")
        try expect([0x2D], "'-' after the month")
        let day = try digits(2, "day")
        try expect([0x54, 0x74], "'T' between date and time")
        let hour = try digits(2, "hour")
        try expect([0x3A], "':' after the hour")
        let minute = try digits(2, "minute")
        try expect([0x3A], "':' after the minute")
        let second = try digits(2, "second")
        var nanos = 0
        if index < bytes.count, bytes[index] == 0x2E {
            index += 1
            var count = 0
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                guard count < 9 else { throw fail("more than 9 fractional digits") }
                nanos = nanos * 10 + Int(bytes[index] - 0x30)
                count += 1
                index += 1
            }
            guard count > 0 else { throw fail("no digit after '.'") }
            for _ in count..<9 { nanos *= 10 }
        }
        guard index < bytes.count else { throw fail("missing offset ('Z' or ±hh:mm)") }
        var offset = 0
        switch bytes[index] {
        case 0x5A, 0x7A:
            index += 1
        case 0x2B, 0x2D:
            let sign = bytes[index] == 0x2D ? -1 : 1
            index += 1
            let offsetHours = try digits(2, "offset hours")
            try expect([0x3A], "':' in the offset")
            let offsetMinutes = try digits(2, "offset minutes")
            guard offsetHours <= 23, offsetMinutes <= 59 else { throw fail("offset out of range") }
            offset = sign * (offsetHours * 3600 + offsetMinutes * 60)
        default:
            throw fail("missing offset ('Z' or ±hh:mm)")
        }
        guard index == bytes.count else { throw fail("unexpected text after the offset") }
        guard (1...12).contains(month) else { throw fail("month \(month) out of range") }
        guard day >= 1, day <= daysInMonth(year: year, month: month) else { throw fail("day \(day) out of range") }
        guard hour <= 23, minute <= 59 else { throw fail("time out of range") }
        // RFC 3339 allows a leap second (60); it is counted as the next second's start.
        guard second <= 60 else { throw fail("second \(second) out of range") }
        let days = daysFromCivil(year: year, month: month, day: day)
        let local = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return AiDeeTimestamp(
            secondsSinceEpoch: local - Int64(offset), nanoseconds: Int64(nanos),
            utcOffsetSeconds: Int32(offset))
    }

    /// The RFC 3339 form with nine fractional digits and the stored offset.
    package var rfc3339: String {
        let local = secondsSinceEpoch + Int64(utcOffsetSeconds)
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let secondOfDay = Int(local - days * 86_400)
        let (year, month, day) = civilFromDays(Int(days))
        var text = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
        text += "T" + pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay / 60 % 60, 2) + ":"
        text += pad(secondOfDay % 60, 2) + "." + pad(Int(nanoseconds), 9)
        if utcOffsetSeconds == 0 {
            text += "Z"
        } else {
            let magnitude = Int(utcOffsetSeconds.magnitude)
            text += (utcOffsetSeconds < 0 ? "-" : "+") + pad(magnitude / 3600, 2) + ":" + pad(magnitude / 60 % 60, 2)
        }
        return text
    }

    package var description: String { rfc3339 }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try AiDeeTimestamp.parse(text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rfc3339)
    }
}

// MARK: Calendar arithmetic (proleptic Gregorian, after Howard Hinnant's civil-days algorithms)

private func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

private func daysInMonth(year: Int, month: Int) -> Int {
    switch month {
    case 2: return isLeap(year) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}

/// Days since 1970-01-01 of a civil date.
private func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
}

/// The civil date of a number of days since 1970-01-01.
private func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let mp = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
}

private func pad(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}
