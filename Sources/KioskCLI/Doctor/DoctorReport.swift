// DoctorReport: what `kioskctl doctor` found, check by check, as 80-column text or JSON, and its exit status.
import Foundation

/// A check's verdict.
enum DoctorStatus: String, Codable, Sendable, Comparable {
    case ok
    /// Works, but something needs attention (or could not be looked at, e.g. held by kioskd).
    case warning
    case failed

    var symbol: String {
        switch self {
        case .ok: "✓"
        case .warning: "!"
        case .failed: "✗"
        }
    }

    private var rank: Int {
        switch self {
        case .ok: 0
        case .warning: 1
        case .failed: 2
        }
    }

    static func < (lhs: DoctorStatus, rhs: DoctorStatus) -> Bool { lhs.rank < rhs.rank }
}

/// One line of the doctor's report: which check, its verdict, what was found, what to do.
struct DoctorResult: Codable, Sendable, Equatable {
    /// Stable dotted name, e.g. `server.tls` (scripts key on it).
    var id: String
    var status: DoctorStatus
    /// What was found, in a sentence.
    var finding: String
    /// What to do; empty when nothing is needed.
    var fix: String

    static func ok(_ id: String, _ finding: String) -> DoctorResult {
        DoctorResult(id: id, status: .ok, finding: finding, fix: "")
    }
    static func warning(_ id: String, _ finding: String, fix: String) -> DoctorResult {
        DoctorResult(id: id, status: .warning, finding: finding, fix: fix)
    }
    static func failed(_ id: String, _ finding: String, fix: String) -> DoctorResult {
        DoctorResult(id: id, status: .failed, finding: finding, fix: fix)
    }
}

/// Exit statuses of `kioskctl doctor`: kioskctl's own classes (docs/KIOSKCTL.md).
enum DoctorExit {
    static let healthy = KioskctlExit.success.rawValue
    static let failed = KioskctlExit.failure.rawValue
    static let warningsOnly = KioskctlExit.warnings.rawValue
}

/// Every result of one run.
struct DoctorReport: Codable, Sendable {
    var configFile: String
    var results: [DoctorResult]
    var elapsedMilliseconds: Int

    var exitCode: Int32 {
        if results.contains(where: { $0.status == .failed }) { return DoctorExit.failed }
        if results.contains(where: { $0.status == .warning }) { return DoctorExit.warningsOnly }
        return DoctorExit.healthy
    }

    func count(_ status: DoctorStatus) -> Int { results.filter { $0.status == status }.count }

    enum CodingKeys: String, CodingKey {
        case configFile = "config"
        case results = "checks"
        case elapsedMilliseconds = "elapsed_ms"
        case exitCode = "exit_code"
        case summary
    }

    init(configFile: String, results: [DoctorResult], elapsedMilliseconds: Int) {
        self.configFile = configFile
        self.results = results
        self.elapsedMilliseconds = elapsedMilliseconds
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        configFile = try c.decode(String.self, forKey: .configFile)
        results = try c.decode([DoctorResult].self, forKey: .results)
        elapsedMilliseconds = try c.decode(Int.self, forKey: .elapsedMilliseconds)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(configFile, forKey: .configFile)
        try c.encode(results, forKey: .results)
        try c.encode(elapsedMilliseconds, forKey: .elapsedMilliseconds)
        try c.encode(exitCode, forKey: .exitCode)
        try c.encode(["ok": count(.ok), "warning": count(.warning), "failed": count(.failed)], forKey: .summary)
    }

    /// `{"config", "checks": [{"id", "status", "finding", "fix"}], "summary", "exit_code", "elapsed_ms"}`.
    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Width of the id column in the text form.
    static let idWidth = 18
    static let lineWidth = 80

    /// One line per check (wrapped within 80 columns), the fix below a failed or warned check,
    /// and a summary line.
    func text() -> String {
        var lines: [String] = []
        let indent = String(repeating: " ", count: Self.idWidth + 2)
        for result in results {
            let id =
                result.id.count < Self.idWidth ? result.id.padding(toLength: Self.idWidth, withPad: " ", startingAt: 0) : result.id + " "
            let first = "\(result.status.symbol) \(id)"
            lines += Self.wrap(result.finding, firstPrefix: first, prefix: indent)
            if result.status != .ok, !result.fix.isEmpty {
                lines += Self.wrap(result.fix, firstPrefix: indent + "fix: ", prefix: indent + "     ")
            }
        }
        let summary =
            "\(count(.ok)) ok, \(count(.warning)) warning\(count(.warning) == 1 ? "" : "s"), \(count(.failed)) failed"
            + " (\(String(format: "%.1f", Double(elapsedMilliseconds) / 1000)) s)"
        lines.append(summary)
        return lines.joined(separator: "\n")
    }

    /// Word-wraps `text` to 80 columns (counted in characters), hard-breaking words that do not fit.
    static func wrap(_ text: String, firstPrefix: String, prefix: String) -> [String] {
        let words = text.replacingOccurrences(of: "\n", with: " ").split(separator: " ", omittingEmptySubsequences: true)
        var lines: [String] = []
        var current = firstPrefix
        var empty = true
        for var word in words.map(String.init) {
            while true {
                let room = lineWidth - current.count - (empty ? 0 : 1)
                if word.count <= room {
                    current += (empty ? "" : " ") + word
                    empty = false
                    break
                }
                if !empty && (word.count <= lineWidth - prefix.count || room <= 0) {
                    lines.append(current)
                    current = prefix
                    empty = true
                    continue
                }
                if room <= 0 {
                    current += word
                    empty = false
                    break
                }
                // A word longer than a whole line (a path, a URL): break it where the line ends.
                current += (empty ? "" : " ") + word.prefix(room)
                word = String(word.dropFirst(room))
                lines.append(current)
                current = prefix
                empty = true
                if word.isEmpty { break }
            }
        }
        if !empty || lines.isEmpty { lines.append(current) }
        return lines
    }
}
