// FrameAnalyzer: per-frame decode, detection, quality, crop and encode, on its own thread off Swift's pool.
package import Camera
import Dispatch
package import FaceDetection
package import Imaging

/// One frame, looked at: the faces in it (in full-frame pixels) with their quality, and what
/// each step cost.
package struct FrameAnalysis: Sendable {
    package var frame: Frame
    /// Faces in detection-image pixels, with their quality (what `BestFrameSelector` takes).
    package var faces: [AssessedFace]
    /// How detection-image pixels map to the full frame.
    package var mapping: FrameMapping
    package var decodeTime: Duration
    package var detectTime: Duration
    /// True when the frame could not be decoded (a damaged MJPEG frame): skipped and counted.
    package var corrupt: Bool
    /// True when the idle scene gate found the empty scene unchanged and the detector did not
    /// run (`faces` is then empty, as it was at the last detection).
    package var detectionSkipped = false
}

/// Errors of the per-frame work that are the terminal's fault, not the frame's.
package enum FrameAnalyzerError: Error, Sendable, CustomStringConvertible {
    case imaging(ImagingError)
    case detection(FaceDetectionError)

    package var description: String {
        switch self {
        case .imaging(let error): "imaging: \(error)"
        case .detection(let error): "face detection: \(error)"
        }
    }
}

/// Does the CPU-heavy per-frame work (scaled JPEG decode, quality, crop, encode) on one
/// dedicated thread, never on Swift's cooperative pool; detection runs wherever the
/// ``FaceDetector`` runs it (YuNet: its own thread).
///
/// `@unchecked Sendable`: the TurboJPEG handles are not thread-safe, and are touched only from
/// `queue` (a serial queue), which every public method hops onto.
package final class FrameAnalyzer: @unchecked Sendable {
    private let queue = DispatchQueue(label: "kiosk.frame-analyzer", qos: .userInitiated)
    private let decoder: JPEGDecoder
    private let encoder: JPEGEncoder
    private let detector: any FaceDetector
    private let scorer: FaceQualityScorer
    private let detectionWidth: Int
    /// On `queue` only.
    private var idleGate = IdleSceneGate()
    /// The detection image's pixels, reused frame after frame (on `queue` only): the image made
    /// from it is gone by the next frame, so TurboJPEG writes into the same storage.
    private var detectionPixels: [UInt8] = []
    /// The idle gate's grey glance at each frame, reused likewise (on `queue` only).
    private var gatePixels: [UInt8] = []

    /// - Parameters:
    ///   - detectionWidth: frames are decoded to about this width for detection (TurboJPEG
    ///     scales while decoding, so a 640×480 MJPEG frame costs a quarter of a full decode).
    package init(detector: any FaceDetector, scorer: FaceQualityScorer, detectionWidth: Int) throws(FrameAnalyzerError) {
        do {
            decoder = try JPEGDecoder()
            encoder = try JPEGEncoder()
        } catch {
            throw .imaging(error)
        }
        self.detector = detector
        self.scorer = scorer
        self.detectionWidth = detectionWidth
    }

    /// Finds and scores the faces of `frame`; with `idleGate` enabled, an empty scene that has
    /// not changed since the last detection skips the detector (``IdleSceneGate``).
    package func analyze(_ frame: Frame, idleGate settings: IdleSceneGateSettings = .off) async throws(FrameAnalyzerError)
        -> FrameAnalysis
    {
        let clock = ContinuousClock()
        let start = clock.now
        let decoded = await onQueue { () -> Decoded in
            // The gate looks first, at its own 1/8-scale grey decode of a JPEG frame (the DC
            // coefficients only), so a still, empty scene costs a fraction of the detection
            // decode. Other frames, or no gate, use the detection image.
            let gateJPEG: [UInt8]? = if settings.enabled, case .jpeg(let bytes) = frame.payload { bytes } else { nil }
            let view: ScaledImage? =
                if let gateJPEG { self.glanceForGate(gateJPEG, of: frame) } else { self.decodeForDetection(frame) }
            guard let view else { return .corrupt }
            guard self.idleGate.mustDetect(view.image, frameWidth: view.originalWidth, at: frame.timestamp, settings: settings)
            else { return .skipped(width: view.originalWidth, height: view.originalHeight) }
            guard let scaled = gateJPEG == nil ? view : self.decodeForDetection(frame) else { return .corrupt }
            return .detect(scaled)
        }
        let scaled: ScaledImage
        switch decoded {
        case .corrupt:
            // A damaged frame is the camera's everyday business (cheap USB MJPEG): skip it.
            return FrameAnalysis(
                frame: frame, faces: [], mapping: .identity(width: frame.width, height: frame.height),
                decodeTime: clock.now - start, detectTime: .zero, corrupt: true)
        case .skipped(let width, let height):
            return FrameAnalysis(
                frame: frame, faces: [], mapping: .identity(width: width, height: height), decodeTime: clock.now - start,
                detectTime: .zero, corrupt: false, detectionSkipped: true)
        case .detect(let image):
            scaled = image
        }
        let decodedAt = clock.now
        let mapping = FrameMapping(
            detectionWidth: scaled.image.width, detectionHeight: scaled.image.height,
            frameWidth: scaled.originalWidth, frameHeight: scaled.originalHeight)
        let faces: [DetectedFace]
        do {
            faces = try await detector.detect(in: scaled.image)
        } catch {
            throw .detection(error)
        }
        let detected = clock.now
        let assessed = await onQueue {
            self.idleGate.detected(faces: faces.count, at: frame.timestamp)
            return faces.map { face in
                AssessedFace(face: face, quality: self.scorer.assess(face, in: scaled.image, frameScale: mapping.scaleX))
            }
        }
        return FrameAnalysis(
            frame: frame, faces: assessed, mapping: mapping, decodeTime: decodedAt - start,
            detectTime: detected - decodedAt, corrupt: false)
    }

    /// The JPEG to upload: the face crop with `margin` around `box` (full-frame pixels), cut
    /// from the full-resolution frame, or the whole frame when `box` is nil.
    package func uploadJPEG(of frame: Frame, box: FaceRect?, margin: Double, quality: Int) async throws(FrameAnalyzerError) -> [UInt8] {
        let result: Result<[UInt8], FrameAnalyzerError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(
                    returning: Result { () throws(FrameAnalyzerError) in
                        do throws(ImagingError) {
                            guard let box else {
                                return try frame.jpegBytes(quality: quality, using: self.decoder, encoder: self.encoder)
                            }
                            let full = try frame.image(format: .rgb24, using: self.decoder)
                            let rect = PixelRect(
                                x: Int(box.x.rounded()), y: Int(box.y.rounded()),
                                width: Int(box.width.rounded()), height: Int(box.height.rounded()))
                            let crop = try full.cropped(to: rect, margin: margin).image
                            return try self.encoder.encode(crop, quality: quality)
                        } catch {
                            throw .imaging(error)
                        }
                    })
            }
        }
        return try result.get()
    }

    private func onQueue<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: work()) }
        }
    }

    private enum Decoded {
        case corrupt
        /// The idle gate found the empty scene unchanged: no detection (the frame's size given).
        case skipped(width: Int, height: Int)
        case detect(ScaledImage)
    }

    /// The idle gate's view of a JPEG frame (`bytes`): grey at the smallest decode scale (1/8 of
    /// a 640 px frame is 80 px, enough for the gate's 64 cells across), or nil when the JPEG
    /// cannot be decoded. On `queue` only.
    private func glanceForGate(_ bytes: [UInt8], of frame: Frame) -> ScaledImage? {
        let width = IdleSceneGate.gridWidth
        let height = max(1, width * frame.height / max(frame.width, 1))
        return try? decoder.decode(bytes, to: .gray8, atLeastWidth: width, height: height, reusing: &gatePixels)
    }

    /// The frame at about the detection width, or nil when it cannot be decoded. On `queue` only.
    private func decodeForDetection(_ frame: Frame) -> ScaledImage? {
        let minimumHeight = max(1, detectionWidth * frame.height / max(frame.width, 1))
        if case .jpeg(let bytes) = frame.payload {
            return try? decoder.decode(
                bytes, to: .bgr24, atLeastWidth: detectionWidth, height: minimumHeight, reusing: &detectionPixels)
        }
        return try? frame.decoded(to: .bgr24, atLeastWidth: detectionWidth, height: minimumHeight, using: decoder)
    }
}
