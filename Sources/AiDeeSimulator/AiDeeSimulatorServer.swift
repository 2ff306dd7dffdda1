// AiDeeSimulatorServer: the in-process launcher, used by `aidee-sim` and by other modules' tests.
import AiDeeAPI
package import Foundation
import Hummingbird
package import Logging
import NIOCore
// ByteBuffer to Data (swift-nio, through Hummingbird).
import NIOFoundationEssentialsCompat
import OpenAPIHummingbird
import OpenAPIRuntime
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Why the simulator could not start.
package enum SimulatorStartError: Error, Sendable, CustomStringConvertible {
    case configuration(SimulatorConfigurationError)
    case bindFailed(host: String, port: Int, message: String)

    package var description: String {
        switch self {
        case .configuration(let e): "aidee-sim: \(e.description)"
        case .bindFailed(let host, let port, let message):
            "aidee-sim: cannot listen on \(host):\(port): \(message). Choose another --port (0 picks a free one)."
        }
    }
}

/// A running Face AiDee simulator: the contract's API under `/api/v1`, the contract itself at
/// `/openapi.yaml`, and admin routes under `/_sim/`.
///
/// ```swift
/// let sim = try await AiDeeSimulatorServer.start(SimulatorConfiguration(
///     accounts: [.init(username: "kiosk", password: "pw")], projects: [.init(id: 1, name: "HQ")]))
/// defer { Task { await sim.shutdown() } }
/// let (key, secret) = try await sim.issueCredentials(username: "kiosk", password: "pw")
/// // talk to sim.baseURL ...
/// ```
package final class AiDeeSimulatorServer: Sendable {
    /// The port actually bound (the kernel's choice when the configuration said 0).
    package let port: Int
    /// The address bound.
    package let host: String
    /// The API's base URL, e.g. `http://127.0.0.1:41234/api/v1`.
    package let baseURL: URL
    /// The state; tests may inspect it (check-ins) or seed it.
    package let store: SimulatorStore
    /// The fault rules in force; change them at any time.
    package let faults: FaultInjector

    private let configuration: SimulatorConfiguration
    private let engine: FaceEngine
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    private init(
        port: Int, baseURL: URL, configuration: SimulatorConfiguration, store: SimulatorStore, faults: FaultInjector,
        engine: FaceEngine, group: ServiceGroup, running: Task<Void, any Error>
    ) {
        self.port = port
        self.baseURL = baseURL
        self.host = configuration.host
        self.configuration = configuration
        self.store = store
        self.faults = faults
        self.engine = engine
        self.group = group
        self.running = running
    }

    /// Validates the configuration, opens the store, seeds accounts and projects, and starts
    /// listening. Returns once the socket is bound.
    ///
    /// - Parameters:
    ///   - handleSignals: whether SIGINT/SIGTERM shut the server down gracefully (the executable
    ///     says yes; tests leave it off).
    ///   - logger: where request and lifecycle logs go; by default nowhere (tests never log).
    package static func start(
        _ configuration: SimulatorConfiguration, handleSignals: Bool = false,
        logger: Logger = Logger(label: "aidee-sim", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws -> AiDeeSimulatorServer {
        do { try configuration.validate() } catch { throw SimulatorStartError.configuration(error) }
        let store = try SimulatorStore(directory: configuration.dataDirectory)
        for account in configuration.accounts { try await store.upsert(account) }
        for project in configuration.projects { try await store.upsert(project) }
        let faults = FaultInjector(rules: configuration.faults, seed: configuration.faultSeed ?? UInt64.random(in: 0...UInt64.max))
        let engine = FaceEngine(modelsDirectory: configuration.modelsDirectory, maxImagePixels: configuration.maxImagePixels)

        let router = Router(context: SimulatorRequestContext.self)
        router.middlewares.add(ErrorMiddleware(logger: logger))
        router.middlewares.add(FaultMiddleware(faults: faults, logger: logger))
        router.middlewares.add(BodyLimitMiddleware(limit: configuration.maxBodyBytes))
        router.middlewares.add(ContractStrictnessMiddleware(store: store))
        addAdminRoutes(router, store: store, faults: faults)
        let api = SimulatorAPI(
            store: store, engine: engine, tokenTTL: configuration.tokenTTL,
            maxUsersPerProject: configuration.maxUsersPerProject, logger: logger)
        guard let basePath = URL(string: AiDeeAPIDocument.basePath) else {
            throw SimulatorStartError.configuration(.invalid(key: "base path", reason: "'\(AiDeeAPIDocument.basePath)' is not a URL path"))
        }
        try api.registerHandlers(on: router, serverURL: basePath, configuration: .aiDee)

        let bound = BoundPort()
        let app = Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [DateShiftHandler()])),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "aidee-sim"),
            onServerRunning: { channel in bound.resolve(.success(channel.localAddress?.port ?? configuration.port)) },
            logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [app], gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [], logger: logger))
        let running = Task {
            do {
                try await group.run()
                bound.resolve(
                    .failure(
                        SimulatorStartError.bindFailed(
                            host: configuration.host, port: configuration.port, message: "the server stopped before listening")))
            } catch {
                bound.resolve(
                    .failure(
                        SimulatorStartError.bindFailed(
                            host: configuration.host, port: configuration.port, message: "\(error)")))
                throw error
            }
        }
        let port = try await bound.value()
        // IPv6 literals need brackets in a URL.
        let hostInURL = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        guard let baseURL = URL(string: "http://\(hostInURL):\(port)\(AiDeeAPIDocument.basePath)") else {
            await group.triggerGracefulShutdown()
            throw SimulatorStartError.configuration(.invalid(key: "host", reason: "'\(configuration.host)' is not a host name or address"))
        }
        logger.info(
            "aidee-sim listening",
            metadata: [
                "http.host": "\(configuration.host)", "http.port": "\(port)",
                "sim.data": "\(store.path)",
            ])
        return AiDeeSimulatorServer(
            port: port, baseURL: baseURL, configuration: configuration, store: store, faults: faults,
            engine: engine, group: group, running: running)
    }

    /// Loads the face models now instead of on the first image request (about a second).
    package func warmUp() async throws { try await engine.warmUp() }

    /// Waits until the server stops (a signal when `handleSignals`, or `shutdown()`).
    package func waitUntilStopped() async throws { try await running.value }

    /// Stops listening, lets requests in flight finish, and returns when the server is down.
    package func shutdown() async {
        await group.triggerGracefulShutdown()
        _ = try? await running.value
    }

    // MARK: Seeding helpers (tests and demos)

    /// Issues an API key and secret for an existing account, as `POST /auth/key` would.
    package func issueCredentials(username: String, password: String) async throws -> (key: String, secret: String) {
        switch try await store.issueKey(username: username, password: password) {
        case .issued(let key, let secret): return (key, secret)
        case .badCredentials: throw SimulatorAPIError.unauthorized("wrong username or password")
        case .notAllowed: throw SimulatorAPIError.forbidden("account '\(username)' may not issue keys")
        }
    }

    /// Issues a token directly (skipping key/secret), e.g. for tests of expiry.
    package func issueToken(username: String, password: String, ttl: TimeInterval? = nil) async throws -> String {
        let (key, secret) = try await issueCredentials(username: username, password: password)
        guard let (token, _) = try await store.issueToken(key: key, secret: secret, ttl: ttl ?? configuration.tokenTTL) else {
            throw SimulatorAPIError.unauthorized("could not issue a token")
        }
        return token
    }

    /// Creates a user in a project and returns its id.
    package func createUser(
        projectID: Int, groupID: Int? = nil, status: String = "APPROVED",
        properties: [String: String] = [:]
    ) async throws -> Int {
        let data = try JSONSerialization.data(withJSONObject: properties, options: [.sortedKeys])
        return try await store.createUser(
            projectID: projectID, groupID: groupID, registrant: "USER", status: status,
            propertiesJSON: String(decoding: data, as: UTF8.self)
        ).id
    }

    /// Enrols a face from JPEG or PNG bytes with the same detection and matching as the API;
    /// returns the face id. Throws `SimulatorAPIError` 400/409 as the API would answer.
    package func enrollFace(projectID: Int, userID: Int, image: [UInt8], saveImage: Bool = false) async throws -> Int {
        let descriptor: FaceDescriptor
        do {
            descriptor = try await engine.descriptor(ofImage: image, requireSingleFace: true)
        } catch let failure as FaceEngineFailure {
            switch failure {
            case .badImage(let m): throw SimulatorAPIError.badRequest(m)
            case .noFace(let m): throw SimulatorAPIError.conflict(m)
            }
        }
        return try await store.addFace(
            projectID: projectID, userID: userID, descriptor: descriptor,
            image: saveImage ? image : nil
        ).id
    }

    /// The descriptor of the main face in an image (for tests that compare faces directly).
    package func descriptor(ofImage image: [UInt8]) async throws -> FaceDescriptor {
        try await engine.descriptor(ofImage: image, requireSingleFace: false)
    }

    /// Granted check-ins of a project, oldest first.
    package func checkIns(projectID: Int) async throws -> [SimulatorCheckIn] {
        try await store.checkIns(projectID: projectID)
    }
}

/// The bound port, delivered once from `onServerRunning` (or the failure to bind).
private final class BoundPort: Sendable {
    private let state = Mutex<(result: Result<Int, any Error>?, waiter: CheckedContinuation<Int, any Error>?)>((nil, nil))

    func resolve(_ result: Result<Int, any Error>) {
        let waiter: CheckedContinuation<Int, any Error>? = state.withLock { s in
            guard s.result == nil else { return nil }
            s.result = result
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(with: result)
    }

    func value() async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<Int, any Error>? = state.withLock { s in
                if let r = s.result { return r }
                s.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}

// MARK: Admin routes

private struct HealthBody: Codable, Sendable {
    var status: String
    var projects: Int
    var faults: Int
}

private struct FaultsBody: Codable, Sendable {
    var rules: [FaultRule]
}

/// `GET /_sim/projects/{id}/check-ins`: what `checkIns(projectID:)` gives an in-process test, for a
/// test whose simulator runs in another process (the VM stage runs it on the host).
private struct CheckInsBody: Codable, Sendable {
    struct Entry: Codable, Sendable {
        var id: Int
        var userID: Int
        var faceID: Int
        var similarity: Double
        enum CodingKeys: String, CodingKey {
            case id
            case userID = "user_id"
            case faceID = "face_id"
            case similarity
        }
    }
    var checkIns: [Entry]
    enum CodingKeys: String, CodingKey { case checkIns = "check_ins" }
}

extension AiDeeSimulatorServer {
    fileprivate static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    fileprivate static func decode<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        var request = request
        let buffer = try await request.collectBody(upTo: 1 << 20)
        do { return try JSONDecoder().decode(T.self, from: Data(buffer: buffer)) } catch {
            throw SimulatorAPIError.badRequest("invalid JSON for /_sim/faults: \(error)")
        }
    }

    fileprivate static func validated(_ rules: [FaultRule]) throws -> [FaultRule] {
        for rule in rules {
            do { try rule.validate() } catch { throw SimulatorAPIError.badRequest(error.description) }
        }
        return rules
    }

    fileprivate static func addAdminRoutes(_ router: Router<SimulatorRequestContext>, store: SimulatorStore, faults: FaultInjector) {
        router.get("/openapi.yaml") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: AiDeeAPIDocument.yamlBytes)))
        }
        router.get("/_sim/health") { _, _ in
            try json(HealthBody(status: "ok", projects: try await store.projects().count, faults: faults.rules.count))
        }
        router.get("/_sim/faults") { _, _ in try json(FaultsBody(rules: faults.rules)) }
        router.get("/_sim/projects/:id/check-ins") { _, context in
            guard let id = context.parameters.get("id", as: Int.self) else {
                throw SimulatorAPIError.badRequest("project id must be an integer")
            }
            let entries = try await store.checkIns(projectID: id).map {
                CheckInsBody.Entry(id: $0.id, userID: $0.userID, faceID: $0.faceID, similarity: $0.similarity)
            }
            return try json(CheckInsBody(checkIns: entries))
        }
        // PUT replaces every rule: {"rules": [...]}.
        router.put("/_sim/faults") { request, _ in
            faults.set(try validated(try await decode(FaultsBody.self, request).rules))
            return try json(FaultsBody(rules: faults.rules))
        }
        // POST adds one rule: {"operation": "checkIn", "status": 503, "rate": 0.5}.
        router.post("/_sim/faults") { request, _ in
            let rule = try validated([try await decode(FaultRule.self, request)])
            faults.add(rule[0])
            return try json(FaultsBody(rules: faults.rules), status: .created)
        }
        router.delete("/_sim/faults") { _, _ in
            faults.set([])
            return try json(FaultsBody(rules: []))
        }
    }
}
