// DoctorRunner: loads the configuration, then runs every group of checks at once, each within its time limit.
import Foundation
import KioskCore

/// One group of checks run as a unit, with the limit it must finish in.
struct DoctorCheckGroup: Sendable {
    /// The id reported when the group runs out of time.
    var id: String
    var limit: Duration
    var run: @Sendable (DoctorContext) async -> [DoctorResult]

    /// The groups, in report order. Their limits keep the whole run within 15 s: 3 s for the
    /// configuration, then at most 11 s for the slowest group (they run concurrently).
    static let all: [DoctorCheckGroup] = [
        DoctorCheckGroup(id: "secrets", limit: .seconds(2)) { [SecretFileCheck.credentials($0), SecretFileCheck.outboxKey($0)] },
        DoctorCheckGroup(id: "camera", limit: .seconds(11)) { await CameraCheck.run($0) },
        DoctorCheckGroup(id: "gpio", limit: .seconds(7)) { await GPIOCheck.run($0) },
        DoctorCheckGroup(id: "server", limit: .seconds(11)) { await ServerCheck.run($0) },
        DoctorCheckGroup(id: "queue", limit: .seconds(6)) { await QueueCheck.run($0) },
        DoctorCheckGroup(id: "systemd", limit: .seconds(8)) { await SystemdCheck.run($0) },
    ]
}

enum DoctorRunner {
    static let configurationLimit: Duration = .seconds(3)

    /// Runs every check and returns the report; changes nothing unless `pulseRelay`.
    /// - Parameter limitScale: stretches every group's time limit; tests on a loaded machine
    ///   use it, `kioskctl doctor` never does (its budget is 15 s).
    static func run(
        configFile: String, environment: [String: String], pulseRelay: Bool, unit: InstalledUnit = .load(),
        groups: [DoctorCheckGroup] = DoctorCheckGroup.all, limitScale: Double = 1
    ) async -> DoctorReport {
        let start = ContinuousClock.now
        let loaded = await Bounded.task(within: configurationLimit * limitScale) {
            await ConfigurationCheck.run(file: configFile, environment: environment)
        }
        let configuration = loaded?.0
        let configResult =
            loaded?.1
            ?? .failed("config", "reading \(configFile) took over \(Int(configurationLimit.secondsValue)) s", fix: "check the file system")
        let context = DoctorContext(
            configFile: configFile, configuration: configuration, environment: environment, pulseRelay: pulseRelay,
            kioskdPIDs: KioskdProcesses.pids(), unit: unit)

        var byGroup = [[DoctorResult]](repeating: [], count: groups.count)
        await withTaskGroup(of: (Int, [DoctorResult]).self) { tasks in
            for (index, group) in groups.enumerated() {
                tasks.addTask {
                    let results = await Bounded.task(within: group.limit * limitScale) { await group.run(context) }
                    return (
                        index,
                        results ?? [
                            .failed(
                                group.id, "did not finish within \(Int(group.limit.secondsValue)) s",
                                fix: "a device or the network hangs: run the matching kioskctl command (camera, gpio, api) to see where")
                        ]
                    )
                }
            }
            for await (index, results) in tasks { byGroup[index] = results }
        }
        let elapsed = ContinuousClock.now - start
        return DoctorReport(
            configFile: configFile, results: [configResult] + byGroup.flatMap { $0 },
            elapsedMilliseconds: Int(elapsed.secondsValue * 1000))
    }
}
