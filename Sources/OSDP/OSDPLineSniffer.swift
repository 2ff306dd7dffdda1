// Reads an OSDP line without answering (a second adapter on the bus): every frame, decoded, for `kioskctl panel watch`.
import Synchronization
import Threading

/// Listens to an RS-485 bus and reports each frame, commands and replies alike, never writing.
/// Its own thread does the blocking reads; `stop()` ends it.
package final class OSDPLineSniffer: Sendable {
    /// Parsed items, or the line's failure (then the stream ends).
    package let items: AsyncStream<Result<OSDPParsedItem, OSDPSerialError>>
    private let continuation: AsyncStream<Result<OSDPParsedItem, OSDPSerialError>>.Continuation
    private let stopping = Atomic<Bool>(false)
    private let exit = ThreadExit()

    /// Opens `path` (busy when kioskd holds it: listen on a second adapter instead).
    package init(path: String, baud: Int) throws(OSDPSerialError) {
        let line = try OSDPSerialPort(path: path, baud: baud)
        (items, continuation) = AsyncStream.makeStream(of: Result<OSDPParsedItem, OSDPSerialError>.self)
        let box = LineBox(line)
        let continuation = self.continuation
        let exit = self.exit
        if let code = DedicatedThread.start({ [self] in
            var parser = OSDPFrameParser()
            defer {
                continuation.finish()
                exit.signal()
            }
            while !self.stopping.load(ordering: .relaxed) {
                do throws(OSDPSerialError) {
                    let bytes = try box.line.read(timeout: .milliseconds(100))
                    if bytes.isEmpty {
                        if parser.hasPartialFrame { parser.discardPartialFrame() }
                        continue
                    }
                    for item in parser.append(bytes) { continuation.yield(.success(item)) }
                } catch {
                    continuation.yield(.failure(error))
                    return
                }
            }
        }) {
            throw .threadFailed(errno: code)
        }
    }

    /// Stops listening and closes the line.
    package func stop() async {
        stopping.store(true, ordering: .relaxed)
        await exit.wait()
    }

    private final class LineBox: @unchecked Sendable {
        // @unchecked: only the sniffer's thread uses the line after init.
        let line: OSDPSerialPort
        init(_ line: OSDPSerialPort) { self.line = line }
    }
}

extension OSDPFrame {
    /// One line for a log or a terminal: direction, address, sequence, code by name, security
    /// block, data in hex (ciphertext stays ciphertext).
    package var summary: String {
        let name: String =
            isReply
            ? OSDPReplyCode(rawValue: code).map { "\($0)" } ?? code.osdpHex
            : OSDPCommandCode(rawValue: code).map { "\($0)" } ?? code.osdpHex
        var text = "\(isReply ? "PD→CP" : "CP→PD") addr \(address) seq \(sequence) \(check == .crc16 ? "CRC" : "CKSUM") \(name)"
        if let securityBlock {
            text += " SCB \(securityBlock.type.osdpHex)"
            if let mode = OSDPSecurityBlockType(rawValue: securityBlock.type), mode.rawValue >= 0x17, !data.isEmpty {
                text += " (encrypted)"
            }
        }
        if code == OSDPReplyCode.nak.rawValue, isReply, let reason = data.first.flatMap(OSDPNakReason.init(rawValue:)) {
            text += " \(reason)"
        }
        if !data.isEmpty { text += " data " + data.map { String($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
        return text
    }
}
