// A streaming OSDP frame parser: bytes in any split, frames out, resynchronising on noise.

/// What the parser found in the bytes given to it.
package enum OSDPParsedItem: Sendable, Equatable {
    /// A frame whose check characters matched; `bytes` are exactly its bytes on the wire (the
    /// secure channel's MAC is computed over them).
    case frame(OSDPFrame, bytes: [UInt8])
    /// Something with a plausible header whose check failed: the PD answers osdp_NAK 0x01 when
    /// `address` is its own. Reported once per corrupted frame.
    case corrupted(address: UInt8, sequence: UInt8, isReply: Bool, problem: OSDPFrameProblem)
}

/// Splits a byte stream into OSDP frames. Bytes may arrive in any split; anything that is not a
/// frame is skipped byte by byte, so a frame right after line noise (which may itself contain
/// 0x53) is still found. Not thread-safe: one owner (the line's reading thread).
package struct OSDPFrameParser: Sendable {
    private var buffer: [UInt8] = []
    /// Bytes still inside a frame already reported as corrupted: a SOM found there is not
    /// reported again, so one damaged command draws at most one NAK.
    private var quietBytes = 0
    /// Bytes dropped as noise since the start (diagnostics).
    package private(set) var skippedBytes = 0

    package init() {}

    /// Whether part of a frame is waiting for more bytes.
    package var hasPartialFrame: Bool { !buffer.isEmpty }

    /// Drops a partial frame: the line was silent too long for the rest of it to come (OSDP's
    /// inter-character timeout), so the next byte starts afresh.
    package mutating func discardPartialFrame() {
        skippedBytes += buffer.count
        buffer.removeAll(keepingCapacity: true)
        quietBytes = 0
    }

    /// Adds bytes and returns every complete item they finish, in order.
    package mutating func append<Bytes: Sequence>(_ bytes: Bytes) -> [OSDPParsedItem] where Bytes.Element == UInt8 {
        buffer.append(contentsOf: bytes)
        var items: [OSDPParsedItem] = []
        while let item = nextItem() { items.append(item) }
        return items
    }

    private mutating func dropFirst(_ count: Int) {
        let count = min(count, buffer.count)
        buffer.removeFirst(count)
        quietBytes = max(0, quietBytes - count)
    }

    /// The offset of the first later SOM where a whole frame with a good check already sits.
    private func laterCompleteFrame() -> Int? {
        var offset = 1
        while offset + 5 <= buffer.count {
            defer { offset += 1 }
            guard buffer[offset] == OSDPFrame.som else { continue }
            let length = Int(buffer[offset + 2]) | Int(buffer[offset + 3]) << 8
            guard length >= 7, offset + length <= buffer.count else { continue }
            if case .success = OSDPFrame.decode(Array(buffer[offset..<(offset + length)])) { return offset }
        }
        return nil
    }

    private mutating func nextItem() -> OSDPParsedItem? {
        while true {
            guard let start = buffer.firstIndex(of: OSDPFrame.som) else {
                skippedBytes += buffer.count
                dropFirst(buffer.count)
                return nil
            }
            if start > 0 {
                skippedBytes += start
                dropFirst(start)
            }
            guard buffer.count >= 5 else { return nil }
            let length = Int(buffer[2]) | Int(buffer[3]) << 8
            let control = buffer[4]
            let minimum = 6 + (control & 0x04 != 0 ? 2 : 1) + (control & 0x08 != 0 ? 2 : 0)
            // Bits 4-6 of CTRL are reserved (zero); with an impossible length that is noise.
            guard length >= minimum, length <= OSDPFrame.maximumLength, control & 0x70 == 0 else {
                skippedBytes += 1
                dropFirst(1)
                continue
            }
            guard buffer.count >= length else {
                // A stray SOM with a plausible length would hold back a real frame until the
                // line goes quiet; if a complete, valid frame starts later on, it is noise.
                guard let later = laterCompleteFrame() else { return nil }
                skippedBytes += later
                dropFirst(later)
                continue
            }
            let candidate = Array(buffer[..<length])
            switch OSDPFrame.decode(candidate) {
            case .success(let frame):
                dropFirst(length)
                return .frame(frame, bytes: candidate)
            case .failure(let problem):
                // Not a frame after all: resynchronise one byte further on, since a real frame
                // may start inside what the bogus length covered.
                let report = quietBytes == 0
                skippedBytes += 1
                dropFirst(1)
                guard report else { continue }
                quietBytes = length - 1
                return .corrupted(
                    address: candidate[1] & 0x7F, sequence: control & 0x03, isReply: candidate[1] & 0x80 != 0, problem: problem)
            }
        }
    }
}
