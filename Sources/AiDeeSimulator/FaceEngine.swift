// FaceEngine: image bytes → decoded image → the main face → its descriptor.
import Dispatch
import FaceDetection
import Foundation
import Imaging

/// Why an uploaded image gives no descriptor, phrased for the API's error answers.
enum FaceEngineFailure: Error, Sendable {
    /// Not a JPEG/PNG, corrupt, or too large (400).
    case badImage(String)
    /// A valid image without a usable face (409).
    case noFace(String)
}

/// Turns uploaded images into face descriptors with the project's detector (YuNet) and dlib.
///
/// Models load on first use (about a second) and are shared by every simulator in the process
/// (tests start many), so a simulator used only for tokens and users starts instantly.
/// Decoding runs on a private queue, detection and description on the detector's and matcher's
/// own queues: none of it blocks the cooperative pool.
struct FaceEngine: Sendable {
    private let modelsDirectory: URL
    private let maxImagePixels: Int
    // Serial: on Linux a concurrent queue borrows threads from the cooperative pool, and the
    // decode is blocking work (docs/ARCHITECTURE.md). Detection and matching are serial anyway.
    private static let decodeQueue = DispatchQueue(label: "aidee-sim.decode")

    init(modelsDirectory: URL, maxImagePixels: Int) {
        self.modelsDirectory = modelsDirectory
        self.maxImagePixels = maxImagePixels
    }

    private func models() async throws -> (any FaceDetector, FaceMatcher) {
        try await ModelCache.shared.models(in: modelsDirectory)
    }

    /// Loads the models now (the executable does this at start so the first request is quick).
    func warmUp() async throws { _ = try await models() }

    /// The descriptor of the main face in `bytes` (a JPEG or PNG file).
    ///
    /// `requireSingleFace`: enrolment refuses images with two comparable faces, since it could
    /// not know whom to enrol. A second face smaller than half the largest one's area (someone
    /// in the background, a face cut by the edge) does not count.
    func descriptor(ofImage bytes: [UInt8], requireSingleFace: Bool) async throws -> FaceDescriptor {
        let image = try await decode(bytes)
        let (detector, matcher) = try await models()
        let faces = try await detector.detect(in: image)
        guard let main = faces.max(by: { $0.box.area < $1.box.area }) else {
            throw FaceEngineFailure.noFace("no face found in the image")
        }
        if requireSingleFace {
            let comparable = faces.filter { $0.box.area >= main.box.area / 2 }
            guard comparable.count == 1 else {
                throw FaceEngineFailure.noFace("the image holds \(comparable.count) faces; enrol one person per image")
            }
        }
        let region = FaceRegion(x: main.box.x, y: main.box.y, width: main.box.width, height: main.box.height, score: main.score)
        return try await matcher.describe(image, face: region)
    }

    private func decode(_ bytes: [UInt8]) async throws -> Image {
        guard let kind = ImageFile.sniff(bytes) else {
            throw FaceEngineFailure.badImage("the image is neither JPEG nor PNG")
        }
        let limit = maxImagePixels
        return try await withCheckedThrowingContinuation { continuation in
            Self.decodeQueue.async {
                continuation.resume(
                    with: Result { () throws(FaceEngineFailure) -> Image in
                        // Header fields are the uploader's: a 4-billion-pixel side must not overflow the product.
                        if let (w, h) = Self.dimensions(bytes, kind: kind),
                            w > limit || h > limit || w.multipliedReportingOverflow(by: h).partialValue > limit
                        {
                            throw .badImage("the image is \(w)×\(h) pixels, over the limit of \(limit) pixels")
                        }
                        do { return try ImageFile.decode(bytes, format: .rgb24, path: "upload") } catch {
                            throw .badImage("the image cannot be decoded: \(error)")
                        }
                    })
            }
        }
    }

    /// Width and height from the file header, read before decoding to refuse decompression bombs.
    private static func dimensions(_ bytes: [UInt8], kind: ImageFile.Kind) -> (Int, Int)? {
        switch kind {
        case .png:
            // IHDR is the first chunk: width and height are big-endian at offsets 16 and 20.
            guard bytes.count >= 24 else { return nil }
            func be32(_ i: Int) -> Int { Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]) }
            return (be32(16), be32(20))
        case .jpeg:
            guard let header = try? JPEGDecoder().header(bytes) else { return nil }
            return (header.width, header.height)
        }
    }
}

/// The loaded models per folder, shared process-wide: each dlib ResNet copy costs ~100 MB and a
/// second to load. Sharing is safe because the detector and the matcher each serialise their
/// calls on their own queue.
private actor ModelCache {
    static let shared = ModelCache()
    private var loaded: [String: Task<(any FaceDetector, FaceMatcher), any Error>] = [:]

    func models(in directory: URL) async throws -> (any FaceDetector, FaceMatcher) {
        let key = directory.standardizedFileURL.path
        if let task = loaded[key] { return try await task.value }
        let task = Task<(any FaceDetector, FaceMatcher), any Error> {
            let yunet = directory.appendingPathComponent(YuNetFaceDetector.modelFileName).path
            // Uploaded photos are larger than camera frames: let YuNet see up to 640 px so faces
            // of 40 px and more in a 2000 px photo are still found.
            let detector = try YuNetFaceDetector(
                configuration: .init(
                    modelPath: yunet, inputSize: .fitWithin(width: 640, height: 640)))
            let matcher = try await FaceMatcher.load(modelsDirectory: directory)
            return (detector, matcher)
        }
        loaded[key] = task
        do { return try await task.value } catch {
            // A failed load (file missing, truncated) is retried on the next request.
            loaded[key] = nil
            throw error
        }
    }
}
