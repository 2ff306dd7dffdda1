// Hummingbird middleware: error bodies, fault injection, body size limit.
import AiDeeAPI
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import OpenAPIRuntime

/// The request context: Hummingbird's basics plus the connection, which the `drop` fault closes.
struct SimulatorRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    // The body limit is enforced (with a 400) by `BodyLimitMiddleware`; this only stops
    // Hummingbird's own collection from refusing first.
    var maxUploadSize: Int { Int.max }
}

/// Every failure becomes the contract's `Error` body `{code, message}`.
///
/// Errors a handler throws arrive wrapped in the runtime's `ServerError`: a `SimulatorAPIError`
/// keeps its status; a failure before the handler ran (undecodable JSON, wrong types, invalid
/// base64, a missing header or a malformed path parameter) is the client's: 400; anything else
/// is a 500 whose message names the cause.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = SimulatorRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let (status, message) = Self.classify(error)
            if status >= 500 {
                // Only the message: a ServerError's own description repeats the request and its
                // input, which hold the token and the face image.
                logger.error("request failed", metadata: ["http.path": "\(request.uri.path)", "error": "\(message)"])
            }
            return Self.errorResponse(status: status, message: message)
        }
    }

    static func classify(_ error: any Error) -> (Int, String) {
        if let api = error as? SimulatorAPIError { return (api.status, api.message) }
        if let server = error as? ServerError {
            if let api = server.underlyingError as? SimulatorAPIError { return (api.status, api.message) }
            if server.operationInput == nil {
                return (400, "invalid input: \(Self.describe(server.underlyingError))")
            }
            return (500, "server error in \(server.operationID): \(server.underlyingError)")
        }
        if let http = error as? HTTPError {
            let code = Int(http.status.code)
            return (code == 413 ? 400 : code, http.body ?? http.status.reasonPhrase)
        }
        return (500, "server error: \(error)")
    }

    /// A short, actionable reason for a decoding failure (DecodingError's default text is long).
    private static func describe(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "\(error)" }
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            // An empty path is a top-level value: the body itself, or a path or header parameter.
            return p.isEmpty ? "a path id, header or the body" : p
        }
        switch decoding {
        case .typeMismatch(let type, let c): return "\(path(c)): expected \(type). \(c.debugDescription)"
        case .valueNotFound(let type, let c): return "\(path(c)): missing \(type)"
        case .keyNotFound(let key, let c): return "\(path(c)): missing field '\(key.stringValue)'"
        case .dataCorrupted(let c): return "\(path(c)): \(c.debugDescription)"
        @unknown default: return "\(decoding)"
        }
    }

    static func errorResponse(status: Int, message: String) -> Response {
        let body = Components.Schemas._Error(code: status, message: message)
        let data = (try? JSONEncoder().encode(body)) ?? Data("{\"code\":\(status),\"message\":\"error\"}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Applies the fault rules to API operations (never to `/_sim/` or `/openapi.yaml`).
struct FaultMiddleware: RouterMiddleware {
    typealias Context = SimulatorRequestContext
    let faults: FaultInjector
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let operation = SimulatorOperation.match(method: request.method.rawValue, path: request.uri.path) else {
            return try await next(request, context)
        }
        let (latency, failure) = faults.decide(for: operation)
        if latency > 0 {
            try await Task.sleep(for: .milliseconds(latency))
        }
        if failure == nil, let offset = faults.dateOffset(for: operation) {
            // The answer (or the error it becomes) carries the offset to `DateShiftHandler`,
            // which rewrites `Date` after Hummingbird has set it.
            var response: Response
            do {
                response = try await next(request, context)
            } catch {
                let (status, message) = ErrorMiddleware.classify(error)
                response = ErrorMiddleware.errorResponse(status: status, message: message)
            }
            response.headers[DateShiftHandler.offsetField] = "\(offset)"
            return response
        }
        switch failure {
        case .status(let code)?:
            logger.debug("injected status", metadata: ["sim.operation": "\(operation.rawValue)", "http.status": "\(code)"])
            return ErrorMiddleware.errorResponse(status: code, message: "injected fault: \(operation.rawValue) answers \(code)")
        case .drop?:
            logger.debug("injected drop", metadata: ["sim.operation": "\(operation.rawValue)"])
            // Close the connection without a response; the client sees an empty reply / reset.
            context.channel.close(mode: .all, promise: nil)
            throw SimulatorAPIError(500, "injected drop")
        case .dropAfterProcessing?:
            // The operation runs to the end (a check-in is stored), then the answer is lost.
            _ = try await next(request, context)
            logger.debug("injected drop after processing", metadata: ["sim.operation": "\(operation.rawValue)"])
            context.channel.close(mode: .all, promise: nil)
            throw SimulatorAPIError(500, "injected drop after processing")
        case .malformedSuccess?:
            let response = try await next(request, context)
            guard response.status.kind == .successful else { return response }
            logger.debug("injected malformed success", metadata: ["sim.operation": "\(operation.rawValue)"])
            // Same status, a body from "another version" of the API: fields renamed and nested.
            var headers = response.headers
            headers[.contentType] = "application/json"
            let body = #"{"result":{"uid":"u-1","state":"ok","score":0.91},"api":"v2"}"#
            headers[.contentLength] = "\(body.utf8.count)"
            return Response(status: response.status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
        case .latency?, .dateOffset?, nil:
            return try await next(request, context)
        }
    }
}

/// Refuses bodies over the limit with a 400 (the contract lists oversize bodies as bad input).
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = SimulatorRequestContext
    let limit: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw SimulatorAPIError.badRequest("request body of \(length) bytes is over the limit of \(limit) bytes")
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw SimulatorAPIError.badRequest("request body is over the limit of \(limit) bytes")
        }
        return try await next(request, context)
    }
}
