// RFC 3339 timestamps: parsing, nanoseconds, errors, comparison across offsets, Codable and transcoder.
import AiDeeAPI
import Foundation
import Testing

@Suite("RFC 3339 timestamps")
struct TimestampTests {
    @Test func vendorSampleParsesExactlyAndRoundTrips() throws {
        let text = "2020-01-01T12:00:00.000000000+09:00"
        let stamp = try AiDeeTimestamp.parse(text)
        // 2020-01-01T03:00:00Z
        #expect(stamp.secondsSinceEpoch == 1_577_847_600)
        #expect(stamp.nanoseconds == 0)
        #expect(stamp.utcOffsetSeconds == 9 * 3600)
        #expect(stamp.rfc3339 == text)
    }

    @Test func nanosecondsAreKeptToTheLastDigit() throws {
        let stamp = try AiDeeTimestamp.parse("2024-02-29T23:59:59.123456789-05:30")
        #expect(stamp.nanoseconds == 123_456_789)
        #expect(stamp.utcOffsetSeconds == -(5 * 3600 + 1800))
        #expect(stamp.rfc3339 == "2024-02-29T23:59:59.123456789-05:30")
        #expect(stamp.secondsSinceEpoch == 1_709_251_199 + 5 * 3600 + 1800)  // 2024-03-01T00:00:00Z is 1709251200
    }

    @Test(arguments: [
        ("2050-01-01T00:00:00+09:00", "2050-01-01T00:00:00.000000000+09:00"),
        ("2020-01-01T12:00:00Z", "2020-01-01T12:00:00.000000000Z"),
        ("2020-01-01t12:00:00.5z", "2020-01-01T12:00:00.500000000Z"),
        ("2020-01-01T12:00:00.123+00:00", "2020-01-01T12:00:00.123000000Z"),
        ("1969-12-31T23:59:59.999999999Z", "1969-12-31T23:59:59.999999999Z"),
        ("2000-02-29T00:00:00.000000001+14:00", "2000-02-29T00:00:00.000000001+14:00"),
    ])
    func acceptedForms(_ input: String, _ normalised: String) throws {
        #expect(try AiDeeTimestamp.parse(input).rfc3339 == normalised)
    }

    @Test(arguments: [
        "2020-01-01", "2020-01-01T12:00:00", "2020-01-01T12:00:00.+09:00", "2020-01-01T12:00:00.1234567891Z",
        "2020-13-01T00:00:00Z", "2019-02-29T00:00:00Z", "2020-01-01T24:00:00Z", "2020-01-01T12:00:00+0900",
        "2020-01-01 12:00:00Z", "2020-01-01T12:00:00Zjunk", "", "tomorrow",
    ])
    func rejectedForms(_ input: String) {
        #expect(throws: AiDeeTimestamp.ParseError.self) { try AiDeeTimestamp.parse(input) }
        #expect(AiDeeTimestamp(rfc3339: input) == nil)
    }

    @Test func errorsSayWhatIsWrong() {
        do {
            _ = try AiDeeTimestamp.parse("2020-01-01T12:00:00")
            Issue.record("parsed without an offset")
        } catch {
            #expect(error.description.contains("offset"))
            #expect(error.description.contains("2020-01-01T12:00:00.000000000+09:00"))
        }
    }

    @Test func instantsCompareAcrossOffsets() throws {
        let seoul = try AiDeeTimestamp.parse("2020-01-01T12:00:00.000000001+09:00")
        let utc = try AiDeeTimestamp.parse("2020-01-01T03:00:00.000000001Z")
        #expect(seoul.isSameInstant(as: utc))
        #expect(seoul != utc)  // different written forms
        #expect(!(seoul < utc) && !(utc < seoul))
        #expect(utc < utc.adding(nanoseconds: 1))
        #expect(abs(seoul.seconds(until: seoul.adding(seconds: 1.5)) - 1.5) < 1e-9)
    }

    @Test func codableUsesTheTextForm() throws {
        struct Box: Codable { var at: AiDeeTimestamp }
        let json = #"{"at":"2020-01-01T12:00:00.000000007+09:00"}"#
        let box = try JSONDecoder().decode(Box.self, from: Data(json.utf8))
        #expect(box.at.nanoseconds == 7)
        let encoded = String(decoding: try JSONEncoder().encode(box), as: UTF8.self)
        #expect(encoded == json)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Box.self, from: Data(#"{"at":"soon"}"#.utf8)) }
    }

    @Test func dateTranscoderReadsNanosecondsAndOffsets() throws {
        let transcoder = AiDeeDateTranscoder()
        let date = try transcoder.decode("2020-01-01T12:00:00.250000000+09:00")
        #expect(abs(date.timeIntervalSince1970 - 1_577_847_600.25) < 1e-6)
        #expect(try transcoder.encode(date) == "2020-01-01T03:00:00.250000000Z")
    }

    @Test func nowIsCloseToTheSystemClock() {
        let now = AiDeeTimestamp.now()
        #expect(abs(now.date.timeIntervalSinceNow) < 5)
        #expect(AiDeeTimestamp(now.date).isSameInstant(as: now) || abs(AiDeeTimestamp(now.date).seconds(until: now)) < 1e-5)
    }
}
