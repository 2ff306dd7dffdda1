// ConfigDuration: parses and prints configuration durations (`250ms`, `5s`, `2h`; a bare number is seconds).
import Foundation

/// Durations in configuration: a plain number means seconds; a string may carry a unit
/// (`250ms`, `3s`, `5m`, `2h`, `7d`), so a file reads like `cooldown: 5s`.
package enum ConfigDuration {
    /// Parses `text`; `nil` when it is not a non-negative duration.
    package static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !trimmed.isEmpty else { return nil }
        let units: [(suffix: String, seconds: Double)] = [
            ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400),
        ]
        var number = Substring(trimmed)
        var scale = 1.0
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            // "ms" must win over "s"; the list is ordered so the first match is the longest.
            number = trimmed.dropLast(unit.suffix.count)
            scale = unit.seconds
            break
        }
        guard let value = Double(number.trimmingCharacters(in: .whitespaces)), value >= 0, value.isFinite else {
            return nil
        }
        let milliseconds = (value * scale * 1000).rounded()
        guard milliseconds < Double(Int64.max) else { return nil }
        return .milliseconds(Int64(milliseconds))
    }

    /// Renders a duration the way the parser reads it back (`1.5s`, `250ms`).
    package static func format(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if ms % 1000 != 0 { return "\(ms)ms" }
        return "\(ms / 1000)s"
    }
}

extension Duration {
    /// Seconds as a floating-point number (for status output and arithmetic with clocks).
    package var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
