// CheckInGateway: the pipeline's seam to the server; FaceAiDeeGateway maps API answers onto door outcomes.
import AiDeeAPI
package import FaceAiDee
package import Foundation
package import Outbox

/// One check-in as the pipeline asks for it: the face and the condition and option in force
/// when it was chosen (reloaded on SIGHUP), the same ones a queued copy of it carries.
package struct CheckInRequest: Sendable, Equatable {
    package var jpeg: [UInt8]
    /// `api.condition` as JSON object text; empty for none.
    package var conditionJSON: String
    /// `api.option`.
    package var option: Int?

    package init(jpeg: [UInt8], conditionJSON: String = "", option: Int? = nil) {
        self.jpeg = jpeg
        self.conditionJSON = conditionJSON
        self.option = option
    }
}

/// The pipeline's seam to the recognition server: one check-in in, one outcome out. The real
/// one is ``FaceAiDeeGateway``; the whole-path tests use it too, against `aidee-sim`.
package protocol CheckInGateway: Sendable {
    func checkIn(_ request: CheckInRequest) async -> CheckInOutcome
    /// When the current API token expires, for status.
    func tokenExpiry() async -> Date?
    /// Gets or renews the API token ahead of need, so a check-in never waits for one. Failures
    /// only show in status; the next check-in tries again.
    func refreshToken() async
    /// Revokes the token at shutdown.
    func shutdown() async
}

extension CheckInGateway {
    /// Servers without tokens (stand-ins) have nothing to refresh.
    package func refreshToken() async {}
}

/// ``CheckInGateway`` and ``OutboxSender`` over the Face AiDee client: maps the API's answers
/// and failures onto door outcomes and queue dispositions, in one place.
package struct FaceAiDeeGateway: CheckInGateway, OutboxSender {
    package let client: FaceAiDeeClient
    package let projectID: Int
    package let condition: CheckInCondition
    package let option: Int?

    package init(client: FaceAiDeeClient, projectID: Int, condition: CheckInCondition, option: Int?) {
        self.client = client
        self.projectID = projectID
        self.condition = condition
        self.option = option
    }

    /// Parses the configured condition text (validated at load time) into the client's type.
    package static func condition(fromJSON text: String) throws -> CheckInCondition {
        guard !text.isEmpty else { return CheckInCondition() }
        return try JSONDecoder().decode(CheckInCondition.self, from: Data(text.utf8))
    }

    package func checkIn(_ request: CheckInRequest) async -> CheckInOutcome {
        let condition: CheckInCondition
        do {
            condition = try Self.condition(fromJSON: request.conditionJSON)
        } catch {
            // Validated when the configuration was loaded; reaching this is a bug, said loudly.
            return .rejected(status: 0, message: "api.condition is not a valid condition object: \(error)")
        }
        do {
            let result = try await client.checkIn(
                projectID: projectID, jpeg: request.jpeg, condition: condition,
                option: request.option)
            return .matched(userID: result.userID, status: result.status, similarity: result.similarity)
        } catch {
            return Self.outcome(of: error)
        }
    }

    /// A check-in with the condition and option this gateway was built with (tools, tests).
    package func checkIn(jpeg: [UInt8]) async -> CheckInOutcome {
        do {
            let result = try await client.checkIn(projectID: projectID, jpeg: jpeg, condition: condition, option: option)
            return .matched(userID: result.userID, status: result.status, similarity: result.similarity)
        } catch {
            return Self.outcome(of: error)
        }
    }

    package func refreshToken() async {
        guard let session = client.session else { return }
        _ = try? await session.token()
    }

    package func tokenExpiry() async -> Date? {
        await client.tokenExpiry?.date
    }

    package func shutdown() async {
        await client.shutdown()
    }

    /// How a failed call reads at the door.
    static func outcome(of error: FaceAiDeeError) -> CheckInOutcome {
        if case .http(_, let status, let message) = error {
            switch status {
            case 404: return .noMatch
            case 409: return .conditionsNotMet(message: message)
            case 401: return .unauthorized(message: message)
            case 400, 403: return .rejected(status: status, message: message)
            default: break
            }
        }
        switch error.disposition {
        case .retryable:
            // TLS is retryable for the queue (a clock not yet set heals), but at the door it is
            // a fault: whoever answered could not prove to be the server.
            if case .tls(_, _, let message) = error { return .untrustedServer(reason: message) }
            return .unreachable(reason: Self.shortReason(error))
        case .ambiguous: return .unanswered(reason: Self.shortReason(error))
        case .accepted:
            if case .undecodableBody(_, let status, let detail) = error { return .acceptedUnreadable(status: status, detail: detail) }
            return .acceptedUnreadable(status: error.httpStatus ?? 200, detail: error.description)
        case .authentication: return .unauthorized(message: error.description)
        case .final: return .rejected(status: error.httpStatus ?? 0, message: error.description)
        }
    }

    static func shortReason(_ error: FaceAiDeeError) -> String {
        switch error {
        case .network(_, _, let message): "network: \(message)"
        case .timeout(_, _, let seconds): "no answer within \(seconds) s"
        case .noAnswer(_, _, let message): "no answer: \(message)"
        case .tls(_, _, let message): "TLS: \(message)"
        case .http(_, let status, _): "HTTP \(status)"
        case .undecodableBody(_, let status, _): "unreadable answer (HTTP \(status))"
        case .cancelled: "cancelled"
        case .configuration(let message), .credentials(_, let message): message
        }
    }

    // MARK: OutboxSender

    package func deliver(_ delivery: OutboxDelivery) async -> DeliveryResult {
        let payload = delivery.payload
        let condition = (try? Self.condition(fromJSON: payload.conditionJSON)) ?? self.condition
        let option = Int(payload.option) ?? self.option
        do {
            let result = try await client.checkIn(projectID: projectID, jpeg: payload.jpeg, condition: condition, option: option)
            return .delivered(
                DeliveredOutcome(
                    status: 200, userID: String(result.userID), similarity: result.similarity,
                    summary: "checked in late as user \(result.userID) (\(result.status))"))
        } catch {
            switch error.disposition {
            case .retryable: return .retryable(reason: Self.shortReason(error))
            case .ambiguous: return .ambiguous(reason: Self.shortReason(error))
            case .accepted:
                // Taken by the server: a delivery, whose answer is kept for the technician.
                return .delivered(
                    DeliveredOutcome(
                        status: error.httpStatus ?? 200,
                        summary: "contract warning: accepted, but the answer does not match the API contract: \(error.description)"))
            case .authentication: return .authentication(reason: error.description)
            case .final: return .final(status: error.httpStatus ?? 0, reason: error.description)
            }
        }
    }

    package func renewAuthentication() async throws {
        _ = try await client.issueToken()
    }
}
