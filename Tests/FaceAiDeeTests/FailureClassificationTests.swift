// Whether the server may have acted on a failed request, via libcurl against aidee-sim, counted there.
import AiDeeSimulator
import FaceAiDee
import Foundation
import SimulatorTestSupport
import TestSupport
import Testing

/// Whether the server may have acted on a failed request, through the real libcurl transport
/// against `aidee-sim` on loopback, counted on the simulator: a check-in is never reported in a
/// way that lets the caller post it again after the server recorded it, and libcurl never sends
/// it twice by itself.
@Suite(
    "Failure classification: was the request carried out?", .serialized,
    .enabled(if: TestAssets.available, "assets missing: run scripts/fetch-assets.sh"))
struct FailureClassificationTests {
    struct Site {
        let sim: AiDeeSimulatorServer
        let client: FaceAiDeeClient
        let face: [UInt8]

        /// Runs `body` with a fresh site; the client and the simulator are stopped at the end.
        static func with<T>(requestTimeout: Duration = .seconds(15), _ body: (Site) async throws -> T) async throws -> T {
            let configuration = SimulatorConfiguration.forTests(
                accounts: [.init(username: "kiosk", password: "pw")], projects: [.init(id: 1, name: "HQ")], faultSeed: 3)
            return try await withSimulator(configuration) { sim in
                let site = try await start(sim, requestTimeout: requestTimeout)
                do {
                    let result = try await body(site)
                    await site.client.shutdown()
                    return result
                } catch {
                    await site.client.shutdown()
                    throw error
                }
            }
        }

        private static func start(_ sim: AiDeeSimulatorServer, requestTimeout: Duration) async throws -> Site {
            let face = try TestAssets.faceImageBytes("images/facerec/obama.jpg")
            let user = try await sim.createUser(projectID: 1, status: "APPROVED")
            _ = try await sim.enrollFace(projectID: 1, userID: user, image: face)
            let (key, secret) = try await sim.issueCredentials(username: "kiosk", password: "pw")
            let client = try FaceAiDeeClient(
                configuration: .init(baseURL: "http://127.0.0.1:\(sim.port)", requestTimeout: requestTimeout),
                credentials: APICredentials(key: key, secret: secret))
            // Warm up: the token is issued and the connection is in the pool, so the check-ins
            // below go out on a *reused* connection, where libcurl would resend by itself.
            _ = try await client.listProjects()
            return Site(sim: sim, client: client, face: face)
        }

        func checkIn() async -> Result<CheckInResult, FaceAiDeeError> {
            do {
                return .success(try await client.checkIn(projectID: 1, jpeg: face))
            } catch {
                return .failure(error)
            }
        }

        func serverCheckIns() async throws -> Int { try await sim.checkIns(projectID: 1).count }

    }

    @Test func processedThenDroppedIsNoAnswerAndRecordedOnce() async throws {
        try await Site.with { site in
            site.sim.faults.set([FaultRule(operation: "checkIn", kind: .dropAfterProcessing)])
            let result = await site.checkIn()
            guard case .failure(let error) = result, case .noAnswer(let operation, _, let message) = error else {
                Issue.record("expected noAnswer, got \(result)")
                return
            }
            #expect(operation == "checkIn")
            #expect(message.contains("whole request"))
            #expect(error.disposition == .ambiguous)
            // Exactly one: the server recorded it, and libcurl did not post it again on a new
            // connection after the reused one died (libcurl retries a dead reused connection by itself).
            let recorded = try await site.serverCheckIns()
            #expect(recorded == 1)
        }
    }

    @Test func droppedBeforeProcessingIsAlsoNoAnswer() async throws {
        // The client cannot tell this from the case above: the request went out, no answer came.
        try await Site.with { site in
            site.sim.faults.set([FaultRule(operation: "checkIn", kind: .drop)])
            let result = await site.checkIn()
            guard case .failure(let error) = result, case .noAnswer = error else {
                Issue.record("expected noAnswer, got \(result)")
                return
            }
            #expect(error.disposition == .ambiguous)
            let recorded = try await site.serverCheckIns()
            #expect(recorded == 0)
        }
    }

    @Test func slowAnswerAfterTheUploadIsNoAnswer() async throws {
        try await Site.with(requestTimeout: .milliseconds(800)) { site in
            site.sim.faults.set([FaultRule(operation: "checkIn", kind: .latency(milliseconds: 2500))])
            let result = await site.checkIn()
            guard case .failure(let error) = result, case .noAnswer(_, _, let message) = error else {
                Issue.record("expected noAnswer, got \(result)")
                return
            }
            #expect(message.contains("no answer within 0.8 s"))
            #expect(error.disposition == .ambiguous)
            // The simulator carries on after the client gave up: the check-in is recorded (after its
            // 2.5 s of injected latency plus matching, longer on a loaded machine: polled, not slept).
            let deadline = ContinuousClock.now + .seconds(60)
            var recorded = try await site.serverCheckIns()
            while recorded == 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                recorded = try await site.serverCheckIns()
            }
            #expect(recorded == 1)
        }
    }

    @Test func malformedSuccessIsAcceptedAndQuotesTheBody() async throws {
        try await Site.with { site in
            site.sim.faults.set([FaultRule(operation: "checkIn", kind: .malformedSuccess)])
            let result = await site.checkIn()
            guard case .failure(let error) = result, case .undecodableBody("checkIn", 200, let detail) = error else {
                Issue.record("expected undecodableBody 200, got \(result)")
                return
            }
            #expect(error.disposition == .accepted)
            #expect(detail.contains(#"the answer began: {"result":{"uid":"u-1""#), "\(detail)")
            let recorded = try await site.serverCheckIns()
            #expect(recorded == 1)
        }
    }

    @Test func refusedConnectionIsNothingSent() async throws {
        let port = try unusedPort()
        let client = try FaceAiDeeClient(
            configuration: .init(baseURL: "http://127.0.0.1:\(port)"), credentials: APICredentials(key: "k", secret: "s"))
        do {
            _ = try await client.checkIn(projectID: 1, jpeg: [0xFF, 0xD8, 0xFF, 0xD9])
            Issue.record("a closed port answered")
        } catch {
            // The token call fails first: the check-in itself never left.
            guard case .network = error else {
                Issue.record("expected a network error, got \(error)")
                return
            }
            #expect(error.disposition == .retryable)
        }
    }

    @Test func repeatableOperationsKeepTheirErrors() async throws {
        // Only unrepeatable operations report noAnswer; a dropped read stays a network error.
        try await Site.with { site in
            site.sim.faults.set([FaultRule(operation: "listProjects", kind: .dropAfterProcessing)])
            do throws(FaceAiDeeError) {
                _ = try await site.client.listProjects()
                Issue.record("a dropped answer arrived")
            } catch {
                guard case .network = error else {
                    Issue.record("expected a network error, got \(error)")
                    return
                }
                #expect(error.disposition == .retryable)
            }
        }
    }

    @Test func bodySnippetsAreShortEscapedAndHideTokensAndImages() {
        let token = String(repeating: "A1b2", count: 16)
        let snippet = BodySnippet.quote(Array(#"{"token":"\#(token)","n":1}"#.utf8) + [0x0A, 0x01])
        #expect(!snippet.contains(token))
        #expect(snippet.contains("…(64 chars)…"))
        #expect(snippet.hasSuffix(#",\"n\":1}\n\x01"#) || snippet.hasSuffix("\\n\\x01"), "\(snippet)")
        let image = Array(("{\"image\":\"" + String(repeating: "/9j/4AAQSkZJRgABAQ", count: 100) + "\"}").utf8)
        let quoted = BodySnippet.quote(image)
        #expect(!quoted.contains("/9j/4AAQSkZJRg"))
        #expect(quoted.hasSuffix("(\(image.count) bytes)"))
        #expect(quoted.utf8.count < 300)
    }
}
