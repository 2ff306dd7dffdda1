// The simulator kit: start aidee-sim in process for a test and stop it at the end. A target of
// its own, so only the suites that talk to the simulator link Hummingbird.
package import AiDeeSimulator
package import Foundation
import TestSupport

extension SimulatorConfiguration {
    /// A simulator for a test: on a free loopback port, with the models from the asset folder.
    package static func forTests(
        accounts: [SimulatorAccount], projects: [SimulatorProject], dataDirectory: URL? = nil,
        tokenTTL: TimeInterval = 3600, maxBodyBytes: Int = 10 * 1024 * 1024, faults: [FaultRule] = [],
        faultSeed: UInt64? = nil
    ) -> SimulatorConfiguration {
        SimulatorConfiguration(
            dataDirectory: dataDirectory, modelsDirectory: TestAssets.root.appendingPathComponent("models"),
            accounts: accounts, projects: projects, tokenTTL: tokenTTL, maxBodyBytes: maxBodyBytes,
            faults: faults, faultSeed: faultSeed)
    }

    /// The site most API tests use: accounts `kiosk` (may issue keys), `viewer` (may not) and
    /// `other`, all with password `pw`; project 1 `HQ` for everyone, project 2 `Lab` for `other`
    /// only.
    package static func threeAccountSite(
        dataDirectory: URL? = nil, tokenTTL: TimeInterval = 3600, maxBodyBytes: Int = 10 * 1024 * 1024,
        faults: [FaultRule] = [], faultSeed: UInt64? = nil
    ) -> SimulatorConfiguration {
        forTests(
            accounts: [
                .init(username: "kiosk", password: "pw"), .init(username: "viewer", password: "pw", canIssueKeys: false),
                .init(username: "other", password: "pw"),
            ],
            projects: [.init(id: 1, name: "HQ"), .init(id: 2, name: "Lab", members: ["other"])],
            dataDirectory: dataDirectory, tokenTTL: tokenTTL, maxBodyBytes: maxBodyBytes, faults: faults,
            faultSeed: faultSeed)
    }
}

/// Starts aidee-sim in this process with `configuration`, runs `body` with it, and shuts the
/// simulator down when `body` returns or throws (awaited: no server outlives its test).
package func withSimulator<T>(
    _ configuration: SimulatorConfiguration, _ body: (AiDeeSimulatorServer) async throws -> T
) async throws -> T {
    let simulator = try await AiDeeSimulatorServer.start(configuration)
    do {
        let result = try await body(simulator)
        await simulator.shutdown()
        return result
    } catch {
        await simulator.shutdown()
        throw error
    }
}
