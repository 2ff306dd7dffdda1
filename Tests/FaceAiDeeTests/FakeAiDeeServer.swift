// A small, fully controlled Face AiDee server for the transport and token tests: the generated
// server stubs on Hummingbird over loopback, with knobs the real simulator does not need
// (renewal latency, a one-shot 401, raw routes for timeouts and odd bodies).

import AiDeeAPI
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OpenAPIHummingbird
import OpenAPIRuntime

/// State and knobs of the fake server.
actor FakeAiDeeState {
    var ttlSeconds: Double = 3600
    var renewalDelay: Duration = .zero
    var issueDelay: Duration = .zero
    var rejectNextCall = false
    var failRenewals = false
    var tokens: [String: AiDeeTimestamp] = [:]
    var issued = 0
    var renewed = 0
    var revoked = 0
    var lastCheckInBody: Components.Schemas.CheckInRequest?
    var lastUserAgent: String?
    private var serial = 0

    func set(ttl: Double? = nil, renewalDelay: Duration? = nil, issueDelay: Duration? = nil) {
        if let ttl { ttlSeconds = ttl }
        if let renewalDelay { self.renewalDelay = renewalDelay }
        if let issueDelay { self.issueDelay = issueDelay }
    }
    func rejectNext() { rejectNextCall = true }
    func setFailRenewals(_ fail: Bool) { failRenewals = fail }

    func newToken() -> (String, AiDeeTimestamp) {
        serial += 1
        let token = "token-\(serial)"
        // Written with a +09:00 offset and nanoseconds, like the vendor's samples.
        let expire = AiDeeTimestamp.now(utcOffsetSeconds: 9 * 3600).adding(seconds: ttlSeconds)
        tokens[token] = expire
        return (token, expire)
    }

    func isValid(_ token: String) -> Bool {
        if rejectNextCall {
            rejectNextCall = false
            return false
        }
        guard let expire = tokens[token] else { return false }
        return AiDeeTimestamp.now() < expire
    }

    func noteIssued() { issued += 1 }
    func noteRenewed() { renewed += 1 }
    func forget(_ token: String) { tokens.removeValue(forKey: token) }
    func revoke(_ token: String) -> Bool {
        guard tokens.removeValue(forKey: token) != nil else { return false }
        revoked += 1
        return true
    }
    func recordCheckIn(_ body: Components.Schemas.CheckInRequest) { lastCheckInBody = body }
    func recordUserAgent(_ agent: String?) { lastUserAgent = agent }
}

/// The generated server protocol, answering the token operations, `listProjects` and `checkIn`.
struct FakeAiDeeAPI: APIProtocol {
    static let key = "00000000-0000-0000-0000-000000000001"
    static let secret = "6E686506B4B2516CDFBC"
    let state: FakeAiDeeState

    private func error(_ code: Int, _ message: String) -> Components.Schemas._Error {
        .init(code: code, message: message)
    }

    func issueKey(_ input: Operations.IssueKey.Input) async throws -> Operations.IssueKey.Output {
        guard case .json(let body) = input.body, body.username == "test", body.password == "pw" else {
            return .unauthorized(.init(body: .json(error(401, "wrong username or password"))))
        }
        return .created(.init(body: .json(.init(key: Self.key, secret: Self.secret))))
    }

    func issueToken(_ input: Operations.IssueToken.Input) async throws -> Operations.IssueToken.Output {
        guard case .json(let body) = input.body, body.key == Self.key, body.secret == Self.secret else {
            return .unauthorized(.init(body: .json(error(401, "unknown key or wrong secret"))))
        }
        try await Task.sleep(for: await state.issueDelay)
        let (token, expire) = await state.newToken()
        await state.noteIssued()
        return .created(.init(body: .json(.init(code: 200, expire: expire, token: token))))
    }

    func renewToken(_ input: Operations.RenewToken.Input) async throws -> Operations.RenewToken.Output {
        try await Task.sleep(for: await state.renewalDelay)
        if await state.failRenewals {
            return .internalServerError(.init(body: .json(error(500, "renewal service down"))))
        }
        guard await state.isValid(input.headers.xAPIToken) else {
            return .unauthorized(.init(body: .json(error(401, "token expired or unknown"))))
        }
        await state.forget(input.headers.xAPIToken)
        let (token, expire) = await state.newToken()
        await state.noteRenewed()
        return .ok(.init(body: .json(.init(code: 200, expire: expire, token: token))))
    }

    func revokeToken(_ input: Operations.RevokeToken.Input) async throws -> Operations.RevokeToken.Output {
        guard await state.revoke(input.headers.xAPIToken) else {
            return .unauthorized(.init(body: .json(error(401, "token unknown"))))
        }
        return .ok(.init(body: .json(.init(code: 200))))
    }

    func listProjects(_ input: Operations.ListProjects.Input) async throws -> Operations.ListProjects.Output {
        guard await state.isValid(input.headers.xAPIToken) else {
            return .unauthorized(.init(body: .json(error(401, "token expired or unknown"))))
        }
        return .ok(.init(body: .json([.init(id: 1, name: "Head office"), .init(id: 2, name: "Warehouse")])))
    }

    func checkIn(_ input: Operations.CheckIn.Input) async throws -> Operations.CheckIn.Output {
        guard await state.isValid(input.headers.xAPIToken) else {
            return .unauthorized(.init(body: .json(error(401, "token expired or unknown"))))
        }
        guard case .json(let body) = input.body else { return .badRequest(.init(body: .json(error(400, "no body")))) }
        await state.recordCheckIn(body)
        if input.path.projectId != 1 {
            return .forbidden(.init(body: .json(error(403, "no permission for project \(input.path.projectId)"))))
        }
        guard let at = AiDeeTimestamp(rfc3339: "2020-01-01T12:00:00.123456789+09:00") else {
            return .internalServerError(.init(body: .json(error(500, "bad fixture"))))
        }
        return .ok(.init(body: .json(.init(userId: 4, status: "APPROVED", similarity: 90.3, checkinAt: at))))
    }

    // The rest of the contract is the simulator's job.
    func createUser(_ input: Operations.CreateUser.Input) async throws -> Operations.CreateUser.Output {
        .undocumented(statusCode: 501, .init())
    }
    func updateUser(_ input: Operations.UpdateUser.Input) async throws -> Operations.UpdateUser.Output {
        .undocumented(statusCode: 501, .init())
    }
    func deleteUser(_ input: Operations.DeleteUser.Input) async throws -> Operations.DeleteUser.Output {
        .undocumented(statusCode: 501, .init())
    }
    func listFaces(_ input: Operations.ListFaces.Input) async throws -> Operations.ListFaces.Output {
        .undocumented(statusCode: 501, .init())
    }
    func deleteAllFaces(_ input: Operations.DeleteAllFaces.Input) async throws -> Operations.DeleteAllFaces.Output {
        .undocumented(statusCode: 501, .init())
    }
    func addFace(_ input: Operations.AddFace.Input) async throws -> Operations.AddFace.Output { .undocumented(statusCode: 501, .init()) }
    func getFace(_ input: Operations.GetFace.Input) async throws -> Operations.GetFace.Output { .undocumented(statusCode: 501, .init()) }
    func updateFace(_ input: Operations.UpdateFace.Input) async throws -> Operations.UpdateFace.Output {
        .undocumented(statusCode: 501, .init())
    }
    func deleteFace(_ input: Operations.DeleteFace.Input) async throws -> Operations.DeleteFace.Output {
        .undocumented(statusCode: 501, .init())
    }
    func search(_ input: Operations.Search.Input) async throws -> Operations.Search.Output { .undocumented(statusCode: 501, .init()) }
}

/// A running fake server on 127.0.0.1 with an ephemeral port.
final class FakeAiDeeServer: Sendable {
    let state: FakeAiDeeState
    let port: Int
    private let task: Task<Void, any Error>

    var rootURL: String { "http://127.0.0.1:\(port)" }

    static func start() async throws -> FakeAiDeeServer {
        let state = FakeAiDeeState()
        let router = Router()
        // Raw routes for transport tests.
        router.get("/raw/slow") { _, _ -> String in
            try await Task.sleep(for: .seconds(5))
            return "late"
        }
        router.post("/raw/echo") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 64 << 20)
            var fields = HTTPFields()
            fields[.contentType] = "application/octet-stream"
            fields[HTTPField.Name("X-Echo-Method")!] = request.method.rawValue
            fields[HTTPField.Name("X-Echo-Length")!] = String(body.readableBytes)
            fields[HTTPField.Name("X-Echo-Custom")!] = request.headers[HTTPField.Name("X-Custom")!] ?? ""
            fields[HTTPField.Name("X-Echo-Agent")!] = request.headers[.userAgent] ?? ""
            return Response(status: .ok, headers: fields, body: .init(byteBuffer: body))
        }
        router.patch("/raw/echo") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 64 << 20)
            var fields = HTTPFields()
            fields[HTTPField.Name("X-Echo-Method")!] = request.method.rawValue
            fields[HTTPField.Name("X-Echo-Length")!] = String(body.readableBytes)
            return Response(status: .ok, headers: fields)
        }
        router.get("/raw/html-error") { _, _ -> Response in
            Response(
                status: .badGateway, headers: [.contentType: "text/html"],
                body: .init(byteBuffer: ByteBuffer(string: "<html><body>Bad gateway from the proxy</body></html>")))
        }
        router.get("/raw/big") { _, _ -> Response in
            Response(status: .ok, body: .init(byteBuffer: ByteBuffer(repeating: 0x41, count: 3 << 20)))
        }
        let api = FakeAiDeeAPI(state: state)
        try api.registerHandlers(on: router, serverURL: URL(string: AiDeeAPIDocument.basePath)!, configuration: .aiDee)
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "fake-aidee")
        logger.logLevel = .critical  // shutdown chatter is not a test failure
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            }, logger: logger)
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var port = 0
        for await value in portStream {
            port = value
            break
        }
        return FakeAiDeeServer(port: port, task: task, state: state)
    }

    private init(port: Int, task: Task<Void, any Error>, state: FakeAiDeeState) {
        self.port = port
        self.task = task
        self.state = state
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}
