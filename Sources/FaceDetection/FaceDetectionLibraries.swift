// FaceDetectionLibraries: the loaded OpenCV's version, for --version.
import CVision

/// The detector's library version, as `kioskd --version` and `kioskctl report` print it.
package enum FaceDetectionLibraries {
    /// `(library, version)`: OpenCV as the loaded `libopencv_core` reports it.
    package static var versions: [(library: String, version: String)] {
        [("OpenCV", String(cString: cvision_opencv_version()))]
    }
}
