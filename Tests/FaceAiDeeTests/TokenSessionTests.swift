// The client and its token session against the fake server: issue, reuse, renewal, 401 reissue, revocation.
import AiDeeAPI
import FaceAiDee
import Foundation
import Testing

/// The client and its token session against the fake server (controlled TTLs and latencies).
@Suite("Token session")
struct TokenSessionTests {
    private func client(
        _ server: FakeAiDeeServer, margin: Duration = .seconds(60),
        credentials: APICredentials = APICredentials(key: FakeAiDeeAPI.key, secret: FakeAiDeeAPI.secret)
    ) throws -> FaceAiDeeClient {
        try FaceAiDeeClient(
            configuration: .init(baseURL: server.rootURL, renewalMargin: margin), credentials: credentials)
    }

    @Test func firstCallIssuesThenTheTokenIsReused() async throws {
        let server = try await FakeAiDeeServer.start()
        defer { Task { await server.stop() } }
        let client = try client(server)
        #expect(await client.tokenExpiry == nil)
        let projects = try await client.listProjects()
        #expect(projects.map(\.name) == ["Head office", "Warehouse"])
        _ = try await client.listProjects()
        _ = try await client.listProjects()
        #expect(await server.state.issued == 1)
        #expect(await client.session?.counters.issued == 1)
        let expiry = try #require(await client.tokenExpiry)
        #expect(expiry.utcOffsetSeconds == 9 * 3600)
        #expect(AiDeeTimestamp.now().seconds(until: expiry) > 3000)
    }

    @Test func renewsWithPatchInsideTheMargin() async throws {
        let server = try await FakeAiDeeServer.start()
        defer { Task { await server.stop() } }
        await server.state.set(ttl: 6)
        // Margin 60 s is clamped to half the 6 s lifetime: renewal starts after 3 s, and a busy
        // machine may oversleep by almost 3 s before the token expires.
        let client = try client(server)
        _ = try await client.listProjects()
        _ = try await client.listProjects()
        #expect(await server.state.renewed == 0)
        try await Task.sleep(for: .milliseconds(3200))
        _ = try await client.listProjects()
        #expect(await server.state.renewed == 1)
        #expect(await server.state.issued == 1)
        #expect(await client.session?.counters.renewed == 1)
    }

    @Test func aFailedRenewalKeepsUsingTheValidToken() async throws {
        let server = try await FakeAiDeeServer.start()
        defer { Task { await server.stop() } }
        await server.state.set(ttl: 6)
        let client = try client(server)
        _ = try await client.listProjects()
        try await Task.sleep(for: .milliseconds(3200))
        await server.state.setFailRenewals(true)
        #expect(try await client.listProjects().count == 2)
        #expect(await client.session?.counters.failedRenewals == 1)
        #expect(await client.session?.counters.renewed == 0)
        await server.state.setFailRenewals(false)
        _ = try await client.listProjects()
        #expect(await client.session?.counters.renewed == 1)
    }

    @Test func expiredTokenIsIssuedAfresh() async throws {
        let server = try await FakeAiDeeServer.start()
        defer { Task { await server.stop() } }
        await server.state.set(ttl: 1.5)
        let client = try client(server)
        _ = try await client.listProjects()
        try await Task.sleep(for: .milliseconds(1700))
        _ = try await client.listProjects()
        #expect(await server.state.issued == 2)
        #expect(await server.state.renewed == 0)
    }

    @Test func concurrentCallersShareOneRenewal() async throws {
        let server = try await FakeAiDeeServer.start()
        defer { Task { await server.stop() } }
        await server.state.set(ttl: 6, renewalDelay: .milliseconds(300))
        let client = try client(server)
        _ = try await client.listProjects()
        try await Task.sleep(for: .milliseconds(3200))
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<20 {
                group.addTask { try await client.listProjects().count }
            }
            for try await count in group { #expect(count == 2) }
        }
        #expect(await server.state.renewed == 1)
        #expect(await server.state.issued == 1)
    }

    @Test func concurrentFirstCallsShareOneIssue() async throws {
        let server = try await FakeAiDeeServer.start()
        defer { Task { await server.stop() } }
        await server.state.set(issueDelay: .milliseconds(200))
        let client = try client(server)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<12 { group.addTask { _ = try await client.listProjects() } }
            try await group.waitForAll()
        }
        #expect(await server.state.issued == 1)
    }

    @Test func a401ReissuesAndRetriesOnce() async throws {
        let server = try await FakeAiDeeServer.start()
        defer { Task { await server.stop() } }
        let client = try client(server)
        _ = try await client.listProjects()
        await server.state.rejectNext()
        let projects = try await client.listProjects()
        #expect(projects.count == 2)
        #expect(await server.state.issued == 2)
        #expect(await client.session?.counters.rejected == 1)
    }

    @Test func wrongCredentialsAreAnAuthenticationError() async throws {
        let server = try await FakeAiDeeServer.start()
        defer { Task { await server.stop() } }
        let client = try client(server, credentials: APICredentials(key: FakeAiDeeAPI.key, secret: "WRONG"))
        do {
            _ = try await client.listProjects()
            Issue.record("wrong secret accepted")
        } catch {
            #expect(error == .http(operation: "issueToken", status: 401, message: "unknown key or wrong secret"))
            #expect(error.disposition == .authentication)
        }
    }

    @Test func shutdownRevokesTheToken() async throws {
        let server = try await FakeAiDeeServer.start()
        defer { Task { await server.stop() } }
        let client = try client(server)
        _ = try await client.listProjects()
        #expect(await client.shutdown() == nil)
        #expect(await server.state.revoked == 1)
        #expect(await client.tokenExpiry == nil)
        // Nothing held: a second shutdown sends nothing.
        #expect(await client.shutdown() == nil)
        #expect(await server.state.revoked == 1)
    }

    @Test func explicitIssueRenewRevoke() async throws {
        let server = try await FakeAiDeeServer.start()
        defer { Task { await server.stop() } }
        let client = try client(server)
        let first = try await client.issueToken()
        #expect(await client.tokenExpiry == first)
        // Renewed tokens live an hour longer: the expiry renewToken returns must be the new
        // token's, not the issued one's (which it would be if renew did not go to the server).
        await server.state.set(ttl: 7200)
        let second = try await client.renewToken()
        #expect(await client.tokenExpiry == second)
        let gained = first.seconds(until: second)
        #expect(gained > 3000 && gained < 4200, "renewal moved the expiry by \(gained) s, expected about 3600 s")
        #expect(await server.state.issued == 1)
        #expect(await server.state.renewed == 1)
        // The server forgot the issued token on renewal; revoking succeeds only with the renewed one.
        try await client.revokeToken()
        #expect(await server.state.revoked == 1)
        #expect(await server.state.tokens.isEmpty)
        #expect(await client.tokenExpiry == nil)
    }

    @Test func issueKeyNeedsNoCredentials() async throws {
        let server = try await FakeAiDeeServer.start()
        defer { Task { await server.stop() } }
        let client = try FaceAiDeeClient(configuration: .init(baseURL: server.rootURL), credentials: nil)
        let credentials = try await client.issueKey(username: "test", password: "pw")
        #expect(credentials.key == FakeAiDeeAPI.key)
        do {
            _ = try await client.listProjects()
            Issue.record("a call without credentials went out")
        } catch {
            #expect(error.disposition == .final)
            #expect(error.description.contains("credentials"))
        }
        do {
            _ = try await client.issueKey(username: "test", password: "nope")
            Issue.record("wrong password accepted")
        } catch {
            #expect(error.httpStatus == 401)
        }
    }

    @Test func checkInSendsConditionAndOptionAndKeepsNanoseconds() async throws {
        let server = try await FakeAiDeeServer.start()
        defer { Task { await server.stop() } }
        let client = try client(server)
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]
        let result = try await client.checkIn(
            projectID: 1, jpeg: jpeg, condition: CheckInCondition(groupID: 7, properties: ["site": "seoul"]), option: 4)
        #expect(result.userID == 4)
        #expect(result.status == "APPROVED")
        #expect(result.similarity == 90.3)
        #expect(result.checkedInAt.rfc3339 == "2020-01-01T12:00:00.123456789+09:00")
        let sent = try #require(await server.state.lastCheckInBody)
        #expect(Array(sent.image.data) == jpeg)
        #expect(sent.option == 4)
        #expect(sent.condition?.groupId == 7)
        #expect(sent.condition?.properties?.additionalProperties == ["site": "seoul"])
        do {
            _ = try await client.checkIn(projectID: 9, jpeg: jpeg)
            Issue.record("another project was allowed")
        } catch {
            #expect(error == .http(operation: "checkIn", status: 403, message: "no permission for project 9"))
        }
    }

    @Test func nonJSONErrorBodiesStillGiveAMessage() async throws {
        // A proxy's HTML page instead of the contract's `{code, message}`: its text is the message.
        let proxy = try await AnsweringServer.start()
        defer { Task { await proxy.stop() } }
        let behindProxy = try FaceAiDeeClient(configuration: .init(baseURL: proxy.url(.html(status: 502))), credentials: nil)
        do {
            _ = try await behindProxy.issueKey(username: "test", password: "pw")
            Issue.record("a 502 page was taken for an answer")
        } catch {
            #expect(error == .http(operation: "issueKey", status: 502, message: AnsweringServer.htmlPage))
            #expect(error.description.contains("Bad gateway from the proxy"))
        }
    }

    @Test func badBaseURLsAreConfigurationErrors() {
        #expect(throws: FaceAiDeeError.self) {
            try FaceAiDeeClient(configuration: .init(baseURL: "ftp://example.com"), credentials: nil)
        }
        #expect(throws: FaceAiDeeError.self) {
            try FaceAiDeeClient(configuration: .init(baseURL: "not a url"), credentials: nil)
        }
        #expect(throws: FaceAiDeeError.self) {
            try FaceAiDeeClient(configuration: .init(baseURL: "http://127.0.0.1:1", caFile: "/nonexistent.pem"), credentials: nil)
        }
    }
}
