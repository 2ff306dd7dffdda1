// KioskLogHandler: log lines with syslog priority prefixes for journald, or timestamped for a terminal.
import Foundation
package import Logging
import Synchronization

/// Log output for kioskd: under systemd (`JOURNAL_STREAM` set) each line starts with the
/// syslog priority (`<3>`…`<7>`), which journald turns into the entry's priority; otherwise a
/// timestamped line for a terminal. Metadata follows as `key=value` pairs.
///
/// Components never log images, tokens or secrets; this handler adds nothing of the kind.
package struct KioskLogHandler: LogHandler {
    package var metadata: Logger.Metadata = [:]
    package var logLevel: Logger.Level
    let label: String
    let journald: Bool
    let output: @Sendable (String) -> Void

    package init(
        label: String, level: Logger.Level, journald: Bool,
        output: @escaping @Sendable (String) -> Void = KioskLogHandler.standardError
    ) {
        self.label = label
        self.logLevel = level
        self.journald = journald
        self.output = output
    }

    /// True when stderr goes to the journal.
    package static var underJournald: Bool {
        ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let pairs = merged.sorted { $0.key < $1.key }.map {
            "\(LogText.escaped($0.key))=\(Self.quote(LogText.escaped("\($0.value)")))"
        }
        let tail = pairs.isEmpty ? "" : " " + pairs.joined(separator: " ")
        // Server messages and error bodies end up in messages and metadata: escaped, one entry
        // stays one line.
        let text = LogText.escaped("\(event.message)")
        if journald {
            output("<\(Self.priority(event.level))>\(text)\(tail)\n")
        } else {
            output("\(Self.timestamp()) \(event.level.rawValue.uppercased()) [\(label)] \(text)\(tail)\n")
        }
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    static func quote(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" })
            ? "\"\(value.replacingOccurrences(of: "\"", with: "\\\""))\"" : value
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }

    private static let lock = Mutex(())

    /// Writes whole lines to stderr (one write per line, so lines from threads never interleave).
    package static let standardError: @Sendable (String) -> Void = { line in
        lock.withLock { _ in
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}
