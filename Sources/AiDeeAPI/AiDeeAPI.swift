// AiDeeAPI: the Face AiDee contract (openapi.yaml) and the code generated from it.
//
// swift-openapi-generator's build plugin turns openapi.yaml into `Components`, `Operations`,
// `Client` (used by FaceAiDee over libcurl) and `APIProtocol` with `registerHandlers`
// (implemented by AiDeeSimulator). The document is the single source of truth: change it here
// and both sides follow.

package import Foundation
package import OpenAPIRuntime

/// The contract itself, for serving it (`aidee-sim` answers `GET /openapi.yaml` with it) and for
/// tools such as schemathesis.
package enum AiDeeAPIDocument {
    /// The OpenAPI 3.1 document, byte for byte as committed in Sources/AiDeeAPI/openapi.yaml.
    package static var yamlBytes: [UInt8] { PackageResources.openapi_yaml }

    /// The OpenAPI 3.1 document as text.
    package static var yaml: String { String(decoding: PackageResources.openapi_yaml, as: UTF8.self) }

    /// The API's base path on a server; operation paths in the document are relative to it.
    package static let basePath = "/api/v1"
}

/// A `DateTranscoder` for any `date-time` that reaches `Foundation.Date`: it reads RFC 3339 with
/// 0 to 9 fractional digits and any offset, and writes nine digits in UTC.
///
/// The contract's own timestamps decode to ``AiDeeTimestamp`` (exact); this keeps anything
/// else consistent with them. Pass it to `Configuration(dateTranscoder:)` on both sides.
package struct AiDeeDateTranscoder: DateTranscoder {
    package init() {}

    package func encode(_ date: Date) throws -> String { AiDeeTimestamp(date).rfc3339 }

    package func decode(_ text: String) throws -> Date { try AiDeeTimestamp.parse(text).date }
}

extension Configuration {
    /// The runtime configuration both the client and the simulator use: exact RFC 3339 dates.
    package static var aiDee: Configuration { Configuration(dateTranscoder: AiDeeDateTranscoder()) }
}
