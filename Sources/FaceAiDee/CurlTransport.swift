// CurlTransport: the generated client's HTTP transport, over libcurl.

package import Foundation
package import HTTPTypes
package import OpenAPIRuntime
import Synchronization

/// A swift-openapi-runtime `ClientTransport` that performs requests with libcurl.
///
/// - Each request runs `curl_easy_perform` on a private serial Dispatch queue, which has a thread
///   of its own (never one of Swift's cooperative pool), and resumes the calling task when it ends.
/// - Easy handles are pooled, so consecutive calls reuse the server connection.
/// - Cancelling the calling task aborts the transfer within about a second (libcurl's progress
///   callback); the call then throws ``FaceAiDeeError/cancelled(operation:)``.
/// - TLS peers are verified unless ``Options/verifyTLS`` is false; proxies come from the usual
///   `http_proxy`, `https_proxy` and `no_proxy` environment variables.
///
/// Errors thrown are ``FaceAiDeeError`` values (the generated client wraps them in its
/// `ClientError`; ``FaceAiDeeClient`` unwraps them again).
package struct CurlTransport: ClientTransport {
    /// How transfers are made.
    package struct Options: Sendable, Hashable {
        /// Longest wait for the TCP (and TLS) connection. Default 5 s: a kiosk must fall back to
        /// its offline policy quickly when the network is gone.
        package var connectTimeout: Duration
        /// Longest time for a whole request, connection included. Default 15 s: a check-in
        /// upload of a ~100 kB JPEG plus matching takes well under a second on a healthy link.
        package var requestTimeout: Duration
        /// Verify the server's certificate and host name. Default true; turn off only for a
        /// test server, never in the field.
        package var verifyTLS: Bool
        /// A PEM file of CA certificates to trust instead of the system's (e.g. a private CA).
        package var caFile: String?
        /// Sent as `User-Agent`.
        package var userAgent: String
        /// The largest answer accepted; bigger ones fail as undecodable. Default 32 MiB (a face
        /// image returned by `getFace` is the largest legitimate answer).
        package var maxResponseBytes: Int
        /// The largest request body accepted from the generated client. Default 32 MiB.
        package var maxRequestBytes: Int
        /// How many idle connections (easy handles) to keep for reuse. Default 4.
        package var idleHandles: Int
        /// Operations (`operationId`s) the server must not receive twice, because the API has no
        /// idempotency key: libcurl may not resend them by itself, and a failure after the whole
        /// request went out is ``FaceAiDeeError/noAnswer(operation:url:message:)`` rather than
        /// a timeout or network error. Default none; the client sets
        /// ``FaceAiDeeError/unrepeatableOperations``.
        package var unrepeatableOperations: Set<String>

        /// Creates options; every parameter has the default documented on its property.
        package init(
            connectTimeout: Duration = .seconds(5), requestTimeout: Duration = .seconds(15),
            verifyTLS: Bool = true, caFile: String? = nil, userAgent: String = "kiosk-agent",
            maxResponseBytes: Int = 32 << 20, maxRequestBytes: Int = 32 << 20, idleHandles: Int = 4,
            unrepeatableOperations: Set<String> = []
        ) {
            self.unrepeatableOperations = unrepeatableOperations
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
            self.verifyTLS = verifyTLS
            self.caFile = caFile
            self.userAgent = userAgent
            self.maxResponseBytes = maxResponseBytes
            self.maxRequestBytes = maxRequestBytes
            self.idleHandles = idleHandles
        }
    }

    /// The options this transport was made with.
    package let options: Options
    private let pool: CurlHandlePool

    /// Creates a transport. Nothing connects until the first request.
    package init(options: Options = Options()) {
        self.options = options
        self.pool = CurlHandlePool(capacity: max(0, options.idleHandles))
    }

    /// The libcurl version in use (for `kioskctl doctor` and logs).
    package static var libcurlVersion: String { CurlGlobal.version }

    package func send(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let response = try await perform(request, body: body, baseURL: baseURL, operationID: operationID)
        var fields = HTTPFields()
        for field in response.headers where field.name != .contentLength && field.name != .transferEncoding {
            fields.append(field)
        }
        let status = HTTPResponse.Status(code: response.status)
        return (HTTPResponse(status: status, headerFields: fields), HTTPBody(response.body))
    }

    /// The transfer with typed errors.
    private func perform(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String
    ) async throws(FaceAiDeeError) -> CurlResponse {
        let url = Self.join(baseURL, request.path ?? "/")
        var bytes: [UInt8]? = nil
        if let body {
            do {
                bytes = try await [UInt8](collecting: body, upTo: options.maxRequestBytes)
            } catch {
                throw .configuration(
                    "\(operationID): the request body is larger than \(options.maxRequestBytes) bytes or unreadable (\(error))")
            }
        }
        var lines: [String] = []
        for field in request.headerFields {
            lines.append("\(field.name.rawName): \(field.value)")
        }
        // libcurl would otherwise wait for `100 Continue` before large bodies (a full second
        // against servers that never send it) and invent a form content type for empty ones.
        lines.append("Expect:")
        if request.headerFields[.contentType] == nil { lines.append("Content-Type:") }

        let curlRequest = CurlRequest(
            url: url, method: request.method.rawValue, headerLines: lines, body: bytes, operation: operationID,
            repeatable: !options.unrepeatableOperations.contains(operationID))
        let settings = CurlSettings(
            connectTimeoutMilliseconds: Self.milliseconds(options.connectTimeout),
            requestTimeoutMilliseconds: Self.milliseconds(options.requestTimeout),
            verifyTLS: options.verifyTLS, caFile: options.caFile, userAgent: options.userAgent,
            maxResponseBytes: options.maxResponseBytes)
        let state = CurlTransferState(maxResponseBytes: options.maxResponseBytes)
        let pool = self.pool
        if Task.isCancelled { throw .cancelled(operation: operationID) }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<CurlResponse, FaceAiDeeError>, Never>) in
                makeTransferQueue().async {
                    continuation.resume(
                        returning: CurlTransfer.perform(curlRequest, settings: settings, pool: pool, state: state))
                }
            }
        } onCancel: {
            state.cancelled.store(true, ordering: .relaxed)
        }
        return try result.get()
    }

    /// `baseURL` (e.g. `http://host:8080/api/v1`) plus the operation's path and query.
    static func join(_ baseURL: URL, _ path: String) -> String {
        var base = baseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        return base + (path.hasPrefix("/") ? path : "/" + path)
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}
