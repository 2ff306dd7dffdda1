// SimulatorAPI: the contract's 16 operations (generated `APIProtocol`) over the store and the
// face engine. Errors are thrown as `SimulatorAPIError` and rendered as the contract's
// `Error` body by `ErrorMiddleware`, so each handler only describes its success.
import AiDeeAPI
import Foundation
import Logging
import OpenAPIRuntime

/// An API answer other than success: the HTTP status and the `message` of the `Error` body.
package struct SimulatorAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    package var status: Int
    package var message: String

    package init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    package var description: String { "\(status): \(message)" }

    static func badRequest(_ m: String) -> Self { .init(400, m) }
    static func unauthorized(_ m: String) -> Self { .init(401, m) }
    static func forbidden(_ m: String) -> Self { .init(403, m) }
    static func notFound(_ m: String) -> Self { .init(404, m) }
    static func conflict(_ m: String) -> Self { .init(409, m) }
}

/// The match threshold for check-in `option` (the contract's table): 1 → 70 %, 2 → 75 %,
/// 3 → 80 % (default), 4 → 85 %, 5 → 90 %.
package enum MatchOption {
    package static let defaultOption = 3
    package static func threshold(for option: Int) -> Double? {
        (1...5).contains(option) ? 65 + 5 * Double(option) : nil
    }
}

/// Implements the generated `APIProtocol`.
struct SimulatorAPI: APIProtocol {
    let store: SimulatorStore
    let engine: FaceEngine
    let tokenTTL: TimeInterval
    let maxUsersPerProject: Int
    let logger: Logger

    // MARK: Helpers

    private func now() -> (Date, AiDeeTimestamp) {
        let t = AiDeeTimestamp.now()
        return (t.date, t)
    }

    private func timestamp(_ date: Date) -> AiDeeTimestamp { AiDeeTimestamp(date) }

    /// The account behind a valid token, or 401.
    private func account(_ token: String) async throws -> String {
        guard let user = try await store.account(forToken: token) else {
            throw SimulatorAPIError.unauthorized("the token is unknown, expired or revoked: issue a new one with POST /auth/token")
        }
        return user
    }

    /// The account, after checking it may use `projectID` (401, then 403).
    @discardableResult
    private func authorize(_ token: String, project projectID: Int) async throws -> String {
        let user = try await account(token)
        guard try await store.projects(for: user).contains(where: { $0.id == projectID }) else {
            throw SimulatorAPIError.forbidden("account '\(user)' has no permission for project \(projectID)")
        }
        return user
    }

    private func existingUser(_ projectID: Int, _ userID: Int) async throws -> SimulatorUser {
        guard let user = try await store.user(projectID: projectID, userID: userID) else {
            throw SimulatorAPIError.notFound("user \(userID) not found in project \(projectID)")
        }
        return user
    }

    private static func propertiesJSON(_ p: Components.Schemas.Properties?) -> String? {
        guard let p else { return nil }
        guard let data = try? JSONSerialization.data(withJSONObject: p.additionalProperties, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    private static func properties(_ json: String) -> [String: String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String] else { return [:] }
        return object
    }

    private func descriptor(_ image: OpenAPIRuntime.Base64EncodedData, enrol: Bool) async throws -> FaceDescriptor {
        guard !image.data.isEmpty else { throw SimulatorAPIError.badRequest("image is empty") }
        do {
            return try await engine.descriptor(ofImage: Array(image.data), requireSingleFace: enrol)
        } catch let failure as FaceEngineFailure {
            switch failure {
            case .badImage(let m): throw SimulatorAPIError.badRequest(m)
            case .noFace(let m): throw SimulatorAPIError.conflict(m)
            }
        }
    }

    /// Whether a user satisfies a check-in/search `condition` (every field present must hold).
    static func satisfies(_ user: SimulatorUser, _ condition: Components.Schemas.Condition?) -> Bool {
        guard let condition else { return true }
        if let group = condition.groupId, user.groupID != group { return false }
        if let wanted = condition.properties?.additionalProperties, !wanted.isEmpty {
            let have = properties(user.propertiesJSON)
            for (key, value) in wanted where have[key] != value { return false }
        }
        return true
    }

    /// The closest enrolled face overall and among the users satisfying `condition`.
    private func bestMatches(projectID: Int, probe: FaceDescriptor, condition: Components.Schemas.Condition?) async throws
        -> (overall: (SimulatorFace, SimulatorUser, Double)?, allowed: (SimulatorFace, SimulatorUser, Double)?)
    {
        var overall: (SimulatorFace, SimulatorUser, Double)?
        var allowed: (SimulatorFace, SimulatorUser, Double)?
        for (face, user) in try await store.candidates(projectID: projectID) {
            let d = probe.distance(to: face.descriptor)
            if overall.map({ d < $0.2 }) ?? true { overall = (face, user, d) }
            if Self.satisfies(user, condition), allowed.map({ d < $0.2 }) ?? true { allowed = (face, user, d) }
        }
        return (overall, allowed)
    }

    // MARK: Auth

    func issueKey(_ input: Operations.IssueKey.Input) async throws -> Operations.IssueKey.Output {
        guard case .json(let body) = input.body else { throw SimulatorAPIError.badRequest("expected a JSON body") }
        guard !body.username.isEmpty, !body.password.isEmpty else {
            throw SimulatorAPIError.badRequest("username and password must not be empty")
        }
        switch try await store.issueKey(username: body.username, password: body.password) {
        case .issued(let key, let secret):
            logger.info("issued an API key", metadata: ["sim.account": "\(body.username)"])
            return .created(.init(body: .json(.init(key: key, secret: secret))))
        case .badCredentials:
            throw SimulatorAPIError.unauthorized("wrong username or password")
        case .notAllowed:
            throw SimulatorAPIError.forbidden("account '\(body.username)' is not allowed to issue API keys")
        }
    }

    func issueToken(_ input: Operations.IssueToken.Input) async throws -> Operations.IssueToken.Output {
        guard case .json(let body) = input.body else { throw SimulatorAPIError.badRequest("expected a JSON body") }
        guard UUID(uuidString: body.key) != nil else { throw SimulatorAPIError.badRequest("key must be a UUID") }
        guard !body.secret.isEmpty else { throw SimulatorAPIError.badRequest("secret must not be empty") }
        guard let (token, expires) = try await store.issueToken(key: body.key, secret: body.secret, ttl: tokenTTL) else {
            throw SimulatorAPIError.unauthorized("unknown key or wrong secret")
        }
        return .created(.init(body: .json(.init(code: 200, expire: timestamp(expires), token: token))))
    }

    func renewToken(_ input: Operations.RenewToken.Input) async throws -> Operations.RenewToken.Output {
        guard let (token, expires) = try await store.renewToken(input.headers.xAPIToken, ttl: tokenTTL) else {
            throw SimulatorAPIError.unauthorized("the token is unknown, expired or revoked: issue a new one with POST /auth/token")
        }
        return .ok(.init(body: .json(.init(code: 200, expire: timestamp(expires), token: token))))
    }

    func revokeToken(_ input: Operations.RevokeToken.Input) async throws -> Operations.RevokeToken.Output {
        guard try await store.revokeToken(input.headers.xAPIToken) else {
            throw SimulatorAPIError.unauthorized("the token is unknown, expired or already revoked")
        }
        return .ok(.init(body: .json(.init(code: 200))))
    }

    // MARK: Projects

    func listProjects(_ input: Operations.ListProjects.Input) async throws -> Operations.ListProjects.Output {
        let user = try await account(input.headers.xAPIToken)
        let projects = try await store.projects(for: user).map { Components.Schemas.Project(id: $0.id, name: $0.name) }
        return .ok(.init(body: .json(projects)))
    }

    // MARK: Users

    func createUser(_ input: Operations.CreateUser.Input) async throws -> Operations.CreateUser.Output {
        let projectID = input.path.projectId
        try await authorize(input.headers.xAPIToken, project: projectID)
        guard case .json(let body) = input.body else { throw SimulatorAPIError.badRequest("expected a JSON body") }
        let status = body.status ?? SimulatorUserStatus.approved.rawValue
        guard SimulatorUserStatus(rawValue: status) != nil else {
            throw SimulatorAPIError.conflict(
                "status '\(status)' is not accepted: use one of \(SimulatorUserStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard try await store.userCount(projectID: projectID) < maxUsersPerProject else {
            throw SimulatorAPIError.conflict("project \(projectID) already has \(maxUsersPerProject) users, the simulator's limit")
        }
        let user = try await store.createUser(
            projectID: projectID, groupID: body.groupId, registrant: body.registrant ?? "USER", status: status,
            propertiesJSON: Self.propertiesJSON(body.properties) ?? "{}", now: now().0)
        return .created(.init(body: .json(.init(id: user.id, createdAt: timestamp(user.createdAt)))))
    }

    func updateUser(_ input: Operations.UpdateUser.Input) async throws -> Operations.UpdateUser.Output {
        let (projectID, userID) = (input.path.projectId, input.path.userId)
        try await authorize(input.headers.xAPIToken, project: projectID)
        guard case .json(let body) = input.body else { throw SimulatorAPIError.badRequest("expected a JSON body") }
        let existing = try await existingUser(projectID, userID)
        guard existing.status != SimulatorUserStatus.locked.rawValue else {
            throw SimulatorAPIError.conflict("user \(userID) is LOCKED and cannot be changed")
        }
        guard
            let user = try await store.updateUser(
                projectID: projectID, userID: userID, groupID: body.groupId.map { .some($0) },
                registrant: body.registrant.map { .some($0) },
                status: nil, propertiesJSON: Self.propertiesJSON(body.properties), now: now().0)
        else { throw SimulatorAPIError.notFound("user \(userID) not found in project \(projectID)") }
        return .ok(.init(body: .json(.init(id: user.id, updatedAt: timestamp(user.updatedAt)))))
    }

    func deleteUser(_ input: Operations.DeleteUser.Input) async throws -> Operations.DeleteUser.Output {
        let (projectID, userID) = (input.path.projectId, input.path.userId)
        try await authorize(input.headers.xAPIToken, project: projectID)
        let existing = try await existingUser(projectID, userID)
        guard existing.status != SimulatorUserStatus.locked.rawValue else {
            throw SimulatorAPIError.conflict("user \(userID) is LOCKED and cannot be deleted")
        }
        guard try await store.deleteUser(projectID: projectID, userID: userID) else {
            throw SimulatorAPIError.notFound("user \(userID) not found in project \(projectID)")
        }
        return .ok(.init(body: .json(.init(id: userID, deletedAt: now().1))))
    }

    // MARK: Faces

    func listFaces(_ input: Operations.ListFaces.Input) async throws -> Operations.ListFaces.Output {
        let (projectID, userID) = (input.path.projectId, input.path.userId)
        try await authorize(input.headers.xAPIToken, project: projectID)
        _ = try await existingUser(projectID, userID)
        let faces = try await store.faces(projectID: projectID, userID: userID).map {
            Components.Schemas.FaceSummary(
                id: $0.id, createdAt: timestamp($0.createdAt), updatedAt: timestamp($0.updatedAt), hasImage: $0.image != nil)
        }
        return .ok(.init(body: .json(faces)))
    }

    func addFace(_ input: Operations.AddFace.Input) async throws -> Operations.AddFace.Output {
        let (projectID, userID) = (input.path.projectId, input.path.userId)
        try await authorize(input.headers.xAPIToken, project: projectID)
        guard case .json(let body) = input.body else { throw SimulatorAPIError.badRequest("expected a JSON body") }
        _ = try await existingUser(projectID, userID)
        let descriptor = try await descriptor(body.image, enrol: true)
        let face = try await store.addFace(
            projectID: projectID, userID: userID, descriptor: descriptor,
            image: body.saveImage == true ? Array(body.image.data) : nil, now: now().0)
        return .created(.init(body: .json(.init(id: face.id, createdAt: timestamp(face.createdAt)))))
    }

    func deleteAllFaces(_ input: Operations.DeleteAllFaces.Input) async throws -> Operations.DeleteAllFaces.Output {
        let (projectID, userID) = (input.path.projectId, input.path.userId)
        try await authorize(input.headers.xAPIToken, project: projectID)
        _ = try await existingUser(projectID, userID)
        _ = try await store.deleteAllFaces(projectID: projectID, userID: userID)
        return .ok(.init(body: .json(.init(userId: userID, deletedAt: now().1))))
    }

    func getFace(_ input: Operations.GetFace.Input) async throws -> Operations.GetFace.Output {
        let (projectID, userID, faceID) = (input.path.projectId, input.path.userId, input.path.faceId)
        try await authorize(input.headers.xAPIToken, project: projectID)
        guard let face = try await store.face(projectID: projectID, userID: userID, faceID: faceID) else {
            throw SimulatorAPIError.notFound("face \(faceID) of user \(userID) not found in project \(projectID)")
        }
        return .ok(
            .init(
                body: .json(
                    .init(
                        id: face.id, image: face.image.map { .init($0) }, createdAt: timestamp(face.createdAt),
                        updatedAt: timestamp(face.updatedAt)))))
    }

    func updateFace(_ input: Operations.UpdateFace.Input) async throws -> Operations.UpdateFace.Output {
        let (projectID, userID, faceID) = (input.path.projectId, input.path.userId, input.path.faceId)
        try await authorize(input.headers.xAPIToken, project: projectID)
        guard case .json(let body) = input.body else { throw SimulatorAPIError.badRequest("expected a JSON body") }
        guard try await store.face(projectID: projectID, userID: userID, faceID: faceID) != nil else {
            throw SimulatorAPIError.notFound("face \(faceID) of user \(userID) not found in project \(projectID)")
        }
        let descriptor = try await descriptor(body.image, enrol: true)
        guard
            let face = try await store.replaceFace(
                projectID: projectID, userID: userID, faceID: faceID, descriptor: descriptor,
                image: body.saveImage == true ? Array(body.image.data) : nil, now: now().0)
        else { throw SimulatorAPIError.notFound("face \(faceID) of user \(userID) not found in project \(projectID)") }
        return .ok(.init(body: .json(.init(id: face.id, updatedAt: timestamp(face.updatedAt)))))
    }

    func deleteFace(_ input: Operations.DeleteFace.Input) async throws -> Operations.DeleteFace.Output {
        let (projectID, userID, faceID) = (input.path.projectId, input.path.userId, input.path.faceId)
        try await authorize(input.headers.xAPIToken, project: projectID)
        guard try await store.deleteFace(projectID: projectID, userID: userID, faceID: faceID) else {
            throw SimulatorAPIError.notFound("face \(faceID) of user \(userID) not found in project \(projectID)")
        }
        return .ok(.init(body: .json(.init(id: faceID, deletedAt: now().1))))
    }

    // MARK: Recognition

    func checkIn(_ input: Operations.CheckIn.Input) async throws -> Operations.CheckIn.Output {
        let projectID = input.path.projectId
        try await authorize(input.headers.xAPIToken, project: projectID)
        guard case .json(let body) = input.body else { throw SimulatorAPIError.badRequest("expected a JSON body") }
        let option = body.option ?? MatchOption.defaultOption
        guard let threshold = MatchOption.threshold(for: option) else {
            throw SimulatorAPIError.badRequest("option must be 1...5 (match strictness), got \(option)")
        }
        let probe = try await descriptor(body.image, enrol: false)
        let (overall, allowed) = try await bestMatches(projectID: projectID, probe: probe, condition: body.condition)
        if let (face, user, d) = allowed, FaceSimilarity.percentage(forDistance: d) >= threshold {
            let similarity = FaceSimilarity.percentage(forDistance: d)
            let (date, stamp) = now()
            try await store.recordCheckIn(projectID: projectID, userID: user.id, faceID: face.id, similarity: similarity, at: date)
            logger.info("check-in", metadata: ["sim.project": "\(projectID)", "sim.user": "\(user.id)", "sim.similarity": "\(similarity)"])
            return .ok(.init(body: .json(.init(userId: user.id, status: user.status, similarity: similarity, checkinAt: stamp))))
        }
        if let (_, user, d) = overall, FaceSimilarity.percentage(forDistance: d) >= threshold {
            throw SimulatorAPIError.conflict("the face matches user \(user.id), who does not satisfy the condition")
        }
        let best = overall.map { String(FaceSimilarity.percentage(forDistance: $0.2)) } ?? "none"
        throw SimulatorAPIError.notFound("no registered user matched (best similarity \(best), threshold \(threshold))")
    }

    func search(_ input: Operations.Search.Input) async throws -> Operations.Search.Output {
        let projectID = input.path.projectId
        try await authorize(input.headers.xAPIToken, project: projectID)
        guard case .json(let body) = input.body else { throw SimulatorAPIError.badRequest("expected a JSON body") }
        let probe = try await descriptor(body.image, enrol: false)
        let (_, allowed) = try await bestMatches(projectID: projectID, probe: probe, condition: body.condition)
        guard let (_, user, d) = allowed else {
            throw SimulatorAPIError.notFound("no registered user found: no enrolled face satisfies the condition")
        }
        let similarity = FaceSimilarity.percentage(forDistance: d)
        let threshold = MatchOption.threshold(for: MatchOption.defaultOption) ?? 80
        return .ok(
            .init(body: .json(.init(userId: user.id, matched: similarity >= threshold, similarity: similarity, searchedAt: now().1))))
    }
}
