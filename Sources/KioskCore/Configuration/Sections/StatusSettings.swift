/// Status for people and fleets (`status.*`).
public struct StatusSettings: Sendable, Equatable {
    public var file = "/run/kiosk-agent/status.json"
    /// node_exporter textfile-collector file; empty disables it.
    public var metricsFile = ""
    public var interval: Duration = .seconds(5)
    /// Group given to the status and metrics files (mode 0640), so a monitoring agent in that
    /// group can read them; empty keeps the service's own group.
    public var group = ""

    public init() {}
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
