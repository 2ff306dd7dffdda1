// The API credentials file (parsing, 0600 mode) and error classification of real failures on loopback.
import FaceAiDee
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TestSupport
import Testing

@Suite("API credentials file")
struct CredentialsTests {
    @Test func parsesKeyValueLines() throws {
        let credentials = try APICredentials.parse("# comment\nkey=00000000-0000-0000-0000-000000000000\nsecret = 6E686506B4B2516CDFBC\n")
        #expect(credentials.key == "00000000-0000-0000-0000-000000000000")
        #expect(credentials.secret == "6E686506B4B2516CDFBC")
    }

    @Test func parsesYAMLWithQuotes() throws {
        let credentials = try APICredentials.parse("---\nkey: \"abc\"\nsecret: 'S3CRET'\nnote: ignored\n")
        #expect(credentials == APICredentials(key: "abc", secret: "S3CRET"))
    }

    @Test func missingEntriesAreNamed() {
        #expect(throws: FaceAiDeeError.credentials(path: "<text>", problem: "no `secret` entry")) {
            try APICredentials.parse("key=abc\n")
        }
        #expect(throws: FaceAiDeeError.self) { try APICredentials.parse("just words\n") }
    }

    @Test func descriptionNeverShowsTheSecret() {
        let credentials = APICredentials(key: "abc", secret: "TOPSECRET")
        #expect(!credentials.description.contains("TOPSECRET"))
        #expect(!"\(credentials)".contains("TOPSECRET"))
        #expect(credentials.description.contains("abc"))
    }

    @Test func saveWritesMode0600AndLoadReadsItBack() throws {
        let folder = try TestAssets.temporaryDirectory("creds")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("api.credentials").path
        let credentials = APICredentials(key: "k-1", secret: "s-1")
        try credentials.save(to: path)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try APICredentials.load(from: path) == credentials)
        // Saving again replaces the file.
        try APICredentials(key: "k-2", secret: "s-2").save(to: path)
        #expect(try APICredentials.load(from: path).key == "k-2")
    }

    @Test func looserModesAreRefusedWithTheFix() throws {
        let folder = try TestAssets.temporaryDirectory("creds")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("api.credentials").path
        try APICredentials(key: "k", secret: "s").save(to: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        do {
            _ = try APICredentials.load(from: path)
            Issue.record("a world-readable credentials file was accepted")
        } catch {
            #expect(error.description.contains("chmod 600"))
            #expect(error.disposition == .final)
        }
    }

    @Test func missingFileSaysHowToCreateIt() {
        do {
            _ = try APICredentials.load(from: "/nonexistent/api.credentials")
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.description.contains("kioskctl api key issue"))
        }
    }
}

@Suite("Error classification")
struct ErrorClassificationTests {
    /// Something that goes wrong on the way to the server or in its answer, caused for real.
    enum Failure: Sendable, CustomTestStringConvertible {
        /// The server answers this status with the contract's JSON error body.
        case status(Int)
        /// A captive portal or proxy answers "success" with an HTML page instead of the API's JSON.
        case htmlInsteadOfJSON
        /// Nothing listens on the server's port.
        case nothingListening
        /// The server takes longer than the request timeout.
        case tooSlow
        /// The caller gives up (task cancelled) while the server has not answered yet.
        case callerCancelled
        /// The configured server URL is not an http(s) URL.
        case unusableURL
        /// The credentials file is not there.
        case noCredentialsFile

        var testDescription: String {
            switch self {
            case .status(let code): "server answers \(code)"
            case .htmlInsteadOfJSON: "HTML page instead of JSON"
            case .nothingListening: "nothing listening"
            case .tooSlow: "server too slow"
            case .callerCancelled: "caller cancelled"
            case .unusableURL: "unusable server URL"
            case .noCredentialsFile: "no credentials file"
            }
        }
    }

    /// What the offline queue must do after each failure, from what the failure means for the
    /// same request sent again unchanged (docs/API.md, "Errors"): a server that is down, busy,
    /// rate-limiting, slow, unreachable or hidden behind a portal may answer later; a refused
    /// token or key needs new credentials first; a request the server judged wrong (bad input,
    /// no rights, unknown, conflicting) or a client that is set up wrong will fail the same way.
    static let expectations: [(Failure, FaceAiDeeError.Disposition)] = [
        (.status(500), .retryable), (.status(502), .retryable), (.status(503), .retryable),
        (.status(504), .retryable), (.status(429), .retryable),
        (.htmlInsteadOfJSON, .retryable), (.nothingListening, .retryable), (.tooSlow, .retryable),
        (.callerCancelled, .retryable),
        (.status(401), .authentication),
        (.status(400), .final), (.status(403), .final), (.status(404), .final), (.status(409), .final),
        (.status(422), .final), (.unusableURL, .final), (.noCredentialsFile, .final),
    ]

    /// Causes `failure` against a real server on loopback and returns the error the client threw.
    static func cause(_ failure: Failure, server: AnsweringServer) async throws -> FaceAiDeeError? {
        func call(_ baseURL: String, requestTimeout: Duration = .seconds(5)) async -> FaceAiDeeError? {
            do {
                let client = try FaceAiDeeClient(
                    configuration: .init(baseURL: baseURL, requestTimeout: requestTimeout), credentials: nil)
                _ = try await client.issueKey(username: "kiosk", password: "pw")
                return nil
            } catch {
                return error
            }
        }
        switch failure {
        case .status(let code):
            return await call(server.url(.status(code)))
        case .htmlInsteadOfJSON:
            return await call(server.url(.html(status: 201)))
        case .nothingListening:
            return await call("http://127.0.0.1:\(try unusedPort())")
        case .tooSlow:
            return await call(server.url(.slow), requestTimeout: .milliseconds(500))
        case .callerCancelled:
            let task = Task { await call(server.url(.slow), requestTimeout: .seconds(30)) }
            // Cancel once the request is at the server, not after a guessed delay.
            for await _ in server.arrivals { break }
            task.cancel()
            return await task.value
        case .unusableURL:
            return await call("ftp://127.0.0.1/")
        case .noCredentialsFile:
            do {
                _ = try APICredentials.load(from: "/nonexistent/api.credentials")
                return nil
            } catch {
                return error
            }
        }
    }

    @Test(arguments: expectations)
    func disposition(_ failure: Failure, _ expected: FaceAiDeeError.Disposition) async throws {
        let server = try await AnsweringServer.start()
        defer { Task { await server.stop() } }
        let error = try #require(try await Self.cause(failure, server: server), "\(failure) did not fail")
        // The failure arrived as what it is, not as some other error that happens to share a disposition.
        switch (failure, error) {
        case (.status(let code), .http("issueKey", let status, _)): #expect(status == code)
        case (.htmlInsteadOfJSON, .undecodableBody("issueKey", 201, _)),
            (.nothingListening, .network("issueKey", _, _)),
            (.tooSlow, .timeout("issueKey", _, _)),
            (.callerCancelled, .cancelled("issueKey")),
            (.unusableURL, .configuration),
            (.noCredentialsFile, .credentials):
            break
        default:
            Issue.record("\(failure) arrived as \(error)")
        }
        #expect(error.disposition == expected, "\(failure): \(error)")
    }

    @Test func messagesNameTheOperationAndTheNextStep() {
        let error = FaceAiDeeError.http(operation: "checkIn", status: 401, message: "token expired")
        #expect(error.description.contains("checkIn"))
        #expect(error.description.contains("token expired"))
        #expect(error.description.contains("API key"))
        let network = FaceAiDeeError.network(operation: "listProjects", url: "http://x", message: "Connection refused")
        #expect(network.description.contains("http://x"))
        #expect(network.description.contains("Connection refused"))
    }
}

/// A server on loopback that answers every API call the way the base URL's path asks:
/// `/status/CODE` that status with the contract's JSON error body, `/html/CODE` a proxy's HTML
/// page with that status, `/slow` no answer for a minute (after announcing the request on
/// ``arrivals``). The fake AiDee server answers like the API; this one answers like a network.
final class AnsweringServer: Sendable {
    enum Answer: Sendable {
        case status(Int)
        case html(status: Int)
        case slow
    }

    static let htmlPage = "<html><body>Bad gateway from the proxy</body></html>"

    let port: Int
    /// One element each time a request reached the `/slow` route.
    let arrivals: AsyncStream<Void>
    private let task: Task<Void, any Error>

    func url(_ answer: Answer) -> String {
        switch answer {
        case .status(let code): "http://127.0.0.1:\(port)/status/\(code)"
        case .html(let code): "http://127.0.0.1:\(port)/html/\(code)"
        case .slow: "http://127.0.0.1:\(port)/slow"
        }
    }

    static func start() async throws -> AnsweringServer {
        let router = Router()
        router.post("/status/:code/**") { _, context -> Response in
            let code = try context.parameters.require("code", as: Int.self)
            var fields = HTTPFields()
            fields[.contentType] = "application/json"
            return Response(
                status: .init(code: code), headers: fields,
                body: .init(byteBuffer: ByteBuffer(string: #"{"code":\#(code),"message":"answer \#(code)"}"#)))
        }
        router.post("/html/:code/**") { _, context -> Response in
            let code = try context.parameters.require("code", as: Int.self)
            var fields = HTTPFields()
            fields[.contentType] = "text/html"
            return Response(status: .init(code: code), headers: fields, body: .init(byteBuffer: ByteBuffer(string: htmlPage)))
        }
        let (arrivals, arrived) = AsyncStream<Void>.makeStream()
        router.post("/slow/**") { _, _ -> Response in
            arrived.yield()
            try await Task.sleep(for: .seconds(60))
            return Response(status: .ok)
        }
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "answering-server")
        logger.logLevel = .critical
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
        return AnsweringServer(port: port, arrivals: arrivals, task: task)
    }

    private init(port: Int, arrivals: AsyncStream<Void>, task: Task<Void, any Error>) {
        self.port = port
        self.arrivals = arrivals
        self.task = task
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}
