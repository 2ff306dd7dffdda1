// BodySnippet: the start of an answer the client could not read, safe to log and journal.

/// Quotes the first bytes of a response body for a person debugging a contract mismatch.
///
/// The quote is short (at most ``limit`` bytes of the body), printable ASCII with everything
/// else escaped (`\n`, `\xNN`), and it never carries an image or a token: any run of 24 or
/// more base64- or token-like characters (letters, digits, `+/=_-.`) is replaced by
/// `…(N chars)…`. A check-in answer holds ids, a status, a similarity and a timestamp, all far
/// shorter than that, so what a technician needs to see survives.
package enum BodySnippet {
    /// How many body bytes are looked at. A few hundred: enough to recognise a proxy page, a
    /// renamed field or another API version, not enough to fill the journal.
    package static let limit = 200
    /// Shorter runs of token-like characters are kept; longer ones are elided.
    static let longestKeptRun = 23

    /// The quoted start of `bytes`, e.g. `{"result":"ok","id":…(40 chars)…}` plus `… (1234 bytes)`
    /// when the body was longer than ``limit``.
    package static func quote(_ bytes: some Collection<UInt8>) -> String {
        let head = Array(bytes.prefix(limit))
        var out = ""
        var run: [UInt8] = []
        func flushRun() {
            if run.count > longestKeptRun {
                out += "…(\(run.count) chars)…"
            } else {
                out += String(decoding: run, as: UTF8.self)
            }
            run.removeAll(keepingCapacity: true)
        }
        for byte in head {
            if isTokenCharacter(byte) {
                run.append(byte)
                continue
            }
            flushRun()
            switch byte {
            case UInt8(ascii: "\n"): out += "\\n"
            case UInt8(ascii: "\r"): out += "\\r"
            case UInt8(ascii: "\t"): out += "\\t"
            case UInt8(ascii: "\\"): out += "\\\\"
            case 0x20..<0x7F: out += String(UnicodeScalar(byte))
            default: out += "\\x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        flushRun()
        if bytes.count > head.count { out += "… (\(bytes.count) bytes)" }
        return out.isEmpty ? "(empty body)" : out
    }

    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="),
            UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
            return true
        default:
            return false
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
