import Foundation
import Imaging
import Testing
import TestSupport
@testable import FaceDetection

@Suite("YuNet face detector", .enabled(if: TestAssets.available, "assets missing: run scripts/fetch-assets.sh"))
struct YuNetFaceDetectorTests {
    @Test("finds every annotated face of the public set at IoU >= 0.3, and nothing on non-face images")
    func groundTruth() throws {
        let truth = try GroundTruth.load()
        let detector = try Fixtures.detector.get()
        var missed: [String] = []
        var falsePositives: [String] = []
        for (path, entry) in truth.images.sorted(by: { $0.key < $1.key }) {
            guard FileManager.default.fileExists(atPath: TestAssets.faceImage(path).path),
                  !path.hasSuffix(".npy") else { continue }
            let image = try Fixtures.image(path)
            #expect([image.width, image.height] == entry.size, "\(path)")
            let found = try detector.detectSynchronously(in: image)
            for face in entry.faceRects where !found.contains(where: { $0.box.intersectionOverUnion(face) >= 0.3 }) {
                missed.append("\(path) \(face)")
            }
            for detection in found {
                let matches = (entry.faceRects + entry.ignoreRects).contains { $0.intersectionOverUnion(detection.box) >= 0.3 }
                if !matches { falsePositives.append("\(path) \(detection.box) score \(detection.score)") }
            }
        }
        #expect(missed.isEmpty, "missed: \(missed)")
        #expect(falsePositives.isEmpty, "false positives: \(falsePositives)")
    }

    @Test("boxes and landmarks come back in the input image's pixels whatever the format and input size",
          arguments: [PixelFormat.bgr24, .rgb24, .gray8])
    func formatsAndScale(format: PixelFormat) throws {
        let truth = try #require(try GroundTruth.load().images["images/mpl/grace_hopper.jpg"]?.faceRects.first)
        let image = try Fixtures.image("images/mpl/grace_hopper.jpg", format: format)
        for inputSize in [YuNetFaceDetector.InputSize.native, .fitWithin(width: 160, height: 160)] {
            var configuration = YuNetFaceDetector.Configuration(modelPath: TestAssets.yunetModel.path)
            configuration.inputSize = inputSize
            let detector = try YuNetFaceDetector(configuration: configuration)
            let faces = try detector.detectSynchronously(in: image)
            let face = try #require(faces.first, "\(format) \(inputSize)")
            #expect(faces.count == 1)
            #expect(face.box.intersectionOverUnion(truth) > 0.6, "\(format) \(inputSize): \(face.box)")
            // Landmarks inside the box, eyes above the nose above the mouth, right eye on the image left.
            let l = face.landmarks
            for p in l.all { #expect(p.x > face.box.x && p.x < face.box.maxX && p.y > face.box.y && p.y < face.box.maxY) }
            #expect(l.rightEye.x < l.leftEye.x)
            #expect(l.mouthRight.x < l.mouthLeft.x)
            #expect(max(l.rightEye.y, l.leftEye.y) < l.noseTip.y && l.noseTip.y < min(l.mouthRight.y, l.mouthLeft.y))
        }
    }

    @Test("the async entry point gives the same faces as the blocking one")
    func asyncMatchesSync() async throws {
        let detector = try Fixtures.detector.get()
        let image = try Fixtures.image("images/facerec/obama.jpg")
        let a = try await detector.detect(in: image)
        let b = try detector.detectSynchronously(in: image)
        #expect(a == b)
        #expect(a.count == 1)
    }

    @Test("minimum face size drops small faces; a blank frame has none")
    func minimumSizeAndBlank() throws {
        var configuration = YuNetFaceDetector.Configuration(modelPath: TestAssets.yunetModel.path)
        configuration.minimumFaceSize = 1000
        let strict = try YuNetFaceDetector(configuration: configuration)
        #expect(try strict.detectSynchronously(in: Fixtures.image("images/mpl/grace_hopper.jpg")).isEmpty)
        let detector = try Fixtures.detector.get()
        #expect(try detector.detectSynchronously(in: Image(width: 640, height: 480, format: .gray8, filledWith: 128)).isEmpty)
        // Odd sizes are padded, not rejected.
        #expect(try detector.detectSynchronously(in: Image(width: 33, height: 7, format: .bgr24)).isEmpty)
    }

    @Test("a missing model names the file and the setup step")
    func missingModel() throws {
        let path = "/nonexistent/face_detection_yunet_2023mar.onnx"
        #expect(throws: FaceDetectionError.modelMissing(path: path)) {
            try YuNetFaceDetector(configuration: .init(modelPath: path))
        }
        let message = FaceDetectionError.modelMissing(path: path).description
        #expect(message.contains(path) && message.contains("scripts/fetch-assets.sh"))
    }

    @Test("a corrupt or truncated model is a clear error, not a crash",
          arguments: ["garbage", "truncated", "empty"])
    func corruptModel(kind: String) throws {
        let dir = try TestAssets.temporaryDirectory("yunet")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("face_detection_yunet_2023mar.onnx")
        switch kind {
        case "garbage":
            try Data("this is not an onnx model\n".utf8).write(to: url)
        case "truncated":
            let model = try Data(contentsOf: TestAssets.yunetModel)
            try model.prefix(model.count / 2).write(to: url)
        default:
            try Data().write(to: url)
        }
        do {
            _ = try YuNetFaceDetector(configuration: .init(modelPath: url.path))
            Issue.record("a \(kind) model loaded")
        } catch {
            guard case .modelUnusable(let path, let reason) = error else {
                Issue.record("unexpected error \(error)"); return
            }
            #expect(path == url.path)
            #expect(!reason.isEmpty)
            #expect(error.description.contains("scripts/fetch-assets.sh"))
        }
    }

    @Test("invalid settings name the key")
    func invalidConfiguration() {
        var configuration = YuNetFaceDetector.Configuration(modelPath: TestAssets.yunetModel.path)
        configuration.scoreThreshold = 1.5
        #expect {
            try YuNetFaceDetector(configuration: configuration)
        } throws: { error in
            guard case FaceDetectionError.invalidConfiguration(let key, _, _) = error else { return false }
            return key == "scoreThreshold"
        }
    }
}
