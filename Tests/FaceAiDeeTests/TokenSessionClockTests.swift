// Token session timing on a manual clock against the fake server: renewal margin, failed renewal, expiry.
import AiDeeAPI
import FaceAiDee
import Foundation
import Synchronization
import Testing

/// A manual clock for the token session: time moves only when the test says so, so renewal
/// points are exact instead of slept for.
final class ManualTokenClock: Sendable {
    private let offset = Mutex<Duration>(.zero)
    private let origin = ContinuousClock.now
    private let wallOrigin = AiDeeTimestamp.now()

    func advance(by duration: Duration) { offset.withLock { $0 += duration } }

    var clock: TokenSession.Clock {
        TokenSession.Clock(
            monotonic: { [self] in origin + offset.withLock { $0 } },
            // The session reads the wall clock only to turn `expire` into a lifetime, when a
            // token arrives: the real time then, since the fake server stamps `expire` with it.
            wall: { AiDeeTimestamp.now() })
    }
}

/// The token session's timing on an injected clock, against the fake server over libcurl.
@Suite("Token session on a manual clock")
struct TokenSessionClockTests {
    func client(_ server: FakeAiDeeServer, _ clock: ManualTokenClock, margin: Duration = .seconds(60)) throws -> FaceAiDeeClient {
        try FaceAiDeeClient(
            configuration: .init(baseURL: server.rootURL, renewalMargin: margin),
            credentials: APICredentials(key: FakeAiDeeAPI.key, secret: FakeAiDeeAPI.secret), tokenClock: clock.clock)
    }

    @Test("renewal starts exactly at the margin: half of a 100 s lifetime when the margin is longer")
    func renewsAtTheMargin() async throws {
        let server = try await FakeAiDeeServer.start()
        defer { Task { await server.stop() } }
        await server.state.set(ttl: 100)
        let time = ManualTokenClock()
        let client = try client(server, time)
        _ = try await client.listProjects()
        time.advance(by: .seconds(49))
        _ = try await client.listProjects()
        #expect(await server.state.renewed == 0, "51 s left: more than the 50 s margin")
        time.advance(by: .seconds(2))
        _ = try await client.listProjects()
        #expect(await server.state.renewed == 1)
        #expect(await server.state.issued == 1)
    }

    @Test("callers that join a failing renewal keep the still-valid token, like the caller that started it")
    func joinersKeepTheValidToken() async throws {
        let server = try await FakeAiDeeServer.start()
        defer { Task { await server.stop() } }
        await server.state.set(ttl: 100)
        let time = ManualTokenClock()
        let client = try client(server, time)
        _ = try await client.listProjects()
        time.advance(by: .seconds(60))
        // The renewal is in flight long enough for every caller to join it, then fails (500).
        await server.state.set(renewalDelay: .milliseconds(500))
        await server.state.setFailRenewals(true)
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<5 {
                group.addTask { (try? await client.listProjects())?.count == 2 }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == [true, true, true, true, true])
        #expect(await server.state.issued == 1)
        #expect(await server.state.renewed == 0)
        #expect(await client.session?.counters.failedRenewals == 5)
    }

    @Test("a token past its lifetime on the session's clock is issued afresh, not renewed")
    func expiredIsIssuedAfresh() async throws {
        let server = try await FakeAiDeeServer.start()
        defer { Task { await server.stop() } }
        await server.state.set(ttl: 100)
        let time = ManualTokenClock()
        let client = try client(server, time)
        _ = try await client.listProjects()
        time.advance(by: .seconds(101))
        _ = try await client.listProjects()
        #expect(await server.state.issued == 2)
        #expect(await server.state.renewed == 0)
    }
}
