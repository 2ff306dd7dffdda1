// Fault injection: make chosen operations fail, hang up, or slow down, at a chosen rate.
import Foundation
import Synchronization

/// What an injected fault does to a request.
package enum FaultKind: Sendable, Equatable, Codable {
    /// Answer with this HTTP status and a JSON error body, without running the operation.
    case status(Int)
    /// Close the connection without any response.
    case drop
    /// Wait this many milliseconds, then run the operation normally.
    case latency(milliseconds: Int)
    /// Run the operation (a check-in is recorded), then close the connection without sending
    /// the answer: the client cannot know whether the server acted.
    case dropAfterProcessing
    /// Run the operation, and replace a 2xx answer's body with JSON the contract does not
    /// describe (the status stays): a server whose format drifted.
    case malformedSuccess
    /// Run the operation normally, but send a `Date` header this many seconds off the
    /// simulator's clock: a server (or kiosk) whose clock is wrong.
    case dateOffset(seconds: Int)
}

/// One fault rule: which operation, what happens, how often.
package struct FaultRule: Sendable, Equatable, Codable {
    /// An operation name from `SimulatorOperation` (e.g. `checkIn`) or `*` for every API call.
    package var operation: String
    package var kind: FaultKind
    /// Probability 0...1 that a matching request is affected.
    package var rate: Double

    package init(operation: String, kind: FaultKind, rate: Double = 1) {
        self.operation = operation
        self.kind = kind
        self.rate = rate
    }

    /// Parses the `--fault` flag: `OPERATION:status=CODE[:rate=R]`, `OPERATION:drop[:rate=R]`,
    /// `OPERATION:latency=MS[:rate=R]`, `OPERATION:date-offset=SECONDS[:rate=R]`.
    package init(argument: String) throws(FaultRuleError) {
        let parts = argument.split(separator: ":").map(String.init)
        guard parts.count >= 2, parts.count <= 3 else { throw .malformed(argument) }
        var rate = 1.0
        if parts.count == 3 {
            guard parts[2].hasPrefix("rate="), let r = Double(parts[2].dropFirst(5)) else { throw .malformed(argument) }
            rate = r
        }
        let kind: FaultKind
        if parts[1] == "drop" {
            kind = .drop
        } else if parts[1] == "drop-after" {
            kind = .dropAfterProcessing
        } else if parts[1] == "malformed-200" {
            kind = .malformedSuccess
        } else if parts[1].hasPrefix("status="), let code = Int(parts[1].dropFirst(7)) {
            kind = .status(code)
        } else if parts[1].hasPrefix("latency="), let ms = Int(parts[1].dropFirst(8).replacingOccurrences(of: "ms", with: "")) {
            kind = .latency(milliseconds: ms)
        } else if parts[1].hasPrefix("date-offset="), let seconds = Int(parts[1].dropFirst(12)) {
            kind = .dateOffset(seconds: seconds)
        } else {
            throw .malformed(argument)
        }
        self.init(operation: parts[0], kind: kind, rate: rate)
        try validate()
    }

    /// Checks the operation name, status range, latency and rate.
    package func validate() throws(FaultRuleError) {
        guard operation == "*" || SimulatorOperation(rawValue: operation) != nil else { throw .unknownOperation(operation) }
        guard (0...1).contains(rate) else { throw .invalidValue("rate must be between 0 and 1, got \(rate)") }
        switch kind {
        case .status(let code):
            guard (100...599).contains(code) else { throw .invalidValue("status must be 100...599, got \(code)") }
        case .latency(let ms):
            guard (0...600_000).contains(ms) else { throw .invalidValue("latency must be 0...600000 ms, got \(ms)") }
        case .dateOffset(let seconds):
            guard abs(seconds) <= 10 * 365 * 86_400 else { throw .invalidValue("date offset must be within ten years, got \(seconds) s") }
        case .drop, .dropAfterProcessing, .malformedSuccess:
            break
        }
    }

    // JSON form for /_sim/faults: {"operation":"checkIn","status":503,"rate":0.5},
    // {"operation":"*","drop":true}, {"operation":"issueToken","latency_ms":2000},
    // {"operation":"checkIn","drop_after":true}, {"operation":"checkIn","malformed_200":true},
    // {"operation":"*","date_offset_s":-120}.
    private enum CodingKeys: String, CodingKey {
        case operation, status, drop
        case latencyMS = "latency_ms"
        case rate
        case dropAfter = "drop_after"
        case malformed200 = "malformed_200"
        case dateOffset = "date_offset_s"
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        operation = try c.decode(String.self, forKey: .operation)
        rate = try c.decodeIfPresent(Double.self, forKey: .rate) ?? 1
        let status = try c.decodeIfPresent(Int.self, forKey: .status)
        let drop = try c.decodeIfPresent(Bool.self, forKey: .drop) ?? false
        let latency = try c.decodeIfPresent(Int.self, forKey: .latencyMS)
        let dropAfter = try c.decodeIfPresent(Bool.self, forKey: .dropAfter) ?? false
        let malformed = try c.decodeIfPresent(Bool.self, forKey: .malformed200) ?? false
        let offset = try c.decodeIfPresent(Int.self, forKey: .dateOffset)
        switch (status, drop, latency, dropAfter, malformed, offset) {
        case (let code?, false, nil, false, false, nil): kind = .status(code)
        case (nil, true, nil, false, false, nil): kind = .drop
        case (nil, false, let ms?, false, false, nil): kind = .latency(milliseconds: ms)
        case (nil, false, nil, true, false, nil): kind = .dropAfterProcessing
        case (nil, false, nil, false, true, nil): kind = .malformedSuccess
        case (nil, false, nil, false, false, let seconds?): kind = .dateOffset(seconds: seconds)
        default:
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: [],
                    debugDescription:
                        "give exactly one of status, drop: true, latency_ms, drop_after: true, malformed_200: true, date_offset_s"))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(operation, forKey: .operation)
        try c.encode(rate, forKey: .rate)
        switch kind {
        case .status(let code): try c.encode(code, forKey: .status)
        case .drop: try c.encode(true, forKey: .drop)
        case .latency(let ms): try c.encode(ms, forKey: .latencyMS)
        case .dropAfterProcessing: try c.encode(true, forKey: .dropAfter)
        case .malformedSuccess: try c.encode(true, forKey: .malformed200)
        case .dateOffset(let seconds): try c.encode(seconds, forKey: .dateOffset)
        }
    }
}

/// A `--fault` flag or `/_sim/faults` body that cannot be used.
package enum FaultRuleError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(String)
    case unknownOperation(String)
    case invalidValue(String)

    package var description: String {
        switch self {
        case .malformed(let s):
            "fault rule '\(s)' is malformed: use OPERATION:status=CODE[:rate=R], OPERATION:drop[:rate=R], OPERATION:drop-after[:rate=R], OPERATION:malformed-200[:rate=R], OPERATION:latency=MS[:rate=R] or OPERATION:date-offset=SECONDS[:rate=R]"
        case .unknownOperation(let op):
            "unknown operation '\(op)' in a fault rule: use * or one of \(SimulatorOperation.allCases.map(\.rawValue).joined(separator: ", "))"
        case .invalidValue(let s):
            "fault rule: \(s)"
        }
    }
}

/// The fault rules in force, changeable at run time.
///
/// A `Mutex` rather than an actor: the check runs on every request and never suspends.
package final class FaultInjector: Sendable {
    private let state: Mutex<(rules: [FaultRule], generator: SplitMix64)>

    /// Starts with `rules`; `seed` makes rate decisions repeatable in tests.
    package init(rules: [FaultRule] = [], seed: UInt64 = UInt64.random(in: 0...UInt64.max)) {
        state = Mutex((rules, SplitMix64(seed: seed)))
    }

    /// The rules in force.
    package var rules: [FaultRule] { state.withLock { $0.rules } }

    /// Replaces all rules.
    package func set(_ rules: [FaultRule]) { state.withLock { $0.rules = rules } }

    /// Adds one rule.
    package func add(_ rule: FaultRule) { state.withLock { $0.rules.append(rule) } }

    /// The faults to apply to one request of `operation`: each matching rule fires with its rate.
    /// Latencies add up; the first firing status or drop wins.
    package func decide(for operation: SimulatorOperation) -> (latencyMS: Int, failure: FaultKind?) {
        state.withLock { s in
            var latency = 0
            var failure: FaultKind?
            for rule in s.rules where rule.operation == "*" || rule.operation == operation.rawValue {
                // Date offsets change no outcome; `dateOffset(for:)` decides them.
                if case .dateOffset = rule.kind { continue }
                let roll = Double(s.generator.next() >> 11) / Double(1 << 53)
                guard roll < rule.rate else { continue }
                switch rule.kind {
                case .latency(let ms): latency += ms
                case .status, .drop, .dropAfterProcessing, .malformedSuccess: if failure == nil { failure = rule.kind }
                case .dateOffset: break
                }
            }
            return (latency, failure)
        }
    }

    /// The shift of the `Date` header for one request of `operation`: the first matching
    /// `dateOffset` rule that fires, or nil.
    package func dateOffset(for operation: SimulatorOperation) -> Int? {
        state.withLock { s in
            for rule in s.rules where rule.operation == "*" || rule.operation == operation.rawValue {
                guard case .dateOffset(let seconds) = rule.kind else { continue }
                let roll = Double(s.generator.next() >> 11) / Double(1 << 53)
                if roll < rule.rate { return seconds }
            }
            return nil
        }
    }
}

/// A small seeded generator (SplitMix64) so tests can reproduce rate decisions.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The API's operations, named like the contract's `operationId`s, with their routes.
package enum SimulatorOperation: String, Sendable, CaseIterable {
    case issueKey, issueToken, renewToken, revokeToken, listProjects
    case createUser, updateUser, deleteUser
    case listFaces, deleteAllFaces, addFace, getFace, updateFace, deleteFace
    case checkIn, search

    /// The operation a request is for, from its method and path (under `/api/v1`).
    package static func match(method: String, path: String) -> SimulatorOperation? {
        var p = Substring(path)
        if let q = p.firstIndex(of: "?") { p = p[..<q] }
        guard p.hasPrefix("/api/v1/") else { return nil }
        let parts = p.dropFirst("/api/v1/".count).split(separator: "/", omittingEmptySubsequences: false)
        switch (method, parts.count) {
        case ("POST", 2) where parts == ["auth", "key"]: return .issueKey
        case ("POST", 2) where parts == ["auth", "token"]: return .issueToken
        case ("PATCH", 2) where parts == ["auth", "token"]: return .renewToken
        case ("DELETE", 2) where parts == ["auth", "token"]: return .revokeToken
        case ("GET", 1) where parts == ["projects"]: return .listProjects
        default: break
        }
        guard parts.first == "projects", parts.count >= 3 else { return nil }
        switch (method, parts.count, parts[2]) {
        case ("POST", 3, "users"): return .createUser
        case ("POST", 3, "check-in"): return .checkIn
        case ("POST", 3, "_search"): return .search
        case ("PATCH", 4, "users"): return .updateUser
        case ("DELETE", 4, "users"): return .deleteUser
        case ("GET", 5, "users") where parts[4] == "faces": return .listFaces
        case ("DELETE", 5, "users") where parts[4] == "faces": return .deleteAllFaces
        case ("POST", 5, "users") where parts[4] == "faces": return .addFace
        case ("GET", 6, "users") where parts[4] == "faces": return .getFace
        case ("PATCH", 6, "users") where parts[4] == "faces": return .updateFace
        case ("DELETE", 6, "users") where parts[4] == "faces": return .deleteFace
        default: return nil
        }
    }
}
