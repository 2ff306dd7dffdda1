// APICredentials: the API key and secret, and the protected file they live in.
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An API key and its secret (from `POST /auth/key`), exchanged for tokens by ``TokenSession``.
///
/// `description` never shows the secret, so credentials can be logged or printed safely.
package struct APICredentials: Sendable, Hashable, CustomStringConvertible {
    /// The API key (a UUID).
    package var key: String
    /// The key's secret. Never log it.
    package var secret: String

    /// Creates credentials from a key and a secret.
    package init(key: String, secret: String) {
        self.key = key
        self.secret = secret
    }

    package var description: String { "APICredentials(key: \(key), secret: <redacted>)" }

    // MARK: The credentials file

    /// Reads credentials from a file that only its owner can read.
    ///
    /// The file holds two entries, one per line, either `key=...`/`secret=...` or YAML
    /// `key: ...`/`secret: ...`; values may be quoted; blank lines and `#` comments are ignored.
    /// Files whose mode gives any right to group or others (looser than 0600) are refused,
    /// because the secret is as good as the account's password.
    package static func load(from path: String) throws(FaceAiDeeError) -> APICredentials {
        var info = stat()
        do {
            try systemCall { stat(path, &info) }
        } catch {
            throw .credentials(path: path, problem: "cannot read it (\(error)). Create it with `kioskctl api key issue --save \(path)`.")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .credentials(path: path, problem: "not a regular file")
        }
        let permissions = info.st_mode & 0o777
        guard permissions & 0o077 == 0 else {
            throw .credentials(
                path: path,
                problem:
                    "mode \(String(permissions, radix: 8)) lets other users read the secret; run `chmod 600 \(path)` (and check its owner)")
        }
        let text: String
        do { text = try readFile(path) } catch {
            throw .credentials(path: path, problem: "cannot read it (\(error))")
        }
        return try parse(text, path: path)
    }

    /// Parses the text of a credentials file (see ``load(from:)`` for the format).
    package static func parse(_ text: String, path: String = "<text>") throws(FaceAiDeeError) -> APICredentials {
        var key: String?
        var secret: String?
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") || line == "---" { continue }
            guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw .credentials(path: path, problem: "line \(number + 1) is not `name=value` or `name: value`")
            }
            let name = line[..<separator].trimmingWhitespace().lowercased()
            var value = line[line.index(after: separator)...].trimmingWhitespace()
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            switch name {
            case "key", "api_key": key = value
            case "secret", "api_secret": secret = value
            default: continue  // other entries (comments for people, future fields) are ignored
            }
        }
        guard let key, !key.isEmpty else { throw .credentials(path: path, problem: "no `key` entry") }
        guard let secret, !secret.isEmpty else { throw .credentials(path: path, problem: "no `secret` entry") }
        return APICredentials(key: key, secret: secret)
    }

    /// The file text ``load(from:)`` reads back.
    package var fileText: String {
        "# Face AiDee API credentials (kioskctl api key issue). Keep this file mode 0600.\nkey=\(key)\nsecret=\(secret)\n"
    }

    /// Writes the credentials to `path` with mode 0600, replacing the file atomically (a
    /// temporary file in the same folder, then rename), so a reader never sees half a file.
    package func save(to path: String) throws(FaceAiDeeError) {
        let temporary = path + ".tmp-\(getpid())"
        let file: FileDescriptor
        do {
            file = try FileDescriptor.open(
                FilePath(temporary), .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec],
                permissions: .ownerReadWrite)
        } catch {
            throw .credentials(path: path, problem: "cannot create \(temporary) (\(error))")
        }
        do {
            try file.closeAfter {
                try file.writeAll(fileText.utf8)
                // The mode is set explicitly as the umask may have narrowed it, never widened: 0600 exactly.
                try systemCall { fchmod(file.rawValue, 0o600) }
                try systemCall { fsync(file.rawValue) }
            }
            try systemCall { rename(temporary, path) }
        } catch {
            // Errno's description is strerror's text.
            unlink(temporary)
            throw .credentials(path: path, problem: "cannot write it (\(error))")
        }
    }
}

extension StringProtocol {
    fileprivate func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}

/// Reads a whole file as UTF-8 (the credentials file is a few lines).
private func readFile(_ path: String) throws(FaceAiDeeError) -> String {
    let file: FileDescriptor
    do {
        file = try FileDescriptor.open(FilePath(path), .readOnly, options: .closeOnExec)
    } catch {
        throw .credentials(path: path, problem: "\(error)")
    }
    // Nothing to do about a failed close after reading: the descriptor is released either way.
    defer { try? file.close() }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count: Int
        do {
            count = try chunk.withUnsafeMutableBytes { try file.read(into: $0) }
        } catch {
            throw .credentials(path: path, problem: "\(error)")
        }
        if count == 0 { break }
        bytes.append(contentsOf: chunk[0..<count])
        guard bytes.count <= 64 << 10 else { throw .credentials(path: path, problem: "larger than 64 KiB; not a credentials file") }
    }
    return String(decoding: bytes, as: UTF8.self)
}
