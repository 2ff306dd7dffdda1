// Face quality on real portraits: sharpness, exposure, pose, size and framing move the right way.
import Imaging
import TestSupport
import Testing

@testable import FaceDetection

@Suite("Face quality", .enabled(if: TestAssets.available, "assets missing: run scripts/fetch-assets.sh"))
struct FaceQualityTests {
    /// Faces of 100 px and more, as in a real door frame (large enough for landmarks to follow roll).
    static let detector = Result { () throws(FaceDetectionError) in
        try YuNetFaceDetector(configuration: .init(modelPath: TestAssets.yunetModel.path, inputSize: .fitWithin(width: 640, height: 640)))
    }
    static let portraits = ["images/mpl/grace_hopper.jpg", "images/facerec/obama.jpg"]

    func assess(_ image: Image) throws -> FaceQuality {
        let faces = try Self.detector.get().detectSynchronously(in: image)
        let face = try #require(faces.max { $0.box.area < $1.box.area }, "no face found")
        return FaceQualityScorer().assess(face, in: image)
    }

    @Test("a well-lit frontal portrait qualifies with every component high", arguments: portraits)
    func original(path: String) throws {
        let q = try assess(Fixtures.image(path))
        #expect(q.qualifies, "\(q.failures)")
        let c = q.components
        for value in [c.size, c.detection, c.sharpness, c.exposure, c.pose, c.framing] {
            #expect((0...1).contains(value))
        }
        // Margins, not equalities: detector outputs differ in their last digits between CPUs
        // (OpenCV's SIMD paths), so no component may be compared at a threshold's edge.
        #expect(c.size > 0.95 && c.framing > 0.95)
        #expect(c.pose > 0.7 && c.exposure > 0.7 && c.sharpness > 0.7)
        #expect(q.score > 0.85)
    }

    @Test("blurring lowers sharpness and fails it", arguments: portraits)
    func blurred(path: String) throws {
        let image = try Fixtures.image(path)
        let original = try assess(image)
        let blurred = try assess(Derived.blurred(image, sigma: Double(image.width) / 200))
        #expect(blurred.measurements.laplacianVariance < original.measurements.laplacianVariance / 4)
        #expect(blurred.components.sharpness < original.components.sharpness)
        #expect(blurred.failures.contains(.blurred))
        #expect(blurred.score < original.score)
    }

    @Test("darkening lowers exposure and fails it, without being called blur", arguments: portraits)
    func darkened(path: String) throws {
        let image = try Fixtures.image(path)
        let original = try assess(image)
        let dark = try assess(Derived.darkened(image, factor: 0.25))
        #expect(dark.measurements.meanLuminance < original.measurements.meanLuminance / 3)
        #expect(dark.components.exposure < original.components.exposure - 0.3)
        #expect(dark.failures.contains(.tooDark))
        #expect(!dark.failures.contains(.blurred))
        #expect(dark.score < original.score)
    }

    @Test("rotating the head lowers pose through roll", arguments: portraits)
    func rotated(path: String) throws {
        let image = try Fixtures.image(path)
        let original = try assess(image)
        let tilted = try assess(Derived.rotated(image, degrees: 30))
        // Counter-clockwise in the image: the left eye (image right) rises, roll goes negative.
        #expect(tilted.measurements.rollDegrees < original.measurements.rollDegrees - 10)
        #expect(tilted.components.pose < original.components.pose)
        #expect(tilted.score < original.score)
    }

    @Test("shrinking lowers size and eventually fails it", arguments: portraits)
    func shrunk(path: String) throws {
        let image = try Fixtures.image(path)
        let original = try assess(image)
        let half = try assess(Derived.shrunk(image, factor: 0.25))
        let tiny = try assess(Derived.shrunk(image, factor: 0.12))
        #expect(half.measurements.interEyeDistance < original.measurements.interEyeDistance / 3)
        #expect(half.components.size < original.components.size)
        #expect(tiny.components.size < half.components.size)
        #expect(tiny.failures.contains(.tooSmall))
    }

    @Test("a face cut by the frame edge fails framing")
    func partialFace() throws {
        let q = try assess(Fixtures.image("images/facerec/obama_partial_face.jpg"))
        #expect(q.failures.contains(.notInFrame))
        #expect(q.components.framing < 0.95)
    }

    @Test("frame scale converts inter-eye distance to full-frame pixels")
    func frameScale() throws {
        let image = try Fixtures.image("images/mpl/grace_hopper.jpg")
        let face = try #require(try Self.detector.get().detectSynchronously(in: image).first)
        let one = FaceQualityScorer().assess(face, in: image)
        let two = FaceQualityScorer().assess(face, in: image, frameScale: 2)
        #expect(abs(two.measurements.interEyeDistance - 2 * one.measurements.interEyeDistance) < 1e-9)
    }

    @Test("pose estimate: a frontal template is 0, a shifted nose is yaw, a tilted eye line is roll")
    func poseModel() {
        let frontal = FaceLandmarks(
            rightEye: .init(x: 40, y: 50), leftEye: .init(x: 80, y: 50), noseTip: .init(x: 60, y: 72),
            mouthRight: .init(x: 45, y: 90), mouthLeft: .init(x: 75, y: 90))
        let p = FaceQualityScorer.estimatePose(frontal)
        #expect(abs(p.yaw) < 1 && abs(p.roll) < 1 && abs(p.pitch) < 1)
        var turned = frontal
        turned.noseTip.x = 80
        #expect(FaceQualityScorer.estimatePose(turned).yaw > 30)
        var tilted = frontal
        tilted.leftEye.y = 50 + 40 * 0.5774  // 30 degrees, clockwise in the image
        #expect(abs(FaceQualityScorer.estimatePose(tilted).roll - 30) < 0.5)
        var down = frontal
        down.noseTip.y = 85
        #expect(FaceQualityScorer.estimatePose(down).pitch > 25)
    }
}
