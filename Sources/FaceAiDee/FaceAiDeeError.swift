// FaceAiDeeError: every way a Face AiDee call can fail, with the context to act on it.

/// A failed Face AiDee API call.
///
/// Each case names the operation (the contract's `operationId`, e.g. `checkIn`) and, for
/// transport failures, the URL. ``disposition`` tells the offline queue what to do with it.
package enum FaceAiDeeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The request did not complete: DNS, connection refused or reset, proxy failure. `message`
    /// is libcurl's own explanation.
    case network(operation: String, url: String, message: String)
    /// The connection or the whole request took longer than the configured limit.
    case timeout(operation: String, url: String, seconds: Double)
    /// TLS failed: certificate not trusted, host name mismatch, handshake error, unreadable CA file.
    case tls(operation: String, url: String, message: String)
    /// The server answered with a non-2xx status; `message` is the server's `Error.message` (or
    /// the start of its body when it is not the contract's error JSON).
    case http(operation: String, status: Int, message: String)
    /// The server answered, but the body does not match the contract. `detail` says why and
    /// quotes the start of the body (escaped, at most a few hundred bytes, long base64 or token
    /// runs elided).
    case undecodableBody(operation: String, status: Int, detail: String)
    /// The whole request of an unrepeatable operation (see ``unrepeatableOperations``) went out
    /// and no answer came back (timeout, connection closed or reset, cancelled while waiting):
    /// the server may or may not have acted on it, and sending it again may record it twice.
    case noAnswer(operation: String, url: String, message: String)
    /// The caller's task was cancelled while the call was in flight.
    case cancelled(operation: String)
    /// The client is not set up to make this call (bad base URL, no credentials, missing CA file).
    case configuration(String)
    /// An API credentials file could not be used.
    case credentials(path: String, problem: String)

    /// What the offline queue should do with a request that failed this way.
    package enum Disposition: String, Sendable, Hashable {
        /// Try again later: network, timeout, TLS (often a clock or middlebox problem that
        /// heals), 5xx, 429, an unreadable answer (e.g. a captive portal), cancellation.
        case retryable
        /// The token or key was refused (401): get a new token, then retry.
        case authentication
        /// Retrying cannot help: 400, 403, 404, 409 and other 4xx, configuration errors.
        case final
        /// The server may have carried out an unrepeatable request (``noAnswer(operation:url:message:)``):
        /// sending it again may duplicate it. The caller decides (`outbox.ambiguous`).
        case ambiguous
        /// The server accepted an unrepeatable request (2xx) but its answer does not match the
        /// contract: it was carried out, so it must not be sent again.
        case accepted
    }

    /// Operations the server must not receive twice. The API has no idempotency key, and a
    /// check-in is an event the server records each time it arrives; the other operations are
    /// either reads, or administrative calls a person makes and checks (`kioskctl api`).
    package static let unrepeatableOperations: Set<String> = ["checkIn"]

    /// How the offline queue should treat this failure.
    package var disposition: Disposition {
        switch self {
        case .noAnswer:
            return .ambiguous
        case .undecodableBody(let operation, let status, _)
        where (200..<300).contains(status) && Self.unrepeatableOperations.contains(operation):
            return .accepted
        case .network, .timeout, .tls, .undecodableBody, .cancelled:
            return .retryable
        case .http(_, let status, _):
            if status == 401 { return .authentication }
            if status == 429 || status >= 500 { return .retryable }
            return .final
        case .configuration, .credentials:
            return .final
        }
    }

    /// The HTTP status when the server answered, else nil.
    package var httpStatus: Int? {
        switch self {
        case .http(_, let status, _): return status
        case .undecodableBody(_, let status, _): return status
        default: return nil
        }
    }

    /// The operation that failed, when known.
    package var operation: String? {
        switch self {
        case .network(let operation, _, _), .timeout(let operation, _, _), .tls(let operation, _, _),
            .noAnswer(let operation, _, _),
            .http(let operation, _, _), .undecodableBody(let operation, _, _), .cancelled(let operation):
            return operation
        case .configuration, .credentials:
            return nil
        }
    }

    package var description: String {
        switch self {
        case .network(let operation, let url, let message):
            return "\(operation): cannot reach \(url): \(message). Check the network, the server URL and any proxy settings."
        case .timeout(let operation, let url, let seconds):
            return "\(operation): \(url) did not answer within \(formatSeconds(seconds)). Check the network or raise the timeout."
        case .tls(let operation, let url, let message):
            return
                "\(operation): TLS with \(url) failed: \(message). Check the system clock, the server certificate and the CA file setting."
        case .http(let operation, let status, let message):
            return "\(operation): the server answered \(status) \(statusHint(status)): \(message)"
        case .undecodableBody(let operation, let status, let detail):
            return
                "\(operation): the server's \(status) answer does not match the API contract (\(detail)). Check that the URL points at a Face AiDee server and not a proxy page."
        case .noAnswer(let operation, let url, let message):
            return
                "\(operation): \(url) gave no answer: \(message). The server may have recorded it; it is not sent again unless outbox.ambiguous allows one more try."
        case .cancelled(let operation):
            return "\(operation): cancelled"
        case .configuration(let problem):
            return problem
        case .credentials(let path, let problem):
            return "API credentials \(path): \(problem)"
        }
    }
}

private func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
}

/// A few words saying what a status means for whoever reads the message.
private func statusHint(_ status: Int) -> String {
    switch status {
    case 400: return "(invalid input)"
    case 401: return "(credentials or token refused; check the API key and secret)"
    case 403: return "(not allowed; check the project id and the account's rights)"
    case 404: return "(not found)"
    case 409: return "(valid input, but the conditions are not met)"
    case 429: return "(too many requests; retry later)"
    case 500...599: return "(server error; retry later)"
    default: return ""
    }
}
