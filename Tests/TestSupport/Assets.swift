// Where the fetched test assets (models, public face set) live, and helpers to read them and make temp dirs.
import Foundation

/// Where the project's fetched assets (models, public face set) live for tests.
///
/// `make test` runs `scripts/fetch-assets.sh` first; tests read only from the project's own
/// asset folder (never from outside the clone), so a fresh clone passes on its own.
public enum TestAssets {
    /// The repository root, found from this file's location.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The asset folder: `$KIOSK_ASSETS` when set, else `.assets/` in the repository.
    public static let root: URL = {
        if let env = ProcessInfo.processInfo.environment["KIOSK_ASSETS"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return repositoryRoot.appendingPathComponent(".assets")
    }()

    /// The project's cache (`KIOSK_CACHE`, else `$XDG_CACHE_HOME/kiosk-agent`, else
    /// `~/.cache/kiosk-agent`): where the setup scripts put the Python venvs the reference and
    /// interop tests run.
    public static var cacheDirectory: URL {
        let env = ProcessInfo.processInfo.environment
        if let root = env["KIOSK_CACHE"], !root.isEmpty { return URL(fileURLWithPath: root) }
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("kiosk-agent")
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/kiosk-agent")
    }

    public static var yunetModel: URL { root.appendingPathComponent("models/face_detection_yunet_2023mar.onnx") }
    public static var shapePredictorModel: URL { root.appendingPathComponent("models/shape_predictor_5_face_landmarks.dat") }
    public static var faceDescriptorModel: URL { root.appendingPathComponent("models/dlib_face_recognition_resnet_model_v1.dat") }
    public static var faceImages: URL { root.appendingPathComponent("faces") }

    /// A face-set image by its path in ground_truth.json, e.g. `images/facerec/obama.jpg`.
    public static func faceImage(_ relativePath: String) -> URL {
        faceImages.appendingPathComponent(relativePath)
    }

    /// True when the asset step has run (tests that need assets say so when they are absent).
    public static var available: Bool {
        FileManager.default.fileExists(atPath: yunetModel.path)
    }

    /// True when the face-matching models are there too (aidee-sim matches faces with them).
    public static var faceMatchingAvailable: Bool {
        available && FileManager.default.fileExists(atPath: faceDescriptorModel.path)
    }

    /// The bytes of a face-set file, e.g. `images/facerec/obama.jpg`; a missing file is an
    /// error that names the asset step.
    public static func faceImageBytes(_ relativePath: String) throws -> [UInt8] {
        let url = faceImage(relativePath)
        guard FileManager.default.fileExists(atPath: url.path) else { throw MissingAsset(path: relativePath) }
        return [UInt8](try Data(contentsOf: url))
    }

    /// A face-set file the asset step should have fetched is not there.
    public struct MissingAsset: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "asset \(path) missing: run scripts/fetch-assets.sh" }
    }

    /// The text of a NUL-terminated C character buffer filled in by a shim.
    public static func string(fromCBuffer buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A fresh temporary directory, removed by the caller.
    public static func temporaryDirectory(_ prefix: String = "kiosk-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
