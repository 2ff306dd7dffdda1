/// Status for people and fleets (`status.*`).
package struct StatusSettings: Sendable, Equatable {
    package var file = "/run/kiosk-agent/status.json"
    /// node_exporter textfile-collector file; empty disables it.
    package var metricsFile = ""
    package var interval: Duration = .seconds(5)
    /// Group given to the status and metrics files (mode 0640), so a monitoring agent in that
    /// group can read them; empty keeps the service's own group.
    package var group = ""

    package init() {}
}

extension StatusSettings: ConfigurationSection {
    static let name = "status"

    mutating func read(from keys: SectionReader) {
        keys.string("file", &file)
        keys.string("metrics_file", &metricsFile)
        keys.duration("interval", &interval, max: .seconds(3600))
        keys.string("group", &group)
    }
}
