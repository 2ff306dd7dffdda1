// `kiosk-bench api`: the Face AiDee client's own costs: the libcurl transport over loopback
// (connection reuse against a new connection per request) and RFC 3339 timestamp parsing.

import AiDeeAPI
import ArgumentParser
import FaceAiDee
import Foundation
import HTTPTypes
import OpenAPIRuntime

struct APIBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api", abstract: "libcurl transport round trips on loopback; timestamp parsing.")

    @Option(help: "Requests per transport figure.") var requests = 300
    @Option(help: "Request body bytes (a base64 check-in JPEG is about 100-200 kB).") var bodyBytes = 131_072

    func run() async throws {
        let receiver = try LoopbackReceiver()
        defer { receiver.stop() }
        guard let base = URL(string: "http://127.0.0.1:\(receiver.port)") else { throw ValidationError("bad URL") }
        let body = [UInt8](repeating: 0x41, count: bodyBytes)
        print("  libcurl \(CurlTransport.libcurlVersion.split(separator: " ").first ?? "")")
        for (label, idle) in [("reused connection", 4), ("new connection each", 0)] {
            let transport = CurlTransport(options: .init(idleHandles: idle))
            for size in [0, bodyBytes] {
                let payload = size == 0 ? nil : body
                _ = try await send(transport, base, payload)  // warm-up
                let started = ContinuousClock.now
                for _ in 0..<requests { _ = try await send(transport, base, payload) }
                let seconds = Self.seconds(ContinuousClock.now - started)
                print(
                    String(
                        format: "  POST %6d B, %-20@ %7.0f req/s  (mean %.3f ms)",
                        size, label as NSString, Double(requests) / seconds, seconds / Double(requests) * 1000))
            }
        }
        let texts = (0..<1000).map { String(format: "2020-01-01T12:%02d:%02d.%09d+09:00", $0 / 60 % 60, $0 % 60, $0 * 7919) }
        let started = ContinuousClock.now
        var checksum: Int64 = 0
        for _ in 0..<100 { for text in texts { checksum &+= (try AiDeeTimestamp.parse(text)).secondsSinceEpoch } }
        let seconds = Self.seconds(ContinuousClock.now - started)
        print(String(format: "  RFC 3339 parse: %.2f M/s (%.0f ns each; checksum %lld)", 0.1 / seconds, seconds * 1e4, checksum))
    }

    private func send(_ transport: CurlTransport, _ base: URL, _ body: [UInt8]?) async throws -> HTTPResponse {
        var request = HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/api/v1/projects/1/check-in")
        request.headerFields[.contentType] = "application/json"
        let (response, _) = try await transport.send(request, body: body.map { HTTPBody($0) }, baseURL: base, operationID: "bench")
        return response
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
