// FaceQualityScorer: rates a detected face by size, score, sharpness, exposure, pose and framing.
import CVision
package import Imaging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Scores how well a detected face will recognise: size, detection score, sharpness, exposure,
/// pose and framing (see `FaceQuality`). A value type, stateless, safe to use from any thread;
/// a call costs well under a millisecond at 320×240.
package struct FaceQualityScorer: Sendable {
    package var configuration: FaceQualityConfiguration

    package init(configuration: FaceQualityConfiguration = .init()) {
        self.configuration = configuration
    }

    /// Assesses `face`, found in `image` (boxes in `image`'s pixels).
    ///
    /// - Parameter frameScale: full-frame pixels per `image` pixel, when `image` is a
    ///   downscale of the frame the crop will be cut from (e.g. 2 for 320×240 out of 640×480),
    ///   so that size thresholds apply to what the server receives.
    package func assess(_ face: DetectedFace, in image: Image, frameScale: Double = 1) -> FaceQuality {
        let c = configuration
        var failures: [QualityFailure] = []

        // Size.
        let interEye = face.landmarks.interEyeDistance * frameScale
        let size = clamp01(interEye / max(c.goodInterEyeDistance, 1))
        if interEye < c.minimumInterEyeDistance { failures.append(.tooSmall) }

        // Detection score.
        let detection = clamp01(face.score)
        if face.score < c.minimumDetectionScore { failures.append(.lowDetectionScore) }

        // Sharpness and exposure on the inner face (no background, hair or ears).
        let region = Self.innerRegion(of: face.box)
        let stats = regionStats(image: image, region: region)
        let sharpness: Double
        let exposure: Double
        let meanLuminance, clipped, imbalance, variance: Double
        if let stats {
            meanLuminance = stats.mean
            // Laplacian variance scales with the square of contrast: normalise to a mid-grey
            // exposure so a dark face is reported as dark, not also as blurred.
            let gain = 128 / max(stats.mean, 16)
            variance = stats.laplacian_variance * gain * gain
            clipped = stats.dark_fraction + stats.bright_fraction
            let brighter = max(stats.left_mean, stats.right_mean, 1)
            imbalance = abs(stats.left_mean - stats.right_mean) / brighter
            sharpness = clamp01(variance / max(c.goodLaplacianVariance, 1))
            if variance < c.minimumLaplacianVariance { failures.append(.blurred) }

            let luminanceScore: Double
            if meanLuminance < c.goodMeanLuminance.lowerBound {
                luminanceScore = meanLuminance / max(c.goodMeanLuminance.lowerBound, 1)
            } else if meanLuminance > c.goodMeanLuminance.upperBound {
                luminanceScore = (255 - meanLuminance) / max(255 - c.goodMeanLuminance.upperBound, 1)
            } else {
                luminanceScore = 1
            }
            // Half credit at the threshold, none at twice it.
            let clipScore = 1 - clipped / max(2 * c.maximumClippedFraction, 1e-6)
            let balanceScore = 1 - imbalance / max(2 * c.maximumLightingImbalance, 1e-6)
            exposure = clamp01(min(luminanceScore, clipScore, balanceScore))
            if meanLuminance < c.minimumMeanLuminance { failures.append(.tooDark) }
            if meanLuminance > c.maximumMeanLuminance { failures.append(.tooBright) }
            if clipped > c.maximumClippedFraction { failures.append(.clipped) }
            if imbalance > c.maximumLightingImbalance { failures.append(.unevenLighting) }
        } else {
            // The face lies (almost) entirely outside the image: nothing to measure.
            variance = 0
            meanLuminance = 0
            clipped = 1
            imbalance = 1
            sharpness = 0
            exposure = 0
            failures.append(.blurred)
        }

        // Pose from the landmarks.
        let pose = Self.estimatePose(face.landmarks)
        let poseScore = clamp01(
            min(
                1 - abs(pose.yaw) / (2 * c.maximumYawDegrees),
                1 - abs(pose.roll) / (2 * c.maximumRollDegrees),
                1 - abs(pose.pitch) / (2 * c.maximumPitchDegrees)))
        if abs(pose.yaw) > c.maximumYawDegrees { failures.append(.turnedSideways) }
        if abs(pose.roll) > c.maximumRollDegrees { failures.append(.tilted) }
        if abs(pose.pitch) > c.maximumPitchDegrees { failures.append(.lookingUpOrDown) }

        // Framing: the box plus margin must lie inside the image.
        let m = c.frameMarginFraction
        let grown = FaceRect(
            x: face.box.x - m * face.box.width, y: face.box.y - m * face.box.height,
            width: face.box.width * (1 + 2 * m), height: face.box.height * (1 + 2 * m))
        let inside = FaceRect(x: 0, y: 0, width: Double(image.width), height: Double(image.height))
        // A box wholly inside is exactly 0 outside: 1 - overlap / area is a few ulps off 0 for
        // such a box, and that rounding depends on the detector's last digits (the CPU).
        let outside: Double
        if grown.x >= 0, grown.y >= 0, grown.maxX <= inside.maxX, grown.maxY <= inside.maxY {
            outside = 0
        } else {
            outside = grown.area > 0 ? clamp01(1 - overlapArea(grown, inside) / grown.area) : 1
        }
        // A few percent outside is a face at the edge; a quarter outside scores 0.
        let framing = clamp01(1 - outside * 4)
        if outside > 0.001 { failures.append(.notInFrame) }

        let components = FaceQuality.Components(
            size: size, detection: detection, sharpness: sharpness, exposure: exposure, pose: poseScore, framing: framing)
        return FaceQuality(
            components: components,
            measurements: .init(
                interEyeDistance: interEye, detectionScore: face.score, laplacianVariance: variance,
                meanLuminance: meanLuminance, clippedFraction: clipped, lightingImbalance: imbalance,
                yawDegrees: pose.yaw, rollDegrees: pose.roll, pitchDegrees: pose.pitch, outsideFraction: outside),
            score: Self.combine(components, weights: c.weights),
            failures: failures)
    }

    /// Weighted geometric mean; components are floored at 0.01 so one zero does not erase
    /// the ordering between other candidates.
    static func combine(_ c: FaceQuality.Components, weights w: FaceQuality.Components) -> Double {
        let pairs: [(Double, Double)] = [
            (c.size, w.size), (c.detection, w.detection), (c.sharpness, w.sharpness),
            (c.exposure, w.exposure), (c.pose, w.pose), (c.framing, w.framing),
        ]
        let total = pairs.reduce(0) { $0 + max(0, $1.1) }
        guard total > 0 else { return 0 }
        let logSum = pairs.reduce(0) { $0 + max(0, $1.1) * log(max($1.0, 0.01)) }
        return clamp01(exp(logSum / total))
    }

    /// The part of a YuNet box that is face: YuNet boxes include forehead, chin and some
    /// background at the sides.
    static func innerRegion(of box: FaceRect) -> FaceRect {
        FaceRect(
            x: box.x + 0.15 * box.width, y: box.y + 0.15 * box.height,
            width: 0.7 * box.width, height: 0.75 * box.height)
    }

    /// Head pose estimated from the five landmarks with a simple frontal-face model, in degrees.
    ///
    /// Roll is the angle of the eye line. Yaw and pitch come from where the nose tip lies
    /// relative to the eyes and mouth once roll is undone: for a frontal face the nose sits
    /// midway between the eyes horizontally and a little past halfway from the eye line to the
    /// mouth line. The nose tip stands about one half inter-eye distance in front of the eye
    /// plane, so an offset `r` (in half inter-eye distances) means yaw ≈ atan(r). A coarse
    /// estimate (±10°), good enough to reject people not facing the camera.
    package static func estimatePose(_ l: FaceLandmarks) -> (yaw: Double, roll: Double, pitch: Double) {
        let dx = l.leftEye.x - l.rightEye.x
        let dy = l.leftEye.y - l.rightEye.y
        let rollRadians = atan2(dy, dx)
        let eyeMid = FacePoint(x: (l.rightEye.x + l.leftEye.x) / 2, y: (l.rightEye.y + l.leftEye.y) / 2)
        let mouthMid = FacePoint(x: (l.mouthRight.x + l.mouthLeft.x) / 2, y: (l.mouthRight.y + l.mouthLeft.y) / 2)
        // Undo roll around the eye midpoint.
        let cosR = cos(-rollRadians), sinR = sin(-rollRadians)
        func upright(_ p: FacePoint) -> FacePoint {
            let x = p.x - eyeMid.x, y = p.y - eyeMid.y
            return FacePoint(x: x * cosR - y * sinR, y: x * sinR + y * cosR)
        }
        let nose = upright(l.noseTip)
        let mouth = upright(mouthMid)
        let halfEye = max((dx * dx + dy * dy).squareRoot() / 2, 1e-6)
        let yaw = atan(nose.x / halfEye) * 180 / .pi
        // Nose-to-eye-line over mouth-to-eye-line is about 0.55 when facing the camera; the
        // eye-to-mouth distance is about 2.2 times the nose depth.
        let pitch: Double
        if mouth.y > 1e-6 {
            pitch = atan((nose.y / mouth.y - Self.frontalNoseRatio) * 2.2) * 180 / .pi
        } else {
            pitch = 90
        }
        return (yaw, rollRadians * 180 / .pi, pitch)
    }

    /// Nose position between eye line (0) and mouth line (1) for a face looking straight ahead.
    static let frontalNoseRatio = 0.55

    private func regionStats(image: Image, region: FaceRect) -> cvision_region_stats? {
        var stats = cvision_region_stats()
        var err = [CChar](repeating: 0, count: 256)
        let rc = image.pixels.withUnsafeBufferPointer { pixels in
            cvision_region_stats_compute(
                pixels.baseAddress, Int32(image.width), Int32(image.height), Int32(image.format.channels),
                image.format == .rgb24 ? 1 : 0,
                Int32(region.x.rounded()), Int32(region.y.rounded()),
                Int32(region.width.rounded()), Int32(region.height.rounded()),
                Int32(configuration.sharpnessCanonicalWidth), &stats, &err, err.count)
        }
        return rc == 0 ? stats : nil
    }
}

private func clamp01(_ v: Double) -> Double {
    v.isNaN ? 0 : min(1, max(0, v))
}

private func overlapArea(_ a: FaceRect, _ b: FaceRect) -> Double {
    let w = min(a.maxX, b.maxX) - max(a.x, b.x)
    let h = min(a.maxY, b.maxY) - max(a.y, b.y)
    return w > 0 && h > 0 ? w * h : 0
}
