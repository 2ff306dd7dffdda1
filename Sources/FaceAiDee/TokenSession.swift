// TokenSession: owns the API token: issue, renew before expiry, re-issue after a 401, revoke.

package import AiDeeAPI
import OpenAPIRuntime

/// Keeps a valid API token for one set of credentials.
///
/// - ``token()`` returns the current token, first issuing one (`POST /auth/token`) when there is
///   none or it has expired, or renewing it (`PATCH /auth/token`) when less than the renewal
///   margin remains. A renewal refused with 401 falls back to issuing a new token.
/// - Concurrent callers share one refresh: while a request for a token is in flight, every
///   caller awaits that same request (no storm of renewals when many calls start at once).
/// - ``tokenRejected(_:)`` forgets a token the server refused, so the next ``token()`` issues
///   a new one; ``FaceAiDeeClient`` uses it to retry a call once after a 401.
/// - ``revoke()`` deletes the token on the server (`DELETE /auth/token`) at shutdown.
///
/// Expiry is tracked on the monotonic clock from the moment the token arrived (`expire` minus
/// the local wall-clock time then), so a wall-clock jump later does not confuse it.
package actor TokenSession {
    /// Where the session reads time: the monotonic clock for validity, the wall clock only to
    /// turn the server's `expire` into a remaining lifetime. Tests advance a manual one.
    package struct Clock: Sendable {
        package var monotonic: @Sendable () -> ContinuousClock.Instant
        package var wall: @Sendable () -> AiDeeTimestamp

        package init(
            monotonic: @escaping @Sendable () -> ContinuousClock.Instant,
            wall: @escaping @Sendable () -> AiDeeTimestamp
        ) {
            self.monotonic = monotonic
            self.wall = wall
        }

        /// The system's clocks.
        package static let system = Clock(monotonic: { ContinuousClock.now }, wall: { AiDeeTimestamp.now() })
    }

    /// Counts of the token operations performed, for status pages and tests.
    package struct Counters: Sendable, Hashable {
        /// Tokens issued with `POST /auth/token`.
        package var issued = 0
        /// Tokens renewed with `PATCH /auth/token`.
        package var renewed = 0
        /// Tokens revoked with `DELETE /auth/token`.
        package var revoked = 0
        /// Tokens the server refused with 401 during a call.
        package var rejected = 0
        /// Renewals that failed for a passing reason while the old token was still valid (it was used).
        package var failedRenewals = 0
    }

    private struct Held: Sendable {
        var token: String
        var expire: AiDeeTimestamp
        var receivedAt: ContinuousClock.Instant
        var validUntil: ContinuousClock.Instant
        /// True when this token came from a renewal rather than an issue.
        var renewed: Bool
    }

    private let client: Client
    private let credentials: APICredentials
    private let renewalMargin: Duration
    private let clock: Clock
    private var held: Held?
    private var refresh: Task<Held, any Error>?
    private var counts = Counters()

    /// Creates a session; no request is made until the first ``token()``.
    /// - Parameters:
    ///   - client: the generated client to call the token operations with.
    ///   - credentials: the API key and secret.
    ///   - renewalMargin: renew when less than this remains (at most half the token's lifetime).
    ///   - clock: where time is read (``Clock/system`` outside tests).
    package init(
        client: Client, credentials: APICredentials, renewalMargin: Duration = .seconds(60),
        clock: Clock = .system
    ) {
        self.client = client
        self.credentials = credentials
        self.renewalMargin = renewalMargin
        self.clock = clock
    }

    /// The current token's expiry as the server wrote it, or nil when no token is held.
    package var expiry: AiDeeTimestamp? { held?.expire }

    /// The token operations performed so far.
    package var counters: Counters { counts }

    /// A token that is valid now, issuing or renewing one first when needed.
    ///
    /// A caller that finds a refresh in flight joins it, and is treated exactly like the caller
    /// that started it: if the renewal fails for a passing reason while the old token is still
    /// valid, both get the old token.
    package func token() async throws(FaceAiDeeError) -> String {
        do {
            if let refresh { return try await Self.wait(refresh).token }
            let now = clock.monotonic()
            if let held, now < held.validUntil, held.validUntil - now > margin(for: held) {
                return held.token
            }
            let renewable = held.flatMap { now < $0.validUntil ? $0.token : nil }
            return try await startRefresh(renewing: renewable).token
        } catch {
            // A renewal that failed for a passing reason (network, 5xx) must not fail the call
            // while the old token is still good: use it, and try renewing again next time.
            if let held, clock.monotonic() < held.validUntil, error.disposition == .retryable {
                counts.failedRenewals += 1
                return held.token
            }
            throw error
        }
    }

    /// Issues a new token now, even if one is held (`kioskctl api token issue`).
    @discardableResult
    package func issue() async throws(FaceAiDeeError) -> AiDeeTimestamp {
        if let refresh { _ = try? await refresh.value }
        return try await startRefresh(renewing: nil).expire
    }

    /// Renews the held token now (issuing one when none is held) (`kioskctl api token renew`).
    @discardableResult
    package func renew() async throws(FaceAiDeeError) -> AiDeeTimestamp {
        if let refresh { _ = try? await refresh.value }
        if held == nil { _ = try await token() }
        return try await startRefresh(renewing: held?.token).expire
    }

    /// Forgets `token` after the server refused it (401), unless a newer token already replaced
    /// it; the next ``token()`` then issues a new one.
    package func tokenRejected(_ token: String) {
        counts.rejected += 1
        if held?.token == token { held = nil }
    }

    /// Revokes the held token on the server and forgets it. Does nothing when none is held.
    package func revoke() async throws(FaceAiDeeError) {
        if let refresh { _ = try? await refresh.value }
        guard let current = held else { return }
        held = nil
        do {
            _ = try await client.revokeToken(headers: .init(xAPIToken: current.token)).ok.body.json
            counts.revoked += 1
        } catch {
            throw FaceAiDeeClient.mapError(error, operation: "revokeToken")
        }
    }

    // MARK: Refreshing

    /// The margin actually used: the configured one, but at most half the token's lifetime.
    private func margin(for held: Held) -> Duration {
        min(renewalMargin, (held.validUntil - held.receivedAt) / 2)
    }

    private func startRefresh(renewing token: String?) async throws(FaceAiDeeError) -> Held {
        let client = self.client
        let credentials = self.credentials
        let clock = self.clock
        let task = Task<Held, any Error> {
            if let token {
                do {
                    return try await Self.renew(client: client, token: token, clock: clock)
                } catch let error as FaceAiDeeError where error.httpStatus == 401 {
                    // The server no longer knows the token (expired early, revoked, restarted): issue afresh.
                    return try await Self.issue(client: client, credentials: credentials, clock: clock)
                }
            }
            return try await Self.issue(client: client, credentials: credentials, clock: clock)
        }
        refresh = task
        defer { if refresh == task { refresh = nil } }
        let result: Held
        do {
            result = try await Self.wait(task)
        } catch {
            // A failed renewal leaves an unexpired token usable; an expired one is dropped.
            if let held, clock.monotonic() >= held.validUntil { self.held = nil }
            throw error
        }
        held = result
        if result.renewed { counts.renewed += 1 } else { counts.issued += 1 }
        return result
    }

    private static func wait(_ task: Task<Held, any Error>) async throws(FaceAiDeeError) -> Held {
        do {
            return try await task.value
        } catch let error as FaceAiDeeError {
            throw error
        } catch {
            throw FaceAiDeeClient.mapError(error, operation: "issueToken")
        }
    }

    private static func issue(client: Client, credentials: APICredentials, clock: Clock) async throws -> Held {
        let body: Components.Schemas.TokenResponse
        do {
            body = try await client.issueToken(body: .json(.init(key: credentials.key, secret: credentials.secret)))
                .created.body.json
        } catch {
            throw FaceAiDeeClient.mapError(error, operation: "issueToken")
        }
        return held(from: body, renewed: false, clock: clock)
    }

    private static func renew(client: Client, token: String, clock: Clock) async throws -> Held {
        let body: Components.Schemas.TokenResponse
        do {
            body = try await client.renewToken(headers: .init(xAPIToken: token)).ok.body.json
        } catch {
            throw FaceAiDeeClient.mapError(error, operation: "renewToken")
        }
        return held(from: body, renewed: true, clock: clock)
    }

    private static func held(from body: Components.Schemas.TokenResponse, renewed: Bool, clock: Clock) -> Held {
        let now = clock.monotonic()
        let remaining = max(0, clock.wall().seconds(until: body.expire))
        return Held(
            token: body.token, expire: body.expire, receivedAt: now,
            validUntil: now + .nanoseconds(Int64(remaining * 1e9)), renewed: renewed)
    }
}
