// `kioskctl detect`: run the on-device face detector and quality checks on one image, to see
// what the agent would see (placement, lighting, focus) without the camera or the server.
package import ArgumentParser
import FaceDetection
import Foundation
import Imaging
import KioskCore

/// `kioskctl detect --image FILE [--json] [--annotate OUT.jpg]`.
package struct DetectCommand: AsyncParsableCommand, KioskctlCommand {
    package static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Find faces in a JPEG or PNG and score their quality as the agent would.",
        discussion: """
            Prints each face: box [x, y, w, h] and landmarks in the image's own pixels, the \
            detector's score, the quality components (0 to 1), the combined score and why a face \
            does not qualify. --json prints one object {width, height, elapsed_ms, faces: [{box, \
            score, landmarks, quality}]}. --annotate writes a copy with boxes, landmarks and \
            scores drawn (it shows a face: written mode 0600, never over an existing file unless \
            --force). The time is detection plus quality, without file decoding. Exit status 0 \
            also when no face is found.
            """
    ).compactUsage("kioskctl detect --image <file> [<options>]")

    @OptionGroup package var global: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("The image (JPEG or PNG).", valueName: "file"))
    var image: String

    var json: Bool { global.json }

    @Option(name: .long, help: ArgumentHelp("Write an annotated JPEG here (mode 0600).", valueName: "out.jpg"))
    var annotate: String?

    @Flag(help: "Replace the --annotate file if it exists.")
    var force = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "YuNet model file. Default: detection.model when a configuration file is in use, else $KIOSK_YUNET_MODEL, ./.assets/models/, then \(YuNetFaceDetector.installedModelPath).",
            valueName: "path"))
    var model: String?

    @Option(name: .long, help: "Minimum detection score, 0 to 1.")
    var scoreThreshold = 0.7

    @Option(
        name: .long, help: "The detector sees the image shrunk to fit N x N pixels (as the agent does with camera frames); 0 = full size.")
    var detectionSize = 320

    @Option(name: .long, help: "OpenCV threads.")
    var threads = 1

    package init() {}

    package func validate() throws {
        guard (0...1).contains(scoreThreshold) else { throw ValidationError("--score-threshold must be between 0 and 1") }
        guard detectionSize == 0 || detectionSize >= 32 else { throw ValidationError("--detection-size must be 0 or at least 32") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be between 1 and 64") }
    }

    package func run() async throws {
        if let annotate, !force, FileManager.default.fileExists(atPath: annotate) {
            throw CommandFailure(.outputFile, "\(annotate) exists: give --force to replace it, or choose another name")
        }
        let picture = try ImageFile.load(image, format: .bgr24)
        var modelPath = model
        if modelPath == nil, global.configurationFile != nil {
            modelPath = try await global.loadConfiguration().detection.model
        }
        var configuration = YuNetFaceDetector.Configuration(
            modelPath: modelPath ?? YuNetFaceDetector.defaultModelPath(environment: ProcessInfo.processInfo.environment))
        configuration.scoreThreshold = scoreThreshold
        configuration.threads = threads
        configuration.inputSize = detectionSize == 0 ? .native : .fitWithin(width: detectionSize, height: detectionSize)
        let detector = try YuNetFaceDetector(configuration: configuration)
        let scorer = FaceQualityScorer()

        let clock = ContinuousClock()
        let start = clock.now
        let faces = try detector.detectSynchronously(in: picture)
        let assessed = faces.map { AssessedFace(face: $0, quality: scorer.assess($0, in: picture)) }
        let elapsed = start.duration(to: clock.now)
        let report = DetectionReport(
            width: picture.width, height: picture.height, elapsedMilliseconds: elapsed.milliseconds, faces: assessed)

        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            let input = detector.inputSize(forWidth: picture.width, height: picture.height)
            print(Self.text(report, file: image, detectorInput: input, threads: threads))
        }

        if let annotate {
            let drawn = try FaceAnnotator.annotate(picture, faces: faces)
            let jpeg = try JPEGEncoder().encode(drawn, quality: 90)
            try FaceFile.write(jpeg, to: annotate, force: force)
            if !json { print("annotated image written to \(annotate)") }
        }
    }

    /// The human-readable form.
    static func text(_ report: DetectionReport, file: String, detectorInput: (width: Int, height: Int), threads: Int) -> String {
        func f(_ v: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", v) }
        func pt(_ p: [Double]?) -> String { p.map { "(\(f($0[0], 1)), \(f($0[1], 1)))" } ?? "?" }
        // Each line within 80 columns (terminals, serial consoles); the file name gets its own.
        var lines = [
            "\(file):",
            "  \(report.width)x\(report.height), \(report.faces.count) face\(report.faces.count == 1 ? "" : "s"), "
                + "\(f(report.elapsedMilliseconds, 1)) ms (YuNet at \(detectorInput.width)x\(detectorInput.height), "
                + "\(threads) thread\(threads == 1 ? "" : "s"))",
        ]
        for (index, face) in report.faces.enumerated() {
            let b = face.box.map { f($0, 1) }.joined(separator: ", ")
            let q = face.quality
            lines.append("face \(index + 1): box [\(b)] score \(f(face.score, 3))")
            lines.append(
                "  eyes: right \(pt(face.landmarks["right_eye"])), left \(pt(face.landmarks["left_eye"])), "
                    + "nose \(pt(face.landmarks["nose_tip"]))")
            lines.append(
                "  mouth: right \(pt(face.landmarks["mouth_right"])), left \(pt(face.landmarks["mouth_left"]))")
            lines.append(
                "  quality \(f(q.score)): size \(f(q.size)), detection \(f(q.detection)), sharpness \(f(q.sharpness)),")
            lines.append("    exposure \(f(q.exposure)), pose \(f(q.pose)), framing \(f(q.framing))")
            let m = q.measurements
            lines.append(
                "  measured: inter-eye \(f(m["inter_eye_distance"] ?? 0, 1)) px, yaw \(f(m["yaw_degrees"] ?? 0, 0))°, "
                    + "roll \(f(m["roll_degrees"] ?? 0, 0))°, pitch \(f(m["pitch_degrees"] ?? 0, 0))°,")
            lines.append(
                "    luminance \(f(m["mean_luminance"] ?? 0, 0)), sharpness \(f(m["laplacian_variance"] ?? 0, 0))")
            if q.qualifies {
                lines.append("  qualifies for a check-in")
            } else {
                lines.append("  does not qualify:")
                for failure in q.failures { lines.append("    " + (QualityFailure(rawValue: failure)?.description ?? failure)) }
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension Duration {
    fileprivate var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
