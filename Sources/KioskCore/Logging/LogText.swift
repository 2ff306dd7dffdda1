/// Text from outside (server messages, error bodies, file names) made safe for a log line or a
/// terminal: a newline in a server's message must not forge a second journal entry, and an
/// escape sequence must not reach a technician's terminal.
package enum LogText {
    /// `text` with every control character (C0, DEL, C1) and Unicode line or paragraph
    /// separator written as a visible escape (`\n`, `\r`, `\t`, `\u{1B}`); everything else as is.
    package static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else {
                out.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
        }
        return out
    }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}"
    }
}
