// Parsing and validation of aidee-sim's --fault flag and its operation names (no models needed).
import AiDeeSimulator
import Testing

/// The `--fault` flag and the operation names it uses: pure parsing, so not gated on the models
/// the running-simulator suites need.
@Suite("Fault rule parsing")
struct FaultRuleParsingTests {
    @Test("flag syntax parses and validates")
    func parsing() throws {
        #expect(try FaultRule(argument: "checkIn:status=503") == FaultRule(operation: "checkIn", kind: .status(503)))
        #expect(try FaultRule(argument: "*:drop:rate=0.25") == FaultRule(operation: "*", kind: .drop, rate: 0.25))
        #expect(
            try FaultRule(argument: "issueToken:latency=200ms") == FaultRule(operation: "issueToken", kind: .latency(milliseconds: 200)))
        #expect(throws: FaultRuleError.unknownOperation("nope")) { try FaultRule(argument: "nope:status=500") }
        #expect(throws: FaultRuleError.invalidValue("status must be 100...599, got 42")) { try FaultRule(argument: "checkIn:status=42") }
        #expect(throws: FaultRuleError.invalidValue("rate must be between 0 and 1, got 2.0")) {
            try FaultRule(argument: "checkIn:drop:rate=2")
        }
        #expect(throws: FaultRuleError.malformed("checkIn")) { try FaultRule(argument: "checkIn") }
        #expect(throws: FaultRuleError.malformed("checkIn:explode")) { try FaultRule(argument: "checkIn:explode") }
        #expect(SimulatorOperation.match(method: "POST", path: "/api/v1/projects/3/check-in") == .checkIn)
        #expect(SimulatorOperation.match(method: "PATCH", path: "/api/v1/projects/3/users/4/faces/5") == .updateFace)
        #expect(SimulatorOperation.match(method: "GET", path: "/_sim/health") == nil)
    }
}
