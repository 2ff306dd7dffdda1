// ContractStrictnessMiddleware: what a real Face AiDee server refuses before any operation runs,
// and the generated server stubs alone would let through or answer with the wrong status.
import AiDeeAPI
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
// ByteBuffer to Data (swift-nio, through Hummingbird).
import NIOFoundationEssentialsCompat

/// The contract's paths (under `/api/v1`) and the methods each declares, as in `openapi.yaml`.
/// `StrictnessTests` checks this table against the document, so the two cannot drift apart.
enum ContractRoutes {
    /// Path templates (`{name}` matches any one segment) and their methods, in the document's order.
    static let all: [(template: String, methods: [HTTPRequest.Method])] = [
        ("/auth/key", [.post]),
        ("/auth/token", [.post, .patch, .delete]),
        ("/projects", [.get]),
        ("/projects/{project_id}/users", [.post]),
        ("/projects/{project_id}/users/{user_id}", [.patch, .delete]),
        ("/projects/{project_id}/users/{user_id}/faces", [.get, .delete, .post]),
        ("/projects/{project_id}/users/{user_id}/faces/{face_id}", [.get, .patch, .delete]),
        ("/projects/{project_id}/check-in", [.post]),
        ("/projects/{project_id}/_search", [.post]),
    ]

    private static let split: [(segments: [Substring], methods: [HTTPRequest.Method])] = all.map {
        ($0.template.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { $0 }, $0.methods)
    }

    /// The methods the contract declares for a request path, or nil when no contract path matches
    /// (then the router's 404 stands). `path` is the full path, e.g. `/api/v1/projects/1/users`.
    static func methods(forPath path: String) -> [HTTPRequest.Method]? {
        var p = Substring(path)
        if let q = p.firstIndex(of: "?") { p = p[..<q] }
        let prefix = AiDeeAPIDocument.basePath + "/"
        guard p.hasPrefix(prefix) else { return nil }
        let parts = p.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        for route in split where route.segments.count == parts.count {
            let matches = zip(route.segments, parts).allSatisfy { template, part in
                template.hasPrefix("{") ? !part.isEmpty : template == part
            }
            if matches { return route.methods }
        }
        return nil
    }
}

/// Refuses, with the status a real server gives, what the generated stubs would mishandle:
///
/// - a method the contract does not declare on a contract path: **405** with `Allow` (the router
///   alone answers 404, as if the path did not exist);
/// - a missing, empty, unknown, expired or revoked `X-API-Token` on an operation that needs one:
///   **401**, before the body is read (the stubs answer a missing header with 400, and a bad token
///   only after decoding the body, so a malformed body hid the authentication failure);
/// - a JSON `null` for a field the contract declares: **400** (no request field of the contract is
///   nullable; the generated decoder reads `"properties": null` as "absent" and accepted it);
/// - an `image` that is not strict base64: **400** (the runtime skips unknown characters, so
///   line-wrapped or space-separated base64 was accepted).
///
/// It runs after fault injection (an injected fault still fires first) and after the body limit.
struct ContractStrictnessMiddleware: RouterMiddleware {
    typealias Context = SimulatorRequestContext
    let store: SimulatorStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard let methods = ContractRoutes.methods(forPath: path) else { return try await next(request, context) }
        guard methods.contains(request.method) else {
            var response = ErrorMiddleware.errorResponse(
                status: 405,
                message:
                    "method \(request.method.rawValue) is not allowed on \(path): use \(methods.map(\.rawValue).joined(separator: ", "))")
            response.headers[.allow] = methods.map(\.rawValue).joined(separator: ", ")
            return response
        }
        guard let operation = SimulatorOperation.match(method: request.method.rawValue, path: path) else {
            return try await next(request, context)
        }
        if Self.needsToken(operation) {
            guard let token = request.headers[Self.tokenHeader], !token.isEmpty else {
                throw SimulatorAPIError.unauthorized("the X-API-Token header is missing: issue a token with POST /auth/token")
            }
            guard try await store.account(forToken: token) != nil else {
                throw SimulatorAPIError.unauthorized("the token is unknown, expired or revoked: issue a new one with POST /auth/token")
            }
        }
        guard let declared = Self.declaredFields(operation) else { return try await next(request, context) }
        var request = request
        // Already collected (and limited) by BodyLimitMiddleware: this only reads the buffer.
        let body = try await request.collectBody(upTo: .max)
        try Self.checkBody(body, declared: declared, hasImage: declared.contains("image"))
        return try await next(request, context)
    }

    static let tokenHeader = HTTPField.Name("X-API-Token")!

    /// Every operation except issuing a key or a token takes `X-API-Token`.
    static func needsToken(_ operation: SimulatorOperation) -> Bool {
        operation != .issueKey && operation != .issueToken
    }

    /// The fields each request body declares in the contract, as dotted paths (`condition.group_id`).
    /// `null` is refused only for these: a field the contract does not name is an extra the
    /// contract allows (no `additionalProperties: false`) with any value, `null` included.
    static func declaredFields(_ operation: SimulatorOperation) -> Set<String>? {
        let condition: Set<String> = ["condition", "condition.group_id", "condition.properties"]
        switch operation {
        case .issueKey: return ["username", "password"]
        case .issueToken: return ["key", "secret"]
        case .createUser: return ["group_id", "registrant", "status", "properties"]
        case .updateUser: return ["group_id", "registrant", "properties"]
        case .addFace, .updateFace: return ["save_image", "image"]
        case .checkIn: return condition.union(["option", "image"])
        case .search: return condition.union(["image"])
        default: return nil
        }
    }

    /// Refuses (400) a declared field sent as JSON `null`, and an `image` that is not strict
    /// base64 (RFC 4648 alphabet, padded to a multiple of 4, nothing else: the contract's `pattern`).
    /// The runtime's decoder skips unknown characters, so a line-wrapped `base64` output or a stray
    /// character would otherwise pass here and fail on a real server.
    ///
    /// A byte scan finds whether a `null` literal exists outside strings at all (a base64 image is
    /// one long string, so this stays linear and cheap); the body is parsed only when it holds a
    /// `null` or an image. Text that is not JSON is left to the generated decoder (400).
    static func checkBody(_ body: ByteBuffer, declared: Set<String>, hasImage: Bool) throws(SimulatorAPIError) {
        let hasNull = Self.containsNullLiteral(body.readableBytesView)
        guard hasNull || hasImage else { return }
        guard let value = try? JSONSerialization.jsonObject(with: Data(buffer: body), options: [.fragmentsAllowed]) else {
            return
        }
        if value is NSNull { throw .badRequest("the body is null: send a JSON object") }
        if hasNull, let field = Self.nullField(in: value, prefix: "", declared: declared) {
            throw .badRequest("\(field) is null: leave an optional field out instead of sending null")
        }
        if hasImage, let image = (value as? [String: Any])?["image"] as? String, let offset = Self.base64Violation(image) {
            throw .badRequest(
                "image is not base64 (RFC 4648, padded, no line breaks or spaces): bad character or length at offset \(offset)")
        }
    }

    /// The offset of the first byte that breaks strict padded base64, or nil when `text` is valid.
    static func base64Violation(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        var padding = 0
        for (offset, byte) in bytes.enumerated() {
            let isAlphabet =
                (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/")
            if byte == UInt8(ascii: "=") {
                padding += 1
                // Padding only at the very end, at most two.
                guard padding <= 2, bytes.count - offset <= 2 else { return offset }
            } else if !isAlphabet || padding > 0 {
                return offset
            }
        }
        return bytes.count % 4 == 0 ? nil : bytes.count
    }

    private static func nullField(in value: Any, prefix: String, declared: Set<String>) -> String? {
        guard let object = value as? [String: Any] else { return nil }
        for key in object.keys.sorted() {
            let path = prefix + key
            guard declared.contains(path), let field = object[key] else { continue }
            if field is NSNull { return path }
            if let found = nullField(in: field, prefix: path + ".", declared: declared) { return found }
        }
        return nil
    }

    private static func containsNullLiteral(_ bytes: ByteBufferView) -> Bool {
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "n") {
                // Outside a string, the only JSON token starting with `n` is `null`.
                return true
            }
        }
        return false
    }
}
