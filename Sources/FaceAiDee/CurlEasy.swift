// The libcurl layer: global init, a small pool of easy handles, and one blocking transfer.
// Every C pointer and curl type stays in this file.

import CCurl
import Dispatch
import HTTPTypes
import Synchronization

/// libcurl's process-wide set-up, done exactly once (Swift runs a static `let` initialiser once,
/// thread-safely) before the first handle is created.
enum CurlGlobal {
    static let initResult: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    /// Throws when libcurl could not initialise (out of memory or a broken TLS library).
    static func ensure() throws(FaceAiDeeError) {
        guard initResult == CURLE_OK else {
            throw .configuration("libcurl failed to initialise: \(String(cString: curl_easy_strerror(initResult)))")
        }
    }

    /// The libcurl version string, e.g. "libcurl/7.88.1 OpenSSL/3.0.15 ...".
    static var version: String { String(cString: curl_version()) }
}

/// A few idle easy handles kept for reuse: a reused handle keeps its connection cache, so
/// back-to-back calls to the same server skip the TCP and TLS handshakes.
///
/// Invariant: a handle is either in `idle` (owned by the pool) or held by exactly one transfer;
/// the mutex guards `idle`, and no handle is ever used by two threads at once.
final class CurlHandlePool: Sendable {
    /// An idle handle. Sendable because the pool hands each handle to one thread at a time.
    private struct IdleHandle: @unchecked Sendable {
        let pointer: UnsafeMutableRawPointer
    }
    private struct Idle: ~Copyable {
        var handles: [IdleHandle] = []
    }
    private let idle = Mutex(Idle())
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// A handle reset to defaults (connection cache kept), or a new one.
    func acquire() throws(FaceAiDeeError) -> UnsafeMutableRawPointer {
        try CurlGlobal.ensure()
        if let handle = idle.withLock({ $0.handles.popLast() }) {
            curl_easy_reset(handle.pointer)
            return handle.pointer
        }
        guard let handle = curl_easy_init() else {
            throw .configuration("libcurl could not create a transfer handle (out of memory?)")
        }
        return handle
    }

    /// Returns a handle to the pool, or frees it when the pool is full.
    func release(_ handle: UnsafeMutableRawPointer) {
        let entry = IdleHandle(pointer: handle)
        let kept = idle.withLock { state -> Bool in
            guard state.handles.count < capacity else { return false }
            state.handles.append(entry)
            return true
        }
        if !kept { curl_easy_cleanup(handle) }
    }

    deinit {
        idle.withLock { state in
            for handle in state.handles { curl_easy_cleanup(handle.pointer) }
            state.handles.removeAll()
        }
    }
}

/// What one transfer needs: the request as plain values.
struct CurlRequest: Sendable {
    var url: String
    var method: String
    var headerLines: [String]
    /// The body; nil sends none. Kept alive by the transfer until curl_easy_perform returns.
    var body: [UInt8]?
    var operation: String
    /// False for a request the server must not receive twice (a check-in): libcurl's own
    /// resend on a reused connection that died without an answer is then refused (see
    /// `CurlTransfer.perform`), and a failure after the whole request went out is reported as
    /// ``FaceAiDeeError/noAnswer(operation:url:message:)``.
    var repeatable: Bool = true
}

/// The transport options a transfer applies (see ``CurlTransport/Options``).
struct CurlSettings: Sendable {
    var connectTimeoutMilliseconds: Int
    var requestTimeoutMilliseconds: Int
    var verifyTLS: Bool
    var caFile: String?
    var userAgent: String
    var maxResponseBytes: Int
}

/// What came back.
struct CurlResponse: Sendable {
    var status: Int
    var headers: HTTPFields
    var body: [UInt8]
}

/// The state libcurl's callbacks touch during one transfer.
///
/// Invariant: between `curl_easy_perform`'s start and return, only the transfer thread touches
/// the mutable fields (libcurl calls the callbacks on that thread); `cancelled` is atomic because
/// a task's cancellation handler sets it from another thread. The object outlives the transfer
/// because `perform` holds it across the call.
final class CurlTransferState: @unchecked Sendable {
    let cancelled = Atomic<Bool>(false)
    let maxResponseBytes: Int
    var status = 0
    var headers = HTTPFields()
    var body: [UInt8] = []
    var overflowed = false
    /// The request body when libcurl reads it through `readCallback` (unrepeatable requests),
    /// and how much of it libcurl has taken.
    var upload: [UInt8] = []
    var uploadOffset = 0

    init(maxResponseBytes: Int) { self.maxResponseBytes = maxResponseBytes }

    func appendHeaderLine(_ line: Substring) {
        let trimmed = line.trimmingSuffix(while: { $0 == "\r" || $0 == "\n" })
        if trimmed.hasPrefix("HTTP/") {
            // A new status line starts a new response (e.g. after `100 Continue`): forget the old headers.
            headers = HTTPFields()
            let parts = trimmed.split(separator: " ", maxSplits: 2)
            if parts.count >= 2, let code = Int(parts[1]) { status = code }
            return
        }
        guard let colon = trimmed.firstIndex(of: ":") else { return }
        let name = String(trimmed[..<colon])
        let value = trimmed[trimmed.index(after: colon)...].trimmingPrefix(while: { $0 == " " || $0 == "\t" })
        if let fieldName = HTTPField.Name(name) {
            headers.append(HTTPField(name: fieldName, value: String(value)))
        }
    }
}

extension Substring {
    fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> Substring {
        var end = endIndex
        while end > startIndex, predicate(self[index(before: end)]) { end = index(before: end) }
        return self[startIndex..<end]
    }
    fileprivate func trimmingPrefix(while predicate: (Character) -> Bool) -> Substring {
        var start = startIndex
        while start < endIndex, predicate(self[start]) { start = index(after: start) }
        return self[start..<endIndex]
    }
}

// MARK: C callbacks (no captures: the transfer state travels through the user-data pointer)

private let writeCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, user in
    guard let user else { return 0 }
    let state = Unmanaged<CurlTransferState>.fromOpaque(user).takeUnretainedValue()
    let length = size * count
    guard length > 0, let data else { return length }
    guard state.body.count + length <= state.maxResponseBytes else {
        state.overflowed = true
        return 0  // tells libcurl to stop: CURLE_WRITE_ERROR
    }
    data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
        state.body.append(contentsOf: UnsafeBufferPointer(start: bytes, count: length))
    }
    return length
}

private let headerCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, user in
    guard let user else { return 0 }
    let length = size * count
    guard length > 0, let data else { return length }
    let state = Unmanaged<CurlTransferState>.fromOpaque(user).takeUnretainedValue()
    let line = data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
        String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self)
    }
    state.appendHeaderLine(line[...])
    return length
}

/// Hands libcurl the next piece of an unrepeatable request's body. Used instead of
/// CURLOPT_POSTFIELDS because a read callback without a seek callback cannot be rewound: when a
/// reused connection dies after the request went out, libcurl would otherwise send the same POST
/// again on a new connection by itself, and the server could record it twice.
private let readCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    buffer, size, count, user in
    guard let user, let buffer else { return 0 }
    let state = Unmanaged<CurlTransferState>.fromOpaque(user).takeUnretainedValue()
    let length = min(size * count, state.upload.count - state.uploadOffset)
    guard length > 0 else { return 0 }
    state.upload.withUnsafeBytes { raw in
        guard let base = raw.baseAddress else { return }
        UnsafeMutableRawPointer(buffer).copyMemory(from: base + state.uploadOffset, byteCount: length)
    }
    state.uploadOffset += length
    return length
}

/// Refuses every rewind of an unrepeatable body, so libcurl fails with CURLE_SEND_FAIL_REWIND
/// instead of sending the request a second time.
private let refuseSeekCallback: @convention(c) (UnsafeMutableRawPointer?, curl_off_t, Int32) -> Int32 = { _, _, _ in
    Int32(CURL_SEEKFUNC_CANTSEEK)
}

/// Called by libcurl about once a second and on progress; a non-zero return aborts the transfer
/// (CURLE_ABORTED_BY_CALLBACK), which is how task cancellation reaches a blocked perform.
private let progressCallback: @convention(c) (UnsafeMutableRawPointer?, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> Int32 = {
    user, _, _, _, _ in
    guard let user else { return 0 }
    let state = Unmanaged<CurlTransferState>.fromOpaque(user).takeUnretainedValue()
    return state.cancelled.load(ordering: .relaxed) ? 1 : 0
}

// MARK: The transfer

/// A queue for one blocking transfer.
///
/// On Linux Swift's cooperative pool *is* libdispatch's global concurrent queue, limited to one
/// thread per core; a concurrent queue targets that same pool, so blocking transfers there would
/// starve every task in the process (seen: a loopback server's async handlers could not run
/// while two transfers waited for them). A private serial queue targets the overcommit pool,
/// which always gives it a thread of its own. One queue per transfer costs a few hundred bytes.
func makeTransferQueue() -> DispatchQueue {
    DispatchQueue(label: "kiosk.faceaidee.curl-transfer")
}

enum CurlTransfer {
    /// Runs one transfer to completion on the calling thread (call it on a queue from `makeTransferQueue()`).
    static func perform(
        _ request: CurlRequest, settings: CurlSettings, pool: CurlHandlePool, state: CurlTransferState
    ) -> Result<CurlResponse, FaceAiDeeError> {
        let handle: UnsafeMutableRawPointer
        do { handle = try pool.acquire() } catch { return .failure(error) }
        defer { pool.release(handle) }

        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headerList) }
        for line in request.headerLines {
            guard let appended = curl_slist_append(headerList, line) else {
                return .failure(.configuration("libcurl could not build the request headers (out of memory?)"))
            }
            headerList = appended
        }

        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }

        let userData = Unmanaged.passUnretained(state).toOpaque()
        var setupCode = CURLE_OK
        func set(_ code: CURLcode) { if setupCode == CURLE_OK { setupCode = code } }

        set(ccurl_setopt_string(handle, CURLOPT_URL, request.url))
        // Only HTTP(S): a redirect or a typo cannot turn the client into a file or FTP reader.
        set(ccurl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"))
        set(ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, settings.connectTimeoutMilliseconds))
        set(ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, settings.requestTimeoutMilliseconds))
        set(ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, settings.verifyTLS ? 1 : 0))
        set(ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, settings.verifyTLS ? 2 : 0))
        if let caFile = settings.caFile { set(ccurl_setopt_string(handle, CURLOPT_CAINFO, caFile)) }
        set(ccurl_setopt_string(handle, CURLOPT_USERAGENT, settings.userAgent))
        set(ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        set(ccurl_setopt_write_function(handle, writeCallback))
        set(ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, userData))
        set(ccurl_setopt_header_function(handle, headerCallback))
        set(ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, userData))
        set(ccurl_setopt_long(handle, CURLOPT_NOPROGRESS, 0))
        set(ccurl_setopt_xferinfo_function(handle, progressCallback))
        set(ccurl_setopt_pointer(handle, CURLOPT_XFERINFODATA, userData))
        set(ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))
        // Proxies come from http_proxy/https_proxy/no_proxy: libcurl reads them by default.

        let method = request.method.uppercased()
        // The body must stay valid until curl_easy_perform returns: it lives in this frame.
        var body = request.body ?? []
        let sendsBody = request.body != nil || method == "POST" || method == "PUT" || method == "PATCH"
        let performCode: CURLcode = body.withUnsafeMutableBytes { raw -> CURLcode in
            if method == "GET" {
                set(ccurl_setopt_long(handle, CURLOPT_HTTPGET, 1))
            } else if method == "HEAD" {
                set(ccurl_setopt_long(handle, CURLOPT_NOBODY, 1))
            } else {
                if sendsBody {
                    set(ccurl_setopt_long(handle, CURLOPT_POST, 1))
                    set(ccurl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(raw.count)))
                    if request.repeatable {
                        // An empty body still needs a valid pointer; libcurl reads zero bytes from it.
                        set(ccurl_setopt_pointer(handle, CURLOPT_POSTFIELDS, raw.baseAddress ?? UnsafeMutableRawPointer(errorBuffer)))
                    } else {
                        state.upload = request.body ?? []
                        state.uploadOffset = 0
                        set(ccurl_setopt_read_function(handle, readCallback))
                        set(ccurl_setopt_pointer(handle, CURLOPT_READDATA, userData))
                        set(ccurl_setopt_seek_function(handle, refuseSeekCallback))
                        set(ccurl_setopt_pointer(handle, CURLOPT_SEEKDATA, userData))
                    }
                }
                if method != "POST" { set(ccurl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)) }
            }
            guard setupCode == CURLE_OK else { return setupCode }
            return curl_easy_perform(handle)
        }

        if setupCode != CURLE_OK {
            return .failure(
                .configuration("\(request.operation): libcurl refused an option: \(String(cString: curl_easy_strerror(setupCode)))"))
        }
        guard performCode == CURLE_OK else {
            let reach = reach(of: performCode, handle: handle, bodyBytes: request.body?.count ?? 0)
            return .failure(
                mapError(
                    performCode, errorBuffer: errorBuffer, request: request, settings: settings, state: state, reach: reach,
                    verifyResult: verifyResult(handle)))
        }
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        if status == 0 { status = state.status }
        return .success(CurlResponse(status: status, headers: state.headers, body: state.body))
    }

    /// How far a failed transfer got, from libcurl's own counters.
    ///
    /// Nothing reached the server when the name did not resolve, the connection or the TLS
    /// handshake failed (libcurl sends the request only after the handshake and the certificate
    /// check), or the transfer never reached its request phase (`CURLINFO_PRETRANSFER_TIME_T`
    /// is 0, e.g. a connect timeout), or the body was cut short (a server cannot act on half a
    /// request: it knows the length). A dead reused connection that libcurl wanted to resend on
    /// (CURLE_SEND_FAIL_REWIND) means the whole request did go out once.
    private static func reach(of code: CURLcode, handle: UnsafeMutableRawPointer, bodyBytes: Int) -> TransferReach {
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT,
            CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_CRL_BADFILE, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
            CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return .notSent
        case CURLE_SEND_FAIL_REWIND:
            return .sentWithoutAnswer
        default:
            break
        }
        var pretransfer: curl_off_t = 0
        var headerBytes = 0
        var uploaded: curl_off_t = 0
        _ = ccurl_getinfo_off(handle, CURLINFO_PRETRANSFER_TIME_T, &pretransfer)
        _ = ccurl_getinfo_long(handle, CURLINFO_REQUEST_SIZE, &headerBytes)
        _ = ccurl_getinfo_off(handle, CURLINFO_SIZE_UPLOAD_T, &uploaded)
        if pretransfer == 0 && headerBytes == 0 { return .notSent }
        if headerBytes == 0 || Int(uploaded) < bodyBytes { return .notSent }
        return .sentWithoutAnswer
    }

    /// OpenSSL's verdict on the server's certificate (`X509_V_ERR_*`, 0 = ok), for the TLS message.
    private static func verifyResult(_ handle: UnsafeMutableRawPointer) -> Int {
        var result = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_SSL_VERIFYRESULT, &result)
        return result
    }

    private static func mapError(
        _ code: CURLcode, errorBuffer: UnsafeMutablePointer<CChar>, request: CurlRequest, settings: CurlSettings,
        state: CurlTransferState, reach: TransferReach, verifyResult: Int
    ) -> FaceAiDeeError {
        let detail = String(cString: errorBuffer)
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        // An unrepeatable request that went out whole and got no answer: the server may have
        // acted on it, which no other error case says. TLS failures never get here (notSent).
        if !request.repeatable, reach == .sentWithoutAnswer, !(code == CURLE_WRITE_ERROR && state.overflowed) {
            let what: String
            switch code {
            case CURLE_OPERATION_TIMEDOUT:
                what = "no answer within \(Double(settings.requestTimeoutMilliseconds) / 1000) s"
            case CURLE_ABORTED_BY_CALLBACK:
                what = "the call was cancelled while waiting for the answer"
            case CURLE_SEND_FAIL_REWIND:
                what = "the reused connection closed without an answer (\(message))"
            default:
                what = message
            }
            return .noAnswer(
                operation: request.operation, url: request.url,
                message: "\(what), after the whole request (\(request.body?.count ?? 0) bytes of body) had been sent")
        }
        switch code {
        case CURLE_ABORTED_BY_CALLBACK:
            return .cancelled(operation: request.operation)
        case CURLE_OPERATION_TIMEDOUT:
            let connectPhase = message.lowercased().contains("connect")
            let limit = connectPhase ? settings.connectTimeoutMilliseconds : settings.requestTimeoutMilliseconds
            return .timeout(operation: request.operation, url: request.url, seconds: Double(limit) / 1000)
        case CURLE_WRITE_ERROR where state.overflowed:
            return .undecodableBody(
                operation: request.operation, status: state.status,
                detail: "the answer is larger than \(settings.maxResponseBytes) bytes")
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
            CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_CRL_BADFILE,
            CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_ENGINE_NOTFOUND,
            CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_SHUTDOWN_FAILED:
            return .tls(operation: request.operation, url: request.url, message: tlsMessage(message, verifyResult: verifyResult))
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return .configuration("\(request.operation): the URL \(request.url) is not usable: \(message). Check the server URL setting.")
        default:
            return .network(operation: request.operation, url: request.url, message: message)
        }
    }

    /// libcurl's error buffer already names the certificate problem (e.g. "SSL certificate
    /// problem: certificate has expired", "no alternative certificate subject name matches
    /// target host name"); OpenSSL's verify code is added for the few it does not spell out.
    private static func tlsMessage(_ message: String, verifyResult: Int) -> String {
        guard verifyResult != 0 else { return message }
        return "\(message) (certificate verify result \(verifyResult))"
    }
}

/// How far a failed request got: whether the server can have acted on it.
enum TransferReach: Sendable, Equatable {
    /// Nothing the server could act on left the device (DNS, refused, TLS, cut-short upload).
    case notSent
    /// The whole request went out and no answer came back.
    case sentWithoutAnswer
}
