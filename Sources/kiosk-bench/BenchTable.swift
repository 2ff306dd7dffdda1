// BenchTable: the figures of `kiosk-bench all`, each with its goal, verdict, reference and spread; as a table or JSON.
import Foundation
import Synchronization

/// The machine and build the figures were measured on.
struct BenchMachine: Encodable {
    var build: String
    var cores: Int
    var cpuModel: String
    var kernel: String
    var date: String

    static func current() -> BenchMachine {
        #if DEBUG
        let configuration = "debug"
        #else
        let configuration = "release"
        #endif
        // The packages link the Swift runtime in; a plain `swift build` shares it (slower starts).
        // Read to the end: String(contentsOfFile:) stops after the first 4 KB of a /proc file,
        // and the runtime's line comes later.
        let maps = FileHandle(forReadingAtPath: "/proc/self/maps").map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) } ?? ""
        let build =
            configuration
            + (maps.contains("libswiftCore.so") ? " build, Swift runtime shared" : " build, Swift runtime linked in as packaged")
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model =
            cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        let kernel =
            (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
        return BenchMachine(
            build: build, cores: ProcessInfo.processInfo.activeProcessorCount, cpuModel: model, kernel: kernel,
            date: ISO8601DateFormatter().string(from: Date()))
    }
}

/// One figure of the table.
struct BenchFigure: Encodable {
    enum Verdict: String, Encodable {
        case pass, miss, reported
    }

    var name: String
    /// What was measured, in words and numbers ("7.1 ms median, 9.0 ms p95").
    var measured: String
    /// The goal in words ("≤ 12 ms median, ≤ 20 ms p95"), or "reported".
    var goal: String
    var verdict: Verdict
    /// How far under or over the goal ("2.3 ms under", "over by 4 % of a core").
    var margin: String
    /// A reference measured in the same run, with the ratio, when one exists.
    var reference: String?
    /// Samples, rounds and spread.
    var samples: String
    /// When missed: what limits it.
    var limit: String?
    /// The raw numbers (JSON only).
    var values: [String: Double] = [:]
}

struct BenchReport: Encodable {
    var machine: BenchMachine
    var command: String
    var figures: [BenchFigure]

    /// A Markdown table, so the README can show it as printed.
    func table() -> String {
        var lines = [
            "Measured \(machine.date): \(machine.build), \(machine.cores) cores, \(machine.cpuModel), Linux \(machine.kernel); `\(command)`",
            "",
            "| figure | measured | goal | result | reference (same run) | samples, spread |",
            "|---|---|---|---|---|---|",
        ]
        for f in figures {
            var result = f.verdict == .reported ? "reported" : "\(f.verdict.rawValue): \(f.margin)"
            if let limit = f.limit { result += "; limited by \(limit)" }
            let cells = [f.name, f.measured, f.goal, result, f.reference ?? "–", f.samples]
            lines.append("| " + cells.map { $0.replacingOccurrences(of: "|", with: "/") }.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

/// Order statistics of a sample.
struct BenchStats {
    let sorted: [Double]

    init(_ values: [Double]) { sorted = values.filter { $0.isFinite }.sorted() }

    var count: Int { sorted.count }
    var median: Double { percentile(0.5) }
    var p95: Double { percentile(0.95) }
    var min: Double { sorted.first ?? .nan }
    var max: Double { sorted.last ?? .nan }

    func percentile(_ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        return sorted[Swift.min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }
}

/// Formats a number with `digits` decimals.
func fmt(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }

/// "x under" or "over by x (y %)" for an upper-bound goal.
func underOrOver(_ value: Double, goal: Double, unit: String, digits: Int = 1) -> (BenchFigure.Verdict, String) {
    if value <= goal { return (.pass, "\(fmt(goal - value, digits)) \(unit) under") }
    return (.miss, "over by \(fmt(value - goal, digits)) \(unit) (\(fmt((value - goal) / goal * 100, 0)) %)")
}

/// A value behind a lock that escaping closures (frame taps, log sinks) can share.
final class Shared<Value: Sendable>: Sendable {
    let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
}
