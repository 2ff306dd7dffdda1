import Foundation

/// Writes status files atomically (temporary file + rename), so a reader never sees half a
/// file: `kioskctl status` and node_exporter read them while kioskd writes.
public struct StatusFileWriter: Sendable {
    public var statusPath: String
    public var metricsPath: String?

    public init(statusPath: String, metricsPath: String?) {
        self.statusPath = statusPath
        self.metricsPath = metricsPath.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Writes both files; throws an error naming the path that failed.
    public func write(_ snapshot: StatusSnapshot) throws(StatusWriteError) {
        let json: Data
        do {
            json = try snapshot.jsonData()
        } catch {
            throw StatusWriteError(path: statusPath, reason: "cannot encode status: \(error)")
        }
        try Self.atomicWrite(json, to: statusPath)
        if let metricsPath {
            try Self.atomicWrite(Data(snapshot.prometheusText().utf8), to: metricsPath)
        }
    }

    static func atomicWrite(_ data: Data, to path: String) throws(StatusWriteError) {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            // Data.write(.atomic) writes a sibling temporary file and renames it over the target.
            try data.write(to: url, options: .atomic)
        } catch {
            throw StatusWriteError(path: path, reason: "\(error.localizedDescription); check that the directory exists and the service may write it (RuntimeDirectory=kiosk-agent in the unit)")
        }
    }
}

/// A status file could not be written.
public struct StatusWriteError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cannot write \(path): \(reason)" }
}
