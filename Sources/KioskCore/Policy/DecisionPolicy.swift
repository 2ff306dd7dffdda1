// DecisionPolicy: turns a check-in outcome into the door's decision (status, similarity, offline, schedule).
package import Foundation

/// What the server (or its absence) said about one check-in, reduced to what the door needs.
/// Built from the API client's answer by the pipeline; the policy never sees HTTP.
package enum CheckInOutcome: Sendable, Equatable {
    /// 200: a user matched.
    case matched(userID: Int, status: String, similarity: Double)
    /// 404: nobody enrolled matched the face.
    case noMatch
    /// 409: the input was valid but the conditions (group, properties, user state) ruled it out.
    case conditionsNotMet(message: String?)
    /// 400 or 403: the request itself is wrong for this server (a configuration problem).
    case rejected(status: Int, message: String?)
    /// 401 even after renewing the token: the credentials are wrong or revoked.
    case unauthorized(message: String?)
    /// Network error, timeout, 5xx or 429: the server could not decide, and did not get the
    /// check-in (or refused it), so sending it again later cannot duplicate it.
    case unreachable(reason: String)
    /// The whole check-in went out and no answer came (timeout or connection lost after the
    /// upload): the server could not decide in time, and it may have recorded the check-in.
    /// The door decides as for ``unreachable(reason:)``; the recorder queues it only as
    /// `outbox.ambiguous` allows, so it is posted at most once more.
    case unanswered(reason: String)
    /// TLS failed (certificate untrusted, expired, wrong host name): whoever answers may not be
    /// the server, so this is a fault, never "offline": the door stays shut whatever
    /// `policy.offline` says. Nothing was sent, so it may be queued.
    case untrustedServer(reason: String)
    /// The server took the check-in (2xx) but its answer does not match the contract: it is
    /// recorded there, so it is never sent again; the door cannot tell who it was and stays shut.
    case acceptedUnreadable(status: Int, detail: String)
}

/// The door's answer to one person.
package struct Decision: Sendable, Equatable {
    package enum Reason: String, Sendable, Equatable {
        case granted
        /// Opened because the server could not answer and the policy is fail-open.
        case grantedOffline = "granted_offline"
        case noMatch = "no_match"
        case conditionsNotMet = "conditions_not_met"
        case statusNotAllowed = "status_not_allowed"
        case similarityTooLow = "similarity_too_low"
        case outsideSchedule = "outside_schedule"
        /// Shut because the server could not answer and the policy is fail-secure.
        case offline
        case serverRejected = "server_rejected"
        /// TLS failed: the server could not be trusted (fault; fail-secure whatever the policy).
        case untrustedServer = "untrusted_server"
        /// The server answered 2xx in a form the contract does not describe (fault).
        case unreadableAnswer = "unreadable_answer"
        case unauthorized
        case onePersonAtATime = "one_person_at_a_time"
    }

    package var granted: Bool
    package var reason: Reason
    /// A sentence for the journal and logs (never the image, never a token).
    package var detail: String
    package var userID: Int?
    package var similarity: Double?
    /// The check-in should go to the offline queue for later delivery.
    package var queueForLater: Bool
    /// The terminal itself needs attention (credentials, configuration, server down).
    package var fault: Bool

    package init(
        granted: Bool, reason: Reason, detail: String, userID: Int? = nil, similarity: Double? = nil,
        queueForLater: Bool = false, fault: Bool = false
    ) {
        self.granted = granted
        self.reason = reason
        self.detail = detail
        self.userID = userID
        self.similarity = similarity
        self.queueForLater = queueForLater
        self.fault = fault
    }
}

/// Turns an outcome into a decision: allowed statuses, minimum similarity, offline policy and
/// the weekly schedule, all from configuration. Pure, so every rule is tested directly.
package struct DecisionPolicy: Sendable {
    package var settings: PolicySettings
    package var schedule: WeeklySchedule

    package init(settings: PolicySettings, schedule: WeeklySchedule) {
        self.settings = settings
        self.schedule = schedule
    }

    /// Builds the policy from configuration; the schedule entries were validated at load time.
    package init(settings: PolicySettings, timeZone: TimeZone = .current) throws(WeeklySchedule.ScheduleError) {
        self.settings = settings
        self.schedule = try WeeklySchedule(settings.schedule, timeZone: timeZone)
    }

    package func decide(_ outcome: CheckInOutcome, at date: Date) -> Decision {
        let inSchedule = schedule.allows(date)
        switch outcome {
        case .matched(let userID, let status, let similarity):
            if !settings.allowedStatuses.contains(status) {
                return Decision(
                    granted: false, reason: .statusNotAllowed,
                    detail: "user \(userID) has status \(status), allowed: \(settings.allowedStatuses.joined(separator: ", "))",
                    userID: userID, similarity: similarity)
            }
            if similarity < settings.minSimilarity {
                return Decision(
                    granted: false, reason: .similarityTooLow,
                    detail: "similarity \(Self.percent(similarity)) below the minimum \(Self.percent(settings.minSimilarity))",
                    userID: userID, similarity: similarity)
            }
            if !inSchedule {
                return Decision(
                    granted: false, reason: .outsideSchedule,
                    detail: "user \(userID) recognised outside the opening schedule", userID: userID, similarity: similarity)
            }
            return Decision(
                granted: true, reason: .granted,
                detail: "user \(userID) (\(status)) at \(Self.percent(similarity))", userID: userID, similarity: similarity)
        case .noMatch:
            return Decision(granted: false, reason: .noMatch, detail: "no enrolled face matched")
        case .conditionsNotMet(let message):
            return Decision(granted: false, reason: .conditionsNotMet, detail: message ?? "conditions not met")
        case .rejected(let status, let message):
            return Decision(
                granted: false, reason: .serverRejected,
                detail: "server refused the request (\(status)): \(message ?? "no message"); check api.project_id and api.condition",
                fault: true)
        case .unauthorized(let message):
            return Decision(
                granted: false, reason: .unauthorized,
                detail: "credentials refused: \(message ?? "401"); check api.credentials_file", fault: true)
        case .untrustedServer(let reason):
            return Decision(
                granted: false, reason: .untrustedServer,
                detail:
                    "TLS with the server failed (\(reason)); the door stays shut whatever policy.offline says: check the server certificate, api.ca_file and the device clock",
                queueForLater: settings.queueOffline, fault: true)
        case .acceptedUnreadable(let status, let detail):
            return Decision(
                granted: false, reason: .unreadableAnswer,
                detail:
                    "the server took the check-in (HTTP \(status)) but its answer does not match the API contract (\(detail)); not sent again: check api.url and the server's version",
                fault: true)
        case .unreachable(let reason), .unanswered(let reason):
            let queue = settings.queueOffline
            if settings.offline == .failOpen, inSchedule {
                return Decision(
                    granted: true, reason: .grantedOffline,
                    detail: "server unreachable (\(reason)); fail-open policy", queueForLater: queue, fault: true)
            }
            return Decision(
                granted: false, reason: .offline,
                detail: "server unreachable (\(reason)); fail-secure policy", queueForLater: queue, fault: true)
        }
    }

    static func percent(_ value: Double) -> String {
        String(format: "%.1f%%", value)
    }
}
