// The doctor's server checks: DNS, TCP, TLS (certificate), HTTP, a token with the saved
// credentials, the project in the key's list, and the clock against the server's Date.
import AiDeeAPI
import FaceAiDee
import Foundation
import KioskCore

enum ServerCheck {
    /// Clock offsets above this are a warning: tokens and TLS validity depend on the clock.
    static let clockTolerance: Double = 30
    /// Certificates expiring sooner than this are a warning.
    static let expiryWarningDays = 21

    static func run(_ context: DoctorContext) async -> [DoctorResult] {
        guard let configuration = context.configuration else {
            return [.failed("server", "not checked: the configuration did not load", fix: "fix the configuration first")]
        }
        var api = configuration.apiClientConfiguration
        // Each step is short so the whole run stays within the doctor's budget.
        api.connectTimeout = min(api.connectTimeout, .seconds(3))
        api.requestTimeout = min(api.requestTimeout, .seconds(4))
        api.userAgent = "kioskctl-doctor"
        var results: [DoctorResult] = []
        let probe = await ServerProbe.probe(api)
        let host = URL(string: probe.url)?.host ?? api.baseURL

        if probe.failedStage == .url {
            return [.failed("server.url", probe.message ?? "unusable URL", fix: "fix api.url, e.g. https://api.example.com")]
        }
        // DNS
        if probe.failedStage == .dns {
            results.append(
                .failed(
                    "server.dns", "\(host) does not resolve: \(probe.message ?? "")",
                    fix: "check api.url's host name and the DNS server (resolvectl status; /etc/resolv.conf)"))
            return results + [clockUnknown()]
        }
        results.append(.ok("server.dns", probe.address.map { "\(host) resolves to \($0)" } ?? "\(host) resolves"))
        // TCP
        if probe.failedStage == .connect {
            results.append(
                .failed(
                    "server.tcp", "no TCP connection to \(probe.address ?? host): \(probe.message ?? "")",
                    fix: "check api.url's port, the network, and any firewall between the door and the server"))
            return results + [clockUnknown()]
        }
        results.append(
            .ok(
                "server.tcp",
                "connected to \(probe.address ?? host)" + (probe.connectSeconds.map { String(format: " in %.0f ms", $0 * 1000) } ?? "")))
        // TLS
        if probe.url.lowercased().hasPrefix("https:") {
            results.append(await tls(probe, api: api, host: host))
            if probe.failedStage == .tls { return results + [clockUnknown()] }
        } else if let warning = configuration.insecureTransportWarning {
            results.append(.warning("server.tls", warning, fix: "use an https:// api.url"))
        } else {
            results.append(.ok("server.tls", "plain http to a loopback address (no TLS needed)"))
        }
        // HTTP
        guard let status = probe.status, probe.failedStage == nil else {
            results.append(
                .failed(
                    "server.http", "no HTTP answer: \(probe.message ?? "")",
                    fix: "is api.url the Face AiDee server? check a proxy (https_proxy) or the server's logs"))
            return results + [clockUnknown()]
        }
        switch status {
        case 401, 403, 200:
            results.append(.ok("server.http", "the API answers (\(status) to GET \(URL(string: probe.url)?.path ?? "") without a token)"))
        case 404:
            results.append(
                .failed(
                    "server.http", "\(probe.url) answers 404: this is not the Face AiDee API",
                    fix: "api.url is the server root (https://api.example.com); the agent adds /api/v1"))
        default:
            results.append(
                .failed("server.http", "\(probe.url) answers \(status)", fix: "the server has a problem: check its status page or logs"))
        }
        results.append(clock(probe))
        results += await token(configuration, api: api, context: context)
        return results
    }

    /// TLS: trusted, host name, subject, issuer, days to expiry. A certificate that failed
    /// verification is fetched once more without verification, only to describe it.
    static func tls(_ probe: ServerProbeResult, api: FaceAiDeeConfiguration, host: String) async -> DoctorResult {
        var certificate = probe.certificate
        if probe.failedStage == .tls, certificate == nil {
            certificate = await ServerProbe.probe(api, verifyTLS: false).certificate
        }
        var facts: [String] = []
        var daysLeft: Int?
        if let certificate {
            facts.append("subject \(certificate.subject)")
            facts.append("issuer \(certificate.issuer)")
            if let notAfter = certificate.notAfter {
                let days = Int(floor(notAfter.timeIntervalSinceNow / 86400))
                daysLeft = days
                facts.append(days >= 0 ? "expires in \(days) days" : "EXPIRED \(-days) days ago")
            }
            facts.append(certificate.names(host) ? "names \(host)" : "does NOT name \(host)")
        }
        let described = facts.joined(separator: "; ")
        if probe.failedStage == .tls {
            let reason = probe.message ?? "handshake failed"
            var fix = "install a certificate for \(host) from a CA the kiosk trusts, or set api.ca_file to the private CA"
            if let daysLeft, daysLeft < 0 { fix = "renew the server's certificate (check this machine's clock too: date)" }
            if let certificate, !certificate.names(host) {
                fix = "use the host name the certificate names in api.url, or reissue it for \(host)"
            }
            return .failed("server.tls", "certificate refused: \(reason)" + (described.isEmpty ? "" : "; \(described)"), fix: fix)
        }
        if !api.verifyTLS {
            return .warning(
                "server.tls", "api.verify_tls is off: any server can pose as Face AiDee; \(described)",
                fix: "turn api.verify_tls on (use api.ca_file for a private CA)")
        }
        if let daysLeft, daysLeft < expiryWarningDays {
            return .warning("server.tls", "trusted, but \(described)", fix: "renew the server's certificate soon")
        }
        return .ok("server.tls", "trusted; \(described)")
    }

    /// The server's Date against this machine's clock.
    static func clock(_ probe: ServerProbeResult) -> DoctorResult {
        guard let serverDate = probe.serverDate else {
            return .warning("clock", "the server sent no Date header: offset unknown", fix: "check time sync: timedatectl")
        }
        // The header has whole seconds: half a second of rounding either way is not an offset.
        let offset = probe.receivedAt.timeIntervalSince(serverDate)
        let text = String(format: "%+.0f s", offset)
        if abs(offset) > clockTolerance {
            let side = offset < 0 ? "behind" : "ahead of"
            return .warning(
                "clock", "this machine's clock is \(Int(abs(offset).rounded())) s \(side) the server's (offset \(text))",
                fix: "tokens and TLS depend on the clock: enable time sync (timedatectl set-ntp true; check the NTP server)")
        }
        return .ok("clock", "within \(Int(clockTolerance)) s of the server's (offset \(text))")
    }

    static func clockUnknown() -> DoctorResult {
        .warning("clock", "not checked: no answer from the server", fix: "fix the server connection first")
    }

    /// A token with the saved credentials, the project in the key's list; the token is revoked after.
    static func token(_ configuration: KioskConfiguration, api: FaceAiDeeConfiguration, context: DoctorContext) async -> [DoctorResult] {
        let location = SecretFileCheck.locate(configuration.api.credentialsFile, fallbackDirectory: nil, context: context)
        let credentials: APICredentials
        do {
            credentials = try APICredentials.load(from: location.path)
        } catch {
            return [
                .failed("server.token", "not tried: \(error)", fix: "run doctor as root, or fix the credentials file (see credentials)")
            ]
        }
        let client: FaceAiDeeClient
        do {
            client = try FaceAiDeeClient(configuration: api, credentials: credentials)
        } catch {
            return [.failed("server.token", error.description, fix: "fix api.* in the configuration")]
        }
        var results: [DoctorResult] = []
        do {
            let expiry = try await client.issueToken()
            results.append(.ok("server.token", "the saved credentials (\(location.path)) get a token until \(expiry.rfc3339)"))
        } catch {
            _ = await client.shutdown()
            let fix: String =
                switch error.httpStatus {
                case 401?, 403?:
                    "the key was refused (revoked or wrong): issue a new one with `kioskctl api key issue --save FILE`"
                default: "see the message"
                }
            return [.failed("server.token", error.description, fix: fix)]
        }
        do {
            let projects = try await client.listProjects()
            let wanted = configuration.api.projectID
            if projects.contains(where: { $0.id == wanted }) {
                results.append(.ok("server.project", "project \(wanted) is in the key's \(projects.count) project(s)"))
            } else {
                let list = projects.map { "\($0.id)" }.joined(separator: ", ")
                results.append(
                    .failed(
                        "server.project", "project \(wanted) is not in the key's projects (\(list.isEmpty ? "none" : list))",
                        fix: "set api.project_id to one of them, or give the account access to project \(wanted)"))
            }
        } catch {
            results.append(.failed("server.project", error.description, fix: "see the message"))
        }
        _ = await client.shutdown()
        return results
    }
}
