// `osdp.scbk_file`: the SCBK as 32 hex digits in a file only its owner may read (0600).
#if canImport(Glibc)
import Glibc
#endif

/// Why the key file cannot be used. Never contains the key.
package struct OSDPKeyFileError: Error, Sendable, Equatable, CustomStringConvertible {
    package var path: String
    package var problem: String

    package var description: String { "\(path): \(problem)" }
}

/// Reads and writes the SCBK file.
package enum OSDPKeyFile {
    /// The key in `path`: exactly 32 hex digits (white space around them ignored), the file
    /// readable by its owner only (no group or other permission bits), so a copied or
    /// world-readable key is refused rather than used.
    package static func load(path: String) throws(OSDPKeyFileError) -> OSDPKey {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            let hint = code == ENOENT ? "; write the 16-byte key as 32 hex digits (chmod 600), or use osdp.install_mode" : ""
            throw OSDPKeyFileError(path: path, problem: "cannot read: \(OSDPSerialError.message(code))\(hint)")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw OSDPKeyFileError(path: path, problem: "is not a regular file") }
        guard info.st_mode & 0o077 == 0 else {
            throw OSDPKeyFileError(
                path: path, problem: "is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); run chmod 600 \(path)")
        }
        guard let file = fopen(path, "r") else {
            throw OSDPKeyFileError(path: path, problem: "cannot open: \(OSDPSerialError.message(errno))")
        }
        defer { fclose(file) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = fread(&buffer, 1, buffer.count, file)
        let text = String(decoding: buffer[..<count], as: UTF8.self)
        guard let key = OSDPKey(hex: text) else {
            throw OSDPKeyFileError(path: path, problem: "must hold exactly 32 hex digits (the 16-byte SCBK), nothing else")
        }
        return key
    }

    /// Writes `key` to `path` (mode 0600) through a temporary file and a rename, so a power cut
    /// leaves the old key or the new one, never half of one.
    package static func store(_ key: OSDPKey, path: String) throws(OSDPKeyFileError) {
        let temporary = path + ".new"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw OSDPKeyFileError(path: temporary, problem: "cannot create: \(OSDPSerialError.message(errno)); is the folder writable?")
        }
        let text = Array((key.hex + "\n").utf8)
        let written = text.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == text.count, synced else {
            unlink(temporary)
            throw OSDPKeyFileError(path: temporary, problem: "cannot write: \(OSDPSerialError.message(errno))")
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw OSDPKeyFileError(path: path, problem: "cannot replace: \(OSDPSerialError.message(code))")
        }
    }
}
