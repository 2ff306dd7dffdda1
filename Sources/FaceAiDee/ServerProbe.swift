// ServerProbe: one unauthenticated GET that says how far a connection to the API gets (name,
// TCP, TLS, HTTP), with the server's certificate and its clock, for `kioskctl doctor`.
import CCurl
import Dispatch
package import Foundation

/// The server's TLS certificate as libcurl reports it (`CURLINFO_CERTINFO`).
package struct ServerCertificate: Sendable, Hashable {
    /// The subject, e.g. `CN=api.example.com`.
    package var subject: String
    /// The issuer, e.g. `C=US, O=Let's Encrypt, CN=R11`.
    package var issuer: String
    /// End of validity, when libcurl's text could be read.
    package var notAfter: Date?
    /// The subject alternative names, e.g. `DNS:api.example.com`, `IP Address:127.0.0.1`.
    package var alternativeNames: [String]

    /// True when the certificate names `host` (a SAN entry, wildcards one label deep, else the
    /// subject's CN when there is no SAN at all: the rule TLS clients apply).
    package func names(_ host: String) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        var candidates: [String] = []
        for entry in alternativeNames {
            let parts = entry.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 { candidates.append(parts[1].lowercased()) }
        }
        if alternativeNames.isEmpty, let cn = Self.commonName(subject) { candidates.append(cn.lowercased()) }
        return candidates.contains { name in
            if name == host { return true }
            guard name.hasPrefix("*."), let dot = host.firstIndex(of: ".") else { return false }
            return host[dot...] == name.dropFirst()
        }
    }

    static func commonName(_ subject: String) -> String? {
        for part in subject.split(whereSeparator: { $0 == "," || $0 == "/" }) {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("CN=") || trimmed.hasPrefix("CN = ") {
                return String(trimmed.split(separator: "=", maxSplits: 1)[1]).trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// Reads libcurl's `Expire date` text: OpenSSL prints `Jan 31 00:00:00 2020 GMT`, other
    /// back ends `2020-01-31 00:00:00 GMT`.
    static func parseDate(_ text: String) -> Date? {
        let collapsed = text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["MMM d HH:mm:ss yyyy zzz", "yyyy-MM-dd HH:mm:ss zzz", "MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: collapsed) { return date }
        }
        return nil
    }
}

/// How far one request to the server got, and what it learned on the way.
package struct ServerProbeResult: Sendable {
    /// The phase a failed request stopped in.
    package enum Stage: String, Sendable {
        /// The URL itself is unusable.
        case url
        /// The host name did not resolve.
        case dns
        /// No TCP connection (refused, unreachable, timed out).
        case connect
        /// The TLS handshake or the certificate check failed.
        case tls
        /// Connected, but no complete HTTP answer.
        case http
    }

    /// The URL asked for.
    package var url: String
    /// Where it failed; nil when an HTTP answer came back.
    package var failedStage: Stage?
    /// libcurl's message for the failure.
    package var message: String?
    /// The address connected to.
    package var address: String?
    /// Seconds from the start to the end of each phase (libcurl's timers).
    package var nameLookupSeconds: Double?
    package var connectSeconds: Double?
    package var tlsSeconds: Double?
    /// The certificate the server showed (https only).
    package var certificate: ServerCertificate?
    /// OpenSSL's verdict on the certificate (`X509_V_ERR_*`; 0 = trusted), https only.
    package var verifyResult: Int?
    /// The HTTP status of the answer.
    package var status: Int?
    /// The server's `Date` header.
    package var serverDate: Date?
    /// This machine's clock when the answer arrived.
    package var receivedAt: Date
}

/// One GET to the API without credentials: it tells name resolution, TCP, TLS and HTTP apart,
/// and brings back the certificate and the server's `Date`. Sends no secret and changes
/// nothing on the server.
package enum ServerProbe {
    /// Probes `path` under the API base path (`/projects` answers 401 without a token: proof
    /// that the API, not just some web server, is there).
    /// - Parameter verifyTLS: overrides the configuration's setting (a second look at a
    ///   certificate that failed verification, to describe it).
    package static func probe(
        _ configuration: FaceAiDeeConfiguration, path: String = "/projects", verifyTLS: Bool? = nil
    ) async -> ServerProbeResult {
        let url: String
        do {
            url = try FaceAiDeeClient.serverURL(configuration.baseURL).absoluteString + path
        } catch {
            return ServerProbeResult(
                url: configuration.baseURL, failedStage: .url, message: error.description, receivedAt: Date())
        }
        var settings = configuration
        if let verifyTLS { settings.verifyTLS = verifyTLS }
        let chosen = settings
        return await withCheckedContinuation { continuation in
            makeTransferQueue().async { continuation.resume(returning: perform(url: url, configuration: chosen)) }
        }
    }

    /// The blocking transfer; runs on a transfer queue.
    private static func perform(url: String, configuration: FaceAiDeeConfiguration) -> ServerProbeResult {
        var result = ServerProbeResult(url: url, receivedAt: Date())
        do { try CurlGlobal.ensure() } catch {
            result.failedStage = .url
            result.message = error.description
            return result
        }
        guard let handle = curl_easy_init() else {
            result.failedStage = .url
            result.message = "libcurl could not create a transfer handle (out of memory?)"
            return result
        }
        defer { curl_easy_cleanup(handle) }
        let headers = ProbeHeaders()
        let userData = Unmanaged.passUnretained(headers).toOpaque()
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }

        func milliseconds(_ d: Duration) -> Int {
            Int(d.components.seconds) * 1000 + Int(d.components.attoseconds / 1_000_000_000_000_000)
        }
        _ = ccurl_setopt_string(handle, CURLOPT_URL, url)
        _ = ccurl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(configuration.connectTimeout))
        _ = ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, milliseconds(configuration.requestTimeout))
        _ = ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, configuration.verifyTLS ? 1 : 0)
        _ = ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, configuration.verifyTLS ? 2 : 0)
        if let caFile = configuration.caFile { _ = ccurl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
        _ = ccurl_setopt_long(handle, CURLOPT_CERTINFO, 1)
        _ = ccurl_setopt_string(handle, CURLOPT_USERAGENT, configuration.userAgent)
        _ = ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        _ = ccurl_setopt_write_function(handle, discardBody)
        _ = ccurl_setopt_header_function(handle, collectHeader)
        _ = ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, userData)
        _ = ccurl_setopt_long(handle, CURLOPT_HTTPGET, 1)

        let code = curl_easy_perform(handle)
        result.receivedAt = Date()

        var text: UnsafeMutablePointer<CChar>? = nil
        if ccurl_getinfo_string(handle, CURLINFO_PRIMARY_IP, &text) == CURLE_OK, let text, text.pointee != 0 {
            result.address = String(cString: text)
        }
        func seconds(_ info: CURLINFO) -> Double? {
            var value: curl_off_t = 0
            guard ccurl_getinfo_off(handle, info, &value) == CURLE_OK, value > 0 else { return nil }
            return Double(value) / 1e6
        }
        result.nameLookupSeconds = seconds(CURLINFO_NAMELOOKUP_TIME_T)
        result.connectSeconds = seconds(CURLINFO_CONNECT_TIME_T)
        result.tlsSeconds = seconds(CURLINFO_APPCONNECT_TIME_T)
        if url.lowercased().hasPrefix("https:") {
            var verify = 0
            _ = ccurl_getinfo_long(handle, CURLINFO_SSL_VERIFYRESULT, &verify)
            result.verifyResult = verify
            result.certificate = certificate(handle)
        }

        guard code == CURLE_OK else {
            let detail = String(cString: errorBuffer)
            result.message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            switch code {
            case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: result.failedStage = .url
            case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: result.failedStage = .dns
            case CURLE_COULDNT_CONNECT: result.failedStage = .connect
            case CURLE_OPERATION_TIMEDOUT where result.connectSeconds == nil:
                result.failedStage = result.nameLookupSeconds == nil && result.address == nil ? .dns : .connect
            case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
                CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_CRL_BADFILE, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
                CURLE_SSL_INVALIDCERTSTATUS:
                result.failedStage = .tls
            default: result.failedStage = .http
            }
            return result
        }
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        result.status = status
        result.serverDate = headers.date.flatMap(parseHTTPDate)
        return result
    }

    /// The leaf certificate's fields from `CURLINFO_CERTINFO` (the first certificate of the chain).
    private static func certificate(_ handle: UnsafeMutableRawPointer) -> ServerCertificate? {
        var info: UnsafeMutablePointer<curl_certinfo>? = nil
        guard ccurl_getinfo_certinfo(handle, &info) == CURLE_OK, let info, info.pointee.num_of_certs > 0,
            let chain = info.pointee.certinfo, let first = chain[0]
        else { return nil }
        var fields: [(String, String)] = []
        var entry: UnsafeMutablePointer<curl_slist>? = first
        while let current = entry {
            if let data = current.pointee.data {
                let line = String(cString: data)
                if let colon = line.firstIndex(of: ":") {
                    fields.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
                }
            }
            entry = current.pointee.next
        }
        func field(_ name: String) -> String? { fields.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1 }
        let alternative =
            field("X509v3 Subject Alternative Name")?.split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            } ?? []
        return ServerCertificate(
            subject: field("Subject") ?? "", issuer: field("Issuer") ?? "",
            notAfter: field("Expire date").flatMap(ServerCertificate.parseDate), alternativeNames: alternative)
    }

    /// An HTTP date (RFC 9110 IMF-fixdate, e.g. `Sun, 06 Dec 2026 23:41:36 GMT`).
    package static func parseHTTPDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text.trimmingCharacters(in: .whitespaces))
    }
}

/// The one header the probe keeps. Touched only by the transfer thread while it runs.
private final class ProbeHeaders: @unchecked Sendable {
    var date: String?
}

private let discardBody: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    _, size, count, _ in size * count
}

private let collectHeader: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, user in
    let length = size * count
    guard let user, let data, length > 0 else { return length }
    let headers = Unmanaged<ProbeHeaders>.fromOpaque(user).takeUnretainedValue()
    let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
        String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
    }
    if line.lowercased().hasPrefix("date:") {
        headers.date = String(line.dropFirst(5)).trimmingCharacters(in: .whitespacesAndNewlines)
    }
    return length
}
