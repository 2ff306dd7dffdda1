import AiDeeSimulator
import Foundation
import Testing

@Suite("Fault injection", .enabled(if: assetsAvailable, "needs the models: run scripts/fetch-assets.sh"))
struct FaultInjectionTests {
    @Test("flag syntax parses and validates")
    func parsing() throws {
        #expect(try FaultRule(argument: "checkIn:status=503") == FaultRule(operation: "checkIn", kind: .status(503)))
        #expect(try FaultRule(argument: "*:drop:rate=0.25") == FaultRule(operation: "*", kind: .drop, rate: 0.25))
        #expect(try FaultRule(argument: "issueToken:latency=200ms") == FaultRule(operation: "issueToken", kind: .latency(milliseconds: 200)))
        #expect(throws: FaultRuleError.self) { try FaultRule(argument: "nope:status=500") }
        #expect(throws: FaultRuleError.self) { try FaultRule(argument: "checkIn:status=42") }
        #expect(throws: FaultRuleError.self) { try FaultRule(argument: "checkIn:drop:rate=2") }
        #expect(throws: FaultRuleError.self) { try FaultRule(argument: "checkIn") }
        #expect(SimulatorOperation.match(method: "POST", path: "/api/v1/projects/3/check-in") == .checkIn)
        #expect(SimulatorOperation.match(method: "PATCH", path: "/api/v1/projects/3/users/4/faces/5") == .updateFace)
        #expect(SimulatorOperation.match(method: "GET", path: "/_sim/health") == nil)
    }

    @Test("a status fault set at start answers that status with an Error body")
    func statusAtStart() async throws {
        let sim = try await Sim.start(faults: [FaultRule(operation: "listProjects", kind: .status(503))])
        defer { Task { await sim.shutdown() } }
        let token = try await sim.token()
        let reply = try await sim.call("GET", "/api/v1/projects", token: token)
        #expect(reply.status == 503)
        #expect(reply.json["code"] as? Int == 503)
        #expect(try await sim.call("GET", "/_sim/health").status == 200, "admin routes are never faulted")
    }

    @Test("drop closes the connection without an answer")
    func drop() async throws {
        let sim = try await Sim.start()
        defer { Task { await sim.shutdown() } }
        let token = try await sim.token()
        sim.server.faults.set([FaultRule(operation: "*", kind: .drop)])
        await #expect(throws: (any Error).self) { _ = try await sim.call("GET", "/api/v1/projects", token: token, timeout: 5) }
        sim.server.faults.set([])
        #expect(try await sim.call("GET", "/api/v1/projects", token: token).status == 200)
    }

    @Test("latency delays the answer")
    func latency() async throws {
        let sim = try await Sim.start()
        defer { Task { await sim.shutdown() } }
        let token = try await sim.token()
        sim.server.faults.add(FaultRule(operation: "listProjects", kind: .latency(milliseconds: 400)))
        let start = ContinuousClock.now
        #expect(try await sim.call("GET", "/api/v1/projects", token: token).status == 200)
        #expect(ContinuousClock.now - start >= .milliseconds(380))
    }

    @Test("rate applies faults to about that share of requests")
    func rate() async throws {
        let sim = try await Sim.start()
        defer { Task { await sim.shutdown() } }
        let token = try await sim.token()
        sim.server.faults.set([FaultRule(operation: "listProjects", kind: .status(500), rate: 0.5)])
        var failures = 0
        for _ in 0..<40 where try await sim.call("GET", "/api/v1/projects", token: token).status == 500 { failures += 1 }
        #expect((8...32).contains(failures), "\(failures) of 40 at rate 0.5")
        sim.server.faults.set([FaultRule(operation: "listProjects", kind: .status(500), rate: 0)])
        #expect(try await sim.call("GET", "/api/v1/projects", token: token).status == 200)
    }

    @Test("/_sim/faults changes rules at run time")
    func adminRoutes() async throws {
        let sim = try await Sim.start()
        defer { Task { await sim.shutdown() } }
        let token = try await sim.token()
        let added = try await sim.call("POST", "/_sim/faults", json: ["operation": "listProjects", "status": 502])
        #expect(added.status == 201)
        #expect(try await sim.call("GET", "/api/v1/projects", token: token).status == 502)
        let replaced = try await sim.call("PUT", "/_sim/faults", json: ["rules": [["operation": "renewToken", "drop": true, "rate": 1]]])
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
