// AimAdvice: what to change when mounting and aiming the camera, decided from one sample (pure).
import FaceDetection

/// One piece of advice for the person aiming the camera: a stable code for scripts and the
/// sentence shown on screen.
struct AimAdvice: Sendable, Equatable, Codable {
    var code: String
    var text: String
}

/// What the advice is decided from: one analysed frame, reduced to the numbers that matter.
/// Positions are fractions of the frame (0...1, origin top left) so the rules do not depend on
/// the resolution.
struct AimObservation: Sendable, Equatable {
    struct Face: Sendable, Equatable {
        /// The face box in fractions of the frame.
        var centerX: Double
        var centerY: Double
        /// The box's height over the frame's height.
        var heightFraction: Double
        /// The box's longer side in full-frame pixels (what `detection.min_face_size` measures).
        var sizePixels: Double
        /// What `FaceQualityScorer` found wrong, and the measurements the advice names.
        var failures: [QualityFailure]
        var meanLuminance: Double
        var pitchDegrees: Double
        var rollDegrees: Double
    }

    /// The largest face in view, if any.
    var face: Face?
    var faceCount: Int
    /// `detection.min_face_size`, in full-frame pixels.
    var minFaceSize: Int
    /// Mean luminance of the whole frame, 0...255 (for a dark scene with no face found).
    var sceneLuminance: Double
    /// Measured and configured frame rates (nil before a rate can be measured).
    var framesPerSecond: Double?
    var configuredFramesPerSecond: Double
    /// The thresholds the quality scorer used (the same as kioskd's).
    var limits = FaceQualityConfiguration()
}

/// Turns an observation into advice, most important first. Pure: the same observation gives
/// the same advice, so the rules are tested with plain values and real JPEGs alike.
enum AimAdvisor {
    /// A face centred further than this from the middle (fraction of the frame) gets a "turn or
    /// tilt the camera" hint: nearer the edge the framing check starts to fail.
    static let offCentre = 0.2
    /// A face taller than this fraction of the frame is too close for a door: people vary, and
    /// the next person's face would not fit.
    static let tooLarge = 0.7
    /// Below this whole-scene luminance the detector rarely finds anyone.
    static let darkScene = 40.0
    static let brightScene = 220.0
    /// A measured rate below this fraction of the configured one deserves a word.
    static let slowRate = 0.6

    static func advise(_ o: AimObservation) -> [AimAdvice] {
        var advice: [AimAdvice] = []
        func add(_ code: String, _ text: String) { advice.append(AimAdvice(code: code, text: text)) }

        guard let face = o.face else {
            if o.sceneLuminance < darkScene {
                add("too_dark", "too dark: add light or raise exposure (camera.controls)")
            } else if o.sceneLuminance > brightScene {
                add("too_bright", "too bright: avoid backlight, or lower exposure (camera.controls)")
            }
            add("no_face", "no face in view: stand where people will stand, and look at the camera")
            rateAdvice(o, add)
            return advice
        }

        let m = face
        let failures = Set(face.failures)
        if face.sizePixels < Double(o.minFaceSize) {
            add(
                "step_closer",
                "step closer: face \(Int(face.sizePixels.rounded())) px, needs \(o.minFaceSize) px (or mount the camera nearer)")
        } else if face.heightFraction > tooLarge {
            add("step_back", "step back: the face fills the picture")
        }
        if face.centerY < 0.5 - offCentre {
            add("tilt_up", "tilt the camera up: the face is high in the picture")
        } else if face.centerY > 0.5 + offCentre {
            add("tilt_down", "tilt the camera down: the face is low in the picture")
        }
        if face.centerX < 0.5 - offCentre {
            add("turn_left", "turn the camera toward the face: it is left of centre in the picture")
        } else if face.centerX > 0.5 + offCentre {
            add("turn_right", "turn the camera toward the face: it is right of centre in the picture")
        }
        if failures.contains(.tooDark) || m.meanLuminance < o.limits.minimumMeanLuminance {
            add("too_dark", "too dark: add light or raise exposure (camera.controls)")
        } else if failures.contains(.tooBright) || m.meanLuminance > o.limits.maximumMeanLuminance {
            add("too_bright", "too bright: avoid backlight, or lower exposure (camera.controls)")
        } else if failures.contains(.clipped) {
            add("clipped", "parts of the face are washed out or black: avoid a window or lamp behind people")
        }
        if failures.contains(.unevenLighting) {
            add("uneven_light", "one side of the face is much darker: light the face from the front")
        }
        if failures.contains(.blurred) {
            add("blurred", "blurred: check the focus, clean the lens, or add light (shorter exposure)")
        }
        if m.pitchDegrees > o.limits.maximumPitchDegrees {
            add("camera_too_high", "the camera looks down on faces: mount it lower, near eye level")
        } else if m.pitchDegrees < -o.limits.maximumPitchDegrees {
            add("camera_too_low", "the camera looks up at faces: mount it higher, near eye level")
        }
        if failures.contains(.turnedSideways) {
            add("face_sideways", "face seen from the side: point the camera the way people face")
        }
        if failures.contains(.tilted) {
            add("level_camera", "picture tilted \(Int(m.rollDegrees.rounded()))°: level the camera")
        }
        if failures.contains(.lowDetectionScore) && advice.isEmpty {
            add("unclear", "face not clearly visible: remove what covers it, add light")
        }
        if o.faceCount > 1 {
            add("several_faces", "\(o.faceCount) faces in view: kioskd uses the largest (detection.multiple_faces)")
        }
        rateAdvice(o, add)
        if advice.allSatisfy({ $0.code == "several_faces" }) && face.failures.isEmpty {
            advice.insert(AimAdvice(code: "good", text: "good: a face here qualifies for a check-in"), at: 0)
        }
        return advice
    }

    private static func rateAdvice(_ o: AimObservation, _ add: (String, String) -> Void) {
        guard let fps = o.framesPerSecond, fps < o.configuredFramesPerSecond * slowRate else { return }
        add(
            "slow_camera",
            "camera slow: \(Int(fps.rounded())) of \(Int(o.configuredFramesPerSecond.rounded())) fps; usually too little light, or USB bandwidth"
        )
    }
}
