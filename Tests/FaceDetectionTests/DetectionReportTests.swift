// The JSON detection report of kioskctl detect --json: size, timing and faces in image pixels.
import Foundation
import TestSupport
import Testing

@testable import FaceDetection

@Suite("Detection report (kioskctl detect --json)", .enabled(if: TestAssets.available, "assets missing: run scripts/fetch-assets.sh"))
struct DetectionReportTests {
    @Test("JSON has width, height, elapsed_ms and faces with box, score, landmarks, quality in image pixels")
    func shape() throws {
        let image = try Fixtures.image("images/mpl/grace_hopper.jpg")
        let faces = try Fixtures.detector.get().detectSynchronously(in: image)
        let assessed = faces.map { AssessedFace(face: $0, quality: FaceQualityScorer().assess($0, in: image)) }
        let report = DetectionReport(width: image.width, height: image.height, elapsedMilliseconds: 12.3456, faces: assessed)
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any])
        #expect(Set(object.keys) == ["width", "height", "elapsed_ms", "faces"])
        #expect(object["width"] as? Int == 512 && object["height"] as? Int == 600)
        #expect(object["elapsed_ms"] as? Double == 12.35)
        let face = try #require((object["faces"] as? [[String: Any]])?.first)
        #expect(Set(face.keys) == ["box", "score", "landmarks", "quality"])
        let box = try #require(face["box"] as? [Double])
        let truth = try #require(try GroundTruth.load().images["images/mpl/grace_hopper.jpg"]?.faceRects.first)
        #expect(FaceRect(x: box[0], y: box[1], width: box[2], height: box[3]).intersectionOverUnion(truth) > 0.6)
        let landmarks = try #require(face["landmarks"] as? [String: [Double]])
        #expect(Set(landmarks.keys) == ["right_eye", "left_eye", "nose_tip", "mouth_right", "mouth_left"])
        let quality = try #require(face["quality"] as? [String: Any])
        for key in ["size", "detection", "sharpness", "exposure", "pose", "framing", "score"] {
            let value = try #require(quality[key] as? Double, "\(key)")
            #expect((0...1).contains(value))
        }
        #expect(quality["qualifies"] as? Bool == true)
        #expect((quality["failures"] as? [String])?.isEmpty == true)
    }
}
