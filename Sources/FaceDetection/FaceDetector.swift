// FaceDetector: the face-finding seam the pipeline depends on, so tests can replay known detections.
package import Imaging

/// Finds faces in images. The seam the pipeline and the simulator depend on, so tests can
/// replay known detections; the real implementation is `YuNetFaceDetector`.
package protocol FaceDetector: Sendable {
    /// Faces in `image` (any size; gray8, bgr24 or rgb24), best score first, with boxes and
    /// landmarks in `image`'s own pixels.
    ///
    /// Implementations run their inference off Swift's cooperative thread pool.
    func detect(in image: Image) async throws(FaceDetectionError) -> [DetectedFace]
}
