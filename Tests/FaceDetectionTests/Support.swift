import Foundation
import Imaging
import TestSupport
@testable import FaceDetection

/// The project's face set ground truth (Tests/Fixtures/faces/ground_truth.json).
struct GroundTruth: Decodable {
    struct Entry: Decodable {
        /// [width, height]
        let size: [Int]
        /// [x, y, w, h] in the image's own pixels.
        let faces: [[Double]]
        let ignore: [[Double]]

        var faceRects: [FaceRect] { faces.map { FaceRect(x: $0[0], y: $0[1], width: $0[2], height: $0[3]) } }
        var ignoreRects: [FaceRect] { ignore.map { FaceRect(x: $0[0], y: $0[1], width: $0[2], height: $0[3]) } }
    }

    let images: [String: Entry]

    static func load() throws -> GroundTruth {
        let url = TestAssets.repositoryRoot.appendingPathComponent("Tests/Fixtures/faces/ground_truth.json")
        return try JSONDecoder().decode(GroundTruth.self, from: Data(contentsOf: url))
    }
}

enum Fixtures {
    /// One detector for the whole test process: loading the model takes ~50 ms and the
    /// detector serialises its own calls.
    static let detector: Result<YuNetFaceDetector, FaceDetectionError> = Result {
        () throws(FaceDetectionError) in
        try YuNetFaceDetector(configuration: .init(modelPath: TestAssets.yunetModel.path))
    }

    static func image(_ relative: String, format: PixelFormat = .bgr24) throws -> Image {
        try ImageFile.load(TestAssets.faceImage(relative).path, format: format)
    }

    /// The single largest face of an image at native resolution (quality tests).
    static func largestFace(in image: Image) throws -> DetectedFace? {
        try detector.get().detectSynchronously(in: image).max { $0.box.area < $1.box.area }
    }
}
