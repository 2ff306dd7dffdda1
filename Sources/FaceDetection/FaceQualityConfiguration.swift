/// Thresholds and weights of `FaceQualityScorer`, each with its default and the reason for it.
///
/// Defaults suit a 640×480 door camera and a cloud recogniser; pixel figures are in full-frame
/// pixels (the frame the crop is cut from), not in the detection downscale.
package struct FaceQualityConfiguration: Sendable, Hashable, Codable {
    /// Below this inter-eye distance (px) a face does not qualify. Default 20 px (a face about
    /// 50 px wide): recognisers lose accuracy fast below that.
    package var minimumInterEyeDistance: Double = 20
    /// Inter-eye distance (px) at which the size component reaches 1. Default 40 px, the face
    /// width (~100 px) a recogniser needs for its best accuracy; larger faces gain nothing.
    package var goodInterEyeDistance: Double = 40

    /// Below this detector score a face does not qualify. Default 0.75: real frontal faces
    /// score 0.85–0.95; weaker detections are usually occluded, turned or blurred.
    package var minimumDetectionScore: Double = 0.75

    /// Width (px) the face region is scaled to before measuring sharpness, so faces of any size
    /// compare. Default 80 px.
    package var sharpnessCanonicalWidth: Int = 80
    /// Laplacian variance (at the canonical width) below which a face is blurred. Default 40:
    /// sharp faces measure 150–900, a Gaussian blur of σ = 2 face-pixels brings them under 30.
    package var minimumLaplacianVariance: Double = 40
    /// Laplacian variance at which the sharpness component reaches 1. Default 200.
    package var goodLaplacianVariance: Double = 200

    /// Mean face luminance below which a face is too dark. Default 50 of 255.
    package var minimumMeanLuminance: Double = 50
    /// Mean face luminance above which a face is too bright. Default 215 of 255.
    package var maximumMeanLuminance: Double = 215
    /// The luminance range scoring 1. Default 90...170: skin of all tones exposed well.
    package var goodMeanLuminance: ClosedRange<Double> = 90...170
    /// Largest fraction of clipped (≤ 8 or ≥ 247) face pixels. Default 0.2: specular highlights
    /// and dark hair are normal; more means lost detail.
    package var maximumClippedFraction: Double = 0.2
    /// Largest left/right imbalance (|L − R| / brighter). Default 0.5: side light from a window
    /// is common at doors and recognisers cope with moderate imbalance.
    package var maximumLightingImbalance: Double = 0.5

    /// Largest yaw (degrees) estimated from the landmarks. Default 30°: recognition accuracy
    /// drops sharply beyond, and people at a door face it within that.
    package var maximumYawDegrees: Double = 30
    /// Largest roll (degrees). Default 20°: YuNet's landmarks under-report roll (a head tilted
    /// 30° measures about 22° on a large face, less on a small one), so 20° measured is a
    /// clearly tilted head.
    package var maximumRollDegrees: Double = 20
    /// Largest pitch (degrees). Default 25°: the landmark estimate is coarse, so kept generous.
    package var maximumPitchDegrees: Double = 25

    /// Margin around the face box, as a fraction of its size, that must lie inside the frame.
    /// Default 0.1: the crop sent to the server includes a margin, and a face cut by the frame
    /// edge is usually still entering.
    package var frameMarginFraction: Double = 0.1

    /// Weights of the components in the combined score (a weighted geometric mean).
    /// Defaults favour sharpness and pose, which change most from frame to frame while a person
    /// approaches, over size (which only grows) and framing.
    package var weights: FaceQuality.Components = .init(size: 1, detection: 1, sharpness: 1.5, exposure: 1, pose: 1.5, framing: 0.5)

    package init() {}
}
