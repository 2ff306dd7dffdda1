// FramePathFigure: the whole per-frame path at 640×480 MJPEG (decode, YuNet, quality, selection) vs Python/OpenCV.
import Camera
import FaceDetection
import Foundation
import Imaging
import KioskCore
import TestSupport

/// The agent's per-frame path, as the pipeline runs it on a frame with detection (the idle
/// gate off: every frame detected, the busy case): `FrameAnalyzer.analyze` (TurboJPEG half-scale
/// decode, YuNet, quality) then `BestFrameSelector.observe`; the face set's photos at 640×480,
/// JPEG q85 (what a USB camera's MJPEG looks like). The Python reference does the same decode
/// and detection on the same files; rounds alternate Python, Swift.
struct FramePathFigure {
    let python: String
    let rounds: Int
    let directory: URL
    let runs = 3

    struct Reference: Decodable {
        struct Frame: Decodable { let ms: [Double] }
        let opencv: String
        let frames: [Frame]
    }

    func measure() async throws -> [BenchFigure] {
        let truth = try BenchGroundTruth.load()
        let encoder = try JPEGEncoder()
        var files: [String] = []
        var jpegs: [[UInt8]] = []
        for (index, path) in truth.images.keys.sorted().filter({ !$0.hasSuffix(".npy") }).enumerated() {
            let image = try ImageFile.load(TestAssets.faceImage(path), format: .rgb24).resized(width: 640, height: 480, method: .area)
            let bytes = try encoder.encode(image, quality: 85)
            let file = directory.appendingPathComponent("path\(index).jpg")
            try Data(bytes).write(to: file)
            files.append(file.path)
            jpegs.append(bytes)
        }
        var detection = DetectionSettings()
        detection.model = TestAssets.yunetModel.path
        let detector = try YuNetFaceDetector(configuration: detection.detectorConfiguration)
        let analyzer = try FrameAnalyzer(detector: detector, scorer: FaceQualityScorer(), detectionWidth: 320)
        var selector = BestFrameSelector<Int, ContinuousClock.Instant>()
        var swiftRounds: [Double] = [], pythonRounds: [Double] = [], swiftAll: [Double] = [], pythonAll: [Double] = []
        var opencv = "?"
        for _ in 0..<rounds {
            let reference = try runReference(files: files)
            opencv = reference.opencv
            let p = reference.frames.flatMap(\.ms)
            pythonAll += p
            pythonRounds.append(BenchStats(p).median)
            var s: [Double] = []
            for (n, jpeg) in jpegs.enumerated() {
                let frame = Frame(
                    sequence: UInt64(n), timestamp: MonotonicTime.now(), width: 640, height: 480, payload: .jpeg(jpeg))
                _ = try await analyzer.analyze(frame)  // warm-up, as the reference's
                for _ in 0..<runs {
                    let start = ContinuousClock.now
                    let analysis = try await analyzer.analyze(frame)
                    _ = selector.observe(faces: analysis.faces, frame: n, at: .now, mapping: analysis.mapping)
                    s.append((ContinuousClock.now - start).milliseconds)
                }
            }
            swiftAll += s
            swiftRounds.append(BenchStats(s).median)
        }
        let median = BenchStats(swiftRounds).median, p95 = BenchStats(swiftAll).p95
        let reference = BenchStats(pythonRounds).median, referenceP95 = BenchStats(pythonAll).p95
        let (medianVerdict, medianMargin) = underOrOver(median, goal: 12, unit: "ms", digits: 2)
        let (p95Verdict, p95Margin) = underOrOver(p95, goal: 20, unit: "ms", digits: 2)
        let verdict: BenchFigure.Verdict = medianVerdict == .pass && p95Verdict == .pass ? .pass : .miss
        return [
            BenchFigure(
                name: "whole per-frame path, 640×480 MJPEG: half-scale decode + YuNet + quality + selection",
                measured: "\(fmt(median, 2)) ms median, \(fmt(p95, 2)) ms p95",
                goal: "≤ 12 ms median, ≤ 20 ms p95", verdict: verdict, margin: "median \(medianMargin); p95 \(p95Margin)",
                reference:
                    "Python/OpenCV \(opencv) imdecode(REDUCED_COLOR_2) + YuNet: \(fmt(reference, 2)) ms median, \(fmt(referenceP95, 2)) ms p95; ratio \(fmt(median / reference, 2))×",
                samples:
                    "\(jpegs.count) frames × \(runs) runs × \(rounds) rounds (alternating); round medians \(fmt(BenchStats(swiftRounds).min, 2))–\(fmt(BenchStats(swiftRounds).max, 2)) ms (Python \(fmt(BenchStats(pythonRounds).min, 2))–\(fmt(BenchStats(pythonRounds).max, 2)))",
                limit: verdict == .miss ? "YuNet's forward pass on one core (most of the time)" : nil,
                values: ["median_ms": median, "p95_ms": p95, "reference_median_ms": reference, "reference_p95_ms": referenceP95])
        ]
    }

    private func runReference(files: [String]) throws -> Reference {
        let script = TestAssets.repositoryRoot.appendingPathComponent("scripts/bench/frame_path_reference.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, "--model", TestAssets.yunetModel.path, "--threads", "1", "--repeat", "\(runs)"] + files
        let output = Pipe()
        process.standardOutput = output
        do {
            try process.run()
        } catch {
            throw BenchError("cannot run \(python): \(error.localizedDescription); install python3-opencv (scripts/setup-deps.sh bench)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchError("\(script) failed with status \(process.terminationStatus); is python3-opencv installed?")
        }
        return try JSONDecoder().decode(Reference.self, from: data)
    }
}
