// SecretRedactor: takes secrets out of text before it goes into a support bundle.
import Foundation

/// Removes secrets from text in two ways: by shape (values of keys that name a secret, a
/// password in a URL, `key=`/`secret=` lines) and by value (every secret the bundle writer
/// could read on this machine: the API key and secret, the outbox key in its raw, hex and
/// base64 forms), so a secret that slipped into a log line or an error message is caught too.
struct SecretRedactor: Sendable {
    static let mark = "<redacted>"

    /// Exact strings to remove wherever they appear (at least 6 characters, so the redactor
    /// cannot blank out common words).
    private(set) var secrets: [String] = []

    mutating func add(_ secret: String) {
        let trimmed = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.count >= 6, !secrets.contains(trimmed) else { return }
        secrets.append(trimmed)
        // Longest first: a secret that contains another is removed whole.
        secrets.sort { $0.count > $1.count }
    }

    /// Adds a binary key in the forms it could appear in text.
    mutating func add(bytes: [UInt8]) {
        guard bytes.count >= 8 else { return }
        add(bytes.map { String(format: "%02x", $0) }.joined())
        add(bytes.map { String(format: "%02X", $0) }.joined())
        add(Data(bytes).base64EncodedString())
        if let text = String(bytes: bytes, encoding: .utf8) { add(text) }
    }

    /// Key names (the last part of a dotted or YAML key) whose values are secrets.
    static func isSecretKey(_ name: String) -> Bool {
        let key = name.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: " \"'-"))
        if key.hasSuffix("_file") || key.hasSuffix("_path") || key.hasSuffix("_margin") || key.hasSuffix("_directory") {
            return false
        }
        return ["secret", "password", "passwd", "token", "api_key", "apikey", "private_key", "credential"].contains { key.contains($0) }
            || key == "key"
    }

    /// The text with every known secret and every secret-shaped value replaced by ``mark``.
    func redact(_ text: String) -> String {
        var result = text
        for secret in secrets { result = result.replacingOccurrences(of: secret, with: Self.mark) }
        let lines = result.split(separator: "\n", omittingEmptySubsequences: false).map { redactLine(String($0)) }
        return lines.joined(separator: "\n")
    }

    /// `key: value`, `key=value` and `KIOSK_..._SECRET=value` with a secret key name, and
    /// `scheme://user:password@host`.
    private func redactLine(_ line: String) -> String {
        var line = line
        if let range = line.range(of: #"://[^/@\s:]+:[^/@\s]+@"#, options: .regularExpression) {
            line.replaceSubrange(range, with: "://\(Self.mark)@")
        }
        for separator in [":", "="] {
            guard let index = line.firstIndex(of: Character(separator)) else { continue }
            let name = String(line[..<index])
            let value = line[line.index(after: index)...].trimmingCharacters(in: .whitespaces)
            guard !name.contains(" ") || name.trimmingCharacters(in: .whitespaces).split(separator: " ").count == 1,
                !value.isEmpty, !value.hasPrefix(Self.mark)
            else { continue }
            let leaf = name.split(separator: ".").last.map(String.init) ?? name
            let stripped = leaf.hasPrefix("KIOSK_") ? String(leaf.dropFirst(6)) : leaf
            if Self.isSecretKey(stripped.trimmingCharacters(in: .whitespaces)) {
                return "\(name)\(separator) \(Self.mark)"
            }
        }
        return line
    }
}
