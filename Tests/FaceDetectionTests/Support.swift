// Face detection test support: ground truth, recall and false-positive scoring, the OpenCV reference.
import Foundation
import Imaging
import TestSupport

@testable import FaceDetection

/// The project's face set ground truth (Tests/Fixtures/faces/ground_truth.json); its `_doc`
/// says where each source's boxes come from.
struct GroundTruth: Decodable {
    struct Entry: Decodable {
        /// [width, height]
        let size: [Int]
        /// [x, y, w, h] in the image's own pixels; a face's size is its width.
        let faces: [[Double]]
        let ignore: [[Double]]
        /// Where the boxes come from (dlib's labels, by eye, non-face).
        let labels: String?

        var faceRects: [FaceRect] { faces.map { FaceRect(x: $0[0], y: $0[1], width: $0[2], height: $0[3]) } }
        var ignoreRects: [FaceRect] { ignore.map { FaceRect(x: $0[0], y: $0[1], width: $0[2], height: $0[3]) } }
    }

    let images: [String: Entry]

    /// The faces a door must find: 60 px wide and more (smaller ones are too far away to check in).
    static let relevantFaceWidth = 60.0

    static func load() throws -> GroundTruth {
        let url = TestAssets.repositoryRoot.appendingPathComponent("Tests/Fixtures/faces/ground_truth.json")
        return try JSONDecoder().decode(GroundTruth.self, from: Data(contentsOf: url))
    }

    /// dlib's boxes are squares from the eyebrows to the chin, YuNet's are taller (forehead to
    /// chin): a well-placed detection of a small dlib face can stay under IoU 0.3, so centres
    /// inside each other also count. Either way the two boxes are on the same face.
    static func matches(_ a: FaceRect, _ b: FaceRect) -> Bool {
        if a.intersectionOverUnion(b) >= 0.3 { return true }
        func inside(_ p: FacePoint, _ r: FaceRect) -> Bool { p.x >= r.x && p.x <= r.maxX && p.y >= r.y && p.y <= r.maxY }
        return inside(a.center, b) && inside(b.center, a)
    }
}

/// Recall and false positives of one detector's boxes against the ground truth.
struct DetectionScore {
    /// One detection: box in image pixels and score.
    struct Box {
        let rect: FaceRect
        let score: Double
    }

    var relevantFaces = 0
    var found = 0
    var missed: [String] = []
    var falsePositiveImages: Set<String> = []
    var falsePositives: [String] = []

    var recall: Double { relevantFaces == 0 ? 1 : Double(found) / Double(relevantFaces) }

    /// `foundAt`: the score a detection needs to find a face; `falseAt`: the score from which an
    /// unmatched detection is a false positive. Each face is matched at most once, best IoU first.
    mutating func add(_ path: String, truth: GroundTruth.Entry, detections: [Box], foundAt: Double, falseAt: Double) {
        let faces = truth.faceRects
        var pairs: [(face: Int, detection: Int, iou: Double)] = []
        for (f, face) in faces.enumerated() {
            for (d, detection) in detections.enumerated() where GroundTruth.matches(face, detection.rect) {
                pairs.append((f, d, face.intersectionOverUnion(detection.rect)))
            }
        }
        var faceTaken = Set<Int>(), detectionTaken = Set<Int>()
        for pair in pairs.sorted(by: { $0.iou > $1.iou })
        where !faceTaken.contains(pair.face) && !detectionTaken.contains(pair.detection)
            && detections[pair.detection].score >= foundAt
        {
            faceTaken.insert(pair.face)
            detectionTaken.insert(pair.detection)
        }
        for (f, face) in faces.enumerated() where face.width >= GroundTruth.relevantFaceWidth {
            relevantFaces += 1
            if faceTaken.contains(f) { found += 1 } else { missed.append("\(path) \(face)") }
        }
        for (d, detection) in detections.enumerated() where !detectionTaken.contains(d) && detection.score >= falseAt {
            // A second box on a labelled face, or one on an ignored face, is not a face found
            // where there is none.
            let known = faces + truth.ignoreRects
            if known.contains(where: { GroundTruth.matches($0, detection.rect) }) { continue }
            falsePositiveImages.insert(path)
            falsePositives.append("\(path) \(detection.rect) score \(detection.score)")
        }
    }
}

/// OpenCV's own FaceDetectorYN (OpenCV 4.10, pinned by scripts/setup-reference.sh), run by
/// scripts/bench/facedetectoryn_reference.py: what the project's detector must match.
enum FaceDetectorYNReference {
    struct Failure: Error, CustomStringConvertible { let description: String }

    struct Output: Decodable {
        struct Detections: Decodable {
            let width: Int
            let height: Int
            /// Each [x, y, w, h, score] in image pixels.
            let faces: [[Double]]
        }
        let opencv: String
        let images: [String: Detections]
    }

    static var python: URL { TestAssets.cacheDirectory.appendingPathComponent("reference-venv/bin/python") }

    /// Detections for each image (absolute paths), fitted within `fit` like the Swift detector.
    static func run(
        images: [String], fit: (width: Int, height: Int), score: Double, nms: Double,
        minimumWidth: Double
    ) throws -> Output {
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw Failure(
                description:
                    "the FaceDetectorYN reference is not set up (no \(python.path)): run scripts/setup-reference.sh (make assets does)")
        }
        let script = TestAssets.repositoryRoot.appendingPathComponent("scripts/bench/facedetectoryn_reference.py").path
        let process = Process()
        process.executableURL = python
        process.arguments =
            [
                script, "--model", TestAssets.yunetModel.path, "--fit", "\(fit.width)x\(fit.height)",
                "--score", "\(score)", "--nms", "\(nms)", "--min-width", "\(minimumWidth)",
            ] + images
        let stdout = Pipe()
        // stderr to a file: libpng warnings must not fill a pipe nobody reads while stdout is read.
        let errURL = try TestAssets.temporaryDirectory("reference").appendingPathComponent("stderr")
        defer { try? FileManager.default.removeItem(at: errURL.deletingLastPathComponent()) }
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let stderr = try FileHandle(forWritingTo: errURL)
        defer { try? stderr.close() }
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            throw Failure(
                description: "\(script) failed (status \(process.terminationStatus)): \(message.suffix(600)); "
                    + "run scripts/setup-reference.sh and scripts/fetch-assets.sh")
        }
        return try JSONDecoder().decode(Output.self, from: data)
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
