// The generated client over libcurl against aidee-sim on loopback: every operation and documented error.
import AiDeeAPI
import AiDeeSimulator
import FaceAiDee
import Foundation
import SimulatorTestSupport
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Models and face images are present (the asset step ran).
private let simulatorAssets = TestAssets.faceMatchingAvailable

/// The generated client over libcurl against the real simulator on loopback: every operation and
/// every documented error.
@Suite("FaceAiDeeClient against aidee-sim", .enabled(if: simulatorAssets, "needs the models: run scripts/fetch-assets.sh"))
struct SimulatorClientTests {
    /// A simulator with `kiosk` (may issue keys), `viewer` (may not) and project 1 for all,
    /// project 2 for `other` only; plus a client with `kiosk`'s fresh key.
    private struct Setup {
        let sim: AiDeeSimulatorServer
        let client: FaceAiDeeClient
        var root: String { "http://127.0.0.1:\(sim.port)" }

        /// Runs `body` with a fresh setup; the client and the simulator are stopped at the end.
        static func with<T>(
            tokenTTL: TimeInterval = 3600, requestTimeout: Duration = .seconds(15), _ body: (Setup) async throws -> T
        ) async throws -> T {
            try await withSimulator(.threeAccountSite(tokenTTL: tokenTTL, faultSeed: 7)) { sim in
                let keyClient = try FaceAiDeeClient(configuration: .init(baseURL: "http://127.0.0.1:\(sim.port)"), credentials: nil)
                let credentials = try await keyClient.issueKey(username: "kiosk", password: "pw")
                let client = try FaceAiDeeClient(
                    configuration: .init(baseURL: "http://127.0.0.1:\(sim.port)", requestTimeout: requestTimeout),
                    credentials: credentials)
                do {
                    let result = try await body(Setup(sim: sim, client: client))
                    await client.shutdown()
                    return result
                } catch {
                    await client.shutdown()
                    throw error
                }
            }
        }
    }

    private static func image(_ name: String) throws -> [UInt8] {
        try TestAssets.faceImageBytes("images/" + name)
    }

    private func expectStatus<T>(_ status: Int, _ body: () async throws(FaceAiDeeError) -> T) async {
        do {
            _ = try await body()
            Issue.record("expected \(status), got success")
        } catch {
            #expect(error.httpStatus == status, "\(error)")
        }
    }

    @Test func authOperationsAndTheirErrors() async throws {
        try await Setup.with { setup in
            let anonymous = try FaceAiDeeClient(configuration: .init(baseURL: setup.root), credentials: nil)
            await expectStatus(401) { () async throws(FaceAiDeeError) in try await anonymous.issueKey(username: "kiosk", password: "nope") }
            await expectStatus(403) { () async throws(FaceAiDeeError) in try await anonymous.issueKey(username: "viewer", password: "pw") }
            await expectStatus(400) { () async throws(FaceAiDeeError) in try await anonymous.issueKey(username: "", password: "") }

            let first = try await setup.client.issueToken()
            let renewed = try await setup.client.renewToken()
            #expect(!(renewed < first))
            try await setup.client.revokeToken()
            #expect(await setup.client.tokenExpiry == nil)

            let wrong = try FaceAiDeeClient(
                configuration: .init(baseURL: setup.root),
                credentials: APICredentials(key: "00000000-0000-0000-0000-000000000000", secret: "nope"))
            do throws(FaceAiDeeError) {
                _ = try await wrong.listProjects()
                Issue.record("unknown key accepted")
            } catch {
                #expect(error.httpStatus == 401 && error.disposition == .authentication)
            }
        }
    }

    @Test func projectsAndUsers() async throws {
        try await Setup.with { setup in
            let client = setup.client
            #expect(try await client.listProjects().map(\.id) == [1])

            let created = try await client.createUser(
                projectID: 1,
                AiDeeNewUser(
                    groupId: 2, registrant: "USER", status: "APPROVED",
                    properties: AiDeeProperties(additionalProperties: ["site": "seoul"])))
            #expect(created.at.nanoseconds >= 0)
            let updated = try await client.updateUser(projectID: 1, userID: created.id, AiDeeUserUpdate(groupId: 3))
            #expect(updated.id == created.id)
            await expectStatus(404) { () async throws(FaceAiDeeError) in
                try await client.updateUser(projectID: 1, userID: 999, AiDeeUserUpdate(groupId: 1))
            }
            await expectStatus(403) { () async throws(FaceAiDeeError) in try await client.createUser(projectID: 2, AiDeeNewUser()) }
            let deleted = try await client.deleteUser(projectID: 1, userID: created.id)
            #expect(deleted.id == created.id)
            await expectStatus(404) { () async throws(FaceAiDeeError) in try await client.deleteUser(projectID: 1, userID: created.id) }
        }
    }

    @Test func facesCheckInAndSearch() async throws {
        try await Setup.with { setup in
            let client = setup.client
            let obamaJPEG = try Self.image("facerec/obama.jpg"), obama2JPEG = try Self.image("facerec/obama2.jpg")
            let bidenJPEG = try Self.image("facerec/biden.jpg"), fruitsJPEG = try Self.image("ocvdoc/fruits.jpg")
            let obama = try await client.createUser(
                projectID: 1, AiDeeNewUser(groupId: 1, properties: AiDeeProperties(additionalProperties: ["site": "seoul"]))
            ).id

            let face = try await client.addFace(projectID: 1, userID: obama, image: try Self.image("facerec/obama.jpg"), saveImage: true)
            let listed = try await client.listFaces(projectID: 1, userID: obama)
            #expect(listed.map(\.id) == [face.id] && listed.first?.hasImage == true)
            let stored = try await client.getFace(projectID: 1, userID: obama, faceID: face.id)
            #expect(stored.image == (try Self.image("facerec/obama.jpg")))
            _ = try await client.updateFace(projectID: 1, userID: obama, faceID: face.id, image: try Self.image("facerec/obama3.jpg"))
            #expect(try await client.getFace(projectID: 1, userID: obama, faceID: face.id).image == nil)

            await expectStatus(409) { () async throws(FaceAiDeeError) in
                try await client.addFace(projectID: 1, userID: obama, image: fruitsJPEG)
            }
            await expectStatus(400) { () async throws(FaceAiDeeError) in
                try await client.addFace(projectID: 1, userID: obama, image: Array("not an image".utf8))
            }
            await expectStatus(404) { () async throws(FaceAiDeeError) in
                try await client.addFace(projectID: 1, userID: 999, image: obamaJPEG)
            }
            await expectStatus(404) { () async throws(FaceAiDeeError) in try await client.getFace(projectID: 1, userID: obama, faceID: 999)
            }

            // The same person matches; the condition decides who may check in here.
            let result = try await client.checkIn(projectID: 1, jpeg: try Self.image("facerec/obama2.jpg"))
            #expect(result.userID == obama && result.status == "APPROVED")
            #expect(result.similarity >= 80 && result.similarity <= 100)
            #expect(abs(AiDeeTimestamp.now().seconds(until: result.checkedInAt)) < 60)
            _ = try await client.checkIn(
                projectID: 1, jpeg: try Self.image("facerec/obama2.jpg"),
                condition: CheckInCondition(groupID: 1, properties: ["site": "seoul"]), option: 1)
            await expectStatus(409) { () async throws(FaceAiDeeError) in
                try await client.checkIn(projectID: 1, jpeg: obama2JPEG, condition: CheckInCondition(groupID: 5))
            }
            await expectStatus(404) { () async throws(FaceAiDeeError) in try await client.checkIn(projectID: 1, jpeg: bidenJPEG) }
            await expectStatus(400) { () async throws(FaceAiDeeError) in try await client.checkIn(projectID: 1, jpeg: obama2JPEG, option: 9)
            }
            await expectStatus(403) { () async throws(FaceAiDeeError) in try await client.checkIn(projectID: 2, jpeg: obama2JPEG) }

            let found = try await client.search(projectID: 1, image: try Self.image("facerec/obama2.jpg"))
            #expect(found.userID == obama && found.matched)
            let stranger = try await client.search(projectID: 1, image: try Self.image("facerec/biden.jpg"))
            #expect(!stranger.matched)
            await expectStatus(404) { () async throws(FaceAiDeeError) in
                try await client.search(projectID: 1, image: obama2JPEG, condition: CheckInCondition(groupID: 5))
            }

            _ = try await client.deleteFace(projectID: 1, userID: obama, faceID: face.id)
            await expectStatus(404) { () async throws(FaceAiDeeError) in
                try await client.deleteFace(projectID: 1, userID: obama, faceID: face.id)
            }
            _ = try await client.addFace(projectID: 1, userID: obama, image: try Self.image("facerec/obama.jpg"))
            let cleared = try await client.deleteAllFaces(projectID: 1, userID: obama)
            #expect(cleared.id == obama)
            #expect(try await client.listFaces(projectID: 1, userID: obama).isEmpty)
            await expectStatus(404) { () async throws(FaceAiDeeError) in try await client.listFaces(projectID: 1, userID: 999) }
        }
    }

    @Test func shortTokenLifetimeRenewsThenReissues() async throws {
        try await Setup.with(tokenTTL: 4) { setup in
            let client = setup.client
            _ = try await client.listProjects()
            try await Task.sleep(for: .milliseconds(2200))  // inside the margin (clamped to 2 s), 1.8 s to spare
            _ = try await client.listProjects()
            #expect(await client.session?.counters.renewed == 1)
            try await Task.sleep(for: .milliseconds(4300))  // past the renewed token's expiry
            _ = try await client.listProjects()
            #expect(await client.session?.counters.issued == 2)
        }
    }

    @Test func injectedFaultsMapToTheirErrors() async throws {
        try await Setup.with(requestTimeout: .milliseconds(600)) { setup in
            let client = setup.client
            _ = try await client.listProjects()

            setup.sim.faults.set([FaultRule(operation: "listProjects", kind: .status(503))])
            do throws(FaceAiDeeError) {
                _ = try await client.listProjects()
                Issue.record("fault not applied")
            } catch {
                #expect(error.httpStatus == 503 && error.disposition == .retryable)
            }

            setup.sim.faults.set([FaultRule(operation: "listProjects", kind: .drop)])
            do throws(FaceAiDeeError) {
                _ = try await client.listProjects()
                Issue.record("dropped connection answered")
            } catch {
                guard case .network = error else {
                    Issue.record("expected a network error, got \(error)")
                    return
                }
                #expect(error.disposition == .retryable)
            }

            setup.sim.faults.set([FaultRule(operation: "listProjects", kind: .latency(milliseconds: 2000))])
            do throws(FaceAiDeeError) {
                _ = try await client.listProjects()
                Issue.record("slow answer beat the timeout")
            } catch {
                guard case .timeout = error else {
                    Issue.record("expected a timeout, got \(error)")
                    return
                }
            }

            // A 401 from the server (e.g. it restarted and forgot tokens) is retried once with a new token.
            setup.sim.faults.set([])
            _ = try await client.listProjects()
            setup.sim.faults.set([FaultRule(operation: "listProjects", kind: .status(401), rate: 1)])
            await expectStatus(401) { () async throws(FaceAiDeeError) in try await client.listProjects() }
            #expect(await client.session?.counters.rejected == 1)
            setup.sim.faults.set([])
            #expect(try await client.listProjects().count == 1)
        }
    }

    @Test func connectionRefusedWhenTheServerIsGone() async throws {
        let root = try await Setup.with { $0.root }
        let client = try FaceAiDeeClient(configuration: .init(baseURL: root), credentials: nil)
        do {
            _ = try await client.issueKey(username: "kiosk", password: "pw")
            Issue.record("a stopped server answered")
        } catch {
            guard case .network(let operation, _, _) = error else {
                Issue.record("expected a network error, got \(error)")
                return
            }
            #expect(operation == "issueKey")
        }
    }

    @Test func theServedDocumentIsTheContract() async throws {
        try await Setup.with { setup in
            let (data, _) = try await URLSession.shared.data(from: try #require(URL(string: setup.root + "/openapi.yaml")))
            #expect([UInt8](data) == AiDeeAPIDocument.yamlBytes)
            #expect(AiDeeAPIDocument.yaml.contains("openapi: 3.1.0"))
        }
    }
}
