// `api.*`: where the Face AiDee server is, how to reach it, the checks, and the API client's configuration.
package import FaceAiDee
import Foundation

/// Where the Face AiDee API is and how to talk to it (`api.*`).
package struct APISettings: Sendable, Equatable {
    /// Server root, e.g. `https://api.example.com`; the client appends `/api/v1`.
    package var url = "http://127.0.0.1:8080"
    /// The project whose enrolled users may check in here.
    package var projectID = 1
    /// File with `key=` and `secret=` lines, mode 0600. A relative name is looked up in
    /// `$CREDENTIALS_DIRECTORY` first (systemd `LoadCredential=`).
    package var credentialsFile = "/etc/kiosk-agent/credentials"
    /// Extra CA bundle for a private server certificate; system roots otherwise.
    package var caFile: String?
    /// TLS verification; only ever turned off for a lab server.
    package var verifyTLS = true
    package var connectTimeout: Duration = .seconds(3)
    /// The whole request; a door cannot keep a person waiting longer.
    package var requestTimeout: Duration = .seconds(6)
    /// Renew the token this long before it expires.
    package var tokenRenewMargin: Duration = .seconds(60)
    /// Check-in `condition` as a JSON object text, e.g. `{"group_id": 2}`; empty for none.
    package var conditionJSON = ""
    /// Check-in `option` (see docs/API.md); `nil` sends none.
    package var option: Int?

    package init() {}
}

extension APISettings: ConfigurationSection {
    static let name = "api"

    mutating func read(from keys: SectionReader) {
        keys.string("url", &url)
        keys.int("project_id", &projectID, range: 1...Int.max)
        keys.string("credentials_file", &credentialsFile)
        keys.optionalString("ca_file", &caFile)
        keys.bool("verify_tls", &verifyTLS)
        keys.duration("connect_timeout", &connectTimeout, max: .seconds(60))
        keys.duration("request_timeout", &requestTimeout, max: .seconds(120))
        keys.duration("token_renew_margin", &tokenRenewMargin, max: .seconds(86400))
        keys.string("condition", &conditionJSON)
        keys.optionalInt("option", &option)
    }

    func validate(_ keys: SectionReader) {
        let parsed = URL(string: url)
        if parsed?.host == nil || !["http", "https"].contains(parsed?.scheme ?? "") {
            keys.issue("url", "'\(url)' is not an http(s) URL, e.g. https://api.example.com")
        }
        if !conditionJSON.isEmpty {
            let object = try? JSONSerialization.jsonObject(with: Data(conditionJSON.utf8))
            if !(object is [String: Any]) {
                keys.issue("condition", "must be a JSON object, e.g. {\"group_id\": 2}")
            }
        }
        if requestTimeout < connectTimeout {
            keys.issue("request_timeout", "is shorter than api.connect_timeout")
        }
    }

    func preflight(environment: [String: String], report: (_ key: String, _ message: String) -> Void) {
        let credentials = KioskConfiguration.resolveSecretPath(credentialsFile, environment: environment)
        do {
            _ = try APICredentials.load(from: credentials)
        } catch {
            report("credentials_file", "\(error)")
        }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            report("ca_file", "\(caFile) is missing or unreadable")
        }
    }
}

extension APISettings {
    /// The API client's configuration (`FaceAiDee`).
    package var apiClientConfiguration: FaceAiDeeConfiguration {
        FaceAiDeeConfiguration(
            baseURL: url, connectTimeout: connectTimeout, requestTimeout: requestTimeout,
            caFile: caFile, verifyTLS: verifyTLS, renewalMargin: tokenRenewMargin)
    }

    /// Why the API connection is not protected, or nil when it is: `api.verify_tls` off, or a
    /// plain `http://` URL to a host that is not loopback (anyone on the path can read the
    /// face images and the token, or answer in the server's place). For the start-up log and
    /// `kioskctl status`.
    package var insecureTransportWarning: String? {
        var problems: [String] = []
        let parsed = URL(string: url)
        let scheme = parsed?.scheme?.lowercased()
        let host = (parsed?.host ?? "").lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if scheme == "http" && !Self.isLoopback(host) {
            problems.append(
                "api.url \(url) is plain http to a host that is not loopback: face images and the API token cross the network unencrypted; use https"
            )
        }
        if !verifyTLS && scheme != "http" {
            problems.append(
                "api.verify_tls is off: any server can pose as Face AiDee and open the door; turn it on (use api.ca_file for a private CA)")
        }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.") || host.hasSuffix(".localhost")
    }
}

extension KioskConfiguration {
    /// `api.*` as the API client's configuration.
    package var apiClientConfiguration: FaceAiDeeConfiguration { api.apiClientConfiguration }

    /// See ``APISettings/insecureTransportWarning``.
    package var insecureTransportWarning: String? { api.insecureTransportWarning }
}
