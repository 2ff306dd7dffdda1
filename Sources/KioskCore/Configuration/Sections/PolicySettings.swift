/// How an answer becomes a door decision (`policy.*`). `DecisionPolicy` takes it as it is.
package struct PolicySettings: Sendable, Equatable {
    /// User statuses that open the door.
    package var allowedStatuses: [String] = ["APPROVED"]
    /// Minimum similarity (percent) that opens the door.
    package var minSimilarity = 80.0
    package enum Offline: String, Sendable, CaseIterable {
        /// Keep the door shut when the server cannot answer (the default: a face alone cannot be checked).
        case failSecure = "fail_secure"
        /// Open anyway (sites where being locked out is worse than an unchecked entry).
        case failOpen = "fail_open"
    }
    package var offline: Offline = .failSecure
    /// Queue check-ins that could not be sent, for later delivery to the server.
    package var queueOffline = true
    /// Weekly windows in which the door may open, e.g. `mon-fri 07:00-19:00`; empty = always.
    package var schedule: [String] = []

    package init() {}
}

extension PolicySettings: ConfigurationSection {
    static let name = "policy"

    mutating func read(from keys: SectionReader) {
        keys.stringList("allowed_statuses", &allowedStatuses)
        keys.double("min_similarity", &minSimilarity, range: 0...100)
        keys.choice("offline", &offline)
        keys.bool("queue_offline", &queueOffline)
        keys.stringList("schedule", &schedule)
    }

    func validate(_ keys: SectionReader) {
        if allowedStatuses.isEmpty {
            keys.issue("allowed_statuses", "is empty: no user could ever be let in")
        }
        for (index, entry) in schedule.enumerated() {
            if case .failure(let problem) = Result(catching: { try WeeklySchedule.Window(parsing: entry) }) {
                keys.issue("schedule", "entry \(index + 1) '\(entry)': \(problem)")
            }
        }
    }
}
