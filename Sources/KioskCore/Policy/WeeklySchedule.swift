// WeeklySchedule: weekly windows (`mon-fri 07:00-19:00`) in local time when the door may open.
package import Foundation

/// Weekly windows in which the door may open for a recognised person, in the terminal's local
/// time. Written as `mon-fri 07:00-19:00`, `sat,sun 09:00-13:00` or `daily 06:00-22:00`;
/// an empty schedule means always open. Windows may not cross midnight: write two instead.
package struct WeeklySchedule: Sendable, Equatable {
    package struct Window: Sendable, Equatable {
        /// ISO weekdays, 1 = Monday … 7 = Sunday.
        package var days: Set<Int>
        /// Minutes since local midnight, start inclusive, end exclusive.
        package var start: Int
        package var end: Int

        static let dayNames = ["mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7]

        package init(parsing text: String) throws(ScheduleError) {
            let parts = text.lowercased().split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2 else { throw .malformed("expected DAYS HH:MM-HH:MM, e.g. mon-fri 07:00-19:00") }
            days = try Self.parseDays(String(parts[0]))
            let times = parts[1].split(separator: "-")
            guard times.count == 2, let from = Self.minutes(times[0]), let to = Self.minutes(times[1]) else {
                throw .malformed("times must be HH:MM-HH:MM (24-hour), e.g. 07:00-19:00")
            }
            guard from < to else { throw .malformed("the window ends before it starts; split windows that cross midnight") }
            start = from
            end = to
        }

        static func parseDays(_ text: String) throws(ScheduleError) -> Set<Int> {
            if text == "daily" || text == "all" { return Set(1...7) }
            var result = Set<Int>()
            for item in text.split(separator: ",") {
                let range = item.split(separator: "-")
                guard let first = range.first.flatMap({ dayNames[String($0)] }) else {
                    throw .malformed("unknown day '\(item)'; use mon tue wed thu fri sat sun, ranges like mon-fri, or daily")
                }
                guard range.count <= 2 else { throw .malformed("day range '\(item)' has more than two ends") }
                let last = range.count == 2 ? dayNames[String(range[1])] : first
                guard let last else { throw .malformed("unknown day in '\(item)'") }
                if first <= last {
                    result.formUnion(first...last)
                } else {  // sat-mon wraps the week
                    result.formUnion(first...7)
                    result.formUnion(1...last)
                }
            }
            return result
        }

        static func minutes(_ text: Substring) -> Int? {
            let hm = text.split(separator: ":")
            guard hm.count == 2, let h = Int(hm[0]), let m = Int(hm[1]), (0...24).contains(h), (0...59).contains(m) else {
                return nil
            }
            let total = h * 60 + m
            return total <= 24 * 60 ? total : nil
        }

        func contains(weekday: Int, minute: Int) -> Bool {
            days.contains(weekday) && minute >= start && minute < end
        }
    }

    package enum ScheduleError: Error, Sendable, Equatable, CustomStringConvertible {
        case malformed(String)
        package var description: String {
            switch self {
            case .malformed(let why): why
            }
        }
    }

    package var windows: [Window]
    package var timeZone: TimeZone

    /// Parses every entry; throws on the first bad one (configuration loading reports them all).
    package init(_ entries: [String], timeZone: TimeZone = .current) throws(ScheduleError) {
        var windows: [Window] = []
        for entry in entries { windows.append(try Window(parsing: entry)) }
        self.windows = windows
        self.timeZone = timeZone
    }

    /// Always open.
    package static let always = WeeklySchedule(windows: [], timeZone: .current)

    init(windows: [Window], timeZone: TimeZone) {
        self.windows = windows
        self.timeZone = timeZone
    }

    /// Whether the door may open at `date`.
    package func allows(_ date: Date) -> Bool {
        guard !windows.isEmpty else { return true }
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: date)
        // Calendar's weekday is 1 = Sunday; convert to ISO 1 = Monday.
        let weekday = ((parts.weekday ?? 1) + 5) % 7 + 1
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        return windows.contains { $0.contains(weekday: weekday, minute: minute) }
    }
}
