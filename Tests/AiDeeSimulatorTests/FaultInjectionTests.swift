// aidee-sim fault injection: status faults, dropped connections, latency, rate and /_sim/faults at run time.
import AiDeeSimulator
import Foundation
import Testing

@Suite("Fault injection", .enabled(if: assetsAvailable, "needs the models: run scripts/fetch-assets.sh"))
struct FaultInjectionTests {
    @Test("a status fault set at start answers that status with an Error body")
    func statusAtStart() async throws {
        try await Sim.with(faults: [FaultRule(operation: "listProjects", kind: .status(503))]) { sim in
            let token = try await sim.token()
            let reply = try await sim.call("GET", "/api/v1/projects", token: token)
            #expect(reply.status == 503)
            #expect(reply.json["code"] as? Int == 503)
            #expect(try await sim.call("GET", "/_sim/health").status == 200, "admin routes are never faulted")
        }
    }

    @Test("drop closes the connection without an answer")
    func drop() async throws {
        try await Sim.with { sim in
            let token = try await sim.token()
            sim.server.faults.set([FaultRule(operation: "*", kind: .drop)])
            // The connection closes with nothing sent back: the client sees an empty reply, not a
            // timeout (a server that hangs) nor a refused connection (no server at all).
            do {
                let reply = try await sim.call("GET", "/api/v1/projects", token: token, timeout: 30)
                Issue.record("a dropped request was answered \(reply.status)")
            } catch let error as URLError {
                #expect(error.code == .badServerResponse, "\(error)")
                #expect(error.localizedDescription.contains("Empty reply"), "\(error)")
            }
            sim.server.faults.set([])
            #expect(try await sim.call("GET", "/api/v1/projects", token: token).status == 200)
        }
    }

    @Test("latency delays the answer")
    func latency() async throws {
        try await Sim.with { sim in
            let token = try await sim.token()
            sim.server.faults.add(FaultRule(operation: "listProjects", kind: .latency(milliseconds: 400)))
            let start = ContinuousClock.now
            #expect(try await sim.call("GET", "/api/v1/projects", token: token).status == 200)
            #expect(ContinuousClock.now - start >= .milliseconds(380))
        }
    }

    @Test("rate applies faults to about that share of requests")
    func rate() async throws {
        try await Sim.with { sim in
            let token = try await sim.token()
            sim.server.faults.set([FaultRule(operation: "listProjects", kind: .status(500), rate: 0.5)])
            var failures = 0
            for _ in 0..<40 where try await sim.call("GET", "/api/v1/projects", token: token).status == 500 { failures += 1 }
            #expect((8...32).contains(failures), "\(failures) of 40 at rate 0.5")
            sim.server.faults.set([FaultRule(operation: "listProjects", kind: .status(500), rate: 0)])
            #expect(try await sim.call("GET", "/api/v1/projects", token: token).status == 200)
        }
    }

    @Test("/_sim/faults changes rules at run time")
    func adminRoutes() async throws {
        try await Sim.with { sim in
            let token = try await sim.token()
            let added = try await sim.call("POST", "/_sim/faults", json: ["operation": "listProjects", "status": 502])
            #expect(added.status == 201)
            #expect(try await sim.call("GET", "/api/v1/projects", token: token).status == 502)
            let replaced = try await sim.call(
                "PUT", "/_sim/faults", json: ["rules": [["operation": "renewToken", "drop": true, "rate": 1]]])
            #expect(replaced.status == 200)
            #expect(sim.server.faults.rules == [FaultRule(operation: "renewToken", kind: .drop)])
            #expect(try await sim.call("GET", "/api/v1/projects", token: token).status == 200)
            #expect(try await sim.call("GET", "/_sim/faults").json["rules"] as? [Any] != nil)
            #expect(try await sim.call("POST", "/_sim/faults", json: ["operation": "bogus", "status": 500]).status == 400)
            #expect(try await sim.call("POST", "/_sim/faults", json: ["operation": "checkIn", "status": 500, "drop": true]).status == 400)
            #expect(try await sim.call("DELETE", "/_sim/faults").status == 200)
            #expect(sim.server.faults.rules.isEmpty)
        }
    }
}
