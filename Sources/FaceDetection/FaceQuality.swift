/// Why a face does not qualify for a check-in. Raw values are stable (logs, JSON, journal).
package enum QualityFailure: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case tooSmall = "too_small"
    case lowDetectionScore = "low_detection_score"
    case blurred
    case tooDark = "too_dark"
    case tooBright = "too_bright"
    case clipped
    case unevenLighting = "uneven_lighting"
    case turnedSideways = "turned_sideways"
    case tilted
    case lookingUpOrDown = "looking_up_or_down"
    case notInFrame = "not_in_frame"

    /// What a person at the door (or the installer) should change.
    package var description: String {
        switch self {
        case .tooSmall: "face too small: come closer"
        case .lowDetectionScore: "face not clearly visible"
        case .blurred: "image blurred: hold still, or check focus"
        case .tooDark: "face too dark: check lighting or exposure"
        case .tooBright: "face too bright: check backlight or exposure"
        case .clipped: "parts of the face are over- or under-exposed"
        case .unevenLighting: "one side of the face is much darker: check lighting"
        case .turnedSideways: "face turned sideways: look at the camera"
        case .tilted: "head tilted: hold it upright"
        case .lookingUpOrDown: "looking up or down: look at the camera"
        case .notInFrame: "face at the edge of the picture: step to the centre"
        }
    }
}

/// How good one face is for recognition: components in [0, 1] (1 = ideal), the raw
/// measurements behind them, one combined score and the reasons it does not qualify.
package struct FaceQuality: Sendable, Hashable, Codable {
    /// Each in [0, 1]; see `FaceQualityConfiguration` for how each is derived.
    package struct Components: Sendable, Hashable, Codable {
        package var size: Double
        package var detection: Double
        package var sharpness: Double
        package var exposure: Double
        package var pose: Double
        package var framing: Double

        package init(size: Double, detection: Double, sharpness: Double, exposure: Double, pose: Double, framing: Double) {
            self.size = size
            self.detection = detection
            self.sharpness = sharpness
            self.exposure = exposure
            self.pose = pose
            self.framing = framing
        }
    }

    /// What was measured, in physical units.
    package struct Measurements: Sendable, Hashable, Codable {
        /// Distance between the eye centres, in full-frame pixels.
        package var interEyeDistance: Double
        package var detectionScore: Double
        /// Laplacian variance of the inner face region scaled to a fixed width (see
        /// configuration) and normalised to a mean luminance of 128 (so darkness is not
        /// mistaken for blur).
        package var laplacianVariance: Double
        /// Mean luminance of the face region, 0...255.
        package var meanLuminance: Double
        /// Fraction of the face region at or below 8 / at or above 247.
        package var clippedFraction: Double
        /// |left − right| / brighter half mean, 0...1.
        package var lightingImbalance: Double
        /// Estimated from the 5 landmarks, in degrees: yaw (+ = turned to the image's right),
        /// roll (+ = clockwise in the image), pitch (+ = looking down).
        package var yawDegrees: Double
        package var rollDegrees: Double
        package var pitchDegrees: Double
        /// Fraction of the face box grown by the framing margin that lies outside the image.
        package var outsideFraction: Double
    }

    package var components: Components
    package var measurements: Measurements
    /// Weighted geometric mean of the components, 0...1: one poor component pulls it down.
    package var score: Double
    /// Empty when the face qualifies.
    package var failures: [QualityFailure]

    /// True when no threshold failed.
    package var qualifies: Bool { failures.isEmpty }
}
