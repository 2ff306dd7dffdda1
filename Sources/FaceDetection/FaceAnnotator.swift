// FaceAnnotator: draws boxes, landmarks and scores onto a copy of an image, for `kioskctl detect --annotate`.
import CVision
package import Imaging

/// Draws detections for diagnostics (`kioskctl detect --annotate`): boxes, the five landmarks
/// in distinct colours (right eye blue, left eye red, nose green, mouth right magenta, mouth
/// left yellow) and the score. Annotated images contain a face: never log or upload them.
package enum FaceAnnotator {
    /// A colour copy of `image` with `faces` drawn on it (gray images come back as bgr24).
    package static func annotate(_ image: Image, faces: [DetectedFace]) throws(FaceDetectionError) -> Image {
        var canvas = image.format == .gray8 ? image.converted(to: .bgr24) : image
        let shimFaces = faces.map(\.cvision)
        var err = [CChar](repeating: 0, count: 256)
        let width = canvas.width, height = canvas.height, swap: Int32 = canvas.format == .rgb24 ? 1 : 0
        let rc = canvas.pixels.withUnsafeMutableBufferPointer { pixels in
            cvision_draw_faces(
                pixels.baseAddress, Int32(width), Int32(height), 3, swap,
                shimFaces, Int32(shimFaces.count), &err, err.count)
        }
        guard rc == 0 else {
            throw .inferenceFailed(operation: "drawing \(faces.count) faces", reason: YuNetFaceDetector.message(err))
        }
        return canvas
    }
}
