// FaceFile: the one way kioskctl writes a file that may show a face: mode 0600, no silent overwrite.
import Foundation

/// Writes files that may show a person's face (snapshots, annotated images, stored enrolment
/// images): created mode 0600 so only the owner can read them, and never replacing an existing
/// file unless `force` is given — then atomically, through a new 0600 file renamed over it, so
/// the old file's wider mode is not inherited.
enum FaceFile {
    static func write(_ bytes: [UInt8], to path: String, force: Bool) throws(CommandFailure) {
        guard !path.isEmpty else { throw CommandFailure(.usage, "the output file name is empty") }
        if !force {
            try create(path, bytes, exclusive: true)
            return
        }
        let folder = (path as NSString).deletingLastPathComponent
        let temporary = (folder.isEmpty ? "." : folder) + "/.\((path as NSString).lastPathComponent).\(getpid()).tmp"
        try create(temporary, bytes, exclusive: true)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw CommandFailure(.outputFile, "cannot replace \(path): \(String(cString: strerror(code)))")
        }
    }

    private static func create(_ path: String, _ bytes: [UInt8], exclusive: Bool) throws(CommandFailure) {
        // O_EXCL: an existing file (or a symlink planted at the name) is never written through.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            let code = errno
            if code == EEXIST {
                throw CommandFailure(.outputFile, "\(path) exists: give --force to replace it, or choose another name")
            }
            throw CommandFailure(
                .outputFile, "cannot create \(path): \(String(cString: strerror(code))); check the folder exists and is writable")
        }
        // The umask cannot widen 0600, but a restrictive one could narrow it: be exact.
        fchmod(fd, 0o600)
        var written = 0
        var failure: Int32 = 0
        bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let n = Foundation.write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                written += n
            }
        }
        if failure == 0, fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure != 0 {
            unlink(path)
            throw CommandFailure(.outputFile, "cannot write \(path): \(String(cString: strerror(failure)))")
        }
    }
}
