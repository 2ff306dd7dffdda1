// YuNetFaceDetector: YuNet 2023mar via OpenCV's dnn on one serial queue; its settings and model lookup.
import CVision
import Dispatch
package import Imaging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Face detection with YuNet (2023mar) run through OpenCV 4.6 `cv::dnn`.
///
/// OpenCV 4.6's own `cv::FaceDetectorYN` cannot load the 2023mar model, so the shim feeds the
/// network and decodes its outputs itself (see `Sources/CVision`). The network is not
/// thread-safe: one serial queue owns it and every inference runs there, off Swift's
/// cooperative pool. Safe to share between tasks; calls are served one at a time.
package final class YuNetFaceDetector: FaceDetector, @unchecked Sendable {
    // @unchecked Sendable: the only mutable state is the C network handle, touched solely on
    // `queue` (a serial queue) and freed in deinit when no call can be running.

    /// How big an image the network sees.
    package enum InputSize: Sendable, Hashable, CustomStringConvertible {
        /// The image as given (padded to a multiple of 32). Slowest on large images.
        case native
        /// Shrunk (never enlarged) to fit within `width` × `height`, keeping the aspect ratio;
        /// results are mapped back to the image's pixels.
        case fitWithin(width: Int, height: Int)

        /// The network input size for an image of `width` × `height`.
        package func inputSize(forWidth width: Int, height: Int) -> (width: Int, height: Int) {
            switch self {
            case .native:
                return (width, height)
            case .fitWithin(let maxWidth, let maxHeight):
                let scale = min(1, Double(maxWidth) / Double(width), Double(maxHeight) / Double(height))
                guard scale < 1 else { return (width, height) }
                return (max(1, Int((Double(width) * scale).rounded())), max(1, Int((Double(height) * scale).rounded())))
            }
        }

        package var description: String {
            switch self {
            case .native: "native"
            case .fitWithin(let w, let h): "fit within \(w)x\(h)"
            }
        }
    }

    /// Detector settings. Defaults suit a door camera at 640×480 with faces 0.5–2 m away.
    package struct Configuration: Sendable, Hashable {
        /// Path to `face_detection_yunet_2023mar.onnx` (fetched by `scripts/fetch-assets.sh`).
        package var modelPath: String
        /// Minimum detection score, 0...1. Default 0.6: on the project's face set every face is
        /// found at ≥ 0.85 while no non-face image scores above 0.55 (see docs/DETECTION.md);
        /// 0.6 keeps that margin on both sides. Quality scoring adds its own, stricter floor.
        package var scoreThreshold: Double
        /// Overlap (IoU) above which a weaker box is suppressed as a duplicate. Default 0.3,
        /// YuNet's own default: faces at a door rarely overlap that much.
        package var nmsThreshold: Double
        /// Boxes narrower than this, in the input image's pixels, are dropped. Default 20 px:
        /// below that YuNet's stride-8 grid is unreliable and no server can recognise the face.
        package var minimumFaceSize: Double
        /// At most this many faces are returned (best first). Default 16.
        package var maximumFaces: Int
        /// OpenCV worker threads. Process-wide in OpenCV (cv::setNumThreads), set when the
        /// detector is created. Default 1: the agent shares a small CPU with the camera and
        /// network work, and YuNet at 320×240 takes a few tens of ms on one core.
        package var threads: Int
        /// What the network sees. Default: fit within 320×320 (a 640×480 frame runs at 320×240),
        /// about 3× faster than native with faces of 40 px and more still found.
        package var inputSize: InputSize

        package init(
            modelPath: String, scoreThreshold: Double = 0.7, nmsThreshold: Double = 0.3,
            minimumFaceSize: Double = 20, maximumFaces: Int = 16, threads: Int = 1,
            inputSize: InputSize = .fitWithin(width: 320, height: 320)
        ) {
            self.modelPath = modelPath
            self.scoreThreshold = scoreThreshold
            self.nmsThreshold = nmsThreshold
            self.minimumFaceSize = minimumFaceSize
            self.maximumFaces = maximumFaces
            self.threads = threads
            self.inputSize = inputSize
        }

        /// Checks ranges; errors name the offending key.
        package func validate() throws(FaceDetectionError) {
            guard (0...1).contains(scoreThreshold) else {
                throw .invalidConfiguration(key: "scoreThreshold", value: "\(scoreThreshold)", reason: "must be between 0 and 1")
            }
            guard (0...1).contains(nmsThreshold) else {
                throw .invalidConfiguration(key: "nmsThreshold", value: "\(nmsThreshold)", reason: "must be between 0 and 1")
            }
            guard minimumFaceSize >= 0 else {
                throw .invalidConfiguration(key: "minimumFaceSize", value: "\(minimumFaceSize)", reason: "must not be negative")
            }
            guard (1...1000).contains(maximumFaces) else {
                throw .invalidConfiguration(key: "maximumFaces", value: "\(maximumFaces)", reason: "must be between 1 and 1000")
            }
            guard (1...64).contains(threads) else {
                throw .invalidConfiguration(key: "threads", value: "\(threads)", reason: "must be between 1 and 64")
            }
            if case .fitWithin(let w, let h) = inputSize, w < 32 || h < 32 {
                throw .invalidConfiguration(key: "inputSize", value: "\(inputSize)", reason: "must be at least 32x32")
            }
        }
    }

    /// Where `kioskctl` and the tools look for the model when none is given: `$KIOSK_YUNET_MODEL`,
    /// then `.assets/models/` under the current directory (a development checkout), then the
    /// installed location.
    package static let modelFileName = "face_detection_yunet_2023mar.onnx"
    package static let installedModelPath = "/usr/share/kiosk-agent/models/\(modelFileName)"

    /// The first existing candidate model path (or the installed location when none exists,
    /// so the error names where the model should be).
    package static func defaultModelPath(environment: [String: String]) -> String {
        var candidates: [String] = []
        if let explicit = environment["KIOSK_YUNET_MODEL"], !explicit.isEmpty { candidates.append(explicit) }
        if let assets = environment["KIOSK_ASSETS"], !assets.isEmpty { candidates.append("\(assets)/models/\(modelFileName)") }
        candidates.append(".assets/models/\(modelFileName)")
        candidates.append(installedModelPath)
        return candidates.first(where: fileExists) ?? candidates[0]
    }

    package let configuration: Configuration
    private let net: OpaquePointer
    private let queue = DispatchQueue(label: "kiosk.face-detection.yunet")

    /// Loads the model and checks it is YuNet 2023mar (one dry run).
    ///
    /// Throws `modelMissing` or `modelUnusable` naming the file and the setup step that fetches
    /// it, or `invalidConfiguration`.
    package init(configuration: Configuration) throws(FaceDetectionError) {
        try configuration.validate()
        let path = configuration.modelPath
        guard Self.fileExists(path) else { throw .modelMissing(path: path) }
        cvision_set_num_threads(Int32(configuration.threads))
        var err = [CChar](repeating: 0, count: 1024)
        guard let net = cvision_yunet_load(path, &err, err.count) else {
            throw .modelUnusable(path: path, reason: Self.message(err))
        }
        self.net = net
        self.configuration = configuration
    }

    deinit {
        cvision_net_free(net)
    }

    /// Detects faces, running the network on the detector's own queue.
    package func detect(in image: Image) async throws(FaceDetectionError) -> [DetectedFace] {
        let result: Result<[DetectedFace], FaceDetectionError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result { () throws(FaceDetectionError) in try self.runLocked(image) })
            }
        }
        return try result.get()
    }

    /// Detects faces, blocking the calling thread (tools, benchmarks, tests). Do not call from
    /// Swift concurrency code; use `detect(in:)` there.
    package func detectSynchronously(in image: Image) throws(FaceDetectionError) -> [DetectedFace] {
        let result: Result<[DetectedFace], FaceDetectionError> = queue.sync {
            Result { () throws(FaceDetectionError) in try runLocked(image) }
        }
        return try result.get()
    }

    /// The network input size this detector uses for an image of `width` × `height`.
    package func inputSize(forWidth width: Int, height: Int) -> (width: Int, height: Int) {
        configuration.inputSize.inputSize(forWidth: width, height: height)
    }

    // Runs on `queue` only.
    private func runLocked(_ image: Image) throws(FaceDetectionError) -> [DetectedFace] {
        let input = inputSize(forWidth: image.width, height: image.height)
        let capacity = configuration.maximumFaces
        var faces = [cvision_face](repeating: cvision_face(), count: capacity)
        var count: Int32 = 0
        var err = [CChar](repeating: 0, count: 1024)
        let rc = image.pixels.withUnsafeBufferPointer { pixels in
            cvision_yunet_detect(
                net, pixels.baseAddress, Int32(image.width), Int32(image.height),
                Int32(image.format.channels), image.format == .rgb24 ? 1 : 0,
                Int32(input.width), Int32(input.height),
                Float(configuration.scoreThreshold), Float(configuration.nmsThreshold), Int32(capacity),
                &faces, Int32(capacity), &count, &err, err.count)
        }
        guard rc == 0 else {
            throw .inferenceFailed(operation: "YuNet on a \(image.width)x\(image.height) \(image.format) image", reason: Self.message(err))
        }
        return faces.prefix(min(Int(count), capacity)).map(DetectedFace.init(cvision:))
            .filter { $0.box.width >= configuration.minimumFaceSize }
    }

    static func message(_ buffer: [CChar]) -> String {
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.isEmpty ? "no message from OpenCV" : text
    }

    static func fileExists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }
}

extension DetectedFace {
    init(cvision f: cvision_face) {
        let l = f.landmarks
        let v = [l.0, l.1, l.2, l.3, l.4, l.5, l.6, l.7, l.8, l.9].map(Double.init)
        func p(_ i: Int) -> FacePoint { FacePoint(x: v[i], y: v[i + 1]) }
        self.init(
            box: FaceRect(x: Double(f.x), y: Double(f.y), width: Double(f.width), height: Double(f.height)),
            score: Double(f.score),
            landmarks: FaceLandmarks(rightEye: p(0), leftEye: p(2), noseTip: p(4), mouthRight: p(6), mouthLeft: p(8)))
    }

    /// Back to the shim's layout (drawing).
    var cvision: cvision_face {
        var f = cvision_face()
        f.x = Float(box.x)
        f.y = Float(box.y)
        f.width = Float(box.width)
        f.height = Float(box.height)
        f.score = Float(score)
        let pts = landmarks.all
        withUnsafeMutableBytes(of: &f.landmarks) { raw in
            let values = raw.bindMemory(to: Float.self)
            for (i, pt) in pts.enumerated() {
                values[2 * i] = Float(pt.x)
                values[2 * i + 1] = Float(pt.y)
            }
        }
        return f
    }
}
