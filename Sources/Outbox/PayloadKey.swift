// PayloadKey: the ChaCha20-Poly1305 key sealing queued payloads, read from a file or credential, or created.
import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The key that seals queued payloads (ChaCha20-Poly1305, 256-bit).
///
/// Loaded once at start from a file (mode 0600) or a systemd credential. The key never leaves
/// this module except as a short fingerprint (`id`), stored with each item so that an item
/// sealed with another key is recognised instead of failing obscurely.
package struct PayloadKey: Sendable {
    /// The raw key. Kept as bytes because `SymmetricKey` is not `Sendable` in swift-crypto 3;
    /// a `SymmetricKey` is built for each seal/open, which costs nothing next to the cipher.
    private let bytes: [UInt8]
    private var symmetricKey: SymmetricKey { SymmetricKey(data: bytes) }
    /// First 8 bytes of SHA-256 of the key, in hex: identifies the key, reveals nothing of it.
    package let id: String

    /// A key from 32 raw bytes (tests and tools).
    package init(bytes: some Collection<UInt8>) throws(OutboxError) {
        guard bytes.count == 32 else {
            throw .keyInvalid(source: "bytes", reason: "\(bytes.count) bytes instead of 32")
        }
        self.bytes = Array(bytes)
        id = SHA256.hash(data: Array(bytes)).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// Loads the key named by the configuration, or returns nil for `.none`.
    package static func load(_ source: OutboxKeySource) throws(OutboxError) -> PayloadKey? {
        switch source {
        case .none:
            return nil
        case let .credential(name):
            let directory = ProcessInfo.processInfo.environment["CREDENTIALS_DIRECTORY"]
            guard let directory, !directory.isEmpty else {
                throw .credentialMissing(name: name, directory: nil)
            }
            let path = directory + "/" + name
            guard FileManager.default.fileExists(atPath: path) else {
                throw .credentialMissing(name: name, directory: directory)
            }
            // systemd makes credentials readable by the service only; no mode check needed.
            return try parse(readFile(path), source: "credential \(name)")
        case let .file(path, generateIfMissing):
            if !FileManager.default.fileExists(atPath: path) {
                guard generateIfMissing else { throw .keyFileMissing(path: path) }
                try generate(at: path)
            }
            var info = stat()
            guard stat(path, &info) == 0 else {
                throw .io(operation: "inspect key file", path: path, reason: String(cString: strerror(errno)))
            }
            let mode = UInt16(info.st_mode & 0o777)
            guard mode & 0o077 == 0 else { throw .keyFileInsecure(path: path, mode: mode) }
            return try parse(readFile(path), source: path)
        }
    }

    /// Creates a key file with 32 fresh random bytes, mode 0600, synced to disk. `O_EXCL`
    /// makes a race with another process harmless: the loser reads the winner's key.
    static func generate(at path: String) throws(OutboxError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            if errno == EEXIST { return }
            throw .io(operation: "create key file", path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        let key = SymmetricKey(size: .bits256)
        let bytes = key.withUnsafeBytes { Array($0) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(path)
            throw .io(operation: "write key file", path: path, reason: reason)
        }
        // The new name must survive a power cut too, or the items sealed with this key would be
        // unreadable after one: sync the directory that holds it.
        let parent = (path as NSString).deletingLastPathComponent
        let directory = open(parent.isEmpty ? "." : parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0, fsync(directory) == 0 else {
            let reason = String(cString: strerror(errno))
            if directory >= 0 { close(directory) }
            unlink(path)
            throw .io(operation: "sync the directory of key file", path: path, reason: reason)
        }
        close(directory)
    }

    private static func readFile(_ path: String) throws(OutboxError) -> [UInt8] {
        do {
            return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .io(operation: "read key", path: path, reason: error.localizedDescription)
        }
    }

    /// Accepts 32 raw bytes, or 64 hex digits with optional surrounding whitespace.
    static func parse(_ bytes: [UInt8], source: String) throws(OutboxError) -> PayloadKey {
        if bytes.count == 32 { return try PayloadKey(bytes: bytes) }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.count == 64 else {
            throw .keyInvalid(source: source, reason: "\(bytes.count) bytes, neither 32 raw bytes nor 64 hex digits")
        }
        var raw: [UInt8] = []
        raw.reserveCapacity(32)
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else {
                throw .keyInvalid(source: source, reason: "not hexadecimal")
            }
            raw.append(byte)
            index = next
        }
        return try PayloadKey(bytes: raw)
    }

    /// Seals `plaintext`, binding it to `associatedData` (the item's UUID), so a sealed blob
    /// copied onto another row fails to open.
    func seal(_ plaintext: [UInt8], associatedData: String) throws(OutboxError) -> [UInt8] {
        do {
            let box = try ChaChaPoly.seal(plaintext, using: symmetricKey, authenticating: Array(associatedData.utf8))
            return Array(box.combined)
        } catch {
            throw .keyInvalid(source: "seal", reason: "\(error)")
        }
    }

    /// Opens a blob sealed by `seal`.
    func unseal(_ sealed: [UInt8], associatedData: String, itemID: Int64) throws(OutboxError) -> [UInt8] {
        do {
            let box = try ChaChaPoly.SealedBox(combined: sealed)
            return Array(try ChaChaPoly.open(box, using: symmetricKey, authenticating: Array(associatedData.utf8)))
        } catch {
            throw .payloadUnreadable(itemID: itemID, reason: "authentication failed: \(error)")
        }
    }
}
