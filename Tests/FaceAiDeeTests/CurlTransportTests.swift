// The libcurl transport against a loopback HTTP server: requests, timeouts, cancellation, network errors.
import AiDeeAPI
import FaceAiDee
import Foundation
import HTTPTypes
import OpenAPIRuntime
import Testing

/// The libcurl transport against a real HTTP server on loopback.
@Suite("libcurl transport")
struct CurlTransportTests {
    private func send(
        _ transport: CurlTransport, _ server: FakeAiDeeServer, _ method: HTTPRequest.Method, _ path: String,
        body: [UInt8]? = nil, headers: HTTPFields = [:]
    ) async throws -> (HTTPResponse, [UInt8]) {
        let request = HTTPRequest(method: method, scheme: nil, authority: nil, path: path, headerFields: headers)
        let base = try #require(URL(string: server.rootURL))
        let (response, responseBody) = try await transport.send(
            request, body: body.map { HTTPBody($0) }, baseURL: base, operationID: "test")
        var bytes: [UInt8] = []
        if let responseBody { bytes = try await [UInt8](collecting: responseBody, upTo: 64 << 20) }
        return (response, bytes)
    }

    @Test func postSendsHeadersAndBodyAndReadsTheAnswer() async throws {
        let server = try await FakeAiDeeServer.start()
        defer { Task { await server.stop() } }
        let transport = CurlTransport(options: .init(userAgent: "kiosk-test/1"))
        let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0) }
        var headers = HTTPFields()
        headers[HTTPField.Name("X-Custom")!] = "hello"
        headers[.contentType] = "application/octet-stream"
        let (response, body) = try await send(transport, server, .post, "/raw/echo", body: payload, headers: headers)
        #expect(response.status == .ok)
        #expect(response.headerFields[HTTPField.Name("X-Echo-Method")!] == "POST")
        #expect(response.headerFields[HTTPField.Name("X-Echo-Length")!] == "300000")
        #expect(response.headerFields[HTTPField.Name("X-Echo-Custom")!] == "hello")
        #expect(response.headerFields[HTTPField.Name("X-Echo-Agent")!] == "kiosk-test/1")
        #expect(body == payload)
    }

    @Test func patchWithoutBodyUsesTheMethod() async throws {
        let server = try await FakeAiDeeServer.start()
        defer { Task { await server.stop() } }
        let (response, _) = try await send(CurlTransport(), server, .patch, "/raw/echo")
        #expect(response.headerFields[HTTPField.Name("X-Echo-Method")!] == "PATCH")
        #expect(response.headerFields[HTTPField.Name("X-Echo-Length")!] == "0")
    }

    @Test func manySequentialAndConcurrentRequestsSucceed() async throws {
        let server = try await FakeAiDeeServer.start()
        defer { Task { await server.stop() } }
        let transport = CurlTransport()
        for index in 0..<20 {
            let (response, body) = try await send(transport, server, .post, "/raw/echo", body: Array("\(index)".utf8))
            #expect(response.status == .ok && body == Array("\(index)".utf8))
        }
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<16 {
                group.addTask {
                    let (_, body) = try await send(transport, server, .post, "/raw/echo", body: Array("c\(index)".utf8))
                    return body == Array("c\(index)".utf8)
                }
            }
            for try await ok in group { #expect(ok) }
        }
    }

    @Test func wholeRequestTimeoutIsReported() async throws {
        let server = try await FakeAiDeeServer.start()
        defer { Task { await server.stop() } }
        let transport = CurlTransport(options: .init(requestTimeout: .milliseconds(400)))
        let started = ContinuousClock.now
        do {
            _ = try await send(transport, server, .get, "/raw/slow")
            Issue.record("a 5 s answer beat a 0.4 s timeout")
        } catch let error as FaceAiDeeError {
            guard case .timeout(let operation, let url, let seconds) = error else {
                Issue.record("expected a timeout, got \(error)")
                return
            }
            #expect(operation == "test")
            #expect(url.hasSuffix("/raw/slow"))
            #expect(seconds == 0.4)
            #expect(error.disposition == .retryable)
        }
        #expect(ContinuousClock.now - started < .seconds(4))
    }

    @Test func cancellationAbortsABlockedTransfer() async throws {
        let server = try await FakeAiDeeServer.start()
        defer { Task { await server.stop() } }
        let transport = CurlTransport()
        let started = ContinuousClock.now
        let task = Task { try await send(transport, server, .get, "/raw/slow") }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        do {
            _ = try await task.value
            Issue.record("a cancelled transfer completed")
        } catch let error as FaceAiDeeError {
            #expect(error == .cancelled(operation: "test"))
        }
        // libcurl checks its progress callback at least once a second.
        #expect(ContinuousClock.now - started < .seconds(4))
    }

    @Test func connectionRefusedIsANetworkError() async throws {
        let port = try unusedPort()
        let transport = CurlTransport(options: .init(connectTimeout: .seconds(2)))
        let request = HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/api/v1/projects")
        do {
            _ = try await transport.send(
                request, body: nil, baseURL: try #require(URL(string: "http://127.0.0.1:\(port)")), operationID: "listProjects")
            Issue.record("connected to a closed port")
        } catch let error as FaceAiDeeError {
            guard case .network(let operation, let url, let message) = error else {
                Issue.record("expected a network error, got \(error)")
                return
            }
            #expect(operation == "listProjects")
            #expect(url == "http://127.0.0.1:\(port)/api/v1/projects")
            #expect(!message.isEmpty)
            #expect(error.disposition == .retryable)
        }
    }

    @Test func tlsToAPlainServerIsATLSError() async throws {
        let server = try await FakeAiDeeServer.start()
        defer { Task { await server.stop() } }
        let request = HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/raw/echo")
        do {
            _ = try await CurlTransport().send(
                request, body: nil, baseURL: try #require(URL(string: "https://127.0.0.1:\(server.port)")), operationID: "test")
            Issue.record("TLS to a plain HTTP port succeeded")
        } catch let error as FaceAiDeeError {
            guard case .tls = error else {
                Issue.record("expected a TLS error, got \(error)")
                return
            }
        }
    }

    @Test func oversizedAnswersAreRefused() async throws {
        let server = try await FakeAiDeeServer.start()
        defer { Task { await server.stop() } }
        let transport = CurlTransport(options: .init(maxResponseBytes: 1 << 20))
        do {
            _ = try await send(transport, server, .get, "/raw/big")
            Issue.record("a 3 MiB answer passed a 1 MiB limit")
        } catch let error as FaceAiDeeError {
            guard case .undecodableBody(_, _, let detail) = error else {
                Issue.record("expected undecodableBody, got \(error)")
                return
            }
            #expect(detail.contains("larger than"))
        }
        let (_, body) = try await send(CurlTransport(), server, .get, "/raw/big")
        #expect(body.count == 3 << 20)
    }
}

/// A loopback port nothing listens on: bind one, read its number, close it.
func unusedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: address.sin_port))
}
