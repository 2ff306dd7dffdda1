// Queued item types: the sealed payload (crop, condition, option), its listed metadata, and a delivery.
package import Foundation

/// What a queued check-in carries to the server: the JPEG crop and the request's `condition`
/// and `option`. All three are sealed together at rest.
package struct OutboxPayload: Sendable, Equatable {
    /// The JPEG bytes of the face crop (biometric data: never logged, never journaled).
    package var jpeg: [UInt8]
    /// The check-in `condition` as JSON text, as the API expects it (may be empty).
    package var conditionJSON: String
    /// The check-in `option` (may be empty).
    package var option: String

    package init(jpeg: [UInt8], conditionJSON: String = "", option: String = "") {
        self.jpeg = jpeg
        self.conditionJSON = conditionJSON
        self.option = option
    }

    /// Version byte, then three fields each prefixed by a big-endian 32-bit length.
    func encoded() -> [UInt8] {
        var out: [UInt8] = [1]
        let condition = Array(conditionJSON.utf8)
        let option = Array(option.utf8)
        out.reserveCapacity(13 + jpeg.count + condition.count + option.count)
        for field in [jpeg, condition, option] {
            let n = UInt32(field.count)
            out += [UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)]
            out += field
        }
        return out
    }

    init(decoding bytes: [UInt8], itemID: Int64) throws(OutboxError) {
        guard bytes.first == 1 else {
            throw .payloadUnreadable(itemID: itemID, reason: "unknown payload version")
        }
        var fields: [[UInt8]] = []
        var at = 1
        for _ in 0..<3 {
            guard at + 4 <= bytes.count else {
                throw .payloadUnreadable(itemID: itemID, reason: "truncated payload")
            }
            let n = Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
            at += 4
            guard at + n <= bytes.count else {
                throw .payloadUnreadable(itemID: itemID, reason: "truncated payload")
            }
            fields.append(Array(bytes[at..<(at + n)]))
            at += n
        }
        jpeg = fields[0]
        conditionJSON = String(decoding: fields[1], as: UTF8.self)
        option = String(decoding: fields[2], as: UTF8.self)
    }
}

/// A queued item as listed by `kioskctl queue list`: metadata only, never the payload.
package struct OutboxItemSummary: Sendable, Equatable, Codable {
    /// Row id: creation order, never reused.
    package var id: Int64
    /// A stable unique id, usable by the server as an idempotency key.
    package var uuid: String
    /// When the item was queued.
    package var createdAt: Date
    /// When the face was captured.
    package var capturedAt: Date
    /// Delivery attempts made so far.
    package var attempts: Int
    /// Not sent before this time (backoff).
    package var nextAttemptAt: Date
    /// Why the last attempt failed, if one did.
    package var lastError: String?
    /// Sealed payload size in bytes (what counts against the byte limit).
    package var size: Int
    /// Posts of this item that went out whole and got no answer (the server may have it).
    /// At most one more post follows the first such post, under `AmbiguousDeliveryPolicy.retry`.
    package var unansweredPosts: Int = 0
}

/// A queued item handed to the sender, with its opened payload.
package struct OutboxDelivery: Sendable {
    /// Metadata of the item.
    package var item: OutboxItemSummary
    /// The opened payload.
    package var payload: OutboxPayload
}
