// YuNetModelIntegrity: the shipped YuNet model's sha256, and the check kioskd and kioskctl doctor run on a model file.
import Crypto
import Foundation

/// The one place that knows which YuNet model the agent was validated with.
///
/// The detector's thresholds (docs/DETECTION.md) were measured on exactly this file; another
/// build of "the same" model can load and still score faces differently, so `kioskd` refuses to
/// start on a file whose sha256 differs instead of silently detecting worse.
package enum YuNetModelIntegrity {
    /// sha256 of `face_detection_yunet_2023mar.onnx` as shipped in the package and fetched by
    /// `scripts/fetch-assets.sh` (the same value is in `scripts/assets.sha256`).
    package static let expectedSHA256 = "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"

    /// Checks that the file at `path` is the shipped model.
    ///
    /// Throws `modelMissing` when there is no file, `modelUnusable` when it cannot be read, and
    /// `modelChecksumMismatch` (naming both sums) when it is another file.
    package static func verify(at path: String) throws(FaceDetectionError) {
        let found = try sha256(ofFileAt: path)
        guard found == expectedSHA256 else {
            throw .modelChecksumMismatch(path: path, expected: expectedSHA256, found: found)
        }
    }

    /// The sha256 of a file, in lowercase hex.
    package static func sha256(ofFileAt path: String) throws(FaceDetectionError) -> String {
        guard FileManager.default.fileExists(atPath: path) else { throw .modelMissing(path: path) }
        let data: Data
        do {
            // The model is about 230 kB: reading it whole is simpler than streaming and as cheap.
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .modelUnusable(path: path, reason: "cannot read it: \(error.localizedDescription)")
        }
        return SHA256.hash(data: data).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
