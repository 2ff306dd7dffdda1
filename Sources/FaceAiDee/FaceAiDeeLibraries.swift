// FaceAiDeeLibraries: the loaded libcurl's version and TLS library, for --version.
import CCurl

/// The HTTP library's version, as `kioskd --version` and `kioskctl report` print it.
package enum FaceAiDeeLibraries {
    /// `(library, version)`: libcurl's own `curl_version()` line, which names the TLS library
    /// and the other libraries it was built with (e.g. `libcurl/7.88.1 OpenSSL/3.0.15 zlib/1.2.13`).
    package static var versions: [(library: String, version: String)] {
        [("libcurl", curl_version().map { String(cString: $0) } ?? "unknown")]
    }
}
