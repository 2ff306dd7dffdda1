// FaceMatcher: dlib's 5-point alignment and 128-d ResNet descriptor behind a safe Swift API.
// The only file of the simulator that touches CFaceMatch.
import CFaceMatch
import Dispatch
package import Foundation
package import Imaging

/// A 128-dimensional face descriptor from dlib's ResNet (`dlib_face_recognition_resnet_model_v1`).
///
/// Two descriptors of the same person lie within Euclidean distance 0.6 of each other in dlib's
/// published evaluation (99.38% on LFW); `FaceSimilarity` turns the distance into a percentage.
package struct FaceDescriptor: Sendable, Equatable {
    /// The 128 components.
    package let values: [Float]

    /// Wraps 128 values; `nil` for any other count.
    package init?(values: [Float]) {
        guard values.count == Int(CFACEMATCH_DESCRIPTOR_LENGTH) else { return nil }
        self.values = values
    }

    /// Euclidean distance to another descriptor.
    package func distance(to other: FaceDescriptor) -> Double {
        var sum: Double = 0
        for i in 0..<values.count {
            let d = Double(values[i]) - Double(other.values[i])
            sum += d * d
        }
        return sum.squareRoot()
    }

    /// Little-endian Float32 bytes, the form stored in SQLite.
    package var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(values.count * 4)
        for v in values {
            let bits = v.bitPattern.littleEndian
            withUnsafeBytes(of: bits) { out.append(contentsOf: $0) }
        }
        return out
    }

    /// Reads the stored form back; `nil` when the length is wrong.
    package init?(bytes: [UInt8]) {
        guard bytes.count == Int(CFACEMATCH_DESCRIPTOR_LENGTH) * 4 else { return nil }
        var values = [Float]()
        values.reserveCapacity(bytes.count / 4)
        for i in stride(from: 0, to: bytes.count, by: 4) {
            let bits = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
            values.append(Float(bitPattern: bits))
        }
        self.values = values
    }
}

/// How a descriptor distance becomes the API's `similarity` percentage.
///
/// `similarity = 100 × max(0, 1 − d / 3)`, rounded to one decimal, where `d` is the Euclidean
/// distance between descriptors. dlib's same-person threshold `d = 0.6` maps to **80.0 %**, the
/// contract's default check-in threshold (`option` 3); identical faces give 100 %. The check-in
/// `option` table then means: 1 → 70 % (d ≤ 0.90), 2 → 75 % (d ≤ 0.75), 3 → 80 % (d ≤ 0.60),
/// 4 → 85 % (d ≤ 0.45), 5 → 90 % (d ≤ 0.30). The mapping is linear so thresholds convert back exactly.
package enum FaceSimilarity {
    /// The distance scale: `d = 3` is 0 %.
    package static let zeroSimilarityDistance = 3.0
    /// dlib's recommended same-person distance threshold.
    package static let dlibThresholdDistance = 0.6

    /// The similarity percentage for a distance.
    package static func percentage(forDistance distance: Double) -> Double {
        let raw = 100 * max(0, 1 - distance / zeroSimilarityDistance)
        return (raw * 10).rounded() / 10
    }

    /// The distance that corresponds to a similarity percentage.
    package static func distance(forPercentage percentage: Double) -> Double {
        (1 - min(max(percentage, 0), 100) / 100) * zeroSimilarityDistance
    }
}

/// A face rectangle in image pixels (top-left origin).
package struct FaceRegion: Sendable, Equatable {
    package var x: Double
    package var y: Double
    package var width: Double
    package var height: Double
    /// Detector confidence 0...1 (1 for boxes given by hand).
    package var score: Double

    package init(x: Double, y: Double, width: Double, height: Double, score: Double = 1) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
        self.score = score
    }

    /// Area in square pixels, used to pick the main face of an image.
    package var area: Double { width * height }
}

/// Why face matching failed.
package enum FaceMatchError: Error, Sendable, CustomStringConvertible {
    /// A model file is missing.
    case modelMissing(path: String)
    /// dlib could not read a model file.
    case modelUnreadable(path: String, message: String)
    /// dlib failed on one face (bad rectangle, internal error).
    case describeFailed(message: String)
    /// The image is not RGB.
    case unsupportedPixelFormat(PixelFormat)

    package var description: String {
        switch self {
        case .modelMissing(let path):
            "face-matching model not found: \(path). Run scripts/fetch-assets.sh, or pass --models DIR with the dlib model files."
        case .modelUnreadable(let path, let message):
            "cannot load face-matching model \(path): \(message). The file may be truncated: run scripts/fetch-assets.sh again."
        case .describeFailed(let message):
            "face descriptor failed: \(message)"
        case .unsupportedPixelFormat(let format):
            "face matching needs an rgb24 image, got \(format)"
        }
    }
}

/// dlib's shape predictor and descriptor network, loaded once.
///
/// `@unchecked Sendable` because the C handle is touched only on `queue`, a private serial
/// queue: dlib's network keeps per-call activations, so one models object must never run two
/// computations at once. Blocking dlib work therefore never runs on Swift's cooperative pool.
package final class FaceMatcher: @unchecked Sendable {
    /// File names inside the models folder.
    package static let shapePredictorFile = "shape_predictor_5_face_landmarks.dat"
    package static let descriptorFile = "dlib_face_recognition_resnet_model_v1.dat"

    private let models: OpaquePointer
    private let queue = DispatchQueue(label: "aidee-sim.face-matcher")

    /// Loads both dlib models from `directory` (blocking, ~1 s).
    package init(modelsDirectory directory: URL) throws(FaceMatchError) {
        let sp = directory.appendingPathComponent(Self.shapePredictorFile).path
        let desc = directory.appendingPathComponent(Self.descriptorFile).path
        for path in [sp, desc] where !FileManager.default.fileExists(atPath: path) {
            throw .modelMissing(path: path)
        }
        var err = [CChar](repeating: 0, count: 512)
        guard let handle = cfacematch_load(sp, desc, &err, err.count) else {
            throw .modelUnreadable(path: directory.path, message: Self.string(err))
        }
        models = handle
    }

    deinit { cfacematch_free(models) }

    /// Loads the models on a background thread (they take about a second).
    package static func load(modelsDirectory directory: URL) async throws -> FaceMatcher {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do { continuation.resume(returning: try FaceMatcher(modelsDirectory: directory)) } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// The descriptor of the face inside `region` of an RGB image, with its 5 landmarks.
    package func describe(_ image: Image, face region: FaceRegion) async throws -> FaceDescriptor {
        guard image.format == .rgb24 else { throw FaceMatchError.unsupportedPixelFormat(image.format) }
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try self.describeNow(image, region) })
            }
        }
    }

    private func describeNow(_ image: Image, _ region: FaceRegion) throws(FaceMatchError) -> FaceDescriptor {
        var values = [Float](repeating: 0, count: Int(CFACEMATCH_DESCRIPTOR_LENGTH))
        var err = [CChar](repeating: 0, count: 512)
        let rc = image.pixels.withUnsafeBufferPointer { pixels in
            values.withUnsafeMutableBufferPointer { out in
                cfacematch_describe(
                    models, pixels.baseAddress, Int32(image.width), Int32(image.height), Int32(image.stride),
                    region.x, region.y, region.width, region.height, out.baseAddress, nil, &err, err.count)
            }
        }
        guard rc == 0, let descriptor = FaceDescriptor(values: values) else {
            throw .describeFailed(message: Self.string(err))
        }
        return descriptor
    }

    private static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
