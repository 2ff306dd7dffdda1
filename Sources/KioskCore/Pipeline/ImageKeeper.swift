// ImageKeeper: keeps uploaded face crops (0600) when `privacy.keep_images` is on, pruned by age and count.
package import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Keeps uploaded face crops on disk when `privacy.keep_images` asks for it (support cases),
/// and only within limits: biometric data is not kept longer or in larger numbers than the
/// site configured.
///
/// Each image is its own file, created exclusively with mode 0600 (never overwriting another:
/// two decisions in the same millisecond get different names), named by time and outcome,
/// never by user. After each one the folder is pruned to `maxAge` and `maxCount`.
package struct ImageKeeper: Sendable {
    package var directory: String
    package var maxAge: Duration
    package var maxCount: Int

    package init(directory: String, maxAge: Duration, maxCount: Int) {
        self.directory = directory
        self.maxAge = maxAge
        self.maxCount = maxCount
    }

    static let suffix = ".jpg"
    static let prefix = "face-"

    /// Writes `jpeg` and prunes; returns the file's path.
    @discardableResult
    package func keep(_ jpeg: [UInt8], at date: Date, outcome: String) throws(ImageKeeperError) -> String {
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            throw ImageKeeperError(path: directory, reason: "\(error.localizedDescription)")
        }
        let stamp = Self.stamp(date)
        let safeOutcome = String(outcome.unicodeScalars.filter { $0.properties.isAlphabetic || $0 == "_" || $0 == "-" }.map(Character.init))
        var path = ""
        var created: FileDescriptor?
        var failure = Errno.fileExists
        for attempt in 0..<100 where created == nil {
            path = "\(directory)/\(Self.prefix)\(stamp)\(attempt == 0 ? "" : "-\(attempt)")-\(safeOutcome)\(Self.suffix)"
            do {
                created = try FileDescriptor.open(
                    FilePath(path), .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec],
                    permissions: .ownerReadWrite)
            } catch {
                // FileDescriptor throws only swift-system's Errno.
                failure = error as? Errno ?? .ioError
                if failure != .fileExists { break }
            }
        }
        guard let file = created else { throw ImageKeeperError(path: path, reason: "\(failure)") }
        do {
            _ = try file.closeAfter { try file.writeAll(jpeg) }
        } catch {
            // Errno's description is strerror's text.
            unlink(path)
            throw ImageKeeperError(path: path, reason: "\(error)")
        }
        prune(now: date)
        return path
    }

    /// Deletes kept images past `maxAge`, then the oldest beyond `maxCount`. Only files this
    /// keeper names are touched.
    package func prune(now: Date) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        let kept = names.filter { $0.hasPrefix(Self.prefix) && $0.hasSuffix(Self.suffix) }.sorted()
        let cutoff = Self.stamp(now.addingTimeInterval(-maxAge.seconds))
        var remaining = kept
        for name in kept where Self.stampPart(name) < cutoff {
            unlink("\(directory)/\(name)")
            remaining.removeAll { $0 == name }
        }
        // Names sort by time: the oldest first.
        for name in remaining.prefix(max(0, remaining.count - maxCount)) {
            unlink("\(directory)/\(name)")
        }
    }

    /// UTC time to the millisecond, in a form that sorts as text: 20261206T211530.123Z.
    static func stamp(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d%02d%02dT%02d%02d%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(millis % 1000))
    }

    static func stampPart(_ name: String) -> String {
        String(name.dropFirst(prefix.count).prefix(20))
    }
}

/// A kept image could not be written.
package struct ImageKeeperError: Error, Sendable, CustomStringConvertible {
    package var path: String
    package var reason: String
    package var description: String {
        "cannot keep the face image at \(path): \(reason); check privacy.keep_images_directory"
    }
}
