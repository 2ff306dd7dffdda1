// FaceAiDeeConfiguration: where the API is and how to talk to it.

/// Settings of a ``FaceAiDeeClient``. Defaults suit a kiosk on a LAN or a mobile uplink.
package struct FaceAiDeeConfiguration: Sendable, Hashable {
    /// The server root, e.g. `https://api.example.com` or `http://127.0.0.1:8080`; the client
    /// appends the API's base path `/api/v1`. A URL already ending in `/api/v1` is accepted too.
    package var baseURL: String
    /// Longest wait for a connection. Default 5 s (see ``CurlTransport/Options/connectTimeout``).
    package var connectTimeout: Duration
    /// Longest time for one whole request. Default 15 s.
    package var requestTimeout: Duration
    /// PEM file of CA certificates to trust instead of the system store. Default none.
    package var caFile: String?
    /// Verify TLS certificates. Default true.
    package var verifyTLS: Bool
    /// Renew the token (PATCH /auth/token) when less than this remains before it expires.
    /// Default 60 s. Never more than half the token's lifetime is used, so short-lived tokens
    /// are not renewed on every call.
    package var renewalMargin: Duration
    /// Sent as `User-Agent`. Default `kiosk-agent`.
    package var userAgent: String

    /// Creates a configuration; every parameter but the URL has the default documented on its property.
    package init(
        baseURL: String, connectTimeout: Duration = .seconds(5), requestTimeout: Duration = .seconds(15),
        caFile: String? = nil, verifyTLS: Bool = true, renewalMargin: Duration = .seconds(60),
        userAgent: String = "kiosk-agent"
    ) {
        self.baseURL = baseURL
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.caFile = caFile
        self.verifyTLS = verifyTLS
        self.renewalMargin = renewalMargin
        self.userAgent = userAgent
    }

    /// The transport options these settings imply.
    package var transportOptions: CurlTransport.Options {
        CurlTransport.Options(
            connectTimeout: connectTimeout, requestTimeout: requestTimeout, verifyTLS: verifyTLS,
            caFile: caFile, userAgent: userAgent, unrepeatableOperations: FaceAiDeeError.unrepeatableOperations)
    }
}
