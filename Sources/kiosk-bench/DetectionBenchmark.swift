// `kiosk-bench detection`: detector accuracy on the project's public face set and per-frame
// time against the same model through OpenCV's Python binding, on the same frames, same run.
import ArgumentParser
import FaceDetection
import Foundation
import Imaging
import TestSupport

struct DetectionBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detection",
        abstract: "Face detection: recall and false positives on the public face set; per-frame time vs OpenCV Python.",
        discussion: """
            Accuracy uses the detector's defaults (score 0.7, input fit within 320x320, no face cap) and the \
            ground truth in .assets/faces/ground_truth.json: a detection matches a face at IoU >= 0.3 or \
            when each box's centre lies inside the other, one detection per face; 'ignore' boxes count \
            neither way. The same images go through OpenCV 4.10's cv2.FaceDetectorYN with the same \
            settings (scripts/bench/facedetectoryn_reference.py, venv from scripts/setup-reference.sh). Timing resizes every image of the set to 320x240 and \
            640x480 and runs YuNet on them at that size with one OpenCV thread, here and in \
            scripts/bench/yunet_reference.py (Debian's /usr/bin/python3 with python3-opencv), \
            alternating rounds so both see the same machine load.
            """
    )

    @Option(help: "Timed runs per frame and round.")
    var runs = 5

    @Option(help: "Rounds (each: Python reference, then Swift); the best round of each counts.")
    var rounds = 2

    @Option(help: "Python interpreter with cv2 (Debian's python3-opencv).")
    var python = "/usr/bin/python3"

    @Option(help: "OpenCV threads for the timing.")
    var threads = 1

    @Option(help: "Interpreter of the FaceDetectorYN reference (scripts/setup-reference.sh makes it).")
    var referencePython = FileManager.default.homeDirectoryForCurrentUser
        .appendingPathComponent(".cache/kiosk-agent/reference-venv/bin/python").path

    @Flag(help: "Accuracy only, no timing.")
    var accuracyOnly = false

    func run() throws {
        let model = TestAssets.yunetModel.path
        guard TestAssets.available else {
            throw ValidationError("assets missing at \(TestAssets.root.path): run scripts/fetch-assets.sh (or make setup)")
        }
        let truth = try BenchGroundTruth.load()
        let images = try truth.images.keys.sorted().filter { !$0.hasSuffix(".npy") }.map { path in
            (path, try ImageFile.load(TestAssets.faceImage(path).path, format: .bgr24))
        }
        try accuracy(truth: truth, images: images, model: model)
        if !accuracyOnly { try timing(images: images.map(\.1), model: model) }
    }

    // MARK: Accuracy

    private func accuracy(truth: BenchGroundTruth, images: [(String, Image)], model: String) throws {
        let nonFace = images.filter { truth.images[$0.0]?.faces.isEmpty == true }.count
        let groups = images.filter { (truth.images[$0.0]?.faces.count ?? 0) >= 5 }.count
        print(
            "accuracy on the face set: \(images.count) images (\(nonFace) without a face, \(groups) group photos); "
                + "match = IoU >= 0.3 or centres inside each other")
        let defaults = YuNetFaceDetector.Configuration(modelPath: model)
        let cache = ProcessInfo.processInfo.environment["KIOSK_CACHE"].map { "\($0)/reference-venv/bin/python" }
        let python = cache ?? referencePython
        for inputSize in [defaults.inputSize, .fitWithin(width: 640, height: 640), .native] {
            var configuration = defaults
            configuration.inputSize = inputSize
            configuration.maximumFaces = 1000
            // Run low so the margins below the threshold can be shown, then apply the threshold.
            configuration.scoreThreshold = 0.3
            let detector = try YuNetFaceDetector(configuration: configuration)
            var fit = "0"
            if case .fitWithin(let w, let h) = inputSize { fit = "\(w)x\(h)" }
            let reference = try runFaceDetectorYN(
                python: python, model: model, fit: fit, score: 0.3,
                minimumWidth: defaults.minimumFaceSize, paths: images.map(\.0))
            var ours = BenchScore(), theirs = BenchScore()
            var lowestFaceScore = 1.0, highestOtherScore = 0.0, highestOtherAt = "-"
            for (path, image) in images {
                guard let entry = truth.images[path] else { continue }
                let detections = try detector.detectSynchronously(in: image).map { (rect: $0.box, score: $0.score) }
                let unmatched = ours.add(path, entry, detections, threshold: defaults.scoreThreshold)
                for d in detections
                where entry.faceRects.contains(where: { BenchGroundTruth.matches($0, d.rect) }) && d.score >= defaults.scoreThreshold {
                    lowestFaceScore = min(lowestFaceScore, d.score)
                }
                for d in unmatched where d.score > highestOtherScore {
                    highestOtherScore = d.score
                    highestOtherAt = "\(path) (\(Int(d.rect.width)) px)"
                }
                let theirBoxes = (reference.images[TestAssets.faceImage(path).path]?.faces ?? [])
                    .map { (rect: FaceRect(x: $0[0], y: $0[1], width: $0[2], height: $0[3]), score: $0[4]) }
                _ = theirs.add(path, entry, theirBoxes, threshold: defaults.scoreThreshold)
            }
            print("  input \(inputSize), score >= \(defaults.scoreThreshold), min face \(Int(defaults.minimumFaceSize)) px:")
            for (name, score) in [("ours", ours), ("FaceDetectorYN \(reference.opencv)", theirs)] {
                print(
                    "    \(name): faces >= 60 px \(score.found60)/\(score.faces60), all faces \(score.found)/\(score.faces); "
                        + "false positives \(score.falsePositives) on \(score.falseImages.count) images \(score.falseImages.sorted())")
            }
            print(
                String(
                    format: "    ours: lowest matched face score %.3f; highest score of anything else %.3f at %@",
                    lowestFaceScore, highestOtherScore, highestOtherAt))
            if !ours.missed60.isEmpty { print("    ours missed (>= 60 px): \(ours.missed60.joined(separator: ", "))") }
            if !theirs.missed60.isEmpty { print("    FaceDetectorYN missed (>= 60 px): \(theirs.missed60.joined(separator: ", "))") }
        }
    }

    struct ReferenceDetections: Decodable {
        struct Detections: Decodable { let faces: [[Double]] }
        let opencv: String
        let images: [String: Detections]
    }

    private func runFaceDetectorYN(
        python: String, model: String, fit: String, score: Double, minimumWidth: Double,
        paths: [String]
    ) throws -> ReferenceDetections {
        let script = TestAssets.repositoryRoot.appendingPathComponent("scripts/bench/facedetectoryn_reference.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments =
            [script, "--model", model, "--fit", fit, "--score", "\(score)", "--min-width", "\(minimumWidth)"]
            + paths.map { TestAssets.faceImage($0).path }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw ValidationError("cannot run \(python): \(error.localizedDescription); run scripts/setup-reference.sh")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError(
                "\(script) failed with status \(process.terminationStatus); run scripts/setup-reference.sh and scripts/fetch-assets.sh")
        }
        return try JSONDecoder().decode(ReferenceDetections.self, from: data)
    }

    // MARK: Timing

    private func timing(images: [Image], model: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kiosk-bench-detection-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        var configuration = YuNetFaceDetector.Configuration(modelPath: model)
        configuration.inputSize = .native
        configuration.threads = threads
        let detector = try YuNetFaceDetector(configuration: configuration)

        print(
            "per-frame time, YuNet on \(images.count) frames (the set resized), \(threads) OpenCV thread(s), "
                + "\(runs) runs x \(rounds) rounds; Swift = YuNetFaceDetector, Python = scripts/bench/yunet_reference.py")
        for (width, height) in [(320, 240), (640, 480)] {
            var frames: [Image] = []
            var specs: [String] = []
            for (index, image) in images.enumerated() {
                let frame = try image.resized(width: width, height: height, method: .bilinear)
                let url = dir.appendingPathComponent("frame\(index)_\(width)x\(height).bgr")
                try Data(frame.pixels).write(to: url)
                frames.append(frame)
                specs.append("\(url.path):\(width):\(height)")
            }
            var bestSwift = Double.infinity, bestPython = Double.infinity
            var swiftP90 = 0.0, pythonP90 = 0.0
            var disagreements = 0
            for round in 0..<rounds {
                let reference = try runReference(model: model, specs: specs)
                let pythonSamples = reference.frames.flatMap(\.ms)
                var swiftSamples: [Double] = []
                for (index, frame) in frames.enumerated() {
                    let faces = try detector.detectSynchronously(in: frame)  // warm-up, and the answer
                    for _ in 0..<runs {
                        let start = ContinuousClock.now
                        _ = try detector.detectSynchronously(in: frame)
                        swiftSamples.append(start.duration(to: .now).bench_ms)
                    }
                    if round == 0, index < reference.frames.count, !Self.agree(faces, reference.frames[index].faces) { disagreements += 1 }
                }
                let s = Self.median(swiftSamples), p = Self.median(pythonSamples)
                if s < bestSwift {
                    bestSwift = s
                    swiftP90 = Self.percentile(swiftSamples, 0.9)
                }
                if p < bestPython {
                    bestPython = p
                    pythonP90 = Self.percentile(pythonSamples, 0.9)
                }
            }
            // Quality scoring of every face found in these frames (no reference to compare with).
            let scorer = FaceQualityScorer()
            var qualitySamples: [Double] = []
            for frame in frames {
                for face in try detector.detectSynchronously(in: frame) {
                    let start = ContinuousClock.now
                    _ = scorer.assess(face, in: frame)
                    qualitySamples.append(start.duration(to: .now).bench_ms)
                }
            }
            if !qualitySamples.isEmpty {
                print(
                    String(
                        format: "  %dx%d: quality scoring median %.2f ms per face (%d faces)",
                        width, height, Self.median(qualitySamples), qualitySamples.count))
            }
            print(
                String(
                    format: "  %dx%d: Swift median %.1f ms (p90 %.1f), Python median %.1f ms (p90 %.1f), ratio %.2f; "
                        + "frames where the two disagree: %d of %d",
                    width, height, bestSwift, swiftP90, bestPython, pythonP90, bestSwift / bestPython,
                    disagreements, frames.count))
        }
    }

    /// Same faces (count, and each box at IoU >= 0.9 with one of the other's).
    static func agree(_ swift: [DetectedFace], _ python: [[Double]]) -> Bool {
        let mine = swift.filter { $0.score >= 0.7 }
        let theirs = python.filter { $0.count >= 5 && $0[4] >= 0.7 }.map { FaceRect(x: $0[0], y: $0[1], width: $0[2], height: $0[3]) }
        guard mine.count == theirs.count else { return false }
        return mine.allSatisfy { face in theirs.contains { $0.intersectionOverUnion(face.box) >= 0.9 } }
    }

    struct ReferenceOutput: Decodable {
        struct Frame: Decodable {
            let ms: [Double]
            /// Each `[x, y, w, h, score, landmarks...]`.
            let faces: [[Double]]
        }
        let opencv: String
        let frames: [Frame]
    }

    private func runReference(model: String, specs: [String]) throws -> ReferenceOutput {
        let script = TestAssets.repositoryRoot.appendingPathComponent("scripts/bench/yunet_reference.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments =
            [
                script, "--model", model, "--threads", "\(threads)", "--repeat", "\(runs)",
                "--score", "0.7", "--nms", "0.3",
            ] + specs
        let output = Pipe()
        process.standardOutput = output
        do {
            try process.run()
        } catch {
            throw ValidationError(
                "cannot run \(python): \(error.localizedDescription); install python3-opencv (scripts/setup-deps.sh bench)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError(
                "\(script) failed with status \(process.terminationStatus); is python3-opencv installed? (scripts/setup-deps.sh bench)")
        }
        return try JSONDecoder().decode(ReferenceOutput.self, from: data)
    }

    static func median(_ values: [Double]) -> Double { percentile(values, 0.5) }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }
}

/// The ground truth file (also read by the tests; the benchmark keeps its own small reader).
struct BenchGroundTruth: Decodable {
    struct Entry: Decodable {
        let faces: [[Double]]
        let ignore: [[Double]]
        var faceRects: [FaceRect] { faces.map { FaceRect(x: $0[0], y: $0[1], width: $0[2], height: $0[3]) } }
        var ignoreRects: [FaceRect] { ignore.map { FaceRect(x: $0[0], y: $0[1], width: $0[2], height: $0[3]) } }
    }
    let images: [String: Entry]

    static func load() throws -> BenchGroundTruth {
        let url = TestAssets.faceImages.appendingPathComponent("ground_truth.json")
        return try JSONDecoder().decode(BenchGroundTruth.self, from: Data(contentsOf: url))
    }

    /// The tests' rule (Tests/FaceDetectionTests/Support.swift): dlib's square boxes and YuNet's
    /// taller ones on the same face can stay under IoU 0.3, their centres do not.
    static func matches(_ a: FaceRect, _ b: FaceRect) -> Bool {
        if a.intersectionOverUnion(b) >= 0.3 { return true }
        func inside(_ p: FacePoint, _ r: FaceRect) -> Bool { p.x >= r.x && p.x <= r.maxX && p.y >= r.y && p.y <= r.maxY }
        return inside(a.center, b) && inside(b.center, a)
    }
}

/// Recall and false positives of one detector over the set (one detection per face, best IoU first).
struct BenchScore {
    var faces = 0, found = 0, faces60 = 0, found60 = 0, falsePositives = 0
    var falseImages: Set<String> = []
    var missed60: [String] = []

    /// Adds one image; returns the detections that are on no face and no ignored face (any score).
    mutating func add(
        _ path: String, _ entry: BenchGroundTruth.Entry, _ detections: [(rect: FaceRect, score: Double)],
        threshold: Double
    ) -> [(rect: FaceRect, score: Double)] {
        let kept = detections.filter { $0.score >= threshold }
        let truth = entry.faceRects
        var pairs: [(Int, Int, Double)] = []
        for (f, face) in truth.enumerated() {
            for (d, det) in kept.enumerated() where BenchGroundTruth.matches(face, det.rect) {
                pairs.append((f, d, face.intersectionOverUnion(det.rect)))
            }
        }
        var usedFaces = Set<Int>(), usedDetections = Set<Int>()
        for (f, d, _) in pairs.sorted(by: { $0.2 > $1.2 }) where !usedFaces.contains(f) && !usedDetections.contains(d) {
            usedFaces.insert(f)
            usedDetections.insert(d)
        }
        for (f, face) in truth.enumerated() {
            faces += 1
            if usedFaces.contains(f) { found += 1 }
            if face.width >= 60 {
                faces60 += 1
                if usedFaces.contains(f) { found60 += 1 } else { missed60.append("\(path) \(Int(face.width)) px") }
            }
        }
        let known = truth + entry.ignoreRects
        let others = detections.filter { d in !known.contains { BenchGroundTruth.matches($0, d.rect) } }
        for (d, det) in kept.enumerated()
        where !usedDetections.contains(d) && !known.contains(where: { BenchGroundTruth.matches($0, det.rect) }) {
            falsePositives += 1
            falseImages.insert(path)
        }
        return others
    }
}

extension Duration {
    fileprivate var bench_ms: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
