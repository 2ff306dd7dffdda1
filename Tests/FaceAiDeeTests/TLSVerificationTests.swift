// TLS verification through libcurl against openssl s_server on loopback: bad certificates, ca_file, off.
import FaceAiDee
import Foundation
import HTTPTypes
import OpenAPIRuntime
import TestSupport
import Testing

/// TLS verification through the real libcurl transport, against a TLS test server on loopback
/// (`openssl s_server -WWW` on 127.0.0.1) with certificates made by the `openssl` command line
/// at test time: every bad certificate fails as `.tls` with a message that says what is wrong,
/// before any request is sent; a good one passes through `caFile` (`api.ca_file`).
@Suite("TLS verification (openssl s_server on loopback)", .serialized)
struct TLSVerificationTests {
    static func get(_ server: OpenSSLTestServer, caFile: String?, verify: Bool = true) async throws -> (HTTPResponse, [UInt8]) {
        let transport = CurlTransport(
            options: .init(
                connectTimeout: .seconds(3), requestTimeout: .seconds(5),
                verifyTLS: verify, caFile: caFile, unrepeatableOperations: ["checkIn"]))
        let request = HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/answer.json")
        let (response, body) = try await transport.send(
            request, body: nil, baseURL: try #require(URL(string: server.url)), operationID: "checkIn")
        var bytes: [UInt8] = []
        if let body { bytes = try await [UInt8](collecting: body, upTo: 1 << 20) }
        return (response, bytes)
    }

    static func tlsFailure(_ leaf: TestCertificates.Leaf, caFile: (TestCertificates) -> String?) async throws -> FaceAiDeeError? {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let server = try await OpenSSLTestServer.start(
            certificate: certificates.certificate(leaf), key: certificates.key(leaf), port: try unusedPort(),
            files: ["answer.json": "{}"])
        defer { server.stop() }
        do {
            _ = try await get(server, caFile: caFile(certificates))
            return nil
        } catch let error as FaceAiDeeError {
            return error
        }
    }

    @Test func goodCertificateThroughTheCAFile() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let server = try await OpenSSLTestServer.start(
            certificate: certificates.certificate(.good), key: certificates.key(.good), port: try unusedPort(),
            files: ["answer.json": #"{"ok":true}"#])
        defer { server.stop() }
        let (response, body) = try await Self.get(server, caFile: certificates.caFile)
        #expect(response.status == .ok)
        #expect(String(decoding: body, as: UTF8.self) == #"{"ok":true}"#)
    }

    @Test(arguments: [
        (TestCertificates.Leaf.selfSigned, "self-signed certificate", true),
        (.wrongHost, "subject name", true),
        (.expired, "certificate has expired", true),
        (.good, "unable to get local issuer certificate", false),  // our CA is not in the system store
    ])
    func badCertificateIsATLSError(_ leaf: TestCertificates.Leaf, _ expected: String, _ withCAFile: Bool) async throws {
        let error = try #require(
            try await Self.tlsFailure(leaf, caFile: { withCAFile ? $0.caFile : nil }),
            "\(leaf) passed verification")
        guard case .tls(let operation, let url, let message) = error else {
            Issue.record("\(leaf): expected a TLS error, got \(error)")
            return
        }
        #expect(operation == "checkIn")
        #expect(url.hasPrefix("https://127.0.0.1:"))
        // libcurl's error buffer names the problem; the description tells what to check next.
        #expect(message.contains(expected), "\(leaf): \(message)")
        #expect(error.description.contains("certificate"))
        // Nothing was sent, so even an unrepeatable check-in is not "no answer".
        #expect(error.disposition == .retryable)
    }

    @Test func verificationOffAcceptsASelfSignedServer() async throws {
        // What api.verify_tls: false does (and why kioskd warns about it at start).
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let server = try await OpenSSLTestServer.start(
            certificate: certificates.certificate(.selfSigned), key: certificates.key(.selfSigned), port: try unusedPort(),
            files: ["answer.json": "{}"])
        defer { server.stop() }
        let (response, _) = try await Self.get(server, caFile: nil, verify: false)
        #expect(response.status == .ok)
    }
}
