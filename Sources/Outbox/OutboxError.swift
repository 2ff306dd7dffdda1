// OutboxError: what can go wrong in the outbox and journal, naming the file or operation and the next step.
import Foundation
import GRDB

/// Everything that can go wrong in the outbox and the event journal.
///
/// Each case names the file, directory or operation involved, and its `description` ends with
/// what the operator should do next, so the message can go straight into a log line or onto the
/// `kioskctl` console.
package enum OutboxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The state directory does not exist and could not be created, or is not a directory.
    case stateDirectoryUnavailable(path: String, reason: String)
    /// The database file does not exist and the caller asked not to create it (`kioskctl`).
    case databaseMissing(path: String)
    /// The database file is damaged. `movedTo` is where it was kept for support, when it was moved.
    case databaseCorrupt(path: String, movedTo: String?, reason: String)
    /// The disk (or the database's size cap) is full: the operation was not done.
    case diskFull(path: String, operation: String)
    /// The storage under the state directory fails: a read-only file system (the kernel remounts
    /// a failing card read-only) or I/O errors. Nothing is written until it works again.
    case storageFailed(path: String, operation: String, code: Int32, message: String)
    /// The daemon could not open the queue at start (`reason`: why, e.g. the state directory is
    /// missing or read-only); it tries again by itself and queues from the first open that works.
    case notOpenedYet(path: String, reason: String)
    /// Another SQLite error, with its result code and message.
    case database(operation: String, path: String, code: Int32, message: String)

    /// The key file does not exist and generation is not enabled.
    case keyFileMissing(path: String)
    /// The key file can be read by group or others.
    case keyFileInsecure(path: String, mode: UInt16)
    /// The key file or credential does not hold a 32-byte key (raw, or 64 hex digits).
    case keyInvalid(source: String, reason: String)
    /// `$CREDENTIALS_DIRECTORY/NAME` is not there.
    case credentialMissing(name: String, directory: String?)
    /// A payload operation was asked of a store opened without a key (`kioskctl` reads metadata only).
    case keyUnavailable(operation: String)
    /// A queued item was sealed with another key, or its sealed bytes are damaged.
    case payloadUnreadable(itemID: Int64, reason: String)

    /// The queue is at a limit and the policy is `refuseNew`.
    case queueFull(limit: String)
    /// One payload is larger than the whole byte budget of the queue.
    case payloadTooLarge(bytes: Int, limit: Int)
    /// No queued item has this id (already delivered, dropped or purged).
    case itemNotFound(id: Int64)
    /// A file operation (key file, moving a corrupt file aside) failed.
    case io(operation: String, path: String, reason: String)

    package var description: String {
        switch self {
        case let .stateDirectoryUnavailable(path, reason):
            return
                "outbox: state directory \(path) is unavailable (\(reason)); create it writable by the service user, or set --state-dir / KIOSK_STATE_DIRECTORY"
        case let .databaseMissing(path):
            return "outbox: no queue database at \(path); kioskd creates it on first start, or check --state-dir / KIOSK_STATE_DIRECTORY"
        case let .databaseCorrupt(path, movedTo, reason):
            if let movedTo {
                return
                    "outbox: database \(path) was corrupt (\(reason)); it was moved to \(movedTo) for support and a new, empty queue was started (items in the old file were not sent)"
            }
            return "outbox: database \(path) is corrupt (\(reason)); restart kioskd, which moves it aside and starts a new one"
        case let .diskFull(path, operation):
            return
                "outbox: disk full while trying to \(operation) in \(path); the door keeps working but nothing more is queued: free space on that file system"
        case let .storageFailed(path, operation, code, message):
            return
                "outbox: the storage of \(path) failed while trying to \(operation) (SQLite \(code): \(message)): the file system is read-only or the card returns I/O errors, as a worn SD card does; the door keeps working by policy but nothing is queued or journaled until writes work again: see dmesg, check and remount the file system or replace the card (kioskd resumes by itself)"
        case let .notOpenedYet(path, reason):
            let cause = reason.hasPrefix("outbox: ") ? String(reason.dropFirst("outbox: ".count)) : reason
            return
                "outbox: the queue \(path) is not open: \(cause); the door keeps working by policy but nothing is queued or journaled until it opens (kioskd tries again every 5 s, no restart needed)"
        case let .database(operation, path, code, message):
            return "outbox: SQLite error \(code) while trying to \(operation) in \(path): \(message)"
        case let .keyFileMissing(path):
            return
                "outbox: key file \(path) does not exist; create 32 random bytes there with mode 0600 (head -c 32 /dev/urandom > \(path); chmod 600 \(path)) or enable key generation"
        case let .keyFileInsecure(path, mode):
            return "outbox: key file \(path) has mode \(String(mode, radix: 8)), readable by others; run chmod 600 \(path)"
        case let .keyInvalid(source, reason):
            return "outbox: key from \(source) is not usable (\(reason)); it must hold 32 bytes, raw or as 64 hex digits"
        case let .credentialMissing(name, directory):
            if let directory {
                return "outbox: systemd credential \(name) not found in \(directory); add LoadCredential=\(name):/path/to/key to the unit"
            }
            return
                "outbox: systemd credential \(name) requested but CREDENTIALS_DIRECTORY is not set; add LoadCredential=\(name):/path/to/key to the unit, or use a key file"
        case let .keyUnavailable(operation):
            return "outbox: cannot \(operation) without the payload key; open the outbox with a key file or credential"
        case let .payloadUnreadable(itemID, reason):
            return
                "outbox: queued item \(itemID) cannot be opened (\(reason)); was the key replaced? restore the old key, or purge the item with kioskctl queue purge"
        case let .queueFull(limit):
            return
                "outbox: queue full (\(limit)) and the policy is refuseNew; the check-in was not queued: restore the network or raise the limit"
        case let .payloadTooLarge(bytes, limit):
            return
                "outbox: payload of \(bytes) bytes exceeds the queue's byte limit of \(limit); raise outbox max bytes or send smaller crops"
        case let .itemNotFound(id):
            return "outbox: no queued item \(id) (already sent, dropped or purged); see kioskctl queue list"
        case let .io(operation, path, reason):
            return "outbox: could not \(operation) \(path): \(reason)"
        }
    }

    /// True when the error means the disk is full (the door keeps working, queueing is degraded).
    package var isDiskFull: Bool {
        if case .diskFull = self { return true }
        return false
    }

    /// True when the storage refuses writes (full, read-only, I/O errors): the queue is
    /// unavailable until a write succeeds again; the door keeps working.
    package var isStorageUnavailable: Bool {
        switch self {
        case .diskFull, .storageFailed, .notOpenedYet: true
        default: false
        }
    }
}

extension OutboxError {
    /// Maps any error thrown by GRDB into an `OutboxError` naming the operation and the file.
    static func wrap(_ error: any Error, operation: String, path: String) -> OutboxError {
        if let error = error as? OutboxError { return error }
        if let error = error as? DatabaseError {
            switch error.resultCode {
            case .SQLITE_FULL:
                return .diskFull(path: path, operation: operation)
            case .SQLITE_CORRUPT, .SQLITE_NOTADB:
                return .databaseCorrupt(path: path, movedTo: nil, reason: error.message ?? "malformed")
            case .SQLITE_READONLY, .SQLITE_IOERR, .SQLITE_CANTOPEN:
                return .storageFailed(
                    path: path, operation: operation, code: error.extendedResultCode.rawValue,
                    message: error.message ?? "\(error)")
            default:
                return .database(
                    operation: operation, path: path, code: error.extendedResultCode.rawValue,
                    message: error.message ?? "\(error)")
            }
        }
        return .database(operation: operation, path: path, code: -1, message: "\(error)")
    }
}
