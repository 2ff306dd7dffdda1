// FaceAiDeeClient: the Face AiDee API as the daemon and kioskctl use it.

package import AiDeeAPI
import Foundation
import HTTPTypes
import OpenAPIRuntime

/// The contract's types the client's API uses, under names that say where they come from.
package typealias AiDeeProject = Components.Schemas.Project
/// Fields of a new user (all optional; see the contract).
package typealias AiDeeNewUser = Components.Schemas.UserCreateRequest
/// Fields to change on a user (only those present change).
package typealias AiDeeUserUpdate = Components.Schemas.UserUpdateRequest
/// A user's free key/value properties.
package typealias AiDeeProperties = Components.Schemas.Properties
/// One face in a user's face list.
package typealias AiDeeFaceSummary = Components.Schemas.FaceSummary

/// Which users a check-in or search may match (contract schema `Condition`): every field set
/// must hold; an empty condition allows every user of the project.
package struct CheckInCondition: Sendable, Hashable, Codable {
    /// Only users of this group.
    package var groupID: Int?
    /// Only users whose properties hold each of these key/value pairs.
    package var properties: [String: String]

    /// Creates a condition; the default allows everyone.
    package init(groupID: Int? = nil, properties: [String: String] = [:]) {
        self.groupID = groupID
        self.properties = properties
    }

    /// True when the condition allows every user.
    package var isEmpty: Bool { groupID == nil && properties.isEmpty }

    var wire: Components.Schemas.Condition {
        Components.Schemas.Condition(
            groupId: groupID, properties: properties.isEmpty ? nil : .init(additionalProperties: properties))
    }

    enum CodingKeys: String, CodingKey {
        case groupID = "group_id"
        case properties
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        groupID = try container.decodeIfPresent(Int.self, forKey: .groupID)
        properties = try container.decodeIfPresent([String: String].self, forKey: .properties) ?? [:]
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(groupID, forKey: .groupID)
        if !properties.isEmpty { try container.encode(properties, forKey: .properties) }
    }
}

/// The answer to a successful check-in (200).
package struct CheckInResult: Sendable, Hashable {
    /// The matched user.
    package var userID: Int
    /// The user's status as the server reports it (e.g. `APPROVED`); the caller decides what it allows.
    package var status: String
    /// Similarity of the face to the matched enrolment, in percent (0–100).
    package var similarity: Double
    /// When the server recorded the check-in.
    package var checkedInAt: AiDeeTimestamp
}

/// The answer to a search (200).
package struct SearchResult: Sendable, Hashable {
    /// The closest candidate user.
    package var userID: Int
    /// True when the similarity reaches the server's default threshold.
    package var matched: Bool
    /// Similarity in percent (0–100).
    package var similarity: Double
    /// When the server ran the search.
    package var searchedAt: AiDeeTimestamp
}

/// A stored face (`getFace`).
package struct AiDeeFace: Sendable, Hashable {
    /// The face id.
    package var id: Int
    /// The image file as uploaded, when it was saved (`saveImage`); nil otherwise.
    package var image: [UInt8]?
    /// When the face was added.
    package var createdAt: AiDeeTimestamp
    /// When the face was last replaced, if ever.
    package var updatedAt: AiDeeTimestamp?
}

/// The id a change applied to and when (create, update, delete answers).
package struct AiDeeChange: Sendable, Hashable {
    /// The user or face id.
    package var id: Int
    /// The server's time of the change.
    package var at: AiDeeTimestamp
}

/// The Face AiDee API client: the generated client over ``CurlTransport``, with a
/// ``TokenSession`` supplying `X-API-Token`.
///
/// Every call that needs a token gets one from the session; when the server answers 401 the
/// session forgets that token and the call is retried once with a new one. Errors are always
/// ``FaceAiDeeError``.
package final class FaceAiDeeClient: Sendable {
    /// The settings the client was made with.
    package let configuration: FaceAiDeeConfiguration
    /// The token session, or nil when the client has no credentials (only ``issueKey(username:password:)`` works then).
    package let session: TokenSession?
    private let client: Client

    /// Creates a client. Nothing is sent until the first call.
    /// - Parameters:
    ///   - configuration: where the server is and how to reach it.
    ///   - credentials: the API key and secret; nil allows only ``issueKey(username:password:)``.
    /// - Parameter tokenClock: where the token session reads time (tests advance a manual one).
    package init(
        configuration: FaceAiDeeConfiguration, credentials: APICredentials?,
        tokenClock: TokenSession.Clock = .system
    ) throws(FaceAiDeeError) {
        self.configuration = configuration
        let serverURL = try Self.serverURL(configuration.baseURL)
        if let caFile = configuration.caFile, access(caFile, R_OK) != 0 {
            throw .configuration("CA file \(caFile) is not readable; fix the path or unset it to use the system store")
        }
        let client = Client(
            serverURL: serverURL, configuration: .aiDee,
            transport: CurlTransport(options: configuration.transportOptions),
            middlewares: [ErrorBodyMiddleware()])
        self.client = client
        self.session = credentials.map {
            TokenSession(client: client, credentials: $0, renewalMargin: configuration.renewalMargin, clock: tokenClock)
        }
    }

    /// The server root plus `/api/v1` (unless already there).
    static func serverURL(_ base: String) throws(FaceAiDeeError) -> URL {
        var text = base.trimmingCharacters(in: .whitespaces)
        while text.hasSuffix("/") { text.removeLast() }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            url.host != nil
        else {
            throw .configuration("server URL '\(base)' is not an http(s) URL like https://api.example.com or http://127.0.0.1:8080")
        }
        if text.hasSuffix(AiDeeAPIDocument.basePath) { return url }
        guard let full = URL(string: text + AiDeeAPIDocument.basePath) else {
            throw .configuration("server URL '\(base)' cannot take the API path \(AiDeeAPIDocument.basePath)")
        }
        return full
    }

    /// The held token's expiry as the server wrote it, or nil when none is held.
    package var tokenExpiry: AiDeeTimestamp? {
        get async { await session?.expiry }
    }

    /// Revokes the token (`DELETE /auth/token`) if one is held. Failures are returned, not thrown:
    /// at shutdown there is nothing better to do than report them.
    @discardableResult
    package func shutdown() async -> FaceAiDeeError? {
        do {
            try await session?.revoke()
            return nil
        } catch {
            return error
        }
    }

    // MARK: Auth

    /// Issues a new API key for an account (`POST /auth/key`). Needs no credentials.
    package func issueKey(username: String, password: String) async throws(FaceAiDeeError) -> APICredentials {
        try await call("issueKey") {
            let body = try await client.issueKey(body: .json(.init(username: username, password: password)))
                .created.body.json
            return APICredentials(key: body.key, secret: body.secret)
        }
    }

    /// Issues a new token now (`POST /auth/token`); returns its expiry.
    @discardableResult
    package func issueToken() async throws(FaceAiDeeError) -> AiDeeTimestamp {
        try await requireSession().issue()
    }

    /// Renews the token now (`PATCH /auth/token`); returns the new expiry.
    @discardableResult
    package func renewToken() async throws(FaceAiDeeError) -> AiDeeTimestamp {
        try await requireSession().renew()
    }

    /// Revokes the held token (`DELETE /auth/token`).
    package func revokeToken() async throws(FaceAiDeeError) {
        try await requireSession().revoke()
    }

    // MARK: Projects and users

    /// The projects this key may use (`GET /projects`).
    package func listProjects() async throws(FaceAiDeeError) -> [AiDeeProject] {
        try await authorized("listProjects") { client, token in
            try await client.listProjects(headers: .init(xAPIToken: token)).ok.body.json
        }
    }

    /// Creates a user (`POST /projects/{project_id}/users`).
    package func createUser(projectID: Int, _ user: AiDeeNewUser) async throws(FaceAiDeeError) -> AiDeeChange {
        try await authorized("createUser") { client, token in
            let body = try await client.createUser(
                path: .init(projectId: projectID), headers: .init(xAPIToken: token), body: .json(user)
            ).created.body.json
            return AiDeeChange(id: body.id, at: body.createdAt)
        }
    }

    /// Updates a user (`PATCH /projects/{project_id}/users/{user_id}`).
    package func updateUser(projectID: Int, userID: Int, _ update: AiDeeUserUpdate) async throws(FaceAiDeeError) -> AiDeeChange {
        try await authorized("updateUser") { client, token in
            let body = try await client.updateUser(
                path: .init(projectId: projectID, userId: userID), headers: .init(xAPIToken: token), body: .json(update)
            ).ok.body.json
            return AiDeeChange(id: body.id, at: body.updatedAt)
        }
    }

    /// Deletes a user and their faces (`DELETE /projects/{project_id}/users/{user_id}`).
    package func deleteUser(projectID: Int, userID: Int) async throws(FaceAiDeeError) -> AiDeeChange {
        try await authorized("deleteUser") { client, token in
            let body = try await client.deleteUser(
                path: .init(projectId: projectID, userId: userID), headers: .init(xAPIToken: token)
            ).ok.body.json
            return AiDeeChange(id: body.id, at: body.deletedAt)
        }
    }

    // MARK: Faces

    /// A user's faces (`GET .../users/{user_id}/faces`).
    package func listFaces(projectID: Int, userID: Int) async throws(FaceAiDeeError) -> [AiDeeFaceSummary] {
        try await authorized("listFaces") { client, token in
            try await client.listFaces(
                path: .init(projectId: projectID, userId: userID), headers: .init(xAPIToken: token)
            ).ok.body.json
        }
    }

    /// Deletes all of a user's faces (`DELETE .../users/{user_id}/faces`).
    package func deleteAllFaces(projectID: Int, userID: Int) async throws(FaceAiDeeError) -> AiDeeChange {
        try await authorized("deleteAllFaces") { client, token in
            let body = try await client.deleteAllFaces(
                path: .init(projectId: projectID, userId: userID), headers: .init(xAPIToken: token)
            ).ok.body.json
            return AiDeeChange(id: body.userId, at: body.deletedAt)
        }
    }

    /// Adds a face from a JPEG or PNG file's bytes, sent as-is (`POST .../faces`).
    package func addFace(projectID: Int, userID: Int, image: [UInt8], saveImage: Bool = false) async throws(FaceAiDeeError) -> AiDeeChange {
        try await authorized("addFace") { client, token in
            let body = try await client.addFace(
                path: .init(projectId: projectID, userId: userID), headers: .init(xAPIToken: token),
                body: .json(.init(saveImage: saveImage, image: Base64EncodedData(image)))
            ).created.body.json
            return AiDeeChange(id: body.id, at: body.createdAt)
        }
    }

    /// A stored face (`GET .../faces/{face_id}`).
    package func getFace(projectID: Int, userID: Int, faceID: Int) async throws(FaceAiDeeError) -> AiDeeFace {
        try await authorized("getFace") { client, token in
            let body = try await client.getFace(
                path: .init(projectId: projectID, userId: userID, faceId: faceID), headers: .init(xAPIToken: token)
            ).ok.body.json
            return AiDeeFace(
                id: body.id, image: body.image.map { Array($0.data) }, createdAt: body.createdAt,
                updatedAt: body.updatedAt)
        }
    }

    /// Replaces a face's image (`PATCH .../faces/{face_id}`).
    package func updateFace(projectID: Int, userID: Int, faceID: Int, image: [UInt8], saveImage: Bool = false) async throws(FaceAiDeeError)
        -> AiDeeChange
    {
        try await authorized("updateFace") { client, token in
            let body = try await client.updateFace(
                path: .init(projectId: projectID, userId: userID, faceId: faceID), headers: .init(xAPIToken: token),
                body: .json(.init(saveImage: saveImage, image: Base64EncodedData(image)))
            ).ok.body.json
            return AiDeeChange(id: body.id, at: body.updatedAt)
        }
    }

    /// Deletes a face (`DELETE .../faces/{face_id}`).
    package func deleteFace(projectID: Int, userID: Int, faceID: Int) async throws(FaceAiDeeError) -> AiDeeChange {
        try await authorized("deleteFace") { client, token in
            let body = try await client.deleteFace(
                path: .init(projectId: projectID, userId: userID, faceId: faceID), headers: .init(xAPIToken: token)
            ).ok.body.json
            return AiDeeChange(id: body.id, at: body.deletedAt)
        }
    }

    // MARK: Recognition

    /// Checks a face in (`POST /projects/{project_id}/check-in`).
    /// - Parameters:
    ///   - projectID: the project.
    ///   - jpeg: the image file's bytes (JPEG, or PNG), sent as-is.
    ///   - condition: which users may match; empty allows all.
    ///   - option: match strictness 1–5 (contract: 70 %–90 %); nil leaves the server default (3, 80 %).
    /// - Throws: ``FaceAiDeeError``; 404 means no match, 409 a face without one or a user the
    ///   condition excludes.
    package func checkIn(
        projectID: Int, jpeg: [UInt8], condition: CheckInCondition = CheckInCondition(), option: Int? = nil
    ) async throws(FaceAiDeeError) -> CheckInResult {
        try await authorized("checkIn") { client, token in
            let request = Components.Schemas.CheckInRequest(
                condition: condition.isEmpty ? nil : condition.wire, option: option, image: Base64EncodedData(jpeg))
            let output = try await client.checkIn(
                path: .init(projectId: projectID), headers: .init(xAPIToken: token), body: .json(request))
            // Another 2xx than the contract's 200 still means the server took the check-in:
            // report it with its status, so it is not mistaken for a failure and sent again.
            if case .undocumented(let status, let payload) = output {
                var bytes: [UInt8] = []
                if let body = payload.body { bytes = (try? await [UInt8](collecting: body, upTo: 1 << 20)) ?? [] }
                throw FaceAiDeeError.undecodableBody(
                    operation: "checkIn", status: status,
                    detail: "status \(status) is not in the contract; the answer began: \(BodySnippet.quote(bytes))")
            }
            let body = try output.ok.body.json
            return CheckInResult(
                userID: body.userId, status: body.status, similarity: body.similarity, checkedInAt: body.checkinAt)
        }
    }

    /// Identifies a face without checking in (`POST /projects/{project_id}/_search`).
    package func search(
        projectID: Int, image: [UInt8], condition: CheckInCondition = CheckInCondition()
    ) async throws(FaceAiDeeError) -> SearchResult {
        try await authorized("search") { client, token in
            let request = Components.Schemas.SearchRequest(
                condition: condition.isEmpty ? nil : condition.wire, image: Base64EncodedData(image))
            let body = try await client.search(
                path: .init(projectId: projectID), headers: .init(xAPIToken: token), body: .json(request)
            ).ok.body.json
            return SearchResult(
                userID: body.userId, matched: body.matched, similarity: body.similarity, searchedAt: body.searchedAt)
        }
    }

    // MARK: Plumbing

    private func requireSession() throws(FaceAiDeeError) -> TokenSession {
        guard let session else {
            throw .configuration(
                "no API credentials: give a credentials file (--credentials or KIOSK_CREDENTIALS), made by `kioskctl api key issue --save FILE`"
            )
        }
        return session
    }

    /// Runs `body` with a token; after a 401 forgets the token and runs it once more with a new one.
    private func authorized<T: Sendable>(
        _ operation: String, _ body: (Client, String) async throws -> T
    ) async throws(FaceAiDeeError) -> T {
        let session = try requireSession()
        let token = try await session.token()
        do {
            return try await call(operation) { try await body(client, token) }
        } catch  where error.httpStatus == 401 {
            await session.tokenRejected(token)
            let fresh = try await session.token()
            return try await call(operation) { try await body(client, fresh) }
        }
    }

    /// Runs one generated-client call and maps whatever it throws to ``FaceAiDeeError``.
    private func call<T: Sendable>(_ operation: String, _ body: () async throws -> T) async throws(FaceAiDeeError) -> T {
        do {
            return try await body()
        } catch {
            throw await Self.mapErrorQuotingBody(error, operation: operation)
        }
    }

    /// ``mapError(_:operation:)``, plus the start of the body when a 2xx answer did not decode:
    /// a technician needs to see what the server sent (it is quoted safely, see ``BodySnippet``).
    static func mapErrorQuotingBody(_ error: any Error, operation: String) async -> FaceAiDeeError {
        let mapped = mapError(error, operation: operation)
        guard case .undecodableBody(let op, let status, let detail) = mapped,
            let clientError = error as? ClientError, let body = clientError.responseBody
        else { return mapped }
        // The transport's bodies are in memory and can be read again (HTTPBody from bytes).
        guard let bytes = try? await [UInt8](collecting: body, upTo: 32 << 20) else { return mapped }
        return .undecodableBody(operation: op, status: status, detail: "\(detail); the answer began: \(BodySnippet.quote(bytes))")
    }

    /// Unwraps the generated client's `ClientError` and classifies anything else.
    static func mapError(_ error: any Error, operation: String) -> FaceAiDeeError {
        if let error = error as? FaceAiDeeError { return error }
        if let clientError = error as? ClientError {
            if let inner = clientError.underlyingError as? FaceAiDeeError { return inner }
            if clientError.underlyingError is CancellationError { return .cancelled(operation: operation) }
            let status = clientError.response?.status.code ?? 0
            return .undecodableBody(
                operation: clientError.operationID, status: status,
                detail: "\(clientError.causeDescription): \(clientError.underlyingError)")
        }
        if error is CancellationError { return .cancelled(operation: operation) }
        // The generated outputs' `.ok`/`.created` accessors throw when the answer was another
        // documented case; the error middleware makes that impossible for non-2xx, so this is
        // a 2xx the contract does not list.
        return .undecodableBody(operation: operation, status: 0, detail: "\(error)")
    }
}
