/// Why an imaging operation failed. Each case names the operation and, where one exists, the
/// library's own message, and `description` says what to do next.
///
/// Face images are biometric data: no case ever carries pixels.
package enum ImagingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The codec handle could not be created (out of memory, or a broken library install).
    case codecUnavailable(codec: String, message: String)
    /// The bytes are not a JPEG, or the JPEG is corrupt or truncated. `isWarning` is true when
    /// TurboJPEG could decode something but reported damage (typical of a USB camera dropping
    /// the end of an MJPEG frame): the frame should be skipped, not shown.
    case corruptJPEG(operation: String, message: String, isWarning: Bool)
    /// JPEG compression failed.
    case encodeFailed(message: String)
    /// The bytes are not a PNG, or the PNG is corrupt or truncated.
    case corruptPNG(message: String)
    /// The bytes are neither JPEG nor PNG.
    case unsupportedFileFormat(path: String)
    /// A file could not be read.
    case fileUnreadable(path: String, reason: String)
    /// Dimensions or a byte count that cannot describe an image (zero sizes, short buffers).
    case invalidGeometry(operation: String, detail: String)
    /// A crop rectangle that does not overlap the image at all.
    case emptyCrop(x: Int, y: Int, width: Int, height: Int, imageWidth: Int, imageHeight: Int)

    package var description: String {
        switch self {
        case .codecUnavailable(let codec, let message):
            "could not create a \(codec) handle: \(message); check that the library is installed (scripts/setup-deps.sh) and memory is available"
        case .corruptJPEG(let operation, let message, let isWarning):
            "\(operation): \(isWarning ? "damaged" : "corrupt or not a") JPEG (\(message)); skip this frame; if it happens often, check the camera cable/USB bandwidth or lower the resolution"
        case .encodeFailed(let message):
            "JPEG encode failed: \(message); check the image dimensions and quality (1...100)"
        case .corruptPNG(let message):
            "corrupt or not a PNG (\(message)); re-export the file as an 8-bit PNG or a JPEG"
        case .unsupportedFileFormat(let path):
            "\(path): neither a JPEG nor a PNG; convert it to one of those"
        case .fileUnreadable(let path, let reason):
            "\(path): cannot read (\(reason)); check the path and its permissions"
        case .invalidGeometry(let operation, let detail):
            "\(operation): invalid image geometry (\(detail))"
        case .emptyCrop(let x, let y, let width, let height, let imageWidth, let imageHeight):
            "crop \(width)x\(height) at (\(x),\(y)) lies outside the \(imageWidth)x\(imageHeight) image"
        }
    }
}
