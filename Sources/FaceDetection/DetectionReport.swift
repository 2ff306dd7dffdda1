/// What `kioskctl detect --json` prints: one object per image, boxes in the image's own pixels.
///
/// Shape: `{width, height, elapsed_ms, faces: [{box: [x, y, w, h], score, landmarks: {right_eye:
/// [x, y], left_eye, nose_tip, mouth_right, mouth_left}, quality: {size, detection, sharpness,
/// exposure, pose, framing, score, qualifies, failures, measurements: {...}}}]}`. Keys are
/// snake_case and stable: field tools parse them.
package struct DetectionReport: Sendable, Hashable, Codable {
    package struct Face: Sendable, Hashable, Codable {
        /// `[x, y, width, height]`.
        package var box: [Double]
        package var score: Double
        /// Each `[x, y]`.
        package var landmarks: [String: [Double]]
        package var quality: Quality
    }

    package struct Quality: Sendable, Hashable, Codable {
        package var size: Double
        package var detection: Double
        package var sharpness: Double
        package var exposure: Double
        package var pose: Double
        package var framing: Double
        /// The combined score.
        package var score: Double
        package var qualifies: Bool
        /// `QualityFailure` raw values.
        package var failures: [String]
        package var measurements: [String: Double]
    }

    package var width: Int
    package var height: Int
    package var elapsedMilliseconds: Double
    package var faces: [Face]

    enum CodingKeys: String, CodingKey {
        case width, height, faces
        case elapsedMilliseconds = "elapsed_ms"
    }

    /// Builds the report; values are rounded (0.1 px, 0.001 for scores) so output stays readable.
    package init(width: Int, height: Int, elapsedMilliseconds: Double, faces: [AssessedFace]) {
        self.width = width
        self.height = height
        self.elapsedMilliseconds = Self.round(elapsedMilliseconds, 0.01)
        self.faces = faces.map { assessed in
            let f = assessed.face, q = assessed.quality, c = q.components, m = q.measurements
            func px(_ p: FacePoint) -> [Double] { [Self.round(p.x, 0.1), Self.round(p.y, 0.1)] }
            func s(_ v: Double) -> Double { Self.round(v, 0.001) }
            return Face(
                box: [f.box.x, f.box.y, f.box.width, f.box.height].map { Self.round($0, 0.1) },
                score: s(f.score),
                landmarks: [
                    "right_eye": px(f.landmarks.rightEye), "left_eye": px(f.landmarks.leftEye),
                    "nose_tip": px(f.landmarks.noseTip), "mouth_right": px(f.landmarks.mouthRight),
                    "mouth_left": px(f.landmarks.mouthLeft),
                ],
                quality: Quality(
                    size: s(c.size), detection: s(c.detection), sharpness: s(c.sharpness), exposure: s(c.exposure),
                    pose: s(c.pose), framing: s(c.framing), score: s(q.score), qualifies: q.qualifies,
                    failures: q.failures.map(\.rawValue),
                    measurements: [
                        "inter_eye_distance": Self.round(m.interEyeDistance, 0.1),
                        "laplacian_variance": Self.round(m.laplacianVariance, 0.1),
                        "mean_luminance": Self.round(m.meanLuminance, 0.1),
                        "clipped_fraction": s(m.clippedFraction),
                        "lighting_imbalance": s(m.lightingImbalance),
                        "yaw_degrees": Self.round(m.yawDegrees, 0.1),
                        "roll_degrees": Self.round(m.rollDegrees, 0.1),
                        "pitch_degrees": Self.round(m.pitchDegrees, 0.1),
                        "outside_fraction": s(m.outsideFraction),
                    ]))
        }
    }

    /// Rounds to `step` (0.1, 0.01, 0.001); divides by a whole power of ten so the printed
    /// value is the short decimal (179.7, not 179.70000000000002).
    private static func round(_ value: Double, _ step: Double) -> Double {
        let scale = (1 / step).rounded()
        return value.isFinite ? (value * scale).rounded() / scale : 0
    }
}
