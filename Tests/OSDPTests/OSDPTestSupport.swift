// Helpers for the OSDP tests: hex, a command builder, and a PD wired for tests.
import Synchronization

@testable import OSDP

extension Array where Element == UInt8 {
    /// Bytes from hex digits (test literals only).
    init(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        self = bytes
    }

    var hex: String { map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }
}

/// A command frame from the CP, in bytes.
func command(
    _ code: OSDPCommandCode, _ data: [UInt8] = [], address: UInt8 = 0, sequence: UInt8, check: OSDPFrame.Check = .crc16,
    securityBlock: OSDPFrame.SecurityBlock? = nil
) -> [UInt8] {
    OSDPFrame(
        address: address, isReply: false, sequence: sequence, check: check, securityBlock: securityBlock, code: code.rawValue, data: data
    )
    .encoded()
}

/// Feeds bytes to a PD through a parser and returns the one reply frame (decoded) and the events.
func exchange(_ pd: inout OSDPPeripheral, _ bytes: [UInt8]) -> (reply: OSDPFrame?, raw: [UInt8]?, events: [OSDPPeripheralEvent]) {
    var parser = OSDPFrameParser()
    var reply: [UInt8]?
    var events: [OSDPPeripheralEvent] = []
    for item in parser.append(bytes) {
        let answer = pd.handle(item)
        if let bytes = answer.reply { reply = bytes }
        events += answer.events
    }
    guard let reply, case .success(let frame) = OSDPFrame.decode(reply) else { return (nil, reply, events) }
    return (frame, reply, events)
}

extension OSDPFrame {
    /// The NAK reason of a NAK reply.
    var nakReason: OSDPNakReason? {
        guard code == OSDPReplyCode.nak.rawValue, let first = data.first else { return nil }
        return OSDPNakReason(rawValue: first)
    }
}

/// Collects a reader's events while a test runs.
final class EventLog: Sendable {
    private let events = Mutex<[OSDPReaderEvent]>([])
    func append(_ event: OSDPReaderEvent) { events.withLock { $0.append(event) } }
    var all: [OSDPReaderEvent] { events.withLock { $0 } }
}
