// FaceAiDeeConfiguration: where the API is and how to talk to it.

/// Settings of a ``FaceAiDeeClient``. Defaults suit a kiosk on a LAN or a mobile uplink.
public struct FaceAiDeeConfiguration: Sendable, Hashable {
    /// The server root, e.g. `https://api.example.com` or `http://127.0.0.1:8080`; the client
    /// appends the API's base path `/api/v1`. A URL already ending in `/api/v1` is accepted too.
    public var baseURL: String
    /// Longest wait for a connection. Default 5 s (see ``CurlTransport/Options/connectTimeout``).
    public var connectTimeout: Duration
    /// Longest time for one whole request. Default 15 s.
    public var requestTimeout: Duration
    /// PEM file of CA certificates to trust instead of the system store. Default none.
    public var caFile: String?
    /// Verify TLS certificates. Default true.
    public var verifyTLS: Bool
    /// Renew the token (PATCH /auth/token) when less than this remains before it expires.
    /// Default 60 s. Never more than half the token's lifetime is used, so short-lived tokens
    /// are not renewed on every call.
    public var renewalMargin: Duration
    /// Sent as `User-Agent`. Default `kiosk-agent`.
    public var userAgent: String

    /// Creates a configuration; every parameter but the URL has the default documented on its property.
    public init(
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
    public var transportOptions: CurlTransport.Options {
        CurlTransport.Options(
            connectTimeout: connectTimeout, requestTimeout: requestTimeout, verifyTLS: verifyTLS,
            caFile: caFile, userAgent: userAgent, unrepeatableOperations: FaceAiDeeError.unrepeatableOperations)
    }
}
