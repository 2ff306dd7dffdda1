// Turns every non-2xx answer into FaceAiDeeError.http with the server's own message, before the
// generated client decodes it, so callers handle one error type instead of 16 output enums.

import Foundation
import HTTPTypes
import OpenAPIRuntime

/// A client middleware that throws ``FaceAiDeeError/http(operation:status:message:)`` for every
/// answer outside 2xx, reading the contract's `Error` body (`{code, message}`) for the message.
struct ErrorBodyMiddleware: ClientMiddleware {
    /// Error bodies larger than this are cut: the message is for people, not for storage.
    static let maxErrorBodyBytes = 64 << 10

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let (response, responseBody) = try await next(request, body, baseURL)
        guard response.status.kind != .successful else { return (response, responseBody) }
        var bytes: [UInt8] = []
        if let responseBody {
            bytes = (try? await [UInt8](collecting: responseBody, upTo: Self.maxErrorBodyBytes)) ?? []
        }
        throw FaceAiDeeError.http(
            operation: operationID, status: response.status.code,
            message: Self.message(from: bytes, reason: response.status.reasonPhrase))
    }

    /// The server's `message`, else the start of the body as text, else the reason phrase.
    static func message(from bytes: [UInt8], reason: String) -> String {
        struct ErrorBody: Decodable { var message: String }
        if let decoded = try? JSONDecoder().decode(ErrorBody.self, from: Data(bytes)), !decoded.message.isEmpty {
            return decoded.message
        }
        let text = String(decoding: bytes.prefix(200), as: UTF8.self)
            .split(whereSeparator: \.isNewline).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
        if !text.isEmpty { return text }
        return reason.isEmpty ? "no reason given" : reason
    }
}
