// `detection.*`: YuNet score, minimum face size, threads, several faces; and the detector's configuration.
package import FaceDetection
import Foundation

/// On-device detection (`detection.*`).
package struct DetectionSettings: Sendable, Equatable {
    package var model = "/usr/share/kiosk-agent/models/face_detection_yunet_2023mar.onnx"
    /// YuNet's score; on the public set every face scored ≥ 0.90 and no non-face above 0.42
    /// (docs/DETECTION.md); the quality checks add their own stricter floor before a check-in.
    package var scoreThreshold = 0.7
    /// Smallest face box side in full-frame pixels that may start a check-in.
    package var minFaceSize = 60
    /// OpenCV threads: one leaves a core for capture and networking on a 2–4 core board.
    package var threads = 1
    package enum MultipleFaces: String, Sendable, CaseIterable {
        /// The largest (closest) face wins.
        case largest
        /// Refuse and signal "one person at a time".
        case refuse
    }
    package var multipleFaces: MultipleFaces = .largest

    package init() {}
}

extension DetectionSettings: ConfigurationSection {
    static let name = "detection"

    mutating func read(from keys: SectionReader) {
        keys.string("model", &model)
        keys.double("score_threshold", &scoreThreshold, range: 0.1...0.99)
        keys.int("min_face_size", &minFaceSize, range: 16...2048)
        keys.int("threads", &threads, range: 1...16)
        keys.choice("multiple_faces", &multipleFaces)
    }

    func preflight(environment: [String: String], report: (_ key: String, _ message: String) -> Void) {
        if !FileManager.default.isReadableFile(atPath: model) {
            report(
                "model",
                "\(model) is missing or unreadable; install the package's models or run scripts/fetch-assets.sh and point this key at .assets/models/"
            )
        }
    }
}

extension DetectionSettings {
    /// The YuNet detector's configuration (`FaceDetection`). `min_face_size` and
    /// `multiple_faces` are the pipeline's to apply, not the detector's.
    package var detectorConfiguration: YuNetFaceDetector.Configuration {
        var c = YuNetFaceDetector.Configuration(modelPath: model)
        c.scoreThreshold = scoreThreshold
        c.threads = threads
        return c
    }
}

extension KioskConfiguration {
    /// `detection.*` as the detector's configuration.
    package var detectorConfiguration: YuNetFaceDetector.Configuration { detection.detectorConfiguration }
}
